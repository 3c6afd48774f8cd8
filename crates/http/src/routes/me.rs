//! The caller's own profile.

use crate::dto::org::Me;
use crate::extract::Auth;
use actix_web::HttpResponse;

/// Who am I: the signed-in account, its unit, roles and clearance.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me)))]
pub async fn get_me(auth: Auth) -> HttpResponse {
    let p = auth.0;
    HttpResponse::Ok().json(Me {
        id: p.user_id.as_uuid(),
        username: p.username,
        display_name: p.display_name,
        kind: p.kind.as_str().to_owned(),
        unit_id: p.unit_id.as_uuid(),
        unit_path: p.unit_path.as_str().to_owned(),
        roles: p.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        clearance: p.clearance,
        session_id: p.session_id.as_uuid(),
    })
}
