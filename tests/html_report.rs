//! `report.html` and `report.md` through the real binary against a loopback model server:
//! hostile model text and file names come out escaped (backticked code as code, and
//! nothing that could run, link or break a table); an issue quotes the code around its
//! lines, and `aggregate` says when the file changed since the review instead of quoting
//! other code; a provider failing on some files puts a banner with counts over the page,
//! and the errors heading carries their count; a run with nothing to report says so, and
//! says what was left out.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::json;
use support::chat::{chat_completion, openai_error, NO_FINDINGS};
use support::fixture;
use support::server::chat_server;
use support::{ok, stderr};
use wiremock::{MockServer, ResponseTemplate};

/// A file name no browser should read as markup.
const HOSTILE_FILE: &str = "x<img src=y onerror=alert(4)>.go";
const TITLE: &str = "</script><img src=x onerror=alert(1)> | `x|y`";
const DESCRIPTION: &str = "Call `<img src=x onerror=alert(2)>` | or [click](javascript:alert(3)) <b>now</b>";
const FIX: &str = "Use `a | b` and `</script><script>alert(5)</script>`";
const CODE: &str = "package p\n\nfunc f(a, b int) bool { return a < b && b > 0 }\n\nfunc g() {}\n";

/// `alpha` reports the hostile finding on line 3 of every file but `quiet.go`; `beta`
/// gets a 400 on `flaky.go` when `flaky`, and finds nothing.
async fn models(flaky: bool) -> MockServer {
    let (server, _seen) = chat_server(move |ask| {
        if flaky && ask.model == "beta" && ask.file.ends_with("flaky.go") {
            let error = openai_error("unsupported parameter", "invalid_request_error", None, None);
            return ResponseTemplate::new(400).set_body_json(error);
        }
        let content = match ask.model == "alpha" && !ask.file.ends_with("quiet.go") {
            true => json!({"findings": [{"file": ask.file, "start_line": 3, "end_line": 3, "severity": "high",
                "category": "injection", "cwe": 89, "title": TITLE, "description": DESCRIPTION,
                "suggestion": FIX, "confidence": 0.9}]})
            .to_string(),
            false => NO_FINDINGS.to_string(),
        };
        ResponseTemplate::new(200).set_body_json(chat_completion(&content, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    server
}

/// `files` under `repo/`, and `alpha` and `beta` on `server`.
fn project(server: &MockServer, files: &[(&str, &str)]) -> tempfile::TempDir {
    let providers = fixture::providers(
        &["alpha", "beta"],
        &format!("{}/v1", server.uri()),
        "context_tokens = 32000",
    );
    let files: Vec<(String, &str)> = files.iter().map(|(p, t)| (format!("repo/{p}"), *t)).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    fixture::project(&files, &providers)
}

async fn run(dir: &Path, args: &[&str]) -> Output {
    support::quorum_async(dir, args, &[]).await
}

async fn review(dir: &Path) -> Output {
    let args = [
        "review",
        "repo",
        "--out",
        "out",
        "--no-cache",
        "--quiet",
        "--format",
        "md,json,html",
    ];
    run(dir, &args).await
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("out").join(name)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_model_text_and_file_names_are_escaped_and_code_spans_render_as_code() {
    let server = models(true).await;
    let dir = project(&server, &[(HOSTILE_FILE, CODE), ("flaky.go", CODE)]);
    let out = review(dir.path()).await;
    assert_eq!(out.status.code(), Some(4), "beta failed on a file: {}", stderr(&out));
    let html = read(dir.path(), "report.html");

    // Nothing a model or a file name wrote becomes markup.
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>now"), "{html}");
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the page's own scripts: {html}"
    );
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        html.contains("<code>x&lt;img src=y onerror=alert(4)&gt;.go:3</code>"),
        "{html}"
    );
    // Backticked code is code, escaped; the rest stays text.
    assert!(html.contains(
        "Call <code>&lt;img src=x onerror=alert(2)&gt;</code> | or [click](javascript:alert(3)) &lt;b&gt;now&lt;/b&gt;"
    ));
    assert!(
        html.contains("<code>&lt;/script&gt;&lt;script&gt;alert(5)&lt;/script&gt;</code>"),
        "{html}"
    );
    // The script's data carries the file name with nothing that could end its element.
    let data = html
        .split("id=\"quorum-data\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    assert!(data.contains("x\\u003cimg src=y onerror=alert(4)\\u003e.go"), "{data}");
    let parsed: serde_json::Value = serde_json::from_str(data).unwrap();
    let files: Vec<&str> = parsed["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&HOSTILE_FILE), "{files:?}");
    // The code around the line, escaped, its line marked.
    assert!(html.contains(
        "<span class=\"line hit\"><span class=\"ln\">3</span>func f(a, b int) bool { return a &lt; b &amp;&amp; b &gt; 0 }</span>"
    ), "{html}");

    let md = read(dir.path(), "report.md");
    // Markup and links stay only inside code spans, where Markdown shows them as text.
    for line in md.lines() {
        let text: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for (at, c) in text.char_indices().filter(|(_, c)| matches!(c, '<' | '[')) {
            assert!(text[..at].ends_with('\\'), "unescaped {c} outside code in {line}");
        }
    }
    assert!(
        !md.contains("[click](") && md.contains("\\[click\\](javascript:alert(3))"),
        "{md}"
    );
    assert!(
        md.contains("\\</script\\>\\<img src=x onerror=alert(1)\\> \\| `x\\|y` (CWE-89)"),
        "{md}"
    );
    assert!(
        md.contains("Call `<img src=x onerror=alert(2)>` \\| or"),
        "code span kept as code: {md}"
    );
    assert!(
        md.contains("Fix: Use `a | b` and `</script><script>alert(5)</script>`"),
        "{md}"
    );
    for row in md.lines().filter(|l| l.starts_with("| 1 |")) {
        // The title cell cannot add cells to the summary table.
        assert_eq!(row.matches(" | ").count(), 6, "{row}");
    }
    assert!(md.contains("\\<b\\>now"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_puts_a_banner_with_counts_over_the_page() {
    let server = models(true).await;
    let dir = project(&server, &[("app.go", CODE), ("flaky.go", CODE), ("quiet.go", CODE)]);
    assert_eq!(review(dir.path()).await.status.code(), Some(4));
    let html = read(dir.path(), "report.html");
    assert!(
        html.contains("<div class=\"banner\" role=\"alert\"><p><b>This report is incomplete.</b>"),
        "{html}"
    );
    assert!(
        html.contains("<b>beta</b> did not review 1 of 3 files: 1 failed request."),
        "{html}"
    );
    assert!(!html.contains("<b>alpha</b> did not review"), "{html}");
    assert!(html.contains("<h2 id=\"errors\">Errors (1)</h2>"), "{html}");

    let server = models(false).await;
    let dir = project(&server, &[("app.go", CODE)]);
    ok(&review(dir.path()).await);
    let html = read(dir.path(), "report.html");
    assert!(
        !html.contains("class=\"banner\"") && !html.contains("id=\"errors\""),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_quotes_only_code_unchanged_since_the_review() {
    let server = models(false).await;
    let dir = project(&server, &[("a.go", CODE), ("b.go", CODE)]);
    ok(&review(dir.path()).await);
    std::fs::write(dir.path().join("repo/b.go"), CODE.replace("a < b", "a <= b")).unwrap();
    ok(&run(dir.path(), &["aggregate", "out", "--format", "html", "--quiet"]).await);
    let html = read(dir.path(), "report.html");
    let section = |file: &str| {
        let at = html
            .find(&format!("<code>{file}:3</code> · CWE-89"))
            .expect("the issue's section");
        html[at..].split("</section>").next().unwrap().to_string()
    };
    assert!(
        section("a.go").contains("return a &lt; b &amp;&amp; b &gt; 0"),
        "{html}"
    );
    let changed = section("b.go");
    assert!(
        changed.contains("Code not shown: the file changed since the review"),
        "{changed}"
    );
    assert!(
        !changed.contains("a &lt;= b") && !changed.contains("class=\"code\""),
        "{changed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_nothing_to_report_says_so_and_what_was_left_out() {
    let server = models(false).await;
    let dir = project(&server, &[("quiet.go", CODE)]);
    ok(&review(dir.path()).await);
    let html = read(dir.path(), "report.html");
    assert!(
        html.contains("<p class=\"none\"><b>No issues reported.</b></p>"),
        "{html}"
    );
    assert!(!html.contains("<script"), "nothing to filter, no script: {html}");
    assert!(html.contains("script-src 'none'"), "{html}");

    let dir = project(&server, &[("app.go", CODE)]);
    ok(&review(dir.path()).await);
    let id = fixture::report(&dir.path().join("out"))["issues"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&run(dir.path(), &["suppress", &id, "--reason", "checked", "--out", "out"]).await);
    ok(&run(dir.path(), &["aggregate", "out", "--format", "html", "--quiet"]).await);
    let html = read(dir.path(), "report.html");
    assert!(
        html.contains("<b>No issues reported</b>: 1 suppressed left out (listed below)."),
        "{html}"
    );
}

/// A file name with a bidi override and a C1 control (CSI): raw, a terminal would act on
/// them.
const BIDI_FILE: &str = "a\u{202E}og.b\u{9B}31m.go";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_printed_to_a_terminal_carry_no_raw_bidi_or_control_characters() {
    let server = models(false).await;
    let dir = project(&server, &[(BIDI_FILE, CODE)]);
    ok(&review(dir.path()).await);
    // report.json keeps the exact data.
    assert!(read(dir.path(), "report.json").contains(BIDI_FILE));

    // The page's data block escapes them, whatever stdout is.
    let html_args = ["aggregate", "out", "--format", "html", "--out", "-", "--quiet"];
    let html = support::stdout(&run(dir.path(), &html_args).await);
    assert!(!html.contains('\u{202E}') && !html.contains('\u{9B}'), "{html}");
    assert!(html.contains("a\\u202eog.b\\u009b31m.go"), "{html}");

    // JSON on a terminal: the same value, with the characters as `\u` escapes.
    let args = ["aggregate", "out", "--format", "json", "--out", "-", "--quiet"];
    let Some(shown) = support::quorum_in_terminal(dir.path(), &args, &[], 200) else {
        println!("skipped the terminal check: no `script` (util-linux) to make a terminal");
        return;
    };
    assert!(!shown.contains('\u{202E}') && !shown.contains('\u{9B}'), "{shown}");
    assert!(shown.contains("a\\u202eog.b\\u009b31m.go"), "{shown}");
    let value: serde_json::Value = serde_json::from_str(&shown).expect("still one JSON document");
    assert_eq!(value["issues"][0]["file"], BIDI_FILE);
    // Piped, the bytes are the file's.
    let piped = support::stdout(&run(dir.path(), &args).await);
    assert!(piped.contains(BIDI_FILE));
}
