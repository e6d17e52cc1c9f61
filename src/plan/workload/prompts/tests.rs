//! Prompts hold exactly the tokens asked for, by the real tokenizer, for every request; they
//! part within eight tokens unless a shared beginning is asked for, and then share exactly it.

use super::*;

/// Lengths a benchmark asks for, small and large, and odd ones.
const LENGTHS: [u64; 9] = [1, 7, 12, 50, 128, 333, 1000, 1024, 4096];

fn exact_for(tokenizer: Tokenizer, requests: u64) {
    let prompts = Prompts::new(&tokenizer, 0);
    for index in 0..requests {
        for tokens in LENGTHS {
            let text = prompts.prompt(index, tokens);
            let counted = tokenizer.count(&text).unwrap();
            // The identifier alone is longer than the shortest asks.
            let floor = tokenizer.count(&format!("(request {index:09})")).unwrap();
            assert_eq!(counted, tokens.max(floor), "{} #{index}: {text:?}", tokenizer.name());
        }
    }
}

#[test]
fn o200k_prompts_have_exactly_the_tokens_asked_for() {
    exact_for(Tokenizer::O200kBase, 60);
}

#[test]
fn cl100k_prompts_have_exactly_the_tokens_asked_for() {
    exact_for(Tokenizer::Cl100kBase, 30);
}

#[test]
fn chars_prompts_have_exactly_the_characters_asked_for() {
    exact_for(Tokenizer::Chars, 30);
}

#[test]
fn longer_than_the_corpus_wraps_and_stays_exact() {
    let prompts = Prompts::new(&Tokenizer::O200kBase, 0);
    let corpus_tokens: u64 = prompts.counts.iter().map(|&c| u64::from(c)).sum();
    let tokens = corpus_tokens + 5_000;
    let text = prompts.prompt(3, tokens);
    assert_eq!(Tokenizer::O200kBase.count(&text), Some(tokens));
}

#[test]
fn requests_part_within_their_first_eight_tokens() {
    // Eight tokens: less than the smallest block a server caches prefixes in (vLLM's 16), so
    // no two requests share a cached block.
    let prompts = Prompts::new(&Tokenizer::O200kBase, 0);
    let bpe = tiktoken_rs::o200k_base_singleton();
    let heads: Vec<Vec<u32>> =
        (0..200).map(|i| bpe.encode_ordinary(&prompts.prompt(i, 256))[..8].to_vec()).collect();
    let mut distinct = heads.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), heads.len(), "the first eight tokens tell every request apart");
    assert!(prompts.prompt(0, 256).starts_with("(request 000000000) "));
}

#[test]
fn a_shared_beginning_is_exactly_that_many_tokens_then_the_requests_part() {
    let shared = 500;
    let prompts = Prompts::new(&Tokenizer::O200kBase, shared);
    let bpe = tiktoken_rs::o200k_base_singleton();
    let a = bpe.encode_ordinary(&prompts.prompt(1, 1024));
    let b = bpe.encode_ordinary(&prompts.prompt(2, 1024));
    assert_eq!((a.len(), b.len()), (1024, 1024));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    // The identifiers " (request 000000001)" and "…2)" share their first tokens too.
    assert!((500..510).contains(&common), "{common} tokens in common");
    assert!(prompts.prompt(1, 1024).starts_with("CHAPTER 1. Loomings."));
}

#[test]
fn writing_reuses_the_buffer_and_equals_a_new_prompt() {
    let prompts = Prompts::new(&Tokenizer::O200kBase, 0);
    let mut out = String::from("left over");
    prompts.write(&mut out, 9, 300);
    assert_eq!(out, prompts.prompt(9, 300));
    assert!(!out.contains("left over"));
}

#[test]
fn a_piece_is_exact_even_shorter_than_its_head_and_adds_to_the_text_before() {
    let prompts = Prompts::new(&Tokenizer::O200kBase, 0);
    let mut out = String::from("Call me Ishmael.");
    let before = Tokenizer::O200kBase.count(&out).unwrap();
    for tokens in [1, 2, 4, 9, 300] {
        let at = out.len();
        prompts.push_piece(&mut out, " [000000042]", 42, tokens);
        assert_eq!(Tokenizer::O200kBase.count(&out[at..]), Some(tokens), "{:?}", &out[at..]);
    }
    assert_eq!(Tokenizer::O200kBase.count(&out), Some(before + 1 + 2 + 4 + 9 + 300));
    let mut again = String::new();
    prompts.push_piece(&mut again, " [000000042]", 42, 300);
    assert!(out.ends_with(&again), "the same arguments, the same text");
}
