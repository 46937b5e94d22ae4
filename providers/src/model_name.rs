//! Whether two model names mean the same model.

/// Digits a dated or numbered build has at least (`-0613`, `-002`, `-20250929`): a
/// shorter number is a model version (`claude-sonnet-4` vs `claude-sonnet-4-5`).
const MIN_BUILD_DIGITS: usize = 3;

/// OpenRouter's router: it answers with whichever model it chose for the request, so
/// any model that answers it is the one asked for.
const ROUTER_MODEL: &str = "openrouter/auto";

/// Whether the model a server says answered is the one asked for. Servers name the
/// same model differently: OpenAI answers `gpt-4.1-mini-2025-04-14` for `gpt-4.1-mini`,
/// Gemini `models/gemini-2.5-flash`, Ollama `gemma3:12b` for `gemma3:12b`. LM Studio
/// answers with whatever is loaded, which is a different model altogether.
pub fn same_model(requested: &str, served: &str) -> bool {
    let norm = |m: &str| {
        let mut m = m.trim().to_ascii_lowercase();
        if let Some(rest) = m.strip_prefix("models/") {
            m = rest.to_string();
        }
        // `-latest`, `:latest`, OpenRouter's `:free`, and Anthropic's `-0` (as in
        // `claude-sonnet-4-0`) name the current build of a model; OpenRouter's routing
        // variants (`:nitro`, `:floor`, `:online`, `:exacto`) choose how it is served and
        // answer under the model's own name. (`:thinking` is another model.)
        for alias in [
            ":nitro", ":floor", ":online", ":exacto", ":latest", "-latest", ":free", "-0",
        ] {
            if let Some(rest) = m.strip_suffix(alias) {
                m = rest.to_string();
            }
        }
        m
    };
    let (requested, served) = (norm(requested), norm(served));
    if served.is_empty() {
        return false;
    }
    if requested == ROUTER_MODEL {
        return true;
    }
    // One name is the other plus only a dated or numbered build: `-2025-04-14`,
    // `-20250929`, `-0613`, `-002`. A first group of fewer than 3 digits is a model
    // version (`claude-sonnet-4` vs `-4-5`), and a suffix with letters another model.
    let version_only = |long: &str, short: &str| {
        long.strip_prefix(short).is_some_and(|rest| {
            let groups: Vec<&str> = rest
                .strip_prefix('-')
                .map(|r| r.split('-').collect())
                .unwrap_or_default();
            rest.is_empty()
                || (groups.first().is_some_and(|g| g.len() >= MIN_BUILD_DIGITS)
                    && groups
                        .iter()
                        .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())))
        })
    };
    version_only(&served, &requested) || version_only(&requested, &served)
}

#[cfg(test)]
mod tests;
