//! The catalogue of administrative divisions (GB/T 2260), seeded by
//! migration 000017 and kept by administrators: what region codes files
//! may take, and the names shown for them.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::regions;
use crate::{DbConn, Timestamp};
use clientele_core::Cursor;
use clientele_customers::regions::{full_name, judge_use, CatalogueEntry};
use clientele_customers::{RegionCode, RegionLevel, RegionName};
use diesel::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = regions)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub active: bool,
    pub version: i64,
    pub updated_at: Timestamp,
}

/// A division with its full name (the names from its province down).
#[derive(Debug, Clone)]
pub struct RegionView {
    pub row: RegionRow,
    pub full_name: String,
}

/// Which divisions a list holds.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    /// Those directly below this division.
    pub parent: Option<String>,
    pub level: Option<RegionLevel>,
    /// A part of the division's own name.
    pub name_contains: Option<String>,
    /// Withdrawn divisions too.
    pub include_inactive: bool,
}

fn parsed(code: &str) -> Result<RegionCode> {
    RegionCode::parse(code).map_err(|e| Error::Corrupt(format!("region {code}: {e}")))
}

/// The divisions along the chains of `codes` (each code's own row
/// included), by code: one read.
fn chains(conn: &mut DbConn, codes: &[&str]) -> Result<HashMap<String, RegionRow>> {
    let mut above: Vec<String> = Vec::new();
    for code in codes {
        above.extend(parsed(code)?.chain());
    }
    above.sort();
    above.dedup();
    Ok(regions::table
        .filter(regions::code.eq_any(above))
        .select(RegionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.code.clone(), r))
        .collect())
}

/// A division with its full name, up the parent links (at most a
/// prefecture and a province) among `known`.
fn view(row: RegionRow, known: &HashMap<String, RegionRow>) -> RegionView {
    let mut names = vec![row.name.as_str()];
    let mut up = row.parent_code.as_deref();
    while let Some(parent) = up.and_then(|c| known.get(c)) {
        names.push(parent.name.as_str());
        up = parent.parent_code.as_deref();
    }
    names.reverse();
    let full_name = full_name(names);
    RegionView { row, full_name }
}

/// Full names of `rows`, from one read of the divisions above them.
fn views(conn: &mut DbConn, rows: Vec<RegionRow>) -> Result<Vec<RegionView>> {
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let known = chains(conn, &codes)?;
    Ok(rows.into_iter().map(|row| view(row, &known)).collect())
}

/// One division with its full name, read with its chain in one query.
fn find_view(conn: &mut DbConn, code: &str) -> Result<Option<RegionView>> {
    if RegionCode::parse(code).is_err() {
        return Ok(None);
    }
    let mut known = chains(conn, &[code])?;
    Ok(known.remove(code).map(|row| view(row, &known)))
}

fn find(conn: &mut DbConn, code: &str) -> Result<Option<RegionRow>> {
    Ok(regions::table
        .find(code)
        .select(RegionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn get(conn: &mut DbConn, code: &str) -> Result<RegionView> {
    find_view(conn, code)?.ok_or(Error::NotFound)
}

/// Divisions in code order.
pub fn list(
    conn: &mut DbConn,
    f: &RegionFilter,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<RegionView>> {
    let mut q = regions::table.into_boxed();
    if let Some(p) = &f.parent {
        q = q.filter(regions::parent_code.eq(p.clone()));
    }
    match f.level {
        Some(RegionLevel::Province) => q = q.filter(regions::code.like("__0000")),
        Some(RegionLevel::Prefecture) => {
            q = q.filter(
                regions::code
                    .like("____00")
                    .and(regions::code.not_like("__0000")),
            );
        }
        Some(RegionLevel::County) => q = q.filter(regions::code.not_like("____00")),
        None => {}
    }
    if let Some(part) = &f.name_contains {
        q = q.filter(
            regions::name
                .like(crate::sql_fns::contains_pattern(part))
                .escape('\\'),
        );
    }
    if !f.include_inactive {
        q = q.filter(regions::active.eq(true));
    }
    if let Some(c) = after {
        q = q.filter(regions::code.gt(c.key.clone()));
    }
    let rows = q
        .order(regions::code.asc())
        .limit(i64::from(limit) + 1)
        .select(RegionRow::as_select())
        .load(conn)?;
    let page = Page::from_overfetch(rows, limit, |r| Cursor::after_key(r.code.clone()));
    Ok(Page {
        items: views(conn, page.items)?,
        next: page.next,
    })
}

/// What the catalogue holds of a code a file is given, if anything.
pub fn entry(conn: &mut DbConn, code: &str) -> Result<Option<CatalogueEntry>> {
    Ok(find_view(conn, code)?.map(|v| CatalogueEntry {
        active: v.row.active,
        full_name: v.full_name,
    }))
}

/// The full name of `code`, if a file may take it now (listed and not
/// withdrawn); otherwise the field's fault.
pub fn for_file(conn: &mut DbConn, code: &str) -> Result<String> {
    let entry = entry(conn, code)?;
    judge(code, entry.as_ref())
}

/// [`for_file`] on an entry already read (an import reads each code once).
pub fn judge(code: &str, entry: Option<&CatalogueEntry>) -> Result<String> {
    judge_use(code, entry).map_err(|e| Error::on_field("region_code", e))
}

fn snapshot(row: &RegionRow) -> serde_json::Value {
    serde_json::to_value(row).unwrap_or(serde_json::Value::Null)
}

fn record(
    conn: &mut DbConn,
    meta: &WriteMeta,
    action: &str,
    before: Option<&RegionRow>,
    after: &RegionRow,
) -> Result<()> {
    audit::record(
        conn,
        meta,
        Change {
            action,
            entity_type: "region",
            entity_id: &after.code,
            before: before.map(snapshot),
            after: Some(snapshot(after)),
        },
    )
}

/// Adds a division (a new district, a renumbered one). It hangs from its
/// prefecture where the catalogue has one, else from its province; a new
/// prefecture takes over the counties of its code already listed under
/// the province.
pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    code: &RegionCode,
    name: &RegionName,
) -> Result<RegionView> {
    if find(conn, code.as_str())?.is_some() {
        return Err(Error::conflict(
            "duplicate",
            format!(
                "{} is in the catalogue already; change it instead",
                code.as_str()
            ),
        ));
    }
    let chain = code.chain();
    let prefecture_known = match (code.level(), chain.get(1)) {
        (RegionLevel::County, Some(p)) => find(conn, p)?.is_some(),
        _ => false,
    };
    let parent = code.parent(prefecture_known);
    if let Some(p) = &parent {
        match find(conn, p)? {
            Some(row) if row.active => {}
            Some(_) => {
                return Err(Error::Invalid {
                    field: "code",
                    code: "retired_parent",
                    message: format!("the division above, {p}, is withdrawn"),
                })
            }
            None => {
                return Err(Error::Invalid {
                    field: "code",
                    code: "unknown_parent",
                    message: format!("the division above, {p}, is not in the catalogue"),
                })
            }
        }
    }
    let row = RegionRow {
        code: code.as_str().to_owned(),
        name: name.as_str().to_owned(),
        parent_code: parent.clone(),
        active: true,
        version: 1,
        updated_at: meta.at,
    };
    diesel::insert_into(regions::table)
        .values(&row)
        .execute(conn)?;
    if let (RegionLevel::Prefecture, Some(province)) = (code.level(), parent) {
        let prefix = &code.as_str()[..4];
        diesel::update(
            regions::table
                .filter(regions::parent_code.eq(province))
                .filter(regions::code.like(format!("{prefix}__")))
                .filter(regions::code.ne(code.as_str())),
        )
        .set((
            regions::parent_code.eq(code.as_str()),
            regions::version.eq(regions::version + 1),
            regions::updated_at.eq(meta.at),
        ))
        .execute(conn)?;
    }
    record(conn, meta, "created", None, &row)?;
    get(conn, code.as_str())
}

/// Renames a division or withdraws it (`active: false`: files keep it,
/// new ones cannot take it) or brings it back. Files keep the name they
/// were given.
pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    code: &str,
    expected_version: i64,
    name: Option<&RegionName>,
    active: Option<bool>,
) -> Result<RegionView> {
    let before = find(conn, code)?.ok_or(Error::NotFound)?;
    let n = diesel::update(
        regions::table
            .filter(regions::code.eq(code))
            .filter(regions::version.eq(expected_version)),
    )
    .set((
        regions::name.eq(name.map_or(before.name.as_str(), RegionName::as_str)),
        regions::active.eq(active.unwrap_or(before.active)),
        regions::version.eq(expected_version + 1),
        regions::updated_at.eq(meta.at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    let after = find(conn, code)?.ok_or(Error::NotFound)?;
    record(conn, meta, "updated", Some(&before), &after)?;
    get(conn, code)
}
