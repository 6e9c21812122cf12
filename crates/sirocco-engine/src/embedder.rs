//! Embeddings: a second context on a loaded model's weights, pooled output, one input at a time.

use std::num::NonZeroU32;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;

use crate::backend::backend;
use crate::request::Embeddings;
use crate::{EngineError, Result};

/// A second context on the same weights, for embeddings: pooled output, one input at a time.
pub(crate) struct Embedder<'m> {
    ctx: llama_cpp_2::context::LlamaContext<'m>,
    n_ctx: usize,
}

/// Longest input an embedding takes (one batch: pooling sees the whole input at once).
const EMBED_CONTEXT: u32 = 2048;

impl<'m> Embedder<'m> {
    pub(crate) fn new(model: &'m LlamaModel, threads: u32) -> Result<Self> {
        use llama_cpp_2::context::params::LlamaPoolingType;
        let n = EMBED_CONTEXT.min(model.n_ctx_train().max(1));
        // Embedding models say how they pool; a chat model's states are averaged.
        let arch = model.meta_val_str("general.architecture").unwrap_or_default();
        let pooling = if model.meta_val_str(&format!("{arch}.pooling_type")).is_ok() {
            LlamaPoolingType::Unspecified
        } else {
            LlamaPoolingType::Mean
        };
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n))
            .with_n_batch(n)
            .with_n_ubatch(n)
            .with_n_seq_max(1)
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32)
            .with_embeddings(true)
            .with_pooling_type(pooling);
        let ctx = model.new_context(backend(), params).map_err(|e| EngineError::ContextFailed(e.to_string()))?;
        Ok(Self { ctx, n_ctx: n as usize })
    }

    /// One vector per input; an input over the embedding context is refused, or cut to it
    /// with `truncate`.
    pub(crate) fn embed(&mut self, model: &LlamaModel, inputs: &[String], truncate: bool) -> Result<Embeddings> {
        let mut vectors = Vec::with_capacity(inputs.len());
        let mut prompt_tokens = 0;
        for (i, input) in inputs.iter().enumerate() {
            let mut tokens = model.vocab().tokenize(input.as_bytes(), true, false);
            if truncate {
                tokens.truncate(self.n_ctx);
            }
            if tokens.is_empty() || tokens.len() > self.n_ctx {
                return Err(EngineError::InvalidRequest(format!(
                    "input {i} is {} tokens long; an embedding takes 1 to {} tokens",
                    tokens.len(),
                    self.n_ctx
                )));
            }
            prompt_tokens += tokens.len();
            self.ctx.clear_kv_cache();
            let mut batch = LlamaBatch::new(tokens.len(), 1);
            for (pos, token) in tokens.iter().enumerate() {
                batch.add(*token, pos as i32, &[0], true).map_err(|e| EngineError::Decode(e.to_string()))?;
            }
            let decoded = crate::compute::run(|| self.ctx.decode(&mut batch));
            decoded.map_err(|e| EngineError::Decode(e.to_string()))?;
            let pooled = self.ctx.embeddings_seq_ith(0).map_err(|e| EngineError::Decode(e.to_string()))?;
            let norm = pooled.iter().map(|x| x * x).sum::<f32>().sqrt();
            vectors.push(pooled.iter().map(|x| if norm > 0.0 { x / norm } else { *x }).collect());
        }
        Ok(Embeddings { vectors, prompt_tokens })
    }
}
