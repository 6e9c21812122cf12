//! Drafted tokens: llama.cpp's own speculative decoding (`common/speculative.cpp`, through the
//! C face in `cpp/speculative.cpp`) proposes the next few tokens of a sequence — from a small
//! draft model, from n-grams of the conversation itself, or from a model's MTP heads — and
//! the scheduler verifies them all in one batch of the real model. A drafted token is kept
//! only where the request's own sampler, reading the real model's logits at that position,
//! picks that very token (llama.cpp's `common_sampler_sample_and_accept_n`), so the answer is
//! the one plain decoding gives: token for token when greedy, the same distribution when
//! sampled. Drafting only changes how many positions one step computes.
//!
//! This module is the plain data: what a load asks for ([`Drafting`], kept in presets) and a
//! request's own limits ([`DraftLimits`]). The drafters themselves are the engine's
//! `drafter.rs`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A kind of drafting, named as llama.cpp's `--spec-type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum DraftKind {
    /// A second, smaller model with the same vocabulary ([`Drafting::draft_model`]).
    DraftSimple,
    /// The model's own multi-token-prediction heads (models that carry them).
    DraftMtp,
    /// The continuation that followed the last n-gram the last time it appeared.
    NgramSimple,
    /// n-gram keys, the continuation seen most often.
    NgramMapK,
    /// n-gram keys with up to four continuations each.
    NgramMapK4v,
    /// A hashed n-gram pool over the whole conversation (llama-server's `--spec-default`).
    NgramMod,
}

impl DraftKind {
    pub const ALL: [DraftKind; 6] =
        [Self::DraftSimple, Self::DraftMtp, Self::NgramSimple, Self::NgramMapK, Self::NgramMapK4v, Self::NgramMod];

    /// llama.cpp's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::DraftSimple => "draft-simple",
            Self::DraftMtp => "draft-mtp",
            Self::NgramSimple => "ngram-simple",
            Self::NgramMapK => "ngram-map-k",
            Self::NgramMapK4v => "ngram-map-k4v",
            Self::NgramMod => "ngram-mod",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name.trim())
    }

    /// Whether it drafts from a model (a draft model or MTP heads) rather than from n-grams.
    pub fn uses_model(self) -> bool {
        matches!(self, Self::DraftSimple | Self::DraftMtp)
    }
}

/// How a load drafts tokens. The default drafts nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Drafting {
    /// The kinds in use, tried in llama.cpp's order (n-grams first, then models); the first
    /// that proposes something drafts that step. `draft-simple` needs [`Self::draft_model`].
    pub kinds: Vec<DraftKind>,
    /// The draft model (a GGUF with the model's vocabulary), for `draft-simple`.
    pub draft_model: Option<PathBuf>,
    /// Most tokens a draft model or MTP drafts per step (`None`: llama.cpp's default, 3;
    /// n-gram kinds have their own).
    pub draft_max: Option<u32>,
    /// Fewer drafted tokens than this are not verified.
    pub draft_min: u32,
    /// A draft model stops drafting where its own top token is less likely than this.
    pub draft_p_min: f32,
}

impl Drafting {
    pub fn is_on(&self) -> bool {
        !self.kinds.is_empty()
    }

    /// llama.cpp's comma-separated list of the kinds.
    pub fn names(&self) -> String {
        self.kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")
    }

    /// Parses llama.cpp's `--spec-type` list (`none` or empty: no drafting).
    pub fn parse_kinds(list: &str) -> Result<Vec<DraftKind>, String> {
        let mut kinds = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty() && *n != "none") {
            let kind = DraftKind::from_name(name).ok_or_else(|| {
                let known: Vec<_> = DraftKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown kind of drafting `{name}` (known: none, {})", known.join(", "))
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(kinds)
    }

    /// Checks what a load can check before loading anything.
    pub fn validate(&self) -> Result<(), Invalid> {
        let simple = self.kinds.contains(&DraftKind::DraftSimple);
        if simple && self.draft_model.is_none() {
            return Err(Invalid("draft-simple drafting needs a draft model".into()));
        }
        if self.draft_model.is_some() && !simple {
            return Err(Invalid("a draft model is used only with draft-simple drafting".into()));
        }
        if !(0.0..=1.0).contains(&self.draft_p_min) {
            return Err(Invalid("draft_p_min must be between 0 and 1".into()));
        }
        if self.draft_max.is_some_and(|n| n == 0 || n > MAX_DRAFT) || self.draft_min > MAX_DRAFT {
            return Err(Invalid(format!("drafts hold 1 to {MAX_DRAFT} tokens")));
        }
        Ok(())
    }
}

/// Layers of the draft model on the GPU: all of them when the model offloads any, else none.
pub fn draft_gpu_layers(model_gpu_layers: u32) -> u32 {
    if model_gpu_layers > 0 {
        999
    } else {
        0
    }
}

impl Drafting {
    /// The draft model a load brings into memory beside the model (draft-simple), if any.
    pub fn draft_file(&self) -> Option<&std::path::Path> {
        self.draft_model.as_deref().filter(|_| self.kinds.contains(&DraftKind::DraftSimple))
    }
}

/// Most tokens one draft may hold (llama.cpp's n-gram kinds propose up to 64).
pub const MAX_DRAFT: u32 = 64;

/// A request's own limits on drafting (llama-server's `speculative.n_max` / `.n_min`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct DraftLimits {
    /// Most tokens per draft; `Some(0)` turns drafting off for the request.
    pub n_max: Option<u32>,
    /// Drafts shorter than this are not verified.
    pub n_min: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_as_llama_cpp_names_them() {
        assert_eq!(
            Drafting::parse_kinds("ngram-mod, draft-simple").unwrap(),
            vec![DraftKind::NgramMod, DraftKind::DraftSimple]
        );
        assert_eq!(Drafting::parse_kinds("none").unwrap(), vec![]);
        assert_eq!(Drafting::parse_kinds("").unwrap(), vec![]);
        let err = Drafting::parse_kinds("ngram-mod,eagle").unwrap_err();
        assert!(err.contains("`eagle`") && err.contains("ngram-simple"), "{err}");
        for kind in DraftKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
    }

    #[test]
    fn a_draft_model_and_draft_simple_go_together() {
        let mut d = Drafting { kinds: vec![DraftKind::DraftSimple], ..Default::default() };
        assert!(d.validate().is_err());
        d.draft_model = Some("d.gguf".into());
        assert!(d.validate().is_ok());
        d.kinds = vec![DraftKind::NgramMod];
        assert!(d.validate().is_err());
        d.draft_model = None;
        d.draft_max = Some(0);
        assert!(d.validate().is_err());
    }
}
