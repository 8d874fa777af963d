//! A git source over a `file://` URL: `build --cache DIR` clones it there and builds its rules with
//! the commit and a permalink-free provenance (the URL is not a known forge).

mod common;

use std::process::Command;

use common::{detwiki, read_json, text, workspace_root};

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "detwiki test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "detwiki test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

#[test]
fn a_git_url_is_cloned_into_the_cache() {
    if Command::new("git").arg("--version").output().is_err() {
        detwiki_testkit::missing::<()>("no git binary to create the test repository");
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let repository = temp.path().join("repository");
    std::fs::create_dir_all(repository.join("rules")).unwrap();
    let demo = workspace_root().join("examples/demo-corpus/yaral/rules/windows");
    for entry in std::fs::read_dir(&demo).unwrap().flatten() {
        std::fs::copy(entry.path(), repository.join("rules").join(entry.file_name())).unwrap();
    }
    git(&repository, &["init", "--quiet", "--initial-branch=main"]);
    git(&repository, &["add", "."]);
    git(&repository, &["commit", "--quiet", "-m", "rules"]);

    let url = format!("file://{}", repository.display());
    std::fs::write(
        temp.path().join("sources.toml"),
        format!("[[source]]\nname = \"local/yaral\"\nurl = {url:?}\nexpect_rules_at_least = 5\n"),
    )
    .unwrap();
    let output = detwiki(temp.path(), &["build", "--config", "sources.toml", "--out", "site", "--cache", "cache"]);
    assert!(output.status.success(), "{}\n{}", text(&output.stdout), text(&output.stderr));
    assert!(std::fs::read_dir(temp.path().join("cache")).unwrap().next().is_some(), "the cache holds the clone");
    let home = read_json(&temp.path().join("site/index.json"));
    assert_eq!(home["sources"][0]["rules"], 5);
    let commit = home["sources"][0]["commit"].as_str().expect("the commit of the clone");
    assert_eq!(commit.len(), 40);
}
