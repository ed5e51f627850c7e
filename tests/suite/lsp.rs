//! The language server over an in-memory connection: the protocol as an editor speaks
//! it, on a copy of the example project.

use std::path::Path;
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
fn workspace(name: &str) -> crate::common::Scratch {
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

/// Applies a workspace edit's changes to the files on disk.
fn apply_edit(edit: &Value) {
    let changes = edit["changes"].as_object().expect("changes");
    for (uri, edits) in changes {
        let path = Url::parse(uri).expect("uri").to_file_path().expect("path");
        let text = std::fs::read_to_string(&path).expect("read");
        let index = mj_lsp::convert::LineIndex::new(&text);
        let mut spans: Vec<(usize, usize, String)> = edits
            .as_array()
            .expect("edits")
            .iter()
            .map(|e| {
                let p: lsp_types::Range =
                    serde_json::from_value(e["range"].clone()).expect("range");
                (
                    index.offset(p.start),
                    index.offset(p.end),
                    e["newText"].as_str().expect("text").to_string(),
                )
            })
            .collect();
        spans.sort_by_key(|s| std::cmp::Reverse(s.0));
        let mut out = text.clone();
        for (s, e, t) in spans {
            out.replace_range(s..e, &t);
        }
        std::fs::write(&path, out).expect("write");
    }
}

/// Errors of the project in a folder, compiled afresh.
fn project_errors(dir: &Path) -> Vec<String> {
    let mut inputs = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        if p.extension().is_some_and(|x| x == "mj") {
            inputs.push((
                p.to_string_lossy().to_string(),
                std::fs::read_to_string(&p).expect("read"),
            ));
        }
    }
    inputs.sort();
    let db = mj_compiler::Database::default();
    let project = mj_compiler::load(&db, &inputs);
    mj_compiler::all_diagnostics(&db, project)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn open(c: &mut Client, path: &Path) -> (Url, String) {
    let uri = Url::from_file_path(path).expect("uri");
    let text = std::fs::read_to_string(path).expect("read");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "mj", "version": 1, "text": text } }),
    );
    let _ = c.diagnostics(&uri);
    (uri, text)
}

fn at(uri: &Url, text: &str, needle: &str, offset: usize) -> Value {
    let mut p = position_of(text, needle);
    p["character"] = json!(p["character"].as_u64().unwrap_or(0) + offset as u64);
    json!({ "textDocument": { "uri": uri }, "position": p })
}

#[test]
fn references_follow_meaning_not_text() {
    let dir = workspace("lsp-refs");
    let mut c = Client::start(&dir);
    let (uri, text) = open(&mut c, &dir.join("model.mj"));
    let locations = |c: &mut Client, needle: &str, offset: usize, decl: bool| -> Vec<String> {
        let mut params = at(&uri, &text, needle, offset);
        params["context"] = json!({ "includeDeclaration": decl });
        let refs = c.request("textDocument/references", params);
        let mut out: Vec<String> = refs
            .as_array()
            .expect("locations")
            .iter()
            .map(|l| {
                let file = l["uri"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                format!("{file}:{}", l["range"]["start"]["line"])
            })
            .collect();
        out.sort();
        out
    };
    // A derived metric: its definition, the two composites, the dashboard — not
    // `online_pay_amt_30d`, which contains the same letters.
    let refs = locations(&mut c, "derived pay_amt_30d", 8, true);
    let model_line = |needle: &str| {
        text[..text.find(needle).expect("needle")]
            .matches('\n')
            .count()
    };
    let mut expected = vec![
        format!("model.mj:{}", model_line("derived pay_amt_30d")),
        format!("model.mj:{}", model_line("composite aov_30d")),
        format!("model.mj:{}", model_line("composite online_rate_30d")),
        "showroom.mj:20".to_string(),
    ];
    expected.sort();
    assert_eq!(refs, expected);
    assert_eq!(locations(&mut c, "derived pay_amt_30d", 8, false).len(), 3);
    // A dimension: the fact's binding, both modifiers that read it (one through an
    // attribute), the derived metric's `by` — not the dimension's `key category`,
    // which is a column of the source.
    let refs = locations(&mut c, "dimension category", 10, true);
    let mut expected = vec![
        format!("model.mj:{}", model_line("dimension category")),
        format!("model.mj:{}", model_line("dims { store")),
        format!("model.mj:{}", model_line("modifier sofa")),
        format!("model.mj:{}", model_line("modifier bedroom")),
        format!("model.mj:{}", model_line("derived pay_amt_1d")),
    ];
    expected.sort();
    assert_eq!(refs, expected);
    c.stop();
}

#[test]
fn renames_keep_the_project_valid_or_are_refused() {
    let dir = workspace("lsp-rename");
    let mut c = Client::start(&dir);
    let (uri, text) = open(&mut c, &dir.join("model.mj"));
    assert_eq!(project_errors(&dir), Vec::<String>::new());

    // Renaming a derived metric away from its composed name is refused, with why.
    let mut params = at(&uri, &text, "derived pay_amt_30d", 8);
    params["newName"] = json!("pay_30d_amt");
    let r = c.request_raw("textDocument/rename", params);
    let message = r.error.expect("refused").message;
    assert!(
        message.contains("should be named `pay_amt_30d`"),
        "{message}"
    );
    // So is a name another item has.
    let mut params = at(&uri, &text, "derived pay_amt_30d", 8);
    params["newName"] = json!("aov_30d");
    assert!(c.request_raw("textDocument/rename", params).error.is_some());
    // A standard-library period cannot be renamed at all.
    let prepared = c.request(
        "textDocument/prepareRename",
        at(&uri, &text, "pay_amt[30d]", 8),
    );
    assert_eq!(prepared, Value::Null);

    // Renaming an atomic metric renames the derived metrics composed from it, and
    // every use of those, across files.
    let prepared = c.request(
        "textDocument/prepareRename",
        at(&uri, &text, "atomic pay_amt ", 7),
    );
    assert_eq!(prepared["placeholder"], "pay_amt");
    let mut params = at(&uri, &text, "atomic pay_amt ", 7);
    params["newName"] = json!("gmv");
    let edit = c.request("textDocument/rename", params);
    apply_edit(&edit);
    assert_eq!(project_errors(&dir), Vec::<String>::new());
    let model = std::fs::read_to_string(dir.join("model.mj")).expect("model");
    assert!(model.contains("derived online_gmv_30d"), "{model}");
    assert!(model.contains("= gmv_30d / pay_ord_cnt_30d"), "{model}");
    assert!(!model.contains("pay_amt"), "{model}");
    let assets = std::fs::read_to_string(dir.join("assets.mj")).expect("assets");
    assert!(assets.contains("monetary  = gmv_365d"), "{assets}");
    let showroom = std::fs::read_to_string(dir.join("showroom.mj")).expect("showroom");
    assert!(showroom.contains("kpi gmv_30d, aov_30d"), "{showroom}");

    // Renaming a dimension rewrites a shorthand binding as `new = column`.
    let model_uri = uri.clone();
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": model_uri, "version": 2 }, "contentChanges": [{ "text": model }] }),
    );
    for f in ["assets.mj", "showroom.mj", "audiences.mj"] {
        let u = Url::from_file_path(dir.join(f)).expect("uri");
        c.notify(
            "workspace/didChangeWatchedFiles",
            json!({ "changes": [{ "uri": u, "type": 2 }] }),
        );
    }
    let _ = c.diagnostics(&uri);
    let mut params = at(&uri, &model, "dimension category", 10);
    params["newName"] = json!("cate");
    let edit = c.request("textDocument/rename", params);
    apply_edit(&edit);
    assert_eq!(project_errors(&dir), Vec::<String>::new());
    let model = std::fs::read_to_string(dir.join("model.mj")).expect("model");
    assert!(
        model.contains("dims { store = store_id, cate = category, channel }"),
        "{model}"
    );
    assert!(model.contains("= cate.line =="), "{model}");
    assert!(model.contains("by store, cate"), "{model}");
    c.stop();
}

#[test]
fn hover_tokens_and_completion_know_the_context() {
    let dir = workspace("lsp-context");
    let mut c = Client::start(&dir);
    let (uri, text) = open(&mut c, &dir.join("model.mj"));

    // Hover on a use of a derived metric: its unit and the SQL of its aggregate.
    let hover = c.request(
        "textDocument/hover",
        at(&uri, &text, "online_pay_amt_30d / pay", 0),
    );
    let shown = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(shown.contains("Type: number (currency(CNY))"), "{shown}");
    assert!(
        shown.contains("```sql") && shown.contains("sum("),
        "{shown}"
    );
    assert!(
        shown.contains("FILTER (WHERE") && shown.contains("douyin_shop"),
        "{shown}"
    );

    // Semantic tokens: the header of a fact is a type declaration; a metric use a variable.
    let tokens = c.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri } }),
    );
    let data: Vec<u64> = tokens["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|v| v.as_u64().unwrap_or(0))
        .collect();
    assert_eq!(data.len() % 5, 0);
    let mut decoded = Vec::new();
    let (mut line, mut col) = (0u64, 0u64);
    for t in data.chunks(5) {
        if t[0] > 0 {
            line += t[0];
            col = t[1];
        } else {
            col += t[1];
        }
        let l = text.lines().nth(line as usize).unwrap_or("");
        let word: String = l
            .encode_utf16()
            .skip(col as usize)
            .take(t[2] as usize)
            .map(|u| char::from_u32(u32::from(u)).unwrap_or('?'))
            .collect();
        decoded.push((word, t[3], t[4]));
    }
    let legend = mj_lsp::capabilities()["semanticTokensProvider"]["legend"]["tokenTypes"].clone();
    let ty = |name: &str| {
        legend
            .as_array()
            .expect("legend")
            .iter()
            .position(|x| x == name)
            .expect("type") as u64
    };
    assert!(
        decoded.contains(&("pay_order".to_string(), ty("type"), 1)),
        "{decoded:?}"
    );
    assert!(decoded.contains(&("pay_ord_cnt_30d".to_string(), ty("variable"), 0)));
    assert!(decoded.contains(&("fact".to_string(), ty("keyword"), 0)));
    assert!(decoded.contains(&(
        "// DWD / DWS: dimensions, business processes and metrics.".to_string(),
        ty("comment"),
        0
    )));

    // Completion inside `metric[…]`: periods, and only the modifiers of that process.
    let edited = text.replace("visit_cnt[3d] by", "visit_cnt[3d, ] by");
    assert_ne!(edited, text);
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": edited }] }),
    );
    let _ = c.diagnostics(&uri);
    let labels = |c: &mut Client, params: Value| -> Vec<String> {
        c.request("textDocument/completion", params)
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["label"].as_str().map(str::to_string))
            .collect()
    };
    let got = labels(&mut c, at(&uri, &edited, "visit_cnt[3d, ]", 14));
    assert!(
        got.contains(&"consult".to_string()) && got.contains(&"30d".to_string()),
        "{got:?}"
    );
    assert!(
        !got.contains(&"online".to_string()) && !got.contains(&"3d".to_string()),
        "{got:?}"
    );
    // Columns after `table.`; attributes after a dimension; stages after an AIPL model.
    let got = labels(&mut c, at(&uri, &edited, "sum(pay_order.amount)", 14));
    assert!(
        got.contains(&"amount".to_string()) && got.contains(&"paid_at".to_string()),
        "{got:?}"
    );
    let got = labels(&mut c, at(&uri, &edited, "category.line", 9));
    assert_eq!(got, vec!["category", "name", "line"]);

    let (auri, atext) = open(&mut c, &dir.join("audiences.mj"));
    let got = labels(&mut c, at(&auri, &atext, "brand == I", 9));
    assert_eq!(got, vec!["A", "I", "P", "L"]);
    let got = labels(&mut c, at(&auri, &atext, "price_level == \"高端\"", 16));
    assert_eq!(got, vec!["\"高端\"", "\"中端\"", "\"大众\""]);
    let got = labels(&mut c, at(&auri, &atext, "value == HHH", 9));
    assert!(
        got.contains(&"LLL".to_string()) && got.len() == 8,
        "{got:?}"
    );
    let got = labels(
        &mut c,
        at(&auri, &atext, "nearest(store).service_radius_km =>", 15),
    );
    assert!(
        got.contains(&"service_radius_km".to_string()) && got.contains(&"lat".to_string()),
        "{got:?}"
    );

    // Identifiers and columns in a `link`.
    let (ouri, otext) = open(&mut c, &dir.join("oneid.mj"));
    let got = labels(&mut c, at(&ouri, &otext, "link pos_order   (member_id", 18));
    assert!(
        got.contains(&"phone".to_string()) && got.contains(&"store_id".to_string()),
        "{got:?}"
    );
    c.stop();
}
