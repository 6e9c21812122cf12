//! A question's documents as the model reads them: whole when they fit the context beside the
//! conversation, else the passages the question needs — ranked by an embedding model's vectors
//! and by the question's words — with what was used kept on the question (its `sources`), so
//! every later turn gives the model the same and the page shows it under the answer.
//!
//! "Fits" is counted with the answering model's tokenizer, keeping `ANSWER_ROOM` tokens for
//! the answer; otherwise at most `MAX_PASSAGES` passages fill half of what is left. The text
//! goes to the model before the question as `<document name=…>` or `<passage document=…>`
//! blocks; the stored question keeps only what the user typed.

use sirocco_documents::{Kind, PASSAGE_CHARS};
use sirocco_engine::Engine;
use sirocco_store::{Attachment, DocumentSource, DocumentText, Message, Role, SourcePassage, Store};

use crate::{ChatError, Result, TurnEvent};

/// What a turn reads documents with.
pub struct Reading<'a> {
    /// Context tokens the answering model has: documents that fit beside the conversation go
    /// in whole.
    pub context_length: usize,
    /// The model that embeds passages for retrieval, and its name (its vectors are kept under
    /// it): an embedding model from the library, or the answering model itself.
    pub embedder: &'a Engine,
    pub embedder_name: String,
}

/// Tokens kept free for the answer when deciding what fits.
const ANSWER_ROOM: usize = 1024;
/// A cautious count of characters per token of prose.
const CHARS_PER_TOKEN: usize = 3;
/// Passages given for one question at most.
const MAX_PASSAGES: usize = 8;
/// Passages embedded per call (progress is reported between calls).
const EMBED_BATCH: usize = 8;

/// The text of document `a` (`bytes` when the caller has them): kept in the store, else read
/// in a reader process and kept.
pub(crate) async fn text_of(store: &Store, a: &Attachment, bytes: Option<Vec<u8>>) -> Result<DocumentText> {
    if let Some(text) = store.document_text(&a.hash).await? {
        return Ok(text);
    }
    let bytes = match bytes {
        Some(b) => b,
        None => store.attachment_bytes(&a.hash).await?,
    };
    let text = read(&a.name, &a.mime, bytes).await?;
    store.set_document_text(&a.hash, &text).await?;
    Ok(text)
}

/// Reads document `name` of type `mime`, in a reader process.
pub(crate) async fn read(name: &str, mime: &str, bytes: Vec<u8>) -> Result<DocumentText> {
    let kind =
        Kind::of(name, mime).ok_or_else(|| ChatError::Invalid(format!("{name}: this kind of file cannot be read")))?;
    let read = sirocco_documents::read(kind, bytes).await.map_err(|e| ChatError::Invalid(format!("{name}: {e}")))?;
    Ok(DocumentText { text: read.text, pages: read.pages, note: read.note })
}

/// The model's view of question `m`: its text after its documents, as its `sources` say
/// (whole documents read from the store).
pub(crate) async fn with_documents(store: &Store, m: &Message) -> Result<String> {
    if m.role != Role::User || m.sources.is_empty() {
        return Ok(m.content.clone());
    }
    let mut out = String::new();
    for s in &m.sources {
        let name = s.name.replace(['"', '<', '>'], "");
        if s.whole {
            let Some(a) = m.attachments.iter().find(|a| a.hash == s.hash) else { continue };
            let text = text_of(store, a, None).await?;
            out.push_str(&format!("<document name=\"{name}\">\n{}\n</document>\n\n", text.text));
        } else {
            for p in &s.passages {
                out.push_str(&format!(
                    "<passage document=\"{name}\" part=\"{} of {}\">\n{}\n</passage>\n\n",
                    p.number, s.passage_count, p.text
                ));
            }
        }
    }
    out.push_str(&m.content);
    Ok(out)
}

/// Decides how question `m`'s documents go to the model, given the prompt without them is
/// `prompt_tokens` long: whole if they all fit with room for the answer, else the passages
/// ranked best for the question that fit in half of what is left.
pub(crate) async fn sources_for(
    store: &Store,
    engine: &Engine,
    reading: &Reading<'_>,
    m: &Message,
    prompt_tokens: usize,
    emit: &mut impl FnMut(TurnEvent) -> bool,
) -> Result<Vec<DocumentSource>> {
    let mut docs = Vec::new();
    for a in m.attachments.iter().filter(|a| a.is_document()) {
        docs.push((a, text_of(store, a, None).await?));
    }
    let room = reading.context_length.saturating_sub(prompt_tokens + ANSWER_ROOM);
    let chars: usize = docs.iter().map(|(_, t)| t.text.len()).sum();
    // Counted in tokens only when it could fit by its length.
    let mut fits = chars / 8 <= room;
    if fits {
        let mut tokens = 0;
        for (_, t) in &docs {
            tokens += engine.tokenize(t.text.clone(), false, false).await?.len();
        }
        fits = tokens <= room;
    }
    if fits {
        return Ok(docs
            .iter()
            .map(|(a, t)| DocumentSource {
                hash: a.hash.clone(),
                name: a.name.clone(),
                whole: true,
                pages: t.pages,
                note: t.note.clone(),
                passage_count: 0,
                passages: Vec::new(),
            })
            .collect());
    }
    // Retrieval over every document's passages at once.
    let mut all: Vec<(usize, u32, &str)> = Vec::new();
    let mut vectors = Vec::new();
    let mut counts = Vec::new();
    for (d, (a, t)) in docs.iter().enumerate() {
        let passages = sirocco_documents::split(&t.text);
        counts.push(passages.len() as u32);
        let texts: Vec<&str> = passages.iter().map(|p| &t.text[p.start..p.end]).collect();
        vectors.extend(reading.passage_vectors(store, a, &texts, emit).await?);
        all.extend(texts.into_iter().enumerate().map(|(i, s)| (d, i as u32 + 1, s)));
    }
    let question = match m.content.trim() {
        "" => None,
        q => reading.embedder.embed_truncating(vec![q.to_string()]).await?.vectors.pop(),
    };
    let take = (room / 2 / (PASSAGE_CHARS / CHARS_PER_TOKEN)).clamp(1, MAX_PASSAGES);
    let texts: Vec<&str> = all.iter().map(|(_, _, s)| *s).collect();
    let mut best = sirocco_documents::rank(&m.content, question.as_deref(), &texts, &vectors, take);
    // No question to search for (only files sent): the documents' beginnings.
    if best.is_empty() {
        best = (0..take.min(all.len())).collect();
    }
    best.sort();
    Ok(docs
        .iter()
        .enumerate()
        .map(|(d, (a, t))| DocumentSource {
            hash: a.hash.clone(),
            name: a.name.clone(),
            whole: false,
            pages: t.pages,
            note: t.note.clone(),
            passage_count: counts[d],
            passages: best
                .iter()
                .filter(|&&i| all[i].0 == d)
                .map(|&i| SourcePassage { number: all[i].1, text: all[i].2.to_string() })
                .collect(),
        })
        .collect())
}

impl Reading<'_> {
    /// The vectors of document `a`'s passages `texts`: kept in the store, else embedded (the
    /// page told how far it got) and kept.
    async fn passage_vectors(
        &self,
        store: &Store,
        a: &Attachment,
        texts: &[&str],
        emit: &mut impl FnMut(TurnEvent) -> bool,
    ) -> Result<Vec<Vec<f32>>> {
        if let Some(v) = store.passage_vectors(&a.hash, &self.embedder_name).await? {
            if v.len() == texts.len() {
                return Ok(v);
            }
        }
        let total = texts.len() as u32;
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(EMBED_BATCH) {
            emit(TurnEvent::Reading { name: a.name.clone(), done: vectors.len() as u32, total });
            let inputs = batch.iter().map(|t| (*t).to_string()).collect();
            vectors.extend(self.embedder.embed_truncating(inputs).await?.vectors);
        }
        emit(TurnEvent::Reading { name: a.name.clone(), done: total, total });
        if !vectors.is_empty() {
            store.set_passage_vectors(&a.hash, &self.embedder_name, &vectors).await?;
        }
        Ok(vectors)
    }
}
