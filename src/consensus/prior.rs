//! What an issue's own evidence says before any model votes: its file may be a test,
//! fixture, example or documentation (`demote_paths`), and reports of some weaknesses
//! hold up more often than others (the CWE prior table).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use super::cwe::cwe_family;

/// The relative precision of an issue whose CWE family is not in the table, or that
/// names none: an average report.
pub(super) const NEUTRAL_PRIOR: f64 = 1.0;

/// The highest relative precision counted: one well-supported family may lift an issue,
/// not outrank agreement.
const MAX_PRIOR: f64 = 2.0;

/// How often a report of `cwe`'s family holds up, relative to an average report (1).
pub(super) fn cwe_prior(cwe: Option<u32>) -> f64 {
    let Some(family) = cwe.map(cwe_family) else {
        return NEUTRAL_PRIOR;
    };
    PRIORS
        .iter()
        .find(|row| row.0 == family)
        .map_or(NEUTRAL_PRIOR, |row| row.3.min(MAX_PRIOR))
}

/// Learnt on the tuning half of eyeballvul (28 families judged at least 30 times;
/// overall precision 0.128; each family's precision shrunk towards it by 20
/// findings). Regenerate: `cargo run --release --example eyeballvul -- --cwe-priors`.
/// (family, judged, labelled, relative precision)
const PRIORS: &[(u32, u32, u32, f64)] = &[
    (20, 356, 39, 0.87),
    (22, 295, 45, 1.18),
    (74, 64, 5, 0.70),
    (77, 814, 107, 1.03),
    (79, 571, 108, 1.47),
    (89, 225, 21, 0.75),
    (94, 214, 35, 1.26),
    (119, 207, 13, 0.54),
    (200, 106, 7, 0.59),
    (285, 92, 7, 0.67),
    (287, 87, 8, 0.77),
    (295, 58, 11, 1.36),
    (312, 135, 26, 1.44),
    (319, 106, 12, 0.90),
    (327, 77, 7, 0.77),
    (330, 53, 1, 0.38),
    (352, 65, 15, 1.62),
    (362, 33, 0, 0.38),
    (400, 69, 9, 1.02),
    (434, 75, 6, 0.71),
    (494, 56, 13, 1.60),
    (502, 139, 19, 1.06),
    (601, 51, 13, 1.72),
    (611, 46, 9, 1.37),
    (732, 35, 1, 0.51),
    (798, 308, 33, 0.85),
    (918, 42, 2, 0.58),
    (1321, 60, 18, 2.01),
];

/// The default `demote_paths`: where code is not shipped to users (tests, fixtures,
/// examples, docs, build scripts) or is someone else's (vendored), so a finding there
/// rarely is a vulnerability of the product: on eyeballvul's tuning half, findings in
/// such paths held up 4 % of the time (tests; vendored 0–2 %), others 13 %. Not
/// `tools/` or `setup.py`: code that runs on developers' machines or at install.
pub const DEFAULT_DEMOTE_PATHS: &[&str] = &[
    "**/test/**",
    "**/tests/**",
    "**/*.tests/**",
    "**/__tests__/**",
    "**/testdata/**",
    "**/testing/**",
    "**/spec/**",
    "**/specs/**",
    "**/fixtures/**",
    "**/fixture/**",
    "**/__mocks__/**",
    "**/mocks/**",
    "**/*_test.*",
    "**/*_tests.*",
    "**/*.test.*",
    "**/*_spec.*",
    "**/*.spec.*",
    "**/test_*.*",
    "**/tests.py",
    "**/*Test.java",
    "**/*Tests.java",
    "**/*Tests.cs",
    "**/conftest.py",
    "**/example/**",
    "**/examples/**",
    "**/sample/**",
    "**/samples/**",
    "**/demo/**",
    "**/demos/**",
    "**/doc/**",
    "**/docs/**",
    "**/*.md",
    "**/*.rst",
    "**/vendor/**",
    "**/third_party/**",
    "**/node_modules/**",
    "**/Makefile",
    "**/gulpfile.js",
    "**/Gruntfile.js",
    "**/webpack.config.js",
];

/// One `demote_paths` glob. Matching ignores case (`Tests/`, `Docs/`, `README.MD`), except
/// in a glob holding a capital letter, which matches as written (smart case:
/// `**/*Test.java` is `FooTest.java`, not `Latest.java`).
fn demote_glob(glob: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(glob)
        .case_insensitive(!glob.chars().any(char::is_uppercase))
        .build()
}

/// Why `globs` cannot be used, if they cannot: one is invalid, or together they do not
/// compile.
pub(super) fn check_globs(globs: &[String]) -> Result<(), String> {
    DemotedPaths::new(globs).map(|_| ())
}

/// The compiled `demote_paths`.
pub(super) struct DemotedPaths(GlobSet);

impl DemotedPaths {
    /// Compiles `globs`, or says why they cannot be ([`check_globs`] reports it when the
    /// settings are validated, before any use).
    pub(super) fn new(globs: &[String]) -> Result<DemotedPaths, String> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            builder.add(
                demote_glob(glob).map_err(|e| format!("demote_paths: {glob:?} is not a valid glob: {}", e.kind()))?,
            );
        }
        builder
            .build()
            .map(DemotedPaths)
            .map_err(|e| format!("demote_paths: the globs cannot be compiled together: {e}"))
    }

    /// Demotes nothing.
    pub(super) fn none() -> DemotedPaths {
        DemotedPaths(GlobSet::empty())
    }

    /// Whether `file` (relative to the review root) is in a demoted path.
    pub(super) fn contains(&self, file: &str) -> bool {
        let file = file.trim_start_matches("./").trim_start_matches('/');
        self.0.is_match(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::eyeballvul::SHRINKAGE;

    fn defaults() -> DemotedPaths {
        let globs: Vec<String> = DEFAULT_DEMOTE_PATHS.iter().map(|g| g.to_string()).collect();
        check_globs(&globs).expect("the defaults compile");
        DemotedPaths::new(&globs).expect("the defaults compile")
    }

    #[test]
    fn tests_fixtures_examples_and_docs_are_demoted_and_code_is_not() {
        let paths = defaults();
        for file in [
            "tests/api.rs",
            "src/test/java/FooTest.java",
            "pkg/server_test.go",
            "web/app.spec.ts",
            "test_views.py",
            "/examples/run.py",
            "./docs/conf.py",
            "README.md",
            "a/fixtures/data.json",
        ] {
            assert!(paths.contains(file), "{file}");
        }
        for file in [
            "src/server.rs",
            "app/views.py",
            "latest.js",
            "contest/run.go",
            "src/testimony.c",
        ] {
            assert!(!paths.contains(file), "{file}");
        }
    }

    #[test]
    fn demoted_paths_ignore_case_and_cover_django_and_dotnet_tests() {
        let paths = defaults();
        for file in [
            "Tests/ApiTests.cs",
            "Docs/guide.txt",
            "README.MD",
            "src/Foo.Tests/Bar.cs",
            "src/FooTests.cs",
            "polls/tests.py",
            "pkg/util_tests.py",
            "Spec/models/user_spec.rb",
        ] {
            assert!(paths.contains(file), "{file}");
        }
        // A glob with a capital letter matches as written.
        for file in ["src/Latest.java", "Contest.java", "src/Protests.cs"] {
            assert!(!paths.contains(file), "{file}");
        }
    }

    #[test]
    fn tooling_and_install_scripts_are_not_demoted() {
        let paths = defaults();
        for file in ["tools/release.py", "setup.py", "pkg/setup.py", "scripts/tools/gen.sh"] {
            assert!(!paths.contains(file), "{file}");
        }
        assert!(paths.contains("vendor/lib/a.js") && paths.contains("Makefile"));
    }

    #[test]
    fn an_invalid_glob_is_named() {
        let globs = ["src/[".to_string(), "**/tests/**".to_string()];
        let err = check_globs(&globs).expect_err("invalid");
        assert!(err.contains("src/["), "{err}");
        assert!(DemotedPaths::new(&globs).is_err());
    }

    #[test]
    fn globs_that_are_valid_alone_but_do_not_compile_together_are_a_settings_error() {
        // Each glob parses; together they exceed the regular expression size limit.
        let globs: Vec<String> = (0..4).map(|n| format!("**/{n}{}", "?".repeat(60_000))).collect();
        assert!(globs.iter().all(|g| demote_glob(g).is_ok()));
        let err = check_globs(&globs).expect_err("too large");
        assert!(
            err.contains("demote_paths") && err.contains("compiled together"),
            "{err}"
        );
        let settings = crate::consensus::Settings {
            demote_paths: globs,
            ..Default::default()
        };
        assert_eq!(settings.validate(), Err(err));
    }

    #[test]
    fn the_prior_is_the_family_s_and_neutral_when_unknown() {
        // 23 (relative path traversal) is in 22's family.
        assert_eq!(cwe_prior(Some(23)), cwe_prior(Some(22)));
        assert_ne!(cwe_prior(Some(22)), NEUTRAL_PRIOR);
        assert_eq!(cwe_prior(None), NEUTRAL_PRIOR);
        assert_eq!(cwe_prior(Some(999_999)), NEUTRAL_PRIOR);
        // 1321's relative precision (2.01) is above the cap: it counts as the cap.
        assert_eq!(cwe_prior(Some(1321)), MAX_PRIOR);
    }

    #[test]
    fn each_prior_follows_from_its_own_counts() {
        // The shrunk precision the table documents, relative to the overall 0.128 (the
        // counts are rounded into the doc, so within 0.01).
        const OVERALL: f64 = 0.128;
        for &(family, judged, labelled, relative) in PRIORS {
            let shrunk = (f64::from(labelled) + SHRINKAGE * OVERALL) / (f64::from(judged) + SHRINKAGE);
            assert!((shrunk / OVERALL - relative).abs() < 0.01, "CWE-{family}: {relative}");
            assert!(judged >= 30 && labelled <= judged, "CWE-{family}");
        }
        assert!(
            PRIORS.windows(2).all(|w| w[0].0 < w[1].0),
            "one row per family, in order"
        );
    }
}
