//! Git sources: a local repository made with the `git` command line, cloned over `file://`,
//! updated after a new commit, pinned to an older revision; and a checkout read as a local path.

use std::path::Path;
use std::process::Command;

use detwiki_sources::{ReadOptions, SourceSpec, read_source};

fn git(directory: &Path, arguments: &[&str]) -> String {
    let output = Command::new("git")
        .args(arguments)
        .current_dir(directory)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {arguments:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn git_available() -> bool {
    let available = Command::new("git").arg("--version").output().is_ok_and(|output| output.status.success());
    if !available {
        detwiki_testkit::missing::<()>("no git command line to build the test repository");
    }
    available
}

const SIGMA: &str = "title: Whoami\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\whoami.exe'\n  condition: sel\nlevel: low\n";

#[test]
fn git_source_is_cloned_updated_and_pinned() {
    if !git_available() {
        return;
    }
    let upstream = tempfile::tempdir().expect("temp dir");
    let repo = upstream.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(repo.join("rules")).expect("folder");
    std::fs::write(repo.join("rules/whoami.yml"), SIGMA).expect("write");
    std::fs::write(repo.join("README.md"), "# rules\n").expect("write");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "first"]);
    let first = git(repo, &["rev-parse", "HEAD"]);

    let cache = tempfile::tempdir().expect("cache");
    let options = ReadOptions { cache_dir: cache.path().to_path_buf() };
    let url = format!("file://{}", repo.display());
    let spec = SourceSpec {
        name: Some("local/rules".to_owned()),
        url: Some(url.clone()),
        revision: Some("main".to_owned()),
        license: Some("MIT".to_owned()),
        ..SourceSpec::default()
    };
    let read = read_source(&spec, &options, &|_| {}).expect("clones");
    assert_eq!(read.info.commit.as_deref(), Some(first.as_str()));
    assert_eq!(read.rules.len(), 1);
    assert_eq!(read.rules[0].provenance.commit.as_deref(), Some(first.as_str()));
    assert_eq!(read.rules[0].provenance.path, "rules/whoami.yml");
    assert_eq!(read.info.skipped.len(), 1, "README is skipped");
    assert!(cache.path().join("local-rules").join("rules/whoami.yml").exists());

    // A new upstream commit is fetched on the next read.
    std::fs::write(repo.join("rules/second.kql"), "DeviceProcessEvents\n| where FileName =~ \"whoami.exe\"\n")
        .expect("write");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "second"]);
    let second = git(repo, &["rev-parse", "HEAD"]);
    let read = read_source(&spec, &options, &|_| {}).expect("updates");
    assert_eq!(read.info.commit.as_deref(), Some(second.as_str()));
    assert_eq!(read.rules.len(), 2);

    // Without a revision: the default branch, up to date.
    let default_branch = SourceSpec { revision: None, ..spec.clone() };
    let read = read_source(&default_branch, &options, &|_| {}).expect("default branch");
    assert_eq!(read.info.commit.as_deref(), Some(second.as_str()));

    // Pinned to the first commit: the tree of that commit, not the newest.
    let pinned = SourceSpec { revision: None, commit: Some(first.clone()), ..spec.clone() };
    let read = read_source(&pinned, &options, &|_| {}).expect("pins");
    assert_eq!(read.info.commit.as_deref(), Some(first.as_str()));
    assert_eq!(read.rules.len(), 1);

    // A revision that does not exist is an error for the source, not a panic.
    let missing = SourceSpec { revision: Some("no-such-branch".to_owned()), ..spec };
    let error = read_source(&missing, &options, &|_| {}).expect_err("unknown revision");
    assert!(error.to_string().contains("no-such-branch"), "{error}");
}

#[test]
fn local_checkout_gives_commit_and_remote() {
    if !git_available() {
        return;
    }
    let checkout = tempfile::tempdir().expect("temp dir");
    let repo = checkout.path();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["remote", "add", "origin", "git@github.com:example/rules.git"]);
    std::fs::create_dir_all(repo.join("Hunting Queries")).expect("folder");
    std::fs::write(repo.join("Hunting Queries/whoami.kql"), "DeviceProcessEvents\n| take 1\n").expect("write");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "first"]);
    let head = git(repo, &["rev-parse", "HEAD"]);

    let spec = SourceSpec { path: Some(repo.to_path_buf()), ..SourceSpec::default() };
    let read = read_source(&spec, &ReadOptions::default(), &|_| {}).expect("reads");
    assert_eq!(read.info.commit.as_deref(), Some(head.as_str()));
    assert_eq!(read.info.repository_url.as_deref(), Some("https://github.com/example/rules"));
    let rule = &read.rules[0];
    assert_eq!(
        rule.provenance.permalink.as_deref(),
        Some(format!("https://github.com/example/rules/blob/{head}/Hunting%20Queries/whoami.kql").as_str())
    );
}
