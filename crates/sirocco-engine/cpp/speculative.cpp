// A C face for llama.cpp's own speculative decoding (`common/speculative.h`, compiled into
// libllama-common by llama-cpp-sys-2), for every sequence of one context: the Rust scheduler
// drafts with it and verifies the drafts itself (see src/speculative.rs).
//
// Only what the scheduler needs crosses: make one for a target context (and a draft model's
// context, for draft-simple), begin a sequence, hand it each batch the target decoded, ask
// drafts for several sequences at once, say how many were accepted. C++ exceptions never
// cross: each call catches and reports failure.

#include "common.h"
#include "speculative.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

struct sirocco_spec {
    common_params_speculative params;
    common_speculative * spec = nullptr;
    common_batch batch;
    // Per sequence: the tokens a draft continues from, and the draft.
    std::vector<llama_tokens> history;
    std::vector<llama_tokens> result;
};

static char * copy_message(const std::string & text) {
    char * out = static_cast<char *>(std::malloc(text.size() + 1));
    if (out) {
        std::memcpy(out, text.c_str(), text.size() + 1);
    }
    return out;
}

extern "C" void sirocco_spec_string_free(char * text) { std::free(text); }

// `types` is llama.cpp's comma-separated list of names (as `--spec-type` takes it).
extern "C" sirocco_spec * sirocco_spec_new(
    const char * types,
    llama_context * ctx_tgt,
    llama_context * ctx_dft,
    uint32_t n_seq,
    int32_t n_max,
    int32_t n_min,
    float p_min,
    char ** error) {
    try {
        auto out = std::make_unique<sirocco_spec>();
        std::vector<std::string> names = string_split<std::string>(types, ',');
        for (const auto & name : names) {
            if (common_speculative_type_from_name(name) == COMMON_SPECULATIVE_TYPE_COUNT) {
                throw std::runtime_error("unknown kind of drafting: " + name);
            }
        }
        out->params.types = common_speculative_types_from_names(names);
        out->params.draft.ctx_tgt = ctx_tgt;
        out->params.draft.ctx_dft = ctx_dft;
        if (n_max > 0) {
            out->params.draft.n_max = n_max;
        }
        out->params.draft.n_min = n_min;
        out->params.draft.p_min = p_min;
        if (ctx_dft && ctx_tgt && !common_speculative_are_compatible(llama_get_model(ctx_tgt), llama_get_model(ctx_dft))) {
            throw std::runtime_error("the draft model's vocabulary differs from the model's");
        }
        out->spec = common_speculative_init(out->params, n_seq);
        if (!out->spec) {
            throw std::runtime_error("llama.cpp made no drafter for these kinds");
        }
        out->history.resize(n_seq);
        out->result.resize(n_seq);
        return out.release();
    } catch (const std::exception & e) {
        if (error) {
            *error = copy_message(e.what());
        }
        return nullptr;
    } catch (...) {
        if (error) {
            *error = copy_message("llama.cpp could not start drafting");
        }
        return nullptr;
    }
}

extern "C" void sirocco_spec_free(sirocco_spec * s) {
    if (!s) {
        return;
    }
    common_speculative_free(s->spec);
    delete s;
}

// The most tokens one draft may hold, over the kinds in use.
extern "C" int32_t sirocco_spec_n_max(const sirocco_spec * s) {
    return s ? common_speculative_n_max(s->spec) : 0;
}

extern "C" bool sirocco_spec_begin(sirocco_spec * s, int32_t seq, const llama_token * tokens, size_t n) {
    if (!s || seq < 0 || (size_t) seq >= s->history.size()) {
        return false;
    }
    try {
        s->history[seq].assign(tokens, tokens + n);
        common_speculative_begin(s->spec, seq, s->history[seq]);
        return true;
    } catch (...) {
        return false;
    }
}

// The batch the target just decoded: token, position, sequence and output flag of each entry.
extern "C" bool sirocco_spec_process(
    sirocco_spec * s,
    const llama_token * tokens,
    const llama_pos * pos,
    const llama_seq_id * seqs,
    const int8_t * outputs,
    size_t n) {
    if (!s) {
        return false;
    }
    try {
        s->batch.clear();
        for (size_t k = 0; k < n; ++k) {
            s->batch.add(tokens[k], pos[k], seqs[k], outputs[k] != 0);
        }
        return common_speculative_process(s->spec, s->batch);
    } catch (...) {
        return false;
    }
}

// Asks a draft for `seq`: at most `n_max` tokens after `id_last` at position `pos0`, continuing
// `history` (every token before `id_last`). Drafts are made by `sirocco_spec_draft`.
extern "C" bool sirocco_spec_want(
    sirocco_spec * s,
    int32_t seq,
    int32_t n_max,
    llama_pos pos0,
    llama_token id_last,
    const llama_token * history,
    size_t n) {
    if (!s || seq < 0 || (size_t) seq >= s->history.size() || n_max <= 0) {
        return false;
    }
    try {
        s->history[seq].assign(history, history + n);
        s->result[seq].clear();
        auto & dp = common_speculative_get_draft_params(s->spec, seq);
        dp = {};
        dp.drafting = true;
        dp.n_max = n_max;
        dp.pos0 = pos0;
        dp.id_last = id_last;
        dp.prompt = &s->history[seq];
        dp.result = &s->result[seq];
        return true;
    } catch (...) {
        return false;
    }
}

extern "C" bool sirocco_spec_draft(sirocco_spec * s) {
    if (!s) {
        return false;
    }
    try {
        common_speculative_draft(s->spec);
        return true;
    } catch (...) {
        return false;
    }
}

// Copies `seq`'s draft (at most `cap` tokens) and returns its length.
extern "C" size_t sirocco_spec_result(const sirocco_spec * s, int32_t seq, llama_token * out, size_t cap) {
    if (!s || seq < 0 || (size_t) seq >= s->result.size()) {
        return 0;
    }
    const auto & draft = s->result[seq];
    const size_t n = std::min(draft.size(), cap);
    std::memcpy(out, draft.data(), n * sizeof(llama_token));
    return n;
}

extern "C" bool sirocco_spec_accept(sirocco_spec * s, int32_t seq, uint16_t n_accepted) {
    if (!s || seq < 0 || (size_t) seq >= s->result.size()) {
        return false;
    }
    try {
        common_speculative_accept(s->spec, seq, n_accepted);
        return true;
    } catch (...) {
        return false;
    }
}

// Whether two models may pair as target and draft (llama.cpp's own check of their vocabularies).
extern "C" bool sirocco_spec_compatible(llama_context * ctx_tgt, llama_context * ctx_dft) {
    try {
        return common_speculative_are_compatible(llama_get_model(ctx_tgt), llama_get_model(ctx_dft));
    } catch (...) {
        return false;
    }
}

// Whether `ctx`'s cache can drop the tail of a sequence (rejected drafts): llama.cpp's probe,
// which clears the cache — call it before the context holds anything.
extern "C" bool sirocco_spec_can_drop_tail(llama_context * ctx) {
    try {
        return common_context_can_seq_rm(ctx) == COMMON_CONTEXT_SEQ_RM_TYPE_PART;
    } catch (...) {
        return false;
    }
}
