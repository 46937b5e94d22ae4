//! Headless Chromium driven over the DevTools protocol, for the tests of `report.html`:
//! load a page, collect every console error, exception and log error, and evaluate
//! script in it. Debian's `chromium` (`.ci/test-tools` installs it); a test skips when it
//! is absent. The browser runs in a process group of its own, with a fresh profile and
//! nothing that phones home, and is killed when the [`Browser`] is dropped (also when
//! a test panics).

use std::io::ErrorKind;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long the browser gets to start, to answer one command, or to load a page.
const PATIENCE: Duration = Duration::from_secs(60);
/// How often the profile folder is checked for the port file while the browser starts.
const POLL: Duration = Duration::from_millis(50);

/// What a test prints when it cannot run.
pub const SKIPPED: &str = "skipped: chromium not found (apt-get install chromium)";

/// `chromium` on the `PATH`, if any.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// A headless Chromium with one page attached.
pub struct Browser {
    _process: Process,
    _profile: tempfile::TempDir,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
}

impl Browser {
    /// Starts `chromium` and opens a page; `None` when it is not installed.
    pub fn launch() -> Option<Browser> {
        let chromium = chromium()?;
        let profile = tempfile::tempdir().unwrap();
        let process = Process(
            Command::new(chromium)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--remote-debugging-port=0",
                    "about:blank",
                ])
                .arg(format!("--user-data-dir={}", profile.path().display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .expect("chromium starts"),
        );
        let (port, path) = wait_for_port(profile.path());
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("the DevTools port answers");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let (socket, _) =
            tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream).expect("the DevTools handshake");
        let mut browser = Browser {
            _process: process,
            _profile: profile,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            browser.call(domain, json!({}));
        }
        Some(browser)
    }

    /// Sends `method` (to the page, once attached) and returns its result; events that
    /// arrive meanwhile are kept in [`Browser::events`].
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = Value::from(self.session.clone());
        }
        self.socket
            .send(Message::text(message.to_string()))
            .expect("a command is sent");
        loop {
            let reply = self.next_message();
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method} failed: {reply}");
                return reply["result"].clone();
            }
            self.events.push(reply);
        }
    }

    /// Opens `url` and waits for its load event.
    pub fn navigate(&mut self, url: &str) {
        let seen = self.events.len();
        self.call("Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + PATIENCE;
        while !self.events[seen..].iter().any(|e| e["method"] == "Page.loadEventFired") {
            assert!(Instant::now() < deadline, "{url} did not load");
            let event = self.next_message();
            self.events.push(event);
        }
    }

    /// The value of the expression `script` in the page; an exception fails the test.
    pub fn eval(&mut self, script: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": script, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(result.get("exceptionDetails").is_none(), "{script} threw: {result}");
        result["result"]["value"].clone()
    }

    /// Every console error, uncaught exception and browser log error so far (a blocked
    /// load, a Content-Security-Policy violation), one line each.
    pub fn errors(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
                    "Runtime.consoleAPICalled" if matches!(p["type"].as_str(), Some("error" | "assert")) => {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!("log: {}", p["entry"]["text"])),
                    "Page.javascriptDialogOpening" => Some(format!("dialog: {}", p["message"])),
                    _ => None,
                }
            })
            .collect()
    }

    /// The next message of the browser, as JSON.
    fn next_message(&mut self) -> Value {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).expect("DevTools speaks JSON"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!("chromium did not answer within {PATIENCE:?}")
                }
                Err(e) => panic!("the DevTools connection failed: {e}"),
            }
        }
    }
}

/// The browser's process, killed with its group when dropped: from the moment it is
/// started, so a test failing while it starts leaves nothing running.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        // The whole group: the browser and the renderers it started.
        let group = self.0.id() as libc::pid_t;
        // SAFETY: kill(2) on the process group this test started; no memory is touched.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// The port and path Chromium writes to `DevToolsActivePort` in its profile once it
/// listens.
fn wait_for_port(profile: &Path) -> (u16, String) {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return (port.trim().parse().expect("a port number"), path.trim().to_string());
            }
        }
        assert!(Instant::now() < deadline, "chromium did not open its DevTools port");
        std::thread::sleep(POLL);
    }
}
