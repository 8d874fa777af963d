//! Git: the commit and remote of a local checkout, and git sources cloned into the cache.
//!
//! A git source is fetched into a bare repository `<cache>/<slug>.git` (cloned the first time,
//! fetched afterwards), the requested revision is resolved there, and that commit's tree is
//! written to `<cache>/<slug>/` (into a temporary folder first, then renamed, so an interrupted
//! export never leaves a half-written tree). The folder records its commit in
//! `.detwiki-commit`, so an unchanged commit is not written again. Reading the tree from the
//! object database means no worktree or index is involved: the files are exactly the commit's.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The commit checked out in a folder, and its `origin` URL.
#[derive(Debug, Clone)]
pub(crate) struct CheckoutInfo {
    pub commit: String,
    pub remote_url: Option<String>,
}

/// `Some` when `path` is the top of a git checkout (parent repositories are not searched: a
/// source inside another repository is not that repository).
pub(crate) fn checkout_info(path: &Path) -> Option<CheckoutInfo> {
    if !path.join(".git").exists() {
        return None;
    }
    let repository = gix::open(path).ok()?;
    let commit = repository.head_id().ok()?.detach().to_string();
    let remote_url = repository
        .find_remote("origin")
        .ok()
        .and_then(|remote| remote.url(gix::remote::Direction::Fetch).map(|url| url.to_bstring().to_string()))
        .map(|url| https_url(&url));
    Some(CheckoutInfo { commit, remote_url })
}

/// `git@github.com:o/r.git` -> `https://github.com/o/r`, so permalinks can be made.
fn https_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("git@")
        && let Some((host, path)) = rest.split_once(':')
    {
        return format!("https://{host}/{}", path.trim_end_matches(".git"));
    }
    url.to_owned()
}

/// A git source ready to be read.
#[derive(Debug, Clone)]
pub(crate) struct Cloned {
    pub worktree: PathBuf,
    pub commit: String,
}

/// Clones (or fetches) `url` into the cache and writes the tree of `revision` (a branch, tag or
/// commit; the remote's HEAD when `None`) to `destination`.
pub(crate) fn clone_or_update(url: &str, revision: Option<&str>, destination: &Path) -> Result<Cloned, String> {
    let bare_path = destination.with_extension("git");
    if let Some(parent) = bare_path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    let interrupt = AtomicBool::new(false);
    let repository = if bare_path.exists() {
        let repository = gix::open(&bare_path).map_err(|error| format!("cannot open cache: {error}"))?;
        // A commit already present needs no fetch.
        let known = revision.is_some_and(|revision| is_commit_hash(revision) && resolve(&repository, revision).is_ok());
        if !known {
            fetch(&repository, &interrupt)?;
        }
        gix::open(&bare_path).map_err(|error| format!("cannot open cache: {error}"))?
    } else {
        let mut prepare =
            gix::prepare_clone_bare(url, &bare_path).map_err(|error| format!("cannot start clone: {error}"))?;
        let (repository, _) =
            prepare.fetch_only(gix::progress::Discard, &interrupt).map_err(|error| format!("clone failed: {error}"))?;
        repository
    };
    let commit = match revision {
        Some(revision) => resolve(&repository, revision)?,
        None => {
            // The bare clone's HEAD names the default branch; after a fetch its newest commit
            // is in the remote-tracking ref.
            let branch = repository.head_name().ok().flatten().map(|name| name.shorten().to_string());
            match branch.as_deref().map(|branch| resolve(&repository, branch)) {
                Some(Ok(id)) => id,
                _ => repository.head_id().map_err(|error| format!("no HEAD: {error}"))?.detach(),
            }
        }
    };
    let commit_hex = commit.to_string();
    let marker = destination.join(".detwiki-commit");
    if std::fs::read_to_string(&marker).is_ok_and(|written| written.trim() == commit_hex) {
        return Ok(Cloned { worktree: destination.to_path_buf(), commit: commit_hex });
    }
    export_tree(&repository, commit, destination)?;
    Ok(Cloned { worktree: destination.to_path_buf(), commit: commit_hex })
}

fn is_commit_hash(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}

fn fetch(repository: &gix::Repository, interrupt: &AtomicBool) -> Result<(), String> {
    // A bare clone keeps no fetch refspecs in its configuration: name them here. Branches go to
    // remote-tracking refs, which `resolve` looks at first.
    let remote = repository
        .find_remote("origin")
        .map_err(|error| format!("no origin remote: {error}"))?
        .with_refspecs(
            ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
            gix::remote::Direction::Fetch,
        )
        .map_err(|error| format!("bad refspec: {error}"))?;
    let connection =
        remote.connect(gix::remote::Direction::Fetch).map_err(|error| format!("cannot connect: {error}"))?;
    let prepared = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|error| format!("cannot prepare fetch: {error}"))?;
    prepared.receive(gix::progress::Discard, interrupt).map_err(|error| format!("fetch failed: {error}"))?;
    Ok(())
}

/// Resolves a branch, tag or commit in a bare clone (remote-tracking names included).
fn resolve(repository: &gix::Repository, revision: &str) -> Result<gix::ObjectId, String> {
    let candidates = [
        format!("refs/remotes/origin/{revision}"),
        revision.to_owned(),
        format!("refs/heads/{revision}"),
        format!("refs/tags/{revision}"),
    ];
    for candidate in &candidates {
        if let Ok(id) = repository.rev_parse_single(candidate.as_str())
            && let Ok(object) = id.object()
            && let Ok(commit) = object.peel_to_commit()
        {
            return Ok(commit.id);
        }
    }
    Err(format!("revision `{revision}` not found"))
}

fn export_tree(repository: &gix::Repository, commit: gix::ObjectId, destination: &Path) -> Result<(), String> {
    let commit = repository.find_commit(commit).map_err(|error| format!("cannot read commit: {error}"))?;
    let tree = commit.tree().map_err(|error| format!("cannot read tree: {error}"))?;
    let entries = tree.traverse().breadthfirst.files().map_err(|error| format!("cannot walk tree: {error}"))?;
    let staging = destination.with_extension("tmp");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|error| format!("cannot clear {}: {error}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging).map_err(|error| format!("cannot create {}: {error}", staging.display()))?;
    for entry in entries {
        if !entry.mode.is_blob() {
            // Trees are created with their files; symbolic links and submodules are not
            // exported (they could point outside the repository).
            continue;
        }
        let relative = entry.filepath.to_string();
        if relative.split('/').any(|part| part == ".." || part.is_empty()) {
            continue;
        }
        let path = staging.join(&relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
        }
        let object = repository.find_object(entry.oid).map_err(|error| format!("cannot read {relative}: {error}"))?;
        std::fs::write(&path, &object.data).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    std::fs::write(staging.join(".detwiki-commit"), commit.id.to_string())
        .map_err(|error| format!("cannot write marker: {error}"))?;
    if destination.exists() {
        std::fs::remove_dir_all(destination)
            .map_err(|error| format!("cannot replace {}: {error}", destination.display()))?;
    }
    std::fs::rename(&staging, destination).map_err(|error| format!("cannot move export into place: {error}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_become_https() {
        assert_eq!(https_url("git@github.com:o/r.git"), "https://github.com/o/r");
        assert_eq!(https_url("https://github.com/o/r"), "https://github.com/o/r");
    }
}
