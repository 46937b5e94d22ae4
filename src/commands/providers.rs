//! `quorum providers list` and `quorum providers check` (the checks themselves are in
//! [`check`](crate::commands::check)).

use std::path::Path;

use anyhow::Result;

use crate::commands::check;
use crate::commands::terminal::table_width;
use crate::config::trust;

/// Finds and reads the configuration (see [`trust::locate`] for where it is looked for).
/// Whether it may be used is decided by the caller, before any request.
pub(crate) fn load_config(search: &trust::Search) -> Result<trust::Loaded> {
    trust::load(trust::locate(search)?)
}

/// `quorum providers list`: the resolved configuration, presets applied, keys hidden,
/// where each provider sends what, and whether the configuration is trusted.
pub fn providers_list(config: Option<&Path>) -> Result<String> {
    let loaded = load_config(&trust::Search {
        flag: config,
        ..trust::Search::default()
    })?;
    let status = format!("{}\n\n", loaded.status_line(&loaded.verdict()?));
    Ok(status + &check::list_text(&loaded.config.providers))
}

/// What `providers check` found.
pub struct ProviderChecks {
    /// One row a provider.
    pub table: String,
    /// Why each failed check failed, one line each, for under the table.
    pub problems: Vec<String>,
    /// Whether a review can use every provider checked.
    pub all_usable: bool,
}

/// `quorum providers check`: checks every selected provider. An untrusted configuration
/// is refused before any request.
pub async fn providers_check(config: Option<&Path>, names: &[String]) -> Result<ProviderChecks> {
    let loaded = load_config(&trust::Search {
        flag: config,
        ..trust::Search::default()
    })?;
    loaded.require_trust()?;
    let config = loaded.config;
    let selected = config.select(names)?;
    let reports = check::check_all(&config, &selected).await;
    Ok(ProviderChecks {
        table: check::check_table(&reports, table_width()),
        problems: reports.iter().flat_map(|r| r.problems()).collect(),
        all_usable: reports.iter().all(|r| r.usable()),
    })
}
