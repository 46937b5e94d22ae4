use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

#[cfg(unix)]
#[test]
fn a_call_past_its_time_limit_is_stopped_with_a_reason() {
    let mut cmd = Command::new("sleep");
    cmd.arg("30").stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let err = run_within(cmd, 1024, Duration::from_millis(300))
        .err()
        .expect("stopped");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(err.to_string().contains("git took longer than 0 s"), "{err}");
}

#[cfg(unix)]
#[test]
fn stderr_is_kept_for_the_reason() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo out; echo 'fatal: why' >&2; exit 3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = run(cmd, 1024).unwrap();
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"fatal: why\n");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn dubious_ownership_says_why_and_what_to_do() {
    let stderr = "fatal: detected dubious ownership in repository at '/srv/repo'\n\
                  To add an exception for this directory, call:\n";
    let hint = refusal_hint(stderr, Path::new("/srv/repo")).unwrap();
    assert!(hint.contains("belongs to another user"), "{hint}");
    assert!(
        hint.contains("git config --global --add safe.directory /srv/repo"),
        "{hint}"
    );
    assert_eq!(
        refusal_hint(
            "fatal: not a git repository (or any of the parent directories): .git",
            Path::new(".")
        ),
        None
    );
}

#[test]
fn every_call_is_kept_off_the_network_and_out_of_named_files() {
    let cmd = command(Path::new("."));
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    for setting in ["core.sshCommand=false", "protocol.allow=never", "core.fsmonitor=false"] {
        assert!(args.iter().any(|a| a == setting), "{setting}: {args:?}");
    }
    assert!(args.iter().any(|a| a.starts_with("diff.orderFile=")), "{args:?}");
    let env: Vec<(String, Option<String>)> = cmd
        .get_envs()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    assert!(env.contains(&("GIT_NO_LAZY_FETCH".into(), Some("1".into()))), "{env:?}");
    assert!(
        env.contains(&("GIT_ALLOW_PROTOCOL".into(), Some("none".into()))),
        "{env:?}"
    );
}
