//! Forms of stored files that the application computes and SQL cannot:
//! the forms a name is stored in beside itself (`NameForms`), and the
//! folded form of tags (`Tag::fold`). When their rules change, a migration
//! marks the files to redo and these run right after the migrations.

use crate::audit::WriteMeta;
use crate::changed_files::ChangedFiles;
use crate::customers;
use crate::error::{Error, Result};
use crate::file_refs::CheckedRefs;
use crate::schema::{customers as files, tags_to_fold};
use crate::DbConn;
use clientele_core::{Clock, SystemClock};
use clientele_customers::Tags;
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

/// Files whose tags are folded per transaction of [`fold_stored_tags`].
const TAG_BATCH: i64 = 500;

/// Folds the tags of the files a migration listed in `tags_to_fold` by
/// today's rule (`Tag::fold`: 重點客戶 is 重点客户), a batch per
/// transaction, and takes each file off the list; returns how many files
/// changed. A tag is shown as stored, so a file whose tags change gets a
/// new version like any change: a history entry by no user (the system),
/// an audit entry and a `customer.updated` event, so an ETag, an
/// `updated_since` sync or a subscriber never keeps the old form. Two
/// tags that fold alike become one. The list holds every file with a tag
/// outside ASCII (most, in a Chinese archive): a batch reads only their
/// tags, and loads and saves only the files whose tags change. A batch
/// that lost a race with another server doing the same (the file moved
/// on under it) is read again: what the other committed is off the list.
pub fn fold_stored_tags(db: &crate::Db) -> Result<usize> {
    let mut changed = 0;
    loop {
        let batch = db.write(|c| {
            let listed: Vec<(String, String)> = tags_to_fold::table
                .inner_join(files::table.on(files::id.eq(tags_to_fold::customer_id)))
                .select((tags_to_fold::customer_id, files::tags))
                .order(tags_to_fold::customer_id)
                .limit(TAG_BATCH)
                .load(c)?;
            let mut to_fold = HashMap::new();
            for (id, stored) in &listed {
                let stored: Vec<String> =
                    serde_json::from_str(stored).map_err(|e| Error::Corrupt(e.to_string()))?;
                if let Some(tags) = refolded(&stored) {
                    to_fold.insert(id.as_str(), tags);
                }
            }
            let meta = WriteMeta::system(SystemClock.now().naive_utc());
            let mut records = ChangedFiles::default();
            let mut known = CheckedRefs::default();
            let ids: Vec<&str> = to_fold.keys().copied().collect();
            let mut n = 0;
            for view in customers::get_many(c, &ids)? {
                let tags = to_fold.get(view.row.id.as_str()).cloned();
                let (version, row) = (view.row.version, view.row.clone());
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
            let done: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
            diesel::delete(tags_to_fold::table.filter(tags_to_fold::customer_id.eq_any(&done)))
                .execute(c)?;
            Ok((listed.len(), n))
        });
        let (listed, n) = match batch {
            Err(e) if customers::lost_a_race(&e) => continue,
            other => other?,
        };
        changed += n;
        if i64::try_from(listed).unwrap_or(0) < TAG_BATCH {
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
