//! The approval-authority table (ORG-02), edited by administrators.

use crate::audit::{self, Change, WriteMeta};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::schema::approval_rules;
use crate::{DbConn, Timestamp};
use clientele_core::{ApprovalRule, ApprovalSubject, Currency, Cursor, Money, Role, RuleId};
use diesel::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = approval_rules)]
pub struct RuleRow {
    pub id: String,
    pub subject: String,
    pub role: String,
    pub limit_minor: Option<i64>,
    pub currency: String,
    pub note: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl RuleRow {
    /// The domain form, for deciding.
    pub fn to_rule(&self) -> Result<ApprovalRule> {
        let corrupt = |e: clientele_core::ParseError| Error::Corrupt(e.to_string());
        let currency = Currency::parse(&self.currency).map_err(corrupt)?;
        Ok(ApprovalRule {
            id: self
                .id
                .parse::<RuleId>()
                .map_err(|e| Error::Corrupt(e.to_string()))?,
            subject: ApprovalSubject::parse(&self.subject).map_err(corrupt)?,
            role: Role::parse(&self.role).map_err(corrupt)?,
            limit: self.limit_minor.map(|m| Money { minor: m, currency }),
        })
    }

    fn snapshot(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<RuleRow> {
    Ok(approval_rules::table
        .find(id)
        .select(RuleRow::as_select())
        .first(conn)?)
}

/// Sorted by subject then id; optionally one subject only.
pub fn list(
    conn: &mut DbConn,
    subject: Option<&str>,
    limit: u32,
    after: Option<&Cursor>,
) -> Result<Page<RuleRow>> {
    let mut q = approval_rules::table.into_boxed();
    if let Some(s) = subject {
        q = q.filter(approval_rules::subject.eq(s.to_owned()));
    }
    if let Some(c) = after {
        q = q.filter(
            approval_rules::subject
                .gt(c.key.clone())
                .or(approval_rules::subject
                    .eq(c.key.clone())
                    .and(approval_rules::id.gt(c.id.clone()))),
        );
    }
    let rows = q
        .order((approval_rules::subject.asc(), approval_rules::id.asc()))
        .limit(i64::from(limit) + 1)
        .select(RuleRow::as_select())
        .load(conn)?;
    Ok(Page::from_overfetch(rows, limit, |r| Cursor {
        key: r.subject.clone(),
        id: r.id.clone(),
    }))
}

/// Every rule for one subject, for deciding.
pub fn for_subject(conn: &mut DbConn, subject: &ApprovalSubject) -> Result<Vec<ApprovalRule>> {
    let rows: Vec<RuleRow> = approval_rules::table
        .filter(approval_rules::subject.eq(subject.as_str()))
        .select(RuleRow::as_select())
        .load(conn)?;
    rows.iter().map(RuleRow::to_rule).collect()
}

pub fn create(
    conn: &mut DbConn,
    meta: &WriteMeta,
    rule: &ApprovalRule,
    note: Option<String>,
) -> Result<RuleRow> {
    let row = RuleRow {
        id: rule.id.to_string(),
        subject: rule.subject.as_str().to_owned(),
        role: rule.role.as_str().to_owned(),
        limit_minor: rule.limit.map(|m| m.minor),
        currency: rule
            .limit
            .map_or(Currency::CNY, |m| m.currency)
            .as_str()
            .to_owned(),
        note,
        version: 1,
        created_at: meta.at,
        updated_at: meta.at,
    };
    diesel::insert_into(approval_rules::table)
        .values(&row)
        .execute(conn)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "created",
            entity_type: "approval_rule",
            entity_id: &row.id,
            before: None,
            after: Some(row.snapshot()),
        },
    )?;
    Ok(row)
}

/// Replaces the limit and note of a rule.
pub fn update(
    conn: &mut DbConn,
    meta: &WriteMeta,
    id: &str,
    expected_version: i64,
    limit: Option<Money>,
    note: Option<String>,
) -> Result<RuleRow> {
    let before = get(conn, id)?;
    let n = diesel::update(
        approval_rules::table
            .filter(approval_rules::id.eq(id))
            .filter(approval_rules::version.eq(expected_version)),
    )
    .set((
        approval_rules::limit_minor.eq(limit.map(|m| m.minor)),
        approval_rules::currency.eq(limit.map_or(Currency::CNY, |m| m.currency).as_str()),
        approval_rules::note.eq(note),
        approval_rules::version.eq(expected_version + 1),
        approval_rules::updated_at.eq(meta.at),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    let after = get(conn, id)?;
    audit::record(
        conn,
        meta,
        Change {
            action: "updated",
            entity_type: "approval_rule",
            entity_id: id,
            before: Some(before.snapshot()),
            after: Some(after.snapshot()),
        },
    )?;
    Ok(after)
}

pub fn delete(conn: &mut DbConn, meta: &WriteMeta, id: &str, expected_version: i64) -> Result<()> {
    let before = get(conn, id)?;
    let n = diesel::delete(
        approval_rules::table
            .filter(approval_rules::id.eq(id))
            .filter(approval_rules::version.eq(expected_version)),
    )
    .execute(conn)?;
    if n == 0 {
        return Err(Error::StaleVersion);
    }
    audit::record(
        conn,
        meta,
        Change {
            action: "deleted",
            entity_type: "approval_rule",
            entity_id: id,
            before: Some(before.snapshot()),
            after: None,
        },
    )
}
