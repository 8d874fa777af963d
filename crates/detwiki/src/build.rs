//! `detwiki build`: sources file -> rules -> analyses -> site, with progress and a summary.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use detwiki_catalog::{Catalog, SourceEntry};
use detwiki_db::CATALOG_FILE;
use detwiki_ir::Rule;
use detwiki_site::{SiteError, SiteOptions, SiteReport, build_site_with, format_timestamp};
use detwiki_sources::{ReadOptions, SourceSpec, load_sources_file, read_source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::catalog_input::{default_cache_dir, source_root, write_indexed};
use crate::flags::BuildArgs;
use crate::messages::{Outcome, message};

/// A progress bar on standard error, hidden when standard error is not a terminal.
pub fn progress_bar() -> ProgressBar {
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    ProgressBar::with_draw_target(None, target)
}

/// The build time shown on pages: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn build_timestamp() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0));
    format_timestamp(seconds)
}

pub fn run(args: &BuildArgs) -> Outcome {
    let started = Instant::now();
    if !args.config.is_file() {
        if args.config == Path::new("detwiki.toml") {
            message!(
                "detwiki.toml not found in the current folder; run from the detwiki repository or pass --config FILE"
            );
        } else {
            message!("{}: sources file not found", args.config.display());
        }
        return Outcome::Usage;
    }
    let specs = match load_sources_file(&args.config) {
        Ok(specs) => specs,
        Err(error) => {
            message!("{error}");
            return Outcome::Usage;
        }
    };
    if specs.is_empty() {
        message!("{}: no [[source]] entry; nothing to build", args.config.display());
        return Outcome::Usage;
    }
    let options = ReadOptions { cache_dir: args.cache.clone().unwrap_or_else(default_cache_dir) };

    let bar = progress_bar();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut failed_sources = Vec::new();
    let mut inputs: Vec<(SourceEntry, Vec<Rule>)> = Vec::new();
    let mut roots: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (position, spec) in specs.iter().enumerate() {
        let label = source_label(spec, position);
        bar.set_prefix(format!("reading {label}"));
        let on_file = |path: &str| bar.set_message(path.to_owned());
        match read_source(spec, &options, &on_file) {
            Ok(read) => {
                let mut info = read.info;
                if info.name.is_empty() {
                    info.name = label.clone();
                }
                if info.expect_rules_at_least.is_none() {
                    info.expect_rules_at_least = spec.expect_rules_at_least;
                }
                roots.insert(info.name.clone(), source_root(spec.path.as_deref(), &options.cache_dir, &info.slug));
                inputs.push((SourceEntry { info, context: read.context }, read.rules));
            }
            Err(error) => {
                bar.suspend(|| message!("{error}"));
                failed_sources.push(label);
            }
        }
    }

    let total_rules: usize = inputs.iter().map(|(_, rules)| rules.len()).sum();
    bar.set_prefix("analysing");
    bar.set_message("");
    bar.set_length(total_rules as u64);
    bar.set_position(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} rules {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let catalog = Catalog::build(inputs, &|_| bar.inc(1));

    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix("writing site");
    bar.set_message(format!("{} pages into {}", catalog.rules.len(), args.out.display()));
    let site_options = SiteOptions {
        generated: build_timestamp(),
        page_size: args.page_size,
        base_url: args.base_url.clone(),
        search: !args.no_search,
    };
    // The catalog database is written into the staging folder, so it is swapped in with the pages.
    let write_database = |root: &Path, index: &detwiki_catalog::CatalogIndex| {
        write_indexed(&catalog, index, &roots, &site_options.generated, &root.join(CATALOG_FILE))
            .map_err(|error| error.to_string())
    };
    let site = build_site_with(&catalog, &args.out, &site_options, &write_database);
    bar.finish_and_clear();
    let report = match site {
        Ok(report) => report,
        Err(error @ SiteError::NotASite { .. }) => {
            message!("{error}; choose another --out");
            return Outcome::Usage;
        }
        Err(error) => {
            message!("writing the site failed: {error}");
            return Outcome::Failures;
        }
    };
    for problem in &report.problems {
        message!("{problem}");
    }

    let short_sources = print_summary(&catalog, &report, args, started.elapsed());
    let panics = catalog.panics();
    if !failed_sources.is_empty() {
        message!("{} source(s) could not be read: {}", failed_sources.len(), failed_sources.join(", "));
    }
    if panics > 0 {
        message!("a language engine panicked on {panics} rule(s); their pages carry an engine-panic diagnostic");
    }
    if catalog.rules.is_empty() {
        message!(
            "0 rules found: no known rule layout under the sources of {}; {} file(s) were skipped, run with --verbose to see why",
            args.config.display(),
            catalog.skipped_files()
        );
    }
    if failed_sources.is_empty() && panics == 0 && short_sources.is_empty() && !catalog.rules.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failures
    }
}

fn source_label(spec: &SourceSpec, position: usize) -> String {
    spec.name
        .clone()
        .or_else(|| spec.path.as_ref().map(|path| path.display().to_string()))
        .or_else(|| spec.url.clone())
        .unwrap_or_else(|| format!("source #{}", position + 1))
}

/// Prints the closing summary on standard output; returns the sources below their expected count.
fn print_summary(catalog: &Catalog, site: &SiteReport, args: &BuildArgs, elapsed: Duration) -> Vec<String> {
    let mut text = String::new();
    let short_sources = write_summary(&mut text, catalog, site, args, elapsed);
    crate::output::write_stdout(&text);
    short_sources
}

fn write_summary(
    text: &mut String,
    catalog: &Catalog,
    site: &SiteReport,
    args: &BuildArgs,
    elapsed: Duration,
) -> Vec<String> {
    use std::fmt::Write as _;
    let mut short_sources = Vec::new();
    let out = args.out.display();
    let _ = writeln!(
        text,
        "detwiki: built {} rule pages into {out}/ (open {out}/index.html or run `detwiki serve --dir {out}`)",
        catalog.rules.len()
    );
    let _ = writeln!(text, "  sources:");
    let by_source = catalog.counts_by_source();
    let width = by_source.iter().map(|(info, _)| info.name.chars().count()).max().unwrap_or(0);
    for (info, counts) in &by_source {
        let mut line = format!(
            "    {:width$}  {:>6} rules  {:>6} skipped  {:>6} with diagnostics",
            info.name, counts.rules, counts.skipped_files, counts.rules_with_diagnostics
        );
        if let Some(expected) = info.expect_rules_at_least {
            if counts.rules < expected {
                line.push_str(&format!("  BELOW EXPECTED {expected}"));
                short_sources.push(info.name.clone());
            } else {
                line.push_str(&format!("  (expected >= {expected})"));
            }
        }
        let _ = writeln!(text, "{line}");
    }
    let _ = writeln!(text, "  languages:");
    for (family, counts) in catalog.counts_by_family() {
        let _ = writeln!(
            text,
            "    {:12}  {:>6} rules  {:>6} skipped  {:>6} with diagnostics",
            family.display_name(),
            counts.rules,
            counts.skipped_files,
            counts.rules_with_diagnostics
        );
    }
    let mut query_languages: BTreeMap<&str, u64> = BTreeMap::new();
    for entry in &catalog.rules {
        // A rule without a query (an Elastic machine-learning rule) is counted as "no query".
        let mut languages: BTreeSet<&str> =
            entry.rule.queries.iter().map(|query| query.language.display_name()).collect();
        if languages.is_empty() {
            languages.insert(detwiki_ir::Language::None.display_name());
        }
        for language in languages {
            *query_languages.entry(language).or_default() += 1;
        }
    }
    let query_line: Vec<String> = query_languages.iter().map(|(name, count)| format!("{name} {count}")).collect();
    let _ = writeln!(
        text,
        "  rules per query language: {}",
        if query_line.is_empty() { "none".to_owned() } else { query_line.join(", ") }
    );
    let files_with_diagnostics: BTreeSet<(&str, &str)> = catalog
        .rules
        .iter()
        .filter(|entry| entry.has_diagnostics())
        .map(|entry| (entry.rule.provenance.source.as_str(), entry.rule.provenance.path.as_str()))
        .collect();
    let _ = writeln!(
        text,
        "  skipped files: {} (reasons on {out}/sources/index.html{})",
        catalog.skipped_files(),
        if args.verbose { "" } else { "; --verbose lists them" }
    );
    if args.verbose {
        for (info, _) in &by_source {
            for skipped in &info.skipped {
                let _ = writeln!(text, "    {}: {}: {}", info.name, skipped.path, skipped.reason);
            }
        }
    }
    let _ = writeln!(text, "  files with diagnostics: {}", files_with_diagnostics.len());
    let _ = writeln!(text, "  engine panics: {}", catalog.panics());
    match &site.search {
        Some(search) => {
            let _ = writeln!(
                text,
                "  search index: {} pages, {} files, {:.1} MB in {:.2}s",
                search.records,
                search.files,
                search.bytes as f64 / 1_000_000.0,
                site.search_time.as_secs_f64()
            );
        }
        None => {
            let _ = writeln!(text, "  search index: skipped (--no-search)");
        }
    }
    let _ = writeln!(text, "  wall time: {:.2}s", elapsed.as_secs_f64());
    short_sources
}
