//! Items: each kind of item from its grammar rule to the syntax tree.

use pest::iterators::Pair;

use super::{Lower, Rule, SYNTAX_CODE};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

impl Lower {
    pub(super) fn glossary(&self, pair: Pair<'_, Rule>) -> Glossary {
        let mut roots = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::root => {
                    let span = self.span(&p);
                    let mut inner = p.into_inner();
                    let name = self.ident(inner.next().expect("grammar: root name"));
                    let mut display = None;
                    let mut unit = None;
                    for q in inner {
                        match q.as_rule() {
                            Rule::string => display = Some(self.string(q)),
                            Rule::unit_clause => unit = Some(self.unit_clause(q)),
                            Rule::dangling_unit => self.dangling_unit(&q),
                            _ => {}
                        }
                    }
                    roots.push(Root {
                        name,
                        display,
                        unit,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("root", Rule::root)], "a root"),
                _ => {}
            }
        }
        Glossary { roots }
    }

    pub(super) fn dangling_unit(&self, pair: &Pair<'_, Rule>) {
        let s = pair.as_span();
        self.errors.borrow_mut().push(
            Diagnostic::error(
                SYNTAX_CODE,
                Span::new(self.file, s.start(), s.start() + 4),
                "`unit` needs a unit on the same line".to_string(),
            )
            .with_span_label("no unit after this")
            .with_help("write the unit after it, such as `unit currency(CNY)` or `unit count`, or remove `unit`"),
        );
    }

    pub(super) fn unit_clause(&self, pair: Pair<'_, Rule>) -> UnitSpec {
        let spec = pair.into_inner().next().expect("grammar: unit_spec");
        self.unit_spec(spec)
    }

    pub(super) fn unit_spec(&self, pair: Pair<'_, Rule>) -> UnitSpec {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let kind = self.ident(inner.next().expect("grammar: unit kind"));
        UnitSpec {
            kind,
            arg: inner.next().map(|p| self.ident(p)),
            span,
        }
    }

    pub(super) fn naming(&self, pair: Pair<'_, Rule>) -> Naming {
        let mut rules = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::naming_rule => {
                    let span = self.span(&p);
                    let mut inner = p.into_inner();
                    let kind = self.ident(inner.next().expect("grammar: rule kind"));
                    let pattern = self.string(inner.next().expect("grammar: rule pattern"));
                    rules.push(NamingRule {
                        kind,
                        pattern,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::naming_rule)], "a naming rule"),
                _ => {}
            }
        }
        Naming { rules }
    }

    pub(super) fn location(&self, pair: Pair<'_, Rule>) -> Location {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let format = self.ident(inner.next().expect("grammar: format"));
        let path = self.string(inner.next().expect("grammar: path"));
        let options = inner.map(|p| self.named_arg(p)).collect();
        Location {
            format,
            path,
            options,
            span,
        }
    }

    pub(super) fn source(&self, pair: Pair<'_, Rule>) -> Source {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let location = self.location(inner.next().expect("grammar: location"));
        let mut columns = Vec::new();
        let mut incremental = None;
        for p in inner {
            match p.as_rule() {
                Rule::incremental => {
                    let name = p.into_inner().next().expect("grammar: incremental column");
                    incremental = Some(self.ident(name));
                }
                Rule::column => columns.push(self.column(p)),
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::column)], "a column"),
                _ => {}
            }
        }
        Source {
            header,
            location,
            columns,
            incremental,
        }
    }

    pub(super) fn column(&self, pair: Pair<'_, Rule>) -> Column {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: column name"));
        let ty_pair = inner.next().expect("grammar: column type");
        let ty_span = self.span(&ty_pair);
        let mut ty_inner = ty_pair.into_inner();
        let ty_name = self.ident(ty_inner.next().expect("grammar: type name"));
        let params = ty_inner.map(|p| self.uint(&p) as u32).collect();
        let ty = ColumnType {
            name: ty_name,
            params,
            span: ty_span,
        };
        let mut column = Column {
            name,
            ty,
            nullability: Nullability::Unspecified,
            pii: false,
            unit: None,
            span,
        };
        for p in inner {
            match p.as_rule() {
                Rule::nullability => {
                    let q = p.into_inner().next().expect("grammar: nullability");
                    column.nullability = if q.as_rule() == Rule::not_null {
                        Nullability::NotNull
                    } else {
                        Nullability::Nullable
                    };
                }
                Rule::pii => column.pii = true,
                Rule::unit_clause => column.unit = Some(self.unit_clause(p)),
                Rule::dangling_unit => self.dangling_unit(&p),
                _ => {}
            }
        }
        column
    }

    pub(super) fn dimension(&self, pair: Pair<'_, Rule>) -> Dimension {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let source = self.ident(inner.next().expect("grammar: dimension source"));
        let mut dim = Dimension {
            header,
            source,
            key: None,
            attributes: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::dim_key => dim.key = p.into_inner().next().map(|q| self.ident(q)),
                Rule::dim_attributes => {
                    dim.attributes.extend(p.into_inner().map(|q| self.ident(q)))
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[("key", Rule::dim_key), ("attributes", Rule::dim_attributes)],
                    "a dimension statement",
                ),
                _ => {}
            }
        }
        dim
    }

    pub(super) fn fact(&self, pair: Pair<'_, Rule>) -> Fact {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let source = self.ident(inner.next().expect("grammar: fact source"));
        let mut fact = Fact {
            header,
            source,
            filter: None,
            grain: Vec::new(),
            time: None,
            entity: None,
            dims: Vec::new(),
            measures: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::where_clause => fact.filter = p.into_inner().next().map(|q| self.expr(q)),
                Rule::fact_grain => fact.grain.extend(p.into_inner().map(|q| self.ident(q))),
                Rule::fact_time => fact.time = p.into_inner().next().map(|q| self.ident(q)),
                Rule::fact_entity => fact.entity = p.into_inner().next().map(|q| self.ident(q)),
                Rule::fact_dims => fact.dims.extend(p.into_inner().map(|q| self.binding(q))),
                Rule::fact_measures => fact
                    .measures
                    .extend(p.into_inner().map(|q| self.binding(q))),
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("grain", Rule::fact_grain),
                        ("time", Rule::fact_time),
                        ("entity", Rule::fact_entity),
                        ("dims", Rule::fact_dims),
                        ("measures", Rule::fact_measures),
                    ],
                    "a fact statement",
                ),
                _ => {}
            }
        }
        fact
    }

    pub(super) fn binding(&self, pair: Pair<'_, Rule>) -> Binding {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: binding name"));
        Binding {
            name,
            value: inner.next().map(|p| self.expr(p)),
            span,
        }
    }

    pub(super) fn period(&self, pair: Pair<'_, Rule>) -> Option<ItemKind> {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let spec_pair = inner.next()?.into_inner().next()?;
        let spec_span = self.span(&spec_pair);
        let spec = match spec_pair.as_rule() {
            Rule::period_last => {
                let mut q = spec_pair.into_inner();
                let count_pair = q.next()?;
                let count = u32::try_from(self.uint(&count_pair)).unwrap_or(u32::MAX);
                let unit = match q.next()?.as_str() {
                    "hour" | "hours" => PeriodUnit::Hours,
                    "day" | "days" => PeriodUnit::Days,
                    "week" | "weeks" => PeriodUnit::Weeks,
                    _ => PeriodUnit::Months,
                };
                PeriodSpec::Last { count, unit }
            }
            _ => PeriodSpec::ToDate(match spec_pair.as_str() {
                "wtd" => ToDate::Week,
                "mtd" => ToDate::Month,
                "qtd" => ToDate::Quarter,
                "ytd" => ToDate::Year,
                _ => ToDate::All,
            }),
        };
        Some(ItemKind::Period(Period {
            header,
            spec,
            spec_span,
        }))
    }

    pub(super) fn derived(&self, pair: Pair<'_, Rule>) -> Derived {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let atomic = self.ident(inner.next().expect("grammar: atomic"));
        let mut qualifiers = Vec::new();
        let mut by = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::name => qualifiers.push(self.ident(p)),
                Rule::granularity => by.extend(p.into_inner().map(|q| self.ident(q))),
                _ => {}
            }
        }
        Derived {
            header,
            atomic,
            qualifiers,
            by,
        }
    }

    pub(super) fn check(&self, pair: Pair<'_, Rule>) -> Option<Check> {
        let mut inner = pair.into_inner();
        let body = inner.next()?.into_inner().next()?;
        let rule = if body.as_rule() == Rule::check_unique {
            let mut q = body.into_inner();
            CheckRule::Unique {
                process: self.ident(q.next()?),
                column: self.ident(q.next()?),
            }
        } else {
            CheckRule::Expr(self.expr(body))
        };
        let severity = inner
            .next()
            .and_then(|p| p.into_inner().next())
            .map(|p| self.ident(p));
        Some(Check { rule, severity })
    }

    pub(super) fn oneid(&self, pair: Pair<'_, Rule>) -> OneId {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut oneid = OneId {
            header,
            identifiers: Vec::new(),
            links: Vec::new(),
            rejects: Vec::new(),
            reject_frequent: None,
            max_component: None,
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::identifier => {
                    let mut q = p.into_inner();
                    let name = self.ident(q.next().expect("grammar: identifier name"));
                    let mut id = Identifier {
                        name,
                        normalize: None,
                        strength: None,
                        unique: false,
                        scoped_by: None,
                        max_per_person: None,
                        span,
                    };
                    for opt in q {
                        match opt.as_rule() {
                            Rule::id_normalize => {
                                id.normalize = opt.into_inner().next().map(|x| self.ident(x))
                            }
                            Rule::id_strength => {
                                id.strength = Some(if opt.as_str().starts_with("strong") {
                                    Strength::Strong
                                } else {
                                    Strength::Weak
                                })
                            }
                            Rule::id_unique => id.unique = true,
                            Rule::id_scoped => {
                                id.scoped_by = opt.into_inner().next().map(|x| self.ident(x))
                            }
                            Rule::id_max_per => {
                                id.max_per_person = opt.into_inner().next().map(|x| self.guard(x))
                            }
                            _ => {}
                        }
                    }
                    oneid.identifiers.push(id);
                }
                Rule::link => {
                    let mut q = p.into_inner();
                    let source = self.ident(q.next().expect("grammar: link source"));
                    let fields = q
                        .map(|f| {
                            let mut r = f.into_inner();
                            let identifier = self.ident(r.next().expect("grammar: link field"));
                            LinkField {
                                identifier,
                                columns: r.map(|x| self.ident(x)).collect(),
                            }
                        })
                        .collect();
                    oneid.links.push(Link {
                        source,
                        fields,
                        span,
                    });
                }
                Rule::reject_values => {
                    let mut q = p.into_inner();
                    let identifier = self.ident(q.next().expect("grammar: reject identifier"));
                    let values = q.map(|s| self.string(s)).collect();
                    oneid.rejects.push(RejectValues {
                        identifier,
                        values,
                        span,
                    });
                }
                Rule::reject_frequent => {
                    oneid.reject_frequent = p.into_inner().next().map(|x| self.guard(x))
                }
                Rule::max_component => {
                    oneid.max_component = p.into_inner().next().map(|x| self.guard(x))
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("identifier", Rule::identifier),
                        ("link", Rule::link),
                        ("reject", Rule::reject_values),
                        ("max_component", Rule::max_component),
                    ],
                    "a OneID statement",
                ),
                _ => {}
            }
        }
        oneid
    }

    pub(super) fn tag(&self, pair: Pair<'_, Rule>) -> Option<Tag> {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next()?);
        let mut values = Vec::new();
        let mut expr = None;
        for p in inner {
            match p.as_rule() {
                Rule::tag_values => values.extend(p.into_inner().map(|s| self.string(s))),
                Rule::expr => expr = Some(self.expr(p)),
                _ => {}
            }
        }
        Some(Tag {
            header,
            entity,
            values,
            expr: expr?,
        })
    }

    pub(super) fn aipl(&self, pair: Pair<'_, Rule>) -> Aipl {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next().expect("grammar: aipl entity"));
        let mut aipl = Aipl {
            header,
            entity,
            by: Vec::new(),
            breakdowns: Vec::new(),
            stages: Vec::new(),
        };
        for p in inner {
            match p.as_rule() {
                Rule::granularity => aipl.by.extend(p.into_inner().map(|q| self.ident(q))),
                Rule::breakdown_of => {
                    let span = self.span(&p);
                    let mut q = p.into_inner().filter(|x| x.as_rule() != Rule::kw_of);
                    let by = self.ident(q.next().expect("grammar: breakdown by"));
                    let table = self.ident(q.next().expect("grammar: breakdown table"));
                    let expr = self.expr(q.next().expect("grammar: breakdown expr"));
                    aipl.breakdowns.push(BreakdownOf {
                        by,
                        table,
                        expr,
                        span,
                    });
                }
                Rule::stage => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let header = self.header(&mut q);
                    let expr = self.expr(q.next().expect("grammar: stage expr"));
                    aipl.stages.push(Stage {
                        name: header.name,
                        display: header.display,
                        expr,
                        span,
                    });
                }
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::stage)], "a stage"),
                _ => {}
            }
        }
        aipl
    }

    pub(super) fn rfm(&self, pair: Pair<'_, Rule>) -> Rfm {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let entity = self.ident(inner.next().expect("grammar: rfm entity"));
        let mut rfm = Rfm {
            header,
            entity,
            measures: Vec::new(),
            baseline: None,
            segments: Vec::new(),
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::rfm_measure => {
                    let mut q = p.into_inner();
                    let kind = match q.next().expect("grammar: rfm kind").as_str() {
                        "recency" => RfmKind::Recency,
                        "frequency" => RfmKind::Frequency,
                        _ => RfmKind::Monetary,
                    };
                    let expr = self.expr(q.next().expect("grammar: rfm expr"));
                    let score_pair = q
                        .next()
                        .expect("grammar: score")
                        .into_inner()
                        .next()
                        .expect("grammar: score");
                    let score_span = self.span(&score_pair);
                    let score = if score_pair.as_rule() == Rule::rfm_quantiles {
                        let n = score_pair.into_inner().next().map_or(0, |x| self.uint(&x));
                        Score::Quantiles(u32::try_from(n).unwrap_or(u32::MAX), score_span)
                    } else {
                        Score::Thresholds(
                            score_pair
                                .into_inner()
                                .map(|x| x.as_str().to_string())
                                .collect(),
                            score_span,
                        )
                    };
                    rfm.measures.push(RfmMeasure {
                        kind,
                        expr,
                        score,
                        span,
                    });
                }
                Rule::rfm_baseline => {
                    let q = p.into_inner().next().expect("grammar: baseline");
                    rfm.baseline = Some(if q.as_rule() == Rule::ident {
                        Baseline::Named(self.ident(q))
                    } else {
                        Baseline::Value(q.as_str().to_string(), self.span(&q))
                    });
                }
                Rule::rfm_segments => {
                    for s in p.into_inner() {
                        match s.as_rule() {
                            Rule::rfm_segment => {
                                let span = self.span(&s);
                                let mut q = s.into_inner();
                                let code = self.ident(q.next().expect("grammar: segment code"));
                                let label = self.string(q.next().expect("grammar: segment label"));
                                rfm.segments.push(RfmSegment { code, label, span });
                            }
                            Rule::bad_stmt => {
                                self.bad_stmt(&s, &[("", Rule::rfm_segment)], "a segment")
                            }
                            _ => {}
                        }
                    }
                }
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("recency", Rule::rfm_measure),
                        ("frequency", Rule::rfm_measure),
                        ("monetary", Rule::rfm_measure),
                        ("baseline", Rule::rfm_baseline),
                        ("segments", Rule::rfm_segments),
                    ],
                    "an RFM statement",
                ),
                _ => {}
            }
        }
        rfm
    }

    pub(super) fn route(&self, pair: Pair<'_, Rule>) -> Option<Route> {
        let mut inner = pair.into_inner();
        let audience = self.ident(inner.next()?);
        let mut route = Route {
            audience,
            arms: Vec::new(),
            otherwise: None,
        };
        for p in inner {
            match p.as_rule() {
                Rule::route_arm => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let condition = self.expr(q.next()?);
                    let channel = self.ident(q.next()?);
                    route.arms.push(RouteArm {
                        condition,
                        channel,
                        span,
                    });
                }
                Rule::route_else => route.otherwise = p.into_inner().next().map(|q| self.ident(q)),
                Rule::bad_stmt => self.bad_stmt(&p, &[("", Rule::route_arm)], "a route arm"),
                _ => {}
            }
        }
        Some(route)
    }

    pub(super) fn export(&self, pair: Pair<'_, Rule>) -> Option<Export> {
        let mut inner = pair.into_inner();
        let audience = self.ident(inner.next()?);
        let location = self.location(inner.next()?);
        let mut columns = Vec::new();
        for p in inner {
            match p.as_rule() {
                Rule::export_col => {
                    let span = self.span(&p);
                    let mut q = p.into_inner();
                    let expr = self.expr(q.next()?);
                    columns.push(ExportColumn {
                        expr,
                        alias: q.next().map(|x| self.ident(x)),
                        span,
                    });
                }
                Rule::bad_stmt => {
                    self.bad_stmt(&p, &[("", Rule::export_col)], "an exported column")
                }
                _ => {}
            }
        }
        Some(Export {
            audience,
            location,
            columns,
        })
    }

    pub(super) fn scan(&self, pair: Pair<'_, Rule>) -> Scan {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut scan = Scan {
            header,
            captures: Vec::new(),
            camera_height: None,
            steps: Vec::new(),
            hotspots: Vec::new(),
            outputs: Vec::new(),
        };
        for p in inner {
            let span = self.span(&p);
            match p.as_rule() {
                Rule::scan_capture => scan
                    .captures
                    .extend(p.into_inner().map(|q| self.primary(q))),
                Rule::scan_camera => {
                    scan.camera_height = p.into_inner().next().map(|q| self.primary(q))
                }
                Rule::scan_steps => {
                    for s in p.into_inner() {
                        let span = self.span(&s);
                        match s.as_rule() {
                            Rule::step_upright => scan.steps.push(ScanStep::Upright(span)),
                            Rule::step_layout => {
                                if let Some(q) = s.into_inner().next() {
                                    scan.steps.push(ScanStep::Layout(self.primary(q)));
                                }
                            }
                            Rule::step_merge => {
                                if let Some(q) = s.into_inner().next() {
                                    scan.steps.push(ScanStep::MergeBy(self.ident(q)));
                                }
                            }
                            Rule::step_texture => {
                                let n = s.into_inner().next().map_or(0, |q| self.uint(&q));
                                scan.steps.push(ScanStep::Texture(
                                    u32::try_from(n).unwrap_or(u32::MAX),
                                    span,
                                ));
                            }
                            Rule::bad_stmt => self.bad_stmt(
                                &s,
                                &[
                                    ("upright", Rule::step_upright),
                                    ("layout", Rule::step_layout),
                                    ("merge", Rule::step_merge),
                                    ("texture", Rule::step_texture),
                                ],
                                "a scan step",
                            ),
                            _ => {}
                        }
                    }
                }
                Rule::hotspot => {
                    let mut q = p.into_inner();
                    let header = self.header(&mut q);
                    let mut place = None;
                    let mut content = None;
                    let mut content_first = false;
                    for r in q {
                        match r.as_rule() {
                            Rule::hotspot_at => {
                                let rspan = self.span(&r);
                                let xs: Vec<String> =
                                    r.into_inner().map(|x| x.as_str().to_string()).collect();
                                if let [x, y, z] = xs.as_slice() {
                                    place = Some(HotspotPlace::At(
                                        [x.clone(), y.clone(), z.clone()],
                                        rspan,
                                    ));
                                }
                            }
                            Rule::hotspot_room => {
                                place = r
                                    .into_inner()
                                    .next()
                                    .map(|x| HotspotPlace::Room(self.ident(x)))
                            }
                            Rule::hotspot_content => {
                                content_first = place.is_none();
                                let mut x = r.into_inner();
                                let kind = self.ident(x.next().expect("grammar: hotspot kind"));
                                let target =
                                    self.string(x.next().expect("grammar: hotspot target"));
                                content = Some((kind, target));
                            }
                            _ => {}
                        }
                    }
                    if let (Some(place), Some((kind, target))) = (place, content) {
                        scan.hotspots.push(Hotspot {
                            name: header.name,
                            display: header.display,
                            place,
                            kind,
                            target,
                            content_first,
                            span,
                        });
                    }
                }
                Rule::scan_output => scan.outputs.extend(p.into_inner().map(|q| self.primary(q))),
                Rule::bad_stmt => self.bad_stmt(
                    &p,
                    &[
                        ("capture", Rule::scan_capture),
                        ("camera_height", Rule::scan_camera),
                        ("steps", Rule::scan_steps),
                        ("hotspot", Rule::hotspot),
                        ("output", Rule::scan_output),
                    ],
                    "a scan statement",
                ),
                _ => {}
            }
        }
        scan
    }

    pub(super) fn dashboard(&self, pair: Pair<'_, Rule>) -> Dashboard {
        let mut inner = pair.into_inner();
        let header = self.header(&mut inner);
        let mut widgets = Vec::new();
        for p in inner {
            let span = self.span(&p);
            let kind = match p.as_rule() {
                Rule::widget_trend => {
                    let mut q = p.into_inner();
                    let model = self.ident(q.next().expect("grammar: trend model"));
                    let over = self.quantity(q.next().expect("grammar: trend window"), false);
                    let by = q
                        .next()
                        .map(|g| g.into_inner().map(|x| self.ident(x)).collect())
                        .unwrap_or_default();
                    WidgetKind::Trend { model, over, by }
                }
                Rule::widget_flow => {
                    let mut q = p.into_inner();
                    let model = self.ident(q.next().expect("grammar: flow model"));
                    let from = self.signed_quantity(q.next().expect("grammar: flow start"));
                    let to = q.next().map(|x| self.signed_quantity(x));
                    WidgetKind::Flow { model, from, to }
                }
                Rule::widget_contribution => {
                    let mut q = p.into_inner();
                    let dimension = self.ident(q.next().expect("grammar: contribution dimension"));
                    let target = self.expr(q.next().expect("grammar: contribution target"));
                    WidgetKind::Contribution { dimension, target }
                }
                Rule::widget_kpi => WidgetKind::Kpi {
                    metrics: p.into_inner().map(|x| self.ident(x)).collect(),
                },
                Rule::bad_stmt => {
                    self.bad_stmt(
                        &p,
                        &[
                            ("trend", Rule::widget_trend),
                            ("flow", Rule::widget_flow),
                            ("contribution", Rule::widget_contribution),
                            ("kpi", Rule::widget_kpi),
                        ],
                        "a dashboard widget",
                    );
                    continue;
                }
                _ => continue,
            };
            widgets.push(Widget { kind, span });
        }
        Dashboard { header, widgets }
    }

    pub(super) fn function(&self, pair: Pair<'_, Rule>) -> Function {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: fn name"));
        let mut params = Vec::new();
        let mut returns = None;
        let mut flags = Vec::new();
        let mut display = None;
        for p in inner {
            match p.as_rule() {
                Rule::param => {
                    let mut q = p.into_inner();
                    let name = self.ident(q.next().expect("grammar: param name"));
                    let ty = self.ident(q.next().expect("grammar: param type"));
                    params.push(Param {
                        name,
                        ty,
                        optional: q.next().is_some(),
                    });
                }
                Rule::ident => returns = Some(self.ident(p)),
                Rule::fn_flag => flags.push(self.ident(p)),
                Rule::string => display = Some(self.string(p)),
                _ => {}
            }
        }
        let returns = returns.unwrap_or_else(|| Ident {
            text: "any".into(),
            span: name.span,
        });
        Function {
            header: Header { name, display },
            params,
            returns,
            flags,
        }
    }
}
