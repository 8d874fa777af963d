//! Which reader a file goes to. The extension picks a family of formats, then the content (YAML
//! keys, TOML tables, code fences) picks the layout; a file no layout claims is skipped with a
//! reason that says what it is.

use detwiki_ir::{BodyFormat, Diagnostic, Language, Metadata, Query, Span};

use crate::{FileInput, Outcome, elastic, kql_files, markdown, sentinel, sigma, splunk, yaml, yaral};

fn extension(repo_path: &str) -> Option<String> {
    let file = repo_path.rsplit('/').next().unwrap_or(repo_path);
    let (stem, extension) = file.rsplit_once('.')?;
    if stem.is_empty() { None } else { Some(extension.to_ascii_lowercase()) }
}

fn file_name(repo_path: &str) -> String {
    repo_path.rsplit('/').next().unwrap_or(repo_path).to_ascii_lowercase()
}

/// Files every repository has that are about the repository, not rules.
fn repository_document(name: &str) -> Option<&'static str> {
    let stem = name.split('.').next().unwrap_or(name);
    match stem {
        "license" | "licence" | "copying" | "notice" => Some("license file"),
        "readme" => Some("README (repository documentation)"),
        "contributing" | "changelog" | "code_of_conduct" | "security" | "support" | "authors" | "codeowners" => {
            Some("repository documentation")
        }
        "sample" if name.ends_with(".md") => Some("notes of a sampled source (per-file commits), not a rule"),
        _ => None,
    }
}

/// Reads one file of a source.
pub(crate) fn read_file(input: &FileInput) -> Outcome {
    let name = file_name(&input.repo_path);
    let at_root = !input.repo_path.contains('/');
    // A README in a sub-folder may be a rule file of its own (Bert-JanP's folders), so only the
    // root's repository documents are skipped by name; the others go through their reader.
    if let Some(reason) = repository_document(&name)
        && (at_root || !name.starts_with("readme"))
    {
        return Outcome::skipped(reason);
    }
    if input.text.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}').is_empty() {
        return Outcome::skipped("empty file");
    }
    let extension = extension(&input.repo_path);
    match extension.as_deref() {
        Some("yml") | Some("yaml") => read_yaml(input),
        Some("toml") => elastic::read(input),
        Some("md") | Some("markdown") => {
            if name.contains("template") {
                return Outcome::skipped("template for new rules, not a rule");
            }
            markdown::read(input)
        }
        // Kibana users name kuery files `.kql` too: a source (or `analyze --lang kuery`) that
        // declares kuery and not Kusto reads them as Kibana KQL.
        Some("kql") if input.languages.contains(&Language::Kuery) && !input.languages.contains(&Language::Kql) => {
            raw_query(input, Language::Kuery)
        }
        Some("kql") | Some("csl") | Some("kusto") => kql_files::read(input, false),
        Some("spl") => raw_query(input, Language::Spl),
        // A source declared as `layout = "kql"` holds queries in its `.txt` files even when
        // they do not start like one (prose before the query, say).
        Some("txt") => kql_files::read(input, input.layout.as_deref() != Some("kql")),
        Some("yaral") => yaral::read(input),
        // Bare Elastic queries. `.kql` is Kusto's, so Kibana KQL files are `.kuery`.
        Some("eql") => raw_query(input, Language::Eql),
        Some("esql") => raw_query(input, Language::Esql),
        Some("kuery") => raw_query(input, Language::Kuery),
        Some("lucene") => raw_query(input, Language::Lucene),
        Some("json") => Outcome::skipped("JSON data, not a rule"),
        Some("csv") | Some("tsv") => Outcome::skipped("CSV data (lookup or table), not a rule"),
        None => {
            if markdown::has_fence(&input.text) {
                markdown::read(input)
            } else {
                Outcome::skipped("file without extension and without a code fence (not a known rule layout)")
            }
        }
        Some(other) => Outcome::skipped(format!("unknown file type `.{other}`")),
    }
}

fn read_yaml(input: &FileInput) -> Outcome {
    let stream = match yaml::parse_stream(&input.text) {
        Ok(stream) => stream,
        Err(error) => return Outcome::skipped(format!("YAML does not parse: {}", error.message)),
    };
    // A declared layout picks the reader; otherwise the content does (Sigma first).
    let layout = input.layout.as_deref().unwrap_or("auto");
    if layout == "sigma" || (layout == "auto" && sigma::is_sigma(&stream)) {
        return sigma::read(input, &stream);
    }
    let Some(root) = stream.documents.iter().find_map(|document| document.root.as_ref()) else {
        return Outcome::skipped("YAML without content");
    };
    if !root.is_mapping() {
        return Outcome::skipped("YAML that is not a mapping (not a rule layout)");
    }
    if layout == "sentinel" && root.get("query").is_some() {
        return sentinel::read(input, root, &stream);
    }
    if let Some(outcome) = splunk::read(input, root, &stream) {
        return outcome;
    }
    if root.get("query").is_some() {
        return sentinel::read(input, root, &stream);
    }
    Outcome::skipped("YAML without a rule layout (no `detection`, `query` or `search` key)")
}

/// Reads standard input: as `language` when given, else by the name's extension or content.
pub(crate) fn read_with_language(input: &FileInput, language: Option<Language>) -> Outcome {
    let has_extension = extension(&input.repo_path).is_some();
    let Some(language) = language else {
        if has_extension {
            return read_file(input);
        }
        return read_by_content(input);
    };
    // A structured file of the language's family first; else the text is the query itself.
    let structured = if has_extension { read_file(input) } else { read_by_content(input) };
    if let Outcome::Rules(rules) = &structured
        && rules.iter().any(|rule| rule.queries.iter().any(|query| query.language == language))
    {
        return structured;
    }
    raw_query(input, language)
}

fn read_by_content(input: &FileInput) -> Outcome {
    let text = input.text.trim_start();
    if text.starts_with("rule ") && text.contains("condition:") {
        return yaral::read(input);
    }
    if markdown::has_fence(&input.text) && text.starts_with('#') {
        return markdown::read(input);
    }
    if text.starts_with('[') && (text.contains("[rule]") || text.contains("[hunt]")) {
        return elastic::read(input);
    }
    if let Ok(stream) = yaml::parse_stream(&input.text)
        && stream.documents.iter().filter_map(|document| document.root.as_ref()).any(|root| root.is_mapping())
    {
        return read_yaml(input);
    }
    kql_files::read(input, false)
}

/// The whole text as one query of `language`, for queries typed or piped without a rule file.
fn raw_query(input: &FileInput, language: Language) -> Outcome {
    let format = match language {
        Language::Kql => BodyFormat::Kql,
        Language::Sigma => BodyFormat::SigmaYaml,
        Language::Spl => BodyFormat::SplunkYaml,
        Language::Eql | Language::Kuery | Language::Lucene | Language::Esql => BodyFormat::ElasticQuery,
        Language::None => BodyFormat::ElasticToml,
        Language::Yaral => BodyFormat::Yaral,
    };
    let (text, map) = kql_files::whole_text_query(&input.text);
    let span = Span::from_usize(0, input.text.len());
    let query = Query { name: None, language, document: None, text, span, source_map: map };
    let mut diagnostics = Vec::new();
    if !matches!(format, BodyFormat::Kql | BodyFormat::Yaral | BodyFormat::ElasticQuery) {
        diagnostics.push(Diagnostic::info(
            "raw-query-text",
            format!("read as a bare {} query, not as a rule file", language.display_name()),
            span,
        ));
    }
    let metadata = Metadata { title: Some(crate::title_from_file_name(&input.repo_path)), ..Metadata::default() };
    Outcome::Rules(vec![input.rule(format, metadata, span, vec![query], diagnostics)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::input;

    #[test]
    fn bare_elastic_query_files() {
        for (path, language) in [
            ("q.eql", Language::Eql),
            ("q.esql", Language::Esql),
            ("q.kuery", Language::Kuery),
            ("q.lucene", Language::Lucene),
        ] {
            let Outcome::Rules(rules) = read_file(&input(path, "process.name : \"a.exe\"\n")) else { panic!("{path}") };
            assert_eq!(rules[0].queries[0].language, language);
            assert_eq!(rules[0].format, BodyFormat::ElasticQuery);
        }
    }

    #[test]
    fn kql_files_of_a_kuery_source_are_kibana_kql() {
        let mut file = input("q.kql", "process.name : \"a.exe\"\n");
        let Outcome::Rules(rules) = read_file(&file) else { panic!() };
        assert_eq!(rules[0].queries[0].language, Language::Kql);
        file.languages = vec![Language::Kuery];
        let Outcome::Rules(rules) = read_file(&file) else { panic!() };
        assert_eq!(rules[0].queries[0].language, Language::Kuery);
        assert_eq!(rules[0].format, BodyFormat::ElasticQuery);
    }

    #[test]
    fn declared_layouts_pick_the_reader() {
        let mut prose = input("notes/query.txt", "Find the bad logons\nSigninLogs | where ResultType != 0\n");
        assert!(matches!(read_file(&prose), Outcome::Skipped(_)));
        prose.layout = Some("kql".to_owned());
        assert!(matches!(read_file(&prose), Outcome::Rules(_)));

        let text = "title: t\nlogsource: {product: azure}\ndetection: {condition: x}\nquery: |\n  SigninLogs\n";
        let mut both = input("rules/both.yaml", text);
        let Outcome::Rules(rules) = read_file(&both) else { panic!() };
        assert_eq!(rules[0].format, BodyFormat::SigmaYaml);
        both.layout = Some("sentinel".to_owned());
        let Outcome::Rules(rules) = read_file(&both) else { panic!() };
        assert_eq!(rules[0].format, BodyFormat::SentinelYaml);
    }
}
