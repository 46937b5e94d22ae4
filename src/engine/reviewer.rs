//! A configured provider, and what planning and budgets need to know about it.

use std::sync::Arc;

use providers::Provider;

use crate::config::{ContextMode, ProviderConfig};
use crate::input::chunk;
use crate::input::prompt;
use crate::related::RelatedCode;

/// Tokens kept free besides the system prompt and the answer's reserve: token counts are
/// estimates, and a request that overflows the window by a few tokens fails outright.
const PROMPT_MARGIN_TOKENS: u64 = 128;

/// A floor for the code budget: a window barely larger than the answer's reserve would
/// otherwise leave room for almost no code, and parts of a few lines each cannot be
/// reviewed. A part that then proves too long for the server is split on its word.
const MIN_CODE_BUDGET_TOKENS: u64 = 256;

/// Related code takes at most this fraction (1/n) of the room a window leaves besides
/// the answer and the system prompt: the file's own code keeps at least as much.
pub const RELATED_SHARE_DIVISOR: u64 = 2;

/// The output tokens one answer is expected to use, at most: answers that list findings
/// rarely come near a generous `max_output_tokens`, so budgets and rate limits count this
/// instead. The `--dry-run` text states it.
pub(crate) const EXPECTED_OUTPUT_TOKENS_CAP: u32 = 1000;

/// Prices are quoted per million tokens.
const TOKENS_PER_PRICE_UNIT: f64 = 1e6;

/// A configured provider, ready to take requests.
pub struct Reviewer {
    pub config: ProviderConfig,
    pub provider: Arc<dyn Provider>,
    /// The context window to plan for: configured, or learned from the server.
    pub context_tokens: Option<u64>,
    /// Where related code comes from, for a provider with `context = "related"` (the
    /// run's index); `None` sends each file alone.
    pub related: Option<Arc<dyn RelatedCode + Send + Sync>>,
}

impl Reviewer {
    /// Tokens of code one request may carry: the window less the answer's reserve, the
    /// system prompt, the related code's share (with its section's own lines) and a
    /// margin. `None` when the window is unknown.
    pub fn code_budget(&self) -> Option<u64> {
        let room = self.room()?;
        let related = self.related_budget().map_or(0, |b| b + prompt::related_frame_tokens());
        Some(room.saturating_sub(related).max(MIN_CODE_BUDGET_TOKENS))
    }

    /// Tokens of related code one request carries at most, when it carries any:
    /// `related_tokens`, capped in a known window to [`RELATED_SHARE_DIVISOR`]th of the
    /// room left after the answer's reserve, the system prompt and the section's own
    /// lines, so the file's code keeps the rest.
    pub fn related_budget(&self) -> Option<u64> {
        if self.config.context != ContextMode::Related || self.related.is_none() {
            return None;
        }
        let configured = self.config.related_tokens;
        Some(match self.room() {
            Some(room) => configured.min(room.saturating_sub(prompt::related_frame_tokens()) / RELATED_SHARE_DIVISOR),
            None => configured,
        })
    }

    /// The related code's budget when the window cut it below `related_tokens` (for the
    /// notice that says so).
    pub fn related_capped(&self) -> Option<u64> {
        self.related_budget().filter(|&b| b < self.config.related_tokens)
    }

    /// The window less the answer's reserve, the system prompt and the margin: what the
    /// code and its related code share. `None` when the window is unknown.
    fn room(&self) -> Option<u64> {
        let fixed = u64::from(self.config.max_output_tokens)
            + chunk::estimate_tokens(&prompt::system_prompt())
            + PROMPT_MARGIN_TOKENS;
        Some(self.context_tokens?.saturating_sub(fixed))
    }

    /// Estimated output tokens of one answer (for budgets and rate limits; labelled
    /// "estimated" wherever shown).
    pub fn expected_output_tokens(&self) -> u64 {
        u64::from(self.config.max_output_tokens.min(EXPECTED_OUTPUT_TOKENS_CAP))
    }

    /// Dollars for the given tokens at this provider's prices (0 without prices).
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        let c = &self.config;
        input_tokens as f64 * c.price_input_per_mtok.unwrap_or(0.0) / TOKENS_PER_PRICE_UNIT
            + output_tokens as f64 * c.price_output_per_mtok.unwrap_or(0.0) / TOKENS_PER_PRICE_UNIT
    }
}
