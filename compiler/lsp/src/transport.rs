//! LSP over standard input and output, forgiving of malformed input: a message that is
//! not JSON gets a `ParseError` response, JSON that is not a JSON-RPC message an
//! `InvalidRequest` response, and the server reads on. (lsp-server's own transport
//! stops at the first malformed message.)

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};

use crossbeam_channel::unbounded;
use lsp_server::{Connection, Message};

/// The reader and writer threads.
pub struct Threads {
    reader: std::thread::JoinHandle<()>,
    writer: std::thread::JoinHandle<()>,
}

impl Threads {
    pub fn join(self) {
        let _ = self.writer.join();
        // The reader may sit in a read that never returns once the client is gone.
        drop(self.reader);
    }
}

fn write_raw(out: &Mutex<std::io::Stdout>, body: &str) {
    if let Ok(mut o) = out.lock() {
        let _ = write!(o, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = o.flush();
    }
}

/// An error response as JSON-RPC text (its id may be null).
pub fn error_text(id: serde_json::Value, code: i32, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message }
    })
    .to_string()
}

/// Reads one framed message body: None at the end of input.
pub fn read_frame(input: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok();
        }
    }
    let mut body = vec![0u8; length.unwrap_or(0)];
    input.read_exact(&mut body)?;
    Ok(Some(body))
}

/// What a frame is: a message, or the error response it gets.
pub fn decode(body: &[u8]) -> Result<Message, String> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Err(error_text(
                serde_json::Value::Null,
                -32700,
                &format!("not JSON: {e}"),
            ));
        }
    };
    let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
    // lsp-server reads any object with an id as a response; a message has a method
    // (request, notification) or a result or an error (response), else nobody answers.
    let has = |k: &str| value.get(k).is_some();
    if !has("method") && !has("result") && !has("error") {
        return Err(error_text(
            id,
            -32600,
            "not a JSON-RPC message: no method, result or error",
        ));
    }
    serde_json::from_value::<Message>(value)
        .map_err(|e| error_text(id, -32600, &format!("not a JSON-RPC message: {e}")))
}

/// A connection over standard input and output.
pub fn stdio() -> (Connection, Threads) {
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let (to_client, from_server) = unbounded::<Message>();
    let (to_server, from_client) = unbounded::<Message>();
    let writer_out = Arc::clone(&out);
    let writer = std::thread::spawn(move || {
        for msg in from_server {
            if let Ok(mut o) = writer_out.lock() {
                if msg.write(&mut *o).is_err() {
                    break;
                }
                let _ = o.flush();
            }
        }
    });
    let reader = std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        while let Ok(Some(body)) = read_frame(&mut input) {
            match decode(&body) {
                Ok(msg) => {
                    let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                    if to_server.send(msg).is_err() || exit {
                        break;
                    }
                }
                Err(response) => write_raw(&out, &response),
            }
        }
    });
    (
        Connection {
            sender: to_client,
            receiver: from_client,
        },
        Threads { reader, writer },
    )
}
