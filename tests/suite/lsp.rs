//! The language server over an in-memory connection: the protocol as an editor speaks
//! it, on a copy of the example project.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use lsp_types::Url;
use serde_json::{Value, json};

use crate::common::{repo, scratch};

struct Client {
    conn: Connection,
    next: i32,
    server: Option<std::thread::JoinHandle<Result<(), String>>>,
    /// Notifications seen while waiting for responses.
    seen: Vec<Notification>,
}

impl Client {
    fn start(root: &Path) -> Client {
        let (server, conn) = Connection::memory();
        let handle = std::thread::spawn(move || mj_lsp::serve(server));
        let mut c = Client {
            conn,
            next: 0,
            server: Some(handle),
            seen: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": Url::from_file_path(root).expect("uri"),
                "capabilities": {}
            }),
        );
        assert!(
            init["capabilities"]["hoverProvider"]
                .as_bool()
                .unwrap_or(false),
            "{init}"
        );
        c.notify("initialized", json!({}));
        c
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        assert!(r.error.is_none(), "{method}: {:?}", r.error);
        r.result.unwrap_or(Value::Null)
    }

    fn request_raw(&mut self, method: &str, params: Value) -> lsp_server::Response {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.conn
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .expect("send");
        loop {
            match self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(30))
                .expect("a response within 30 s")
            {
                Message::Response(r) if r.id == id => return r,
                Message::Notification(n) => self.seen.push(n),
                _ => {}
            }
        }
    }

    fn notify(&self, method: &str, params: Value) {
        self.conn
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .expect("send");
    }

    /// The next diagnostics pushed for a document.
    fn diagnostics(&mut self, uri: &Url) -> Vec<Value> {
        loop {
            if let Some(i) = self.seen.iter().position(|n| {
                n.method == "textDocument/publishDiagnostics" && n.params["uri"] == json!(uri)
            }) {
                let n = self.seen.remove(i);
                return n.params["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            if let Message::Notification(n) = self
                .conn
                .receiver
                .recv_timeout(Duration::from_secs(30))
                .expect("diagnostics within 30 s")
            {
                self.seen.push(n);
            }
        }
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let result = self
            .server
            .take()
            .expect("server")
            .join()
            .expect("no panic");
        assert!(result.is_ok(), "{result:?}");
    }
}

/// A copy of the example's specs (not its data) in a scratch folder.
fn workspace(name: &str) -> PathBuf {
    let dir = scratch(name);
    let example = repo().join("examples/meijia");
    for e in std::fs::read_dir(&example).expect("example") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "mj" || x == "toml") {
            std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    dir
}

fn position_of(text: &str, needle: &str) -> Value {
    let at = text.find(needle).expect("needle");
    let line = text[..at].matches('\n').count();
    let col = text[..at]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .encode_utf16()
        .count();
    json!({ "line": line, "character": col })
}

#[test]
fn an_editor_session_on_the_example() {
    let dir = workspace("lsp");
    let mut c = Client::start(&dir);
    let model = dir.join("model.mj");
    let uri = Url::from_file_path(&model).expect("uri");
    let text = std::fs::read_to_string(&model).expect("model");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "mj", "version": 1, "text": text } }),
    );
    assert_eq!(
        c.diagnostics(&uri),
        Vec::<Value>::new(),
        "the example is clean"
    );

    // Hover on a derived metric: kind, display name, definition, summary table.
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "aov_30d") }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(
        shown.contains("composite metric") && shown.contains("最近30天客单价"),
        "{shown}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("derived pay_amt_30d "))
        .expect("line");
    let at = position_of(&text, line);
    let hover = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": at["line"], "character": 10 } }),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(shown.contains("dws.dws_consumer"), "{shown}");
    assert!(
        shown.contains("Used by `aov_30d`, `online_rate_30d`."),
        "{shown}"
    );

    // Go to definition across files: `consumer` is defined in oneid.mj.
    let def = c.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position_of(&text, "consumer //") }),
    );
    assert!(
        def["uri"].as_str().unwrap_or("").ends_with("oneid.mj"),
        "{def}"
    );

    // Symbols, folding, workspace symbols.
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .expect("symbols")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"pay_order") && names.contains(&"aov_30d"),
        "{names:?}"
    );
    let folds = c.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": uri } }),
    );
    assert!(!folds.as_array().expect("folds").is_empty());
    let found = c.request("workspace/symbol", json!({ "query": "客单价" }));
    assert_eq!(found[0]["name"], "aov_30d", "{found}");

    // An edit that breaks the naming rule: a diagnostic with its code and link, and a
    // quick fix that renames the metric to the composed name.
    let broken = text.replace("derived pay_amt_30d ", "derived pay_30d_amt ");
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let diags = c.diagnostics(&uri);
    let d = diags
        .iter()
        .find(|d| d["code"] == "mj::naming::derived_name_mismatch")
        .unwrap_or_else(|| panic!("{diags:?}"));
    assert!(
        d["codeDescription"]["href"]
            .as_str()
            .unwrap_or("")
            .ends_with("diagnostics.md#mjnamingderived_name_mismatch"),
        "{d}"
    );
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": d["range"], "context": { "diagnostics": [d] } }),
    );
    let edit = &actions[0]["edit"]["changes"][uri.as_str()][0];
    assert_eq!(edit["newText"], "pay_amt_30d", "{actions}");

    // An incremental change that puts it back.
    let start = &d["range"]["start"];
    let end = &d["range"]["end"];
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [
            { "range": { "start": start, "end": end }, "text": "pay_amt_30d" }
        ] }),
    );
    assert_eq!(c.diagnostics(&uri), Vec::<Value>::new());

    // Formatting gives what `mj fmt` gives.
    let messy = text.replacen(
        "atomic pay_amt     \"支付金额\"",
        "atomic   pay_amt \"支付金额\"",
        1,
    );
    assert_ne!(messy, text);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": messy }] }),
    );
    let _ = c.diagnostics(&uri);
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits[0]["newText"].as_str(), Some(text.as_str()));

    // Completion offers the project's names.
    let items = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(
        items
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["label"] == "pay_ord_cnt_365d")
    );
    c.stop();
}

#[test]
fn bad_requests_get_errors_and_the_server_goes_on() {
    let dir = workspace("lsp-robust");
    let mut c = Client::start(&dir);
    let uri = Url::from_file_path(dir.join("model.mj")).expect("uri");
    // An unknown method.
    let r = c.request_raw("textDocument/unheardOf", json!({}));
    assert_eq!(
        r.error.map(|e| e.code),
        Some(lsp_server::ErrorCode::MethodNotFound as i32)
    );
    // Parameters of the wrong shape.
    let r = c.request_raw("textDocument/hover", json!({ "nonsense": true }));
    assert_eq!(
        r.error.map(|e| e.code),
        Some(lsp_server::ErrorCode::InvalidParams as i32)
    );
    // A position far past the end of the file, and a file the server does not know.
    let r = c.request_raw(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 99999, "character": 99999 } }),
    );
    assert!(r.error.is_none());
    let r = c.request_raw(
        "textDocument/definition",
        json!({ "textDocument": { "uri": "file:///nowhere/x.mj" }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(r.error.is_none());
    // A file that does not parse still gets diagnostics, symbols and no formatting.
    let broken = "source s from csv(\"x.csv\" {\n  id string not null\n\ntag t on = \n";
    let b = Url::from_file_path(dir.join("broken.mj")).expect("uri");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": b, "languageId": "mj", "version": 1, "text": broken } }),
    );
    let diags = c.diagnostics(&b);
    assert!(
        diags.iter().any(|d| d["code"] == "mj::syntax::invalid"),
        "{diags:?}"
    );
    let edits = c.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": b }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, Value::Null);
    let _ = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": b } }),
    );
    c.stop();
}

#[test]
fn malformed_frames_get_json_rpc_errors() {
    use mj_lsp::transport::{decode, read_frame};
    let r = decode(b"{not json").expect_err("a parse error");
    assert!(r.contains("-32700") && r.contains("\"id\":null"), "{r}");
    // Well-formed JSON that is no message: an invalid request naming its id.
    let e = decode(br#"{"jsonrpc":"2.0","id":7,"params":[]}"#).expect_err("not a message");
    assert!(e.contains("-32600") && e.contains("\"id\":7"), "{e}");
    assert!(decode(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_ok());
    // Frames: headers in any case, extra headers, then the body.
    let text = "Content-Type: x\r\ncontent-length: 2\r\n\r\n{}Content-Length: 4\r\n\r\nnull";
    let mut input = std::io::BufReader::new(text.as_bytes());
    assert_eq!(read_frame(&mut input).expect("io"), Some(b"{}".to_vec()));
    assert_eq!(read_frame(&mut input).expect("io"), Some(b"null".to_vec()));
    assert_eq!(read_frame(&mut input).expect("io"), None);
}
