//! Tokenizer throughput: `count` and `count_pieces` with `o200k_base` on about 1 KB of English
//! and 1 KB of Chinese, cut into pieces of about 4 bytes like streamed tokens.
//!
//! `cargo bench --bench tokens` (about 30 s). The table is loaded before measuring, as
//! streamperf loads it before a run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streamperf::tokens::Tokenizer;

const ENGLISH: &str = "Streaming responses arrive in small pieces, so a load tester must time \
    each gap with care. In 2024, our team sent 1,250 requests to three endpoints and found that \
    the slowest server took 3.7 seconds to deliver its first token. Don't trust averages alone: \
    the tail, not the mean, decides how long people really wait (and whether they come back)! \
    A closed-loop client keeps a fixed number of requests in flight; when the server slows \
    down, the offered load falls with it, which hides the very queueing that users feel. An \
    open-loop schedule sends on time regardless, so latency includes the wait. Either way, \
    record the time to first token, the gaps between content chunks, and the total duration, \
    then summarise them with percentiles rather than means. Tokens per second are only as \
    honest as the token count: prefer the usage the API reports, fall back to a tokenizer, and \
    say which one was used, because cl100k_base and o200k_base disagree by ten percent or more.";

const CHINESE: &str = "流式接口把回答拆成许多小块逐个发送，因此压测工具必须仔细测量每一段间隔。\
    我们发现，最慢的服务器需要将近四秒才送出第一个词元；平均值并不可靠，决定用户等待多久的是长尾。\
    闭环客户端始终保持固定数量的并发请求：服务器一旦变慢，发出的负载也随之下降，恰好掩盖了用户真正感受到的排队。\
    开环调度则按时发送，因此延迟里包含了等待时间。无论哪种方式，都应记录首个词元的时间、内容块之间的间隔以及总耗时，\
    再用百分位数而不是平均值来汇总。每秒词元数是否可信，取决于词元计数：优先采用接口报告的用量，其次才用分词器估算，\
    并注明所用的分词器，因为不同分词器的结果可能相差一成以上。\
    在高并发场景下，客户端自身的开销也会影响结果，所以测量工具必须足够轻量，并在报告中如实说明局限。";

/// End offsets of pieces of at least 4 bytes on char boundaries: 4 to 6 bytes of English
/// (about one token each), 2 characters (6 bytes) of Chinese.
fn piece_ends(text: &str) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        if end - start >= 4 || end == text.len() {
            ends.push(end);
            start = end;
        }
    }
    ends
}

fn bench_o200k(c: &mut Criterion) {
    let tokenizer = Tokenizer::from_spec("o200k_base").expect("o200k_base loads");
    let mut group = c.benchmark_group("o200k_base");
    group.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    for (name, text) in [("english", ENGLISH), ("chinese", CHINESE)] {
        let ends = piece_ends(text);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("count/{name}"), |b| {
            b.iter(|| tokenizer.count(black_box(text)))
        });
        group.bench_function(format!("count_pieces/{name}"), |b| {
            b.iter(|| tokenizer.count_pieces(black_box(text), black_box(&ends)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_o200k);
criterion_main!(benches);
