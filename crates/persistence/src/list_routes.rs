//! How a list of files is found: by walking the index of the list's order
//! and testing each file until a page is full, or by gathering the files
//! that pass one filter from that filter's own index and sorting them.
//!
//! The walk is best where many files pass; where few do, it passes over
//! nearly the whole archive to find them. A page of an industry no visible
//! file holds took 1.8 s among a million files on SQLite, and 4 s on
//! PostgreSQL, which plans lists once for all values. Gathering is best
//! where few pass; where many do, it sorts them all (the active files
//! newest first: 2.4 s on SQLite, which without statistics takes an
//! equality for a rare one). So every filter that has an index of its own
//! is counted there, up to [`rare_at_most`] files in the caller's sight,
//! and the count is remembered for a minute ([`Shares`]): a list gathers
//! the files of its rarest filter that is rare enough, and walks
//! otherwise. In sight, because a value many files hold may still be rare
//! among those a branch sees (another province's region): the walk passes
//! over the files it cannot show as well. The same holds of the files
//! changed since a moment (an ERP's sync, or "what changed this week"): a
//! page of them by name passed over 100 000 files in 0.1 s on SQLite.

use crate::connection::DbConn;
use crate::customers::ListScope;
use crate::fixed_sql::{fixed, Fixed};
use crate::Result;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A filter whose files an index of their own lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Probe {
    Status(String),
    Vulnerable(bool),
    Nature(String),
    Industry(String),
    CustomerType(String),
    /// The files whose region code starts with these digits.
    Region(String),
    /// The files one user keeps.
    Owner(String),
    /// The files of a unit's subtree, by the unit's path.
    Unit(String),
    /// The files changed at or after this moment (UTC).
    ChangedSince(chrono::NaiveDateTime),
    /// The files that carry this tag (folded).
    Tag(String),
}

/// How a list is found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Route {
    /// Walk the index of the list's order, testing every filter on each
    /// file, until a page is full.
    #[default]
    Walk,
    /// Gather the few files this filter passes, from its index, and sort them.
    Gather(Probe),
}

/// How many files a filter may pass and still be gathered, in an archive
/// of `files`. Gathering costs about 6 µs a file passed (SQLite, a million
/// files); the walk about 2 µs a file passed over, and it passes over
/// `21 · files / passed` of them for a page of 20 when a third or more of
/// the passed files are in sight. The two meet near `√(16 · files)`: 4 000
/// files in a million, where each takes about 25 ms.
pub fn rare_at_most(files: i64) -> i64 {
    // Both sides of the comparison are whole numbers of files well below 2^52.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let meet = (16.0 * files.max(0) as f64).sqrt() as i64;
    meet.max(256)
}

/// How long a count is trusted: shares of an archive change slowly, and a
/// count that is out of date costs speed only, never a wrong answer.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);

/// At most this many counts are remembered; past it, the memory starts over.
const REMEMBERED_AT_MOST: usize = 4096;

/// What is remembered of the archive's shares, shared by every connection
/// of a [`crate::Db`].
#[derive(Default)]
pub struct Shares {
    memory: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    /// The number of files, and when it was counted.
    files: Option<(i64, Instant)>,
    /// Files in a sight that a filter passes, counted up to one more than
    /// the limit then in force (kept beside it), and when; by sight, so
    /// that a lookup clones nothing.
    held: HashMap<ListScope, HashMap<Probe, Held>>,
    /// How many counts `held` holds in all.
    counts: usize,
}

#[derive(Clone, Copy)]
struct Held {
    count: i64,
    limit: i64,
    at: Instant,
}

impl Held {
    /// The files passed, as far as they tell whether that is at most `limit`.
    fn against(self, limit: i64) -> Option<i64> {
        (self.count <= self.limit || self.limit >= limit).then_some(self.count)
    }
}

impl Memory {
    /// The number of files, if counted within the last minute.
    fn files(&self, now: Instant) -> Option<i64> {
        let (n, at) = self.files?;
        (now.duration_since(at) <= REMEMBERED_FOR).then_some(n)
    }

    /// The files in `scope`'s sight that `p` passes, if counted within the
    /// last minute far enough to tell whether that is at most `limit`.
    fn passed(&self, scope: &ListScope, p: &Probe, now: Instant, limit: i64) -> Option<i64> {
        let h = self.held.get(scope)?.get(p)?;
        (now.duration_since(h.at) <= REMEMBERED_FOR)
            .then_some(*h)?
            .against(limit)
    }

    fn remember(&mut self, scope: &ListScope, p: &Probe, held: Held) {
        if self.counts >= REMEMBERED_AT_MOST {
            self.held.clear();
            self.counts = 0;
        }
        let by_probe = self.held.entry(scope.clone()).or_default();
        if by_probe.insert(p.clone(), held).is_none() {
            self.counts += 1;
        }
    }
}

impl Shares {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The route for a list with these filters from memory alone, if every
    /// count it needs is fresh.
    pub fn remembered(&self, scope: &ListScope, probes: &[Probe]) -> Option<Route> {
        if probes.is_empty() {
            return Some(Route::Walk);
        }
        let now = Instant::now();
        let memory = self.memory();
        let limit = rare_at_most(memory.files(now)?);
        let held = probes
            .iter()
            .map(|p| Some((memory.passed(scope, p, now, limit)?, p)))
            .collect::<Option<Vec<_>>>()?;
        Some(rarest(held, limit))
    }

    /// The route for a list with these filters, counting on `conn` what is
    /// not remembered.
    pub fn route(&self, conn: &mut DbConn, scope: &ListScope, probes: &[Probe]) -> Result<Route> {
        if let Some(route) = self.remembered(scope, probes) {
            return Ok(route);
        }
        let now = Instant::now();
        let known = self.memory().files(now);
        let files = match known {
            Some(n) => n,
            None => files(conn)?,
        };
        let limit = rare_at_most(files);
        let mut held = Vec::with_capacity(probes.len());
        for p in probes {
            let known = self.memory().passed(scope, p, now, limit);
            let count = match known {
                Some(c) => c,
                None => {
                    let count = passed(conn, scope, p, limit)?;
                    let counted = Held {
                        count,
                        limit,
                        at: now,
                    };
                    self.memory().remember(scope, p, counted);
                    count
                }
            };
            held.push((count, p));
        }
        self.memory().files = Some((files, now));
        Ok(rarest(held, limit))
    }
}

/// Gather by the filter that passes fewest files, if it passes at most `limit`.
fn rarest(held: Vec<(i64, &Probe)>, limit: i64) -> Route {
    held.into_iter()
        .filter(|(count, _)| *count <= limit)
        .min_by_key(|(count, _)| *count)
        .map_or(Route::Walk, |(_, p)| Route::Gather(p.clone()))
}

/// The number of files: on SQLite the last rowid (files are never
/// deleted, CUS-05), on PostgreSQL the planner's own count (no scan).
fn files(conn: &mut DbConn) -> Result<i64> {
    match conn {
        DbConn::Sqlite(_) => Ok(diesel::select(fixed::<BigInt>(
            "(SELECT coalesce(max(rowid), 0) FROM customers)",
        ))
        .get_result(conn)?),
        DbConn::Pg(c) => {
            // Counts of files are whole numbers far below 2^52.
            #[allow(clippy::cast_possible_truncation)]
            let n = crate::customers::planner_count(c, "customers")?.max(0.0) as i64;
            Ok(n)
        }
    }
}

/// The files in `scope`'s sight that `p` passes, counted from its index up
/// to one more than `limit`.
fn passed(conn: &mut DbConn, scope: &ListScope, p: &Probe, limit: i64) -> Result<i64> {
    let counted = in_sight(
        condition(
            fixed::<BigInt>("(SELECT count(*) FROM (SELECT 1 FROM customers WHERE "),
            p,
        ),
        scope,
        p,
    )
    .sql(" LIMIT ")
    .bind_int(limit + 1)
    .sql(") AS passed)");
    Ok(diesel::select(counted).get_result(conn)?)
}

/// `text` followed by the condition of `p` on the files' own columns, in a
/// form its index serves.
fn condition<ST>(text: Fixed<ST>, p: &Probe) -> Fixed<ST> {
    match p {
        Probe::Status(v) => text.sql("customers.status = ").bind(v.as_str()),
        Probe::Vulnerable(true) => text.sql("customers.vulnerable = TRUE"),
        Probe::Vulnerable(false) => text.sql("customers.vulnerable = FALSE"),
        Probe::Nature(v) => text.sql("customers.nature = ").bind(v.as_str()),
        Probe::Industry(v) => text.sql("customers.industry = ").bind(v.as_str()),
        Probe::CustomerType(v) => text.sql("customers.customer_type = ").bind(v.as_str()),
        Probe::Region(prefix) => {
            let from = text.sql("customers.region_code >= ").bind(prefix.as_str());
            match prefix_end(prefix) {
                Some(end) => from.sql(" AND customers.region_code < ").bind(end),
                None => from,
            }
        }
        Probe::Owner(v) => text.sql("customers.owner_user_id = ").bind(v.as_str()),
        Probe::Unit(path) => text
            .sql("customers.owner_unit_id IN (SELECT id FROM org_units WHERE path LIKE ")
            .bind(format!("{path}%"))
            .sql(")"),
        Probe::ChangedSince(t) => text.sql("customers.updated_at >= ").bind_time(*t),
        Probe::Tag(tag) => text
            .sql("customers.id IN (SELECT customer_id FROM customer_tags WHERE tag = ")
            .bind(tag.as_str())
            .sql(")"),
    }
}

/// The first string of digits after every code that starts with `prefix`
/// (digits): `"1101"` → `"1102"`, `"1199"` → `"12"`; none after `"99"`.
fn prefix_end(prefix: &str) -> Option<String> {
    let kept = prefix.trim_end_matches('9');
    let last = kept.chars().last()?;
    let next = char::from_digit(last.to_digit(10)? + 1, 10)?;
    Some(format!("{}{next}", &kept[..kept.len() - last.len_utf8()]))
}

/// Whether `p` names a unit outside `scope`'s sight and not above it
/// (another branch's): of its files, only the shared ones are in sight.
/// Said so (`customers.shared = TRUE`), the shared files' own index finds
/// them, where the unit's index would be read through all of its files to
/// find those few (migration 000034).
pub(crate) fn beyond_sight(scope: &ListScope, p: &Probe) -> bool {
    match (p, &scope.unit_path) {
        (Probe::Unit(unit), Some(sight)) => !unit.starts_with(sight) && !sight.starts_with(unit),
        _ => false,
    }
}

/// `text` followed by whether a file that passes `p` is in `scope`'s
/// sight, on the columns every index of a filter carries (as `visible_to!`
/// says it).
fn in_sight<ST>(text: Fixed<ST>, scope: &ListScope, p: &Probe) -> Fixed<ST> {
    let cleared = text
        .sql(" AND customers.secrecy_level IN (SELECT code FROM secrecy_levels WHERE rank <= ")
        .bind_int(i64::from(scope.clearance_rank))
        .sql(")");
    if beyond_sight(scope, p) {
        return cleared.sql(" AND customers.shared = TRUE");
    }
    match &scope.unit_path {
        None => cleared,
        Some(path) => cleared
            .sql(
                " AND (customers.shared = TRUE OR customers.owner_unit_id IN \
                 (SELECT id FROM org_units WHERE path LIKE ",
            )
            .bind(format!("{path}%"))
            .sql("))"),
    }
}

/// SQLite: the files in `scope`'s sight that `p` passes, as the set a list
/// starts from, which leads SQLite to gather them from their index (by
/// rowid, which every index holds) and sort them. (On PostgreSQL the same
/// set joined by id was slower than its planner's own way from the plain
/// condition: 0.45-0.7 s against 0.3-0.4 for another branch's unit among a
/// million files.)
pub(crate) fn gathered(scope: &ListScope, p: &Probe) -> Fixed<Bool> {
    in_sight(
        condition(
            fixed::<Bool>("customers.rowid IN (SELECT rowid FROM customers WHERE "),
            p,
        ),
        scope,
        p,
    )
    .sql(")")
}

/// PostgreSQL: the condition of `p` as its index serves it, where the
/// list's own condition cannot use one (a region's `LIKE` outside the C
/// collation).
pub(crate) fn indexed(p: &Probe) -> Fixed<Bool> {
    condition(fixed::<Bool>("("), p).sql(")")
}

/// SQLite: the condition of `p` in a form no index serves (a unary `+`),
/// which leaves the list to walk the index of its order.
pub(crate) fn unindexed(p: &Probe) -> Fixed<Bool> {
    condition(fixed::<Bool>("+"), p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_07_another_branchs_unit_is_beyond_sight() {
        let beijing = ListScope {
            unit_path: Some("/hq/bj/".into()),
            clearance_rank: 2,
        };
        let unit = |path: &str| Probe::Unit(path.into());
        // Another branch, and a unit whose id begins like Beijing's.
        assert!(beyond_sight(&beijing, &unit("/hq/sh/")));
        assert!(beyond_sight(&beijing, &unit("/hq/bj2/")));
        // Beijing's own units, and the head office above it.
        assert!(!beyond_sight(&beijing, &unit("/hq/bj/")));
        assert!(!beyond_sight(&beijing, &unit("/hq/bj/p1/")));
        assert!(!beyond_sight(&beijing, &unit("/hq/")));
        // Whoever sees every unit, and filters of other kinds.
        let everything = ListScope {
            unit_path: None,
            clearance_rank: 9,
        };
        assert!(!beyond_sight(&everything, &unit("/hq/sh/")));
        assert!(!beyond_sight(&beijing, &Probe::Status("active".into())));
    }

    #[test]
    fn a_prefix_ends_before_the_next_run_of_digits() {
        assert_eq!(prefix_end("1101").as_deref(), Some("1102"));
        assert_eq!(prefix_end("1199").as_deref(), Some("12"));
        assert_eq!(prefix_end("65").as_deref(), Some("66"));
        assert_eq!(prefix_end("9"), None);
        assert_eq!(prefix_end("99"), None);
        assert_eq!(prefix_end(""), None);
    }

    #[test]
    fn the_limit_grows_with_the_root_of_the_archive() {
        assert_eq!(rare_at_most(0), 256);
        assert_eq!(rare_at_most(10_000), 400);
        assert_eq!(rare_at_most(1_000_000), 4_000);
    }

    #[test]
    fn the_rarest_filter_within_the_limit_is_gathered() {
        let (a, b) = (Probe::Status("x".into()), Probe::Nature("y".into()));
        assert_eq!(
            rarest(vec![(10, &a), (5, &b)], 100),
            Route::Gather(b.clone())
        );
        assert_eq!(
            rarest(vec![(10, &a), (500, &b)], 100),
            Route::Gather(a.clone())
        );
        assert_eq!(rarest(vec![(101, &a), (500, &b)], 100), Route::Walk);
        assert_eq!(rarest(vec![], 100), Route::Walk);
    }

    #[test]
    fn a_list_without_such_filters_walks_without_counting() {
        let everything = ListScope {
            unit_path: None,
            clearance_rank: i32::MAX,
        };
        assert_eq!(
            Shares::default().remembered(&everything, &[]),
            Some(Route::Walk)
        );
        assert_eq!(
            Shares::default().remembered(&everything, &[Probe::Vulnerable(true)]),
            None
        );
    }

    #[test]
    fn a_count_cut_short_below_the_limit_in_force_tells_nothing() {
        let at = Instant::now();
        let cut = Held {
            count: 257,
            limit: 256,
            at,
        };
        assert_eq!(cut.against(256), Some(257));
        assert_eq!(cut.against(4_000), None);
        let whole = Held {
            count: 30,
            limit: 256,
            at,
        };
        assert_eq!(whole.against(4_000), Some(30));
    }
}
