//! Hand-over of files (CUS-10: data stays with the unit, never with a
//! person only; ORG-03: every hand-over recorded with who and when). When
//! an account manager leaves or moves, a manager hands their files to a
//! successor; before a unit closes, its files move to another unit. Each
//! is one all-or-nothing act; each file's history shows the change, with
//! its audit entry and event.

use crate::dto::customers::{HandOver, HandOverReport, UnitTransfer, UnitTransferReport};
use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx, ValidJson};
use crate::routes::customer_files::{judge_for_write, unit_guard};
use crate::routes::users::{account_named, active_person_named};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_core::Principal;
use clientele_customers::visibility::manages_files;
use clientele_persistence::audit::WriteMeta;
use clientele_persistence::changed_files::ChangedFiles;
use clientele_persistence::customers::CustomerRow;
use clientele_persistence::error::RejectStatus;
use clientele_persistence::file_refs::CheckedRefs;
use clientele_persistence::units::UnitRow;
use clientele_persistence::{customers, units, DbConn, Error as DbError};

/// Hand every file `from_user_id` keeps, that the caller may work, to
/// `to_user_id` (managers within their units, admins everywhere).
#[utoipa::path(post, path = "/api/v1/customers/hand-over", tag = "customers", security(("bearer" = [])),
    request_body = HandOver, responses((status = 200, body = HandOverReport)))]
pub async fn hand_over(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<HandOver>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !manages_files(&p) {
        return Err(ApiError::forbidden(
            "handing files over needs the manager or admin role",
        ));
    }
    let b = body.0;
    if b.from_user_id == b.to_user_id {
        return Err(ApiError::field(
            "to_user_id",
            "same_user",
            "the files are kept by this person already",
        ));
    }
    let meta = ctx.meta(&st, Some(&p));
    let at_most = st.config.files_per_act;
    let (from, to) = (b.from_user_id.to_string(), b.to_user_id.to_string());
    let unit = b.unit_id.map(|u| u.to_string());
    let moved = st
        .write(move |c| {
            account_named(c, &from, "from_user_id")?;
            active_person_named(c, &to, "to_user_id", "owner_not_person")?;
            let path = match &unit {
                Some(id) => Some(unit_named(c, id, "unit_id")?.path),
                None => None,
            };
            let held = customers::held_by(c, &from, path.as_deref(), at_most as i64 + 1)?;
            if held.len() > at_most {
                return Err(DbError::unprocessable(
                    "too_many",
                    format!("the person keeps more than {at_most} files; hand them over unit by unit (unit_id)"),
                ));
            }
            move_files(c, &p, &meta, held, "handed_over", |row| {
                // Given to someone else or merged away before the lock.
                if row.owner_user_id.as_deref() != Some(from.as_str()) {
                    return false;
                }
                row.owner_user_id = Some(to.clone());
                true
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(HandOverReport {
        handed_over: moved.len(),
        customer_ids: moved.iter().filter_map(|id| id.parse().ok()).collect(),
    }))
}

/// Move the files `from_unit_id` keeps itself, that the caller may work,
/// to `to_unit_id`, optionally with a new keeper (managers within their
/// units, admins everywhere), up to 10 000 an act (`remaining` says how
/// many are left for the next). A unit that keeps files cannot be closed.
#[utoipa::path(post, path = "/api/v1/customers/unit-transfer", tag = "customers", security(("bearer" = [])),
    request_body = UnitTransfer, responses((status = 200, body = UnitTransferReport)))]
pub async fn transfer_unit_files(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<UnitTransfer>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !manages_files(&p) {
        return Err(ApiError::forbidden(
            "moving files between units needs the manager or admin role",
        ));
    }
    let b = body.0;
    if b.from_unit_id == b.to_unit_id {
        return Err(ApiError::field(
            "to_unit_id",
            "same_unit",
            "the files are kept by this unit already",
        ));
    }
    let meta = ctx.meta(&st, Some(&p));
    let at_most = st.config.files_per_act;
    let (from, to) = (b.from_unit_id.to_string(), b.to_unit_id.to_string());
    let keeper = b.to_user_id.map(|u| u.to_string());
    let moved = st
        .write(move |c| {
            let source = unit_named(c, &from, "from_unit_id")?;
            let target = unit_named(c, &to, "to_unit_id")?;
            if !target.active {
                return Err(DbError::Invalid {
                    field: "to_unit_id",
                    code: "unit_inactive",
                    message: "files are moved to an active unit".into(),
                });
            }
            for (unit, field) in [(&source, "from_unit_id"), (&target, "to_unit_id")] {
                unit_guard(&p, &unit.path).map_err(|e| on_field(e, field))?;
            }
            if let Some(id) = &keeper {
                active_person_named(c, id, "to_user_id", "owner_not_person")?;
            }
            // A unit keeping more moves in turns: the answer says how many
            // are left, and the next call takes the next ones.
            let (kept, all) = customers::kept_by_unit(c, &from, p.clearance_rank, at_most as i64)?;
            let remaining = all - kept.len() as i64;
            let moved = move_files(c, &p, &meta, kept, "transferred", |row| {
                if row.owner_unit_id != from {
                    return false;
                }
                row.owner_unit_id = to.clone();
                if let Some(k) = &keeper {
                    row.owner_user_id = Some(k.clone());
                }
                true
            })
            .map_err(|e| match e {
                // A keeper who cannot work files of the new unit.
                DbError::Invalid { code, message, .. } if code.starts_with("keeper_") => {
                    let remedy = match keeper {
                        Some(_) => "the keeper named cannot work files of the new unit",
                        None => {
                            "a file's keeper cannot work files of the new unit: name a new keeper"
                        }
                    };
                    DbError::Invalid {
                        field: "to_user_id",
                        code,
                        message: format!("{message} ({remedy})"),
                    }
                }
                other => other,
            })?;
            Ok((moved, remaining))
        })
        .await?;
    let (moved, remaining) = moved;
    Ok(HttpResponse::Ok().json(UnitTransferReport {
        transferred: moved.len(),
        customer_ids: moved.iter().filter_map(|id| id.parse().ok()).collect(),
        remaining,
    }))
}

/// A rule's refusal of a unit, as the fault of the request's field.
fn on_field(e: DbError, field: &'static str) -> DbError {
    match e {
        DbError::Rejected { code, message, .. } => DbError::Invalid {
            field,
            code,
            message,
        },
        other => other,
    }
}

/// A unit the request names; unknown ones are the field's fault.
fn unit_named(c: &mut DbConn, id: &str, field: &'static str) -> Result<UnitRow, DbError> {
    match units::get(c, id) {
        Err(DbError::NotFound) => Err(DbError::Invalid {
            field,
            code: "unit_not_found",
            message: format!("no unit has id {id}"),
        }),
        other => other,
    }
}

/// Saves `change` of each file, as one change with `action` each (history,
/// audit entry, event). Files the caller may not work (another unit's,
/// shared ones, above their clearance) and files `change` declines (moved
/// or merged meanwhile) are left as they were and not named. The files are
/// read a thousand at a time, the new keeper or unit is checked once, and
/// the records of all the changes are written together at the end.
fn move_files(
    c: &mut DbConn,
    p: &Principal,
    meta: &WriteMeta,
    ids: Vec<String>,
    action: &str,
    change: impl Fn(&mut CustomerRow) -> bool,
) -> Result<Vec<String>, DbError> {
    // Edits of these files meanwhile queue behind the move (PostgreSQL),
    // which then reads each as it stands.
    let locked: Vec<&str> = ids.iter().map(String::as_str).collect();
    customers::lock_files(c, &locked)?;
    customers::plan_for_many(c, locked.len())?;
    let (mut records, mut known) = (ChangedFiles::default(), CheckedRefs::default());
    let mut moved = Vec::new();
    for chunk in locked.chunks(FILES_READ_AT_ONCE) {
        let mut views = customers::get_many(c, chunk)?;
        views.sort_unstable_by(|a, b| a.row.id.cmp(&b.row.id));
        for view in views {
            let seen = match judge_for_write(c, p, view, meta.at) {
                Ok(seen) => seen,
                Err(DbError::NotFound)
                | Err(DbError::Rejected {
                    status: RejectStatus::Forbidden,
                    ..
                }) => continue,
                Err(e) => return Err(e),
            };
            let mut row = seen.view.row.clone();
            if row.merged_into_id.is_some() || !change(&mut row) {
                continue;
            }
            let (id, version) = (row.id.clone(), row.version);
            if customers::save_loaded(
                c,
                meta,
                &seen.view,
                version,
                row,
                None,
                action,
                &mut records,
                &mut known,
            )? {
                moved.push(id);
            }
        }
    }
    records.write(c)?;
    Ok(moved)
}

/// Files a move reads in one query.
const FILES_READ_AT_ONCE: usize = 1_000;
