//! Several loaded models share one machine's cores. Each model has its own engine thread
//! (its own llama.cpp context and thread team); a decode takes the process-wide compute turn,
//! so two models never run their matrix kernels at the same time. On a CPU two decodes at
//! once would run 2× the threads on the same cores, and llama.cpp's threads wait for each
//! other at every layer, so both would crawl; taking turns gives each its full speed for its
//! step. The turn is fair (first come, first served), so a model answering a long stream
//! cannot starve another one's steps. Uncontended (one model answering) it costs one atomic
//! operation per step.

use parking_lot::{FairMutex, FairMutexGuard};

static TURN: FairMutex<()> = parking_lot::const_fair_mutex(());

/// Held for one decode (one batch of one model).
pub(crate) fn turn() -> FairMutexGuard<'static, ()> {
    TURN.lock()
}
