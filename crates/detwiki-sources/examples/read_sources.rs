//! Reads every source of a sources file and prints counts, time and skipped files.
//!
//! `cargo run --release -p detwiki-sources --example read_sources -- FILE [--skipped]`

use std::time::Instant;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(file) = arguments.next() else {
        eprintln!("usage: read_sources SOURCES.toml [--skipped]");
        std::process::exit(2);
    };
    let rest: Vec<String> = arguments.collect();
    let show_skipped = rest.iter().any(|argument| argument == "--skipped");
    let show_stats = rest.iter().any(|argument| argument == "--stats");
    let show_spans = rest.iter().any(|argument| argument == "--spans");
    let show_rule = rest.iter().position(|argument| argument == "--show").and_then(|index| rest.get(index + 1));
    let specs = match detwiki_sources::load_sources_file(std::path::Path::new(&file)) {
        Ok(specs) => specs,
        Err(error) => {
            eprintln!("read_sources: {error}");
            std::process::exit(1);
        }
    };
    let options = detwiki_sources::ReadOptions { cache_dir: std::env::temp_dir().join("detwiki-cache") };
    let all = Instant::now();
    for spec in &specs {
        let started = Instant::now();
        match detwiki_sources::read_source(spec, &options, &|_| {}) {
            Ok(read) => {
                let queries: usize = read.rules.iter().map(|rule| rule.queries.len()).sum();
                println!(
                    "{:<50} rules {:>5} queries {:>5} skipped {:>4} files {:>5} {:>8.1} ms",
                    read.info.name,
                    read.info.rules,
                    queries,
                    read.info.skipped.len(),
                    read.info.files_seen,
                    started.elapsed().as_secs_f64() * 1000.0
                );
                if show_stats {
                    let count =
                        |test: &dyn Fn(&detwiki_ir::Rule) -> bool| read.rules.iter().filter(|rule| test(rule)).count();
                    println!(
                        "    title {} description {} authors {} tags {} references {} data_sources {} diagnostics {}",
                        count(&|rule| rule.metadata.title.is_some()),
                        count(&|rule| rule.metadata.description.is_some()),
                        count(&|rule| !rule.metadata.authors.is_empty()),
                        count(&|rule| !rule.metadata.tags.is_empty()),
                        count(&|rule| !rule.metadata.references.is_empty()),
                        count(&|rule| !rule.metadata.data_sources.is_empty()),
                        count(&|rule| !rule.diagnostics.is_empty()),
                    );
                }
                if show_spans {
                    for rule in &read.rules {
                        for query in &rule.queries {
                            println!(
                                "span\t{}\t{}\t{}\t{}",
                                read.info.name, rule.provenance.path, query.span.start, query.span.end
                            );
                            let line = serde_json::json!({
                                "source": read.info.name,
                                "path": rule.provenance.path,
                                "text": query.text,
                            });
                            println!("query\t{line}");
                        }
                    }
                }
                if let Some(path) = show_rule {
                    for rule in read.rules.iter().filter(|rule| &rule.provenance.path == path) {
                        println!("{}", serde_json::to_string_pretty(rule).unwrap_or_default());
                    }
                }
                if show_skipped {
                    for skipped in &read.info.skipped {
                        println!("    {}: {}", skipped.path, skipped.reason);
                    }
                }
            }
            Err(error) => println!("{error}"),
        }
    }
    println!("all sources: {:.1} ms", all.elapsed().as_secs_f64() * 1000.0);
}
