//! Whether a model fits beside the ones loaded, and which to unload to make room. Pure: the
//! host gives it what it holds, it answers; unit-tested without a model.

use std::time::Instant;

use serde::Serialize;

/// Memory of one load (the planner's estimate) or a budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(rename = "MemoryUse")]
pub struct Memory {
    pub ram: u64,
    pub vram: u64,
}

impl Memory {
    fn plus(self, other: Memory) -> Memory {
        Memory { ram: self.ram + other.ram, vram: self.vram + other.vram }
    }

    /// `self` and `extra` together stay within `budget` (VRAM is checked only when `extra` needs some).
    fn fits_with(self, extra: Memory, budget: Memory) -> bool {
        let total = self.plus(extra);
        total.ram <= budget.ram && (extra.vram == 0 || total.vram <= budget.vram)
    }
}

/// Who asked for a model to be loaded: decides who may unload it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LoadedBy {
    /// The user (the app's picker, `sirocco serve --model`, `sirocco chat`): a server request
    /// never unloads it; idleness never does either.
    User,
    /// A request that named it (or `POST /models/load`): the least recently used such model
    /// makes room for another, and idleness unloads it.
    Server,
}

/// A model the host holds, as far as making room goes.
#[derive(Debug, Clone)]
pub struct Occupant {
    pub key: u64,
    pub id: String,
    pub loaded_by: LoadedBy,
    pub memory: Memory,
    /// Answering (leases held), loading, or already going: cannot be unloaded now.
    pub busy: bool,
    /// Already being unloaded: its memory is about to be free.
    pub going: bool,
    /// When a request last let go of it.
    pub last_used: Instant,
}

/// What making room for a load comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Room {
    /// It fits once these (by key, least recently used first) are unloaded; often none.
    Evict(Vec<u64>),
    /// It would fit once these busy models finish; wait for them.
    Wait(Vec<String>),
    /// Nothing this load may unload frees enough: these are in the way.
    Full(Vec<String>),
}

/// Room for a load of `need` beside `occupants`, within `budget` and `max_models`. A load by
/// the server may unload idle models the server loaded; a load by the user may also unload the
/// user's own idle ones (the user's new choice wins over their old one). Nothing busy is ever
/// unloaded. A model alone may exceed the budget (the user chose it and the planner said how it
/// runs): the budget limits what is loaded *together*.
pub fn make_room(occupants: &[Occupant], need: Memory, budget: Memory, max_models: usize, by: LoadedBy) -> Room {
    let may_unload = |o: &Occupant| match by {
        LoadedBy::Server => o.loaded_by == LoadedBy::Server,
        LoadedBy::User => true,
    };
    let mut staying: Vec<&Occupant> = occupants.iter().collect();
    let mut candidates: Vec<&Occupant> = occupants.iter().filter(|o| !o.busy && may_unload(o)).collect();
    // The server's own models go first, then the least recently used.
    candidates.sort_by_key(|o| (o.loaded_by == LoadedBy::User, o.last_used));
    let fits = |staying: &[&Occupant]| {
        staying.is_empty()
            || (staying.len() < max_models.max(1)
                && staying.iter().fold(Memory::default(), |m, o| m.plus(o.memory)).fits_with(need, budget))
    };
    let mut evict = Vec::new();
    let mut candidates = candidates.into_iter();
    while !fits(&staying) {
        let Some(next) = candidates.next() else {
            let (busy, idle): (Vec<&Occupant>, Vec<&Occupant>) =
                staying.iter().partition(|o| o.going || (o.busy && may_unload(o)));
            return if busy.is_empty() {
                Room::Full(idle.iter().map(|o| o.id.clone()).collect())
            } else {
                Room::Wait(busy.iter().map(|o| o.id.clone()).collect())
            };
        };
        staying.retain(|o| o.key != next.key);
        evict.push(next.key);
    }
    Room::Evict(evict)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const GIB: u64 = 1 << 30;

    fn occupant(key: u64, by: LoadedBy, ram_gib: u64, busy: bool, age_s: u64) -> Occupant {
        let now = Instant::now();
        Occupant {
            key,
            id: format!("m{key}"),
            loaded_by: by,
            memory: Memory { ram: ram_gib * GIB, vram: 0 },
            busy,
            going: false,
            last_used: now.checked_sub(Duration::from_secs(age_s)).unwrap_or(now),
        }
    }

    fn ram(gib: u64) -> Memory {
        Memory { ram: gib * GIB, vram: 0 }
    }

    #[test]
    fn a_model_that_fits_beside_the_others_unloads_nothing() {
        let held = [occupant(1, LoadedBy::User, 5, false, 10), occupant(2, LoadedBy::Server, 4, true, 1)];
        assert_eq!(make_room(&held, ram(6), ram(16), 4, LoadedBy::Server), Room::Evict(vec![]));
    }

    #[test]
    fn the_least_recently_used_idle_server_model_goes_first() {
        let held = [
            occupant(1, LoadedBy::Server, 5, false, 5),
            occupant(2, LoadedBy::Server, 5, false, 50),
            occupant(3, LoadedBy::User, 5, false, 500),
        ];
        // 15 of 16 GiB held, 5 more wanted: one has to go, the server's oldest.
        assert_eq!(make_room(&held, ram(5), ram(16), 4, LoadedBy::Server), Room::Evict(vec![2]));
        // 10 more: both of the server's, never the user's.
        assert_eq!(make_room(&held, ram(10), ram(16), 4, LoadedBy::Server), Room::Evict(vec![2, 1]));
        // 12 more: the user's model is in the way, and the server may not touch it.
        assert_eq!(make_room(&held, ram(12), ram(16), 4, LoadedBy::Server), Room::Full(vec!["m3".into()]));
    }

    #[test]
    fn the_users_own_load_may_replace_their_idle_models_after_the_servers() {
        let held = [occupant(1, LoadedBy::User, 5, false, 500), occupant(2, LoadedBy::Server, 5, false, 5)];
        assert_eq!(make_room(&held, ram(8), ram(16), 4, LoadedBy::User), Room::Evict(vec![2]));
        assert_eq!(make_room(&held, ram(12), ram(16), 4, LoadedBy::User), Room::Evict(vec![2, 1]));
    }

    #[test]
    fn a_busy_model_is_never_unloaded_the_load_waits_for_it() {
        let held = [occupant(1, LoadedBy::Server, 8, true, 0), occupant(2, LoadedBy::Server, 4, false, 9)];
        // Unloading the idle one is not enough: wait for the busy one.
        assert_eq!(make_room(&held, ram(9), ram(16), 4, LoadedBy::Server), Room::Wait(vec!["m1".into()]));
        // A busy user model is not the server's to wait for.
        let held = [occupant(1, LoadedBy::User, 8, true, 0)];
        assert_eq!(make_room(&held, ram(12), ram(16), 4, LoadedBy::Server), Room::Full(vec!["m1".into()]));
        assert_eq!(make_room(&held, ram(12), ram(16), 4, LoadedBy::User), Room::Wait(vec!["m1".into()]));
    }

    #[test]
    fn the_most_models_kept_counts_like_memory() {
        let held = [occupant(1, LoadedBy::Server, 1, false, 9), occupant(2, LoadedBy::Server, 1, false, 1)];
        assert_eq!(make_room(&held, ram(1), ram(64), 2, LoadedBy::Server), Room::Evict(vec![1]));
        assert_eq!(make_room(&held, ram(1), ram(64), 3, LoadedBy::Server), Room::Evict(vec![]));
        assert_eq!(make_room(&[], ram(1), ram(64), 1, LoadedBy::Server), Room::Evict(vec![]));
    }

    #[test]
    fn a_model_alone_may_exceed_the_budget() {
        assert_eq!(make_room(&[], ram(40), ram(16), 4, LoadedBy::User), Room::Evict(vec![]));
        let held = [occupant(1, LoadedBy::Server, 2, false, 9)];
        assert_eq!(make_room(&held, ram(40), ram(16), 4, LoadedBy::Server), Room::Evict(vec![1]));
    }

    #[test]
    fn vram_is_counted_only_for_a_load_that_needs_it() {
        let gpu = |ram_gib, vram_gib| Memory { ram: ram_gib * GIB, vram: vram_gib * GIB };
        let mut a = occupant(1, LoadedBy::Server, 1, false, 9);
        a.memory = gpu(1, 20);
        let budget = gpu(64, 24);
        assert_eq!(make_room(std::slice::from_ref(&a), gpu(1, 0), budget, 4, LoadedBy::Server), Room::Evict(vec![]));
        assert_eq!(make_room(std::slice::from_ref(&a), gpu(1, 8), budget, 4, LoadedBy::Server), Room::Evict(vec![1]));
    }
}
