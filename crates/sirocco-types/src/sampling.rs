//! How tokens are picked: [`SamplingParams`] and its checks. The engine builds llama.cpp's
//! sampler chain from it.

use serde::{Deserialize, Serialize};

use crate::Invalid;

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
    pub fn validate(&self) -> Result<(), Invalid> {
        let bad = |field: &str, why: &str| Err(Invalid(format!("{field} {why}")));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        SamplingParams::default().validate().unwrap();
    }

    #[test]
    fn absurd_values_are_refused_with_the_field_name() {
        let cases = [
            ("temperature", SamplingParams { temperature: f32::NAN, ..Default::default() }),
            ("temperature", SamplingParams { temperature: -1.0, ..Default::default() }),
            ("top_p", SamplingParams { top_p: 2.0, ..Default::default() }),
            ("min_p", SamplingParams { min_p: -0.1, ..Default::default() }),
            ("repeat_penalty", SamplingParams { repeat_penalty: 0.0, ..Default::default() }),
            ("top_k", SamplingParams { top_k: -5, ..Default::default() }),
            ("frequency_penalty", SamplingParams { frequency_penalty: f32::INFINITY, ..Default::default() }),
            (
                "grammar",
                SamplingParams {
                    grammar: Some("root ::= \"a\"".into()),
                    json_schema: Some(serde_json::json!({})),
                    ..Default::default()
                },
            ),
        ];
        for (field, case) in cases {
            let err = case.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{field}: {err}");
        }
    }
}
