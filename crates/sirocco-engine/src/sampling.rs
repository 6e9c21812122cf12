//! The llama.cpp sampler chain built from a request's `SamplingParams` (sirocco-types).

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use sirocco_types::SamplingParams;

use crate::{EngineError, Result};

/// The sampler chain and the token picker built from a request's [`SamplingParams`].
pub(crate) trait SamplerChain {
    fn token_picker(&self, model: &LlamaModel) -> Result<TokenPicker>;
    fn sampler(&self, model: &LlamaModel) -> Result<LlamaSampler>;
}

impl SamplerChain for SamplingParams {
    /// The same chain order as llama.cpp's defaults: grammar, penalties, top-k, top-p, min-p,
    /// temperature, then a seeded draw (or greedy at temperature 0).
    /// What picks each token: a plain argmax when the settings amount to greedy decoding
    /// (no penalties, no grammar), else llama.cpp's sampler chain.
    fn token_picker(&self, model: &LlamaModel) -> Result<TokenPicker> {
        self.validate()?;
        let penalties = self.repeat_penalty != 1.0 || self.presence_penalty != 0.0 || self.frequency_penalty != 0.0;
        let plain = self.grammar.is_none() && self.json_schema.is_none() && !(penalties && self.penalty_last_n > 0);
        if self.temperature == 0.0 && plain {
            return Ok(TokenPicker::Argmax);
        }
        Ok(TokenPicker::Chain(self.sampler(model)?))
    }

    fn sampler(&self, model: &LlamaModel) -> Result<LlamaSampler> {
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
}
