//! Deterministic, realistic findings for the consensus benchmark: `files` files, each
//! with a handful of real problems that several of the `models` models report in their
//! own words (lines off by a few, CWEs related but not always equal, some without
//! lines, some naming the function), plus each model's own false positives, for
//! `per_model` findings per model and file.
//!
//! Shared by `benches/consensus.rs` and `examples/consensus_scale.rs` (the latter is
//! what `/usr/bin/time -v` measures for peak memory).

use quorum::normalize::finding::{Category, Finding, Severity};

/// splitmix64: a small, fast, fixed-seed generator, so every run sees the same data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A kind of problem: CWEs models use for it, ways to title it, and sentences that
/// describe it (`{f}` is the function, `{v}` a variable).
struct Kind {
    cwes: &'static [u32],
    titles: &'static [&'static str],
    sentences: &'static [&'static str],
}

const KINDS: &[Kind] = &[
    Kind {
        cwes: &[89, 89, 564],
        titles: &[
            "SQL injection in {f}",
            "Unsanitized {v} concatenated into SQL query",
            "Query built with string formatting from user input",
            "SQLi via {v} parameter",
        ],
        sentences: &[
            "{f} builds the SELECT statement by concatenating {v} into the query string.",
            "A crafted {v} such as ' OR 1=1 -- changes the meaning of the statement.",
            "Use parameterized queries or prepared statements instead of string formatting.",
            "The database driver receives attacker-controlled SQL text.",
        ],
    },
    Kind {
        cwes: &[22, 23, 36],
        titles: &[
            "Path traversal in {f}",
            "Directory traversal through {v}",
            "User-controlled file path allows reading arbitrary files",
            "Unvalidated {v} joined onto base directory",
        ],
        sentences: &[
            "{f} joins {v} onto the storage directory without cleaning it.",
            "A value like ../../etc/passwd escapes the intended folder.",
            "Resolve the path and check that it stays under the base directory.",
            "Files outside the upload root can be read or overwritten.",
        ],
    },
    Kind {
        cwes: &[79, 79, 80],
        titles: &[
            "Cross-site scripting in {f}",
            "Stored XSS via {v}",
            "Untrusted HTML written with innerHTML",
            "Missing output encoding of {v}",
        ],
        sentences: &[
            "{f} inserts {v} into the page as HTML without escaping it.",
            "A script tag or event handler attribute in {v} runs in the victim's browser.",
            "Encode the value for the HTML context or use textContent.",
            "Session cookies and CSRF tokens are exposed to injected scripts.",
        ],
    },
    Kind {
        cwes: &[78, 77, 78],
        titles: &[
            "OS command injection in {f}",
            "Shell command built from {v}",
            "Arbitrary command execution via exec",
            "Unsanitized {v} passed to the shell",
        ],
        sentences: &[
            "{f} passes {v} to sh -c as part of the command line.",
            "Shell metacharacters such as ; and $() let an attacker run any command.",
            "Call the program directly with an argument list instead of a shell string.",
            "The process runs with the service account's privileges.",
        ],
    },
    Kind {
        cwes: &[798, 259, 321],
        titles: &[
            "Hard-coded secret key in {f}",
            "Hardcoded credentials for {v}",
            "Signing key committed to source code",
            "Static password constant",
        ],
        sentences: &[
            "{f} uses a literal {v} compiled into the binary.",
            "Anyone with the repository can forge tokens or log in.",
            "Load secrets from the environment or a secret manager.",
            "Rotating the key requires a new release.",
        ],
    },
    Kind {
        cwes: &[327, 328, 916],
        titles: &[
            "Weak password hashing in {f}",
            "Passwords hashed with unsalted MD5",
            "Insecure hash algorithm for {v}",
            "Fast hash used for credential storage",
        ],
        sentences: &[
            "{f} stores md5({v}) without a salt.",
            "GPU cracking recovers most passwords from a leaked table in hours.",
            "Use bcrypt, scrypt or argon2id with a per-user salt.",
            "Equal passwords produce equal hashes.",
        ],
    },
    Kind {
        cwes: &[918, 918],
        titles: &[
            "Server-side request forgery in {f}",
            "SSRF through user-supplied {v}",
            "Outbound request to attacker-controlled URL",
            "Unrestricted webhook destination",
        ],
        sentences: &[
            "{f} fetches the URL in {v} without restricting the host.",
            "Requests can reach internal services and cloud metadata endpoints.",
            "Allow-list destinations and block private address ranges.",
            "Redirects are followed, so a public URL can bounce inward.",
        ],
    },
    Kind {
        cwes: &[862, 863, 285],
        titles: &[
            "Missing authorization check in {f}",
            "Any user can call admin action {f}",
            "Broken access control on {v}",
            "Role not verified before deletion",
        ],
        sentences: &[
            "{f} checks that the caller is logged in but not that they own {v}.",
            "Ordinary users can delete or modify other accounts.",
            "Verify the caller's role or ownership before acting.",
            "The route is reachable from the public API.",
        ],
    },
    Kind {
        cwes: &[400, 770, 789],
        titles: &[
            "Unbounded request body in {f}",
            "Denial of service through large {v}",
            "No size limit on upload",
            "Resource exhaustion via unlimited allocation",
        ],
        sentences: &[
            "{f} reads {v} fully into memory without a limit.",
            "A single large request can exhaust memory and crash the server.",
            "Wrap the body in a size-limited reader.",
            "Concurrent requests multiply the effect.",
        ],
    },
    Kind {
        cwes: &[502, 502],
        titles: &[
            "Unsafe deserialization in {f}",
            "Untrusted {v} unpickled",
            "Deserializing attacker-controlled data",
            "Object injection through serialized input",
        ],
        sentences: &[
            "{f} deserializes {v} received from the client.",
            "Gadget chains in the class path lead to code execution.",
            "Use a data-only format such as JSON with a schema.",
            "Type information in the payload is trusted.",
        ],
    },
];

/// False positives and hardening notes a model adds on its own.
const NOISE: &[(&str, u32, &str)] = &[
    (
        "Missing rate limiting on {f}",
        307,
        "{f} accepts unlimited attempts for {v}.",
    ),
    (
        "Error message reveals {v}",
        209,
        "The error returned by {f} includes internal details of {v}.",
    ),
    (
        "Insecure randomness for {v}",
        330,
        "{f} uses math/rand to generate {v}.",
    ),
    (
        "Timing attack on {v} comparison",
        208,
        "{f} compares {v} with == instead of a constant-time function.",
    ),
    (
        "Cookie without Secure flag",
        614,
        "The session cookie set in {f} lacks the Secure and HttpOnly attributes.",
    ),
    (
        "Verbose logging of {v}",
        532,
        "{f} logs {v}, which may include personal data.",
    ),
    (
        "Unchecked error from {f}",
        252,
        "The error returned while handling {v} is ignored.",
    ),
    (
        "Race condition updating {v}",
        362,
        "{f} reads and writes {v} without a lock.",
    ),
];

const FUNCTIONS: &[&str] = &[
    "getUserById",
    "search_notes",
    "handleUpload",
    "renderComment",
    "exportReport",
    "deleteAccount",
    "verifyToken",
    "fetchWebhook",
    "parseConfig",
    "hash_password",
    "loadSession",
    "ServeAttachment",
];

const VARIABLES: &[&str] = &[
    "the id parameter",
    "filename",
    "userInput",
    "query_string",
    "the callback url",
    "payload",
    "session token",
    "req.body.name",
];

/// One problem planted in one file.
struct Planted {
    kind: usize,
    start: u32,
    len: u32,
    function: &'static str,
    variable: &'static str,
}

/// `files × models × per_model` findings, the same on every call.
pub fn findings(files: usize, models: usize, per_model: usize) -> Vec<Finding> {
    let mut rng = Rng::new(0x5eed);
    let mut out = Vec::with_capacity(files * models * per_model);
    for file in 0..files {
        let path = format!("src/module{:02}/file{file:04}.go", file % 37);
        let planted: Vec<Planted> = (0..per_model + 2)
            .map(|_| Planted {
                kind: rng.below(KINDS.len() as u64) as usize,
                start: 1 + rng.below(600) as u32,
                len: 1 + rng.below(8) as u32,
                function: rng.pick(FUNCTIONS),
                variable: rng.pick(VARIABLES),
            })
            .collect();
        for model in 0..models {
            for n in 0..per_model {
                let finding = if rng.below(10) < 7 {
                    let p = &planted[(n + model) % planted.len()];
                    real(&mut rng, &path, model, p)
                } else {
                    noise(&mut rng, &path, model)
                };
                out.push(finding);
            }
        }
    }
    out
}

fn real(rng: &mut Rng, path: &str, model: usize, p: &Planted) -> Finding {
    let kind = &KINDS[p.kind];
    let fill = |t: &str| t.replace("{f}", p.function).replace("{v}", p.variable);
    let sentences: Vec<String> = (0..3).map(|_| fill(rng.pick(kind.sentences))).collect();
    let jitter = rng.below(4) as u32;
    let (start, end) = if rng.below(20) == 0 {
        (None, None)
    } else {
        let start = p.start.saturating_sub(jitter).max(1);
        (Some(start), Some(start + p.len + rng.below(3) as u32))
    };
    let cwe = rng.pick(kind.cwes);
    finding(
        path,
        model,
        (start, end),
        (rng.below(3) == 0).then(|| p.function.to_string()),
        cwe,
        fill(rng.pick(kind.titles)),
        sentences.join(" "),
    )
}

fn noise(rng: &mut Rng, path: &str, model: usize) -> Finding {
    let (title, cwe, sentence) = rng.pick(NOISE);
    let function = rng.pick(FUNCTIONS);
    let variable = rng.pick(VARIABLES);
    let fill = |t: &str| t.replace("{f}", function).replace("{v}", variable);
    let start = 1 + rng.below(600) as u32;
    finding(
        path,
        model,
        (Some(start), Some(start + rng.below(5) as u32)),
        None,
        cwe,
        fill(title),
        format!(
            "{} This is a defence-in-depth recommendation for {}.",
            fill(sentence),
            variable
        ),
    )
}

fn finding(
    path: &str,
    model: usize,
    (start_line, end_line): (Option<u32>, Option<u32>),
    function: Option<String>,
    cwe: u32,
    title: String,
    description: String,
) -> Finding {
    let name = format!("model{model}");
    Finding {
        provider: name.clone(),
        model: name.clone(),
        family: name,
        file: path.to_string(),
        start_line,
        end_line,
        function,
        lines_clamped: false,
        severity: Severity::ALL[(cwe % 5) as usize],
        category: Category::from_cwe(cwe).unwrap_or(Category::Other),
        cwe: Some(cwe),
        title,
        description,
        suggestion: None,
        confidence: None,
    }
}

/// The process's peak resident memory in MB, where the system tells (Linux).
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
