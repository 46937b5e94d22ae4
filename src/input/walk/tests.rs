use super::rules::RUN_OUTPUT_REASON;
use super::secrets::is_service_account_key;
use super::*;

fn settings() -> ReviewSettings {
    ReviewSettings::default()
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn walks_sorted_text_files_and_explains_skips() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "b.go", b"package b\n");
    write(root, "a/x.go", b"package a\n");
    write(root, "img.png", b"\x89PNG\0\0\0");
    write(root, "latin1.txt", b"caf\xe9\n");
    write(root, "big.go", &vec![b'a'; 300]);
    write(root, "empty.go", b"\n\n");
    let mut s = settings();
    s.max_file_bytes = 100;
    let w = walk(root, &s, &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["a/x.go", "b.go"]);
    let reasons: Vec<_> = w.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons.contains(&("img.png", "binary (contains NUL bytes)")));
    assert!(reasons.contains(&("latin1.txt", "not UTF-8 text")));
    assert!(reasons.contains(&("empty.go", "empty")));
    assert!(reasons
        .iter()
        .any(|(p, r)| *p == "big.go" && r.contains("max_file_bytes")));
}

#[test]
fn honours_gitignore_include_and_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", b"generated/\n");
    write(root, "generated/g.go", b"package g\n");
    write(root, "vendor/v.go", b"package v\n");
    write(root, "src/main.go", b"package main\n");
    write(root, "README.md", b"# hi\n");
    let mut s = settings();
    s.include = vec!["**/*.go".into()];
    s.exclude = vec!["vendor/**".into()];
    let w = walk(root, &s, &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["src/main.go"]);
    // What the configuration leaves out is listed; what .gitignore leaves out is not.
    let skipped: Vec<_> = w.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
    assert_eq!(
        skipped,
        [
            (".gitignore", "not matched by review.include"),
            ("README.md", "not matched by review.include"),
            ("vendor/v.go", "excluded by review.exclude \"vendor/**\""),
        ]
    );
}

#[cfg(unix)]
#[test]
fn never_follows_symlinks_out_of_the_root() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", b"password=hunter2\n");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.go", b"package main\n");
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linkdir")).unwrap();
    let w = walk(dir.path(), &settings(), &[]).unwrap();
    assert_eq!(w.files.len(), 1);
    assert!(w.files.iter().all(|f| !f.text.contains("hunter2")));
    assert!(w
        .skipped
        .iter()
        .any(|s| s.path == "link.txt" && s.reason.contains("symbolic link")));
}

#[test]
fn hidden_files_are_reviewed_but_vcs_folders_and_quorums_own_files_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".eslintrc.js", b"module.exports = {};\n");
    write(root, ".git/config", b"[core]\n");
    write(root, "quorum-report/report.md", b"# old report\n");
    write(root, ".quorum-cache/answers.jsonl", b"{}\n");
    write(root, "quorum.toml", b"[review]\n");
    write(root, "main.go", b"package main\n");
    let never = [
        root.join("quorum-report"),
        root.join(".quorum-cache"),
        root.join("quorum.toml"),
    ];
    let w = walk(root, &settings(), &never).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".eslintrc.js", "main.go"]);
}

fn secret_fixture(root: &Path) {
    write(root, ".env", b"DB_PASSWORD=hunter2\n");
    write(root, "deploy/.env.production", b"API_KEY=prod\n");
    write(root, ".env.example", b"DB_PASSWORD=changeme\n");
    write(root, "id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\n");
    write(root, "keys/ID_ED25519.pub", b"ssh-ed25519 AAAA\n");
    write(root, "certs/Server.PEM", b"-----BEGIN CERTIFICATE-----\n");
    write(root, "tls/site.key", b"-----BEGIN PRIVATE KEY-----\n");
    write(root, "home/.aws/credentials", b"[default]\naws_secret_access_key = x\n");
    write(root, "home/.aws/config", b"[default]\nregion = eu-west-1\n");
    write(root, ".ssh/config", b"Host *\n");
    write(root, ".npmrc", b"//registry.npmjs.org/:_authToken=npm_x\n");
    write(root, "app/gcp.json", SERVICE_ACCOUNT.as_bytes());
    write(
        root,
        "app/settings.json",
        b"{\"type\": \"app\", \"private_key_path\": \"k\"}\n",
    );
    write(root, "main.py", b"print(1)\n");
}

const SERVICE_ACCOUNT: &str = "{\n  \"type\" :\n \"service_account\",\n  \"project_id\": \"p\",\n  \
    \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\"\n}\n";

#[test]
fn secret_files_are_listed_with_the_pattern_and_never_read() {
    let dir = tempfile::tempdir().unwrap();
    secret_fixture(dir.path());
    let w = walk(dir.path(), &settings(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".env.example", "app/settings.json", "main.py"]);
    let secret = |path: &str| {
        w.skipped
            .iter()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("{path} not listed: {:?}", w.skipped))
            .reason
            .clone()
    };
    assert_eq!(
        secret(".env"),
        "secret file: matches .env*; not sent to any model; set review.secret_files to change"
    );
    assert!(secret("deploy/.env.production").contains("matches .env*"));
    assert!(secret("id_rsa").contains("matches id_rsa*"));
    assert!(
        secret("keys/ID_ED25519.pub").contains("matches id_ed25519*"),
        "case does not matter"
    );
    assert!(secret("certs/Server.PEM").contains("matches *.pem"));
    assert!(secret("tls/site.key").contains("matches *.key"));
    assert!(secret("home/.aws/credentials").contains("matches *credentials*"));
    assert!(secret("home/.aws/config").contains("matches .aws/"));
    assert!(secret(".ssh/config").contains("matches .ssh/"));
    assert!(secret(".npmrc").contains("matches .npmrc"));
    assert!(secret("app/gcp.json").contains("service-account key"));
    assert_eq!(w.skipped.len(), 11, "{:?}", w.skipped);
    assert!(w.skipped.iter().all(Skipped::is_secret));
}

/// The first line of key data, as key files hold it.
const KEY_DATA: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";

#[test]
fn private_keys_are_found_by_content_whatever_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let key = |kind: &str| format!("-----BEGIN {kind}PRIVATE KEY-----\n{KEY_DATA}\n-----END {kind}PRIVATE KEY-----\n");
    write(dir.path(), "deploy_key", key("OPENSSH ").as_bytes());
    write(dir.path(), "ci/rsa.txt", key("RSA ").as_bytes());
    write(dir.path(), "ci/ec", key("EC ").as_bytes());
    write(dir.path(), "ci/pkcs8", key("ENCRYPTED ").as_bytes());
    write(
        dir.path(),
        "ci/legacy",
        format!(
            "Bag Attributes\n    localKeyID: 01\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
             DEK-Info: AES-128-CBC,00\n\n{KEY_DATA}\n-----END RSA PRIVATE KEY-----\n"
        )
        .as_bytes(),
    );
    write(
        dir.path(),
        "ci/putty",
        b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
    );
    // Code that handles keys only names the marker: it is reviewed.
    write(
        dir.path(),
        "src/pem.rs",
        b"const BEGIN: &str = \"-----BEGIN PRIVATE KEY-----\";\nfn parse() {}\n",
    );
    write(
        dir.path(),
        "src/pem.py",
        b"# Reads keys such as:\n-----BEGIN PRIVATE KEY-----\n... base64 here ...\n",
    );
    let late = format!("{}\n{}", "x = 1\n".repeat(200), key(""));
    write(dir.path(), "src/fixture.py", late.as_bytes());
    // A source file that embeds a key after some code is reviewed (the key block is
    // redacted for remote providers and reported as a hard-coded secret).
    let embedded = format!("import ssl\nKEY = \"\"\"\n{}\"\"\"\n", key("RSA "));
    write(dir.path(), "src/embedded.py", embedded.as_bytes());
    let w = walk(dir.path(), &settings(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["src/embedded.py", "src/fixture.py", "src/pem.py", "src/pem.rs"],
        "{:?}",
        w.skipped
    );
    let reason = |path: &str| w.skipped.iter().find(|s| s.path == path).map(|s| s.reason.clone());
    assert_eq!(
        reason("deploy_key").as_deref(),
        Some(
            "secret file: a private key (found by its content); not sent to any model; set review.secret_files \
             to change"
        )
    );
    for path in ["ci/rsa.txt", "ci/ec", "ci/pkcs8", "ci/legacy"] {
        assert!(
            reason(path).unwrap().contains("a private key (found by its content)"),
            "{path}"
        );
    }
    assert!(reason("ci/putty").unwrap().contains("a PuTTY private key"));
    let mut off = settings();
    off.secret_files = Vec::new();
    assert_eq!(
        walk(dir.path(), &off, &[]).unwrap().files.len(),
        10,
        "[] sends everything"
    );
}

#[test]
fn the_default_list_keeps_cloud_signing_and_infrastructure_secrets_home() {
    let dir = tempfile::tempdir().unwrap();
    for (path, pattern) in [
        ("AuthKey_ABC123.p8", "*.p8"),
        ("prod.ppk", "*.ppk"),
        ("android/release.keystore", "*.keystore"),
        ("home/.kube/config", ".kube/"),
        ("home/.docker/config.json", "**/.docker/config.json"),
        ("infra/terraform.tfstate", "*.tfstate"),
        ("infra/terraform.tfstate.backup", "*.tfstate.*"),
        ("home/.vault-token", ".vault-token"),
        ("home/.s3cfg", ".s3cfg"),
        ("home/.boto", ".boto"),
        ("home/.dockercfg", ".dockercfg"),
        ("config/secrets.yml", "secrets.yml"),
        ("config/secrets.yaml", "secrets.yaml"),
        ("deploy/secrets.json", "secrets.json"),
        ("infra/prod.tfvars", "*.tfvars"),
        ("ci/kubeconfig", "kubeconfig"),
    ] {
        write(dir.path(), path, b"opaque = \"x\"\n");
        let w = walk(dir.path(), &settings(), &[]).unwrap();
        let skipped = w.skipped.iter().find(|s| s.path == path);
        assert!(
            skipped.is_some_and(|s| s.reason.contains(&format!("matches {pattern}"))),
            "{path}: {skipped:?}"
        );
    }
    write(dir.path(), "docker/config.json", b"{}\n");
    let w = walk(dir.path(), &settings(), &[]).unwrap();
    assert!(
        w.files.iter().any(|f| f.path == "docker/config.json"),
        "only .docker/'s"
    );
}

#[test]
fn a_root_inside_a_secret_folder_keeps_every_file_home() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "proj/.aws/config", b"[default]\nregion = eu-west-1\n");
    write(dir.path(), "proj/.ssh/keys/notes.txt", b"the deploy key\n");
    write(dir.path(), "proj/src/main.py", b"print(1)\n");
    for root in ["proj/.aws", "proj/.ssh/keys", "proj/.aws/config"] {
        let w = walk(&dir.path().join(root), &settings(), &[]).unwrap();
        assert!(w.files.is_empty(), "{root}: {:?}", w.files);
        assert!(
            w.skipped.len() == 1
                && w.skipped[0].is_secret()
                && w.skipped[0]
                    .reason
                    .contains("the reviewed folder is inside a folder matching ."),
            "{root}: {:?}",
            w.skipped
        );
    }
    let w = walk(&dir.path().join("proj/src"), &settings(), &[]).unwrap();
    assert_eq!(w.files.len(), 1, "{:?}", w.skipped);
    let mut s = settings();
    s.secret_files = vec!["*.pem".into()];
    let w = walk(&dir.path().join("proj/.aws"), &s, &[]).unwrap();
    assert_eq!(w.files.len(), 1, "a list without .aws/ sends it");
}

#[test]
fn secret_files_can_be_replaced_exempted_or_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    secret_fixture(dir.path());
    let mut s = settings();
    s.secret_files = vec!["*.pem".into(), "!certs/server.pem".into()];
    let w = walk(dir.path(), &s, &[]).unwrap();
    assert!(
        w.files.iter().any(|f| f.path == ".env"),
        "the list replaces the default"
    );
    assert!(
        w.files.iter().any(|f| f.path == "certs/Server.PEM"),
        "a ! pattern exempts"
    );
    assert!(
        w.skipped.iter().any(|s| s.path == "app/gcp.json"),
        "content is still checked"
    );
    s.secret_files.push("!app/gcp.json".into());
    let w = walk(dir.path(), &s, &[]).unwrap();
    assert!(
        w.files.iter().any(|f| f.path == "app/gcp.json"),
        "a ! pattern exempts content too"
    );
    s.secret_files = Vec::new();
    let w = walk(dir.path(), &s, &[]).unwrap();
    assert!(w.skipped.is_empty(), "[] sends everything: {:?}", w.skipped);
    assert_eq!(w.files.len(), 14);
}

#[test]
fn a_secret_named_as_the_root_is_still_kept_home() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", b"DB_PASSWORD=hunter2\n");
    let w = walk(&dir.path().join(".env"), &settings(), &[]).unwrap();
    assert!(w.files.is_empty());
    assert!(w.skipped[0].is_secret());
}

#[test]
fn service_account_keys_are_found_by_content_only() {
    assert!(is_service_account_key(SERVICE_ACCOUNT));
    assert!(is_service_account_key(
        "{\"private_key\":\"k\",\"type\":\"service_account\"}"
    ));
    assert!(!is_service_account_key(
        "{\"type\": \"service_account\", \"client_email\": \"x\"}"
    ));
    assert!(!is_service_account_key(
        "if kind == \"service_account\": load(\"private_key\")"
    ));
}

#[test]
fn an_invalid_secret_pattern_is_an_error_naming_it() {
    let mut s = settings();
    s.secret_files = vec!["keys/[".into()];
    let dir = tempfile::tempdir().unwrap();
    let err = walk(dir.path(), &s, &[]).unwrap_err();
    assert!(format!("{err:#}").contains("\"keys/[\""), "{err:#}");
    assert!(check_secret_pattern("keys/[").is_err());
    for pattern in crate::config::DEFAULT_SECRET_FILES {
        assert_eq!(check_secret_pattern(pattern), Ok(()), "{pattern}");
    }
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_stay_distinct_and_are_read_from_their_real_path() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join(OsStr::from_bytes(b"a\xff.py")), b"ff = 1\n").unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"a\xfe.py")), b"fe = 1\n").unwrap();
    std::fs::create_dir(root.join(OsStr::from_bytes(b"d\xc3"))).unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"d\xc3/\xe9t\xc3\xa9.py")), b"dir = 1\n").unwrap();
    let w = walk(root, &settings(), &[]).unwrap();
    let files: Vec<_> = w.files.iter().map(|f| (f.path.as_str(), f.text.as_str())).collect();
    assert_eq!(
        files,
        [
            ("a\\xFE.py", "fe = 1\n"),
            ("a\\xFF.py", "ff = 1\n"),
            ("d\\xC3/\\xE9té.py", "dir = 1\n")
        ]
    );
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
}

#[cfg(unix)]
#[test]
fn two_files_with_the_same_name_once_escaped_are_not_merged() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // A valid UTF-8 name that spells the escape of the other file's name.
    std::fs::write(root.join("a\\xFF.py"), b"spelled = 1\n").unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"a\xff.py")), b"real = 1\n").unwrap();
    let w = walk(root, &settings(), &[]).unwrap();
    assert_eq!(w.files.len(), 1);
    assert_eq!(w.files[0].path, "a\\xFF.py");
    assert_eq!(w.skipped.len(), 1, "{:?}", w.skipped);
    assert_eq!(w.skipped[0].path, "a\\xFF.py");
    assert!(w.skipped[0].reason.contains("reads the same"), "{:?}", w.skipped);
    assert_ne!(w.files[0].text, "", "the first one found is reviewed whole");
}

#[test]
fn a_run_folders_own_files_are_listed_not_sent_but_code_beside_them_is() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for name in [
        "run.json",
        "responses.jsonl",
        "report.md",
        "report.sarif",
        ".report.md.7-0.tmp",
    ] {
        write(root, &format!("elsewhere/{name}"), b"{}\n");
        write(root, &format!("elsewhere/previous/{name}"), b"{}\n");
    }
    write(root, "elsewhere/backdoor.go", b"package evil\n");
    write(root, "elsewhere/previous/hidden.go", b"package evil\n");
    // Not a run folder (no responses.jsonl): its report.md is just a file.
    write(root, "docs/run.json", b"{}\n");
    write(root, "docs/report.md", b"# design\n");
    let w = walk(root, &settings(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "docs/report.md",
            "docs/run.json",
            "elsewhere/backdoor.go",
            "elsewhere/previous/hidden.go"
        ]
    );
    let run_output = w.skipped.iter().filter(|s| s.reason == RUN_OUTPUT_REASON).count();
    assert_eq!(run_output, 10, "{:?}", w.skipped);
}

#[cfg(unix)]
#[test]
fn pipes_are_listed_not_read_and_a_symlinked_root_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.go", b"package main\n");
    let fifo = dir.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let link = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path(), link.path().join("proj")).unwrap();
    let w = walk(&link.path().join("proj"), &settings(), &[]).unwrap();
    assert_eq!(w.files.len(), 1);
    assert!(w
        .skipped
        .iter()
        .any(|s| s.path == "pipe" && s.reason.contains("not a regular file")));
}

#[test]
fn a_single_file_can_be_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "one.go", b"package one\n");
    let w = walk(&dir.path().join("one.go"), &settings(), &[]).unwrap();
    assert_eq!(w.files[0].path, "one.go");
}

#[test]
fn missing_root_is_a_clear_error() {
    let err = walk(Path::new("/surely/not/here"), &settings(), &[]).unwrap_err();
    assert!(format!("{err:#}").contains("/surely/not/here"));
}
