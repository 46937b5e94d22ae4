//! Related code on the cross-file traps (examples/cross-file-traps, TRAPS.md): the
//! index built over the project as a review walks it returns, for each trap's region,
//! the code in another file that makes it safe, within 2000 tokens; and the control
//! (the same code with nothing making it safe) gets no such code.

mod support;

use quorum::config::ReviewSettings;
use quorum::input::walk;
use quorum::related::{CodeExcerpt, Index, Region, RelatedCode};

/// The token budget the README's measurement uses (and `related_tokens`' default).
const BUDGET: u64 = 2000;

/// A trap: the function that looks vulnerable, and what in another file makes it safe.
struct Trap {
    id: &'static str,
    file: &'static str,
    /// A line that starts the function reviewed.
    function: &'static str,
    /// The file and a line of the code that makes it safe.
    safe_file: &'static str,
    safe_line: &'static str,
}

const TRAPS: [Trap; 3] = [
    Trap {
        id: "T1",
        file: "server/reports.go",
        function: "func exportReport(",
        safe_file: "server/middleware.go",
        safe_line: "if !reportFormat.MatchString(r.URL.Query().Get(\"format\")) {",
    },
    Trap {
        id: "T2",
        file: "app/repo.py",
        function: "def list_items(",
        safe_file: "app/columns.py",
        safe_line: "if requested in SORTABLE:",
    },
    Trap {
        id: "T3",
        file: "web/files.js",
        function: "function sendUpload(",
        safe_file: "web/sanitize.js",
        safe_line: "const base = path.basename(String(name));",
    },
];

fn index() -> (Vec<walk::SourceFile>, Index) {
    let root = support::fixture::repo_root().join("examples/cross-file-traps");
    let mut walked = walk::walk(&root, &ReviewSettings::default(), &[]).unwrap();
    // The code only: TRAPS.md tells the answers.
    walked.files.retain(|f| !f.path.ends_with(".md"));
    assert_eq!(walked.files.len(), 9);
    let index = Index::build(&walked.files);
    (walked.files, index)
}

/// The lines of the function starting with `start` in `file`: to the first line that
/// closes it (`}` or a blank line before the next top-level one).
fn function_region<'a>(files: &'a [walk::SourceFile], path: &'a str, start: &str) -> Region<'a> {
    let file = files.iter().find(|f| f.path == path).unwrap();
    let lines: Vec<&str> = file.text.lines().collect();
    let first = lines.iter().position(|l| l.starts_with(start)).unwrap();
    let last = (first + 1..lines.len())
        .find(|&i| lines[i] == "}" || lines.get(i + 1).is_none_or(|n| n.is_empty()))
        .unwrap();
    Region {
        path,
        start_line: first as u32 + 1,
        end_line: last as u32 + 1,
    }
}

/// The 1-based rank of the first excerpt holding `line` of `file`.
fn rank_of(excerpts: &[CodeExcerpt], file: &str, line: &str) -> Option<usize> {
    excerpts
        .iter()
        .position(|e| e.path == file && e.text.lines().any(|l| l.trim() == line.trim()))
        .map(|i| i + 1)
}

#[test]
fn each_trap_gets_the_code_that_makes_it_safe_within_the_budget() {
    let (files, index) = index();
    for trap in &TRAPS {
        let region = function_region(&files, trap.file, trap.function);
        let excerpts = index.related(region, BUDGET);
        let spent: u64 = excerpts.iter().map(quorum::related::excerpt_tokens).sum();
        assert!(spent <= BUDGET, "{}: {spent} tokens", trap.id);
        let rank = rank_of(&excerpts, trap.safe_file, trap.safe_line);
        let listing: Vec<String> = excerpts
            .iter()
            .map(|e| format!("{}:{}-{} {}", e.path, e.start_line, e.end_line, e.why))
            .collect();
        // The measurement the README reports (`cargo test --test related -- --nocapture`).
        println!(
            "{}: safe-making code at rank {rank:?} of {}: {listing:#?}",
            trap.id,
            excerpts.len()
        );
        assert!(rank.is_some(), "{}: not found in {listing:#?}", trap.id);
        for e in &excerpts {
            assert!(e.start_line >= 1 && e.start_line <= e.end_line, "{e:?}");
            let outside = e.path != trap.file || e.end_line < region.start_line || e.start_line > region.end_line;
            assert!(outside, "{}: an excerpt repeats the region: {e:?}", trap.id);
        }
    }
}

#[test]
fn the_control_route_without_the_middleware_gets_no_validation() {
    let (files, index) = index();
    let region = function_region(&files, "server/reports.go", "func previewReport(");
    let excerpts = index.related(region, BUDGET);
    assert!(
        excerpts
            .iter()
            .any(|e| e.path == "server/router.go" && e.why == "use of `previewReport`"),
        "{excerpts:#?}"
    );
    assert_eq!(
        rank_of(&excerpts, "server/middleware.go", TRAPS[0].safe_line),
        None,
        "{excerpts:#?}"
    );
}

#[test]
fn a_small_budget_keeps_the_nearest_and_nothing_past_it() {
    let (files, index) = index();
    let region = function_region(&files, "server/reports.go", "func exportReport(");
    let all = index.related(region, BUDGET);
    let first_cost = quorum::related::excerpt_tokens(&all[0]);
    let few = index.related(region, first_cost);
    assert_eq!(few, all[..1].to_vec());
    assert!(index.related(region, 0).is_empty());
    // Shared behind an Arc (as reviewers and the judge hold it), it answers the same.
    let shared: std::sync::Arc<dyn RelatedCode + Send + Sync> = std::sync::Arc::new(index);
    assert_eq!(shared.related(region, BUDGET), all);
    let index = &shared;
    let unknown = Region {
        path: "nowhere.go",
        start_line: 1,
        end_line: 3,
    };
    assert!(index.related(unknown, BUDGET).is_empty());
}

/// The traps project with two providers on `base`: `plain` sees each file alone,
/// `wide` gets related code.
fn traps_project(base: &str) -> tempfile::TempDir {
    let config = support::fixture::openai_provider("plain", base, "plain-model", "")
        + &support::fixture::openai_provider(
            "wide",
            base,
            "wide-model",
            "context = \"related\"\nrelated_tokens = 2000",
        );
    let dir = support::fixture::project(&[], &config);
    // The code only: TRAPS.md tells the answers.
    for folder in ["server", "app", "web"] {
        support::fixture::copy_tree(
            &support::fixture::repo_root()
                .join("examples/cross-file-traps")
                .join(folder),
            &dir.path().join("traps").join(folder),
        );
    }
    dir
}

/// The user prompts `model` was sent about `file`.
fn prompts_about(seen: &support::server::Seen, model: &str, file: &str) -> Vec<String> {
    seen.chats()
        .into_iter()
        .filter(|c| c.model == model && c.file == file)
        .map(|c| c.user)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_with_context_related_sees_the_middleware_and_its_cache_key_covers_it() {
    use support::chat::{reply, NO_FINDINGS};
    let (server, seen) = support::server::chat_server(|_| reply(NO_FINDINGS, (100, 10))).await;
    let dir = traps_project(&format!("{}/v1", server.uri()));
    support::ok(&support::quorum_async(dir.path(), &["trust", "quorum.toml"], &[]).await);
    let out = support::quorum_async(dir.path(), &["review", "traps"], &[]).await;
    let stderr = support::ok(&out);
    assert!(
        stderr.contains("related code: indexed 9 files (9 with a grammar, the rest lexically) in "),
        "{stderr}"
    );
    let wide = prompts_about(&seen, "wide-model", "server/reports.go");
    assert_eq!(wide.len(), 1);
    let related = &wide[0][wide[0].find("-----BEGIN RELATED CODE").expect("a related section")..];
    assert!(
        related.contains("server/router.go lines 6-10 (use of `exportReport`):"),
        "{related}"
    );
    assert!(related.contains("13| \t\tif !reportFormat.MatchString("), "{related}");
    assert!(wide[0].find("-----END CODE").unwrap() < wide[0].find("-----BEGIN RELATED").unwrap());
    let plain = prompts_about(&seen, "plain-model", "server/reports.go");
    assert_eq!(plain.len(), 1);
    assert!(!plain[0].contains("RELATED"), "context defaults to none: {}", plain[0]);

    // The middleware's body changes: the prompt `wide` gets for reports.go changes with it, so
    // its cached answer is not reused; `plain`'s prompt for reports.go is the same.
    let middleware = dir.path().join("traps/server/middleware.go");
    let text = std::fs::read_to_string(&middleware).unwrap();
    std::fs::write(&middleware, text.replace("unknown format", "unsupported format")).unwrap();
    support::ok(&support::quorum_async(dir.path(), &["review", "traps", "--out", "again"], &[]).await);
    assert_eq!(prompts_about(&seen, "wide-model", "server/reports.go").len(), 2);
    assert_eq!(prompts_about(&seen, "plain-model", "server/reports.go").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_code_is_redacted_for_a_redacting_provider() {
    use support::chat::{reply, NO_FINDINGS};
    let (server, seen) = support::server::chat_server(|_| reply(NO_FINDINGS, (100, 10))).await;
    let base = format!("{}/v1", server.uri());
    let config = support::fixture::openai_provider(
        "wide",
        &base,
        "wide-model",
        "context = \"related\"\nredact = \"always\"",
    );
    let files = [
        ("handler.py", "def handle(req):\n    return sign(req.body)\n"),
        (
            "keys.py",
            "def sign(body):\n    aws_key = \"AKIAABCDEFGHIJKLMNOP\"\n    return hmac(aws_key, body)\n",
        ),
    ];
    let dir = support::fixture::project(&files, &config);
    support::ok(&support::quorum_async(dir.path(), &["trust", "quorum.toml"], &[]).await);
    support::ok(&support::quorum_async(dir.path(), &["review", ".", "--no-cache"], &[]).await);
    let prompt = &prompts_about(&seen, "wide-model", "handler.py")[0];
    assert!(prompt.contains("keys.py lines 1-3 (definition of `sign`):"), "{prompt}");
    assert!(
        prompt.contains("2|     aws_key = \"«redacted:aws-access-key»\""),
        "{prompt}"
    );
    assert!(!prompt.contains("AKIAABCDEFGHIJKLMNOP"), "{prompt}");
}

#[test]
fn the_same_file_comes_first_then_direct_uses_then_what_is_used_beside_them() {
    let (files, index) = index();
    let region = function_region(&files, "app/repo.py", "def list_items(");
    let order: Vec<(String, String)> = index
        .related(region, BUDGET)
        .into_iter()
        .map(|e| (e.path, e.why))
        .collect();
    let expected = [
        (
            "app/repo.py",
            "definition of `connect`, used where `list_items` is used",
        ),
        ("app/views.py", "call of `list_items`"),
        (
            "app/columns.py",
            "definition of `sort_column`, used where `list_items` is used",
        ),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(p, w)| (p.to_string(), w.to_string())).collect();
    assert_eq!(order, expected);
}

/// A private key in a string whose last body line sits just above a function another
/// file calls (the layout of the review that found the leak): an excerpt of that
/// function starts inside the key's body.
const KEYS_PY: &str = "KEY = \"\"\"-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAx8Qp3pZ9G1sN0vYb2cXkq7Jd4mR1tU8wLz6yHhP0aQeVfTg\n\
Q2lW9bYx3nK8dF5rT1uP7cJ0sM4vH6gE2yA9iL3oN5qR8wZ1xC4bV7mK0jD6fS\n\
Zm9yZ2V0IGl0IHRoaXMgaXMgbm90IGEgcmVhbCBrZXkgYnV0IGxvb2tzIGxpa2U\n\
LASTBODYLINEsecretmaterialQ2lW9bYx3nK8dF5rT1uP7cJ0sM4vH6gE2yA9iL3\n\
-----END RSA PRIVATE KEY-----\"\"\"\n\
def load_signing_key():\n    return KEY\n";
const MAIN_PY: &str =
    "from keys import load_signing_key\n\ndef sign(msg):\n    k = load_signing_key()\n    return hmac(k, msg)\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_body_above_a_related_function_reaches_no_redacting_prompt_nor_judge() {
    use serde_json::json;
    use support::chat::{chat_completion, is_judge_question, verdict};
    let finding = json!({"findings": [
        {"file": "main.py", "start_line": 4, "end_line": 4, "severity": "high", "category": "secrets",
         "cwe": 798, "title": "Signing key from source", "description": "The key is in the code.",
         "confidence": 0.9}
    ]})
    .to_string();
    let (server, seen) = support::server::chat_server(move |ask| {
        let content = match is_judge_question(&ask.user) {
            true => verdict("confirmed", "the key is in keys.py"),
            false if ask.file == "main.py" => finding.clone(),
            false => support::chat::NO_FINDINGS.to_string(),
        };
        wiremock::ResponseTemplate::new(200).set_body_json(chat_completion(
            &content,
            json!({}),
            Some(&ask.model),
            (100, 10),
        ))
    })
    .await;
    let base = format!("{}/v1", server.uri());
    let mut config: String =
        support::fixture::providers(&["alpha", "beta"], &base, "context = \"related\"\nredact = \"always\"");
    config += &support::fixture::openai_provider("judge", &base, "judge", "review = false\nredact = \"always\"");
    config += "[judge]\nprovider = \"judge\"\ntop = 5\n";
    let dir = support::fixture::project(&[("keys.py", KEYS_PY), ("main.py", MAIN_PY)], &config);
    support::ok(&support::quorum_async(dir.path(), &["trust", "quorum.toml"], &[]).await);
    support::ok(&support::quorum_async(dir.path(), &["review", ".", "--no-cache"], &[]).await);
    let main = prompts_about(&seen, "alpha", "main.py");
    assert_eq!(main.len(), 1);
    assert!(main[0].contains("keys.py lines "), "related code is sent: {}", main[0]);
    assert!(main[0].contains("def load_signing_key():"), "{}", main[0]);
    let judged: Vec<String> = seen
        .chats()
        .into_iter()
        .filter(|c| c.model == "judge")
        .map(|c| c.user)
        .collect();
    assert_eq!(judged.len(), 1, "the judge is asked about the issue in main.py");
    assert!(judged[0].contains("def load_signing_key():"), "{}", judged[0]);
    for prompt in seen.prompts() {
        assert!(!prompt.contains("LASTBODYLINE"), "{prompt}");
        assert!(!prompt.contains("Zm9yZ2V0IGl0"), "{prompt}");
    }
}

/// The window of the review that overflowed: 4096 tokens, 1024 of them for the answer,
/// and related code asked for far past what is left.
const SMALL_WINDOW: &str =
    "context = \"related\"\ncontext_tokens = 4096\nmax_output_tokens = 1024\nrelated_tokens = 8000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_code_too_large_for_the_window_is_capped_so_every_request_fits_and_says_so() {
    use support::chat::{reply, NO_FINDINGS};
    let (server, seen) = support::server::chat_server(|_| reply(NO_FINDINGS, (100, 10))).await;
    let base = format!("{}/v1", server.uri());
    let config = support::fixture::openai_provider("loc", &base, "m", SMALL_WINDOW);
    // main.py calls helpers of 60 lines each, defined in three other files: far more
    // related code than the window holds.
    let main: String = std::iter::once("def main(req):\n".to_string())
        .chain((0..30).map(|i| format!("    helper_{i}(req)\n")))
        .collect();
    let lib = |part: usize| -> String {
        (0..10)
            .map(|h| {
                let body: String = (0..60)
                    .map(|x| format!("    x{x} = compute_value_{x}(arg)\n"))
                    .collect();
                format!("def helper_{}(arg):\n{body}    return arg\n\n", part * 10 + h)
            })
            .collect()
    };
    let (a, b, c) = (lib(0), lib(1), lib(2));
    let files = [
        ("main.py", main.as_str()),
        ("a/lib.py", &a),
        ("b/lib.py", &b),
        ("c/lib.py", &c),
    ];
    let dir = support::fixture::project(&files, &config);
    support::ok(&support::quorum_async(dir.path(), &["trust", "quorum.toml"], &[]).await);
    let out = support::quorum_async(dir.path(), &["review", ".", "--no-cache"], &[]).await;
    let stderr = support::ok(&out);
    let notice =
        "loc: related_tokens = 8000 does not fit a context window of 4096 tokens with max_output_tokens = 1024; \
                  related code gets at most ";
    assert!(stderr.contains(notice), "{stderr}");
    assert!(stderr.contains("set related_tokens = "), "{stderr}");
    let prompts = prompts_about(&seen, "m", "main.py");
    assert!(!prompts.is_empty());
    assert!(
        prompts.iter().any(|p| p.contains("-----BEGIN RELATED CODE")),
        "related code is still sent"
    );
    // Tokens as Quorum estimates them (3.5 characters each): every request fits.
    let tokens = |text: &str| (text.chars().count() as f64 / 3.5).ceil() as u64;
    let system = tokens(&quorum::input::prompt::system_prompt());
    for p in &prompts {
        assert!(
            system + tokens(p) + 1024 <= 4096,
            "{} tokens: {p}",
            system + tokens(p) + 1024
        );
    }
}
