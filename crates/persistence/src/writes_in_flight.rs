//! The writes of files under way in this process, and the moment before
//! which every change is committed.
//!
//! A change is stamped (`updated_at`) when its request starts and becomes
//! visible when its transaction commits, later; writes commit in any
//! order. So a reader that resumes `updated_since` from the newest change
//! it saw can miss an older change that committed after it read (an
//! import of 10 000 rows stamped before a one-file edit that committed
//! first). [`WritesInFlight::complete_until`] is the moment before which
//! every change of this process is committed: a sync that resumes from it
//! misses nothing. The moment of a write is read from the clock under the
//! same lock that answers that question, so no write can take a moment
//! below an answer already given and still be under way.
//!
//! Other processes on the same PostgreSQL publish their floors
//! ([`crate::sync_floors`]); what this process last learned of them
//! holds its answer back too ([`WritesInFlight::learn_others`]).

use crate::Timestamp;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// The writes under way, by the moment each was stamped.
#[derive(Default)]
pub struct WritesInFlight {
    inner: Mutex<Inner>,
}

/// A write's stamp, and its number among writes of the same stamp.
type Key = (Timestamp, u64);

/// Writes whose last copy was dropped inside a transaction, by registry.
type Ending = Vec<(Arc<WritesInFlight>, Key)>;

#[derive(Default)]
struct Inner {
    next: u64,
    started: BTreeSet<Key>,
    others: Others,
}

/// What this process knows of the other processes' writes.
#[derive(Clone, Copy, Default)]
enum Others {
    /// Nothing: it shares its database with no one (SQLite), or has not
    /// reached the others yet.
    #[default]
    Unknown,
    /// Their lowest floor (`None`: no other process publishes), as read
    /// at `asked_at` by this process's clock. A process that began to
    /// publish after that read stamps its changes after it.
    Known {
        asked_at: Timestamp,
        floor: Option<Timestamp>,
    },
}

impl WritesInFlight {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stamps a write with the moment `now` reads, and holds it under way
    /// until the last copy of the returned [`Held`] is dropped (after its
    /// transaction ended).
    pub fn start(self: &Arc<Self>, now: impl FnOnce() -> Timestamp) -> (Timestamp, Held) {
        let mut inner = self.inner();
        let at = now();
        inner.next += 1;
        let key = (at, inner.next);
        inner.started.insert(key);
        let held = Held(Arc::new(Ticket {
            writes: Arc::clone(self),
            key,
        }));
        (at, held)
    }

    /// This process's floor: the oldest of its writes under way, or
    /// `now` when none is. Every change it has yet to commit is stamped
    /// at or after it.
    pub fn floor(&self, now: impl FnOnce() -> Timestamp) -> Timestamp {
        let inner = self.inner();
        let now = now();
        Self::own_floor(&inner, now)
    }

    fn own_floor(inner: &Inner, now: Timestamp) -> Timestamp {
        inner.started.first().map_or(now, |(at, _)| (*at).min(now))
    }

    /// The moment before which every change is committed: this process's
    /// floor, held back by what it last learned of the others'.
    pub fn complete_until(&self, now: impl FnOnce() -> Timestamp) -> Timestamp {
        let inner = self.inner();
        let own = Self::own_floor(&inner, now());
        match inner.others {
            Others::Unknown => own,
            Others::Known { asked_at, floor } => own.min(asked_at).min(floor.unwrap_or(asked_at)),
        }
    }

    /// What the other processes' floors were when asked at `asked_at`
    /// (this process's clock, read before asking). An answer older than
    /// one already learned is ignored.
    pub fn learn_others(&self, asked_at: Timestamp, floor: Option<Timestamp>) {
        let mut inner = self.inner();
        let newer = match inner.others {
            Others::Unknown => true,
            Others::Known { asked_at: had, .. } => asked_at >= had,
        };
        if newer {
            inner.others = Others::Known { asked_at, floor };
        }
    }
}

/// A write under way, shared by every copy of its [`crate::audit::WriteMeta`].
#[derive(Clone)]
pub struct Held(Arc<Ticket>);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Held({})", self.0.key.0)
    }
}

struct Ticket {
    writes: Arc<WritesInFlight>,
    key: Key,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let key = self.key;
        let writes = Arc::clone(&self.writes);
        // Inside a transaction the write is under way until it ends.
        let deferred = ENDING
            .try_with(|ending| match ending.borrow_mut().as_mut() {
                Some(list) => {
                    list.push((Arc::clone(&writes), key));
                    true
                }
                None => false,
            })
            .unwrap_or(false);
        if !deferred {
            writes.inner().started.remove(&key);
        }
    }
}

thread_local! {
    /// The writes whose last copy was dropped inside the transaction this
    /// thread runs: released when it has ended.
    static ENDING: RefCell<Option<Ending>> = const { RefCell::new(None) };
}

/// Runs `transaction` (which commits or rolls back before it returns),
/// holding every write whose meta it drops under way until it has ended: a
/// write closure drops its meta when it returns, before the commit.
pub(crate) fn held_to_the_end<T>(transaction: impl FnOnce() -> T) -> T {
    let outermost = ENDING.with(|ending| {
        let mut ending = ending.borrow_mut();
        let outermost = ending.is_none();
        if outermost {
            *ending = Some(Vec::new());
        }
        outermost
    });
    // Released also when the transaction panics.
    struct Release(bool);
    impl Drop for Release {
        fn drop(&mut self) {
            if !self.0 {
                return;
            }
            let ended = ENDING.with(|ending| ending.borrow_mut().take());
            for (writes, key) in ended.into_iter().flatten() {
                writes.inner().started.remove(&key);
            }
        }
    }
    let _release = Release(outermost);
    transaction()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};

    fn at(second: u32) -> Timestamp {
        NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(10, 0, second))
            .unwrap_or_default()
    }

    #[test]
    fn the_oldest_write_under_way_holds_the_moment_back() {
        let writes = Arc::new(WritesInFlight::default());
        assert_eq!(writes.complete_until(|| at(5)), at(5));
        let (first, a) = writes.start(|| at(1));
        let (_, b) = writes.start(|| at(2));
        assert_eq!(first, at(1));
        assert_eq!(writes.complete_until(|| at(5)), at(1));
        let copy = a.clone();
        drop(a);
        assert_eq!(
            writes.complete_until(|| at(5)),
            at(1),
            "a copy still holds it"
        );
        drop(copy);
        assert_eq!(writes.complete_until(|| at(5)), at(2));
        drop(b);
        assert_eq!(writes.complete_until(|| at(5)), at(5));
    }

    #[test]
    fn two_writes_of_one_moment_are_held_apart() {
        let writes = Arc::new(WritesInFlight::default());
        let (_, a) = writes.start(|| at(1));
        let (_, b) = writes.start(|| at(1));
        drop(a);
        assert_eq!(writes.complete_until(|| at(3)), at(1));
        drop(b);
        assert_eq!(writes.complete_until(|| at(3)), at(3));
        // A clock set back answers its own reading, never a later one.
        assert_eq!(
            writes.complete_until(|| at(3) - Duration::seconds(1)),
            at(2)
        );
    }

    #[test]
    fn a_write_dropped_inside_its_transaction_is_under_way_until_it_ends() {
        let writes = Arc::new(WritesInFlight::default());
        let (_, held) = writes.start(|| at(1));
        held_to_the_end(|| {
            held_to_the_end(|| drop(held));
            assert_eq!(
                writes.complete_until(|| at(5)),
                at(1),
                "still under way inside the outer transaction"
            );
        });
        assert_eq!(writes.complete_until(|| at(5)), at(5));
    }

    #[test]
    fn other_processes_floors_hold_the_moment_back() {
        let writes = Arc::new(WritesInFlight::default());
        // Asked at 4: another process's oldest write under way was at 2.
        writes.learn_others(at(4), Some(at(2)));
        assert_eq!(writes.complete_until(|| at(9)), at(2));
        assert_eq!(writes.floor(|| at(9)), at(9), "its own floor is its own");
        // Its own write under way, older, holds it further back.
        let (_, held) = writes.start(|| at(1));
        assert_eq!(writes.complete_until(|| at(9)), at(1));
        drop(held);
        // No other process under way: the moment of asking is the bound,
        // as a process that began later stamps after it.
        writes.learn_others(at(6), None);
        assert_eq!(writes.complete_until(|| at(9)), at(6));
        // An answer older than one learned is ignored.
        writes.learn_others(at(5), Some(at(3)));
        assert_eq!(writes.complete_until(|| at(9)), at(6));
    }
}
