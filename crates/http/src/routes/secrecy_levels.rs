//! Secrecy levels (CUS-07), lowest first.

use crate::dto::org::SecrecyLevel;
use crate::error::ApiError;
use crate::extract::Auth;
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// The ordered secrecy levels a file or a clearance can take.
#[utoipa::path(get, path = "/api/v1/secrecy-levels", tag = "organisation", security(("bearer" = [])),
    responses((status = 200, body = Vec<SecrecyLevel>)))]
pub async fn list_secrecy_levels(
    st: web::Data<AppState>,
    _auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let rows = st.read(clientele_persistence::secrecy::list).await?;
    let out: Vec<SecrecyLevel> = rows
        .into_iter()
        .map(|r| SecrecyLevel {
            code: r.code,
            rank: r.rank,
            name: r.name,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
