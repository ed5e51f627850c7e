//! Scan jobs: inputs, steps, hotspots and outputs.

use mj_lang::Diagnostic;
use mj_lang::ast::*;

use super::{Cx, Scope, suggest};
use crate::codes;
use crate::types::Ty;

const HOTSPOT_KINDS: &[&str] = &["product", "video", "audio", "link", "location"];
const MERGE_BY: &[&str] = &["doors", "transforms"];

pub(super) fn scan(cx: &mut Cx<'_>, s: &Scan) {
    let scope = Scope::Metrics;
    if s.captures.is_empty() {
        cx.report(
            Diagnostic::error(
                codes::SCAN_INVALID_STEP,
                s.header.name.span,
                format!("the scan `{}` captures nothing", s.header.name.text),
            )
            .with_span_label("no capture")
            .with_help(
                "add `capture panoramas(\"…\") annotations(\"…\")` or `capture pointcloud(\"…\")`",
            ),
        );
    }
    for c in &s.captures {
        let t = call_type(cx, c, &scope);
        if !matches!(t, Ty::Capture | Ty::Unknown) {
            cx.mismatch(
                c.span,
                "a capture is panoramas(…), annotations(…) or pointcloud(…)",
                &t,
            );
        }
    }
    if let Some(h) = &s.camera_height {
        match metres(h) {
            Some(m) if (0.3..=3.0).contains(&m) => {}
            Some(m) => range(
                cx,
                h.span,
                format!("a camera height of {m} m is outside 0.3–3 m"),
                "tripods stand 1.2–1.8 m high",
            ),
            None => range(
                cx,
                h.span,
                "the camera height must be a length such as `1.6m`".into(),
                "write `camera_height 1.6m`",
            ),
        }
    }
    for step in &s.steps {
        match step {
            ScanStep::Upright(_) => {}
            ScanStep::Layout(e) => {
                let t = call_type(cx, e, &scope);
                if !matches!(t, Ty::Layout | Ty::Unknown) {
                    cx.mismatch(e.span, "a layout method is manhattan(…) or free()", &t);
                }
                if let ExprKind::Call(_, args) = &e.kind {
                    for a in args {
                        if let Arg::Named(n) = a
                            && n.name.text == "tolerance"
                        {
                            match degrees(&n.value) {
                                    Some(d) if d > 0.0 && d <= 45.0 => {}
                                    _ => range(
                                        cx,
                                        n.value.span,
                                        "the Manhattan tolerance must be an angle above 0deg and at most 45deg".into(),
                                        "10deg keeps 135° walls as they are",
                                    ),
                                }
                        }
                    }
                }
            }
            ScanStep::MergeBy(i) => {
                if !MERGE_BY.contains(&i.text.as_str()) {
                    let d = Diagnostic::error(codes::SCAN_INVALID_STEP, i.span, format!("rooms cannot be merged by `{}`", i.text))
                        .with_span_label("unknown method")
                        .with_help("merge by doors (matched door correspondences) or by transforms (given in the annotations)");
                    let d = suggest(d, i, MERGE_BY.iter().copied());
                    cx.report(d);
                }
            }
            ScanStep::Texture(n, span) => {
                if !(256..=8192).contains(n) || !n.is_power_of_two() {
                    range(
                        cx,
                        *span,
                        format!("a texture size of {n} is not a power of two from 256 to 8192"),
                        "use 1024, 2048 or 4096",
                    );
                }
            }
        }
    }
    for h in &s.hotspots {
        if !HOTSPOT_KINDS.contains(&h.kind.text.as_str()) {
            let d = Diagnostic::error(
                codes::SCAN_INVALID_STEP,
                h.kind.span,
                format!("unknown hotspot kind `{}`", h.kind.text),
            )
            .with_span_label("unknown kind")
            .with_help(format!("kinds: {}", HOTSPOT_KINDS.join(", ")));
            let d = suggest(d, &h.kind, HOTSPOT_KINDS.iter().copied());
            cx.report(d);
        }
    }
    if s.outputs.is_empty() {
        cx.report(
            Diagnostic::error(
                codes::SCAN_UNKNOWN_OUTPUT,
                s.header.name.span,
                format!("the scan `{}` writes nothing", s.header.name.text),
            )
            .with_span_label("no output")
            .with_help("add `output glb(\"…\"), floorplan(\"…\"), tour(\"…\")`"),
        );
    }
    for o in &s.outputs {
        let known = match &o.kind {
            ExprKind::Call(f, _) => cx
                .def(&f.text)
                .is_some_and(|d| matches!(&d.item.kind, ItemKind::Function(func) if func.returns.text == "output")),
            _ => false,
        };
        if known {
            call_type(cx, o, &scope);
            output_path(cx, o);
        } else {
            let d = Diagnostic::error(codes::SCAN_UNKNOWN_OUTPUT, o.span, "unknown scan output")
                .with_span_label("not an output kind")
                .with_help("outputs: glb(\"…\"), obj(\"…\"), floorplan(\"…\"), tour(\"…\"), summary(\"…\")");
            let d = match &o.kind {
                ExprKind::Call(f, _) => suggest(
                    d,
                    f,
                    ["glb", "obj", "floorplan", "tour", "summary"].into_iter(),
                ),
                _ => d,
            };
            cx.report(d);
        }
    }
}

/// An output's path is relative to the run's output folder and stays inside it.
fn output_path(cx: &mut Cx<'_>, o: &Expr) {
    let ExprKind::Call(_, args) = &o.kind else {
        return;
    };
    for a in args {
        let Arg::Positional { value, .. } = a else {
            continue;
        };
        let ExprKind::Str(path) = &value.kind else {
            continue;
        };
        let trimmed = path.trim_end_matches('/');
        let outside = trimmed.is_empty()
            || path.starts_with('/')
            || path.starts_with('\\')
            || path.get(1..2) == Some(":")
            || trimmed
                .split(['/', '\\'])
                .any(|part| part == ".." || part == ".");
        if outside {
            cx.report(
                Diagnostic::error(
                    codes::SCAN_UNKNOWN_OUTPUT,
                    value.span,
                    format!("the output path {path:?} is not a path inside the output folder"),
                )
                .with_span_label("outside the output folder")
                .with_help("output paths are relative to the run's output folder (`[run] out`, `--out`), e.g. \"scans/store.glb\""),
            );
        }
    }
}

fn call_type(cx: &mut Cx<'_>, e: &Expr, scope: &Scope<'_>) -> Ty {
    match &e.kind {
        ExprKind::Name(n) => {
            // `layout free` without parentheses.
            let call = Expr {
                kind: ExprKind::Call(n.clone(), Vec::new()),
                span: e.span,
            };
            cx.infer(&call, scope)
        }
        _ => cx.infer(e, scope),
    }
}

fn range(cx: &mut Cx<'_>, span: Span, message: String, help: &str) {
    cx.report(
        Diagnostic::error(codes::SCAN_OUT_OF_RANGE, span, message)
            .with_span_label("out of range")
            .with_help(help),
    );
}

pub(crate) fn metres(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Quantity(q) => {
            let v: f64 = q.value.parse().ok()?;
            match q.unit {
                QuantityUnit::Metres => Some(v),
                QuantityUnit::Kilometres => Some(v * 1000.0),
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn degrees(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Quantity(q) if q.unit == QuantityUnit::Degrees => q.value.parse().ok(),
        _ => None,
    }
}
