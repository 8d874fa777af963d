//! Where a command's catalog comes from: a sources file read and analysed now, or the database a
//! build wrote. The rule of precedence (`--catalog`, then `--config`, then
//! `./site/catalog.sqlite`, then `./detwiki.toml`) is printed by `--help` and the README.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use detwiki_catalog::{Catalog, CatalogIndex, SourceEntry, catalog_findings};
use detwiki_db::{CATALOG_FILE, CatalogDb, WriteInput, write_catalog};
use detwiki_ir::Rule;
use detwiki_knowledge::Knowledge;
use detwiki_sources::{ReadOptions, load_sources_file, read_paths, read_source};

use crate::flags::CatalogArgs;
use crate::messages::{Outcome, message};

/// Sources read from a sources file (or paths), ready for [`Catalog::build`].
#[derive(Debug, Default)]
pub struct ReadSources {
    pub inputs: Vec<(SourceEntry, Vec<Rule>)>,
    /// Local folder of each source (a git source's checkout), canonical when it exists.
    pub roots: BTreeMap<String, PathBuf>,
    /// Sources that could not be read (already reported).
    pub failed: Vec<String>,
}

/// The user's cache folder for git sources.
pub fn default_cache_dir() -> PathBuf {
    if let Some(cache) = std::env::var_os("XDG_CACHE_HOME").filter(|value| !value.is_empty()) {
        return PathBuf::from(cache).join("detwiki");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|value| !value.is_empty()) {
        return PathBuf::from(home).join(".cache").join("detwiki");
    }
    PathBuf::from(".detwiki-cache")
}

/// The folder a source's files are read from: its `path`, or the checkout of its git URL.
pub fn source_root(spec_path: Option<&Path>, cache: &Path, slug: &str) -> PathBuf {
    let root = spec_path.map_or_else(|| cache.join(slug), Path::to_path_buf);
    root.canonicalize().unwrap_or(root)
}

/// Reads every source of a sources file, reporting the ones that fail.
pub fn read_sources_file(config: &Path, cache: Option<&Path>) -> Result<ReadSources, Outcome> {
    if !config.is_file() {
        message!("{}: sources file not found; pass --config FILE", config.display());
        return Err(Outcome::Usage);
    }
    let specs = load_sources_file(config).map_err(|error| {
        message!("{error}");
        Outcome::Usage
    })?;
    let cache_dir = cache.map_or_else(default_cache_dir, Path::to_path_buf);
    let options = ReadOptions { cache_dir: cache_dir.clone() };
    let mut read = ReadSources::default();
    for spec in &specs {
        match read_source(spec, &options, &|_| {}) {
            Ok(source) => {
                let root = source_root(spec.path.as_deref(), &cache_dir, &source.info.slug);
                read.roots.insert(source.info.name.clone(), root);
                read.inputs.push((SourceEntry { info: source.info, context: source.context }, source.rules));
            }
            Err(error) => {
                message!("{error}");
                read.failed.push(detwiki_sources::source_name(spec));
            }
        }
    }
    Ok(read)
}

/// Reads files and folders given on the command line as one source.
pub fn read_command_line(paths: &[PathBuf]) -> ReadSources {
    let source = read_paths(paths);
    let mut read = ReadSources::default();
    // Paths are kept as given: relative ones from the current folder, absolute ones from `/`.
    let root = if paths.iter().all(|path| path.is_relative()) {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
    } else {
        PathBuf::from("/")
    };
    read.roots.insert(source.info.name.clone(), root);
    read.inputs.push((SourceEntry { info: source.info, context: source.context }, source.rules));
    read
}

/// A catalog database opened for a command, with the temporary folder holding it when it was
/// built from a sources file just now.
#[derive(Debug)]
pub struct OpenCatalog {
    pub db: CatalogDb,
    _temporary: Option<tempfile::TempDir>,
}

/// Opens the catalog the flags name; `extra_file` is a rule file outside the sources that a
/// catalog built from a sources file should include (`show FILE`).
pub fn open_catalog(args: &CatalogArgs, extra_file: Option<&Path>) -> Result<OpenCatalog, Outcome> {
    let open = |path: &Path| {
        CatalogDb::open(path).map(|db| OpenCatalog { db, _temporary: None }).map_err(|error| {
            message!("{error}");
            Outcome::Usage
        })
    };
    if let Some(path) = &args.catalog {
        return open(path);
    }
    if let Some(config) = &args.config {
        return build_catalog(config, args.cache.as_deref(), extra_file);
    }
    let default_database = Path::new("site").join(CATALOG_FILE);
    if default_database.is_file() {
        return open(&default_database);
    }
    let default_config = Path::new("detwiki.toml");
    if default_config.is_file() {
        return build_catalog(default_config, args.cache.as_deref(), extra_file);
    }
    message!(
        "no catalog: neither ./site/catalog.sqlite nor ./detwiki.toml is here; run `detwiki build`, or pass \
         --catalog FILE or --config FILE"
    );
    Err(Outcome::Usage)
}

/// Builds the catalog of a sources file into a temporary database.
fn build_catalog(config: &Path, cache: Option<&Path>, extra_file: Option<&Path>) -> Result<OpenCatalog, Outcome> {
    let mut read = read_sources_file(config, cache)?;
    if let Some(file) = extra_file.filter(|file| !inside_roots(&read.roots, file)) {
        let extra = read_command_line(&[file.to_path_buf()]);
        read.inputs.extend(extra.inputs);
    }
    let catalog = Catalog::build(read.inputs, &|_| {});
    let temporary = tempfile::tempdir().map_err(|error| {
        message!("cannot create a temporary folder: {error}");
        Outcome::Failures
    })?;
    let path = temporary.path().join(CATALOG_FILE);
    write_database(&catalog, &read.roots, "", &path).map_err(|error| {
        message!("{error}");
        Outcome::Failures
    })?;
    let db = CatalogDb::open(&path).map_err(|error| {
        message!("{error}");
        Outcome::Failures
    })?;
    Ok(OpenCatalog { db, _temporary: Some(temporary) })
}

/// Computes the index and findings of `catalog` and writes its database to `path`.
pub fn write_database(
    catalog: &Catalog,
    roots: &BTreeMap<String, PathBuf>,
    generated: &str,
    path: &Path,
) -> Result<(), detwiki_db::DbError> {
    let knowledge = Knowledge::bundled();
    let index = CatalogIndex::build(catalog, knowledge);
    write_indexed(catalog, &index, roots, generated, path)
}

/// Writes the database of a catalog whose index is already computed.
pub fn write_indexed(
    catalog: &Catalog,
    index: &CatalogIndex,
    roots: &BTreeMap<String, PathBuf>,
    generated: &str,
    path: &Path,
) -> Result<(), detwiki_db::DbError> {
    let findings = catalog_findings(catalog, index, Knowledge::bundled());
    write_catalog(&WriteInput { catalog, index, findings: &findings, roots, generated }, path)
}

/// True when `file` lies inside one of the source folders.
fn inside_roots(roots: &BTreeMap<String, PathBuf>, file: &Path) -> bool {
    let Ok(file) = file.canonicalize() else { return false };
    roots.values().any(|root| file.starts_with(root))
}
