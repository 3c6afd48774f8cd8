//! Contacts exchanged with ERP and finance systems (CUS-02, CUS-08, issue
//! 3 §8). Export: the contacts of a filtered list of files, as CSV or
//! NDJSON, registered as an export of each file. Import: a CSV of
//! contacts, each row naming its file (by the file's ERP id, code or id)
//! and its contact (by its id, its ERP id, else its name); a dry run that
//! reports every bad row and field, and a commit that is all-or-nothing.
//! The export's CSV imports as it is.

use crate::csv;
use crate::dto::customers::Contact;
use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx, ValidQuery};
use crate::routes::contact_fields::{write_contact, ContactFields};
use crate::routes::csv_import::{
    conclude, count_for_planner, header_refused, in_one_transaction, read_upload, ImportError,
    ImportQuery, ImportReport, ImportWarning, Tally,
};
use crate::routes::customer_exchange::{
    export_answer, may_export, ndjson, ExportFormat, ExportFormatQuery,
};
use crate::routes::customer_files::{
    judge_for_change, registered_page, scope_of, see_for_change, ClassQuery, CustomerQuery,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use clientele_core::{Cursor, Principal};
use clientele_customers::contacts::{match_row, yes_no, Known, RowMatch};
use clientele_persistence::changed_files::{ChangedFiles, Mark};
use clientele_persistence::customer_parts::{self, ContactRow, Held, Unwritten};
use clientele_persistence::{customers, DbConn, Error as DbError, WriteMeta};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// The columns naming a row's file: one at least, each given naming the
/// same file.
const FILE_COLUMNS: [&str; 3] = ["customer_external_id", "customer_code", "customer_id"];

/// The contact's own columns; `name` is required. `contact_id` names the
/// contact exactly (as the export writes it), and `version` says which
/// version of it the row was exported from: a row about a contact that
/// changed since is refused, so a round trip undoes no change made
/// meanwhile. `active` false removes the contact the row names (an empty
/// cell keeps it).
const CONTACT_COLUMNS: [&str; 11] = [
    "contact_id",
    "version",
    "contact_external_id",
    "name",
    "title",
    "phone",
    "mobile",
    "email",
    "is_primary",
    "note",
    "active",
];

const MAX_ROWS: usize = 10_000;

/// A row as read: its file as named, the contact's ERP id, and the fields
/// it sets (a column left out keeps its field; an empty cell clears it).
#[derive(Debug, Clone, Default)]
struct Line {
    line: usize,
    /// `(column, value)` of each file column with a value.
    file_refs: Vec<(&'static str, String)>,
    /// The contact by its id (`contact_id`).
    contact_id: Option<String>,
    /// The version of the contact the row was exported from (`version`).
    version: Option<i64>,
    /// The row removes its contact (`active` false).
    remove: bool,
    fields: ContactFields,
}

impl Line {
    /// The ERP id the row names the contact by, if it gives one.
    fn external_id(&self) -> Option<&str> {
        self.fields.external_id.as_ref().and_then(Option::as_deref)
    }
}

fn fault(line: usize, field: &str, code: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        row: line,
        field: field.to_owned(),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// The header checked, and every row read on its own; the rows with faults
/// of their own are left out of the rows returned.
fn parse(records: &[Vec<String>]) -> Result<(Vec<Line>, Vec<ImportError>), ApiError> {
    let Some((header, data)) = records.split_first() else {
        return Err(ApiError::unprocessable(
            "empty_import",
            "the CSV has no header row",
        ));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let known = || FILE_COLUMNS.iter().chain(&CONTACT_COLUMNS);
    let mut errors = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if !known().any(|c| c == h) {
            let all: Vec<&str> = known().copied().collect();
            errors.push(fault(
                0,
                h,
                "unknown_column",
                format!("unknown column {h:?}; known: {}", all.join(", ")),
            ));
        } else if header[..i].contains(h) {
            errors.push(fault(
                0,
                h,
                "duplicate_column",
                format!("the {h} column is given twice"),
            ));
        }
    }
    if !header.iter().any(|h| h == "name") {
        errors.push(fault(
            0,
            "name",
            "missing_column",
            "the name column is required",
        ));
    }
    if !header.iter().any(|h| FILE_COLUMNS.contains(&h.as_str())) {
        errors.push(fault(
            0,
            FILE_COLUMNS[0],
            "missing_column",
            format!("one of the columns {} is required", FILE_COLUMNS.join(", ")),
        ));
    }
    if !errors.is_empty() {
        return Ok((Vec::new(), errors));
    }
    if data.len() > MAX_ROWS {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!("at most {MAX_ROWS} rows per import"),
        ));
    }
    let mut lines = Vec::with_capacity(data.len());
    for (i, rec) in data.iter().enumerate() {
        let line = i + 1;
        if rec.len() != header.len() {
            errors.push(fault(
                line,
                "",
                "wrong_field_count",
                format!("{} fields, the header has {}", rec.len(), header.len()),
            ));
            continue;
        }
        let before = errors.len();
        let mut row = Line {
            line,
            ..Line::default()
        };
        for (h, raw) in header.iter().zip(rec) {
            let v = csv::plain(raw.trim()).trim();
            if v.contains('\0') {
                errors.push(fault(
                    line,
                    h,
                    "invalid_format",
                    "NUL characters are not allowed",
                ));
                continue;
            }
            if let Some(column) = FILE_COLUMNS.iter().find(|c| *c == h) {
                if let Err(e) = file_ref(column, v) {
                    errors.push(fault(line, h, e.0, e.1));
                } else if !v.is_empty() {
                    row.file_refs.push((column, v.to_owned()));
                }
                continue;
            }
            match h.as_str() {
                "contact_id" if !v.is_empty() => match v.parse::<uuid::Uuid>() {
                    Ok(id) => row.contact_id = Some(id.to_string()),
                    Err(_) => errors.push(fault(
                        line,
                        h,
                        "invalid_uuid",
                        format!("{v:?} is not a contact's id"),
                    )),
                },
                "version" if !v.is_empty() => match v.parse::<i64>() {
                    Ok(n) if n >= 1 => row.version = Some(n),
                    _ => errors.push(fault(
                        line,
                        h,
                        "invalid_value",
                        "version is a whole number from 1, as exported",
                    )),
                },
                "active" if !v.is_empty() => match yes_no(v) {
                    Ok(active) => row.remove = !active,
                    Err(e) => errors.push(fault(line, h, e.code, e.message)),
                },
                "contact_id" | "version" | "active" => {}
                _ => match cell(h, v) {
                    Ok(set) => merge(&mut row.fields, set),
                    Err(e) => {
                        let f = e.errors.first();
                        errors.push(fault(
                            line,
                            h,
                            f.map_or(e.code, |f| f.code.as_str()),
                            f.map_or(e.detail.clone(), |f| f.message.clone()),
                        ));
                    }
                },
            }
        }
        if row.file_refs.is_empty() {
            let column = header
                .iter()
                .find(|h| FILE_COLUMNS.contains(&h.as_str()))
                .map_or(FILE_COLUMNS[0], String::as_str);
            errors.push(fault(
                line,
                column,
                "required",
                "name the row's file by its ERP id, code or id",
            ));
        }
        if errors.len() == before {
            lines.push(row);
        }
    }
    Ok((lines, errors))
}

/// A file column's cell: an id must read as one; the others have at most
/// 64 characters.
fn file_ref(column: &str, v: &str) -> Result<(), (&'static str, String)> {
    if column == "customer_id" && !v.is_empty() && v.parse::<uuid::Uuid>().is_err() {
        return Err(("invalid_uuid", format!("{v:?} is not a file's id")));
    }
    if v.chars().count() > 64 {
        return Err((
            "invalid_length",
            format!("{column} is at most 64 characters"),
        ));
    }
    Ok(())
}

/// One contact cell, checked by the rules of the API's fields.
fn cell(column: &str, v: &str) -> Result<ContactFields, ApiError> {
    let text = || Some((!v.is_empty()).then(|| v.to_owned()));
    let mut set = ContactFields::default();
    match column {
        "name" => set.name = Some(v.to_owned()),
        "contact_external_id" => set.external_id = text(),
        "title" => set.title = text(),
        "phone" => set.phone = text(),
        "mobile" => set.mobile = text(),
        "email" => set.email = text(),
        "note" => set.note = text(),
        "is_primary" => {
            set.is_primary =
                Some(yes_no(v).map_err(|e| ApiError::field("is_primary", e.code, e.message))?)
        }
        _ => {}
    }
    set.checked()
}

/// `set`'s fields given onto `into`.
fn merge(into: &mut ContactFields, set: ContactFields) {
    macro_rules! take {
        ($($f:ident),*) => {$( if set.$f.is_some() { into.$f = set.$f; } )*};
    }
    take!(
        name,
        title,
        phone,
        mobile,
        email,
        is_primary,
        note,
        external_id
    );
}

/// A refusal of a row for what it names, on the column that names it.
fn refused(field: &'static str, code: &'static str, message: impl Into<String>) -> DbError {
    DbError::Invalid {
        field,
        code,
        message: message.into(),
    }
}

/// The file a row names: every file column given must name the same one.
fn file_of(
    row: &Line,
    by_external_id: &HashMap<String, String>,
    by_code: &HashMap<String, String>,
) -> Result<String, DbError> {
    let mut found: Option<(&'static str, &String)> = None;
    for (column, value) in &row.file_refs {
        let id = match *column {
            "customer_external_id" => by_external_id.get(value),
            "customer_code" => by_code.get(value),
            _ => Some(value),
        };
        let Some(id) = id else {
            return Err(refused(
                column,
                "customer_not_found",
                format!("no file has {column} {value:?}"),
            ));
        };
        match found {
            Some((first, other)) if other != id => {
                return Err(refused(
                    column,
                    "customer_mismatch",
                    format!("{column} names another file than {first}"),
                ))
            }
            _ => found = Some((column, id)),
        }
    }
    found
        .map(|(_, id)| id.clone())
        .ok_or_else(|| refused("customer_external_id", "required", "no file named"))
}

/// Rows run at once on PostgreSQL, in one savepoint, before the next.
const ROWS_AT_ONCE: usize = 100;

/// Runs every row in the caller's transaction. A refused row leaves nothing
/// behind and the rows after it are still tried, so one dry run names
/// every bad row. On SQLite each row runs in a savepoint of its own (in
/// process, free); on PostgreSQL [`ROWS_AT_ONCE`] rows at a time share one,
/// and if one of them is refused they run again, each in its own: most
/// imports have no bad row, and two statements a row were a fifth of its
/// round trips. Their contact writes are made together at the end of the
/// run (or before the file's contacts are read again).
fn run(c: &mut DbConn, p: &Principal, meta: &WriteMeta, rows: &[Line]) -> Result<Tally, DbError> {
    let refs = |column: &str| -> Vec<&str> {
        rows.iter()
            .flat_map(|r| &r.file_refs)
            .filter(|(c, _)| *c == column)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    customer_parts::plan_for_many_contacts(c, rows.len())?;
    let by_external_id = customers::ids_by_external_id(c, &refs("customer_external_id"))?;
    let by_code = customers::ids_by_code(c, &refs("customer_code"))?;
    let files: Vec<Result<String, DbError>> = rows
        .iter()
        .map(|r| file_of(r, &by_external_id, &by_code))
        .collect();
    // Every file is locked before any is read, in id order, as every write
    // of several files locks them: contact writes of a file queue behind
    // the import, and the import behind them.
    let mut ids: Vec<String> = files.iter().flatten().cloned().collect();
    ids.sort_unstable();
    ids.dedup();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    customers::lock_files(c, &id_refs)?;
    // Only files the caller may change; one out of sight is not there.
    let mut open = HashSet::new();
    for view in customers::get_many(c, &id_refs)? {
        let id = view.row.id.clone();
        match judge_for_change(c, p, view, meta.at) {
            Ok(_) => {
                open.insert(id);
            }
            Err(e) if e.is_refusal() => {}
            Err(e) => return Err(e),
        }
    }
    let open_ids: Vec<&str> = open.iter().map(String::as_str).collect();
    let mut state = State {
        contacts: customer_parts::contacts_of_files(c, &open_ids)?,
        ..State::default()
    };
    let mut jobs = Vec::with_capacity(rows.len());
    for (row, file) in rows.iter().zip(files) {
        let judged = file.and_then(|file| {
            if !open.contains(&file) {
                // Judged again for its own refusal, on the row's file column.
                let column = row.file_refs.first().map_or(FILE_COLUMNS[0], |r| r.0);
                see_for_change(c, p, &file, meta.at).map_err(|e| match e {
                    DbError::NotFound => refused(
                        column,
                        "customer_not_found",
                        "no file you may change has this id",
                    ),
                    other => other.on(column),
                })?;
            }
            Ok(file)
        });
        match judged {
            Ok(file) => jobs.push((row, file)),
            Err(e) if e.is_refusal() => state.done.failed.push((row.line, e)),
            Err(e) => return Err(e),
        }
    }
    if matches!(c, DbConn::Sqlite(_)) {
        run_rows(c, meta, &jobs, &mut state, true)?;
    } else {
        for run in jobs.chunks(ROWS_AT_ONCE) {
            let saved = state.save(run);
            let at_once = clientele_persistence::savepoint(c, |c| {
                run_rows(c, meta, run, &mut state, false)?;
                state.unwritten.write(c)
            });
            match at_once {
                Ok(()) => {}
                Err(e) if e.is_refusal() => {
                    state.restore(saved);
                    run_rows(c, meta, run, &mut state, true)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    state.done.warnings = reaching_other_files(c, p, &state.touched, &state.contacts)?;
    state.records.write(c)?;
    Ok(state.done)
}

/// The rows whose contact, added or given another number or address and
/// active, is reached by a number or address another file's active
/// contact in sight holds: the two files are likely one customer's
/// (CUS-01), or a group's companies sharing a switchboard.
fn reaching_other_files(
    c: &mut DbConn,
    p: &Principal,
    touched: &[(usize, String, String)],
    contacts: &HashMap<String, Vec<ContactRow>>,
) -> Result<Vec<ImportWarning>, DbError> {
    let written: Vec<(usize, &ContactRow)> = touched
        .iter()
        .filter_map(|(line, file, id)| {
            let contact = contacts.get(file)?.iter().find(|k| k.id == *id)?;
            contact.active.then_some((*line, contact))
        })
        .collect();
    let contacts: Vec<&ContactRow> = written.iter().map(|(_, k)| *k).collect();
    let reached = customers::files_reached_by_contacts(c, &scope_of(p), &contacts)?;
    let mut warnings: Vec<ImportWarning> = written
        .into_iter()
        .filter_map(|(line, k)| {
            let (field, files) = reached.get(&k.id)?;
            Some(ImportWarning {
                row: line,
                field: (*field).to_owned(),
                code: "likely_duplicate".into(),
                message: match files.len() {
                    1 => format!("{field} reaches a contact of another file too"),
                    n if n > customers::SHOWN => format!(
                        "{field} reaches contacts of more than {} other files too",
                        customers::SHOWN
                    ),
                    n => format!("{field} reaches contacts of {n} other files too"),
                },
                customer_ids: files
                    .iter()
                    .take(customers::SHOWN)
                    .map(|f| f.parse().unwrap_or_default())
                    .collect(),
                rows: Vec::new(),
            })
        })
        .collect();
    warnings.sort_by_key(|w| w.row);
    Ok(warnings)
}

/// What the rows so far have left: each file's contacts as written, the
/// contacts written, the files a row made a contact primary of, and what
/// the rows did.
#[derive(Default)]
struct State {
    contacts: HashMap<String, Vec<ContactRow>>,
    claims: Claims,
    /// The history, audit entries and events of the rows written, written
    /// at the end together (many a statement on PostgreSQL).
    records: ChangedFiles,
    /// The contact writes of a run of rows, made together at its end.
    unwritten: Unwritten,
    done: Tally,
    /// The contacts that rows added, or gave another number or address:
    /// (line, file, contact id).
    touched: Vec<(usize, String, String)>,
}

/// What the rows so far claimed: the contacts they wrote and the files they
/// made a contact primary of (a later row may claim neither again), in the
/// order claimed, so that the claims of rows rolled back are undone
/// without copying the rest.
#[derive(Default)]
struct Claims {
    written: HashSet<String>,
    primary: HashSet<String>,
    /// Each claim as made: `true` for a file made primary.
    made: Vec<(bool, String)>,
}

impl Claims {
    fn write(&mut self, contact: &str) {
        if self.written.insert(contact.to_owned()) {
            self.made.push((false, contact.to_owned()));
        }
    }

    fn make_primary(&mut self, file: &str) {
        if self.primary.insert(file.to_owned()) {
            self.made.push((true, file.to_owned()));
        }
    }

    /// Forgets the claims made after the first `kept`.
    fn undo_to(&mut self, kept: usize) {
        for (primary, key) in self.made.drain(kept..) {
            if primary {
                self.primary.remove(&key);
            } else {
                self.written.remove(&key);
            }
        }
    }
}

/// [`State`] as it was before a run of rows: what a rollback of them undoes.
struct Saved {
    contacts: Vec<(String, Vec<ContactRow>)>,
    claims: usize,
    touched: usize,
    records: Mark,
    counts: (usize, usize, usize),
}

impl State {
    fn save(&self, run: &[(&Line, String)]) -> Saved {
        let mut files: Vec<&String> = run.iter().map(|(_, f)| f).collect();
        files.sort_unstable();
        files.dedup();
        Saved {
            contacts: files
                .into_iter()
                .map(|f| (f.clone(), self.contacts.get(f).cloned().unwrap_or_default()))
                .collect(),
            claims: self.claims.made.len(),
            touched: self.touched.len(),
            records: self.records.mark(),
            counts: (self.done.created, self.done.updated, self.done.unchanged),
        }
    }

    fn restore(&mut self, saved: Saved) {
        self.unwritten.clear();
        self.contacts.extend(saved.contacts);
        self.claims.undo_to(saved.claims);
        self.touched.truncate(saved.touched);
        self.records.forget_since(saved.records);
        (self.done.created, self.done.updated, self.done.unchanged) = saved.counts;
    }
}

/// Runs `jobs` (rows and their files); with `row_by_row`, each in a
/// savepoint of its own and a refusal recorded, else the first refusal ends
/// the run.
fn run_rows(
    c: &mut DbConn,
    meta: &WriteMeta,
    jobs: &[(&Line, String)],
    state: &mut State,
    row_by_row: bool,
) -> Result<(), DbError> {
    for (row, file) in jobs {
        let mark = state.records.mark();
        let mut cx = RowContext {
            file,
            contacts: state.contacts.entry(file.clone()).or_default(),
            claims: &mut state.claims,
            records: &mut state.records,
            unwritten: (!row_by_row).then_some(&mut state.unwritten),
        };
        let outcome = if row_by_row {
            clientele_persistence::savepoint(c, |c| import_row(c, meta, row, &mut cx))
        } else {
            import_row(c, meta, row, &mut cx)
        };
        match outcome {
            Ok(Outcome::Created(id)) => {
                state.done.created += 1;
                state.touched.push((row.line, file.clone(), id));
            }
            Ok(Outcome::Updated(reach)) => {
                state.done.updated += 1;
                if let Some(id) = reach {
                    state.touched.push((row.line, file.clone(), id));
                }
            }
            Ok(Outcome::Unchanged) => state.done.unchanged += 1,
            Err(e) if row_by_row && e.is_refusal() => {
                // Its savepoint rolled back what it wrote: its records go too.
                state.records.forget_since(mark);
                state.done.failed.push((row.line, e));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What a row did: a contact added, by its id; one changed, by its id
/// when its number or address changed.
enum Outcome {
    Created(String),
    Updated(Option<String>),
    Unchanged,
}

/// What one row weighs itself against: its file's contacts as the import
/// has left them, and what earlier rows of the import claimed.
struct RowContext<'a> {
    file: &'a str,
    contacts: &'a mut Vec<ContactRow>,
    claims: &'a mut Claims,
    records: &'a mut ChangedFiles,
    /// Where contact writes wait to be made together, when rows run many
    /// to a savepoint.
    unwritten: Option<&'a mut Unwritten>,
}

fn import_row(
    c: &mut DbConn,
    meta: &WriteMeta,
    row: &Line,
    cx: &mut RowContext<'_>,
) -> Result<Outcome, DbError> {
    let name = row.fields.name.as_deref().unwrap_or_default();
    let known: Vec<Known<'_>> = cx
        .contacts
        .iter()
        .map(|k| Known {
            name: &k.name,
            external_id: k.external_id.as_deref(),
            active: k.active,
        })
        .collect();
    let by = if row.external_id().is_some() {
        "contact_external_id"
    } else {
        "name"
    };
    let found = match &row.contact_id {
        Some(id) => match cx.contacts.iter().position(|k| &k.id == id) {
            Some(i) if cx.contacts[i].active => RowMatch::Existing(i),
            Some(i) => RowMatch::Removed(i),
            None => {
                return Err(refused(
                    "contact_id",
                    "contact_not_found",
                    "the row's file has no contact of this id",
                ))
            }
        },
        None => match_row(&known, name, row.external_id()),
    };
    let by = if row.contact_id.is_some() {
        "contact_id"
    } else {
        by
    };
    if row.remove {
        return remove_row(c, meta, row, cx, found, by);
    }
    let primary = row.fields.is_primary == Some(true);
    if primary && cx.claims.primary.contains(cx.file) {
        return Err(refused(
            "is_primary",
            "several_primary",
            "an earlier row makes another contact of this file primary",
        ));
    }
    let (written, outcome) = match found {
        RowMatch::Ambiguous => {
            return Err(refused(
                by,
                "ambiguous_contact",
                format!(
                    "several contacts of the file could be {:?}; name it by contact_external_id",
                    row.external_id().unwrap_or(name)
                ),
            ))
        }
        RowMatch::Removed(i) => {
            return Err(refused(
                if by == "contact_id" {
                    "contact_id"
                } else {
                    "contact_external_id"
                },
                "contact_removed",
                format!(
                    "contact {} holding this ERP id was removed; an import does not bring it back \
                     (reverting its removal in the file's history does)",
                    cx.contacts[i].id
                ),
            ))
        }
        RowMatch::Existing(i) => {
            let before = cx.contacts[i].clone();
            if cx.claims.written.contains(&before.id) {
                return Err(duplicate_row(by));
            }
            if row.version.is_some_and(|v| v != before.version) {
                return Err(changed_since(before.version));
            }
            let mut after = before.clone();
            row.fields.clone().apply(&mut after);
            let held = Held {
                siblings: cx.contacts,
                records: cx.records,
                unwritten: cx.unwritten.as_deref_mut(),
            };
            let written = write_contact(c, meta, Some(before.version), after, Some(held))?;
            let outcome = if written == before {
                Outcome::Unchanged
            } else {
                let reached_anew = written.phone != before.phone
                    || written.mobile != before.mobile
                    || written.email != before.email;
                Outcome::Updated(reached_anew.then(|| written.id.clone()))
            };
            cx.contacts[i] = written.clone();
            (written, outcome)
        }
        RowMatch::New => {
            let new = row.fields.clone().new_contact(cx.file, meta.at);
            let held = Held {
                siblings: cx.contacts,
                records: cx.records,
                unwritten: cx.unwritten.as_deref_mut(),
            };
            let written = write_contact(c, meta, None, new, Some(held))?;
            cx.contacts.push(written.clone());
            let id = written.id.clone();
            (written, Outcome::Created(id))
        }
    };
    cx.claims.write(&written.id);
    if primary {
        cx.claims.make_primary(cx.file);
    }
    if customer_parts::demotes_others(&written, cx.contacts) {
        // Making one primary changed the others (a new version each): read
        // again, after the writes waiting are made.
        if let Some(waiting) = cx.unwritten.as_deref_mut() {
            waiting.write(c)?;
        }
        *cx.contacts = customer_parts::contacts_of_files(c, &[cx.file])?
            .remove(cx.file)
            .unwrap_or_default();
    }
    Ok(outcome)
}

/// A row that removes the contact it names, as `DELETE …/contacts/{id}`
/// does; its other cells are not written. A contact removed already is
/// unchanged, so an ERP may send a removal again.
fn remove_row(
    c: &mut DbConn,
    meta: &WriteMeta,
    row: &Line,
    cx: &mut RowContext<'_>,
    found: RowMatch,
    by: &'static str,
) -> Result<Outcome, DbError> {
    let i = match found {
        RowMatch::Existing(i) => i,
        RowMatch::Removed(_) => return Ok(Outcome::Unchanged),
        RowMatch::Ambiguous => {
            return Err(refused(
                by,
                "ambiguous_contact",
                "several contacts of the file could be the one to remove; name it by contact_external_id",
            ))
        }
        RowMatch::New => {
            return Err(refused(
                "active",
                "contact_not_found",
                "no contact of the file is the one this row removes",
            ))
        }
    };
    let before = cx.contacts[i].clone();
    if cx.claims.written.contains(&before.id) {
        return Err(duplicate_row(by));
    }
    if row.version.is_some_and(|v| v != before.version) {
        return Err(changed_since(before.version));
    }
    let after = ContactRow {
        active: false,
        is_primary: false,
        ..before.clone()
    };
    let held = Held {
        siblings: cx.contacts,
        records: cx.records,
        unwritten: cx.unwritten.as_deref_mut(),
    };
    let written = write_contact(c, meta, Some(before.version), after, Some(held))?;
    cx.claims.write(&written.id);
    cx.contacts[i] = written;
    Ok(Outcome::Updated(None))
}

fn changed_since(now: i64) -> DbError {
    refused(
        "version",
        "changed_since_export",
        format!(
            "the contact changed since this row was exported (now version {now}); export it again"
        ),
    )
}

fn duplicate_row(by: &'static str) -> DbError {
    refused(
        by,
        "duplicate_row",
        "an earlier row of this import names the same contact",
    )
}

/// Import contacts from CSV (`Content-Type: text/csv`). Each row names its
/// file by `customer_external_id`, `customer_code` or `customer_id` (each
/// given must name the same file, one the caller may change), and its
/// contact by `contact_id` (as the contacts' export writes it), or by
/// `contact_external_id` — the active contact holding that ERP id, else the
/// one active contact of the row's name without an ERP id, which takes it —
/// or, without either, by `name`. A row naming no contact adds one; one
/// that could mean several is refused (`ambiguous_contact`), as is an ERP
/// id only a removed contact holds (`contact_removed`), and a row whose
/// `version` is not its contact's (`changed_since_export`). Columns: those
/// and `title`, `phone`, `mobile`, `email`, `is_primary` (true/false, 1/0,
/// 是/否), `note`, `active` (false removes the contact, and counts as an
/// update; a removed one is unchanged); a column left out keeps its field,
/// an empty cell clears it. Each contact keeps a phone, a mobile or an email. With
/// `dry_run=true` (the default) every row is checked and nothing is
/// written; a commit writes all rows or none. A contact added, or given
/// another number or address, that reaches another file's contact is
/// written and named in the report's `warnings` (`likely_duplicate`,
/// CUS-01). At most 10 000 rows.
#[utoipa::path(post, path = "/api/v1/customers/contacts/import", tag = "customers", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "Header row, then one contact per row. UTF-8 (a byte-order mark is allowed), or GB 18030 / GBK as Excel saves it on Chinese Windows when the type says so: `text/csv; charset=gb18030`"),
    responses((status = 200, body = ImportReport)))]
pub async fn import_contacts(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<ImportQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let upload = read_upload(&st, &p, &req, payload).await?;
    let dry_run = q.dry_run.unwrap_or(true);
    let (rows, errors) = parse(&upload.records)?;
    if errors.iter().any(|e| e.row == 0) {
        return header_refused(&upload, dry_run, errors);
    }
    let meta = ctx.meta(&st, Some(&p));
    let faulty = !errors.is_empty();
    let db = st.db.clone();
    let outcome =
        web::block(move || in_one_transaction(&db, dry_run, faulty, |c| run(c, &p, &meta, &rows)))
            .await?;
    conclude(
        outcome,
        dry_run,
        &upload,
        errors,
        |f| match f {
            "external_id" => "contact_external_id".to_owned(),
            other => other.to_owned(),
        },
        |created| count_for_planner(&st, created, customer_parts::count_contacts_for_planner),
    )
}

/// One contact as an NDJSON line: as the API shows it, with its file's code
/// and ERP id.
#[derive(Serialize)]
struct ExportedContact {
    #[serde(flatten)]
    contact: Contact,
    customer_code: String,
    customer_external_id: Option<String>,
}

/// Export the active contacts of the files visible to the caller, filtered
/// like the list (up to 10 000 files an answer, primary contact first;
/// `X-Next-Cursor` continues), as CSV (columns `customer_external_id`,
/// `customer_code`, `customer_id`, `contact_id`, `version`,
/// `contact_external_id`, `name`, `title`, `phone`, `mobile`, `email`,
/// `is_primary`, `note`, `active`; it imports as it is: `active` set to
/// false removes a contact) or NDJSON (each contact as
/// the API shows it, with `customer_code` and `customer_external_id`). Every
/// file whose contacts are exported is registered as exported (CUS-08), and
/// only the admin, manager, auditor and integration roles export.
#[utoipa::path(get, path = "/api/v1/customers/contacts/export", tag = "customers", security(("bearer" = [])),
    params(CustomerQuery, ClassQuery, ExportFormatQuery),
    responses((status = 200, description = "The contacts, one per line", content(
        (String = "text/csv"),
        (String = "application/x-ndjson")
    ), headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when there is one")
    ))))]
pub async fn export_contacts(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<CustomerQuery>,
    c: ValidQuery<ClassQuery>,
    f: ValidQuery<ExportFormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    may_export(&p)?;
    let (format, limit, cursor) = f.parse()?;
    let meta = ctx.meta(&st, Some(&p));
    let detail = Some(match format {
        ExportFormat::Csv => "contacts csv".to_owned(),
        ExportFormat::Ndjson => "contacts ndjson".to_owned(),
    });
    let q = (&q.into_inner(), &c.into_inner());
    let page = registered_page(&st, p, meta, q, (limit, cursor), "export", (detail, None)).await?;
    let next = page.next.as_ref().map(Cursor::encode);
    let ids: Vec<String> = page.items.iter().map(|v| v.row.id.clone()).collect();
    let mut contacts = st
        .read(move |c| {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            customer_parts::contacts_of_files(c, &ids)
        })
        .await?;
    let mut lines = Vec::new();
    for file in &page.items {
        let mut of_file: Vec<ContactRow> = contacts
            .remove(&file.row.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|k| k.active)
            .collect();
        of_file.sort_by(|a, b| b.is_primary.cmp(&a.is_primary).then(a.id.cmp(&b.id)));
        lines.extend(of_file.into_iter().map(|k| (&file.row, k)));
    }
    let body = match format {
        ExportFormat::Csv => {
            let mut out = String::from("\u{feff}");
            // The import's columns, in its order: the file by its ERP id,
            // code and id, then the contact.
            out.push_str(&csv::line(FILE_COLUMNS.iter().chain(&CONTACT_COLUMNS)));
            for (file, k) in lines {
                let opt = |v: Option<String>| v.unwrap_or_default();
                out.push_str(&csv::line([
                    opt(file.external_id.clone()),
                    file.code.clone(),
                    file.id.clone(),
                    k.id,
                    k.version.to_string(),
                    opt(k.external_id),
                    k.name,
                    opt(k.title),
                    opt(k.phone),
                    opt(k.mobile),
                    opt(k.email),
                    k.is_primary.to_string(),
                    opt(k.note),
                    k.active.to_string(),
                ]));
            }
            out
        }
        ExportFormat::Ndjson => ndjson(lines.into_iter().map(|(file, k)| ExportedContact {
            contact: Contact::from(k),
            customer_code: file.code.clone(),
            customer_external_id: file.external_id.clone(),
        }))?,
    };
    Ok(export_answer("contacts", format, body, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect()
    }

    #[test]
    fn the_header_names_a_file_column_and_the_name() {
        let (_, errors) = parse(&records(&[&["title", "phone"]])).unwrap_or_default();
        let codes: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            [
                ("name", "missing_column"),
                ("customer_external_id", "missing_column")
            ]
        );
        let (_, errors) =
            parse(&records(&[&["customer_code", "name", "Name", "fax"]])).unwrap_or_default();
        let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, ["duplicate_column", "unknown_column"]);
    }

    #[test]
    fn every_bad_cell_of_a_row_is_named() {
        let (rows, errors) = parse(&records(&[
            &["customer_code", "name", "mobile", "email", "is_primary"],
            &["KH1", " 张伟 ", "+86 139 0108 6621", "", "是"],
            &["", "  ", "12", "not-an-address", "maybe"],
        ]))
        .unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].fields.name.as_deref(), Some("张伟"));
        assert_eq!(rows[0].fields.email, Some(None));
        assert_eq!(rows[0].fields.is_primary, Some(true));
        let named: Vec<(usize, &str, &str)> = errors
            .iter()
            .map(|e| (e.row, e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                (2, "name", "required"),
                (2, "mobile", "invalid_mobile"),
                (2, "email", "email"),
                (2, "is_primary", "invalid_boolean"),
                (2, "customer_code", "required"),
            ]
        );
    }
}
