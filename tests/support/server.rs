//! Loopback servers for the tests that run the binary: a chat server that records every
//! request and answers chat completions as the test decides, and a server that gives
//! every request one answer.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::chat::prompt_file;

/// One chat completion request, as the server read it.
pub struct Ask {
    /// The `model` the request names.
    pub model: String,
    /// The file the prompt is about (its first line, `File: …`).
    pub file: String,
    /// The user prompt.
    pub user: String,
    /// The whole request body.
    pub body: Value,
    /// How many requests for this model and file, this one included.
    pub nth: usize,
}

/// One request the server received, whatever its path.
pub struct Received {
    /// The body as text.
    pub body: String,
    /// The `authorization` header, if any.
    pub authorization: Option<String>,
    /// Set for chat completion requests.
    pub chat: Option<Chat>,
}

/// What a chat completion request asked: model, file and user prompt.
#[derive(Clone, Debug)]
pub struct Chat {
    pub model: String,
    pub file: String,
    pub user: String,
}

/// Everything a [`chat_server`] received, in order.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<Received>>>);

impl Seen {
    /// The chat completion requests.
    pub fn chats(&self) -> Vec<Chat> {
        self.0.lock().unwrap().iter().filter_map(|r| r.chat.clone()).collect()
    }

    /// How many chat completions were asked.
    pub fn count(&self) -> usize {
        self.chats().len()
    }

    /// How many chat completions were asked of `model`.
    pub fn count_of(&self, model: &str) -> usize {
        self.chats().iter().filter(|c| c.model == model).count()
    }

    /// The user prompts of the chat completions.
    pub fn prompts(&self) -> Vec<String> {
        self.chats().into_iter().map(|c| c.user).collect()
    }

    /// How many chat completions carried `text` in their prompt.
    pub fn asked(&self, text: &str) -> usize {
        self.prompts().iter().filter(|p| p.contains(text)).count()
    }

    /// The files asked about, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.chats().into_iter().map(|c| c.file).collect();
        files.sort();
        files
    }

    /// The files of the last `n` chat completions, in order.
    pub fn last_files(&self, n: usize) -> Vec<String> {
        let chats = self.chats();
        chats[chats.len().saturating_sub(n)..]
            .iter()
            .map(|c| c.file.clone())
            .collect()
    }

    /// Every request body, whatever its path.
    pub fn bodies(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|r| r.body.clone()).collect()
    }

    /// The `authorization` header of every request.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.0.lock().unwrap().iter().map(|r| r.authorization.clone()).collect()
    }

    /// Forgets what was received so far.
    pub fn forget(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// The one path a chat request may take: a base URL of `{server}/v1` plus the API's
/// route. A doubled or missing segment is a 404, as the real servers answer.
const CHAT_PATH: &str = "/v1/chat/completions";

type Behaviour = dyn Fn(&Ask) -> ResponseTemplate + Send + Sync;

struct Recorder {
    seen: Seen,
    behaviour: Box<Behaviour>,
}

impl Respond for Recorder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string());
        let text = String::from_utf8_lossy(&request.body).into_owned();
        let is_chat = request.method.as_str() == "POST" && request.url.path() == CHAT_PATH;
        if !is_chat {
            self.seen.0.lock().unwrap().push(Received {
                body: text,
                authorization,
                chat: None,
            });
            return ResponseTemplate::new(404);
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let model = body["model"].as_str().unwrap_or_default().to_string();
        let user = body["messages"][1]["content"].as_str().unwrap_or_default().to_string();
        let file = prompt_file(&user);
        let nth = {
            let mut seen = self.seen.0.lock().unwrap();
            let chat = Chat {
                model: model.clone(),
                file: file.clone(),
                user: user.clone(),
            };
            seen.push(Received {
                body: text,
                authorization,
                chat: Some(chat),
            });
            seen.iter()
                .filter_map(|r| r.chat.as_ref())
                .filter(|c| c.model == model && c.file == file)
                .count()
        };
        (self.behaviour)(&Ask {
            model,
            file,
            user,
            body,
            nth,
        })
    }
}

/// A loopback server that records every request and answers each chat completion
/// (`POST …/chat/completions`) with `behaviour(ask)`, anything else with 404.
pub async fn chat_server(behaviour: impl Fn(&Ask) -> ResponseTemplate + Send + Sync + 'static) -> (MockServer, Seen) {
    let server = MockServer::start().await;
    let seen = Seen::default();
    Mock::given(any())
        .respond_with(Recorder {
            seen: seen.clone(),
            behaviour: Box::new(behaviour),
        })
        .mount(&server)
        .await;
    (server, seen)
}

/// Makes `server` answer the model list at `list_path` (`GET /x/v1/models`) with
/// `answer`, before the catch-all a [`chat_server`] mounted.
pub async fn answer_model_list(server: &MockServer, list_path: &str, answer: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(list_path))
        .respond_with(answer)
        .with_priority(1)
        .mount(server)
        .await;
}

/// A loopback server that answers every request, whatever its path, with `answer`.
pub async fn answering(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(answer).mount(&server).await;
    server
}

/// How many requests `server` received.
pub async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording is on").len()
}

/// How many chat completions (`POST …/chat/completions`) `server` received: the
/// questions asked, without the model list a review reads before it starts.
pub async fn chat_requests(server: &MockServer) -> usize {
    let received = server.received_requests().await.expect("recording is on");
    received
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path().ends_with("/chat/completions"))
        .count()
}

/// The address of a loopback port where nothing listens: bound to find a free one, then
/// closed, so a connection to it is refused.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
