//! Forms of stored files that the application computes and SQL cannot:
//! the forms a name is stored in beside itself (`NameForms`), the folded
//! form of tags (`Tag::fold`) and of names themselves (`CustomerName`),
//! the keys a contact is looked up by (`clientele_customers::reach`).
//! When their rules change, a migration marks the files to redo and these
//! run right after the migrations.

use crate::audit::WriteMeta;
use crate::changed_files::ChangedFiles;
use crate::customers;
use crate::error::{Error, Result};
use crate::file_refs::CheckedRefs;
use crate::schema::{
    contacts_to_key, customer_contacts, customers as files, names_to_fold, tags_to_fold,
};
use crate::DbConn;
use clientele_core::{Clock, SystemClock};
use clientele_customers::{CustomerName, Tags};
use diesel::prelude::*;
use std::collections::HashMap;

/// Files whose name forms are filled per run of [`fill_name_keys`], at most.
const SORT_KEY_BATCH: i64 = 1_000;

/// Computes the stored forms of names that lack one (`NameForms`: files
/// from before a form existed, or whose forms a migration blanked because
/// their rules changed; none is ever empty once computed), a batch per
/// transaction; returns how many files were filled. A recomputed form is
/// no change to the file: no history, version or event.
pub fn fill_name_keys(db: &crate::Db) -> Result<usize> {
    use clientele_customers::NameForms;
    let mut filled = 0;
    let mut after = String::new();
    loop {
        let (n, last) = db.write(|c| {
            let rows: Vec<(String, String, String, String, String)> = files::table
                .filter(
                    files::name_sort
                        .eq("")
                        .or(files::name_mnemonic.eq(""))
                        .or(files::name_normalized.eq("")),
                )
                .filter(files::id.gt(&after))
                .select((
                    files::id,
                    files::name,
                    files::name_folded,
                    files::name_sort,
                    files::name_mnemonic,
                ))
                .order(files::id)
                .limit(SORT_KEY_BATCH)
                .load(c)?;
            if let DbConn::Pg(pg) = c {
                // One statement a batch: a round trip a file made 100 000
                // files take 107 s.
                let forms: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(id, name, ..)| {
                        let f = NameForms::of(name);
                        serde_json::json!([id, f.normalised, f.folded, f.sort_key, f.mnemonic])
                    })
                    .collect();
                diesel::sql_query(
                    "UPDATE customers AS c SET name_normalized = v ->> 1, name_folded = v ->> 2, \
                     name_sort = v ->> 3, name_mnemonic = v ->> 4 \
                     FROM jsonb_array_elements($1::jsonb) AS e(v) WHERE c.id = v ->> 0",
                )
                .bind::<diesel::sql_types::Text, _>(serde_json::Value::from(forms).to_string())
                .execute(pg)?;
                return Ok((rows.len(), rows.last().map(|r| r.0.clone())));
            }
            for (id, name, folded, sort, mnemonic) in &rows {
                let forms = NameForms::of(name);
                let file = files::table.find(id);
                // The search forms are indexed by triggers that rewrite the
                // file's search rows: left alone when unchanged.
                if (&forms.folded, &forms.sort_key, &forms.mnemonic) == (folded, sort, mnemonic) {
                    diesel::update(file)
                        .set(files::name_normalized.eq(forms.normalised))
                        .execute(c)?;
                } else {
                    diesel::update(file)
                        .set((
                            files::name_normalized.eq(forms.normalised),
                            files::name_folded.eq(forms.folded),
                            files::name_sort.eq(forms.sort_key),
                            files::name_mnemonic.eq(forms.mnemonic),
                        ))
                        .execute(c)?;
                }
            }
            Ok((rows.len(), rows.last().map(|r| r.0.clone())))
        })?;
        filled += n;
        match last {
            Some(id) if i64::try_from(n).unwrap_or(0) == SORT_KEY_BATCH => after = id,
            _ => return Ok(filled),
        }
    }
}

/// Contacts keyed per transaction by [`key_contacts`].
const CONTACT_KEY_BATCH: i64 = 1_000;

/// Stores the keys of the numbers and addresses of the contacts a
/// migration listed in `contacts_to_key` (those from before the keys),
/// a batch per transaction, and takes them off the list; returns how many
/// were keyed. A key is no change to the contact: no history or version.
pub fn key_contacts(db: &crate::Db) -> Result<usize> {
    let mut keyed = 0;
    loop {
        let n = db.write(|c| {
            type Listed = (String, Option<String>, Option<String>, Option<String>);
            let rows: Vec<Listed> = contacts_to_key::table
                .inner_join(
                    customer_contacts::table
                        .on(customer_contacts::id.eq(contacts_to_key::contact_id)),
                )
                .select((
                    customer_contacts::id,
                    customer_contacts::phone,
                    customer_contacts::mobile,
                    customer_contacts::email,
                ))
                .order(contacts_to_key::contact_id)
                .limit(CONTACT_KEY_BATCH)
                .load(c)?;
            for (id, phone, mobile, email) in &rows {
                diesel::update(customer_contacts::table.find(id))
                    .set(crate::customer_parts::reach_keys(
                        phone.as_deref(),
                        mobile.as_deref(),
                        email.as_deref(),
                    ))
                    .execute(c)?;
            }
            // Up to the last one keyed, or all of them after the last
            // batch: a listed id without its contact leaves the list too.
            let full = i64::try_from(rows.len()).unwrap_or(0) == CONTACT_KEY_BATCH;
            match rows.last() {
                Some((last, ..)) if full => diesel::delete(
                    contacts_to_key::table.filter(contacts_to_key::contact_id.le(last)),
                )
                .execute(c)?,
                _ => diesel::delete(contacts_to_key::table).execute(c)?,
            };
            Ok(rows.len())
        })?;
        keyed += n;
        if i64::try_from(n).unwrap_or(0) < CONTACT_KEY_BATCH {
            return Ok(keyed);
        }
    }
}

/// Files refolded per transaction by [`fold_stored_tags`] and
/// [`fold_stored_names`].
const REFOLD_BATCH: i64 = 500;

/// What today's rule makes of a listed file's stored value.
enum Refold {
    Tags(Vec<String>),
    Name(CustomerName),
}

/// [`refold_listed`] over the list table `$list` (a `customer_id` per
/// file), reading each listed file's `$column`.
macro_rules! refold_list {
    ($db:expr, $list:ident, $column:expr, $refold:expr) => {
        refold_listed(
            $db,
            |c| {
                Ok($list::table
                    .inner_join(files::table.on(files::id.eq($list::customer_id)))
                    .select(($list::customer_id, $column))
                    .order($list::customer_id)
                    .limit(REFOLD_BATCH)
                    .load(c)?)
            },
            $refold,
            |c, ids| {
                Ok(
                    diesel::delete($list::table.filter($list::customer_id.eq_any(ids)))
                        .execute(c)?,
                )
            },
        )
    };
}

/// Folds the tags of the files a migration listed in `tags_to_fold` by
/// today's rule (`Tag::fold`: 重點客戶 is 重点客户); returns how many files
/// changed. Two tags that fold alike become one. See [`refold_listed`].
pub fn fold_stored_tags(db: &crate::Db) -> Result<usize> {
    refold_list!(db, tags_to_fold, files::tags, |stored| {
        let stored: Vec<String> =
            serde_json::from_str(stored).map_err(|e| Error::Corrupt(e.to_string()))?;
        Ok(refolded(&stored).map(Refold::Tags))
    })
}

/// Rewrites the names of the files a migration listed in `names_to_fold`
/// as `CustomerName::parse` keeps them today: without invisible
/// characters (北京燕京\u{200B}建设 is 北京燕京建设), trimmed, inner runs
/// of white space as one space; returns how many files changed. A name
/// the rule leaves nothing of stays as it is. See [`refold_listed`].
pub fn fold_stored_names(db: &crate::Db) -> Result<usize> {
    refold_list!(db, names_to_fold, files::name, |stored| {
        Ok(CustomerName::parse(stored)
            .ok()
            .filter(|n| n.as_str() != stored)
            .map(Refold::Name))
    })
}

/// Works a list of files a migration made: a batch of `listed` (file id,
/// stored value) per transaction; each file whose value `refold` changes
/// is saved through `save_loaded` as the system (no user), and `unlist`
/// takes the whole batch off the list in the same transaction, so a stop
/// halfway resumes at the next start. What is shown is stored, so such a
/// change is a change like any other: a new version and ETag, an
/// `updated_at` an `updated_since` sync sees, a history entry, an audit
/// entry and a `customer.updated` event. A batch reads only the values;
/// only the files that change are loaded. A batch that lost a race with
/// another server working the same list (a file moved on under it) is
/// read again: what the other committed is off the list by then.
fn refold_listed(
    db: &crate::Db,
    listed: impl Fn(&mut DbConn) -> Result<Vec<(String, String)>>,
    refold: impl Fn(&str) -> Result<Option<Refold>>,
    unlist: impl Fn(&mut DbConn, &[&str]) -> Result<usize>,
) -> Result<usize> {
    let mut changed = 0;
    loop {
        let batch = db.write(|c| {
            let batch = listed(c)?;
            let mut to_change = HashMap::new();
            for (id, stored) in &batch {
                if let Some(r) = refold(stored)? {
                    to_change.insert(id.as_str(), r);
                }
            }
            // Held under way: a sync must not pass this moment before the
            // batch commits (`crate::writes_in_flight`).
            let meta = WriteMeta::system_in(db, || SystemClock.now().naive_utc());
            let mut records = ChangedFiles::default();
            let mut known = CheckedRefs::default();
            let ids: Vec<&str> = to_change.keys().copied().collect();
            let mut n = 0;
            for view in customers::get_many(c, &ids)? {
                let mut row = view.row.clone();
                let tags = match to_change.remove(view.row.id.as_str()) {
                    Some(Refold::Tags(tags)) => Some(tags),
                    Some(Refold::Name(name)) => {
                        row.set_name(&name);
                        None
                    }
                    None => continue,
                };
                let version = view.row.version;
                if customers::save_loaded(
                    c,
                    &meta,
                    &view,
                    version,
                    row,
                    tags,
                    "updated",
                    &mut records,
                    &mut known,
                )? {
                    n += 1;
                }
            }
            records.write(c)?;
            let done: Vec<&str> = batch.iter().map(|(id, _)| id.as_str()).collect();
            unlist(c, &done)?;
            Ok((batch.len(), n))
        });
        let (listed, n) = match batch {
            Err(e) if customers::lost_a_race(&e) => continue,
            other => other?,
        };
        changed += n;
        if i64::try_from(listed).unwrap_or(0) < REFOLD_BATCH {
            return Ok(changed);
        }
    }
}

/// The tags folded by today's rule, if that changes them. A stored tag
/// the rule refuses (none can be: the rule only grew) is kept as it is.
fn refolded(stored: &[String]) -> Option<Vec<String>> {
    let tags = Tags::parse(stored).ok()?.as_strs();
    (tags != stored).then_some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cus_03_stored_tags_are_refolded_only_when_the_rule_changes_them() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(refolded(&s(&["vip", "重点"])), None);
        assert_eq!(
            refolded(&s(&["重点客户", "重點客戶", "長期"])),
            Some(s(&["重点客户", "长期"]))
        );
    }
}
