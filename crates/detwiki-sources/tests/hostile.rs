//! A hostile source built in a temporary folder: every file is reported (a rule or a skipped
//! entry with its reason) and nothing panics.

use std::collections::BTreeMap;
use std::path::PathBuf;

use detwiki_sources::{ReadOptions, SourceSpec, read_paths, read_source};

fn write(root: &std::path::Path, path: &str, bytes: &[u8]) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("folder");
    std::fs::write(full, bytes).expect("write");
}

fn hostile_source() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write(
        root,
        "xss/ScriptInDescription.md",
        b"# <script>alert(1)</script> title\n\n## Description\nClick [here](javascript:alert(1)) <script>alert(2)</script>\n\n## Query\n```kql\nDeviceEvents | take 1\n```\n",
    );
    let mut invalid = b"// bad bytes: ".to_vec();
    invalid.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid.extend_from_slice(b"\nDeviceEvents\n| where A == \"\xe9\"\n");
    write(root, "utf8/invalid.kql", &invalid);
    let mut big = Vec::with_capacity(10 * 1024 * 1024 + 100);
    big.extend_from_slice(b"DeviceEvents\n");
    while big.len() < 10 * 1024 * 1024 {
        big.extend_from_slice(b"| where FileName == \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n");
    }
    write(root, "big/huge.kql", &big);
    let mut bomb = String::from(
        "title: bomb\nlogsource: {product: windows}\ndetection:\n  a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    let mut previous = "a".to_owned();
    for level in 0..40 {
        let name = format!("l{level}");
        bomb.push_str(&format!(
            "  {name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
        ));
        previous = name;
    }
    bomb.push_str("  condition: a\n");
    write(root, "yaml/bomb.yml", bomb.as_bytes());
    let deep = format!("title: deep\nx: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    write(root, "yaml/deep.yml", deep.as_bytes());
    write(root, "yaml/broken.yml", b"title: [unclosed\ndetection: {\n");
    write(root, "empty.kql", b"");
    write(root, "data/table.txt", b"CVE\tVendor\tProduct\nCVE-1\tx\ty\n");
    write(root, "binary.yaral", &[0u8, 159, 146, 150, 0, 1, 2]);
    write(root, "toml/bad.toml", b"[rule\nname = ");
    write(
        root,
        "ok/rule.yml",
        b"title: ok\nlogsource:\n  product: windows\ndetection:\n  sel:\n    EventID: 1\n  condition: sel\n",
    );
    #[cfg(unix)]
    {
        std::fs::create_dir_all(root.join("loop")).expect("folder");
        std::os::unix::fs::symlink(root.join("loop"), root.join("loop/again")).expect("symlink");
        std::os::unix::fs::symlink(root.join("missing-target"), root.join("dangling.kql")).expect("symlink");
    }
    dir
}

#[test]
fn hostile_files_are_reported_one_by_one() {
    let dir = hostile_source();
    let spec =
        SourceSpec { name: Some("hostile".to_owned()), path: Some(dir.path().to_path_buf()), ..SourceSpec::default() };
    let read = read_source(&spec, &ReadOptions::default(), &|_| {}).expect("reads");
    let skipped: BTreeMap<&str, &str> =
        read.info.skipped.iter().map(|skipped| (skipped.path.as_str(), skipped.reason.as_str())).collect();
    for (path, reason) in &skipped {
        println!("skipped {path}: {reason}");
    }
    let rule_paths: Vec<&str> = read.rules.iter().map(|rule| rule.provenance.path.as_str()).collect();
    println!("rules: {rule_paths:?}");

    // The description keeps the markup as written: escaping is the renderer's job.
    let xss = read.rules.iter().find(|rule| rule.provenance.path == "xss/ScriptInDescription.md").expect("xss rule");
    assert!(xss.metadata.description.as_deref().is_some_and(|text| text.contains("<script>alert(2)</script>")));
    assert!(xss.metadata.description.as_deref().is_some_and(|text| text.contains("javascript:alert(1)")));

    let invalid = read.rules.iter().find(|rule| rule.provenance.path == "utf8/invalid.kql").expect("lossy rule");
    assert!(invalid.diagnostics.iter().any(|diagnostic| diagnostic.code == "invalid-utf8"));
    assert!(invalid.queries[0].text.contains('\u{FFFD}'));

    assert!(skipped["big/huge.kql"].contains("too large"), "{}", skipped["big/huge.kql"]);
    assert!(skipped["yaml/bomb.yml"].contains("aliases"), "{}", skipped["yaml/bomb.yml"]);
    let deep = skipped["yaml/deep.yml"];
    assert!(deep.contains("nesting") || deep.contains("recursion limit"), "{deep}");
    assert!(skipped["yaml/broken.yml"].contains("YAML does not parse"));
    assert_eq!(skipped["empty.kql"], "empty file");
    assert!(skipped["data/table.txt"].contains("does not look like KQL"));
    assert!(skipped["toml/bad.toml"].contains("TOML does not parse"));
    assert!(skipped.contains_key("binary.yaral"));
    assert!(rule_paths.contains(&"ok/rule.yml"));
    #[cfg(unix)]
    {
        assert!(skipped["loop/again"].contains("symlink loop"), "{}", skipped["loop/again"]);
        assert!(skipped["dangling.kql"].contains("broken symbolic link"), "{}", skipped["dangling.kql"]);
    }
    assert_eq!(read.info.files_seen as usize, read.rules.len() + read.info.skipped.len());

    // The same folder given on the command line.
    let paths = read_paths(&[PathBuf::from(dir.path())]);
    assert_eq!(paths.info.files_seen, read.info.files_seen);
    assert_eq!(paths.rules.len(), read.rules.len());
}
