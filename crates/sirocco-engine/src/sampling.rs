//! Sampling parameters and the llama.cpp sampler chain built from them.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 means greedy decoding.
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub repeat_penalty: f32,
    pub seed: u32,
    pub max_tokens: u32,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.1,
            seed: 0xC0FFEE,
            max_tokens: 1024,
        }
    }
}

impl SamplingParams {
    /// The same chain order as llama.cpp's defaults: penalties, top-k, top-p, min-p,
    /// temperature, then a seeded draw (or greedy at temperature 0).
    pub(crate) fn sampler(&self, model: &LlamaModel) -> LlamaSampler {
        let mut chain = Vec::new();
        if self.repeat_penalty.is_finite() && self.repeat_penalty > 0.0 && self.repeat_penalty != 1.0
        {
            chain.push(LlamaSampler::penalties(model.n_vocab(), 64, self.repeat_penalty, 0.0, 0.0));
        }
        if self.temperature <= 0.0 || !self.temperature.is_finite() {
            chain.push(LlamaSampler::greedy());
        } else {
            if self.top_k > 0 {
                chain.push(LlamaSampler::top_k(self.top_k));
            }
            if self.top_p > 0.0 && self.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(self.top_p, 1));
            }
            if self.min_p > 0.0 && self.min_p < 1.0 {
                chain.push(LlamaSampler::min_p(self.min_p, 1));
            }
            chain.push(LlamaSampler::temp(self.temperature));
            chain.push(LlamaSampler::dist(self.seed));
        }
        LlamaSampler::chain_simple(chain)
    }
}
