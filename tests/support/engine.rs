//! The engine without the binary, for the fault-injection test and the engine benchmark:
//! Go files to review and reviewers on a loopback server.

use std::path::Path;

use quorum::config::Config;
use quorum::engine::cache::Cache;
use quorum::engine::progress::Silent;
use quorum::engine::{self, Reviewer};
use quorum::input::walk::SourceFile;
use quorum::store::StoreWriter;

/// `n` small Go files, each with one SQL injection, at the paths `path(i)` gives.
pub fn go_files(n: usize, path: impl Fn(usize) -> String) -> Vec<SourceFile> {
    (0..n)
        .map(|i| {
            let text = format!("package p\n\nfunc F{i}(db *sql.DB, x string) {{\n\tdb.Query(\"SELECT \" + x)\n}}\n");
            SourceFile::new(path(i), text)
        })
        .collect()
}

/// One reviewer per (model, concurrency cap) of `specs`, OpenAI-compatible at
/// `server/v1`, each table ending with the lines `extra`.
pub fn reviewers(server: &str, specs: &[(&str, usize)], extra: &str) -> Vec<Reviewer> {
    let toml: String = specs
        .iter()
        .map(|(model, cap)| {
            format!(
                "[providers.{model}]\nkind = \"openai\"\nbase_url = \"{server}/v1\"\nmodel = \"{model}\"\n\
                 max_concurrency = {cap}\n{extra}\n"
            )
        })
        .collect();
    let path = Path::new("quorum.toml");
    let config = Config::parse(path, &toml).unwrap();
    config
        .providers
        .iter()
        .map(|p| Reviewer {
            config: p.clone(),
            provider: quorum::engine::backend::build(p, path).unwrap(),
            context_tokens: None,
            related: None,
        })
        .collect()
}

/// Asks every job of `files` × `reviewers` to its end, silently, storing the answers in
/// the folder `out` (and the cache, if one is given).
pub async fn run_silently(
    files: &[SourceFile],
    reviewers: &[Reviewer],
    out: &Path,
    cache: Option<&mut Cache>,
    options: &engine::Options,
) -> engine::Summary {
    let mut store = StoreWriter::open(out).unwrap();
    let jobs = engine::plan(files, reviewers);
    let (_tx, stop) = tokio::sync::watch::channel(false);
    engine::run(engine::RunInputs {
        files,
        reviewers,
        jobs,
        store: &mut store,
        cache,
        prior: &Default::default(),
        options,
        stop,
        progress: &mut Silent,
    })
    .await
    .unwrap()
}
