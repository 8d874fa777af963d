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
    let show_skipped = arguments.any(|argument| argument == "--skipped");
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
