//! Synthetic prompts: cutting the corpus into counted units once (`Prompts::new`), then
//! writing one request's 1,024-token prompt into a reused buffer, as a run does per request.
//!
//! `cargo bench --bench prompts` (about 20 s). The bound: 100,000 prompts of 1,024
//! tokens in under 2 s on one core, i.e. under 20 µs a prompt.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streamperf::tokens::Tokenizer;
use streamperf::workload::prompts::Prompts;

fn bench_prompts(c: &mut Criterion) {
    let tokenizer = Tokenizer::from_spec("o200k_base").expect("o200k_base loads");
    tokenizer.load();
    let mut group = c.benchmark_group("prompts");
    group.sample_size(10);
    group.bench_function("new (count every unit of the corpus)", |b| {
        b.iter(|| black_box(Prompts::new(&tokenizer, 0)))
    });
    group.sample_size(100);
    let prompts = Prompts::new(&tokenizer, 0);
    let mut out = String::new();
    let mut index = 0u64;
    group.throughput(Throughput::Elements(1));
    group.bench_function("write 1024 tokens", |b| {
        b.iter(|| {
            index += 1;
            prompts.write(&mut out, black_box(index), 1024);
            black_box(out.len())
        })
    });
    let shared = Prompts::new(&tokenizer, 512);
    group.bench_function("write 1024 tokens, 512 shared", |b| {
        b.iter(|| {
            index += 1;
            shared.write(&mut out, black_box(index), 1024);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = bench_prompts
}
criterion_main!(benches);
