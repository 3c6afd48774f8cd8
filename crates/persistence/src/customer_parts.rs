//! What a file holds besides its own fields: contacts (CUS-02), relations to
//! other files (CUS-06) and document records. Every change lands in the
//! file's history.

use crate::audit::{self, Change, WriteMeta};
use crate::changed_files::ChangedFiles;
use crate::customers::{diff, record_changes, FieldChange};
use crate::error::{Error, Result};
use crate::schema::{customer_contacts, customer_documents, customer_relations, customers};
use crate::{DbConn, Timestamp};
use clientele_core::Cursor;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

const BOOKKEEPING: [&str; 4] = ["version", "updated_at", "created_at", "customer_id"];

fn touch(conn: &mut DbConn, customer_id: &str, at: Timestamp) -> Result<()> {
    diesel::update(customers::table.find(customer_id))
        .set(customers::updated_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// One change to a part of a file, as the history and the audit log see it.
struct PartChange<'a, T> {
    customer_id: &'a str,
    entity: &'static str,
    entity_id: &'a str,
    before: Option<&'a T>,
    after: Option<&'a T>,
    action: &'a str,
}

fn recorded<T: Serialize>(
    conn: &mut DbConn,
    meta: &WriteMeta,
    ch: PartChange<'_, T>,
) -> Result<()> {
    recorded_into(conn, meta, ch, None)
}

/// [`recorded`], the history, audit entry and event written now, or
/// gathered into `gather` for the caller to write with others (an
/// import's, at its end: [`ChangedFiles`]).
fn recorded_into<T: Serialize>(
    conn: &mut DbConn,
    meta: &WriteMeta,
    ch: PartChange<'_, T>,
    gather: Option<&mut ChangedFiles>,
) -> Result<()> {
    let PartChange {
        customer_id,
        entity,
        entity_id,
        before,
        after,
        action,
    } = ch;
    let b = before
        .and_then(|b| serde_json::to_value(b).ok())
        .unwrap_or_default();
    let a = after
        .and_then(|a| serde_json::to_value(a).ok())
        .unwrap_or_default();
    let changes = if before.is_none() {
        vec![FieldChange {
            entity,
            entity_id: entity_id.to_owned(),
            field: "*".into(),
            old: None,
            new: Some(a.clone()),
        }]
    } else {
        diff(entity, entity_id, &b, &a, &BOOKKEEPING)
    };
    let change = Change {
        action,
        entity_type: entity,
        entity_id,
        before: before.map(|_| b),
        after: Some(a),
    };
    match gather {
        Some(records) => {
            records.touch(customer_id, meta.at);
            records.add_changes(meta, customer_id, &changes);
            let (entry, event) = audit::entries(meta, &change);
            records.add_audit(entry, event);
            Ok(())
        }
        None => {
            touch(conn, customer_id, meta.at)?;
            record_changes(conn, meta, customer_id, &changes)?;
            audit::record(conn, meta, change)
        }
    }
}

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize, Deserialize,
)]
#[diesel(table_name = customer_contacts, treat_none_as_null = true)]
pub struct ContactRow {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub is_primary: bool,
    pub note: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The id an ERP keeps the contact by.
    pub external_id: Option<String>,
}

/// The keys a contact is looked up by (`clientele_customers::reach`),
/// stored beside its number and address.
type ReachKeys = (
    diesel::dsl::Eq<customer_contacts::phone_key, Option<String>>,
    diesel::dsl::Eq<customer_contacts::mobile_key, Option<String>>,
    diesel::dsl::Eq<customer_contacts::email_key, Option<String>>,
);

pub(crate) fn reach_keys(
    phone: Option<&str>,
    mobile: Option<&str>,
    email: Option<&str>,
) -> ReachKeys {
    let (phone, mobile, email) = reach_key_values(phone, mobile, email);
    (
        customer_contacts::phone_key.eq(phone),
        customer_contacts::mobile_key.eq(mobile),
        customer_contacts::email_key.eq(email),
    )
}

/// The keys of a contact's phone, mobile and email.
pub(crate) fn reach_key_values(
    phone: Option<&str>,
    mobile: Option<&str>,
    email: Option<&str>,
) -> (Option<String>, Option<String>, Option<String>) {
    use clientele_customers::reach::{email_key, number_key};
    (
        phone.map(number_key),
        mobile.map(number_key),
        email.map(email_key),
    )
}

fn keys_of(row: &ContactRow) -> ReachKeys {
    reach_keys(
        row.phone.as_deref(),
        row.mobile.as_deref(),
        row.email.as_deref(),
    )
}

/// Where a page of a file's parts starts (after the row a cursor names)
/// and how many rows it reads.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub after: Option<&'a Cursor>,
    pub take: i64,
}

/// A contact's place in a file's list, primary first: the key of its
/// cursor.
pub fn contact_cursor(row: &ContactRow) -> Cursor {
    Cursor {
        key: if row.is_primary { "0" } else { "1" }.to_owned(),
        id: row.id.clone(),
    }
}

/// The contacts of a file, primary first, then by id, from `window`.
pub fn contacts(
    conn: &mut DbConn,
    customer_id: &str,
    include_inactive: bool,
    reach: Option<&clientele_customers::Reach>,
    external_id: Option<&str>,
    window: Window<'_>,
) -> Result<Vec<ContactRow>> {
    use clientele_customers::Reach;
    let mut q = customer_contacts::table
        .filter(customer_contacts::customer_id.eq(customer_id))
        .into_boxed();
    match window.after {
        Some(c) if c.key == "0" => {
            q = q.filter(
                customer_contacts::is_primary
                    .eq(true)
                    .and(customer_contacts::id.gt(c.id.clone()))
                    .or(customer_contacts::is_primary.eq(false)),
            );
        }
        Some(c) => {
            q = q.filter(customer_contacts::is_primary.eq(false));
            q = q.filter(customer_contacts::id.gt(c.id.clone()));
        }
        None => {}
    }
    if let Some(e) = external_id {
        q = q.filter(customer_contacts::external_id.eq(e.to_owned()));
    }
    if !include_inactive {
        q = q.filter(customer_contacts::active.eq(true));
    }
    match reach {
        Some(Reach::Number(k)) => {
            q = q.filter(
                customer_contacts::phone_key
                    .eq(k.clone())
                    .or(customer_contacts::mobile_key.eq(k.clone())),
            );
        }
        Some(Reach::Email(k)) => q = q.filter(customer_contacts::email_key.eq(k.clone())),
        None => {}
    }
    Ok(
        q.order((customer_contacts::is_primary.desc(), customer_contacts::id))
            .limit(window.take)
            .select(ContactRow::as_select())
            .load(conn)?,
    )
}

/// The primary contact of each of these files that has one, by file.
pub fn primary_contacts(
    conn: &mut DbConn,
    customer_ids: &[String],
) -> Result<std::collections::HashMap<String, ContactRow>> {
    let mut out = std::collections::HashMap::new();
    for chunk in customer_ids.chunks(1_000) {
        let rows: Vec<ContactRow> = customer_contacts::table
            .filter(customer_contacts::customer_id.eq_any(chunk))
            .filter(customer_contacts::is_primary.eq(true))
            .filter(customer_contacts::active.eq(true))
            .select(ContactRow::as_select())
            .load(conn)?;
        out.extend(rows.into_iter().map(|r| (r.customer_id.clone(), r)));
    }
    Ok(out)
}

pub fn contact(conn: &mut DbConn, customer_id: &str, id: &str) -> Result<ContactRow> {
    Ok(customer_contacts::table
        .filter(customer_contacts::customer_id.eq(customer_id))
        .filter(customer_contacts::id.eq(id))
        .select(ContactRow::as_select())
        .first(conn)?)
}

/// Every contact of these files, removed ones too, by file: what a
/// contacts import matches its rows against. One query per thousand files.
pub fn contacts_of_files(
    conn: &mut DbConn,
    customer_ids: &[&str],
) -> Result<std::collections::HashMap<String, Vec<ContactRow>>> {
    let mut out: std::collections::HashMap<String, Vec<ContactRow>> =
        std::collections::HashMap::new();
    for chunk in customer_ids.chunks(1_000) {
        let rows: Vec<ContactRow> = customer_contacts::table
            .filter(customer_contacts::customer_id.eq_any(chunk))
            .order((customer_contacts::customer_id, customer_contacts::id))
            .select(ContactRow::as_select())
            .load(conn)?;
        for row in rows {
            out.entry(row.customer_id.clone()).or_default().push(row);
        }
    }
    Ok(out)
}

/// Has the rest of a transaction that writes `rows` contacts planned for
/// the contacts as they are, on PostgreSQL ([`crate::customers::plan_for_many`]
/// for contacts): an archive's first import of contacts adds thousands to
/// a table the statistics last saw (nearly) empty, and the plans kept for
/// that read every contact for each row (10 000 contacts took 27–67 s).
pub fn plan_for_many_contacts(conn: &mut DbConn, rows: usize) -> Result<()> {
    crate::customers::plan_for_rows(conn, "customer_contacts", rows)
}

/// After a write committed `added` contacts: PostgreSQL's statistics of
/// the contacts brought up to date when they count fewer than ten times as
/// many ([`crate::customers::count_for_planner`] for contacts).
pub fn count_contacts_for_planner(conn: &mut DbConn, added: usize) -> Result<bool> {
    crate::customers::recount(
        conn,
        "customer_contacts",
        "ANALYZE customer_contacts",
        added,
    )
}

/// Refuses an ERP id another active contact of the file holds already
/// (`except`: the contact being changed): within a file it names one
/// contact, or a contacts import could not tell which it means. `known`:
/// the file's contacts as the caller holds them, else they are asked for.
pub fn check_contact_external_id(
    conn: &mut DbConn,
    customer_id: &str,
    external_id: Option<&str>,
    except: &str,
    known: Option<&[ContactRow]>,
) -> Result<()> {
    let Some(external_id) = external_id else {
        return Ok(());
    };
    let holder: Option<String> = match known {
        Some(all) => all
            .iter()
            .find(|k| k.active && k.id != except && k.external_id.as_deref() == Some(external_id))
            .map(|k| k.id.clone()),
        None => customer_contacts::table
            .filter(customer_contacts::customer_id.eq(customer_id))
            .filter(customer_contacts::external_id.eq(external_id))
            .filter(customer_contacts::active.eq(true))
            .filter(customer_contacts::id.ne(except))
            .select(customer_contacts::id)
            .first(conn)
            .optional()?,
    };
    match holder {
        Some(id) => Err(Error::conflict(
            "duplicate_external_id",
            format!("contact {id} of this file has ERP id {external_id:?}"),
        )
        .on("external_id")),
        None => Ok(()),
    }
}

/// What a caller that holds a file's contacts passes to a write of one
/// (an import): the file's contacts as written so far, so that nothing is
/// read again; the records the writes gather, written at its end
/// ([`recorded_into`]); and, if given, where the writes wait to be made
/// together ([`Unwritten`]).
pub struct Held<'a> {
    pub siblings: &'a [ContactRow],
    pub records: &'a mut ChangedFiles,
    pub unwritten: Option<&'a mut Unwritten>,
}

/// [`Held`] taken apart, or nothing held.
type HeldParts<'a> = (
    Option<&'a [ContactRow]>,
    Option<&'a mut ChangedFiles>,
    Option<&'a mut Unwritten>,
);

impl<'a> Held<'a> {
    fn split(held: Option<Held<'a>>) -> HeldParts<'a> {
        match held {
            Some(h) => (Some(h.siblings), Some(h.records), h.unwritten),
            None => (None, None, None),
        }
    }
}

/// Contact writes held back to be made together, many a statement on
/// PostgreSQL, where a round trip a contact was most of an import's time:
/// new contacts, and changed ones (each from the version before its own).
/// The holder makes them ([`Unwritten::write`]) before anything reads the
/// file's contacts from the database; a demotion of primaries does too.
#[derive(Debug, Default)]
pub struct Unwritten {
    new: Vec<ContactRow>,
    changed: Vec<ContactRow>,
}

/// Rows a statement of [`Unwritten::write`], at most: 17 parameters a new
/// contact, far below PostgreSQL's 65 535.
const ROWS_A_STATEMENT: usize = 500;

impl Unwritten {
    /// Forgets the writes held (their rows were rolled back).
    pub fn clear(&mut self) {
        self.new.clear();
        self.changed.clear();
    }

    /// Makes the writes held; a changed contact no longer at the version it
    /// was changed from fails them all (`StaleVersion`).
    pub fn write(&mut self, conn: &mut DbConn) -> Result<()> {
        insert_contacts(conn, &self.new)?;
        update_contacts(conn, &self.changed)?;
        self.clear();
        Ok(())
    }
}

fn insert_contacts(conn: &mut DbConn, rows: &[ContactRow]) -> Result<()> {
    match conn {
        DbConn::Pg(pg) => {
            for part in rows.chunks(ROWS_A_STATEMENT) {
                let values: Vec<_> = part.iter().map(|r| (r, keys_of(r))).collect();
                diesel::insert_into(customer_contacts::table)
                    .values(values)
                    .execute(pg)?;
            }
        }
        DbConn::Sqlite(_) => {
            for r in rows {
                diesel::insert_into(customer_contacts::table)
                    .values((r, keys_of(r)))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Writes each contact as it is to be, from the version before its own.
fn update_contacts(conn: &mut DbConn, rows: &[ContactRow]) -> Result<()> {
    if let DbConn::Pg(pg) = conn {
        for part in rows.chunks(ROWS_A_STATEMENT) {
            let values: Vec<serde_json::Value> = part
                .iter()
                .map(|r| {
                    let (phone_key, mobile_key, email_key) = reach_key_values(
                        r.phone.as_deref(),
                        r.mobile.as_deref(),
                        r.email.as_deref(),
                    );
                    serde_json::json!([
                        r.id,
                        r.version,
                        r.name,
                        r.title,
                        r.phone,
                        r.mobile,
                        r.email,
                        r.is_primary,
                        r.note,
                        r.active,
                        r.updated_at,
                        r.external_id,
                        phone_key,
                        mobile_key,
                        email_key,
                    ])
                })
                .collect();
            // Every column a change can set; `id`, `customer_id` and
            // `created_at` never change.
            let n = diesel::sql_query(
                "UPDATE customer_contacts AS c SET name = v ->> 2, title = v ->> 3, \
                 phone = v ->> 4, mobile = v ->> 5, email = v ->> 6, \
                 is_primary = (v ->> 7)::boolean, note = v ->> 8, \
                 active = (v ->> 9)::boolean, version = (v ->> 1)::bigint, \
                 updated_at = (v ->> 10)::timestamp, external_id = v ->> 11, \
                 phone_key = v ->> 12, mobile_key = v ->> 13, email_key = v ->> 14 \
                 FROM jsonb_array_elements($1::jsonb) AS e(v) \
                 WHERE c.id = v ->> 0 AND c.version = (v ->> 1)::bigint - 1",
            )
            .bind::<diesel::sql_types::Text, _>(serde_json::Value::from(values).to_string())
            .execute(pg)?;
            if n != part.len() {
                return Err(Error::StaleVersion);
            }
        }
        return Ok(());
    }
    for r in rows {
        let n = diesel::update(
            customer_contacts::table
                .filter(customer_contacts::id.eq(&r.id))
                .filter(customer_contacts::version.eq(r.version - 1)),
        )
        .set((r, keys_of(r)))
        .execute(conn)?;
        if n == 0 {
            return Err(Error::StaleVersion);
        }
    }
    Ok(())
}

/// Whether writing `row` demotes another primary contact of its file, as
/// far as `siblings` (the file's contacts) tell.
pub fn demotes_others(row: &ContactRow, siblings: &[ContactRow]) -> bool {
    row.is_primary && siblings.iter().any(|k| k.is_primary && k.id != row.id)
}

/// One primary contact per file: making one primary demotes the others.
/// `siblings`: the file's contacts as the caller holds them; when none of
/// them is another primary, nothing is asked for.
fn demote_others(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: &ContactRow,
    held: &mut HeldParts<'_>,
) -> Result<()> {
    let (siblings, gather, unwritten) = held;
    let asked = siblings.is_none_or(|s| demotes_others(row, s));
    if row.is_primary && asked {
        // The primaries are read from the database: what waits goes first.
        if let Some(waiting) = unwritten.as_deref_mut() {
            waiting.write(conn)?;
        }
        demote_primaries(
            conn,
            meta,
            &row.customer_id,
            Some(&row.id),
            gather.as_deref_mut(),
        )?;
    }
    Ok(())
}

/// Makes every primary contact of a file but `keep` an ordinary one, each
/// a change of its own: a new version (so an old `ETag` no longer matches),
/// an entry in the history and the audit log (CUS-04).
pub(crate) fn demote_primaries(
    conn: &mut DbConn,
    meta: &WriteMeta,
    customer_id: &str,
    keep: Option<&str>,
    mut gather: Option<&mut ChangedFiles>,
) -> Result<usize> {
    let primaries: Vec<ContactRow> = customer_contacts::table
        .filter(customer_contacts::customer_id.eq(customer_id))
        .filter(customer_contacts::is_primary.eq(true))
        .filter(customer_contacts::id.ne(keep.unwrap_or_default()))
        .order(customer_contacts::id)
        .select(ContactRow::as_select())
        .load(conn)?;
    for before in &primaries {
        let after = ContactRow {
            is_primary: false,
            version: before.version + 1,
            updated_at: meta.at,
            ..before.clone()
        };
        diesel::update(customer_contacts::table.find(&after.id))
            .set(&after)
            .execute(conn)?;
        recorded_into(
            conn,
            meta,
            PartChange {
                customer_id,
                entity: "contact",
                entity_id: &after.id,
                before: Some(before),
                after: Some(&after),
                action: "updated",
            },
            gather.as_deref_mut(),
        )?;
    }
    Ok(primaries.len())
}

/// Whether a file has an active primary contact.
pub(crate) fn has_primary(conn: &mut DbConn, customer_id: &str) -> Result<bool> {
    let n: i64 = customer_contacts::table
        .filter(customer_contacts::customer_id.eq(customer_id))
        .filter(customer_contacts::is_primary.eq(true))
        .filter(customer_contacts::active.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Adds a contact; `held`: what a caller holding the file's contacts
/// knows of them, and where the records go if not written now.
pub fn add_contact(
    conn: &mut DbConn,
    meta: &WriteMeta,
    row: ContactRow,
    held: Option<Held<'_>>,
) -> Result<ContactRow> {
    let mut held = Held::split(held);
    demote_others(conn, meta, &row, &mut held)?;
    let (_, gather, unwritten) = held;
    match unwritten {
        Some(later) => later.new.push(row.clone()),
        None => insert_contacts(conn, std::slice::from_ref(&row))?,
    }
    recorded_into(
        conn,
        meta,
        PartChange {
            customer_id: &row.customer_id,
            entity: "contact",
            entity_id: &row.id,
            before: None,
            after: Some(&row),
            action: "created",
        },
        gather,
    )?;
    Ok(row)
}

/// Changes a contact from `expected_version`; `held` as for
/// [`add_contact`] (the contact as it stands is taken from it).
pub fn save_contact(
    conn: &mut DbConn,
    meta: &WriteMeta,
    expected_version: i64,
    mut after: ContactRow,
    held: Option<Held<'_>>,
) -> Result<ContactRow> {
    let mut held = Held::split(held);
    let before = match held.0.and_then(|s| s.iter().find(|k| k.id == after.id)) {
        Some(known) => known.clone(),
        None => contact(conn, &after.customer_id, &after.id)?,
    };
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    // Nothing changed: no new version, history, audit entry or event.
    if after == before {
        return Ok(before);
    }
    after.version = expected_version + 1;
    after.updated_at = meta.at;
    after.created_at = before.created_at;
    demote_others(conn, meta, &after, &mut held)?;
    let (_, gather, unwritten) = held;
    match unwritten {
        Some(later) => later.changed.push(after.clone()),
        None => update_contacts(conn, std::slice::from_ref(&after))?,
    }
    let action = if before.active && !after.active {
        "removed"
    } else {
        "updated"
    };
    recorded_into(
        conn,
        meta,
        PartChange {
            customer_id: &after.customer_id,
            entity: "contact",
            entity_id: &after.id,
            before: Some(&before),
            after: Some(&after),
            action,
        },
        gather,
    )?;
    Ok(after)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = customer_relations)]
pub struct RelationRow {
    pub id: String,
    pub from_id: String,
    pub to_id: String,
    pub kind: String,
    pub note: Option<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// Relations touching a file, from either side.
/// The active relations of a file, either side, by id, from `window`.
pub fn relations(
    conn: &mut DbConn,
    customer_id: &str,
    window: Window<'_>,
) -> Result<Vec<RelationRow>> {
    let mut q = customer_relations::table
        .filter(
            customer_relations::from_id
                .eq(customer_id)
                .or(customer_relations::to_id.eq(customer_id)),
        )
        .filter(customer_relations::active.eq(true))
        .into_boxed();
    if let Some(c) = window.after {
        q = q.filter(customer_relations::id.gt(c.id.clone()));
    }
    Ok(q.order(customer_relations::id)
        .limit(window.take)
        .select(RelationRow::as_select())
        .load(conn)?)
}

/// One active relation of a file, either side.
pub fn relation(conn: &mut DbConn, customer_id: &str, id: &str) -> Result<RelationRow> {
    Ok(customer_relations::table
        .filter(customer_relations::id.eq(id))
        .filter(
            customer_relations::from_id
                .eq(customer_id)
                .or(customer_relations::to_id.eq(customer_id)),
        )
        .filter(customer_relations::active.eq(true))
        .select(RelationRow::as_select())
        .first(conn)?)
}

/// The files that are active `parent_of` parents of this one.
pub fn parents_of(conn: &mut DbConn, id: &str) -> Result<Vec<String>> {
    Ok(customer_relations::table
        .filter(customer_relations::to_id.eq(id))
        .filter(customer_relations::kind.eq("parent_of"))
        .filter(customer_relations::active.eq(true))
        .select(customer_relations::from_id)
        .load(conn)?)
}

/// Two new group links can close a cycle between files neither write
/// locks: on PostgreSQL, group links are made one at a time (a
/// transaction-scoped advisory lock; SQLite's writer's turn already does so).
pub(crate) fn lock_group_tree(conn: &mut DbConn) -> Result<()> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('clientele.group_tree'))")
            .execute(c)?;
    }
    Ok(())
}

/// Refuses a group tree in which `id` has become its own ancestor (after
/// links were moved onto it by a merge). Call under `lock_group_tree`.
pub(crate) fn check_no_cycle_through(conn: &mut DbConn, id: &str) -> Result<()> {
    for parent in parents_of(conn, id)? {
        if let Err(e) =
            clientele_customers::relations::check_parent(&parent, id, |f| parents_of(conn, f))?
        {
            return Err(Error::conflict(
                e.code,
                "the merge would make a company its own parent in the group: end one of the group links first",
            ));
        }
    }
    Ok(())
}

/// Whether an active relation of `kind` leads from `a` to `b` (or, with
/// `either_way`, from `b` to `a`).
pub(crate) fn related(
    conn: &mut DbConn,
    a: &str,
    b: &str,
    kind: &str,
    either_way: bool,
) -> Result<bool> {
    let mut q = customer_relations::table
        .filter(customer_relations::active.eq(true))
        .filter(customer_relations::kind.eq(kind))
        .into_boxed();
    q = if either_way {
        q.filter(
            customer_relations::from_id
                .eq(a)
                .and(customer_relations::to_id.eq(b))
                .or(customer_relations::from_id
                    .eq(b)
                    .and(customer_relations::to_id.eq(a))),
        )
    } else {
        q.filter(customer_relations::from_id.eq(a))
            .filter(customer_relations::to_id.eq(b))
    };
    let n: i64 = q.count().get_result(conn)?;
    Ok(n > 0)
}

pub fn add_relation(conn: &mut DbConn, meta: &WriteMeta, row: RelationRow) -> Result<RelationRow> {
    if related(conn, &row.from_id, &row.to_id, &row.kind, true)? {
        return Err(Error::conflict(
            "relation_exists",
            "these files are already related this way",
        ));
    }
    // A group tree has no cycles (CUS-06).
    if row.kind == "parent_of" {
        lock_group_tree(conn)?;
        clientele_customers::relations::check_parent(&row.from_id, &row.to_id, |f| {
            parents_of(conn, f)
        })?
        .map_err(|e| Error::on_field("customer_id", e))?;
    }
    diesel::insert_into(customer_relations::table)
        .values(&row)
        .execute(conn)?;
    recorded(
        conn,
        meta,
        PartChange {
            customer_id: &row.from_id,
            entity: "relation",
            entity_id: &row.id,
            before: None,
            after: Some(&row),
            action: "created",
        },
    )?;
    record_changes(
        conn,
        meta,
        &row.to_id,
        &[FieldChange {
            entity: "relation",
            entity_id: row.id.clone(),
            field: "*".into(),
            old: None,
            new: serde_json::to_value(&row).ok(),
        }],
    )?;
    Ok(row)
}

pub fn end_relation(
    conn: &mut DbConn,
    meta: &WriteMeta,
    customer_id: &str,
    id: &str,
) -> Result<RelationRow> {
    let before = relation(conn, customer_id, id)?;
    diesel::update(customer_relations::table.find(id))
        .set(customer_relations::active.eq(false))
        .execute(conn)?;
    let mut after = before.clone();
    after.active = false;
    for side in [&before.from_id, &before.to_id] {
        record_changes(
            conn,
            meta,
            side,
            &[FieldChange {
                entity: "relation",
                entity_id: id.to_owned(),
                field: "active".into(),
                old: Some(serde_json::json!(true)),
                new: Some(serde_json::json!(false)),
            }],
        )?;
    }
    audit::record(
        conn,
        meta,
        Change {
            action: "ended",
            entity_type: "relation",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
    )?;
    Ok(after)
}

#[derive(
    Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Serialize, Deserialize,
)]
#[diesel(table_name = customer_documents, treat_none_as_null = true)]
pub struct DocumentRow {
    pub id: String,
    pub customer_id: String,
    pub category: String,
    pub title: String,
    pub reference_no: Option<String>,
    pub doc_date: Option<chrono::NaiveDate>,
    pub keeper_unit_id: Option<String>,
    pub location: Option<String>,
    pub external_url: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The document records of a file, by id, from `window`.
pub fn documents(
    conn: &mut DbConn,
    customer_id: &str,
    category: Option<&str>,
    window: Window<'_>,
) -> Result<Vec<DocumentRow>> {
    let mut q = customer_documents::table
        .filter(customer_documents::customer_id.eq(customer_id))
        .into_boxed();
    if let Some(c) = category {
        q = q.filter(customer_documents::category.eq(c.to_owned()));
    }
    if let Some(c) = window.after {
        q = q.filter(customer_documents::id.gt(c.id.clone()));
    }
    Ok(q.order(customer_documents::id)
        .limit(window.take)
        .select(DocumentRow::as_select())
        .load(conn)?)
}

pub fn document(conn: &mut DbConn, customer_id: &str, id: &str) -> Result<DocumentRow> {
    Ok(customer_documents::table
        .filter(customer_documents::customer_id.eq(customer_id))
        .filter(customer_documents::id.eq(id))
        .select(DocumentRow::as_select())
        .first(conn)?)
}

fn check_keeper(conn: &mut DbConn, row: &DocumentRow) -> Result<()> {
    if let Some(u) = &row.keeper_unit_id {
        if crate::units::get(conn, u).is_err() {
            return Err(
                Error::unprocessable("unit_not_found", "the keeper unit does not exist")
                    .on("keeper_unit_id"),
            );
        }
    }
    Ok(())
}

pub fn add_document(conn: &mut DbConn, meta: &WriteMeta, row: DocumentRow) -> Result<DocumentRow> {
    check_keeper(conn, &row)?;
    diesel::insert_into(customer_documents::table)
        .values(&row)
        .execute(conn)?;
    recorded(
        conn,
        meta,
        PartChange {
            customer_id: &row.customer_id,
            entity: "document",
            entity_id: &row.id,
            before: None,
            after: Some(&row),
            action: "created",
        },
    )?;
    Ok(row)
}

pub fn save_document(
    conn: &mut DbConn,
    meta: &WriteMeta,
    expected_version: i64,
    mut after: DocumentRow,
) -> Result<DocumentRow> {
    let before = document(conn, &after.customer_id, &after.id)?;
    if before.version != expected_version {
        return Err(Error::StaleVersion);
    }
    if after == before {
        return Ok(before);
    }
    check_keeper(conn, &after)?;
    after.version = expected_version + 1;
    after.updated_at = meta.at;
    after.created_at = before.created_at;
    let n = diesel::update(
        customer_documents::table
            .filter(customer_documents::id.eq(&after.id))
            .filter(customer_documents::version.eq(expected_version)),
    )
    .set(&after)
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    recorded(
        conn,
        meta,
        PartChange {
            customer_id: &after.customer_id,
            entity: "document",
            entity_id: &after.id,
            before: Some(&before),
            after: Some(&after),
            action: "updated",
        },
    )?;
    Ok(after)
}
