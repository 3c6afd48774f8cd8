//! The caller's own profile.

use crate::dto::org::{Capabilities, Me};
use crate::extract::Auth;
use actix_web::HttpResponse;
use clientele_core::Principal;
use clientele_customers::visibility::{
    decides_outside_access, edits_files, exports_files, manages_files, sees_financials,
};

/// Who am I: the signed-in account, its unit, roles and clearance, and
/// what it may do (`may`).
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me)))]
pub async fn get_me(auth: Auth) -> HttpResponse {
    let p = auth.0;
    let may = capabilities(&p);
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
        may,
    })
}

fn capabilities(p: &Principal) -> Capabilities {
    Capabilities {
        edit_files: edits_files(p),
        manage_files: manages_files(p),
        export_files: exports_files(p),
        see_financial_fields: sees_financials(p),
        read_everything: p.reads_everything(),
        decide_outside_access: decides_outside_access(p),
        administer: p.is_admin(),
    }
}
