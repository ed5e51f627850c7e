//! The command-line contract that scripts rely on: JSON diagnostics, exit codes,
//! `fmt --check`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn mj() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mj"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/meijia")
}

fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mj-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("mj.toml"), "[project]\nname = \"t\"\n").expect("write");
    for (file, text) in files {
        std::fs::write(dir.join(file), text).expect("write");
    }
    dir
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
fn oneid_explain_prints_the_evidence() {
    let dir = scratch(
        "explain",
        &[(
            "a.mj",
            "source crm from csv(\"crm.csv\", header = true) {\n  member_id string not null\n  phone     string?\n}\n\n\
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
    let explain = |a: &str, b: &str| {
        let out = mj()
            .args(["oneid", "explain", "--date", "2025-01-01"])
            .arg(&dir)
            .args([a, b])
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, out, err) = explain("crm:M1", "crm:M2");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("are different persons"), "{out}");
    assert!(out.contains("unique identifier `member_id`"), "{out}");
    let (_, out, _) = explain("pos:O1", "crm:M1");
    let (_, out2, _) = explain("pos:O1", "crm:M2");
    // The order joined exactly one of the two members, through its phone.
    let joined = [&out, &out2]
        .iter()
        .filter(|o| o.contains("are one person"))
        .count();
    assert_eq!(joined, 1, "{out}\n{out2}");
    assert!(
        out.contains("--phone \"13812345678\" [strong]")
            || out2.contains("--phone \"13812345678\" [strong]"),
        "{out}\n{out2}"
    );
    let (code, _, err) = explain("pos:O9", "crm:M1");
    assert_eq!(code, Some(2));
    assert!(err.contains("no record `pos:O9`"), "{err}");
}

#[test]
fn aipl_flow_without_history_says_which_date_is_missing() {
    let out = std::env::temp_dir().join(format!("mj-cli-aipl-{}", std::process::id()));
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
/// fix and a rename across files. `scripts/editor-tools` installs Neovim.
#[test]
fn neovim_drives_the_language_server() {
    let Ok(version) = Command::new("nvim").arg("--version").output() else {
        panic!("Neovim is not installed: run scripts/editor-tools (the test script does)");
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
