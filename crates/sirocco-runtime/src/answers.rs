//! Answers on the runtime's models: a stored conversation's turn ([`Runtime::run_turn`]) and an
//! unsaved one-off answer ([`Runtime::answer_once`], the arena's). Each holds a lease on its
//! model (never unloaded under it) and registers its stop flag under a stream name
//! (`chat`, `arena-0`…) that [`Runtime::stop`] finds.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sirocco_chat::{run_turn_with_tools, Reading, ToolHost, Turn, TurnEvent, TurnRequest};
use sirocco_engine::{ChatMessage, GenerateRequest, GenerationEvent, SamplingParams};

use crate::Runtime;

/// Why an answer could not be given.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// Its model could not be had (not loaded, no room…).
    #[error(transparent)]
    Host(#[from] sirocco_host::HostError),
    #[error(transparent)]
    Engine(#[from] sirocco_engine::EngineError),
    /// The turn failed (it is saved with its error and was sent as an event).
    #[error(transparent)]
    Chat(#[from] sirocco_chat::ChatError),
}

impl Runtime {
    /// Runs one turn on the model file the request names (loaded), else on the user's model,
    /// with `tools`, sending its events to `on_event` (false: the listener is gone, and the turn
    /// stops; what was generated is kept). Resolves with the last answer's id once the turn is
    /// over (done, stopped or failed).
    pub async fn run_turn(
        &self,
        request: TurnRequest,
        tools: Option<&dyn ToolHost>,
        stream: &str,
        on_event: impl FnMut(TurnEvent) -> bool,
    ) -> Result<i64, AnswerError> {
        let model = self.lease(request.model.as_deref().map(Path::new)).await?;
        // Documents too long for the context are searched with the library's embedding model's
        // vectors (loaded beside the chat model), else with the answering model's.
        let embedder = self.documents_embedder(&request).await;
        let searcher = embedder.as_ref().unwrap_or(&model);
        let reading = Reading {
            context_length: model.model().context_length as usize,
            embedder: searcher.engine(),
            embedder_name: searcher.id().to_string(),
        };
        let answer = run_turn_with_tools(
            &self.store,
            model.engine(),
            request,
            tools,
            Some(&reading),
            |stop| self.streaming(stream, stop),
            on_event,
        )
        .await;
        self.streamed(stream);
        Ok(answer?)
    }

    /// A one-off answer to `messages` from the model file `model` (loaded; else the user's
    /// model), not saved: every event goes to `on_event`, to the last one (a thought or tool
    /// calls do not end an answer); false from it stops the answer.
    pub async fn answer_once(
        &self,
        messages: Vec<ChatMessage>,
        sampling: SamplingParams,
        model: Option<&Path>,
        stream: &str,
        mut on_event: impl FnMut(GenerationEvent) -> bool,
    ) -> Result<(), AnswerError> {
        let lease = self.lease(model).await?;
        let mut generation = lease.engine().generate(GenerateRequest::new(messages, sampling))?;
        let cancel = generation.cancel_handle();
        self.streaming(stream, cancel.clone());
        sirocco_engine::collect(&mut generation, |event| {
            if !on_event(event.clone()) {
                cancel.store(true, Ordering::Relaxed);
            }
        })
        .await;
        self.streamed(stream);
        Ok(())
    }

    /// Stops the answer streaming under `stream` (every answer when none is named).
    pub fn stop(&self, stream: Option<&str>) {
        for (name, cancel) in self.generations.lock().unwrap().iter() {
            if stream.is_none_or(|s| s == name) {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    }

    fn streaming(&self, stream: &str, stop: Arc<AtomicBool>) {
        self.generations.lock().unwrap().insert(stream.to_owned(), stop);
    }

    fn streamed(&self, stream: &str) {
        self.generations.lock().unwrap().remove(stream);
    }

    /// The model that searches a turn's documents: an embedding model from the library
    /// (nomic-embed, bge, all-MiniLM…: the first found), leased — loaded beside the chat model
    /// if it is not yet — when the turn may need one (new documents, or an edited question that
    /// may carry some); `None` (the answering model searches) when the library has none or it
    /// cannot be loaded.
    async fn documents_embedder(&self, request: &TurnRequest) -> Option<sirocco_host::Lease> {
        let reads = match &request.turn {
            Turn::Send { attachments, .. } => attachments
                .iter()
                .any(|a| !a.mime.starts_with("image/") && sirocco_documents::Kind::of(&a.name, &a.mime).is_some()),
            Turn::Edit { .. } => true,
            _ => false,
        };
        if !reads {
            return None;
        }
        let roots = self.library_roots();
        let models = tokio::task::spawn_blocking(move || sirocco_hub::library::scan(&roots)).await.ok()?;
        let found = models.into_iter().find(|m| m.embedding)?;
        let params = sirocco_engine::LoadParams { parallel: 1, ..sirocco_engine::LoadParams::default() };
        let spec = sirocco_host::ModelSpec { id: found.id(), path: found.path, params };
        self.host
            .lease_or_load(spec)
            .await
            .inspect_err(|e| tracing::warn!("the embedding model could not be loaded; the chat model searches: {e}"))
            .ok()
    }
}
