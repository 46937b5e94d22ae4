//! The `[judge]` table: which provider checks the top issues, how many, and how.
//!
//! A judge is one of the `[providers.*]` tables. A provider with `review = false` only
//! judges: it gets no review jobs, so it must be the one a `[judge]` names, or it would do
//! nothing at all (a configuration mistake worth stopping for).

use serde::Deserialize;
use toml::Spanned;

use super::error::{ConfigError, Locator};
use super::provider::ProviderConfig;

/// How many of the highest ranked issues are judged when `top` is not set.
pub const DEFAULT_JUDGE_TOP: usize = 20;

/// The most issues `top` may ask to judge: one request each, so a typo such as
/// `top = 200000` must not cost a fortune.
const MAX_JUDGE_TOP: usize = 10_000;

/// Who is asked about an issue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgeMode {
    /// The one provider `[judge] provider` names.
    #[default]
    Single,
    /// The families that reviewed the file and did not report the issue.
    Peers,
}

impl JudgeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeMode::Single => "single",
            JudgeMode::Peers => "peers",
        }
    }
}

/// `[judge]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgeSettings {
    /// The provider table that judges (in `peers` mode: the one asked when no peer can be).
    pub provider: String,
    /// The highest ranked issues judged (besides every issue a single family reported at
    /// high or critical severity).
    pub top: usize,
    pub mode: JudgeMode,
}

/// `[judge]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJudge {
    provider: Option<Spanned<String>>,
    top: Option<Spanned<i64>>,
    #[serde(default)]
    mode: JudgeMode,
}

/// Where `[judge]` starts, for errors about the table as a whole.
fn table_line(loc: &Locator) -> Option<usize> {
    loc.text.lines().position(|l| l.trim() == "[judge]").map(|i| i + 1)
}

/// Checks `[judge]` against the providers, and that every judge-only provider
/// (`review = false`) is the judge.
pub(super) fn validate_judge(
    raw: Option<Spanned<RawJudge>>,
    providers: &[ProviderConfig],
    loc: &Locator,
) -> Result<Option<JudgeSettings>, ConfigError> {
    let settings = match raw {
        Some(raw) => Some(judge_settings(raw, providers, loc)?),
        None => None,
    };
    for p in providers.iter().filter(|p| !p.review) {
        if settings.as_ref().is_none_or(|j| j.provider != p.name) {
            return Err(ConfigError {
                path: loc.path.to_path_buf(),
                line: find_table(loc, &p.name),
                message: format!(
                    "providers.{name}.review = false, but no [judge] names it, so it would do nothing: add \
                     [judge] provider = \"{name}\", or remove review = false",
                    name = p.name
                ),
            });
        }
    }
    if !providers.is_empty() && providers.iter().all(|p| !p.review) {
        return Err(ConfigError {
            path: loc.path.to_path_buf(),
            line: table_line(loc),
            message: "every provider has review = false: the judge needs other providers' issues to judge; \
                      add a provider that reviews"
                .into(),
        });
    }
    Ok(settings)
}

fn judge_settings(
    raw: Spanned<RawJudge>,
    providers: &[ProviderConfig],
    loc: &Locator,
) -> Result<JudgeSettings, ConfigError> {
    let span = raw.span();
    let raw = raw.into_inner();
    let known = || providers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let Some(provider) = raw.provider else {
        return Err(loc.error(
            span,
            format!(
                "judge.provider is missing: name the [providers.NAME] table that judges, one of: {}",
                known()
            ),
        ));
    };
    if !providers.iter().any(|p| &p.name == provider.get_ref()) {
        return Err(loc.error(
            provider.span(),
            format!(
                "judge.provider = {:?} names no provider: add a [providers.{}] table or name one of: {}",
                provider.get_ref(),
                provider.get_ref(),
                known()
            ),
        ));
    }
    let top = match raw.top {
        None => DEFAULT_JUDGE_TOP,
        Some(t) if (0..=MAX_JUDGE_TOP as i64).contains(t.get_ref()) => *t.get_ref() as usize,
        Some(t) => {
            return Err(loc.error(
                t.span(),
                format!("judge.top must be from 0 to {MAX_JUDGE_TOP} (the highest ranked issues judged)"),
            ))
        }
    };
    Ok(JudgeSettings {
        provider: provider.into_inner(),
        top,
        mode: raw.mode,
    })
}

/// The line of `[providers.NAME]`.
fn find_table(loc: &Locator, name: &str) -> Option<usize> {
    let header = format!("[providers.{name}]");
    loc.text.lines().position(|l| l.trim() == header).map(|i| i + 1)
}
