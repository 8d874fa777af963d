//! The timed loop every side-by-side benchmark runs on detwiki's side.

use std::time::Instant;

/// Seconds detwiki takes to process every text once: the mean of `passes` passes over `texts`,
/// with `work`'s results folded into a sink the optimiser cannot drop.
pub fn mean_pass_seconds<T: AsRef<str>>(texts: &[T], passes: usize, work: impl Fn(&str) -> usize) -> f64 {
    let mut sink = 0usize;
    let start = Instant::now();
    for _ in 0..passes {
        for text in texts {
            sink = sink.wrapping_add(work(text.as_ref()));
        }
    }
    std::hint::black_box(sink);
    start.elapsed().as_secs_f64() / passes.max(1) as f64
}
