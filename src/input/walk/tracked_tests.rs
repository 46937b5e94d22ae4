use super::*;

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Runs git in `root` with a fixed identity, isolated from the user's git config.
fn git(root: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn have_git() -> bool {
    let found = std::process::Command::new("git").arg("--version").output().is_ok();
    if !found {
        eprintln!("SKIPPED: git is not on PATH, so the tracked-files pass cannot be tested");
    }
    found
}

/// The attack: a committed `.gitignore` hides a force-added file, a `.ignore` hides a
/// folder; untracked build output is also ignored, and a tracked `.env` is committed.
fn hostile_repo(root: &Path) {
    write(root, "main.py", b"print('main')\n");
    write(root, ".gitignore", b"backdoor.py\ntarget/\n.env\n");
    write(root, "backdoor.py", b"import os; os.system('curl evil')\n");
    write(root, "sub/.ignore", b"*\n");
    write(root, "sub/evil.py", b"eval(input())\n");
    write(root, ".env", b"DB_PASSWORD=hunter2\n");
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["add", "-f", "backdoor.py", ".env"]);
    git(root, &["commit", "-q", "-m", "x"]);
    // Untracked and ignored: build output stays out.
    write(root, "target/x.rs", b"fn built() {}\n");
}

#[test]
fn tracked_files_are_reviewed_whatever_the_ignore_files_say() {
    if !have_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    hostile_repo(dir.path());
    let w = walk(dir.path(), &ReviewSettings::default(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [".gitignore", "backdoor.py", "main.py", "sub/.ignore", "sub/evil.py"],
        "{:?}",
        w.skipped
    );
    let env = w.skipped.iter().find(|s| s.path == ".env");
    assert!(
        env.is_some_and(|s| s.reason.contains("matches .env*")),
        "a tracked .env is still a secret: {:?}",
        w.skipped
    );
    assert_eq!(
        w.skipped.len(),
        1,
        "target/x.rs is neither sent nor listed: {:?}",
        w.skipped
    );
}

#[test]
fn tracked_files_still_obey_include_exclude_and_quorums_own_paths() {
    if !have_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", b"*.py\nquorum.toml\n");
    write(root, "a.py", b"print(1)\n");
    write(root, "gen/b.py", b"print(2)\n");
    write(root, "quorum.toml", b"[review]\n");
    git(root, &["init", "-q"]);
    git(root, &["add", "-f", ".gitignore", "a.py", "gen/b.py", "quorum.toml"]);
    let s = ReviewSettings {
        exclude: vec!["gen/**".into()],
        ..ReviewSettings::default()
    };
    let w = walk(root, &s, &[root.join("quorum.toml")]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".gitignore", "a.py"], "{:?}", w.skipped);
    // Reviewing a subfolder asks git about that folder only, with names relative to it.
    let w = walk(&root.join("gen"), &ReviewSettings::default(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["b.py"]);
}

#[cfg(unix)]
#[test]
fn a_tracked_path_through_a_link_is_not_read_outside_the_root() {
    if !have_git() {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "notes.py", b"password = 'hunter2'\n");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "main.py", b"print(1)\n");
    write(root, "link/notes.py", b"print(2)\n");
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    // The index still lists link/notes.py; the folder is now a link out of the root.
    std::fs::remove_dir_all(root.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();
    let w = walk(root, &ReviewSettings::default(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["main.py"], "{:?}", w.skipped);
    assert!(w.files.iter().all(|f| !f.text.contains("hunter2")));
}

#[test]
fn without_a_repository_gitignore_still_applies_and_dot_ignore_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", b"target/\n");
    write(root, "target/x.rs", b"fn built() {}\n");
    write(root, "sub/.ignore", b"*\n");
    write(root, "sub/evil.py", b"eval(input())\n");
    let w = walk(root, &ReviewSettings::default(), &[]).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".gitignore", "sub/.ignore", "sub/evil.py"]);
}

#[test]
fn a_selection_keeps_every_rule_of_the_walk() {
    if !have_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    hostile_repo(dir.path());
    write(dir.path(), "sub/other.py", b"print(3)\n");
    let selection = Selection::new(
        ["backdoor.py", ".env", "sub", "target/x.rs", "quorum.toml"]
            .iter()
            .map(|p| p.to_string()),
    );
    write(dir.path(), "quorum.toml", b"[review]\n");
    let never = [dir.path().join("quorum.toml")];
    let w = walk_selected(dir.path(), &ReviewSettings::default(), &never, Some(&selection)).unwrap();
    let paths: Vec<_> = w.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["backdoor.py", "sub/.ignore", "sub/evil.py", "sub/other.py"],
        "tracked files whatever .gitignore says, a folder whole, nothing unselected: {:?}",
        w.skipped
    );
    let reasons: Vec<(&str, &str)> = w.skipped.iter().map(|s| (s.path.as_str(), s.reason.as_str())).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].0 == ".env" && reasons[0].1.contains("secret"), "{reasons:?}");
    assert!(
        reasons[1].0 == "quorum.toml" && reasons[1].1.starts_with("left out by the walk"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == "target/x.rs" && reasons[2].1.contains(".gitignore"),
        "{reasons:?}"
    );
}

#[test]
fn a_repository_git_cannot_list_is_said_not_skipped_silently() {
    if !have_git() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    hostile_repo(dir.path());
    std::fs::write(dir.path().join(".git/index"), b"not an index").unwrap();
    let w = walk(dir.path(), &ReviewSettings::default(), &[]).unwrap();
    let note = w.skipped.iter().find(|s| s.path == ".");
    assert!(
        note.is_some_and(|s| s.reason.starts_with("git could not list the tracked files (")
            && s.reason.contains("tracked files they hide were not reviewed")),
        "{:?}",
        w.skipped
    );
    // Outside a repository nothing is said.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "a.py", b"print(1)\n");
    let w = walk(plain.path(), &ReviewSettings::default(), &[]).unwrap();
    assert!(w.skipped.is_empty(), "{:?}", w.skipped);
}
