//! Catalog fidelity on named real rules (issue 8): one test per defect class, each on the rule the
//! review named and at least one other rule of the same class, read from their files in the
//! shared corpus and run through the whole catalog (engines, KQL table schemas, indicators, event
//! coverage, views).
//!
//! The folder comes from `DETWIKI_SHARED`, else `<workspace>/../shared`. When it is missing the
//! tests print `SKIPPED:` and pass, unless `DETWIKI_REQUIRE_SHARED=1`.

use std::path::PathBuf;
use std::sync::OnceLock;

use detwiki_catalog::{Catalog, CatalogIndex, IndicatorRow, RuleView, SourceEntry};
use detwiki_knowledge::{Fit, Knowledge};
use detwiki_testkit::shared_dir as shared;

/// Every file the tests read, relative to `corpus/`.
const FILES: &[&str] = &[
    // Joined columns.
    "Bert-JanP__Hunting-Queries-Detection-Rules/Defender For Endpoint/LocalGroupDiscovery.md",
    "FalconForceTeam__FalconFriday/0xFF-0299-UnPAC_the_hash-Win.md",
    // Computed and aggregated columns.
    "microsoft__Microsoft-365-Defender-Hunting-Queries/Discovery/doppelpaymer.md",
    "Bert-JanP__Hunting-Queries-Detection-Rules/Defender For Endpoint/SliverC2BeaconLoaded.md",
    // Path suffixes.
    "microsoft__Microsoft-365-Defender-Hunting-Queries/Execution/detect-bluekeep-related-mining.md",
    "SigmaHQ__sigma/rules/linux/file_event/file_event_lnx_doas_conf_creation.yml",
    // Spellings, encodings, whitespace, keywords.
    "SigmaHQ__sigma/rules/web/webserver_generic/web_ssti_in_access_logs.yml",
    "SigmaHQ__sigma/rules/windows/file/file_event/file_event_win_writing_local_admin_share.yml",
    "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_powershell_base64_iex.yml",
    "SigmaHQ__sigma/rules/windows/process_creation/proc_creation_win_lolbin_unregmp2.yml",
    "SigmaHQ__sigma/rules/windows/builtin/win_alert_mimikatz_keywords.yml",
    // Generic field names, CIDR.
    "SigmaHQ__sigma/rules/network/zeek/zeek_smb_converted_win_atsvc_task.yml",
    "SigmaHQ__sigma/rules/network/zeek/zeek_rdp_public_listener.yml",
    // Multi-document Sigma.
    "SigmaHQ__sigma/unsupported/windows/win_remote_service.yml",
    // Copy-ready queries.
    "Azure__Azure-Sentinel/Solutions/Network Session Essentials/Analytic Rules/NetworkPortSweepFromExternalNetwork.yaml",
];

struct Fixture {
    catalog: Catalog,
    index: CatalogIndex,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let shared = shared()?;
            let paths: Vec<PathBuf> = FILES.iter().map(|file| shared.join("corpus").join(file)).collect();
            for path in &paths {
                assert!(path.is_file(), "{} is missing from the corpus", path.display());
            }
            let read = detwiki_sources::read_paths(&paths);
            let catalog =
                Catalog::build(vec![(SourceEntry { info: read.info, context: read.context }, read.rules)], &|_| {});
            let index = CatalogIndex::build(&catalog, Knowledge::bundled());
            Some(Fixture { catalog, index })
        })
        .as_ref()
}

impl Fixture {
    /// The views of every rule read from `file` (several for a multi-document Sigma file).
    fn views(&self, file: &str) -> Vec<RuleView> {
        let views: Vec<RuleView> = self
            .catalog
            .rules
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.rule.provenance.path.ends_with(file))
            .filter_map(|(position, _)| RuleView::new(&self.catalog, &self.index, position))
            .collect();
        assert!(!views.is_empty(), "no rule from {file}");
        views
    }

    fn view(&self, file: &str) -> RuleView {
        self.views(file).remove(0)
    }

    fn position(&self, file: &str) -> usize {
        self.catalog.rules.iter().position(|entry| entry.rule.provenance.path.ends_with(file)).expect(file)
    }
}

/// The rows of `view` on `field`.
fn rows<'v>(view: &'v RuleView, field: &str) -> Vec<&'v IndicatorRow> {
    view.indicators.iter().filter(|row| row.field == field).collect()
}

fn row_texts(view: &RuleView) -> Vec<String> {
    view.indicators.iter().map(|row| format!("{} {} {}", row.field, row.kind, row.value)).collect()
}

#[test]
fn joined_columns_belong_to_the_joined_table() {
    let Some(fixture) = fixture() else { return };
    // `Department` comes from `join (IdentityInfo | ... | project Department, OnPremSid)`.
    let view = fixture.view("LocalGroupDiscovery.md");
    let department: Vec<_> = view
        .exclusions
        .iter()
        .filter(|exclusion| exclusion.condition.contains("Department"))
        .map(|exclusion| exclusion.dataset.as_deref())
        .collect();
    assert!(!department.is_empty(), "{:?}", view.exclusions);
    assert!(department.iter().all(|dataset| *dataset == Some("IdentityInfo")), "{department:?}");
    // Every indicator source names the table the column really comes from: the process events'
    // own columns stay on DeviceProcessEvents.
    for row in &view.indicators {
        for source in &row.sources {
            assert_eq!(source.dataset.as_deref(), Some("DeviceProcessEvents"), "{row:?}");
        }
    }
    // The join keys are fields read on each side.
    let identity = view.event_coverage.iter().find(|row| row.dataset == "IdentityInfo").expect("IdentityInfo row");
    assert!(identity.fields_read.iter().any(|field| field.contains("sid")), "{:?}", identity.fields_read);

    // Another rule of the class: FalconFriday's UnPAC-the-hash joins SecurityEvent to itself and
    // to DeviceProcessEvents; every source of every indicator is a table the query reads.
    let view = fixture.view("0xFF-0299-UnPAC_the_hash-Win.md");
    let rule = &fixture.catalog.rules[fixture.position("0xFF-0299-UnPAC_the_hash-Win.md")];
    let datasets: Vec<&str> = rule
        .analyses
        .iter()
        .flat_map(|query| query.analysis.datasets.iter().map(|dataset| dataset.name.as_str()))
        .collect();
    for row in &view.indicators {
        for source in &row.sources {
            let dataset = source.dataset.as_deref().expect("every source names its table");
            assert!(datasets.contains(&dataset), "{dataset} not among {datasets:?}");
            let columns = Knowledge::bundled().table_columns(dataset);
            let field = source.resolved_field.as_deref().unwrap_or(&source.raw_field);
            if let Some(columns) = columns {
                assert!(columns.iter().any(|column| column.name == field), "{field} is no column of {dataset}");
            }
        }
    }
}

#[test]
fn computed_and_aggregated_columns_are_never_indicators() {
    let Some(fixture) = fixture() else { return };
    // `set_ProcessCommandLine` comes from `summarize makeset(ProcessCommandLine)`.
    let view = fixture.view("Discovery/doppelpaymer.md");
    assert!(
        view.indicators.iter().all(|row| row.sources.iter().all(|source| !source.raw_field.starts_with("set_"))),
        "{:?}",
        row_texts(&view)
    );
    assert!(rows(&view, "process_name").iter().any(|row| row.value == "net.exe"), "{:?}", row_texts(&view));
    // `Step` is declared by `scan ... declare (Step:string)`, `GlobalPrevalence` comes from
    // `invoke FileProfile()`.
    let view = fixture.view("SliverC2BeaconLoaded.md");
    for row in &view.indicators {
        for source in &row.sources {
            assert!(!["Step", "GlobalPrevalence", "PipeName"].contains(&source.raw_field.as_str()), "{row:?}");
        }
    }
    assert!(view.indicators.iter().any(|row| row.value == "samlib.dll"), "{:?}", row_texts(&view));
}

#[test]
fn path_suffixes_are_names_only_after_one_separator() {
    let Some(fixture) = fixture() else { return };
    // KQL `FolderPath endswith "spool\\svchost.exe"` stays a path.
    let view = fixture.view("detect-bluekeep-related-mining.md");
    assert!(
        view.indicators
            .iter()
            .any(|row| row.kind == "ends_with" && row.value == "spool\\svchost.exe" && row.field.ends_with("path")),
        "{:?}",
        row_texts(&view)
    );
    // Sigma `TargetFilename|endswith: '/etc/doas.conf'` too.
    let view = fixture.view("file_event_lnx_doas_conf_creation.yml");
    assert!(
        view.indicators
            .iter()
            .any(|row| row.field == "file_path" && row.kind == "ends_with" && row.value == "/etc/doas.conf"),
        "{:?}",
        row_texts(&view)
    );
    // One leading separator and a name: `\mimilib.dll` is not a path suffix but a keyword here,
    // and `\ADMIN$\` ends in a separator: both keep their spelling (below).
}

#[test]
fn values_keep_the_rules_own_spelling() {
    let Some(fixture) = fixture() else { return };
    let view = fixture.view("web_ssti_in_access_logs.yml");
    assert!(
        rows(&view, "keyword").iter().any(|row| row.value == "T(org.apache.commons.io.IOUtils)"),
        "{:?}",
        row_texts(&view)
    );
    let view = fixture.view("file_event_win_writing_local_admin_share.yml");
    assert!(view.indicators.iter().any(|row| row.value == "\\ADMIN$\\"), "{:?}", row_texts(&view));
    assert!(view.indicators.iter().any(|row| row.value == "\\\\127.0.0"), "{:?}", row_texts(&view));
    // base64offset: `IEX ([` and `iex ([` encode differently and stay two indicators.
    let view = fixture.view("proc_creation_win_powershell_base64_iex.yml");
    let encoded: Vec<&str> = view
        .indicators
        .iter()
        .filter(|row| row.kind.contains("base64offset"))
        .map(|row| row.match_value.as_str())
        .collect();
    assert!(encoded.contains(&"IEX (["), "{encoded:?}");
    assert!(encoded.contains(&"iex (["), "{encoded:?}");
}

#[test]
fn invisible_characters_are_marked() {
    let Some(fixture) = fixture() else { return };
    let view = fixture.view("proc_creation_win_lolbin_unregmp2.yml");
    let hide = view.indicators.iter().find(|row| row.value.trim() == "/HideWMP").expect("the /HideWMP indicator");
    assert_eq!(hide.value, " /HideWMP", "the value keeps its leading space");
    assert_eq!(hide.value_text(), "⟨U+0020⟩/HideWMP");
}

#[test]
fn sigma_keywords_are_match_on_the_keyword_field() {
    let Some(fixture) = fixture() else { return };
    for file in ["win_alert_mimikatz_keywords.yml", "web_ssti_in_access_logs.yml"] {
        let view = fixture.view(file);
        let keywords = rows(&view, "keyword");
        assert!(!keywords.is_empty(), "{file}: {:?}", row_texts(&view));
        assert!(keywords.iter().all(|row| row.kind.starts_with("match")), "{file}: {:?}", row_texts(&view));
    }
    let view = fixture.view("win_alert_mimikatz_keywords.yml");
    assert!(rows(&view, "keyword").iter().any(|row| row.value == "\\mimilib.dll"), "{:?}", row_texts(&view));
}

#[test]
fn generic_name_fields_keep_their_dataset_meaning() {
    let Some(fixture) = fixture() else { return };
    // Zeek `smb_files` `name` is a file name on a share, not a WMI name.
    let view = fixture.view("zeek_smb_converted_win_atsvc_task.yml");
    assert!(view.indicators.iter().all(|row| row.field != "wmi_name"), "{:?}", row_texts(&view));
    assert!(view.indicators.iter().any(|row| row.value == "atsvc"), "{:?}", row_texts(&view));
}

#[test]
fn cidr_values_read_once() {
    let Some(fixture) = fixture() else { return };
    // `not selection` on `id.orig_h|cidr: [..., '10.0.0.0/8', ...]`: an exclusion that reads
    // `cidr 10.0.0.0/8` once, the operator not repeated inside the value.
    let view = fixture.view("zeek_rdp_public_listener.yml");
    let exclusions: Vec<&str> = view.exclusions.iter().map(|exclusion| exclusion.condition.as_str()).collect();
    let cidr = exclusions.iter().find(|condition| condition.contains("10.0.0.0/8")).expect("the private ranges");
    assert_eq!(cidr.matches("cidr").count(), 1, "{cidr}");
    assert!(cidr.starts_with("id.orig_h cidr "), "{cidr}");
    assert!(exclusions.iter().all(|condition| !condition.contains("cidr cidr")), "{exclusions:?}");
}

#[test]
fn catch_all_rows_only_for_a_product_alone() {
    let Some(fixture) = fixture() else { return };
    // `product: windows` alone: the catch-all row.
    let view = fixture.view("win_alert_mimikatz_keywords.yml");
    assert!(view.event_coverage.iter().any(|row| row.why.contains("without a category or service")));
    // With a category or service: that category's events only.
    for file in ["proc_creation_win_powershell_base64_iex.yml", "file_event_win_writing_local_admin_share.yml"] {
        let view = fixture.view(file);
        assert!(!view.event_coverage.is_empty(), "{file}");
        assert!(
            view.event_coverage.iter().all(|row| !row.why.contains("without a category or service")),
            "{file}: {:?}",
            view.event_coverage
        );
    }
}

#[test]
fn multi_document_sigma_keeps_every_detection() {
    let Some(fixture) = fixture() else { return };
    // An `action: global` document and two log sources: 4624 on Security, 7045 on System.
    let views = fixture.views("win_remote_service.yml");
    let events: Vec<String> = views
        .iter()
        .flat_map(|view| view.event_coverage.iter().map(|row| format!("{} {}", row.provider, row.event)))
        .collect();
    assert!(events.iter().any(|event| event.ends_with(" 4624")), "{events:?}");
    assert!(events.iter().any(|event| event.ends_with(" 7045")), "{events:?}");
}

#[test]
fn queries_are_copy_ready() {
    let Some(fixture) = fixture() else { return };
    // YAML block scalar `query: |`.
    let rule = &fixture.catalog.rules[fixture.position("NetworkPortSweepFromExternalNetwork.yaml")].rule;
    let text = &rule.queries[0].text;
    assert!(!text.starts_with('|') && !text.contains("query:"), "{text}");
    assert!(!text.lines().next().unwrap_or("").starts_with("  "), "block indentation removed: {text}");
}

#[test]
fn lookbacks_from_let_arithmetic() {
    let Some(fixture) = fixture() else { return };
    // `let timeframe = 2*1h; ... where ingestion_time() >= ago(timeframe)`.
    let view = fixture.view("0xFF-0299-UnPAC_the_hash-Win.md");
    let seconds: Vec<Option<u64>> = view.time_windows.lookbacks.iter().map(|window| window.seconds).collect();
    assert!(seconds.contains(&Some(7200)), "{:?}", view.time_windows);
}

#[test]
fn join_keys_count_in_event_fit() {
    let Some(fixture) = fixture() else { return };
    let view = fixture.view("LocalGroupDiscovery.md");
    let process = view
        .event_coverage
        .iter()
        .find(|row| row.dataset == "DeviceProcessEvents" && row.provider == "DeviceProcessEvents")
        .expect("DeviceProcessEvents row");
    // `on $left.AccountSid == $right.OnPremSid`: the process event must carry the account SID.
    assert!(process.fields_read.iter().any(|field| field.contains("sid")), "{:?}", process.fields_read);
    assert_eq!(process.fit, Fit::Full, "{process:?}");
}
