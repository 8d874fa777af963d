//! Long lists split into pages, and the orders a rule list can be read in.
//!
//! A catalog of ten thousand rules does not fit one page (the browse page was a 2.8 MB table),
//! and a static host cannot sort on request. So every rule list is written once per order
//! (title, language, source, severity, date), each order split into pages of at most
//! `page_size` rows, and the pages link to each other and to the other orders. Nothing needs
//! JavaScript; the same page model feeds the HTML page and its JSON twin.
//!
//! Paths: page 1 of the title order is the list's own folder (`rules/`, `browse/language/kusto/`);
//! every other page is `<list>by-<order>/` (page 1) or `<list>by-<order>/<n>/`. Lists that are
//! not sortable (the rules of an indicator or an event, grouped by language) use the title form.

use std::cmp::Reverse;

use detwiki_ir::Family;
use serde::Serialize;

use crate::pages::RuleSummary;

/// Rows per page unless `--page-size` says otherwise: about 40 KB of HTML for a browse page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// How many page numbers around the current one the page links show (first and last always).
const PAGE_LINK_RADIUS: usize = 3;

/// An order of a rule list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Title,
    Language,
    Source,
    Severity,
    Date,
}

impl SortKey {
    pub const ALL: [SortKey; 5] =
        [SortKey::Title, SortKey::Language, SortKey::Source, SortKey::Severity, SortKey::Date];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Title => "title",
            SortKey::Language => "language",
            SortKey::Source => "source",
            SortKey::Severity => "severity",
            SortKey::Date => "date",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Title => "Title",
            SortKey::Language => "Language",
            SortKey::Source => "Source",
            SortKey::Severity => "Severity (highest first)",
            SortKey::Date => "Date (newest first)",
        }
    }
}

/// The folder of page `page` (1-based) of the list at `base` in `sort` order, relative to the site
/// root and ending with `/`.
pub fn list_page_path(base: &str, sort: SortKey, page: usize) -> String {
    match (sort, page) {
        (SortKey::Title, 1) => base.to_owned(),
        (_, 1) => format!("{base}by-{}/", sort.as_str()),
        _ => format!("{base}by-{}/{page}/", sort.as_str()),
    }
}

/// A link to one page of a list.
#[derive(Debug, Clone, Serialize)]
pub struct PageLink {
    pub page: usize,
    pub path: String,
    pub current: bool,
}

/// A link to the same list in another order.
#[derive(Debug, Clone, Serialize)]
pub struct OrderLink {
    pub sort: SortKey,
    #[serde(skip)]
    pub label: &'static str,
    /// Page 1 of the list in that order.
    pub path: String,
    pub current: bool,
}

/// Where a page sits in its list: shown as page links, and in the JSON twin so that a script can
/// walk every page (`next` until there is none).
#[derive(Debug, Clone, Serialize)]
pub struct Pagination {
    /// 1-based.
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    /// Rows of the whole list.
    pub total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<SortKey>,
    /// Folders relative to the site root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Page links shown: the first, the last and those near this one; `None` marks a gap.
    #[serde(skip)]
    pub links: Vec<Option<PageLink>>,
    /// The same list in each order (empty for lists with one order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<OrderLink>,
}

impl Pagination {
    /// Page `page` of a list of `total` rows at `base`; `sort` is `None` for a list with one order.
    pub fn new(base: &str, sort: Option<SortKey>, page: usize, per_page: usize, total: usize) -> Pagination {
        let per_page = per_page.max(1);
        let pages = total.div_ceil(per_page).max(1);
        let order = sort.unwrap_or(SortKey::Title);
        let path = |number: usize| list_page_path(base, order, number);
        let mut links = Vec::new();
        for number in 1..=pages {
            let near = number.abs_diff(page) <= PAGE_LINK_RADIUS;
            if number == 1 || number == pages || near {
                links.push(Some(PageLink { page: number, path: path(number), current: number == page }));
            } else if links.last().is_some_and(Option::is_some) {
                links.push(None);
            }
        }
        let orders = match sort {
            Some(sort) => SortKey::ALL
                .into_iter()
                .map(|other| OrderLink {
                    sort: other,
                    label: other.label(),
                    path: list_page_path(base, other, 1),
                    current: other == sort,
                })
                .collect(),
            None => Vec::new(),
        };
        Pagination {
            page,
            pages,
            per_page,
            total,
            sort,
            previous: (page > 1).then(|| path(page - 1)),
            next: (page < pages).then(|| path(page + 1)),
            links,
            orders,
        }
    }

    /// Whether the page shows any navigation at all.
    pub fn shown(&self) -> bool {
        self.pages > 1 || !self.orders.is_empty()
    }
}

/// The rows of page `page` (1-based) of `items`.
pub fn page_slice<T>(items: &[T], page: usize, per_page: usize) -> &[T] {
    let per_page = per_page.max(1);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    &items[start..end]
}

/// How many pages a list of `total` rows takes (at least one: an empty list still has its page).
pub fn page_count(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page.max(1)).max(1)
}

/// The rank of every rule in every order, computed once for the catalog, so that any subset of
/// rules (a facet) is sorted by comparing ranks.
pub struct RuleOrders {
    /// `ranks[order][position]`: where the rule at `position` comes in that order.
    ranks: Vec<Vec<usize>>,
}

impl RuleOrders {
    pub fn new(summaries: &[RuleSummary]) -> RuleOrders {
        let ranks = SortKey::ALL
            .into_iter()
            .map(|sort| {
                let mut positions: Vec<usize> = (0..summaries.len()).collect();
                positions.sort_by_cached_key(|position| SortRow::new(&summaries[*position], sort));
                let mut rank = vec![0; summaries.len()];
                for (place, position) in positions.into_iter().enumerate() {
                    rank[position] = place;
                }
                rank
            })
            .collect();
        RuleOrders { ranks }
    }

    /// `positions` in `sort` order.
    pub fn sorted(&self, sort: SortKey, positions: &[usize]) -> Vec<usize> {
        let rank = &self.ranks[SortKey::ALL.iter().position(|other| *other == sort).unwrap_or(0)];
        let mut sorted = positions.to_vec();
        sorted.sort_by_key(|position| rank.get(*position).copied().unwrap_or(usize::MAX));
        sorted
    }
}

/// What a rule is compared by in one order; ties always fall back to the title, then the id, so
/// every order is total and the pages are the same from build to build.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortRow {
    primary: (u8, String),
    date: Reverse<String>,
    title: String,
    id: String,
}

impl SortRow {
    fn new(rule: &RuleSummary, sort: SortKey) -> SortRow {
        let title = rule.title.to_lowercase();
        let mut date = Reverse(String::new());
        let primary = match sort {
            SortKey::Title => (0, String::new()),
            SortKey::Language => (family_rank(rule.family), String::new()),
            SortKey::Source => (0, rule.source.to_lowercase()),
            SortKey::Severity => severity_rank(rule.severity.as_deref()),
            SortKey::Date => match &rule.date {
                Some(day) => {
                    date = Reverse(day.clone());
                    (0, String::new())
                }
                // Undated rules come last.
                None => (1, String::new()),
            },
        };
        SortRow { primary, date, title, id: rule.id.clone() }
    }
}

fn family_rank(family: &str) -> u8 {
    Family::ALL.iter().position(|other| other.as_str() == family).unwrap_or(Family::ALL.len()) as u8
}

/// Severities from the most serious down; a word no vendor scale knows comes after `informational`
/// (in text order), a rule without severity last.
fn severity_rank(severity: Option<&str>) -> (u8, String) {
    let Some(severity) = severity.map(str::trim).filter(|severity| !severity.is_empty()) else {
        return (7, String::new());
    };
    let folded = severity.to_lowercase();
    let rank = match folded.as_str() {
        "critical" => 0,
        "high" => 1,
        "medium" | "moderate" => 2,
        "low" => 3,
        "informational" | "info" | "information" => 4,
        _ => 5,
    };
    (rank, folded)
}

/// A rule's date as `YYYY-MM-DD` for sorting and showing: its last modification, else its
/// creation date, read from the spellings rule formats use (`2023/01/31`, `2023-01-31`,
/// `2023-01-31T10:00:00Z`). `None` when neither date reads as a calendar day.
pub fn normalized_date(modified: Option<&str>, created: Option<&str>) -> Option<String> {
    [modified, created].into_iter().flatten().find_map(calendar_day)
}

fn calendar_day(text: &str) -> Option<String> {
    let mut parts = text.trim().split(|c: char| !c.is_ascii_digit()).filter(|part| !part.is_empty());
    let year = parts.next().filter(|year| year.len() == 4)?.parse::<u32>().ok()?;
    let month = parts.next().filter(|month| month.len() <= 2)?.parse::<u32>().ok()?;
    let day = parts.next().filter(|day| day.len() <= 2)?.parse::<u32>().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then(|| format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_pages_and_orders() {
        assert_eq!(list_page_path("rules/", SortKey::Title, 1), "rules/");
        assert_eq!(list_page_path("rules/", SortKey::Title, 2), "rules/by-title/2/");
        assert_eq!(list_page_path("rules/", SortKey::Date, 1), "rules/by-date/");
        assert_eq!(list_page_path("rules/", SortKey::Date, 3), "rules/by-date/3/");
    }

    #[test]
    fn page_links_skip_the_middle_of_long_lists() {
        let pagination = Pagination::new("rules/", Some(SortKey::Title), 10, 10, 200);
        assert_eq!(pagination.pages, 20);
        let shown: Vec<Option<usize>> =
            pagination.links.iter().map(|link| link.as_ref().map(|link| link.page)).collect();
        assert_eq!(
            shown,
            [Some(1), None, Some(7), Some(8), Some(9), Some(10), Some(11), Some(12), Some(13), None, Some(20)]
        );
        assert_eq!(pagination.previous.as_deref(), Some("rules/by-title/9/"));
        assert_eq!(pagination.next.as_deref(), Some("rules/by-title/11/"));
        assert_eq!(pagination.orders.len(), 5);
        let first = Pagination::new("rules/", None, 1, 10, 0);
        assert!(!first.shown());
        assert_eq!((first.pages, first.previous, first.next), (1, None, None));
    }

    #[test]
    fn slices_cover_every_row_once() {
        let items: Vec<usize> = (0..23).collect();
        let pages = page_count(items.len(), 10);
        let joined: Vec<usize> = (1..=pages).flat_map(|page| page_slice(&items, page, 10).to_vec()).collect();
        assert!(page_slice(&items, 9, 10).is_empty());
        assert_eq!((pages, joined), (3, items));
    }

    #[test]
    fn dates_read_as_calendar_days() {
        assert_eq!(normalized_date(None, Some("2023/01/31")).as_deref(), Some("2023-01-31"));
        assert_eq!(normalized_date(Some("2024-2-3T10:00:00Z"), Some("2023/01/31")).as_deref(), Some("2024-02-03"));
        assert_eq!(normalized_date(Some("soon"), Some("2021-12-01")).as_deref(), Some("2021-12-01"));
        assert_eq!(normalized_date(Some("31/01/2023"), None), None);
        assert_eq!(severity_rank(Some("High")).0, 1);
        assert!(severity_rank(Some("weird")) < severity_rank(None));
    }
}
