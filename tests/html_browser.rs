//! `report.html` in a real browser (headless Chromium, over the DevTools protocol): the
//! demo's report loads with no console error, exception or blocked resource; each filter
//! (minimum agreement, severity, model, file) hides exactly the issues `report.json` says
//! it should, and "Show all" brings every one back; its Content-Security-Policy blocks a
//! script it did not ship. Skips, saying so, where `chromium` is not installed.

mod support;

use serde_json::Value;
use support::browser::{self, Browser};
use support::fixture::{demo_review, load};

/// Counts the summary rows and issue sections a reader can see, and the count shown.
const VISIBLE: &str = "(() => {
  const seen = (sel) => [...document.querySelectorAll(sel)].filter((e) => e.getClientRects().length > 0).length;
  return [seen('#issue-table tbody tr'), seen('section.issue'), document.getElementById('shown').textContent];
})()";

/// Sets the filter `name` to `value` as a reader would, then counts what is visible.
fn filter(browser: &mut Browser, name: &str, value: &str) -> Value {
    let script = format!(
        "(() => {{ const f = document.getElementById('filters'); f.elements[{name:?}].value = {value:?};
           f.elements[{name:?}].dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
    );
    browser.eval(&script);
    browser.eval(VISIBLE)
}

/// What `VISIBLE` returns when `shown` of `total` issues pass.
fn expected(shown: usize, total: usize) -> Value {
    serde_json::json!([shown, shown, format!("{shown} of {total} issues shown")])
}

#[test]
fn the_demo_report_loads_cleanly_and_its_filters_hide_exactly_the_issues_they_should() {
    if browser::chromium().is_none() {
        eprintln!("{}", browser::SKIPPED);
        return;
    }
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--quiet", "--format", "json,html"]));
    let report = load(&out.path().join("report.json"));
    let issues = report["issues"].as_array().unwrap();
    let total = issues.len();
    let count = |keep: &dyn Fn(&Value) -> bool| issues.iter().filter(|i| keep(i)).count();

    let mut browser = Browser::launch().expect("chromium is installed");
    let url = format!("file://{}", out.path().join("report.html").display());
    browser.navigate(&url);
    assert_eq!(browser.errors(), Vec::<String>::new(), "the page loads cleanly");
    assert_eq!(browser.eval("document.getElementById('filters').hidden"), false);
    assert_eq!(browser.eval(VISIBLE), expected(total, total));

    let agreed = count(&|i| i["agreement"]["count"].as_u64().unwrap() >= 3);
    assert!(0 < agreed && agreed < total, "the demo has issues on both sides of 3");
    assert_eq!(filter(&mut browser, "agree", "3"), expected(agreed, total));
    // Filters add up: at least 3 families and critical.
    let critical_agreed = count(&|i| i["agreement"]["count"].as_u64().unwrap() >= 3 && i["severity"] == "critical");
    assert_eq!(filter(&mut browser, "severity", "4"), expected(critical_agreed, total));

    browser.eval("document.getElementById('clear-filters').click()");
    assert_eq!(
        browser.eval(VISIBLE),
        expected(total, total),
        "Show all restores every issue"
    );
    let by_nemotron = count(&|i| {
        i["agreement"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "nemotron")
    });
    assert!(by_nemotron < total);
    assert_eq!(filter(&mut browser, "model", "nemotron"), expected(by_nemotron, total));
    browser.eval("document.getElementById('clear-filters').click()");
    let in_auth = count(&|i| i["file"].as_str().unwrap().contains("internal/auth/"));
    assert!(0 < in_auth && in_auth < total);
    assert_eq!(filter(&mut browser, "file", "internal/auth/"), expected(in_auth, total));
    assert_eq!(filter(&mut browser, "file", "no/such/file"), expected(0, total));
    assert_eq!(browser.eval("document.getElementById('none-shown').hidden"), false);
    browser.eval("document.getElementById('clear-filters').click()");
    assert_eq!(browser.eval(VISIBLE), expected(total, total));
    assert_eq!(browser.errors(), Vec::<String>::new(), "filtering raised no error");

    // A script the page did not ship does not run, and the violation is seen: the check
    // for errors above can fail.
    let ran = browser.eval(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
           document.body.appendChild(s); return window.injected === 1; })()",
    );
    assert_eq!(ran, false, "the Content-Security-Policy blocks an inline script");
    browser.eval("new Promise((done) => setTimeout(done, 200))");
    let errors = browser.errors();
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "the violation is reported: {errors:?}"
    );
}

/// A title no page should run: markup, a script's end, a handler.
const HOSTILE_TITLE: &str = "</script><img src=x onerror=alert(1)><script>alert(2)</script>";

#[test]
fn hostile_model_text_stays_text_in_the_browser() {
    if browser::chromium().is_none() {
        eprintln!("{}", browser::SKIPPED);
        return;
    }
    let out = tempfile::tempdir().unwrap();
    support::ok(&demo_review(out.path(), &["--quiet", "--format", "json"]));
    // One model's answers rewritten: every title and description becomes hostile.
    let responses = out.path().join("responses.jsonl");
    let rewritten: Vec<String> = std::fs::read_to_string(&responses)
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            if record["provider"] == "claude" && record["text"].is_string() {
                let mut answer: Value = serde_json::from_str(record["text"].as_str().unwrap()).unwrap();
                for finding in answer["findings"].as_array_mut().into_iter().flatten() {
                    finding["title"] = Value::from(HOSTILE_TITLE);
                    finding["description"] = Value::from("see `<img src=y onerror=alert(3)>` [x](javascript:alert(4))");
                }
                record["text"] = Value::from(answer.to_string());
            }
            record.to_string()
        })
        .collect();
    std::fs::write(&responses, rewritten.join("\n") + "\n").unwrap();
    let out_arg = out.path().to_str().unwrap();
    let aggregated = support::quorum(
        support::fixture::repo_root(),
        &["aggregate", out_arg, "--format", "json,html", "--quiet"],
        &[],
    );
    support::ok(&aggregated);

    let mut browser = Browser::launch().expect("chromium is installed");
    browser.navigate(&format!("file://{}", out.path().join("report.html").display()));
    assert_eq!(
        browser.errors(),
        Vec::<String>::new(),
        "nothing ran, nothing was blocked"
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('img, a[href^=\"javascript\"]').length"),
        0
    );
    assert_eq!(
        browser.eval("document.scripts.length"),
        2,
        "only the page's own scripts"
    );
    let shown = browser.eval(&format!(
        "[...document.querySelectorAll('section.issue li')].some((li) => li.textContent.includes({HOSTILE_TITLE:?}))"
    ));
    assert_eq!(shown, true, "the hostile title is shown as text");
    let code = browser.eval("[...document.querySelectorAll('section.issue li code')].map((c) => c.textContent)");
    assert!(
        code.as_array()
            .unwrap()
            .iter()
            .any(|c| c == "<img src=y onerror=alert(3)>"),
        "the backticked markup is code, shown as text: {code}"
    );
}
