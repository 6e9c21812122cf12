//! Log-probabilities of the tokens a reply is made of, and of the likeliest alternatives at each
//! step (OpenAI's `logprobs` / `top_logprobs`): from the model's own distribution (the softmax of
//! its logits, before any sampler), as llama.cpp's server reports them.

use serde::{Deserialize, Serialize};

/// A token as the API writes it: its text (lossy where a token is part of a character) and bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TokenAlternative {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
}

/// One generated token: its log-probability and the likeliest tokens at its step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TokenLogprob {
    pub token: String,
    pub bytes: Vec<u8>,
    pub logprob: f32,
    /// The `n` likeliest tokens at this step, likeliest first (`n`: the request's).
    pub top: Vec<TokenAlternative>,
}

/// Most alternatives a request may ask for (OpenAI's limit).
pub const MAX_TOP_LOGPROBS: u32 = 20;

/// `chosen`'s log-probability under `logits` (log-softmax over the whole vocabulary), and the
/// `top` likeliest token ids with theirs, likeliest first (ties: the lower id first).
pub(crate) fn log_softmax_at(logits: &[f32], chosen: usize, top: usize) -> (f32, Vec<(usize, f32)>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        return (f32::NEG_INFINITY, Vec::new());
    }
    let sum: f64 = logits.iter().map(|&l| ((l - max) as f64).exp()).sum();
    let log_z = max as f64 + sum.ln();
    let lp = |l: f32| (l as f64 - log_z) as f32;
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(top + 1);
    if top > 0 {
        for (i, &l) in logits.iter().enumerate() {
            if best.len() == top && l <= best[top - 1].1 {
                continue;
            }
            let at = best.partition_point(|&(_, b)| b >= l);
            best.insert(at, (i, l));
            best.truncate(top);
        }
    }
    let chosen_lp = logits.get(chosen).map_or(f32::NEG_INFINITY, |&l| lp(l));
    (chosen_lp, best.into_iter().map(|(i, l)| (i, lp(l))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_is_normalised_and_top_is_ordered() {
        let logits = [1.0f32, 3.0, 2.0, 3.0, -1.0];
        let (lp, top) = log_softmax_at(&logits, 2, 3);
        let total: f64 =
            logits.iter().map(|&l| (log_softmax_at(&logits, 0, 0).0 as f64 + (l - 1.0) as f64).exp()).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        let z: f32 = logits.iter().map(|l| l.exp()).sum();
        assert!((lp - (2.0f32.exp() / z).ln()).abs() < 1e-6);
        assert_eq!(top.iter().map(|t| t.0).collect::<Vec<_>>(), [1, 3, 2], "likeliest first, ties by id");
        assert!((top[0].1 - (3.0f32.exp() / z).ln()).abs() < 1e-6);
        assert_eq!(log_softmax_at(&logits, 0, 0).1, []);
        // Huge logits do not overflow.
        let (lp, _) = log_softmax_at(&[1000.0, 1000.0], 0, 1);
        assert!((lp - 0.5f32.ln()).abs() < 1e-6);
    }
}
