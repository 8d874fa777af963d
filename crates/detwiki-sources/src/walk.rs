//! Walking a source folder: every file under it, in path order, with the problems that make a
//! file unreadable (a directory symlink loop, a broken link) reported as skipped files.

use std::path::{Path, PathBuf};

/// Files larger than this are not rules (the largest corpus rule is far below); they are
/// reported as skipped rather than read.
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
pub(crate) enum Walked {
    File { repo_path: String, full_path: PathBuf },
    Problem { repo_path: String, reason: String },
}

impl Walked {
    pub(crate) fn repo_path(&self) -> &str {
        match self {
            Walked::File { repo_path, .. } | Walked::Problem { repo_path, .. } => repo_path,
        }
    }
}

/// Path of `path` inside `root`, with `/` separators.
pub(crate) fn repo_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative.components().map(|component| component.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Every file under `root`, sorted by repository path. Names starting with `.` (`.git`,
/// `.github`) are not part of the rule set and are not visited. Symbolic links are followed;
/// a link that loops back to one of its ancestors is reported instead of being walked.
pub(crate) fn walk(root: &Path) -> Vec<Walked> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        match entry {
            Ok(entry) => {
                if entry.file_type().is_file() {
                    out.push(Walked::File { repo_path: repo_path(root, entry.path()), full_path: entry.into_path() });
                } else if !entry.file_type().is_dir() {
                    out.push(Walked::Problem {
                        repo_path: repo_path(root, entry.path()),
                        reason: "not a regular file (device, socket or pipe)".to_owned(),
                    });
                }
            }
            Err(error) => {
                let Some(path) = error.path() else { continue };
                if path == root {
                    continue;
                }
                let reason = if let Some(ancestor) = error.loop_ancestor() {
                    format!("directory symlink loop (points back to `{}`)", repo_path(root, ancestor))
                } else if path.symlink_metadata().is_ok_and(|meta| meta.file_type().is_symlink()) && !path.exists() {
                    "broken symbolic link".to_owned()
                } else {
                    match error.io_error() {
                        Some(io) => format!("cannot read: {io}"),
                        None => format!("cannot read: {error}"),
                    }
                };
                out.push(Walked::Problem { repo_path: repo_path(root, path), reason });
            }
        }
    }
    out.sort_by(|a, b| a.repo_path().cmp(b.repo_path()));
    out
}

/// Reads a file as text: too-large files are refused; invalid UTF-8 is decoded lossily and
/// reported, so a bad byte never loses a whole rule.
pub(crate) fn read_text_file(path: &Path) -> Result<(String, bool), String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read: {error}"))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!(
            "file too large ({} bytes, more than the {} MiB limit for a rule file)",
            metadata.len(),
            MAX_FILE_BYTES / 1024 / 1024
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read: {error}"))?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, false)),
        Err(error) => Ok((String::from_utf8_lossy(error.as_bytes()).into_owned(), true)),
    }
}
