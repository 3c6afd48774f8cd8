//! Counts of files by classification (CUS-03: nature, industry, region and
//! type are used for analysis as well as for filtering).

use crate::dto::customers::{CountByDto, CountGroup, CustomerCounts};
use crate::error::ApiError;
use crate::extract::{Auth, ValidQuery};
use crate::routes::customer_files::{filter_of, scope_of, unit_filter, ClassQuery, CustomerQuery};
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use clientele_persistence::customers::{self, CountBy};
use clientele_persistence::Plans;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// What to count the files by.
    pub by: CountByDto,
}

/// Count the files in sight by one classification, filtered as the list
/// is by classification and keeper: how many state-owned customers in
/// Beijing, how many files each unit keeps. No file is shown, so nothing is
/// registered; the filters that find a file itself (name, code, credit code,
/// ERP id) are the list's, which registers what it shows (400 here).
#[utoipa::path(get, path = "/api/v1/customers/counts", tag = "customers", security(("bearer" = [])),
    params(CountsQuery, ClassQuery), responses((status = 200, body = CustomerCounts)))]
pub async fn count_customers(
    st: web::Data<AppState>,
    auth: Auth,
    by: ValidQuery<CountsQuery>,
    c: ValidQuery<ClassQuery>,
    found: ValidQuery<CustomerQuery>,
) -> Result<HttpResponse, ApiError> {
    if let Some(name) = found.named().first() {
        return Err(ApiError::bad_parameter(
            name,
            "unknown_field",
            format!("counts take no {name}: they count by classification; the list finds a file and registers the read"),
        ));
    }
    let dto = by.by;
    let by = match dto {
        CountByDto::Nature => CountBy::Nature,
        CountByDto::CustomerType => CountBy::CustomerType,
        CountByDto::Industry => CountBy::Industry,
        CountByDto::Size => CountBy::Size,
        CountByDto::Status => CountBy::Status,
        CountByDto::SecrecyLevel => CountBy::SecrecyLevel,
        CountByDto::Province => CountBy::Province,
        CountByDto::Region => CountBy::Region,
        CountByDto::OwnerUnit => CountBy::OwnerUnit,
        CountByDto::OwnerUser => CountBy::OwnerUser,
    };
    let (mut filter, unit_id) = filter_of(&found, &c)?;
    let scope = scope_of(&auth.0);
    let shares = std::sync::Arc::clone(st.db.shares());
    let groups = st
        .read_with(Plans::ByValue, move |conn| {
            unit_filter(conn, &mut filter, unit_id.as_deref())?;
            customers::counts(conn, &shares, &scope, &filter, by)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CustomerCounts {
        by: dto,
        total: groups.iter().map(|g| g.count).sum(),
        groups: groups
            .into_iter()
            .map(|g| CountGroup {
                key: g.key,
                name: g.name,
                count: g.count,
            })
            .collect(),
    }))
}
