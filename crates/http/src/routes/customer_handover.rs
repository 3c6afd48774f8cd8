//! Hand-over of the files a person keeps (CUS-10: data stays with the unit,
//! never with a person only; ORG-03: every hand-over recorded with who and
//! when). When an account manager leaves or moves, a manager hands their
//! files to a successor in one all-or-nothing act; each file's history
//! shows the change of keeper, with its audit entry and event.

use crate::dto::customers::{HandOver, HandOverReport};
use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx, ValidJson};
use crate::routes::customer_files::see_for_write;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_customers::visibility::hands_over_files;
use clientele_persistence::error::RejectStatus;
use clientele_persistence::{customers, units, users, Error as DbError};

/// The most files one hand-over moves; a person keeping more is handed
/// over unit by unit (`unit_id`).
const HAND_OVER_MAX: usize = 10_000;

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
    if !hands_over_files(&p) {
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
    let (from, to) = (b.from_user_id.to_string(), b.to_user_id.to_string());
    let unit = b.unit_id.map(|u| u.to_string());
    let moved = st
        .write(move |c| {
            let person = |c: &mut _, id: &str, field: &'static str| match users::get(c, id) {
                Err(DbError::NotFound) => Err(DbError::Invalid {
                    field,
                    code: "user_not_found",
                    message: format!("no account has id {id}"),
                }),
                other => other,
            };
            person(c, &from, "from_user_id")?;
            let successor = person(c, &to, "to_user_id")?;
            if !successor.active {
                return Err(DbError::Invalid {
                    field: "to_user_id",
                    code: "user_inactive",
                    message: "files are handed to an active account".into(),
                });
            }
            if successor.kind != "person" {
                return Err(DbError::Invalid {
                    field: "to_user_id",
                    code: "owner_not_person",
                    message: "files are kept by a person, not a service account".into(),
                });
            }
            let path = match &unit {
                Some(id) => match units::get(c, id) {
                    Ok(u) => Some(u.path),
                    Err(DbError::NotFound) => {
                        return Err(DbError::Invalid {
                            field: "unit_id",
                            code: "unit_not_found",
                            message: format!("no unit has id {id}"),
                        })
                    }
                    Err(e) => return Err(e),
                },
                None => None,
            };
            let held = customers::held_by(c, &from, path.as_deref(), HAND_OVER_MAX as i64 + 1)?;
            if held.len() > HAND_OVER_MAX {
                return Err(DbError::unprocessable(
                    "too_many",
                    format!(
                        "the person keeps more than {HAND_OVER_MAX} files; hand them over unit by unit (unit_id)"
                    ),
                ));
            }
            // Edits of these files meanwhile queue behind the hand-over
            // (PostgreSQL), which then reads each as it stands.
            let ids: Vec<&str> = held.iter().map(String::as_str).collect();
            customers::lock_files(c, &ids)?;
            let mut moved = Vec::new();
            for id in held {
                let seen = match see_for_write(c, &p, &id, meta.at) {
                    Ok(seen) => seen,
                    // Not the caller's to hand over: another unit's, or shared.
                    Err(DbError::NotFound)
                    | Err(DbError::Rejected {
                        status: RejectStatus::Forbidden,
                        ..
                    }) => continue,
                    Err(e) => return Err(e),
                };
                let mut row = seen.view.row;
                // Given to someone else or merged away before the lock.
                if row.owner_user_id.as_deref() != Some(from.as_str()) || row.merged_into_id.is_some() {
                    continue;
                }
                let version = row.version;
                row.owner_user_id = Some(to.clone());
                customers::save(c, &meta, version, row, None, "handed_over")?;
                moved.push(id);
            }
            Ok(moved)
        })
        .await?;
    Ok(HttpResponse::Ok().json(HandOverReport {
        handed_over: moved.len(),
        customer_ids: moved.iter().filter_map(|id| id.parse().ok()).collect(),
    }))
}
