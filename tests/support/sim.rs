//! A loopback server that simulates OpenAI-compatible providers, shared by the engine
//! benchmark and the fault-injection test.
//!
//! Each model answers after a fixed latency and serves at most `cap` requests at once;
//! a request over the cap gets a 429 with a `Retry-After`, as a real rate-limited server
//! would. Optionally
//! every `fault_every`-th request fails in one of the ways real servers fail: 429 with
//! `Retry-After`, 500, a hang past the client's timeout, or a body that is not JSON.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::chat::{chat_completion, openai_error, prompt_file};

/// What a request over a model's cap is told to wait, in milliseconds: real servers ask
/// for a second or more; a tenth keeps the benchmark short while a lane that keeps
/// trying above the cap still pays for it as it would.
const OVER_CAP_RETRY_AFTER_MS: &str = "100";

/// One simulated model.
#[derive(Clone, Copy)]
pub struct Model {
    pub latency: Duration,
    pub cap: usize,
}

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicUsize,
    pub over_cap: AtomicUsize,
    pub faults: AtomicUsize,
    /// Requests per (model, file).
    pub per_job: Mutex<HashMap<(String, String), usize>>,
}

struct Simulator {
    models: HashMap<String, Model>,
    fault_every: Option<usize>,
    hang: Duration,
    busy_until: Mutex<HashMap<String, Vec<Instant>>>,
    stats: Arc<Stats>,
}

impl Respond for Simulator {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let model_name = body["model"].as_str().unwrap_or_default().to_string();
        let user = body["messages"][1]["content"].as_str().unwrap_or_default();
        let file = prompt_file(user);
        *self
            .stats
            .per_job
            .lock()
            .unwrap()
            .entry((model_name.clone(), file.clone()))
            .or_default() += 1;
        let Some(model) = self.models.get(&model_name).copied() else {
            return ResponseTemplate::new(404).set_body_json(openai_error(
                "no such model",
                "invalid_request_error",
                Some("model"),
                Some("model_not_found"),
            ));
        };
        if let Some(every) = self.fault_every {
            if n.is_multiple_of(every) {
                self.stats.faults.fetch_add(1, Ordering::SeqCst);
                return match (n / every) % 4 {
                    0 => ResponseTemplate::new(429)
                        .insert_header("retry-after-ms", "20")
                        .set_body_json(openai_error(
                            "Rate limit reached",
                            "requests",
                            None,
                            Some("rate_limit_exceeded"),
                        )),
                    1 => ResponseTemplate::new(500).set_body_json(openai_error(
                        "The server had an error",
                        "server_error",
                        None,
                        None,
                    )),
                    2 => answer(&file, &model_name).set_delay(self.hang),
                    _ => ResponseTemplate::new(200).set_body_string("<html>502 Bad Gateway</html>"),
                };
            }
        }
        let now = Instant::now();
        let mut busy = self.busy_until.lock().unwrap();
        let slots = busy.entry(model_name.clone()).or_default();
        slots.retain(|end| *end > now);
        if slots.len() >= model.cap {
            self.stats.over_cap.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(429)
                .insert_header("retry-after-ms", OVER_CAP_RETRY_AFTER_MS)
                .set_body_json(openai_error(
                    "Too many concurrent requests",
                    "requests",
                    None,
                    Some("rate_limit_exceeded"),
                ));
        }
        slots.push(now + model.latency);
        answer(&file, &model_name).set_delay(model.latency)
    }
}

/// A successful answer from `model` with one finding about `file`.
fn answer(file: &str, model: &str) -> ResponseTemplate {
    let findings = json!({"findings": [{"file": file, "start_line": 3, "end_line": 4, "severity": "high",
        "category": "injection", "cwe": 89, "title": "SQL built from input",
        "description": "The query string concatenates a request parameter.", "suggestion": null, "confidence": 0.8}]});
    ResponseTemplate::new(200).set_body_json(chat_completion(
        &findings.to_string(),
        json!({}),
        Some(model),
        (500, 60),
    ))
}

/// Starts the simulator on 127.0.0.1.
pub async fn start(models: &[(&str, Model)], fault_every: Option<usize>, hang: Duration) -> (MockServer, Arc<Stats>) {
    let server = MockServer::start().await;
    let stats = Arc::new(Stats::default());
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Simulator {
            models: models.iter().map(|(n, m)| (n.to_string(), *m)).collect(),
            fault_every,
            hang,
            busy_until: Mutex::new(HashMap::new()),
            stats: stats.clone(),
        })
        .mount(&server)
        .await;
    (server, stats)
}
