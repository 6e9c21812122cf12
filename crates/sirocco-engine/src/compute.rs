//! Several loaded models share one machine's cores. Each model has its own engine thread (its
//! own llama.cpp context, scheduler and sampler), but every decode in the process — the matrix
//! work llama.cpp spreads over a team of threads — runs on one compute thread, one decode at a
//! time, first come first served. The engine thread hands its batch over and waits.
//!
//! Why one thread, measured with `sirocco bench-models`:
//! - Two decodes at once would run 2× the threads on the same cores, and llama.cpp's threads
//!   wait for each other at every layer, so both would crawl. Taking turns in arrival order
//!   gives each its full speed, and a long stream cannot starve another model's steps.
//! - ggml's CPU backend uses OpenMP, and OpenMP keeps a team of threads for every thread that
//!   ever ran a parallel region. Once the teams together hold more threads than there are
//!   cores, libgomp stops spinning between regions and puts its threads to sleep after each
//!   one (`GOMP_SPINCOUNT` throttling), so every decode pays for waking them: with one engine
//!   thread calling per model, a second resident model — even an idle one — cut the first
//!   one's decode speed by ~10 %. Called from one thread, there is one team, whatever the
//!   number of models (interleaved requests then run at ~0.99 of each model alone).
//!
//! The hand-over costs two thread wake-ups per decode; the engine benchmark's ratios against
//! llama-bench (which calls from one thread too) did not move.
//!
//! Invariant: nothing in the engine calls llama.cpp's decode (or anything that computes a
//! graph) except through [`run`].

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::OnceLock;

/// A decode borrowed from a caller that waits for it (see [`run`]).
struct Job {
    work: *mut (dyn FnMut() + 'static),
    done: mpsc::SyncSender<std::thread::Result<()>>,
}

// SAFETY: `work` points at a closure on the stack of a thread blocked in `run` until `done`
// answers; the compute thread is the only one touching it meanwhile. llama.cpp contexts have
// no thread affinity — they may be used from any thread, one at a time.
unsafe impl Send for Job {}

fn compute_thread() -> &'static mpsc::Sender<Job> {
    static JOBS: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sirocco-compute".into())
            .spawn(move || {
                for job in rx {
                    // SAFETY: see `Job`; the caller is blocked until `done` is answered.
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (*job.work)() }));
                    let _ = job.done.send(outcome);
                }
            })
            .expect("spawn the compute thread");
        tx
    })
}

/// Runs one decode (one batch of one model) on the compute thread and waits for it. Decodes
/// never overlap, and run in the order they were asked for.
pub(crate) fn run<R>(work: impl FnOnce() -> R) -> R {
    let mut work = Some(work);
    let mut result = None;
    let mut call = || result = Some((work.take().expect("a decode runs once"))());
    let call: &mut (dyn FnMut() + '_) = &mut call;
    // SAFETY: the lifetime is erased only for the hand-over; this function does not return (or
    // unwind) before the compute thread has answered `done`, so the borrow outlives every use.
    let call: *mut (dyn FnMut() + 'static) = unsafe { std::mem::transmute(call) };
    let (done, finished) = mpsc::sync_channel(1);
    if compute_thread().send(Job { work: call, done }).is_err() {
        unreachable!("the compute thread lives as long as the process");
    }
    match finished.recv() {
        Ok(Ok(())) => result.expect("the decode ran"),
        Ok(Err(panicked)) => panic::resume_unwind(panicked),
        Err(_) => unreachable!("the compute thread answers every job"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_the_compute_thread_with_its_borrows_and_returns_its_value() {
        let mut borrowed = vec![1, 2];
        let name = run(|| {
            borrowed.push(3);
            std::thread::current().name().map(str::to_owned)
        });
        assert_eq!(name.as_deref(), Some("sirocco-compute"));
        assert_eq!(borrowed, [1, 2, 3]);
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller_and_the_compute_thread_survives() {
        let caught = panic::catch_unwind(|| run(|| panic!("decode blew up")));
        assert!(caught.is_err());
        assert_eq!(run(|| 7), 7);
    }
}
