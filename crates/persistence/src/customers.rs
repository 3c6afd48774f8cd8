//! Customer files (CUS-01..10): storage, keyset lists with visibility pushed
//! into SQL, and saving with a field-by-field change history in the same
//! transaction as the audit entry and the outbox event.

use crate::audit::{self, Change, WriteMeta};
use crate::changed_files::ChangedFiles;
use crate::error::{Error, Result};
use crate::file_refs::{self, reach_of, CheckedRefs, Refs};
use crate::list_routes::Shares;
use crate::new_files::{NewFile, NewFiles};
use crate::page::Page;
use crate::schema::{
    counters, customer_changes, customer_contacts, customer_tags, customers, org_units,
    secrecy_levels,
};
use crate::{DbConn, Timestamp};
use clientele_core::Cursor;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize, Deserialize,
)]
// `treat_none_as_default_value = false`: an insert binds every column, an
// empty one as NULL (none has a default), so its SQL is the same for every
// file and stays prepared; with `DEFAULT` for empty columns the text varied
// from file to file and PostgreSQL parsed and planned each insert anew.
#[diesel(
    table_name = customers,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub struct CustomerRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_normalized: String,
    pub name_folded: String,
    /// The pinyin key lists sort by (`clientele_customers::name::sort_key`).
    pub name_sort: String,
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
    pub nature: String,
    pub industry: Option<String>,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
    pub address: Option<String>,
    pub size: Option<String>,
    pub registered_capital_fen: Option<i64>,
    pub trading_since: Option<chrono::NaiveDate>,
    pub service_area: Option<String>,
    pub sales_capacity: Option<String>,
    pub potential: Option<String>,
    pub credit_standing: Option<String>,
    pub trading_terms: Option<String>,
    pub business_policy: Option<String>,
    pub sales_history: Option<String>,
    pub attitude_to_us: Option<String>,
    pub competitor_relations: Option<String>,
    pub credit_problems: Option<String>,
    pub customer_type: Option<String>,
    /// The name's mnemonic code (`clientele_customers::name::mnemonic`).
    pub name_mnemonic: String,
    pub vulnerable: bool,
    pub status: String,
    pub external_id: Option<String>,
    pub owner_user_id: Option<String>,
    pub owner_unit_id: String,
    pub secrecy_level: String,
    pub shared: bool,
    pub merged_into_id: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl CustomerRow {
    /// The name in all its stored forms: as written, normalised for
    /// duplicates, folded for case- and width-insensitive search, keyed
    /// for pinyin order, and as mnemonic code for quick search.
    pub fn set_name(&mut self, name: &clientele_customers::CustomerName) {
        let forms = name.forms();
        self.name = name.as_str().to_owned();
        self.name_normalized = forms.normalised;
        self.name_folded = forms.folded;
        self.name_sort = forms.sort_key;
        self.name_mnemonic = forms.mnemonic;
    }

    /// A new file with only what every file has — a new id, its code,
    /// keeper unit, secrecy level and time — and every other field empty
    /// (the name and its derived keys too, for the caller to fill): version
    /// 1, a prospect of nature "other", not shared.
    pub fn blank(
        code: String,
        owner_unit_id: String,
        secrecy_level: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id: clientele_core::new_id().to_string(),
            code,
            name: String::new(),
            name_normalized: String::new(),
            name_folded: String::new(),
            name_sort: String::new(),
            credit_code: None,
            legal_representative: None,
            nature: "other".into(),
            industry: None,
            region_code: None,
            region_name: None,
            address: None,
            size: None,
            registered_capital_fen: None,
            trading_since: None,
            service_area: None,
            sales_capacity: None,
            potential: None,
            credit_standing: None,
            trading_terms: None,
            business_policy: None,
            sales_history: None,
            attitude_to_us: None,
            competitor_relations: None,
            credit_problems: None,
            customer_type: None,
            name_mnemonic: String::new(),
            vulnerable: false,
            status: "prospect".into(),
            external_id: None,
            owner_user_id: None,
            owner_unit_id,
            secrecy_level,
            shared: false,
            merged_into_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Columns that are bookkeeping, not content: never in the history.
const NOT_HISTORY: [&str; 7] = [
    "version",
    "updated_at",
    "created_at",
    "name_normalized",
    "name_folded",
    "name_sort",
    "name_mnemonic",
];

/// A file with what deciding about it needs.
#[derive(Debug, Clone)]
pub struct CustomerView {
    pub row: CustomerRow,
    pub tags: Vec<String>,
    pub owner_unit_path: String,
    pub secrecy_rank: i32,
}

/// The next customer code, `KH` and eight digits; never reused.
pub fn next_code(conn: &mut DbConn) -> Result<String> {
    Ok(code_of(advance_counter(conn, 1)?))
}

/// Advances the code counter by `n`; its new value.
fn advance_counter(conn: &mut DbConn, n: i64) -> Result<i64> {
    diesel::update(counters::table.find(CODE_COUNTER))
        .set(counters::value.eq(counters::value + n))
        .execute(conn)?;
    code_counter(conn)
}

const CODE_COUNTER: &str = "customer_code";

fn code_counter(conn: &mut DbConn) -> Result<i64> {
    Ok(counters::table
        .find(CODE_COUNTER)
        .select(counters::value)
        .first(conn)?)
}

fn code_of(n: i64) -> String {
    format!("KH{n:08}")
}

/// Customer codes for many new files in one transaction (an import). The
/// counter is locked and read once, codes are handed out in memory, and
/// [`CodeRun::finish`] advances the counter once. Updating it for every
/// file made the import quadratic on PostgreSQL: each update of the one
/// counter row adds a version that every later read of it in the same
/// transaction walks (10 000 files: 46 s, most of it in those walks).
/// A clone hands out the same codes again: for a pass that is rolled back
/// and run once more.
#[derive(Clone)]
pub struct CodeRun {
    read: i64,
    last: i64,
    kind: CodeKind,
}

/// Where a run's codes come from.
#[derive(Clone)]
enum CodeKind {
    /// The counter, locked by the run's transaction and advanced at its end.
    Locked,
    /// A range taken from the counter beforehand and already committed.
    Reserved,
    /// For a transaction that is rolled back (a dry run): codes of its own
    /// that no stored file can hold, and the counter left alone.
    Provisional(String),
}

impl CodeRun {
    /// Locks the counter until the transaction ends (other writers of
    /// files wait for it) and reads it.
    pub fn start(conn: &mut DbConn) -> Result<Self> {
        diesel::update(counters::table.find(CODE_COUNTER))
            .set(counters::value.eq(counters::value))
            .execute(conn)?;
        let read = code_counter(conn)?;
        Ok(Self {
            read,
            last: read,
            kind: CodeKind::Locked,
        })
    }

    /// Reserves `n` codes in a short transaction of their own, before the
    /// import's (PostgreSQL, where writers of files run side by side). The
    /// counter is held only for that moment, so other writers of files do
    /// not wait for the import; codes the import does not use (rows that
    /// update a file or fail, or a commit refused for them) stay unused,
    /// like the code of a row rolled back.
    pub fn reserve(db: &crate::Db, n: usize) -> Result<Self> {
        let n = i64::try_from(n).map_err(|e| Error::Corrupt(e.to_string()))?;
        let end = db.write(|conn| advance_counter(conn, n))?;
        Ok(Self {
            read: end - n,
            last: end - n,
            kind: CodeKind::Reserved,
        })
    }

    /// Codes for a transaction that will be rolled back: `DR`, sixteen hex
    /// digits drawn for this run and a sequence number. They are unlike any
    /// stored code (`KH` and digits) and any other run's, so the run takes
    /// no lock on the counter (on PostgreSQL a dry run of 10 000 rows would
    /// otherwise hold up every new file for its whole length) and never
    /// waits on another transaction's codes.
    pub fn provisional() -> Self {
        let drawn = clientele_core::new_id().simple().to_string();
        // The last digits of a v7 id are random; the first are its time.
        let tag = drawn[drawn.len() - 16..].to_uppercase();
        Self {
            read: 0,
            last: 0,
            kind: CodeKind::Provisional(format!("DR{tag}")),
        }
    }

    /// The next code; a code taken by a file whose savepoint was rolled
    /// back is not handed out again. A reserved run hands out at most the
    /// codes it reserved (an import reserves one a row).
    pub fn take(&mut self) -> String {
        self.last += 1;
        match &self.kind {
            CodeKind::Provisional(tag) => format!("{tag}{:08}", self.last),
            CodeKind::Locked | CodeKind::Reserved => code_of(self.last),
        }
    }

    /// Advances a locked counter past every code handed out.
    pub fn finish(self, conn: &mut DbConn) -> Result<()> {
        if matches!(self.kind, CodeKind::Locked) && self.last != self.read {
            diesel::update(counters::table.find(CODE_COUNTER))
                .set(counters::value.eq(self.last))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// A stored row with its unit path, secrecy rank and tags (a JSON array
/// kept on the row beside `customer_tags`, so reading a file is one query).
type ViewRow = (CustomerRow, String, i32, String);

/// The columns of a `ViewRow`, from customers joined with its unit and level.
macro_rules! view_columns {
    () => {
        (
            CustomerRow::as_select(),
            org_units::path,
            secrecy_levels::rank,
            customers::tags,
        )
    };
}

/// Whether `scope` may see a file, as a condition on the file's own
/// columns (its owner unit and secrecy level among the few the caller may
/// see), which the list indexes carry: files not shown are skipped without
/// reading their rows.
macro_rules! visible_to {
    ($scope:expr) => {{
        let (lv, vu) = diesel::alias!(secrecy_levels as lv, org_units as vu);
        let levels = lv
            .filter(lv.field(secrecy_levels::rank).le($scope.clearance_rank))
            .select(lv.field(secrecy_levels::code));
        let by_level = customers::secrecy_level.eq_any(levels);
        let seen: Box<dyn BoxableExpression<_, crate::connection::MultiBackend, SqlType = Bool>> =
            match &$scope.unit_path {
                None => Box::new(by_level),
                Some(p) => {
                    let subtree = vu
                        .filter(vu.field(org_units::path).like(format!("{p}%")))
                        .select(vu.field(org_units::id));
                    Box::new(
                        by_level.and(
                            customers::shared
                                .eq(true)
                                .or(customers::owner_unit_id.eq_any(subtree)),
                        ),
                    )
                }
            };
        seen
    }};
}

/// The files `scope` may see, with their unit and level joined, as a boxed
/// query to filter further.
/// Contacts reached by one of `numbers` (in their phone or mobile: a
/// caller's display does not say which) or one of `emails`, as keys: a
/// condition on `customer_contacts`.
macro_rules! reached_by_any {
    ($numbers:expr, $emails:expr) => {{
        let numbers: Vec<String> = $numbers;
        customer_contacts::phone_key
            .eq_any(numbers.clone())
            .or(customer_contacts::mobile_key.eq_any(numbers))
            .or(customer_contacts::email_key.eq_any($emails))
    }};
}

macro_rules! visible_files {
    ($scope:expr) => {
        customers::table
            .inner_join(org_units::table)
            .inner_join(secrecy_levels::table)
            .filter(visible_to!($scope))
            .into_boxed()
    };
}

/// The files `scope` may see that pass the filter `f`, as a boxed query to
/// page or count (`conn` finds the candidates of a name search). `route`
/// says how SQLite is led to find them (PostgreSQL's planner sees the
/// values): a list in `order` walks that order's index unless it gathers
/// the files of one rare filter; a count (no order) reads what it must.
macro_rules! filtered_files {
    // `$visible`: the files in sight as a boxed query, selected or grouped
    // as the caller needs.
    (from $visible:expr; $conn:expr, $scope:expr, $f:expr, $route:expr, $order:expr) => {{
        use crate::list_routes::{gathered, indexed, unindexed, Probe, Route};
        let ou = diesel::alias!(org_units as ou);
        let (conn, scope, f, route, order): (
            &mut DbConn,
            &ListScope,
            &CustomerFilter,
            &Route,
            Option<SortKey>,
        ) = ($conn, $scope, $f, $route, $order);
        let sqlite = matches!(conn, DbConn::Sqlite(_));
        let mut q = $visible;
        // A filter with an index of its own: on SQLite gathered from it,
        // or kept from its index while a list walks its order (but for the
        // status and the vulnerable flag, whose indexes hold the name's
        // order after the value, and for changes since a moment in the
        // order of changes, whose index is the order's own); otherwise as
        // it is (PostgreSQL's planner sees the value when it is rare).
        macro_rules! by_index {
            ($probe:expr, $plain:expr) => {{
                let probe = $probe;
                let gathers = *route == Route::Gather(probe.clone());
                let ordered_after = match (&probe, order) {
                    (Probe::Status(_) | Probe::Vulnerable(_), Some(SortKey::Name)) => true,
                    // The order's own index, from the moment on.
                    (Probe::ChangedSince(_), Some(SortKey::UpdatedAt)) => true,
                    _ => false,
                };
                if sqlite && gathers {
                    q = q.filter(gathered(scope, &probe));
                } else if sqlite && order.is_some() && !(ordered_after && *route == Route::Walk) {
                    q = q.filter(unindexed(&probe));
                } else {
                    q = q.filter($plain);
                }
            }};
        }
        if !f.include_merged {
            q = q.filter(customers::merged_into_id.is_null());
        }
        // Search tables find the candidates of a part of a name or mnemonic;
        // the `LIKE` conditions still decide.
        if let Some(v) = &f.name_contains {
            for word in v.split(' ') {
                if let Some(found) = searched(conn, word, Searched::Name)? {
                    q = q.filter(found);
                }
            }
            q = q.filter(holds_every_word(v));
        }
        if let Some(v) = &f.quick {
            // The name holds every word; the mnemonic, code, credit code
            // and number are the words together.
            let joined: String = v.split(' ').collect();
            let part = crate::sql_fns::contains_pattern(&joined);
            let whole = joined.to_uppercase();
            let reach = f.quick_reach.as_ref();
            // Files that hold the longest word, or are the whole: a
            // superset of the files found.
            let longest = v.split(' ').max_by_key(|w| w.chars().count()).unwrap_or(v);
            let what = Searched::Quick { whole: &whole, reach };
            if let Some(found) = searched(conn, longest, what)? {
                q = q.filter(found);
            }
            let by_name_or_code = holds_every_word(v)
                .or(customers::name_mnemonic.like(part).escape('\\'))
                .or(customers::code.eq(whole.clone()))
                .or(customers::credit_code.eq(whole));
            q = match reach {
                Some(r) => q.filter(by_name_or_code.or(reached_by(r, sqlite))),
                None => q.filter(by_name_or_code),
            };
        }
        if let Some(v) = &f.code {
            q = q.filter(customers::code.eq(v.clone()));
        }
        if let Some(v) = &f.credit_code {
            q = q.filter(customers::credit_code.eq(v.clone()));
        }
        if let Some(v) = &f.nature {
            by_index!(Probe::Nature(v.clone()), customers::nature.eq(v.clone()));
        }
        if let Some(v) = &f.industry {
            by_index!(Probe::Industry(v.clone()), customers::industry.eq(v.clone()));
        }
        if let Some(v) = &f.customer_type {
            by_index!(
                Probe::CustomerType(v.clone()),
                customers::customer_type.eq(v.clone())
            );
        }
        if let Some(v) = f.vulnerable {
            by_index!(Probe::Vulnerable(v), customers::vulnerable.eq(v));
        }
        if let Some(v) = &f.region_prefix {
            // `LIKE` decides; no index serves it on SQLite, nor on
            // PostgreSQL outside the C collation, so a rare region is
            // gathered by its range of codes.
            let probe = Probe::Region(v.clone());
            if *route == Route::Gather(probe.clone()) {
                q = q.filter(if sqlite {
                    gathered(scope, &probe)
                } else {
                    indexed(&probe)
                });
            }
            q = q.filter(customers::region_code.like(format!("{v}%")));
        }
        if let Some(v) = &f.status {
            by_index!(Probe::Status(v.clone()), customers::status.eq(v.clone()));
        }
        if let Some(v) = &f.owner_user_id {
            by_index!(
                Probe::Owner(v.clone()),
                customers::owner_user_id.eq(v.clone())
            );
        }
        if let Some(p) = &f.unit_path {
            let units = ou
                .filter(ou.field(org_units::path).like(format!("{p}%")))
                .select(ou.field(org_units::id));
            let probe = Probe::Unit(p.clone());
            if crate::list_routes::beyond_sight(scope, &probe) {
                // Another branch's unit: only its shared files are in sight.
                q = q.filter(diesel::dsl::sql::<Bool>("customers.shared = TRUE"));
            }
            by_index!(probe, customers::owner_unit_id.eq_any(units));
        }
        if let Some(v) = &f.external_id {
            q = q.filter(customers::external_id.eq(v.clone()));
        }
        if let Some(r) = &f.contact {
            q = q.filter(reached_by(r, sqlite));
        }
        if let Some(t) = &f.tag {
            let tagged = customer_tags::table
                .filter(customer_tags::tag.eq(t.clone()))
                .select(customer_tags::customer_id);
            by_index!(Probe::Tag(t.clone()), customers::id.eq_any(tagged));
        }
        if let Some(t) = f.updated_since {
            by_index!(Probe::ChangedSince(t), customers::updated_at.ge(t));
        }
        q
    }};
    ($conn:expr, $scope:expr, $f:expr, $route:expr, $order:expr) => {
        filtered_files!(from visible_files!($scope); $conn, $scope, $f, $route, $order)
    };
}

fn views(rows: Vec<ViewRow>) -> Result<Vec<CustomerView>> {
    rows.into_iter()
        .map(|(row, path, rank, tags)| {
            Ok(CustomerView {
                tags: serde_json::from_str(&tags).map_err(|e| Error::Corrupt(e.to_string()))?,
                row,
                owner_unit_path: path,
                secrecy_rank: rank,
            })
        })
        .collect()
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<CustomerView> {
    let row: ViewRow = customers::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .filter(customers::id.eq(id))
        .select(view_columns!())
        .first(conn)?;
    Ok(views(vec![row])?.remove(0))
}

/// Several files at once, in no particular order; ids not found are left out.
/// PostgreSQL answers all of them in one round trip (`= ANY($1)`, prepared
/// once); SQLite, in process, looks each distinct id up with the prepared
/// single-file statement, which beats parsing an `IN (…)` list every time.
pub fn get_many(conn: &mut DbConn, ids: &[&str]) -> Result<Vec<CustomerView>> {
    match conn {
        DbConn::Pg(c) => {
            let rows: Vec<ViewRow> = customers::table
                .inner_join(org_units::table)
                .inner_join(secrecy_levels::table)
                .filter(customers::id.eq_any(ids))
                .select(view_columns!())
                .load(c)?;
            views(rows)
        }
        DbConn::Sqlite(_) => {
            let mut distinct = ids.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            let mut out = Vec::with_capacity(distinct.len());
            for id in distinct {
                match get(conn, id) {
                    Ok(v) => out.push(v),
                    Err(Error::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }
}

pub fn find_by_credit_code(conn: &mut DbConn, code: &str) -> Result<Option<String>> {
    Ok(customers::table
        .filter(customers::credit_code.eq(code))
        .select(customers::id)
        .first(conn)
        .optional()?)
}

pub fn find_by_external_id(conn: &mut DbConn, external_id: &str) -> Result<Option<String>> {
    Ok(customers::table
        .filter(customers::external_id.eq(external_id))
        .select(customers::id)
        .first(conn)
        .optional()?)
}

/// The files holding these external ids, by external id (ids not held are
/// left out): one query per thousand ids, for an import to look up every
/// row of its file at once.
pub fn ids_by_external_id(
    conn: &mut DbConn,
    external_ids: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut found = std::collections::HashMap::new();
    for chunk in external_ids.chunks(1000) {
        let rows: Vec<(Option<String>, String)> = customers::table
            .filter(customers::external_id.eq_any(chunk))
            .select((customers::external_id, customers::id))
            .load(conn)?;
        found.extend(rows.into_iter().filter_map(|(ext, id)| Some((ext?, id))));
    }
    Ok(found)
}

/// The files of these codes, by code (codes not held are left out), one
/// query per thousand codes.
pub fn ids_by_code(
    conn: &mut DbConn,
    codes: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut found = std::collections::HashMap::new();
    for chunk in codes.chunks(1000) {
        let rows: Vec<(String, String)> = customers::table
            .filter(customers::code.eq_any(chunk))
            .select((customers::code, customers::id))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Begins an import of `rows` rows in its transaction: takes the import's
/// turn and, on PostgreSQL, plans for the files it may add
/// ([`plan_for_many`]).
///
/// The turn among other imports is held until the transaction ends. A
/// commit goes alone; dry runs go beside each other but not beside a
/// commit. Without it, two imports of the same external ids on PostgreSQL
/// each read their files before the other committed: the second then
/// found "its" new files taken and the files it changed changed, and
/// refused every row of an upsert that should simply have run. SQLite's
/// writers take turns anyway.
pub fn begin_import(conn: &mut DbConn, commits: bool, rows: usize) -> Result<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query(if commits {
            "SELECT pg_advisory_xact_lock(hashtext('clientele.import'))"
        } else {
            "SELECT pg_advisory_xact_lock_shared(hashtext('clientele.import'))"
        })
        .execute(c)?;
    }
    plan_for_many(conn, rows)
}

/// Has the rest of a transaction that writes `files` files planned for the
/// files table as it is, on PostgreSQL, when the planner counts fewer files
/// than that.
///
/// A connection keeps one plan of each statement it runs often, the
/// foreign-key checks' among them (a history entry's file must exist),
/// made for the tables as the statistics last saw them. On an archive's
/// first import, after a few files made by hand, those plans read the
/// files table from end to end, which cost nothing at a few dozen files.
/// An import adds up to ten thousand files in one transaction, which the
/// statistics do not see until it commits, so every later check read all
/// of them: 10 000 new files took 10–12 s instead of 4–5 s, 10 000
/// changed ones 28–43 s instead of 11 s (docs/benchmarks.md, session 22).
/// A hand-over of those files right after the import met the same plans
/// before autovacuum counted them: 9 000 files' history took 12 s to write
/// (session 23). Planned anew at each execution, every statement and check
/// finds a file by its key. Where the archive is larger than the write, the
/// kept plans are right and cheaper (planning every statement made imports
/// into 10 000 files a third slower), so they stay.
pub fn plan_for_many(conn: &mut DbConn, files: usize) -> Result<()> {
    plan_for_rows(conn, "customers", files)
}

/// [`plan_for_many`] for a write of `rows` rows of `table`: custom plans
/// for the rest of the transaction when the planner counts fewer rows.
pub(crate) fn plan_for_rows(conn: &mut DbConn, table: &str, rows: usize) -> Result<()> {
    let DbConn::Pg(c) = conn else {
        return Ok(());
    };
    if planner_count(c, table)? < rows as f64 {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(c)?;
    }
    Ok(())
}

/// The planner's own count of a table's rows (-1 before the first
/// statistics, 0 while the table was empty when last counted): no scan.
pub(crate) fn planner_count(c: &mut diesel::PgConnection, table: &str) -> Result<f64> {
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::Double)]
        rows: f64,
    }
    let size: Size = diesel::sql_query(
        "SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass",
    )
    .bind::<diesel::sql_types::Text, _>(table)
    .get_result(c)?;
    Ok(size.rows)
}

/// After a write committed `added` new files, brings PostgreSQL's
/// statistics of the files and their tags up to date when the planner
/// counts fewer than ten times as many: a tenth more files is when
/// autovacuum would count them by default, but only within a minute, and
/// not at all on a server that runs without it. Until then lists and
/// searches are planned for the archive as it was: a page of a tag half
/// the files carry read every file (0.5 s at 100 000 files, against
/// 0.02 s counted). True if it counted. Outside a transaction: the count
/// is the table's, not a write's.
pub fn count_for_planner(conn: &mut DbConn, added: usize) -> Result<bool> {
    recount(conn, "customers", "ANALYZE customers, customer_tags", added)
}

/// [`count_for_planner`] for `table`, counted by `analyze` when `added`
/// rows are more than a tenth of what the planner counts.
pub(crate) fn recount(conn: &mut DbConn, table: &str, analyze: &str, added: usize) -> Result<bool> {
    let DbConn::Pg(c) = conn else {
        // SQLite plans from the indexes themselves (no ANALYZE is run).
        return Ok(false);
    };
    if added == 0 || planner_count(c, table)? * 0.1 > added as f64 {
        return Ok(false);
    }
    diesel::sql_query(analyze).execute(c)?;
    Ok(true)
}

/// Whether a write failed only because another write committed between
/// what it read and what it wrote — the file changed, or a new file took
/// its external id — so that running it again reads the other's work.
pub fn lost_a_race(e: &Error) -> bool {
    match e {
        Error::StaleVersion => true,
        Error::Conflict { constraint } => constraint == "uq_customers_external_id",
        _ => false,
    }
}

/// The files `user_id` keeps (CUS-10), optionally only those kept by a
/// unit's subtree, merged files left out (their survivors carry the
/// customer), in id order, at most `at_most`.
pub fn held_by(
    conn: &mut DbConn,
    user_id: &str,
    unit_path: Option<&str>,
    at_most: i64,
) -> Result<Vec<String>> {
    let mut q = customers::table
        .inner_join(org_units::table)
        .filter(customers::owner_user_id.eq(user_id))
        .filter(customers::merged_into_id.is_null())
        .into_boxed();
    if let Some(p) = unit_path {
        q = q.filter(org_units::path.like(format!("{p}%")));
    }
    Ok(q.select(customers::id)
        .order(customers::id.asc())
        .limit(at_most)
        .load(conn)?)
}

/// How many unmerged files `user_id` keeps that they could not read or
/// work as their account stands now (CUS-10): out of their unit's subtree
/// or above their clearance.
pub fn kept_out_of_reach(conn: &mut DbConn, user_id: &str) -> Result<i64> {
    let (path, rank) = reach_of(conn, user_id)?.ok_or(Error::NotFound)?;
    Ok(customers::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .filter(customers::owner_user_id.eq(user_id))
        .filter(customers::merged_into_id.is_null())
        .filter(
            secrecy_levels::rank
                .gt(rank)
                .or(org_units::path.not_like(format!("{path}%"))),
        )
        .count()
        .get_result(conn)?)
}

/// The unmerged files a unit keeps itself (not its sub-units') at secrecy
/// ranks up to `max_rank`: the first `at_most` in id order, and how many
/// there are in all.
pub fn kept_by_unit(
    conn: &mut DbConn,
    unit_id: &str,
    max_rank: i32,
    at_most: i64,
) -> Result<(Vec<String>, i64)> {
    let levels = secrecy_levels::table
        .filter(secrecy_levels::rank.le(max_rank))
        .select(secrecy_levels::code);
    let kept = customers::table
        .filter(customers::owner_unit_id.eq(unit_id))
        .filter(customers::merged_into_id.is_null())
        .filter(customers::secrecy_level.eq_any(levels));
    let first = kept
        .select(customers::id)
        .order(customers::id.asc())
        .limit(at_most)
        .load(conn)?;
    let all = kept.count().get_result(conn)?;
    Ok((first, all))
}

/// The customer codes of files, by id (unknown ids are left out).
pub fn codes(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(String, String)> = customers::table
            .filter(customers::id.eq_any(chunk))
            .select((customers::id, customers::code))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// How many unmerged files a unit keeps itself.
pub fn count_kept_by_unit(conn: &mut DbConn, unit_id: &str) -> Result<i64> {
    Ok(customers::table
        .filter(customers::owner_unit_id.eq(unit_id))
        .filter(customers::merged_into_id.is_null())
        .count()
        .get_result(conn)?)
}

/// How many unmerged files of the units under `subtree` (a unit path, as
/// the units now stand) have a keeper whose unit does not hold the file's
/// unit (CUS-10): what moving a unit would strand.
pub fn keepers_out_of_reach(conn: &mut DbConn, subtree: &str) -> Result<i64> {
    let units: std::collections::HashMap<String, String> = org_units::table
        .filter(org_units::path.like(format!("{subtree}%")))
        .select((org_units::id, org_units::path))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let kept: Vec<(String, Option<String>, i64)> = customers::table
        .filter(customers::owner_unit_id.eq_any(units.keys()))
        .filter(customers::owner_user_id.is_not_null())
        .filter(customers::merged_into_id.is_null())
        .group_by((customers::owner_unit_id, customers::owner_user_id))
        .select((
            customers::owner_unit_id,
            customers::owner_user_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let mut reach = std::collections::HashMap::new();
    let mut stranded = 0;
    for (unit, keeper, files) in kept {
        let (Some(file_path), Some(keeper)) = (units.get(&unit), keeper) else {
            continue;
        };
        if !reach.contains_key(&keeper) {
            let path = reach_of(conn, &keeper)?.map(|(p, _)| p);
            reach.insert(keeper.clone(), path);
        }
        let holds = match reach.get(&keeper) {
            Some(Some(keeper_path)) => file_path.starts_with(keeper_path.as_str()),
            _ => false,
        };
        if !holds {
            stranded += files;
        }
    }
    Ok(stranded)
}

/// Normalised names that more than one unmerged file `scope` may see
/// holds (likely duplicates, CUS-01), in order, after `after`, with how
/// many files hold each; at most `limit` and one more.
pub fn duplicate_names(
    conn: &mut DbConn,
    scope: &ListScope,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<(String, i64)>> {
    let after = after.unwrap_or_default().to_owned();
    Ok(customers::table
        .filter(visible_to!(scope))
        .filter(customers::merged_into_id.is_null())
        .filter(customers::name_normalized.gt(after))
        .group_by(customers::name_normalized)
        .having(diesel::dsl::count_star().gt(1))
        .select((customers::name_normalized, diesel::dsl::count_star()))
        .order(customers::name_normalized)
        .limit(i64::from(limit) + 1)
        .load(conn)?)
}

/// The unmerged files `scope` may see under one normalised name, in id
/// order, at most `limit`.
pub fn visible_with_name(
    conn: &mut DbConn,
    scope: &ListScope,
    normalised: &str,
    limit: i64,
) -> Result<Vec<CustomerView>> {
    let rows = visible_files!(scope)
        .filter(customers::merged_into_id.is_null())
        .filter(customers::name_normalized.eq(normalised.to_owned()))
        .order(customers::id)
        .limit(limit)
        .select(view_columns!())
        .load(conn)?;
    views(rows)
}

/// The unmerged files `scope` may see one of whose active contacts is
/// reached by `reach` (a number in a phone or mobile, or an address), in
/// id order, at most `limit`.
pub fn visible_reached_by(
    conn: &mut DbConn,
    scope: &ListScope,
    reach: &clientele_customers::Reach,
    limit: i64,
) -> Result<Vec<CustomerView>> {
    let sqlite = matches!(conn, DbConn::Sqlite(_));
    let rows = visible_files!(scope)
        .filter(customers::merged_into_id.is_null())
        .filter(reached_by(reach, sqlite))
        .order(customers::id)
        .limit(limit)
        .select(view_columns!())
        .load(conn)?;
    views(rows)
}

/// Of `names` (normalised names), those more than one unmerged file
/// `scope` may see holds, each with those files' ids in id order: likely
/// duplicates among files just opened (an import's) and the archive. Two
/// queries a 500 names, the second for the names held twice only.
pub fn visible_holders_of_shared(
    conn: &mut DbConn,
    scope: &ListScope,
    names: &[&str],
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let mut held: std::collections::HashMap<String, Vec<String>> = Default::default();
    for chunk in names.chunks(500) {
        let shared: Vec<String> = customers::table
            .filter(visible_to!(scope))
            .filter(customers::merged_into_id.is_null())
            .filter(customers::name_normalized.eq_any(chunk))
            .group_by(customers::name_normalized)
            .having(diesel::dsl::count_star().gt(1))
            .select(customers::name_normalized)
            .load(conn)?;
        if shared.is_empty() {
            continue;
        }
        let holders: Vec<(String, String)> = customers::table
            .filter(visible_to!(scope))
            .filter(customers::merged_into_id.is_null())
            .filter(customers::name_normalized.eq_any(&shared))
            .select((customers::name_normalized, customers::id))
            .order((customers::name_normalized, customers::id))
            .load(conn)?;
        for (name, id) in holders {
            held.entry(name).or_default().push(id);
        }
    }
    Ok(held)
}

/// A contact's file and its phone, mobile and email keys.
type ReachedContact = (String, Option<String>, Option<String>, Option<String>);

/// For each of `contacts` (active, of an import), the other unmerged files
/// `scope` may see one of whose active contacts is reached by its phone,
/// mobile or address, in id order, at most [`SHOWN`] and one more (a
/// national hotline reaches thousands), with the first of its fields that
/// reaches one (`phone`, `mobile`, `email`): a sign of two files of one
/// customer (CUS-01). Contacts reaching none are left out. Two queries a
/// 500 contacts, the second for the files reached only.
/// Files named for one contact by [`files_reached_by_contacts`], at most
/// (one more tells there are more).
pub const SHOWN: usize = 20;

pub fn files_reached_by_contacts(
    conn: &mut DbConn,
    scope: &ListScope,
    contacts: &[&crate::customer_parts::ContactRow],
) -> Result<std::collections::HashMap<String, (&'static str, Vec<String>)>> {
    use std::collections::{BTreeSet, HashMap, HashSet};
    let mut found = HashMap::new();
    for chunk in contacts.chunks(500) {
        let keyed: Vec<_> = chunk
            .iter()
            .map(|k| {
                let (phone, mobile, email) = crate::customer_parts::reach_key_values(
                    k.phone.as_deref(),
                    k.mobile.as_deref(),
                    k.email.as_deref(),
                );
                (k, [("phone", phone), ("mobile", mobile), ("email", email)])
            })
            .collect();
        let mut numbers = Vec::new();
        let mut emails = Vec::new();
        for (_, keys) in &keyed {
            for (field, key) in keys {
                match (field, key) {
                    (_, None) => {}
                    (&"email", Some(e)) => emails.push(e.clone()),
                    (_, Some(n)) => numbers.push(n.clone()),
                }
            }
        }
        if numbers.is_empty() && emails.is_empty() {
            continue;
        }
        let reached: Vec<ReachedContact> = customer_contacts::table
            .filter(customer_contacts::active.eq(true))
            .filter(reached_by_any!(numbers, emails))
            .select((
                customer_contacts::customer_id,
                customer_contacts::phone_key,
                customer_contacts::mobile_key,
                customer_contacts::email_key,
            ))
            .load(conn)?;
        let mut files: Vec<&str> = reached.iter().map(|r| r.0.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        let in_sight: HashSet<String> = visible_files!(scope)
            .filter(customers::merged_into_id.is_null())
            .filter(customers::id.eq_any(files))
            .select(customers::id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let mut by_number: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        let mut by_email: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (file, phone, mobile, email) in &reached {
            if !in_sight.contains(file) {
                continue;
            }
            for n in phone.iter().chain(mobile) {
                by_number.entry(n).or_default().insert(file);
            }
            if let Some(e) = email {
                by_email.entry(e).or_default().insert(file);
            }
        }
        for (contact, keys) in keyed {
            let mut others: BTreeSet<&str> = BTreeSet::new();
            let mut first = None;
            for (field, key) in &keys {
                let Some(key) = key.as_deref() else { continue };
                let index = if *field == "email" {
                    &by_email
                } else {
                    &by_number
                };
                let before = others.len();
                for f in index.get(key).into_iter().flatten() {
                    if others.len() > SHOWN {
                        break;
                    }
                    if *f != contact.customer_id {
                        others.insert(f);
                    }
                }
                if first.is_none() && others.len() > before {
                    first = Some(*field);
                }
            }
            if let Some(field) = first {
                let others = others.into_iter().map(str::to_owned).collect();
                found.insert(contact.id.clone(), (field, others));
            }
        }
    }
    Ok(found)
}

/// Files whose normalised name equals this one (likely duplicates).
pub fn same_normalised_name(
    conn: &mut DbConn,
    normalised: &str,
    except: Option<&str>,
    limit: i64,
) -> Result<Vec<CustomerView>> {
    let mut q = customers::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .filter(customers::name_normalized.eq(normalised))
        .into_boxed();
    if let Some(e) = except {
        q = q.filter(customers::id.ne(e.to_owned()));
    }
    let rows = q
        .order(customers::id)
        .limit(limit)
        .select(view_columns!())
        .load(conn)?;
    views(rows)
}

/// Files other than `id` one of whose active contacts is reached by a
/// number or address of one of `id`'s active contacts (a shared
/// switchboard, mobile or mailbox), by id, at most `limit`.
pub fn sharing_contacts(conn: &mut DbConn, id: &str, limit: i64) -> Result<Vec<CustomerView>> {
    let own: Vec<(Option<String>, Option<String>, Option<String>)> = customer_contacts::table
        .filter(customer_contacts::customer_id.eq(id))
        .filter(customer_contacts::active.eq(true))
        .select((
            customer_contacts::phone_key,
            customer_contacts::mobile_key,
            customer_contacts::email_key,
        ))
        .load(conn)?;
    let mut numbers: Vec<String> = Vec::new();
    let mut emails: Vec<String> = Vec::new();
    for (phone, mobile, email) in own {
        numbers.extend(phone.into_iter().chain(mobile));
        emails.extend(email);
    }
    numbers.sort_unstable();
    numbers.dedup();
    emails.sort_unstable();
    emails.dedup();
    if numbers.is_empty() && emails.is_empty() {
        return Ok(Vec::new());
    }
    let sharing = customer_contacts::table
        .filter(customer_contacts::active.eq(true))
        .filter(customer_contacts::customer_id.ne(id))
        .filter(reached_by_any!(numbers, emails))
        .select(customer_contacts::customer_id);
    let rows = customers::table
        .inner_join(org_units::table)
        .inner_join(secrecy_levels::table)
        .filter(customers::id.eq_any(sharing))
        .order(customers::id)
        .limit(limit)
        .select(view_columns!())
        .load(conn)?;
    views(rows)
}

/// Tags as the file row keeps them: a sorted JSON array without repeats.
fn tags_json(tags: &[String]) -> Result<String> {
    let mut sorted = tags.to_vec();
    sorted.sort();
    sorted.dedup();
    serde_json::to_string(&sorted).map_err(|e| Error::Corrupt(e.to_string()))
}

/// Adds a file's tags to the tag filter's index.
fn index_tags(conn: &mut DbConn, id: &str, tags: &[String]) -> Result<()> {
    for t in tags {
        diesel::insert_into(customer_tags::table)
            .values((customer_tags::customer_id.eq(id), customer_tags::tag.eq(t)))
            .execute(conn)?;
    }
    Ok(())
}

/// One entry of the change history.
pub struct FieldChange {
    pub entity: &'static str,
    pub entity_id: String,
    pub field: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

pub fn record_changes(
    conn: &mut DbConn,
    meta: &WriteMeta,
    customer_id: &str,
    changes: &[FieldChange],
) -> Result<()> {
    let mut records = ChangedFiles::default();
    records.add_changes(meta, customer_id, changes);
    records.write(conn)
}

/// Field-by-field differences between two serialisable states.
pub fn diff(
    entity: &'static str,
    entity_id: &str,
    before: &serde_json::Value,
    after: &serde_json::Value,
    skip: &[&str],
) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !skip.contains(&k.as_str()))
        .filter_map(|k| {
            let (o, n) = (
                b.get(k).cloned().unwrap_or_default(),
                a.get(k).cloned().unwrap_or_default(),
            );
            (o != n).then(|| FieldChange {
                entity,
                entity_id: entity_id.to_owned(),
                field: k.clone(),
                old: (!o.is_null()).then_some(o),
                new: (!n.is_null()).then_some(n),
            })
        })
        .collect()
}

fn snapshot(row: &CustomerRow, tags: &[String]) -> serde_json::Value {
    let mut v = serde_json::to_value(row).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("tags".into(), serde_json::json!(tags));
    }
    v
}

fn duplicate_guard(conn: &mut DbConn, row: &CustomerRow) -> Result<()> {
    credit_code_free(conn, row)?;
    if let Some(ext) = &row.external_id {
        if let Some(existing) = find_by_external_id(conn, ext)? {
            if existing != row.id {
                return Err(Error::DuplicateOf {
                    field: "external_id",
                    existing_id: existing,
                });
            }
        }
    }
    Ok(())
}

/// No other file holds the row's credit code (CUS-01).
fn credit_code_free(conn: &mut DbConn, row: &CustomerRow) -> Result<()> {
    if let Some(cc) = &row.credit_code {
        if let Some(existing) = find_by_credit_code(conn, cc)? {
            if existing != row.id {
                return Err(Error::DuplicateOf {
                    field: "credit_code",
                    existing_id: existing,
                });
            }
        }
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: CustomerRow,
    tags: Vec<String>,
) -> Result<CustomerView> {
    duplicate_guard(conn, &row)?;
    file_refs::check(conn, &row, Refs::ALL, &mut CheckedRefs::default())?;
    write_new(conn, meta, &row, &tags)?;
    get(conn, &row.id)
}

/// Creates a file like [`create`], leaving out the checks an ERP import
/// made once for all its rows (the owner unit exists and is active, the
/// secrecy level exists, no file holds the external id) and the read of the
/// new file. The row and the file's tags, history, audit entry and event
/// go to `files`, which writes them with those of other new files in the
/// same transaction: the row at once, or later if `files` holds rows (see
/// [`NewFiles::hold_rows`]). The database's keys stand behind the checks
/// left out: a wrong caller gets an error, never a bad row. The keeper is
/// checked unless `known` found them good for this unit and level already.
pub fn create_checked(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: CustomerRow,
    tags: &[String],
    files: &mut NewFiles,
    known: &mut CheckedRefs,
) -> Result<()> {
    credit_code_free(conn, &row)?;
    file_refs::check(conn, &row, Refs::KEEPER, known)?;
    let (contents, after) = creation_records(&row, tags);
    let records = NewFile::new(meta, &row.id, tags, &contents, after);
    files.add(conn, NewRow::new(row, tags)?, records)
}

/// The row of a new file with its tags, as inserted. The tags go in with
/// the row: updating a new row at once would write a second version of it,
/// and (on PostgreSQL, on a full page) its entries in every index of the
/// table again.
pub struct NewRow {
    row: CustomerRow,
    tags: String,
}

impl NewRow {
    fn new(row: CustomerRow, tags: &[String]) -> Result<Self> {
        Ok(Self {
            row,
            tags: tags_json(tags)?,
        })
    }

    /// Inserts the rows, `chunk` a statement on PostgreSQL
    /// ([`insert_rows!`]).
    pub(crate) fn insert(conn: &mut DbConn, rows: &[NewRow], chunk: usize) -> Result<()> {
        insert_rows!(conn, customers::table, rows, chunk, NewRow::values);
        Ok(())
    }

    fn values(&self) -> (&CustomerRow, diesel::dsl::Eq<customers::tags, &String>) {
        (&self.row, customers::tags.eq(&self.tags))
    }
}

/// One new row; `tags` as stored (a JSON array).
fn insert_row(conn: &mut DbConn, row: &CustomerRow, tags: &str) -> Result<()> {
    diesel::insert_into(customers::table)
        .values((row, customers::tags.eq(tags)))
        .execute(conn)?;
    Ok(())
}

/// What a new file's history entry shows (its contents) and what its audit
/// entry keeps (the row).
fn creation_records(row: &CustomerRow, tags: &[String]) -> (serde_json::Value, serde_json::Value) {
    let after = snapshot(row, tags);
    let mut contents = after.clone();
    if let Some(o) = contents.as_object_mut() {
        NOT_HISTORY.iter().for_each(|k| {
            o.remove(*k);
        });
    }
    (contents, after)
}

/// Writes a new file with its tags, history and audit entry (and event).
fn write_new(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: &CustomerRow,
    tags: &[String],
) -> Result<()> {
    insert_row(conn, row, &tags_json(tags)?)?;
    index_tags(conn, &row.id, tags)?;
    let (contents, after) = creation_records(row, tags);
    record_changes(
        conn,
        meta,
        &row.id,
        &[FieldChange {
            entity: "customer",
            entity_id: row.id.clone(),
            field: "*".into(),
            old: None,
            new: Some(contents),
        }],
    )?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "customer",
            entity_id: &row.id,
            before: None,
            after: Some(after),
        },
    )
}

/// Writes `after` over the stored file if it is still at `expected_version`;
/// the history gets one entry per changed field.
pub fn save(
    conn: &mut DbConn,
    meta: &WriteMeta,
    expected_version: i64,
    after: CustomerRow,
    tags: Option<Vec<String>>,
    action: &str,
) -> Result<CustomerView> {
    let before = get(conn, &after.id)?;
    let id = after.id.clone();
    let mut records = ChangedFiles::default();
    if !save_loaded(
        conn,
        meta,
        &before,
        expected_version,
        after,
        tags,
        action,
        &mut records,
        &mut CheckedRefs::default(),
    )? {
        return Ok(before);
    }
    records.write(conn)?;
    get(conn, &id)
}

/// [`save`] for a file the caller has read in this transaction as
/// `before`: writes the row and gathers its history entries, audit entry
/// and event in `records`, for the caller to write with those of other
/// changes. False if nothing changes: a change that changes nothing is no
/// new version — no history, audit entry or event, and other clients'
/// ETags stay good. References the change sets (unit, keeper, level) are
/// checked unless `known` holds them from an earlier file of the same
/// transaction.
#[allow(clippy::too_many_arguments)]
pub fn save_loaded(
    conn: &mut DbConn,
    meta: &WriteMeta,
    before: &CustomerView,
    expected_version: i64,
    mut after: CustomerRow,
    tags: Option<Vec<String>>,
    action: &str,
    records: &mut ChangedFiles,
    known: &mut CheckedRefs,
) -> Result<bool> {
    if before.row.version != expected_version {
        return Err(Error::StaleVersion);
    }
    // Tags that change are written with the row: one new version of it,
    // not two (each, on PostgreSQL, possibly entries in every index again).
    let changed_tags = match &tags {
        Some(t) if tags_json(t)? != tags_json(&before.tags)? => Some(tags_json(t)?),
        _ => None,
    };
    let tags = match tags {
        Some(t) if changed_tags.is_some() => Some(t),
        _ => None,
    };
    // The history's entries, one a changed field.
    let old = snapshot(&before.row, &before.tags);
    let changes = diff(
        "customer",
        &after.id,
        &old,
        &snapshot(&after, tags.as_deref().unwrap_or(&before.tags)),
        &NOT_HISTORY,
    );
    if changes.is_empty() {
        return Ok(false);
    }
    // An identifier the file keeps is its own already (the table's unique
    // keys stand behind that); one it takes is looked for elsewhere.
    if after.credit_code != before.row.credit_code || after.external_id != before.row.external_id {
        duplicate_guard(conn, &after)?;
    }
    file_refs::check(conn, &after, Refs::changed(&before.row, &after), known)?;
    after.version = expected_version + 1;
    after.updated_at = meta.at;
    after.created_at = before.row.created_at;
    let n = match &changed_tags {
        Some(json) => FileUpdate::new(
            (&after, customers::tags.eq(json)).as_changeset(),
            &after.id,
            expected_version,
        )
        .run(conn)?,
        None => FileUpdate::new((&after).as_changeset(), &after.id, expected_version).run(conn)?,
    };
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    let tags = match tags {
        Some(t) => {
            diesel::delete(customer_tags::table.filter(customer_tags::customer_id.eq(&after.id)))
                .execute(conn)?;
            index_tags(conn, &after.id, &t)?;
            t
        }
        None => before.tags.clone(),
    };
    // The audit entry keeps the whole row as written (its new version).
    let new = snapshot(&after, &tags);
    records.add_changes(meta, &after.id, &changes);
    let (entry, event) = audit::entries(
        meta,
        &Change {
            action,
            entity_type: "customer",
            entity_id: &after.id,
            before: Some(old),
            after: Some(new),
        },
    );
    records.add_audit(entry, event);
    Ok(true)
}

/// `UPDATE customers SET … WHERE id = ? AND version = ?`, kept prepared.
/// diesel's own update never is (it marks every `UPDATE` so), and
/// PostgreSQL parsed and planned the change of a file every time: a tenth
/// of its work in an import that changed 10 000 files.
struct FileUpdate<'a, C> {
    changes: C,
    id: &'a str,
    version: i64,
}

impl<'a, C> FileUpdate<'a, C> {
    fn new(changes: C, id: &'a str, version: i64) -> Self {
        Self {
            changes,
            id,
            version,
        }
    }
}

impl<C> FileUpdate<'_, C>
where
    C: diesel::query_builder::QueryFragment<diesel::pg::Pg>
        + diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite>,
{
    /// Rows changed: 0 if the file is not at `version`.
    fn run(self, conn: &mut DbConn) -> Result<usize> {
        Ok(match conn {
            DbConn::Pg(c) => self.execute(c)?,
            DbConn::Sqlite(c) => self.execute(c)?,
        })
    }
}

impl<C> diesel::query_builder::QueryId for FileUpdate<'_, C> {
    type QueryId = ();
    // Cached by its SQL text: one statement each for with and without tags.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Conn, C> RunQueryDsl<Conn> for FileUpdate<'_, C> {}

impl<DB, C> diesel::query_builder::QueryFragment<DB> for FileUpdate<'_, C>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<diesel::sql_types::BigInt>,
    str: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<diesel::sql_types::BigInt, DB>,
    C: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("UPDATE \"customers\" SET ");
        self.changes.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE \"customers\".\"id\" = ");
        out.push_bind_param::<Text, _>(self.id)?;
        out.push_sql(" AND \"customers\".\"version\" = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.version)?;
        Ok(())
    }
}

/// Who is asking, as far as lists are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListScope {
    /// `None`: every unit (admins, auditors).
    pub unit_path: Option<String>,
    pub clearance_rank: i32,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Words the name holds each (`name::search_words`: in the name's
    /// search form, separated by single spaces).
    pub name_contains: Option<String>,
    /// Quick search, as `name_contains`: words the name holds each, or,
    /// together, part of the mnemonic or the whole code or credit code.
    pub quick: Option<String>,
    pub code: Option<String>,
    pub credit_code: Option<String>,
    pub nature: Option<String>,
    pub industry: Option<String>,
    pub customer_type: Option<String>,
    pub vulnerable: Option<bool>,
    pub region_prefix: Option<String>,
    pub status: Option<String>,
    pub owner_user_id: Option<String>,
    /// Files owned at or below this unit path.
    pub unit_path: Option<String>,
    pub tag: Option<String>,
    pub external_id: Option<String>,
    /// Files one of whose active contacts is reached by this number or
    /// address (`clientele_customers::reach`).
    pub contact: Option<clientele_customers::Reach>,
    /// The quick search read as a contact's number or address, when it
    /// reads as one: the search box finds the files it reaches too.
    pub quick_reach: Option<clientele_customers::Reach>,
    pub updated_since: Option<Timestamp>,
    pub include_merged: bool,
}

impl CustomerFilter {
    /// How a list with these filters is best planned. Filters that match
    /// large shares of the files (status, nature, industry, region, name)
    /// leave one plan best for any value: walk the sort's index and stop
    /// after a page, unless one of them holds a value few files hold
    /// (`shares` remembers which; one it has not counted yet is planned
    /// for its value). A filter that may match a handful of files among
    /// millions (a tag, an owner, a unit, a code, changes since a moment,
    /// the vulnerable, a part of a name or mnemonic)
    /// needs a plan made for its value, which can start from that filter's
    /// index (on PostgreSQL, a name's trigram index serves only a pattern it
    /// can see).
    pub fn plans(&self, shares: &crate::list_routes::Shares, scope: &ListScope) -> crate::Plans {
        let selective = self.code.is_some()
            || self.name_contains.is_some()
            || self.quick.is_some()
            || self.credit_code.is_some()
            || self.external_id.is_some()
            || self.contact.is_some()
            || self.owner_user_id.is_some()
            || self.unit_path.is_some()
            || self.tag.is_some()
            || self.vulnerable == Some(true)
            || self.updated_since.is_some();
        if selective {
            return crate::Plans::ByValue;
        }
        match shares.remembered(scope, &self.probes()) {
            Some(crate::list_routes::Route::Walk) => crate::Plans::Generic,
            _ => crate::Plans::ByValue,
        }
    }

    /// The filters that an index of their own can count.
    pub fn probes(&self) -> Vec<crate::list_routes::Probe> {
        use crate::list_routes::Probe;
        let mut out = Vec::new();
        let each = [
            self.status.clone().map(Probe::Status),
            self.vulnerable.map(Probe::Vulnerable),
            self.nature.clone().map(Probe::Nature),
            self.industry.clone().map(Probe::Industry),
            self.customer_type.clone().map(Probe::CustomerType),
            self.region_prefix.clone().map(Probe::Region),
            self.owner_user_id.clone().map(Probe::Owner),
            self.unit_path.clone().map(Probe::Unit),
            self.updated_since.map(Probe::ChangedSince),
            self.tag.clone().map(Probe::Tag),
        ];
        out.extend(each.into_iter().flatten());
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// The cursor key of a row under a sort.
pub fn cursor_key(row: &CustomerRow, key: SortKey) -> String {
    match key {
        SortKey::Name => row.name_sort.clone(),
        SortKey::CreatedAt => row.created_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        SortKey::UpdatedAt => row.updated_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
    }
}

fn parse_ts(key: &str) -> Result<Timestamp> {
    chrono::NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
        Error::unprocessable("invalid_cursor", "the cursor does not fit this sort order")
    })
}

/// What a search looks at: the name, or (the quick search) name and
/// mnemonic, or the whole code or credit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Searched<'a> {
    Name,
    /// A search box: part of a name or mnemonic, a whole code or credit
    /// code, or a contact's number or address.
    Quick {
        whole: &'a str,
        reach: Option<&'a clientele_customers::Reach>,
    },
}

/// The files one of whose active contacts is reached by `reach`, as a
/// condition that an index serves inside an `OR` as well as alone: on
/// PostgreSQL the contacts are found once, before the files (an
/// init-plan), and the files by their key; a plain `IN (SELECT …)` inside
/// an `OR` there is a filter run on every file.
fn reached_by(reach: &clientele_customers::Reach, sqlite: bool) -> crate::fixed_sql::Fixed<Bool> {
    use crate::fixed_sql::fixed;
    if sqlite {
        contacts_reaching(fixed::<Bool>("customers.id IN ("), reach).sql(")")
    } else {
        contacts_reaching(fixed::<Bool>("customers.id = ANY(ARRAY("), reach).sql("))")
    }
}

/// `sql` followed by the ids of the files one of whose active contacts is
/// reached by `reach` (a number is looked for in a contact's phone and
/// mobile: a caller's display does not say which it is).
fn contacts_reaching(
    sql: crate::fixed_sql::Fixed<Bool>,
    reach: &clientele_customers::Reach,
) -> crate::fixed_sql::Fixed<Bool> {
    use clientele_customers::Reach;
    let sql = sql.sql("SELECT customer_id FROM customer_contacts WHERE active AND ");
    match reach {
        Reach::Number(k) => sql
            .sql("(phone_key = ")
            .bind(k.clone())
            .sql(" OR mobile_key = ")
            .bind(k.clone())
            .sql(")"),
        Reach::Email(k) => sql.sql("email_key = ").bind(k.clone()),
    }
}

type Found<QS> = Box<dyn BoxableExpression<QS, crate::connection::MultiBackend, SqlType = Bool>>;

/// The files whose name holds every word of `words` (separated by single
/// spaces, as [`CustomerFilter::name_contains`] and
/// [`CustomerFilter::quick`] hold them).
fn holds_every_word(words: &str) -> crate::fixed_sql::Fixed<Bool> {
    let mut sql = crate::fixed_sql::fixed::<Bool>("(");
    for (i, word) in words.split(' ').enumerate() {
        if i > 0 {
            sql = sql.sql(" AND ");
        }
        sql = sql
            .sql("customers.name_folded LIKE ")
            .bind(crate::sql_fns::contains_pattern(word))
            .sql(" ESCAPE '\\'");
    }
    sql.sql(")")
}

/// Files whose searched columns contain `part` by a search index, where one
/// serves it (the `LIKE` conditions still decide). On PostgreSQL the
/// trigram indexes serve `LIKE` itself, and the gram indexes parts of one
/// or two characters; the planner tells rare parts from common ones. On
/// SQLite the trigram table (or, for one or two characters, the gram table)
/// lists the files that hold the part, up to one more than
/// [`crate::sql_fns::INDEXED_MATCHES_AT_MOST`]: a part held by more is left
/// to the list's ordered scan, which finds a page of it sooner.
fn searched<QS: 'static>(
    conn: &mut DbConn,
    part: &str,
    what: Searched<'_>,
) -> Result<Option<Found<QS>>> {
    use crate::fixed_sql::fixed;
    use crate::sql_fns::{fts_phrase, search_gram, GRAM, INDEXED_MATCHES_AT_MOST, TRIGRAM};
    let chars = part.chars().count();
    if let DbConn::Pg(_) = conn {
        if chars == 0 || chars > GRAM {
            return Ok(None);
        }
        // Planned for the part searched: a rare one by its gram index, a
        // common one by the list's ordered scan. Kept prepared, PostgreSQL
        // turned to one generic plan after five runs, which read every file
        // for a common part (a page of `客户` 3.5 ms → 1.6 s).
        let name = fixed::<Bool>("(customer_search_grams(customers.name_folded) @> ARRAY[")
            .planned_each_run()
            .bind(part)
            .sql("]::text[]");
        return Ok(Some(match what {
            Searched::Name => Box::new(name.sql(")")) as Found<QS>,
            Searched::Quick { whole, .. } => Box::new(
                name.sql(" OR customer_search_grams(customers.name_mnemonic) @> ARRAY[")
                    .bind(part)
                    .sql("]::text[] OR customers.code = ")
                    .bind(whole)
                    .sql(" OR customers.credit_code = ")
                    .bind(whole)
                    .sql(")"),
            ),
        }));
    }
    // FTS5 cannot take a NUL in a query; such a part is left to `LIKE`.
    if chars == 0 || part.contains('\0') {
        return Ok(None);
    }
    let name = what == Searched::Name;
    let (rowids_of, query) = if chars >= TRIGRAM {
        let query = fts_phrase(name.then_some("name_folded"), part);
        (
            "(SELECT json_group_array(rowid) FROM (SELECT rowid FROM customer_search \
             WHERE customer_search MATCH ",
            query,
        )
    } else {
        let query = fts_phrase(name.then_some("name_grams"), &search_gram(part));
        (
            "(SELECT json_group_array(rowid) FROM (SELECT rowid FROM customer_grams \
             WHERE customer_grams MATCH ",
            query,
        )
    };
    // The files' rowids, as a JSON array bound to the list's query (whose
    // text, and so its prepared statement, stays the same).
    let rowids: Option<String> = diesel::select(
        fixed::<diesel::sql_types::Nullable<Text>>(rowids_of)
            .bind(query)
            .sql(" LIMIT ")
            .bind_int(INDEXED_MATCHES_AT_MOST + 1)
            .sql("))"),
    )
    .get_result(conn)?;
    let rowids = rowids.unwrap_or_default();
    let held = rowids.bytes().filter(|&b| b == b',').count() + usize::from(rowids != "[]");
    if i64::try_from(held).unwrap_or(i64::MAX) > INDEXED_MATCHES_AT_MOST {
        return Ok(None);
    }
    let files = fixed::<Bool>(
        "customers.id IN (SELECT customer_id FROM customer_search \
         WHERE rowid IN (SELECT value FROM json_each(",
    )
    .bind(rowids)
    .sql("))");
    Ok(Some(match what {
        Searched::Name => Box::new(files.sql(")")) as Found<QS>,
        Searched::Quick { whole, reach } => {
            let candidates = files
                .sql(" UNION ALL SELECT id FROM customers WHERE code = ")
                .bind(whole)
                .sql(" UNION ALL SELECT id FROM customers WHERE credit_code = ")
                .bind(whole);
            Box::new(match reach {
                Some(r) => contacts_reaching(candidates.sql(" UNION ALL "), r).sql(")"),
                None => candidates.sql(")"),
            })
        }
    }))
}

pub fn list(
    conn: &mut DbConn,
    shares: &Shares,
    scope: &ListScope,
    f: &CustomerFilter,
    sort: Sort,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<CustomerView>> {
    let route = shares.route(conn, scope, &f.probes())?;
    let mut q = filtered_files!(&mut *conn, scope, f, &route, Some(sort.key));
    // PostgreSQL's planner cannot know how few of a filter's files are in
    // the caller's sight (a unit or an industry of another branch): it
    // walked the order's index past every file, 4-6 s among a million.
    // Ordered by the key's value instead of the column, a gathered list
    // cannot walk an index for its order (SQLite is led by `gathered`).
    let unordered = matches!(conn, DbConn::Pg(_)) && route != crate::list_routes::Route::Walk;
    macro_rules! keyset {
        ($col:expr, $value:literal, $sql:ty, $key:expr) => {{
            if let Some(c) = after {
                let k = $key(c)?;
                q = if sort.descending {
                    q.filter(
                        $col.lt(k.clone())
                            .or($col.eq(k).and(customers::id.lt(c.id.clone()))),
                    )
                } else {
                    q.filter(
                        $col.gt(k.clone())
                            .or($col.eq(k).and(customers::id.gt(c.id.clone()))),
                    )
                };
            }
            let value = crate::fixed_sql::fixed::<$sql>($value);
            q = match (sort.descending, unordered) {
                (true, false) => q.order(($col.desc(), customers::id.desc())),
                (false, false) => q.order(($col.asc(), customers::id.asc())),
                (true, true) => q.order((value.desc(), customers::id.desc())),
                (false, true) => q.order((value.asc(), customers::id.asc())),
            };
        }};
    }
    match sort.key {
        SortKey::Name => keyset!(
            customers::name_sort,
            "(customers.name_sort || '')",
            Text,
            |c: &Cursor| Ok::<_, Error>(c.key.clone())
        ),
        SortKey::CreatedAt => keyset!(
            customers::created_at,
            "(customers.created_at + INTERVAL '0 seconds')",
            diesel::sql_types::Timestamp,
            |c: &Cursor| parse_ts(&c.key)
        ),
        SortKey::UpdatedAt => keyset!(
            customers::updated_at,
            "(customers.updated_at + INTERVAL '0 seconds')",
            diesel::sql_types::Timestamp,
            |c: &Cursor| parse_ts(&c.key)
        ),
    }
    let rows: Vec<ViewRow> = q
        .limit(i64::from(limit) + 1)
        .select(view_columns!())
        .load(conn)?;
    let key = sort.key;
    let page = Page::from_overfetch(rows, limit, |r| Cursor {
        key: cursor_key(&r.0, key),
        id: r.0.id.clone(),
    });
    let next = page.next;
    Ok(Page {
        items: views(page.items)?,
        next,
    })
}

/// What files are counted by (CUS-03: classification for analysis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Nature,
    CustomerType,
    Industry,
    Size,
    Status,
    SecrecyLevel,
    Province,
    Region,
    OwnerUnit,
    OwnerUser,
}

/// How many files share one value (`key: None`: not filled in), and what
/// the value is called where it has a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountGroup {
    pub key: Option<String>,
    pub name: Option<String>,
    pub count: i64,
}

/// How many of the files `scope` may see that pass `f` hold each value of
/// `by`, largest group first (then by value).
pub fn counts(
    conn: &mut DbConn,
    shares: &Shares,
    scope: &ListScope,
    f: &CustomerFilter,
    by: CountBy,
) -> Result<Vec<CountGroup>> {
    let route = shares.route(conn, scope, &f.probes())?;
    macro_rules! grouped {
        ($group:expr, $select:expr) => {{
            let grouped = customers::table
                .inner_join(org_units::table)
                .inner_join(secrecy_levels::table)
                .filter(visible_to!(scope))
                .group_by($group)
                .select($select)
                .into_boxed();
            filtered_files!(from grouped; &mut *conn, scope, f, &route, None)
        }};
    }
    macro_rules! by_column {
        ($col:expr, $key:ty) => {
            grouped!($col, ($col, diesel::dsl::count_star()))
                .load::<($key, i64)>(conn)?
                .into_iter()
                .map(|(key, count)| CountGroup {
                    key: Option::<String>::from(key),
                    name: None,
                    count,
                })
                .collect::<Vec<_>>()
        };
    }
    // Where an index leads with the column, SQLite groups by walking it in
    // its order and looking each file up by rowid, where a scan of the
    // table and a sort of its few groups is 3–5× faster (a count by unit
    // of 100 000 files: 184 ms against 37). Grouping by the column's value
    // (`|| ''`) takes the index from the grouping only; filters keep theirs.
    macro_rules! value_of {
        ($col:literal) => {
            diesel::dsl::sql::<diesel::sql_types::Nullable<Text>>(concat!(
                "\"customers\".\"",
                $col,
                "\" || ''"
            ))
        };
    }
    let mut groups = match by {
        CountBy::Nature => by_column!(value_of!("nature"), Option<String>),
        CountBy::Status => by_column!(customers::status, String),
        CountBy::SecrecyLevel => by_column!(customers::secrecy_level, String),
        CountBy::CustomerType => by_column!(value_of!("customer_type"), Option<String>),
        CountBy::Industry => by_column!(value_of!("industry"), Option<String>),
        CountBy::Size => by_column!(customers::size, Option<String>),
        CountBy::OwnerUser => by_column!(value_of!("owner_user_id"), Option<String>),
        CountBy::OwnerUnit => {
            let mut groups = by_column!(value_of!("owner_unit_id"), Option<String>);
            let ids: Vec<&str> = groups.iter().filter_map(|g| g.key.as_deref()).collect();
            let names: std::collections::HashMap<String, String> = org_units::table
                .filter(org_units::id.eq_any(ids))
                .select((org_units::id, org_units::name))
                .load::<(String, String)>(conn)?
                .into_iter()
                .collect();
            for g in &mut groups {
                g.name = g.key.as_ref().and_then(|k| names.get(k).cloned());
            }
            groups
        }
        CountBy::Region | CountBy::Province => {
            // The name a region's files carry (the catalogue's full name
            // when they were filed; the latest in order if it changed).
            let rows: Vec<(Option<String>, Option<String>, i64)> = grouped!(
                value_of!("region_code"),
                (
                    value_of!("region_code"),
                    diesel::dsl::max(customers::region_name),
                    diesel::dsl::count_star(),
                )
            )
            .load(conn)?;
            let regions =
                rows.into_iter()
                    .map(|(key, name, count)| CountGroup { key, name, count });
            if by == CountBy::Region {
                regions.collect()
            } else {
                let mut provinces: Vec<CountGroup> = Vec::new();
                for r in regions {
                    let key = r.key.as_ref().and_then(|k| k.get(..2)).map(str::to_owned);
                    match provinces.iter_mut().find(|p| p.key == key) {
                        Some(p) => p.count += r.count,
                        None => provinces.push(CountGroup {
                            name: r
                                .key
                                .as_deref()
                                .and_then(clientele_customers::province_of)
                                .map(str::to_owned),
                            key,
                            count: r.count,
                        }),
                    }
                }
                provinces
            }
        }
    };
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    Ok(groups)
}

/// Inserted with every column bound, an empty one as NULL: diesel keeps
/// such an insert prepared, while with `DEFAULT` for empty columns its SQL
/// would vary and PostgreSQL would parse and plan it every time.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = customer_changes, treat_none_as_default_value = false)]
pub struct ChangeRow {
    pub id: String,
    pub customer_id: String,
    pub at: Timestamp,
    pub actor_id: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub request_id: Option<String>,
}

/// The history of a file, newest first.
pub fn history(
    conn: &mut DbConn,
    customer_id: &str,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<ChangeRow>> {
    history_of(conn, customer_id, HistoryOf::default(), limit, after)
}

/// Which changes of a file's history: of one kind of entity (`customer`,
/// `contact`, `document`, `relation`), of one entity.
#[derive(Debug, Default, Clone, Copy)]
pub struct HistoryOf<'a> {
    pub entity: Option<&'a str>,
    pub entity_id: Option<&'a str>,
}

/// The history of a file narrowed to some of its entities, newest first.
pub fn history_of(
    conn: &mut DbConn,
    customer_id: &str,
    of: HistoryOf<'_>,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<ChangeRow>> {
    let mut q = customer_changes::table
        .filter(customer_changes::customer_id.eq(customer_id))
        .into_boxed();
    if let Some(e) = of.entity {
        q = q.filter(customer_changes::entity.eq(e.to_owned()));
    }
    if let Some(e) = of.entity_id {
        q = q.filter(customer_changes::entity_id.eq(e.to_owned()));
    }
    if let Some(c) = after {
        q = q.filter(customer_changes::id.lt(c.id.clone()));
    }
    let rows = q
        .order(customer_changes::id.desc())
        .limit(i64::from(limit) + 1)
        .select(ChangeRow::as_select())
        .load(conn)?;
    Ok(Page::by_id(rows, limit, |r| &r.id))
}

pub fn change(conn: &mut DbConn, customer_id: &str, change_id: &str) -> Result<ChangeRow> {
    Ok(customer_changes::table
        .filter(customer_changes::customer_id.eq(customer_id))
        .filter(customer_changes::id.eq(change_id))
        .select(ChangeRow::as_select())
        .first(conn)?)
}

/// Moves everything the absorbed file holds to the survivor and leaves the
/// absorbed file archived, pointing at it (CUS-01, CUS-05).
/// Locks the rows of these files until the transaction ends, in id order
/// (so two writes over the same files queue, never deadlock), before they
/// are read: a write that judges several files (a merge) then acts on what
/// the other committed, not on what it read before. PostgreSQL only; on
/// SQLite the writer's turn already runs writes one at a time.
///
/// The lock is the one an update takes (`FOR NO KEY UPDATE`): it queues
/// writers of the file, but not writes that only refer to it — a history
/// entry or a relation naming it checks its key under a lock `FOR UPDATE`
/// would wait for. A merge writes the history of the files its absorbed
/// file was related to, and waiting there for a write holding such a file
/// while holding its own two made deadlocks. No write changes a file's id
/// or deletes a file (CUS-05), so nothing needs the stronger lock.
pub fn lock_files(conn: &mut DbConn, ids: &[&str]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    if let DbConn::Pg(c) = conn {
        // One statement; its rows are locked in the order it reads them.
        diesel::sql_query(
            "SELECT id FROM customers WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        )
        .bind::<diesel::sql_types::Array<Text>, _>(ids)
        .execute(c)?;
    }
    Ok(())
}

/// The files merged into `id` (CUS-01: absorbed files point at their
/// survivor), which a merge of `id` points at its own survivor.
fn merged_into(conn: &mut DbConn, id: &str) -> Result<Vec<String>> {
    Ok(customers::table
        .filter(customers::merged_into_id.eq(id))
        .select(customers::id)
        .load(conn)?)
}

/// Locks every file a merge of `absorbed_id` into `survivor_id` changes, as
/// [`lock_files`] does, in one statement: the two files and those merged
/// into the absorbed one before, which the merge points at the survivor.
/// Those are found by reading, before the lock; if a merge into the
/// absorbed file committed while this one waited for its lock, the locks
/// are undone (a savepoint) and taken again with the newcomer, so that no
/// file is ever locked out of order — a late lock of one file while
/// holding others deadlocked with an import holding it (PostgreSQL only).
pub fn lock_merge(conn: &mut DbConn, survivor_id: &str, absorbed_id: &str) -> Result<()> {
    if !matches!(conn, DbConn::Pg(_)) {
        return Ok(());
    }
    let mut earlier = merged_into(conn, absorbed_id)?;
    loop {
        let mut files: Vec<&str> = earlier.iter().map(String::as_str).collect();
        files.extend([survivor_id, absorbed_id]);
        let mut newcomers = None;
        let locked = crate::savepoint(conn, |c| {
            lock_files(c, &files)?;
            let now = merged_into(c, absorbed_id)?;
            if now.iter().all(|id| earlier.contains(id)) {
                return Ok(());
            }
            newcomers = Some(now);
            Err(Error::StaleVersion)
        });
        match (locked, newcomers) {
            (Ok(()), _) => return Ok(()),
            (Err(_), Some(now)) => earlier = now,
            (Err(e), None) => return Err(e),
        }
    }
}

/// The survivor takes over the identifiers it lacks (`taken`): cleared on
/// the absorbed file first, as they are unique among all files.
pub fn merge(
    conn: &mut DbConn,
    meta: &WriteMeta,
    survivor_id: &str,
    absorbed: &CustomerView,
    taken: clientele_customers::merge::TakenOver,
) -> Result<CustomerView> {
    use crate::customer_parts;
    use crate::schema::{customer_contacts, customer_documents, customer_relations};
    // One primary contact a file: the survivor's stays primary.
    if customer_parts::has_primary(conn, survivor_id)? {
        customer_parts::demote_primaries(conn, meta, &absorbed.row.id, None, None)?;
    }
    let moved_contacts = diesel::update(
        customer_contacts::table.filter(customer_contacts::customer_id.eq(&absorbed.row.id)),
    )
    .set(customer_contacts::customer_id.eq(survivor_id))
    .execute(conn)?;
    let moved_documents = diesel::update(
        customer_documents::table.filter(customer_documents::customer_id.eq(&absorbed.row.id)),
    )
    .set(customer_documents::customer_id.eq(survivor_id))
    .execute(conn)?;
    // Relations follow the survivor. One between the two files ends, and
    // so does one the survivor already has with the same file and of the
    // same kind (each ending an entry in the history).
    let pairs: Vec<(String, String, String, String)> = customer_relations::table
        .filter(
            customer_relations::from_id
                .eq(&absorbed.row.id)
                .or(customer_relations::to_id.eq(&absorbed.row.id)),
        )
        .filter(customer_relations::active.eq(true))
        .order(customer_relations::id)
        .select((
            customer_relations::id,
            customer_relations::from_id,
            customer_relations::to_id,
            customer_relations::kind,
        ))
        .load(conn)?;
    let group_links = pairs.iter().any(|(_, _, _, kind)| kind == "parent_of");
    if group_links {
        customer_parts::lock_group_tree(conn)?;
    }
    let mut moved_relations = 0;
    for (rid, from, to, kind) in &pairs {
        let (f, t) = if *from == absorbed.row.id {
            (survivor_id, to.as_str())
        } else {
            (from.as_str(), survivor_id)
        };
        // A group link the other way round is no duplicate: the cycle
        // check below refuses it.
        if f == t || customer_parts::related(conn, f, t, kind, kind != "parent_of")? {
            customer_parts::end_relation(conn, meta, &absorbed.row.id, rid)?;
            continue;
        }
        diesel::update(customer_relations::table.find(rid))
            .set((
                customer_relations::from_id.eq(f),
                customer_relations::to_id.eq(t),
            ))
            .execute(conn)?;
        moved_relations += 1;
    }
    // The absorbed file's group links must not make the survivor its own
    // ancestor.
    if group_links {
        customer_parts::check_no_cycle_through(conn, survivor_id)?;
    }
    // The history goes along too; the survivor's own entries say where it came from.
    let moved_history = diesel::update(
        customer_changes::table.filter(customer_changes::customer_id.eq(&absorbed.row.id)),
    )
    .set(customer_changes::customer_id.eq(survivor_id))
    .execute(conn)?;
    let mut gone = absorbed.row.clone();
    gone.status = "archived".into();
    gone.merged_into_id = Some(survivor_id.to_owned());
    if taken.credit_code {
        gone.credit_code = None;
    }
    if taken.external_id {
        gone.external_id = None;
    }
    let absorbed_tags = absorbed.tags.clone();
    save(
        conn,
        meta,
        absorbed.row.version,
        gone,
        Some(absorbed_tags),
        "merged",
    )?;
    // Files merged into the absorbed one before now point at the survivor,
    // so one hop from any absorbed file reaches the living one. Each is a
    // change of its own (history, audit, a `customer.merged` event naming
    // its new survivor).
    let earlier: Vec<CustomerRow> = customers::table
        .filter(customers::merged_into_id.eq(&absorbed.row.id))
        .order(customers::id)
        .select(CustomerRow::as_select())
        .load(conn)?;
    // Locked by the caller with the merged pair ([`lock_merge`]).
    let repointed = earlier.len();
    for row in earlier {
        let version = row.version;
        let mut moved = row;
        moved.merged_into_id = Some(survivor_id.to_owned());
        save(conn, meta, version, moved, None, "merged")?;
    }
    if taken.credit_code || taken.external_id {
        let kept = get(conn, survivor_id)?;
        let version = kept.row.version;
        let mut row = kept.row;
        if taken.credit_code {
            row.credit_code.clone_from(&absorbed.row.credit_code);
        }
        if taken.external_id {
            row.external_id.clone_from(&absorbed.row.external_id);
        }
        save(conn, meta, version, row, None, "updated")?;
    }
    let survivor = get(conn, survivor_id)?;
    record_changes(
        conn,
        meta,
        survivor_id,
        &[FieldChange {
            entity: "customer",
            entity_id: survivor_id.to_owned(),
            field: "merged_from".into(),
            old: None,
            new: Some(serde_json::json!({
                "customer_id": absorbed.row.id,
                "code": absorbed.row.code,
                "contacts": moved_contacts,
                "documents": moved_documents,
                "relations": moved_relations,
                "history_entries": moved_history,
                "earlier_absorbed": repointed,
            })),
        }],
    )?;
    audit::record(
        conn,
        meta,
        Change {
            action: "absorbed",
            entity_type: "customer",
            entity_id: survivor_id,
            before: None,
            after: Some(serde_json::json!({"absorbed_id": absorbed.row.id})),
        },
    )?;
    Ok(survivor)
}

/// Inserts many files at once, for bulk loads and benchmarks: multi-row
/// INSERTs on the inner connection, no history or audit entries.
pub fn bulk_insert(conn: &mut DbConn, rows: &[CustomerRow]) -> Result<usize> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        n += match conn {
            DbConn::Sqlite(c) => diesel::insert_into(customers::table)
                .values(chunk)
                .execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(customers::table)
                .values(chunk)
                .execute(c)?,
        };
    }
    Ok(n)
}
