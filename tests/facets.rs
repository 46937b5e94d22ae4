//! A review fills each finding's enclosing function from the code itself, so one model's
//! two findings about one problem (the same function, the same CWE family, a few lines
//! apart, in other words) become one issue, while the same model's finding in another
//! function stays apart.

mod support;

use serde_json::json;
use support::chat::chat_completion;
use support::fixture::{self, openai_provider};
use support::server::chat_server;
use wiremock::ResponseTemplate;

const APP_GO: &str = "package app\n\nfunc search(w http.ResponseWriter, r *http.Request) {\n\tterm := r.URL.Query().Get(\"q\")\n\tquery := \"SELECT * FROM notes WHERE title LIKE '%\" + term + \"%'\"\n\tif r.URL.Query().Get(\"sort\") != \"\" {\n\t\tquery += \" ORDER BY \" + r.URL.Query().Get(\"sort\")\n\t}\n\trows, _ := db.Query(query)\n\tdefer rows.Close()\n}\n\nfunc archive(id string) {\n\tdb.Exec(\"DELETE FROM notes WHERE id = \" + id)\n}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_models_facets_in_one_function_join_and_another_function_stays_apart() {
    let findings = json!({"findings": [
        {"file": "app.go", "start_line": 5, "end_line": 5, "severity": "high", "category": "injection",
         "cwe": 89, "title": "Search term concatenated into SQL", "description": "term is pasted into the LIKE clause."},
        {"file": "app.go", "start_line": 7, "end_line": 7, "severity": "high", "category": "injection",
         "cwe": 89, "title": "Sort parameter appended to ORDER BY", "description": "sort reaches the query text unchecked."},
        {"file": "app.go", "start_line": 14, "end_line": 14, "severity": "high", "category": "injection",
         "cwe": 89, "title": "Identifier concatenated into DELETE", "description": "id is glued into the statement."}
    ]})
    .to_string();
    let (server, _seen) = chat_server(move |ask| {
        ResponseTemplate::new(200).set_body_json(chat_completion(&findings, json!({}), Some(&ask.model), (100, 10)))
    })
    .await;
    let url = format!("{}/v1", server.uri());
    let config = openai_provider("alpha", &url, "alpha", "context_tokens = 32000");
    let dir = fixture::project(&[("repo/app.go", APP_GO)], &config);
    support::ok(&support::review_repo(dir.path(), &[]).await);
    let report = fixture::report(&dir.path().join("out"));
    let mut members: Vec<Vec<u64>> = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let lines = i["findings"].as_array().unwrap().iter();
            lines.map(|f| f["start_line"].as_u64().unwrap()).collect()
        })
        .collect();
    members.sort();
    assert_eq!(members, [vec![5, 7], vec![14]], "{report:#}");
}
