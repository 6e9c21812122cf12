//! Sampling parameters and the llama.cpp sampler chain built from them.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};

use crate::{EngineError, Result};

/// llama.cpp's `LLAMA_DEFAULT_SEED`: its sampler draws a random seed.
pub const RANDOM_SEED: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 means greedy decoding.
    pub temperature: f32,
    /// 0 disables top-k.
    pub top_k: i32,
    /// 1 disables top-p.
    pub top_p: f32,
    /// 0 disables min-p.
    pub min_p: f32,
    /// 1 disables the repeat penalty.
    pub repeat_penalty: f32,
    /// 0 disables the presence penalty.
    pub presence_penalty: f32,
    /// 0 disables the frequency penalty.
    pub frequency_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub penalty_last_n: i32,
    /// The sampler's seed; [`RANDOM_SEED`] (the default) draws a new one per request, so a
    /// regenerated answer differs. A fixed seed repeats an answer exactly.
    pub seed: u32,
    pub max_tokens: u32,
    /// Keep generating past end-of-turn tokens (benchmarks; llama.cpp's `ignore_eos`).
    pub ignore_eos: bool,
    /// Generation stops before any of these strings; they are not part of the reply.
    pub stop: Vec<String>,
    /// Constrain the output with a GBNF grammar (root rule `root`).
    pub grammar: Option<String>,
    /// Constrain the output to JSON matching this schema (converted to a grammar).
    pub json_schema: Option<serde_json::Value>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.1,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            penalty_last_n: 64,
            seed: RANDOM_SEED,
            max_tokens: 1024,
            ignore_eos: false,
            stop: Vec::new(),
            grammar: None,
            json_schema: None,
        }
    }
}

impl SamplingParams {
    /// Rejects values llama.cpp would misbehave on, with a message naming the field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| Err(EngineError::InvalidRequest(format!("{field} {why}")));
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return bad("temperature", "must be a number ≥ 0");
        }
        if !(0.0..=1.0).contains(&self.top_p) {
            return bad("top_p", "must be between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return bad("min_p", "must be between 0 and 1");
        }
        if !self.repeat_penalty.is_finite() || self.repeat_penalty <= 0.0 {
            return bad("repeat_penalty", "must be a number > 0");
        }
        if !self.presence_penalty.is_finite() || !self.frequency_penalty.is_finite() {
            return bad("presence_penalty and frequency_penalty", "must be finite numbers");
        }
        if self.top_k < 0 || self.penalty_last_n < 0 {
            return bad("top_k and penalty_last_n", "must not be negative");
        }
        if self.grammar.is_some() && self.json_schema.is_some() {
            return bad("grammar", "and json_schema cannot be used together");
        }
        Ok(())
    }

    /// The same chain order as llama.cpp's defaults: grammar, penalties, top-k, top-p, min-p,
    /// temperature, then a seeded draw (or greedy at temperature 0).
    /// What picks each token: a plain argmax when the settings amount to greedy decoding
    /// (no penalties, no grammar), else llama.cpp's sampler chain.
    pub(crate) fn token_picker(&self, model: &LlamaModel) -> Result<TokenPicker> {
        self.validate()?;
        let penalties = self.repeat_penalty != 1.0 || self.presence_penalty != 0.0 || self.frequency_penalty != 0.0;
        let plain = self.grammar.is_none() && self.json_schema.is_none() && !(penalties && self.penalty_last_n > 0);
        if self.temperature == 0.0 && plain {
            return Ok(TokenPicker::Argmax);
        }
        Ok(TokenPicker::Chain(self.sampler(model)?))
    }

    pub(crate) fn sampler(&self, model: &LlamaModel) -> Result<LlamaSampler> {
        self.validate()?;
        let mut chain = Vec::new();
        let grammar = match (&self.grammar, &self.json_schema) {
            (Some(g), _) => Some(g.clone()),
            (None, Some(schema)) => Some(
                llama_cpp_2::json_schema_to_grammar(&schema.to_string())
                    .map_err(|e| EngineError::InvalidRequest(format!("json_schema: {e}")))?,
            ),
            (None, None) => None,
        };
        if let Some(grammar) = grammar {
            let sampler = LlamaSampler::grammar(model, &grammar, "root")
                .map_err(|e| EngineError::InvalidRequest(format!("grammar: {e}")))?;
            chain.push(sampler);
        }
        let penalties = self.repeat_penalty != 1.0 || self.presence_penalty != 0.0 || self.frequency_penalty != 0.0;
        if penalties && self.penalty_last_n > 0 {
            chain.push(LlamaSampler::penalties(
                model.n_vocab(),
                self.penalty_last_n,
                self.repeat_penalty,
                self.frequency_penalty,
                self.presence_penalty,
            ));
        }
        if self.temperature == 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            if self.top_k > 0 {
                chain.push(LlamaSampler::top_k(self.top_k));
            }
            if self.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(self.top_p, 1));
            }
            if self.min_p > 0.0 {
                chain.push(LlamaSampler::min_p(self.min_p, 1));
            }
            chain.push(LlamaSampler::temp(self.temperature));
            chain.push(LlamaSampler::dist(self.seed));
        }
        Ok(LlamaSampler::chain_simple(chain))
    }
}

pub(crate) enum TokenPicker {
    /// Greedy decoding straight from the logits: the same token llama.cpp's greedy sampler
    /// picks (the first highest logit), without building a candidate array over the vocabulary
    /// for every token.
    Argmax,
    Chain(LlamaSampler),
}

impl TokenPicker {
    /// The next token from the logits of batch position `index`.
    pub(crate) fn pick(&mut self, ctx: &LlamaContext<'_>, index: i32) -> LlamaToken {
        match self {
            Self::Argmax => LlamaToken(first_highest(ctx.get_logits_ith(index)) as i32),
            Self::Chain(sampler) => sampler.sample(ctx, index),
        }
    }

    /// `token` is the next one though not picked (the engine wrote it): samplers with memory
    /// (penalties, a grammar) take it into account.
    pub(crate) fn accept(&mut self, token: LlamaToken) {
        if let Self::Chain(sampler) = self {
            sampler.accept(token);
        }
    }
}

/// The index of the first highest value, as llama.cpp's greedy sampler picks it (a NaN never
/// wins, unless it is first and so nothing beats it). Written for the vectoriser: the maximum
/// over 32 lanes, then the first block that holds it — ~5× faster than one compare per value, which
/// on a 49k vocabulary was ~25 µs of every token.
pub(crate) fn first_highest(values: &[f32]) -> usize {
    const LANES: usize = 32;
    if values.first().is_some_and(|v| v.is_nan()) {
        // Nothing compares greater than the first value then.
        return 0;
    }
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let blocks = values.chunks_exact(LANES);
    let rest = blocks.remainder();
    for block in blocks {
        for (lane, &v) in lanes.iter_mut().zip(block) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &v in lanes.iter().chain(rest) {
        if v > max {
            max = v;
        }
    }
    let mut start = 0;
    for block in values.chunks(LANES) {
        if block.iter().fold(false, |hit, &v| hit | (v == max)) {
            return start + block.iter().position(|&v| v == max).unwrap_or(0);
        }
        start += block.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What llama.cpp's greedy sampler does: the first index whose value beats all before it.
    fn reference(values: &[f32]) -> usize {
        let mut best = 0;
        for (i, &v) in values.iter().enumerate() {
            if v > values[best] {
                best = i;
            }
        }
        best
    }

    #[test]
    fn first_highest_picks_what_the_greedy_sampler_picks() {
        let mut cases: Vec<Vec<f32>> =
            vec![vec![], vec![1.0], vec![f32::NEG_INFINITY; 70], vec![f32::NAN; 40], vec![3.0; 100]];
        // Ties across and inside blocks, NaNs, a maximum in the tail after the last full block.
        let mut x = 12345u32;
        for len in [31, 32, 33, 64, 65, 1000, 49152, 49155] {
            for case in 0..6 {
                let mut v: Vec<f32> = (0..len)
                    .map(|_| {
                        x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                        ((x >> 8) % 50) as f32 - 25.0
                    })
                    .collect();
                if case == 1 {
                    v[len / 2] = f32::NAN;
                }
                if case == 2 {
                    v[len - 1] = 99.0;
                }
                if case == 3 {
                    v[0] = f32::NAN;
                    v[len / 3] = 80.0;
                    v[2 * len / 3] = 80.0;
                }
                if case == 4 {
                    v.iter_mut().for_each(|x| *x = f32::NEG_INFINITY);
                    v[len - 1] = -1.0;
                }
                cases.push(v);
            }
        }
        for v in &cases {
            assert_eq!(first_highest(v), reference(v), "{} values", v.len());
        }
    }

    #[test]
    fn defaults_are_valid() {
        SamplingParams::default().validate().unwrap();
    }

    #[test]
    fn absurd_values_are_refused_with_the_field_name() {
        let cases = [
            SamplingParams { temperature: f32::NAN, ..Default::default() },
            SamplingParams { temperature: -1.0, ..Default::default() },
            SamplingParams { top_p: 2.0, ..Default::default() },
            SamplingParams { min_p: -0.1, ..Default::default() },
            SamplingParams { repeat_penalty: 0.0, ..Default::default() },
            SamplingParams { top_k: -5, ..Default::default() },
            SamplingParams { frequency_penalty: f32::INFINITY, ..Default::default() },
        ];
        for case in cases {
            let err = case.validate().unwrap_err().to_string();
            assert!(err.starts_with("invalid request: "), "{err}");
        }
    }
}
