//! Passages of a long document and the ones a question needs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// About how long a passage is, in bytes of text (≈ 350 tokens of English): long enough to hold
/// a point with its context, short enough that several fit beside a conversation.
pub const PASSAGE_CHARS: usize = 1400;

/// A passage: `text[start..end]` of the document it was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub start: usize,
    pub end: usize,
}

/// `text` cut into passages of about [`PASSAGE_CHARS`]: at a paragraph break where one falls
/// in the second half of the span, else at a sentence's end, else between words.
pub fn split(text: &str) -> Vec<Passage> {
    let longest = PASSAGE_CHARS * 3 / 2;
    let shortest = PASSAGE_CHARS / 2;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let rest = &text[start..];
        start += rest.len() - rest.trim_start().len();
        if start >= text.len() {
            break;
        }
        if text.len() - start <= longest {
            out.push(Passage { start, end: start + text[start..].trim_end().len() });
            break;
        }
        let mut limit = start + PASSAGE_CHARS;
        while !text.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &text[start..limit];
        let after = |i: &usize| *i >= shortest;
        let cut = window
            .rmatch_indices("\n\n")
            .map(|(i, _)| i + 1)
            .find(after)
            .or_else(|| {
                window
                    .char_indices()
                    .rev()
                    .find(|&(i, c)| after(&i) && matches!(c, '.' | '?' | '!' | '\n'))
                    .map(|(i, _)| i + 1)
            })
            .or_else(|| window.char_indices().rev().find(|&(i, c)| after(&i) && c.is_whitespace()).map(|(i, _)| i))
            .unwrap_or(window.len());
        out.push(Passage { start, end: start + window[..cut].trim_end().len() });
        start += cut;
    }
    out
}

/// Constant of reciprocal-rank fusion: how much the first places of a ranking outweigh the rest.
const FUSION_K: f32 = 60.0;

/// The `take` passages best for `question`, best first: each ranked by meaning (the cosine of
/// its vector with the question's; vectors of unit length) and by the question's words (BM25),
/// the two rankings fused by rank. Without vectors, by words alone.
pub fn rank(
    question: &str,
    question_vector: Option<&[f32]>,
    passages: &[&str],
    vectors: &[Vec<f32>],
    take: usize,
) -> Vec<usize> {
    let mut score = vec![0.0f32; passages.len()];
    let mut add = |order: Vec<usize>| {
        for (place, i) in order.into_iter().enumerate() {
            score[i] += 1.0 / (FUSION_K + place as f32 + 1.0);
        }
    };
    if let Some(q) = question_vector.filter(|_| vectors.len() == passages.len()) {
        let cosine: Vec<f32> = vectors.iter().map(|v| v.iter().zip(q).map(|(a, b)| a * b).sum()).collect();
        add(order_by(&cosine, |_| true));
    }
    let words = bm25(question, passages);
    add(order_by(&words, |s| s > 0.0));
    let mut best = order_by(&score, |s| s > 0.0);
    best.truncate(take);
    best
}

/// Indices of `scores` that `keep`, highest first (ties: earlier first).
fn order_by(scores: &[f32], keep: impl Fn(f32) -> bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| keep(scores[i])).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 1).map(str::to_lowercase)
}

/// Okapi BM25 of each passage for the question's words.
fn bm25(question: &str, passages: &[&str]) -> Vec<f32> {
    const K1: f32 = 1.2;
    const B: f32 = 0.75;
    let mut asked: Vec<String> = words(question).collect();
    asked.sort();
    asked.dedup();
    let counts: Vec<HashMap<String, f32>> = passages
        .iter()
        .map(|p| {
            let mut m = HashMap::new();
            for w in words(p) {
                *m.entry(w).or_insert(0.0) += 1.0;
            }
            m
        })
        .collect();
    let lengths: Vec<f32> = counts.iter().map(|m| m.values().sum()).collect();
    let n = passages.len() as f32;
    let mean = (lengths.iter().sum::<f32>() / n.max(1.0)).max(1.0);
    let idf: Vec<f32> = asked
        .iter()
        .map(|w| {
            let df = counts.iter().filter(|m| m.contains_key(w)).count() as f32;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    counts
        .iter()
        .zip(&lengths)
        .map(|(m, len)| {
            asked
                .iter()
                .zip(&idf)
                .map(|(w, idf)| {
                    let tf = m.get(w).copied().unwrap_or(0.0);
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / mean))
                })
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_cover_the_text_and_end_at_boundaries() {
        let para = "The lighthouse keeper counted ships. ".repeat(20);
        let text = format!("{para}\n\n{para}\n\n{}", "word ".repeat(1000));
        let passages = split(&text);
        assert!(passages.len() > 3);
        for p in &passages {
            assert!(p.end - p.start <= PASSAGE_CHARS * 3 / 2, "{p:?}");
            let s = &text[p.start..p.end];
            assert_eq!(s, s.trim());
        }
        // Nothing but whitespace is lost between passages.
        let mut at = 0;
        for p in &passages {
            assert!(text[at..p.start].trim().is_empty());
            at = p.end;
        }
        assert!(text[at..].trim().is_empty());
        // The first passages end at a sentence or paragraph, not mid-word.
        assert!(text[passages[0].start..passages[0].end].ends_with('.'));
    }

    #[test]
    fn a_short_text_is_one_passage_and_no_text_none() {
        assert_eq!(split("  hello  "), vec![Passage { start: 2, end: 7 }]);
        assert!(split(" \n ").is_empty());
        let unbroken = "é".repeat(3000);
        let passages = split(&unbroken);
        assert!(passages.iter().all(|p| unbroken.is_char_boundary(p.start) && unbroken.is_char_boundary(p.end)));
    }

    #[test]
    fn words_find_the_passage_that_holds_them() {
        let passages = ["the cat sat on the mat", "the harbour tax is paid in copper", "dogs bark at night"];
        assert_eq!(rank("What is the harbour tax paid in?", None, &passages, &[], 2), vec![1, 0]);
        assert!(rank("nothing matches", None, &passages, &[], 3).is_empty());
    }

    #[test]
    fn meaning_and_words_are_fused() {
        let passages = ["alpha", "beta", "gamma"];
        let vectors = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![0.6, 0.8]];
        // By meaning alone: beta, gamma, alpha.
        assert_eq!(rank("zzz", Some(&[0.0, 1.0]), &passages, &vectors, 3), vec![1, 2, 0]);
        // A passage first by words and second by meaning beats one first by meaning alone.
        assert_eq!(rank("gamma", Some(&[0.0, 1.0]), &passages, &vectors, 1), vec![2]);
    }
}
