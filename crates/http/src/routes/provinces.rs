//! The province-level divisions region codes start with (CUS-03).

use crate::dto::customers::Province;
use crate::error::ApiError;
use crate::extract::Auth;
use actix_web::HttpResponse;

/// The 34 province-level divisions of GB/T 2260, in code order: a file's
/// `region_code` starts with one of these codes, its `province` is the
/// name, and `region` filters by the code.
#[utoipa::path(get, path = "/api/v1/provinces", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Province>)))]
pub async fn list_provinces(_auth: Auth) -> Result<HttpResponse, ApiError> {
    let out: Vec<Province> = clientele_customers::provinces()
        .map(|(code, name)| Province {
            code: code.to_owned(),
            name: name.to_owned(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
