//! Page paths: rule ids become folder names that are safe on every file system.

use std::collections::HashSet;

/// The folder of a rule page under `rules/`, as `/`-separated segments.
///
/// Each segment keeps ASCII letters, digits, `.`, `_` and `-`; anything else becomes `-`. Empty,
/// `.` and `..` segments and the page file names become `_`-prefixed, so no id can escape the
/// output folder or collide with a page file.
///
/// A first segment starting with `by-` is `_`-prefixed too: `rules/by-<order>/` holds the pages
/// of the rule list in that order.
pub fn rule_folder(id: &str) -> String {
    id.split('/')
        .enumerate()
        .map(|(position, segment)| {
            let cleaned: String = segment
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
                .collect();
            match cleaned.as_str() {
                "" | "." | ".." | "index.html" | "index.json" | "raw.txt" => format!("_{cleaned}"),
                _ if position == 0 && cleaned.starts_with("by-") => format!("_{cleaned}"),
                _ => cleaned,
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Assigns every id a distinct folder; returns the folders and the problems (duplicates).
pub fn assign_folders<'a>(ids: impl Iterator<Item = &'a str>) -> (Vec<String>, Vec<String>) {
    let mut used = HashSet::new();
    let mut folders = Vec::new();
    let mut problems = Vec::new();
    for id in ids {
        let base = rule_folder(id);
        let mut folder = base.clone();
        let mut counter = 2;
        while !used.insert(folder.to_ascii_lowercase()) {
            folder = format!("{base}-{counter}");
            counter += 1;
        }
        if folder != base {
            problems
                .push(format!("rule id {id:?} shares its page folder with another rule; its page is rules/{folder}/"));
        }
        folders.push(folder);
    }
    (folders, problems)
}

/// The relative path from a page at `depth` folders below the site root back to the root.
pub fn root_from_depth(depth: usize) -> String {
    "../".repeat(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_stay_inside() {
        assert_eq!(rule_folder("demo/../../etc/passwd"), "demo/_../_../etc/passwd");
        assert_eq!(rule_folder("a b/<x>"), "a-b/-x-");
        assert_eq!(rule_folder("s//index.html"), "s/_/_index.html");
        assert_eq!(rule_folder("by-date/x/by-y"), "_by-date/x/by-y");
    }

    #[test]
    fn duplicates_get_distinct_folders() {
        let (folders, problems) = assign_folders(["a/b c", "a/b-c", "A/B-C"].into_iter());
        assert_eq!(folders, ["a/b-c", "a/b-c-2", "A/B-C-3"]);
        assert_eq!(problems.len(), 2);
    }
}
