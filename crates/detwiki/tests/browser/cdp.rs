//! A thin Chrome DevTools protocol client: one websocket to a headless Chromium, JSON commands
//! answered by id, events kept until the test reads them. The generated CDP crates cover the whole
//! protocol and cost minutes of compile time; the tests need a dozen methods, so they are written
//! out here as JSON.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long one command or one page load may take before the test fails instead of hanging.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium started for one test, killed when dropped.
pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Events received while waiting for a command's answer, oldest first.
    events: VecDeque<Value>,
    /// JavaScript dialogs (`alert`, `confirm`, `prompt`) the pages opened, by message; each is
    /// dismissed at once so that a hostile page cannot block the test.
    pub dialogs: Vec<String>,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Browser").field("pid", &self.child.id()).finish()
    }
}

/// The Chromium binary: `DETWIKI_CHROMIUM`, else the Debian package's `/usr/bin/chromium`.
pub fn chromium_binary() -> Option<PathBuf> {
    let binary = std::env::var_os("DETWIKI_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    binary.is_file().then_some(binary)
}

impl Browser {
    /// Starts `binary` headless with a fresh profile and connects to its browser endpoint, which
    /// Chromium writes to `DevToolsActivePort` in the profile once it listens (port 0 lets it
    /// choose a free one, so parallel tests do not collide).
    pub fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("a profile folder");
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", binary.display()));
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + TIMEOUT;
        let (port, path) = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let Some((port, path)) = text.split_once('\n')
                && !path.trim().is_empty()
            {
                break (port.trim().to_owned(), path.trim().to_owned());
            }
            assert!(Instant::now() < deadline, "{} wrote no DevToolsActivePort", binary.display());
            std::thread::sleep(Duration::from_millis(50));
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}")).expect("the DevTools port accepts");
        stream.set_read_timeout(Some(TIMEOUT)).expect("a read timeout");
        let (socket, _) =
            tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream).expect("the websocket handshake");
        Browser { child, socket, next_id: 0, events: VecDeque::new(), dialogs: Vec::new(), _profile: profile }
    }

    /// Sends `method` (to the page of `session`, or to the browser) and returns its result; a
    /// protocol error fails the test with the method's name.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.send(&command);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "{method}: no answer within {TIMEOUT:?}");
            let message = self.receive();
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    panic!("{method}: {error}");
                }
                return message["result"].clone();
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
    }

    /// Waits for the event `method` of `session` and returns its parameters; events that arrive
    /// before it stay queued for [`Browser::take_events`].
    pub fn wait_for(&mut self, session: &str, method: &str) -> Value {
        let matches = |event: &Value| event["method"] == method && event["sessionId"] == session;
        if let Some(position) = self.events.iter().position(matches) {
            return self.events.remove(position).expect("a queued event")["params"].clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "no {method} within {TIMEOUT:?}");
            let message = self.receive();
            if matches(&message) {
                return message["params"].clone();
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
    }

    /// Every event received so far, emptying the queue.
    pub fn take_events(&mut self) -> Vec<Value> {
        self.events.drain(..).collect()
    }

    fn send(&mut self, command: &Value) {
        self.socket.send(Message::text(command.to_string())).expect("the DevTools socket accepts a command");
    }

    /// The next protocol message. A dialog is answered here, before anything else, because the
    /// page and every command sent to it wait until it is closed.
    fn receive(&mut self) -> Value {
        loop {
            let message = self.socket.read().expect("the DevTools socket answers");
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
            if value["method"] == "Page.javascriptDialogOpening" {
                self.dialogs.push(value["params"]["message"].as_str().unwrap_or_default().to_owned());
                let mut dismiss = json!({
                    "id": 0,
                    "method": "Page.handleJavaScriptDialog",
                    "params": { "accept": false },
                });
                dismiss["sessionId"] = value["sessionId"].clone();
                self.send(&dismiss);
            }
            return value;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab of a [`Browser`], with the page, runtime and log domains enabled so that console
/// messages, exceptions, failed loads and dialogs are reported as events.
#[derive(Debug)]
pub struct Tab {
    pub session: String,
}

impl Tab {
    pub fn open(browser: &mut Browser) -> Tab {
        let target = browser.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached =
            browser.call(None, "Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
        let session = attached["sessionId"].as_str().expect("a session id").to_owned();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            browser.call(Some(&session), domain, json!({}));
        }
        Tab { session }
    }

    /// Loads `url` and waits for its `load` event, which follows every script file of the page.
    pub fn navigate(&self, browser: &mut Browser, url: &str) {
        let navigation = browser.call(Some(&self.session), "Page.navigate", json!({ "url": url }));
        if let Some(error) = navigation.get("errorText") {
            panic!("{url}: {error}");
        }
        browser.wait_for(&self.session, "Page.loadEventFired");
    }

    /// Evaluates `expression` in the page, awaiting a promise, and returns its JSON value; an
    /// exception fails the test.
    pub fn evaluate(&self, browser: &mut Browser, expression: &str) -> Value {
        let result = browser.call(
            Some(&self.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("evaluating {:.80}: {exception}", expression);
        }
        result["result"]["value"].clone()
    }

    /// Emulates a window `width` CSS pixels wide (a phone's when narrow: the viewport meta tag
    /// then applies) and `height` high.
    pub fn resize(&self, browser: &mut Browser, width: u32, height: u32) {
        browser.call(
            Some(&self.session),
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 }),
        );
    }

    /// A PNG of the whole page at the current width.
    pub fn screenshot(&self, browser: &mut Browser) -> Vec<u8> {
        use base64::Engine;
        let shot = browser.call(
            Some(&self.session),
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot")
    }
}

/// The errors among `events`, as readable lines: console `error` calls, uncaught exceptions and
/// browser log errors (failed loads, Content-Security-Policy refusals).
pub fn console_errors(events: &[Value]) -> Vec<String> {
    let mut errors = Vec::new();
    for event in events {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.consoleAPICalled") if matches!(params["type"].as_str(), Some("error" | "assert")) => {
                let arguments: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|argument| {
                        argument["value"].as_str().map(str::to_owned).unwrap_or_else(|| argument.to_string())
                    })
                    .collect();
                errors.push(format!("console.error: {}", arguments.join(" ")));
            }
            Some("Runtime.exceptionThrown") => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"].as_str().or(details["text"].as_str()).unwrap_or("?");
                errors.push(format!("exception: {text}"));
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                let entry = &params["entry"];
                errors.push(format!(
                    "log: {} {}",
                    entry["text"].as_str().unwrap_or_default(),
                    entry["url"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    errors
}
