//! The command-line contract that scripts rely on: JSON diagnostics, exit codes,
//! `fmt --check`.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "cli/standalone.rs"]
mod standalone;

fn mj() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mj"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/meijia")
}

/// A scratch project: an `mj.toml` and `files`, removed when the test is done with
/// it; kept, and named on stderr, when the test fails.
fn scratch(name: &str, files: &[(&str, &str)]) -> Scratch {
    let dir = empty_scratch(name);
    std::fs::write(dir.join("mj.toml"), "[project]\nname = \"t\"\n").expect("write");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
}

fn empty_scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("mj-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    Scratch(dir)
}

struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn check_json(dir: &Path) -> std::process::Output {
    mj().args(["check", "--format", "json"])
        .arg(dir)
        .output()
        .expect("runs")
}

#[test]
fn check_of_the_example_is_clean() {
    let out = mj().arg("check").arg(example()).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mj()
        .args(["check", "--format", "json"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
fn json_diagnostics_follow_the_contract() {
    let dir = scratch(
        "json",
        &[("a.mj", "atomic pay_amt = sum(pay_ordr.amount)\n")],
    );
    let out = check_json(&dir);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let first = &v.as_array().expect("an array")[0];
    for key in [
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert_eq!(first["code"], "mj::resolve::unresolved_name");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 22);
    assert_eq!(first["end_column"], 30, "end columns are exclusive");
    assert!(first["file"].as_str().expect("a path").ends_with("a.mj"));
}

#[test]
fn warnings_exit_zero_and_usage_errors_exit_two() {
    let dir = scratch(
        "warn",
        &[(
            "a.mj",
            "source s from csv(\"s.csv\") {\n  id string\n}\n\noneid person {\n  identifier id\n  identifier email\n\n  link s (id)\n}\n",
        )],
    );
    let out = check_json(&dir);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v[0]["severity"], "warning", "{v}");
    assert_eq!(out.status.code(), Some(0));
    let out = mj()
        .args(["check", "/no/such/folder"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = mj()
        .args(["check", "--format", "xml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_output_has_no_colour_when_not_a_terminal() {
    let dir = scratch("human", &[("a.mj", "period 30x = last 30 days\n")]);
    let out = mj().arg("check").arg(&dir).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mj::glossary::unknown_root"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "escape codes in piped output: {err}"
    );
}

#[test]
fn human_and_json_columns_agree_after_chinese_text() {
    let dir = scratch(
        "cjk",
        &[(
            "a.mj",
            "atomic pay_amt \"支付金额\" = sum(pay_ordr.amount)\n",
        )],
    );
    let out = check_json(&dir);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v[0]["column"], 29, "columns count characters: {v}");
    let out = mj().arg("check").arg(&dir).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.mj:1:29]"), "{err}");
}

#[test]
fn fmt_check_and_write() {
    let dir = scratch("fmt", &[("a.mj", "period  30d=last 30 days // keep me\n")]);
    let out = mj()
        .args(["fmt", "--check"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = mj().arg("fmt").arg(&dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.mj")).expect("read"),
        "period 30d = last 30 days // keep me\n"
    );
    let out = mj()
        .args(["fmt", "--check"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let out = mj()
        .args(["fmt", "--check"])
        .arg(example())
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fmt_leaves_files_with_syntax_errors_alone() {
    let text = "period 30d = last 30 dayz\n";
    let dir = scratch("fmtbad", &[("a.mj", text)]);
    let out = mj().arg("fmt").arg(&dir).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.mj")).expect("read"),
        text
    );
}

#[test]
fn run_exit_codes_and_messages() {
    let dir = scratch(
        "run",
        &[(
            "a.mj",
            "source s from csv(\"s.csv\", header = true) {\n  id   string not null\n  seen timestamp\n}\n",
        )],
    );
    // A missing file: exit 1, the source and the file named, a manifest left behind.
    let out = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("source `s`") && err.contains("s.csv"), "{err}");
    assert!(dir.join("out/_runs").read_dir().expect("manifests").count() == 1);
    // With the file: exit 0, the reject kept, one line per node when not a terminal.
    std::fs::write(
        dir.join("s.csv"),
        "id,seen\na,2025-01-01 10:00:00\nb,soon\n",
    )
    .expect("csv");
    let out = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("[1/1] ods.s: 2 rows read, 1 accepted, 1 rejected"),
        "{err}"
    );
    assert!(
        dir.join("out/rejects/s/dt=2025-01-01/part-00000.parquet")
            .is_file()
    );
    // A date that is not a date is a usage error.
    let out = mj()
        .args(["run", "--date", "2025-13-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_of_a_spec_with_errors_exits_one_and_writes_nothing() {
    let dir = scratch(
        "run-invalid",
        &[("a.mj", "atomic pay_amt = sum(pay_ordr.amount)\n")],
    );
    let out = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("mj::resolve::unresolved_name"), "{err}");
    assert!(err.contains("the project has errors"), "{err}");
    assert!(
        !dir.join("out").exists(),
        "a run of a broken spec writes nothing"
    );
    // A project that cannot be read at all stays a usage error.
    let out = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(dir.join("nowhere"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_starts_a_project_that_checks_clean_and_runs() {
    let root = empty_scratch("init");
    let shop = root.join("shop");
    let out = mj().arg("init").arg(&shop).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("mj run"), "it says what to do next: {err}");
    for file in [
        "mj.toml",
        "README.md",
        ".gitignore",
        "glossary.mj",
        "sources.mj",
        "model.mj",
        "oneid.mj",
        "data/orders.csv",
    ] {
        assert!(shop.join(file).is_file(), "{file}");
    }
    let toml = std::fs::read_to_string(shop.join("mj.toml")).expect("mj.toml");
    assert!(toml.contains("name = \"shop\""), "{toml}");
    // Clean: no error and no warning, and already in the canonical layout.
    let out = check_json(&shop);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert_eq!(out.status.code(), Some(0));
    let out = mj()
        .args(["fmt", "--check"])
        .arg(&shop)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // It runs straight away: the bad sample row is a reject, the rest builds.
    let out = mj()
        .args(["run", "--date", "2025-06-30"])
        .arg(&shop)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("ods.shop_order: 12 rows read, 11 accepted, 1 rejected"),
        "{err}"
    );
    for table in [
        "rejects/shop_order",
        "oneid/consumer",
        "dwd/pay_order",
        "dws/dws_consumer",
    ] {
        assert!(
            shop.join("out")
                .join(table)
                .join("dt=2025-06-30/part-00000.parquet")
                .is_file(),
            "{table}: {err}"
        );
    }
    // Orders of one member or one phone are one consumer; the placeholder phone joins
    // nobody: M001 (2 orders + 1 by phone), M002 (2 + 1), M003, M004, M005, and the two
    // orders that carry nothing but the placeholder, one person each.
    assert!(err.contains("7 persons"), "{err}");
    // A folder that is not empty is refused, and left as it was.
    let readme = std::fs::read_to_string(shop.join("README.md")).expect("README");
    std::fs::write(shop.join("README.md"), "mine\n").expect("write");
    let out = mj().arg("init").arg(&shop).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(shop.join("README.md")).expect("README"),
        "mine\n"
    );
    assert!(readme.contains("# shop"));
    // In the current folder, with a name of its own (quoted for TOML).
    let here = root.join("here");
    std::fs::create_dir_all(&here).expect("empty folder");
    let out = mj()
        .args(["init", "--name", "美家 \"new\""])
        .current_dir(&here)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = std::fs::read_to_string(here.join("mj.toml")).expect("mj.toml");
    assert!(toml.contains(r#"name = "美家 \"new\"""#), "{toml}");
    let out = mj().arg("check").current_dir(&here).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn oneid_explain_prints_the_evidence() {
    let dir = scratch(
        "explain",
        &[(
            "a.mj",
            "source crm from csv(\"crm.csv\", header = true) {\n  member_id string not null\n  phone     string? pii\n}\n\n\
             source pos from csv(\"pos.csv\", header = true) {\n  order_id string not null\n  phone    string?\n}\n\n\
             oneid person {\n  identifier member_id unique\n  identifier phone normalize phone_cn\n\n  link crm (member_id, phone)\n  link pos (phone)\n}\n",
        )],
    );
    std::fs::write(
        dir.join("crm.csv"),
        "member_id,phone\nM1,13812345678\nM2,13812345678\n",
    )
    .expect("csv");
    std::fs::write(
        dir.join("pos.csv"),
        "order_id,phone\nO1,+86 138 1234 5678\n",
    )
    .expect("csv");
    let explain = |a: &str, b: &str, clear: bool| {
        let mut cmd = mj();
        cmd.args(["oneid", "explain", "--date", "2025-01-01"])
            .arg(&dir)
            .args([a, b]);
        if clear {
            cmd.arg("--show-pii");
        }
        let out = cmd.output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Before any run of the date there is nothing to explain.
    let (code, _, err) = explain("crm:M1", "crm:M2", false);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no run of 2025-01-01 wrote") && err.contains("mj run --date 2025-01-01"),
        "{err}"
    );
    let run = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The manifest names the conflicting phone masked: it is read from a pii column.
    let runs: Vec<_> = std::fs::read_dir(dir.join("out/_runs"))
        .expect("manifests")
        .collect();
    let manifest =
        std::fs::read_to_string(runs[0].as_ref().expect("entry").path()).expect("manifest");
    assert!(
        manifest.contains("138****5678") && !manifest.contains("13812345678"),
        "{manifest}"
    );
    // Today's files change; the explanation is of the run of the date.
    std::fs::write(dir.join("pos.csv"), "order_id,phone\nO1,13900000000\n").expect("csv");
    let (code, out, err) = explain("crm:M1", "crm:M2", false);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("are different persons in the run of 2025-01-01"),
        "{out}"
    );
    assert!(out.contains("unique identifier `member_id`"), "{out}");
    assert!(
        out.contains("phone \"138****5678\"") && !out.contains("13812345678"),
        "{out}"
    );
    let (_, clear, _) = explain("crm:M1", "crm:M2", true);
    assert!(clear.contains("phone \"13812345678\""), "{clear}");
    let (_, out, _) = explain("pos:O1", "crm:M1", false);
    let (_, out2, _) = explain("pos:O1", "crm:M2", false);
    // The order joined exactly one of the two members, through its phone, and the
    // OneID shown is the one the run gave.
    let joined: Vec<&String> = [&out, &out2]
        .into_iter()
        .filter(|o| o.contains("are one person, C"))
        .collect();
    assert_eq!(joined.len(), 1, "{out}\n{out2}");
    assert!(
        joined[0].contains("--phone \"138****5678\" [strong]"),
        "{}",
        joined[0]
    );
    let (code, _, err) = explain("pos:O9", "crm:M1", false);
    assert_eq!(code, Some(2));
    assert!(err.contains("no record `pos:O9`"), "{err}");
}

#[test]
fn aipl_flow_without_history_says_which_date_is_missing() {
    let scratch = empty_scratch("aipl");
    let out = scratch.join("out");
    let output = mj()
        .args(["aipl", "flow"])
        .arg(example())
        .args(["--from", "2020-01-01", "--to", "2020-01-02", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("no stages of `brand` for 2020-01-01"), "{err}");
    let output = mj()
        .args(["aipl", "flow"])
        .arg(example())
        .args([
            "--from",
            "2020-01-01",
            "--to",
            "2020-01-02",
            "--model",
            "funnel",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("no AIPL model `funnel`; it has: brand"),
        "{err}"
    );
    // A trend by a breakdown the model does not have names the ones it has.
    let output = mj()
        .args(["aipl", "trend"])
        .arg(example())
        .args(["--to", "2020-01-02", "--by", "store", "--out"])
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("`brand` is not broken down by `store`; it is by: channel"),
        "{err}"
    );
}

#[test]
fn audience_prints_size_routes_and_what_each_condition_keeps() {
    let dir = scratch(
        "audience",
        &[(
            "a.mj",
            "source member from csv(\"m.csv\", header = true) {\n  member_id string not null\n  level string\n  points int\n  joined_at timestamp\n}\n\n\
             oneid person {\n  identifier member_id strong\n  link member (member_id)\n}\n\n\
             tag level on person = latest(member.level) ?? \"none\"\n\
             tag points on person = latest(member.points)\n\n\
             audience vip on person = level == \"gold\" and points >= 100\n\n\
             route vip {\n  points >= 500 => sms\n  else => push\n}\n",
        )],
    );
    std::fs::write(
        dir.join("m.csv"),
        "member_id,level,points,joined_at\na,gold,50,2025-01-01 10:00:00\nb,gold,150,2025-01-01 10:00:00\n\
         c,gold,900,2025-01-01 10:00:00\nd,silver,900,2025-01-01 10:00:00\n",
    )
    .expect("csv");
    let out = mj()
        .args(["run", "--date", "2025-01-01"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mj()
        .arg("audience")
        .arg(&dir)
        .args(["vip", "--date", "2025-01-01", "--explain"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("vip on 2025-01-01: 2 members (person)"),
        "{text}"
    );
    assert!(text.contains("route: push 1, sms 1"), "{text}");
    assert!(text.contains("         3  level == \"gold\""), "{text}");
    assert!(text.contains("         2  points >= 100"), "{text}");
    // An audience the project lacks names the ones it has.
    let out = mj()
        .arg("audience")
        .arg(&dir)
        .args(["vop", "--date", "2025-01-01"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("it has: vip"));
}

/// Neovim's own LSP client (headless, `editors/nvim/session.lua`) against `mj lsp` on a
/// copy of the example: diagnostics, hover, definition, references, completion, a quick
/// fix and a rename across files. `scripts/test-tools` installs Neovim.
#[test]
fn neovim_drives_the_language_server() {
    let Ok(version) = Command::new("nvim").arg("--version").output() else {
        panic!("Neovim is not installed: run scripts/test-tools (the test script does)");
    };
    assert!(version.status.success());
    let dir = scratch("nvim", &[]);
    for e in std::fs::read_dir(example()).expect("example") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "mj" || x == "toml") {
            std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../editors/nvim/session.lua");
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("MJ_BIN", env!("CARGO_BIN_EXE_mj"))
        .env("MJ_ROOT", &dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nvim starts");
    // The session must end on its own: a hang is a failure, not a wait.
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the Neovim session did not finish in 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for step in [
        "diagnostics",
        "hover",
        "definition",
        "references",
        "completion",
        "diagnostic on change",
        "code action",
        "rename",
        "rename refused",
        "shutdown",
    ] {
        assert!(
            stdout.lines().any(|l| l == format!("ok {step}")),
            "step `{step}` missing:\n{stdout}\n{stderr}"
        );
    }
}

fn showroom() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/showroom")
}

/// Headless Chromium on a page: the DOM after it settled, or a screenshot.
fn chromium(url: &str, dump: Option<&Path>, profile: &Path) -> String {
    let mut cmd = Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=20000",
        "--window-size=1024,640",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    match dump {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd.arg(url).output().unwrap_or_else(|e| {
        panic!("Chromium does not start ({e}): run scripts/test-tools (the test script does)")
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `mj scan` on the shipped showroom: a glb the Khronos validator accepts with no error,
/// an OBJ, an SVG plan with areas, a JSON summary, and a tour that headless Chromium
/// draws with its hotspots (checked on the DOM and on screenshots); a broken capture
/// fails with the file named and leaves the outputs as they were.
#[test]
fn scan_builds_the_showroom_and_its_tour_renders_in_chromium() {
    let out_dir = scratch("scan", &[]);
    let out = mj()
        .arg("scan")
        .arg(showroom())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("scan.flagship_sh: 4 rooms"), "{stderr}");
    let listed = String::from_utf8_lossy(&out.stdout);
    let scans = out_dir.join("scans");
    for f in [
        "flagship_sh.glb",
        "flagship_sh.svg",
        "flagship_sh.json",
        "store_hz.glb",
    ] {
        assert!(listed.contains(f), "{listed}");
        assert!(scans.join(f).is_file(), "{f}");
    }

    // glTF 2.0 binary: header, a JSON chunk, a binary chunk; metres, one node per room.
    let glb = std::fs::read(scans.join("flagship_sh.glb")).expect("glb");
    assert_eq!(&glb[0..4], b"glTF");
    assert_eq!(u32::from_le_bytes(glb[4..8].try_into().expect("4")), 2);
    assert_eq!(
        u32::from_le_bytes(glb[8..12].try_into().expect("4")) as usize,
        glb.len()
    );
    let json_len = u32::from_le_bytes(glb[12..16].try_into().expect("4")) as usize;
    assert_eq!(&glb[16..20], b"JSON");
    let gltf: serde_json::Value = serde_json::from_slice(&glb[20..20 + json_len]).expect("JSON");
    assert_eq!(gltf["asset"]["version"], "2.0");
    let names: Vec<&str> = gltf["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    for node in [
        "hall",
        "living",
        "bedroom",
        "kitchen",
        "hotspot:sofa_1",
        "panorama:hall.jpg",
    ] {
        assert!(names.contains(&node), "{names:?}");
    }
    assert!(!gltf["images"].as_array().expect("images").is_empty());
    let validator = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scan/validate");
    assert!(
        validator.join("node_modules/gltf-validator").is_dir(),
        "the glTF validator is not installed: run scripts/test-tools (the test script does)"
    );
    let v = Command::new("node")
        .arg(validator.join("validate.js"))
        .arg(scans.join("flagship_sh.glb"))
        .arg(scans.join("store_hz.glb"))
        .output()
        .expect("node runs");
    let reports = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.status.success(),
        "{reports}{}",
        String::from_utf8_lossy(&v.stderr)
    );
    for line in reports.lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("a report");
        assert_eq!(r["errors"], 0, "{line}");
        assert_eq!(r["warnings"], 0, "{line}");
    }

    // The plan and the summary: four rooms, 108 m² within the clicks' noise.
    let svg = std::fs::read_to_string(scans.join("flagship_sh.svg")).expect("svg");
    assert!(
        svg.starts_with("<?xml") || svg.starts_with("<svg"),
        "{}",
        &svg[..80]
    );
    for room in ["hall", "living", "bedroom", "kitchen"] {
        assert!(svg.contains(room), "{room}");
    }
    assert!(svg.contains("m²"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(scans.join("flagship_sh.json")).expect("json"))
            .expect("summary");
    let rooms = summary["rooms"].as_array().expect("rooms");
    assert_eq!(rooms.len(), 4);
    let area: f64 = rooms.iter().filter_map(|r| r["area_m2"].as_f64()).sum();
    assert!((area - 108.0).abs() / 108.0 < 0.03, "{area}");
    let obj = std::fs::read_to_string(scans.join("flagship_sh/model.obj")).expect("obj");
    assert!(
        obj.contains("mtllib model.mtl")
            && obj.lines().filter(|l| l.starts_with("f ")).count() > 100
    );

    // The tour: the hall's panorama with its hotspots, and the 3D view of every room.
    let tour = scans.join("flagship_sh_tour/index.html");
    let url = |hash: &str| format!("file://{}#{hash}", tour.display());
    let profile = out_dir.join("chromium-profile");
    for (hash, at_least) in [("view=pano&pano=0", 3), ("view=3d", 7)] {
        // On a loaded machine the first frame with its images may come after Chromium's
        // budget: ask again (three times at most) before calling the page broken.
        let mut dom = String::new();
        for _ in 0..3 {
            dom = chromium(&url(hash), None, &profile);
            if dom.contains("data-state=\"ready\"") {
                break;
            }
        }
        let body = dom
            .split("<body")
            .nth(1)
            .expect("a body")
            .split('>')
            .next()
            .expect("tag");
        assert!(body.contains("data-state=\"ready\""), "{hash}: {body}");
        let visible: usize = body
            .split("data-visible=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("data-visible");
        assert!(visible >= at_least, "{hash}: {visible} hotspots on screen");
        for kind in ["product", "video", "audio", "link", "location"] {
            assert!(
                dom.contains(&format!("hotspot {kind}")),
                "{hash}: no {kind} hotspot"
            );
        }
        let png = out_dir.join(format!("{}.png", hash.replace(['=', '&'], "_")));
        let background = [0xee, 0xf0, 0xf2];
        // (share of the page drawn, distinct colours, hotspot-dot pixels); as with the
        // DOM, a loaded machine gets three tries to draw the first frame.
        let mut measured = (0.0, 0, 0);
        for _ in 0..3 {
            chromium(&url(hash), Some(&png), &profile);
            let shot = image::open(&png).expect("a PNG screenshot").into_rgb8();
            let pixels = shot.pixels().count() as f64;
            let drawn = shot.pixels().filter(|p| p.0 != background).count() as f64 / pixels;
            // Hotspot dots are #ff00ff, a colour the synthetic store has nowhere.
            let magenta = shot
                .pixels()
                .filter(|p| p.0[0] > 235 && p.0[1] < 20 && p.0[2] > 235)
                .count();
            let mut colours: Vec<[u8; 3]> = shot.pixels().map(|p| p.0).collect();
            colours.sort_unstable();
            colours.dedup();
            measured = (drawn, colours.len(), magenta);
            // An 18 px dot is about 250 pixels; labels and other dots may cover part of one.
            if drawn > 0.3 && colours.len() > 500 && magenta > 120 * at_least {
                break;
            }
        }
        let (drawn, colours, magenta) = measured;
        assert!(drawn > 0.3, "{hash}: {drawn:.2} of the page drawn");
        assert!(colours > 500, "{hash}: {colours} colours");
        assert!(magenta > 120 * at_least, "{hash}: {magenta} hotspot pixels");
    }

    // A broken capture: exit 1, the file named, the earlier outputs as they were.
    let broken = scratch("scan-broken", &[]);
    std::fs::copy(showroom().join("showroom.mj"), broken.join("showroom.mj")).expect("copy");
    std::fs::create_dir_all(broken.join("scans/sh")).expect("dir");
    for e in std::fs::read_dir(showroom().join("scans/sh"))
        .expect("captures")
        .flatten()
    {
        std::fs::copy(e.path(), broken.join("scans/sh").join(e.file_name())).expect("copy");
    }
    std::fs::write(broken.join("scans/sh/living.jpg"), [0u8; 64]).expect("break");
    let before = std::fs::read(scans.join("flagship_sh.glb")).expect("glb");
    let out = mj()
        .args(["scan", "--name", "flagship_sh"])
        .arg(&broken)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("living.jpg") && stderr.contains("cannot decode"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(scans.join("flagship_sh.glb")).expect("glb"),
        before
    );
    let out = mj()
        .args(["scan", "--name", "flagship_bj"])
        .arg(showroom())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scans: flagship_sh, store_hz"));
}

#[test]
fn lineage_of_an_asset_column_as_json() {
    let out = mj()
        .arg("lineage")
        .arg(example())
        .args(["ads.consumer_tags.price_level", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["column"], "ads.consumer_tags.price_level");
    let text = v.to_string();
    for column in [
        "ads.consumer_features.pay_amt_365d",
        "dws.dws_consumer.pay_amt_365d",
        "ods.pos_order.amount",
    ] {
        assert!(text.contains(column), "{column} missing from {text}");
    }
}

#[test]
fn lineage_of_an_export_column_as_json() {
    let out = mj()
        .arg("lineage")
        .arg(example())
        .args(["export.high_value.phone_md5", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["column"], "export.high_value.phone_md5");
    assert!(
        v["how"]
            .as_str()
            .is_some_and(|h| h.starts_with("md5 of the salted")),
        "{v}"
    );
    let from: Vec<&str> = v["from"]
        .as_array()
        .expect("inputs")
        .iter()
        .filter_map(|l| l["column"].as_str())
        .collect();
    assert!(
        from.contains(&"ads.consumer_audiences.high_value"),
        "{from:?}"
    );
    // Unknown targets name the forms that are known.
    let out = mj()
        .arg("lineage")
        .arg(example())
        .arg("export.high_value.no_such_column")
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("export.sofa_intent.phone_sha256"));
}

/// A loopback port nobody listens on at the moment.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A server the test started, stopped with SIGTERM when dropped.
struct Server {
    name: &'static str,
    child: std::process::Child,
    log: PathBuf,
}

impl Server {
    fn start(name: &'static str, args: &[String], dir: &Path, port: u16) -> Server {
        let log = dir.join(format!("{name}.log"));
        let child = mj()
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("starts");
        let mut server = Server { name, child, log };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("{name} exited with {status}: {}", server.log_text());
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} does not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, then the exit status and the log.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("-TERM");
        let status = self.child.wait().expect("waits");
        (status, self.log_text())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            eprintln!("{} log:\n{}", self.name, self.log_text());
        }
    }
}

/// Every partition and file `mj run` wrote under `out` (manifests aside), each as its
/// rows rendered and sorted: equal maps are the same tables, row for row, in any order.
fn tables(out: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    fn walk(out: &Path, dir: &Path, found: &mut std::collections::BTreeMap<String, Vec<String>>) {
        let mut parquet = false;
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in &entries {
            let name = p.file_name().expect("name").to_string_lossy().to_string();
            if p.is_dir() {
                if name != "_runs" && name != ".staging" {
                    walk(out, p, found);
                }
            } else if name.ends_with(".parquet") {
                parquet = true;
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(p).expect("file")).to_string();
                let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
                lines.sort();
                let rel = p.strip_prefix(out).expect("under out");
                found.insert(rel.display().to_string(), lines);
            }
        }
        if parquet {
            let mut rows = Vec::new();
            for b in mj_runtime::write::read_partition(dir).expect("partition") {
                let options = arrow::util::display::FormatOptions::default().with_null("∅");
                let columns: Vec<_> = b
                    .columns()
                    .iter()
                    .map(|c| {
                        arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &options)
                            .expect("formatter")
                    })
                    .collect();
                let head: Vec<String> = b
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| format!("{}:{}", f.name(), f.data_type()))
                    .collect();
                for i in 0..b.num_rows() {
                    let row: Vec<String> = columns.iter().map(|c| c.value(i).to_string()).collect();
                    rows.push(format!("{} | {}", head.join(","), row.join(" | ")));
                }
            }
            rows.sort();
            let rel = dir.strip_prefix(out).expect("under out");
            found.insert(rel.display().to_string(), rows);
        }
    }
    let mut found = std::collections::BTreeMap::new();
    walk(out, out, &mut found);
    found
}

fn assert_same_tables(local: &Path, cluster: &Path) {
    let (a, b) = (tables(local), tables(cluster));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same partitions and files"
    );
    for (name, rows) in &a {
        let other = &b[name];
        if rows != other {
            let first = rows.iter().zip(other).position(|(x, y)| x != y);
            panic!(
                "{name} differs: {} rows locally, {} on the cluster; first difference: {:?}",
                rows.len(),
                other.len(),
                first.map(|i| (&rows[i], &other[i]))
            );
        }
    }
}

fn last_manifest(out: &Path) -> serde_json::Value {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("_runs"))
        .expect("manifests")
        .map(|e| e.expect("entry").path())
        .collect();
    runs.sort();
    let text = std::fs::read_to_string(runs.last().expect("a manifest")).expect("manifest");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn the_example_runs_on_a_ballista_cluster_as_it_runs_locally() {
    let dir = empty_scratch("cluster");
    let data = dir.join("data");
    let generated = mj()
        .arg("gen")
        .arg(example())
        .args(["--consumers", "3000", "--days", "30", "--out"])
        .arg(&data)
        .output()
        .expect("runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let run = |out: &Path, cluster: Option<&str>| {
        let mut cmd = mj();
        cmd.arg("run")
            .arg(example())
            .args(["--date", "2025-06-30", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(out);
        if let Some(url) = cluster {
            cmd.args(["--cluster", url]);
        }
        cmd.output().expect("runs")
    };
    let local = dir.join("local");
    let out = run(&local, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A scheduler that is not there: a fast failure naming the address, nothing written.
    let nobody = format!("df://127.0.0.1:{}", free_port());
    let started = std::time::Instant::now();
    let out = run(&dir.join("nowhere"), Some(&nobody));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("no scheduler answers at {nobody}")),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!dir.join("nowhere/ods").exists());

    let port = free_port();
    let scheduler = Server::start(
        "scheduler",
        &[
            "scheduler".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ],
        &dir,
        port,
    );
    assert!(
        scheduler
            .log_text()
            .contains(&format!("mj scheduler listening on 127.0.0.1:{port}")),
        "{}",
        scheduler.log_text()
    );
    // The port is taken now: a second scheduler says so and exits.
    let again = mj()
        .args([
            "scheduler",
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{err}");
    assert!(err.contains("the port is taken"), "{err}");
    let executor = |name: &'static str| {
        let (flight, grpc) = (free_port(), free_port());
        let args: Vec<String> = vec![
            "executor".into(),
            "--scheduler".into(),
            format!("127.0.0.1:{port}"),
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            flight.to_string(),
            "--grpc-port".into(),
            grpc.to_string(),
            "--concurrency".into(),
            "2".into(),
            "--work-dir".into(),
            dir.join(name).display().to_string(),
        ];
        Server::start(name, &args, &dir, flight)
    };
    let first = executor("executor-1");
    let second = executor("executor-2");

    let url = format!("df://127.0.0.1:{port}");
    let cluster = dir.join("cluster");
    let out = run(&cluster, Some(&url));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}\n{}", scheduler.log_text());
    assert_same_tables(&local, &cluster);
    let manifest = last_manifest(&cluster);
    assert_eq!(manifest["cluster"], url.as_str());
    let ran_on = |table: &str| {
        manifest["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["table"] == table)
            .map(|t| t["ran_on"].as_str().expect("ran_on").to_string())
    };
    assert_eq!(ran_on("ads.aipl_brand").as_deref(), Some("cluster"));
    assert_eq!(ran_on("dws.dws_consumer").as_deref(), Some("cluster"));
    assert_eq!(ran_on("ods.crm_member").as_deref(), Some("client"));
    assert_eq!(ran_on("ads.consumer_near_store").as_deref(), Some("client"));

    // OneID on the cluster (`[oneid] engine = "cluster"`): its statements run as
    // Ballista jobs; the people, and every table after them, are the local run's.
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("project");
    for entry in std::fs::read_dir(example()).expect("example") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if name.ends_with(".mj") {
            std::fs::copy(&path, project.join(&name)).expect("copy");
        }
    }
    let toml = std::fs::read_to_string(example().join("mj.toml")).expect("mj.toml");
    std::fs::write(
        project.join("mj.toml"),
        format!("{toml}\n[oneid]\nengine = \"cluster\"\n"),
    )
    .expect("mj.toml");
    let sql = dir.join("sql");
    let out = mj()
        .arg("run")
        .arg(&project)
        .args(["--date", "2025-06-30", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&sql)
        .args(["--cluster", &url])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}\n{}", scheduler.log_text());
    assert_same_tables(&local, &sql);
    let manifest = last_manifest(&sql);
    let engine = &manifest["oneid"]["consumer"]["sql"];
    assert_eq!(engine["ran_on"], "cluster", "{engine}");
    assert!(
        engine["statements"].as_u64().expect("statements") >= 6,
        "{engine}"
    );
    let oneid_ran_on = manifest["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["table"] == "oneid.consumer")
        .map(|t| t["ran_on"].clone());
    assert_eq!(oneid_ran_on, Some("cluster".into()));

    // An executor killed during a run: Ballista gives its tasks to the other one and
    // the run completes with the same tables, or it fails with a message and the
    // partitions of the earlier run stay as they were.
    let mut rerun = mj()
        .arg("run")
        .arg(example())
        .args(["--date", "2025-06-30", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&cluster)
        .args(["--cluster", &url])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let mut progress = String::new();
    let mut killed = false;
    for line in std::io::BufRead::lines(std::io::BufReader::new(
        rerun.stderr.take().expect("stderr"),
    )) {
        let line = line.expect("line");
        // The first planned table is done: kill an executor while the rest run.
        if !killed && line.starts_with('[') && line.contains("] dwd.") {
            second.signal("-KILL");
            killed = true;
        }
        progress.push_str(&line);
        progress.push('\n');
    }
    assert!(killed, "{progress}");
    let status = rerun.wait().expect("waits");
    let out = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: progress.into_bytes(),
    };
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        assert!(
            err.contains("error:") && err.contains("earlier outputs are unchanged"),
            "{err}"
        );
    }
    assert_same_tables(&local, &cluster);
    drop(second);

    let (status, log) = first.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("mj executor stopped"), "{log}");
    let (status, log) = scheduler.stop();
    assert!(status.success(), "{log}");
    assert!(log.contains("mj scheduler stopped"), "{log}");
}

/// A PostgreSQL server the test started on a free loopback port (password auth over
/// TCP, user `postgres`, password `secret`), stopped when dropped.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    root: bool,
}

impl Postgres {
    fn start(dir: &Path) -> Postgres {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (scripts/test-tools installs it)")
            .map(|e| e.expect("entry").path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .collect();
        bins.sort();
        let bin = bins.pop().expect("an initdb under /usr/lib/postgresql");
        let root =
            String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout)
                .trim()
                == "0";
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).expect("pg dir");
        std::fs::write(dir.join("pw"), "secret\n").expect("pwfile");
        let port = free_port();
        let server = Postgres {
            dir: data,
            bin,
            port,
            root,
        };
        if root {
            // initdb refuses root: the server's files belong to `postgres`.
            for p in [&server.dir, &dir.join("pw")] {
                assert!(
                    Command::new("chown")
                        .args(["-R", "postgres:postgres"])
                        .arg(p)
                        .status()
                        .expect("chown")
                        .success()
                );
            }
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod");
        }
        let pw = dir.join("pw");
        let init = server.tool(
            "initdb",
            &[
                "-D",
                &server.dir.display().to_string(),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                &format!("--pwfile={}", pw.display()),
            ],
        );
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let start = server.tool(
            "pg_ctl",
            &[
                "-D",
                &server.dir.display().to_string(),
                "-o",
                &format!(
                    "-c listen_addresses=127.0.0.1 -p {port} -k {}",
                    server.dir.display()
                ),
                "-l",
                &server.dir.join("log").display().to_string(),
                "-w",
                "start",
            ],
        );
        assert!(
            start.status.success(),
            "{}",
            String::from_utf8_lossy(&start.stderr)
        );
        server
    }

    fn tool(&self, name: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(name);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).output().expect("runs")
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres:secret@127.0.0.1:{}/postgres",
            self.port
        )
    }

    /// Runs SQL with psql over TCP; psql's standard output.
    fn psql(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-d"])
            .arg(self.url())
            .args(["-c", sql])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.tool(
            "pg_ctl",
            &[
                "-D",
                &self.dir.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ],
        );
    }
}

#[test]
fn postgres_sources_read_as_files_do() {
    let dir = empty_scratch("postgres");
    let data = dir.join("data");
    let generated = mj()
        .arg("gen")
        .arg(example())
        .args(["--consumers", "800", "--days", "10", "--out"])
        .arg(&data)
        .output()
        .expect("runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let pg = Postgres::start(&dir);
    // The CRM's members in a table: text columns, as a CRM export keeps them, so the
    // bad rows the generator planted reach mj as they are.
    pg.psql(
        "CREATE SCHEMA crm; CREATE TABLE crm.member (member_id text, phone text, email text, \
         gender text, birthday text, city text, level text, joined_at text)",
    );
    let csv = data.join("data/crm/member.csv");
    let csv = if csv.exists() {
        csv
    } else {
        data.join("crm/member.csv")
    };
    // Two bad rows in both: a date that is none, a member without its id.
    let mut text = std::fs::read_to_string(&csv).expect("csv");
    text.push_str("M99999999,13912345678,,女,1990-13-45,上海,普通会员,2024-01-01 10:00:00\n");
    text.push_str(",13912345679,,男,1990-01-01,上海,普通会员,2024-01-01 10:00:00\n");
    std::fs::write(&csv, text).expect("csv");
    pg.psql(&format!(
        "\\copy crm.member FROM '{}' WITH (FORMAT csv, HEADER true)",
        csv.display()
    ));
    // The example with crm_member read from PostgreSQL.
    let project = dir.join("project");
    std::fs::create_dir_all(&project).expect("project");
    for entry in std::fs::read_dir(example()).expect("example") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if name.ends_with(".mj") || name == "mj.toml" {
            let mut text = std::fs::read_to_string(&path).expect("read");
            if name == "sources.mj" {
                let from = "from csv(\"data/crm/member.csv\", header = true)";
                assert!(text.contains(from), "{text}");
                text = text.replace(
                    from,
                    "from postgres(\"crm.member\", url = env(\"MJ_TEST_PG_URL\"))",
                );
            }
            if name == "audiences.mj" {
                let to = "export sofa_intent to csv(\"audiences/sofa_intent.csv\")";
                assert!(text.contains(to), "{text}");
                text = text.replace(
                    to,
                    "export sofa_intent to postgres(\"mart.sofa_intent\", url = env(\"MJ_TEST_PG_URL\"))",
                );
            }
            std::fs::write(project.join(&name), text).expect("write");
        }
    }
    let run = |project: &Path, out: &Path, url: Option<String>| {
        let mut cmd = mj();
        cmd.arg("run")
            .arg(project)
            .args(["--date", "2025-06-30", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(out);
        match url {
            Some(u) => cmd.env("MJ_TEST_PG_URL", u),
            None => cmd.env_remove("MJ_TEST_PG_URL"),
        };
        cmd.output().expect("runs")
    };
    let files = dir.join("files");
    let out = run(&example(), &files, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = dir.join("db");
    let out = run(&project, &db, Some(pg.url()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The audience written back: the CSV export's rows, in the table for the date; a
    // second run replaces them.
    let exported = |out: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(
            out.join("audiences/sofa_intent/dt=2025-06-30/sofa_intent.csv"),
        )
        .expect("the CSV export");
        let mut rows: Vec<String> = text.lines().skip(1).map(|l| l.replace(',', "|")).collect();
        rows.sort();
        rows
    };
    let in_db = || -> Vec<String> {
        let mut rows: Vec<String> = pg
            .psql("SELECT oneid, phone_sha256, store_id FROM mart.sofa_intent WHERE dt = '2025-06-30'")
            .lines()
            .map(str::to_string)
            .collect();
        rows.sort();
        rows
    };
    let want = exported(&files);
    assert!(!want.is_empty());
    assert_eq!(in_db(), want);
    let out = run(&project, &db, Some(pg.url()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(in_db(), want, "a rerun replaces the date's rows");
    let manifest = last_manifest(&db);
    let export = manifest["exports"]
        .as_array()
        .expect("exports")
        .iter()
        .find(|e| e["audience"] == "sofa_intent")
        .expect("the export's report")
        .clone();
    assert_eq!(export["rows"].as_u64(), Some(want.len() as u64), "{export}");
    // Every table the same, the rejects' origin and the exported file aside.
    let strip = |mut t: std::collections::BTreeMap<String, Vec<String>>| {
        t.retain(|k, _| {
            !k.starts_with("rejects/crm_member") && !k.starts_with("audiences/sofa_intent")
        });
        t
    };
    let (a, b) = (strip(tables(&files)), strip(tables(&db)));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, rows) in &a {
        assert!(
            rows == &b[name],
            "{name} differs between the CSV and the database"
        );
    }
    let inputs = |out: &Path| {
        let m = last_manifest(out);
        let i = m["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .find(|i| i["source"] == "crm_member")
            .expect("crm_member")
            .clone();
        (
            i["rows_read"].clone(),
            i["rows_rejected"].clone(),
            i["files"].clone(),
        )
    };
    let (from_csv, from_db) = (inputs(&files), inputs(&db));
    assert_eq!((&from_csv.0, &from_csv.1), (&from_db.0, &from_db.1));
    assert_eq!(from_db.1.as_u64(), Some(2), "the bad rows: {from_db:?}");
    let reasons = |out: &Path| -> Vec<String> {
        let mut r: Vec<String> = tables(out)["rejects/crm_member/dt=2025-06-30"]
            .iter()
            .map(|row| row.rsplit(" | ").next().expect("reason").to_string())
            .collect();
        r.sort();
        r
    };
    assert_eq!(reasons(&files), reasons(&db));
    let shown = from_db.2.to_string();
    assert!(
        shown.contains("postgres://postgres@127.0.0.1") && !shown.contains("secret"),
        "{shown}"
    );

    // Errors a user can act on; nothing written, the earlier partitions intact.
    let before = tables(&db);
    let fails = |url: Option<String>, wanted: &str| {
        let out = run(&project, &db, url);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(wanted), "wanted {wanted:?} in: {err}");
        assert!(!err.contains("secret"), "{err}");
        assert_eq!(tables(&db), before, "earlier partitions intact");
    };
    pg.psql("INSERT INTO mart.sofa_intent (dt, oneid) VALUES ('2025-06-30', 'marker')");
    let marked = in_db();
    fails(None, "the environment variable MJ_TEST_PG_URL is not set");
    let nobody = free_port();
    fails(
        Some(format!(
            "postgres://postgres:secret@127.0.0.1:{nobody}/postgres"
        )),
        "cannot reach the server",
    );
    fails(
        Some(format!(
            "postgres://postgres:wrong@127.0.0.1:{}/postgres",
            pg.port
        )),
        "the server refused the login",
    );
    fails(
        Some(format!(
            "postgres://postgres:secret@127.0.0.1:{}/nodb",
            pg.port
        )),
        "check the database name",
    );
    pg.psql("ALTER TABLE crm.member RENAME TO members");
    fails(Some(pg.url()), "relation \"crm.member\" does not exist");
    pg.psql("ALTER TABLE crm.members RENAME TO member; ALTER TABLE crm.member RENAME COLUMN email TO mail");
    fails(Some(pg.url()), "lacks declared column(s) email");
    pg.psql(
        "ALTER TABLE crm.member RENAME COLUMN mail TO email; \
         ALTER TABLE crm.member ALTER COLUMN level TYPE boolean USING level IS NOT NULL; \
         ALTER TABLE crm.member ALTER COLUMN birthday TYPE boolean USING birthday IS NOT NULL",
    );
    fails(
        Some(pg.url()),
        "column `birthday` is `bool` in PostgreSQL and cannot be read as date",
    );

    assert_eq!(in_db(), marked, "failed runs leave the table as it was");

    // Typed columns: a timestamp column reads as the CSV's text did.
    pg.psql(
        "ALTER TABLE crm.member ALTER COLUMN birthday TYPE text USING NULL; \
         ALTER TABLE crm.member ALTER COLUMN level TYPE text USING 'x'",
    );
    let typed = dir.join("typed");
    pg.psql("CREATE TABLE crm.t (id text not null, at timestamptz, n numeric(18,2))");
    pg.psql("INSERT INTO crm.t VALUES ('a', '2025-06-30 08:15:00+08', 12.5), ('b', NULL, NULL), ('c', '2025-06-29 23:00:00+00', -3)");
    std::fs::create_dir_all(&typed).expect("typed");
    std::fs::write(
        typed.join("mj.toml"),
        format!(
            "[project]\nname = \"typed\"\n[sources.t]\nurl = \"{}\"\n",
            pg.url()
        ),
    )
    .expect("toml");
    std::fs::write(
        typed.join("t.mj"),
        "source t \"表\" from postgres(\"crm.t\") {\n  id string not null\n  at timestamp\n  n  decimal(18,2)\n}\n",
    )
    .expect("mj");
    // Orders read incrementally: each run reads the rows past the last run's largest
    // `updated_at` (in the database), and merges them by key into the last partition.
    pg.psql(
        "CREATE TABLE crm.orders (order_id text not null, amount numeric(18,2), updated_at timestamptz); \
         INSERT INTO crm.orders VALUES ('o1', 10, '2025-06-28 10:00:00+00'), \
         ('o2', 20, '2025-06-29 08:00:00+00'), ('o3', 30, '2025-06-29 09:30:00+00')",
    );
    std::fs::write(
        typed.join("orders.mj"),
        "source orders \"订单\" from postgres(\"crm.orders\", url = env(\"MJ_TEST_PG_URL\")) {\n  incremental by updated_at\n  order_id   string not null\n  amount     decimal(18,2)\n  updated_at timestamp\n}\n",
    )
    .expect("mj");
    let typed_run = |date: &str, full: bool| {
        let mut cmd = mj();
        cmd.arg("run")
            .arg(&typed)
            .args(["--date", date, "--out"])
            .arg(typed.join("out"))
            .env("MJ_TEST_PG_URL", pg.url());
        if full {
            cmd.arg("--full");
        }
        let out = cmd.output().expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let m = last_manifest(&typed.join("out"));
        m["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .find(|i| i["source"] == "orders")
            .expect("orders")
            .clone()
    };
    let first = typed_run("2025-06-29", false);
    assert_eq!(first["rows_read"], 3, "{first}");
    assert_eq!(
        first["incremental"]["previous"],
        serde_json::Value::Null,
        "{first}"
    );
    pg.psql(
        "UPDATE crm.orders SET amount = 11, updated_at = '2025-06-30 09:00:00+00' WHERE order_id = 'o1'; \
         INSERT INTO crm.orders VALUES ('o4', 40, '2025-06-30 10:00:00+00')",
    );
    let next = typed_run("2025-06-30", false);
    assert_eq!(
        next["rows_read"], 2,
        "only the changed and new rows: {next}"
    );
    assert_eq!(next["incremental"]["previous"], "2025-06-29", "{next}");
    assert_eq!(
        next["incremental"]["watermark"], "2025-06-29T09:30:00",
        "{next}"
    );
    assert_eq!(next["incremental"]["rows_carried"], 2, "{next}");
    let orders = |t: &std::collections::BTreeMap<String, Vec<String>>| -> Vec<String> {
        t["ods/orders/dt=2025-06-30"]
            .iter()
            .map(|r| r.split_once(" | ").expect("head").1.to_string())
            .collect()
    };
    let incremental = orders(&tables(&typed.join("out")));
    assert_eq!(
        incremental,
        vec![
            "o1 | 11.00 | 2025-06-30T09:00:00".to_string(),
            "o2 | 20.00 | 2025-06-29T08:00:00".to_string(),
            "o3 | 30.00 | 2025-06-29T09:30:00".to_string(),
            "o4 | 40.00 | 2025-06-30T10:00:00".to_string(),
        ]
    );
    // A full reread, one flag away, gives the same partition.
    let full = typed_run("2025-06-30", true);
    assert_eq!(full["rows_read"], 4, "{full}");
    assert_eq!(
        full["incremental"]["previous"],
        serde_json::Value::Null,
        "{full}"
    );
    assert_eq!(orders(&tables(&typed.join("out"))), incremental);
    let t = tables(&typed.join("out"));
    let rows: Vec<String> = t["ods/t/dt=2025-06-30"]
        .iter()
        .map(|r| r.split_once(" | ").expect("head").1.to_string())
        .collect();
    assert_eq!(
        rows,
        vec![
            "a | 2025-06-30T00:15:00 | 12.50".to_string(),
            "b | ∅ | ∅".to_string(),
            "c | 2025-06-29T23:00:00 | -3.00".to_string()
        ],
        "{t:?}"
    );
}
