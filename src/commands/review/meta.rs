//! The description a review writes into `run.json` as it starts.

use std::path::Path;

use crate::commands::Shard;
use crate::engine::Reviewer;
use crate::input::walk::{self, SourceFile};
use crate::store::{self, FileMeta, ProviderMeta, RunMeta, RUN_ID_LEN, RUN_SCHEMA_VERSION};

pub(super) fn run_meta(
    root: &Path,
    reviewers: &[Reviewer],
    walked: &walk::Walked,
    config_path: &Path,
    shard: Option<Shard>,
) -> RunMeta {
    let started_at = store::now_rfc3339();
    let files: Vec<FileMeta> = walked.files.iter().map(file_meta).collect();
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let id_source = format!(
        "{started_at}{}{:?}",
        root.display(),
        files.first().map(|f| &f.content_hash)
    );
    RunMeta {
        schema_version: RUN_SCHEMA_VERSION,
        run_id: crate::hash::sha256_hex(id_source.as_bytes())[..RUN_ID_LEN].to_string(),
        root: root.display().to_string(),
        started_at,
        finished_at: None,
        providers: reviewers
            .iter()
            .map(|r| (&r.config, r.context_tokens))
            .map(|(p, context_tokens)| ProviderMeta {
                context_tokens,
                name: p.name.clone(),
                kind: p.kind.as_str().to_string(),
                model: p.model.clone(),
                family: p.family.clone(),
                base_url: p.base_url.clone(),
                price_input_per_mtok: p.price_input_per_mtok,
                price_output_per_mtok: p.price_output_per_mtok,
            })
            .collect(),
        files,
        skipped: walked.skipped.clone(),
        config: Some(
            config_path
                .canonicalize()
                .unwrap_or_else(|_| config_path.to_path_buf())
                .display()
                .to_string(),
        ),
        shard: shard.map(|s| s.label()),
        stopped_early: None,
        checks: Vec::new(),
        since: None,
        selection: Vec::new(),
        judge: None,
        seal: None,
    }
}

fn file_meta(f: &SourceFile) -> FileMeta {
    FileMeta {
        path: f.path.clone(),
        lines: f.line_count(),
        content_hash: f.content_hash.clone(),
        changed: f.changed.clone(),
    }
}

/// Makes `meta` the description of the run it resumes: same id and start, and the
/// providers of the first run that this resume leaves out keep their answers. Together
/// they may not be more than a configuration may have (the run could not be read again).
pub(super) fn continue_run(meta: &mut RunMeta, previous: &RunMeta) -> anyhow::Result<()> {
    meta.run_id = previous.run_id.clone();
    meta.started_at = previous.started_at.clone();
    for p in &previous.providers {
        if !meta.providers.iter().any(|q| q.name == p.name) {
            meta.providers.push(p.clone());
        }
    }
    if meta.providers.len() > crate::config::MAX_PROVIDERS {
        anyhow::bail!(
            "with the providers of the run it resumes, this run would have {} providers, more than a \
             configuration may have ({}): resume with the run's own providers, or review into a new --out",
            meta.providers.len(),
            crate::config::MAX_PROVIDERS
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run description with providers `names`.
    fn with_providers(names: impl Iterator<Item = String>) -> RunMeta {
        let providers: Vec<serde_json::Value> = names
            .map(|name| serde_json::json!({"name": name, "kind": "openai", "model": "m", "family": "f"}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema_version": 1, "run_id": "r", "root": ".", "started_at": "2026-01-01T00:00:00Z",
            "providers": providers, "files": [], "skipped": []
        }))
        .unwrap()
    }

    #[test]
    fn a_resume_keeps_the_earlier_providers_up_to_what_a_configuration_may_have() {
        let previous = with_providers((0..40).map(|n| format!("a{n}")));
        let mut some = with_providers((0..24).map(|n| format!("b{n}")));
        continue_run(&mut some, &previous).unwrap();
        assert_eq!(some.providers.len(), crate::config::MAX_PROVIDERS);
        let mut more = with_providers((0..25).map(|n| format!("b{n}")));
        let e = continue_run(&mut more, &previous).unwrap_err().to_string();
        assert!(e.contains("this run would have 65 providers"), "{e}");
    }
}
