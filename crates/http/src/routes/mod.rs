//! Routes, one module per resource. Handlers are thin: parse, authorize,
//! call persistence, shape the answer.

pub mod approval_rules;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod contact_exchange;
pub mod contact_fields;
pub mod csv_import;
pub mod customer_access;
pub mod customer_counts;
pub mod customer_duplicates;
pub mod customer_exchange;
pub mod customer_files;
pub mod customer_handover;
pub mod customer_parts;
pub mod export_requests;
pub mod me;
pub mod ops;
pub mod org_units;
pub mod provinces;
pub mod regions;
pub mod secrecy_levels;
pub mod service_accounts;
pub mod users;
pub mod webhooks;

use crate::extract::etag;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

/// A resource answer: its `ETag`, and on creation its `Location`.
pub(crate) fn versioned<T: serde::Serialize>(
    status: StatusCode,
    version: i64,
    location: String,
    body: T,
) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header(("etag", etag(version)));
    if status == StatusCode::CREATED {
        res.insert_header(("location", location));
    }
    res.json(body)
}

/// The `X-Changes-Complete-Until` header of a list or export of files: the
/// moment, as RFC 3339 UTC to the microsecond, before which every change
/// of a file is committed, this server's and (on PostgreSQL) the other
/// servers' as last heard (`crate::sync_floors`). Taken before the list
/// reads, so a sync resuming `updated_since` from it misses nothing
/// (`clientele_persistence::writes_in_flight`).
pub(crate) fn changes_complete_until(st: &crate::state::AppState) -> (HeaderName, HeaderValue) {
    let at = st
        .db
        .writes()
        .complete_until(|| st.now())
        .and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    (
        HeaderName::from_static("x-changes-complete-until"),
        // RFC 3339 is visible ASCII: always a valid header value.
        HeaderValue::from_str(&at).unwrap_or_else(|_| HeaderValue::from_static("")),
    )
}

/// Like [`versioned`], for an answer that shows a secret once: marked
/// `Cache-Control: no-store`, so no cache keeps it and the idempotency
/// store does not either (it replays such an answer as a 409).
pub(crate) fn shown_once<T: serde::Serialize>(
    status: StatusCode,
    version: i64,
    location: String,
    body: T,
) -> HttpResponse {
    let mut res = versioned(status, version, location, body);
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    res
}

/// Everything under `/api/v1`.
pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource("/auth/token").post(auth::issue_token))
            .service(web::resource("/auth/logout").post(auth::logout))
            .service(web::resource("/auth/revoke").post(auth::revoke_token))
            .service(web::resource("/me").get(me::get_me))
            .service(
                web::resource("/secrecy-levels")
                    .get(secrecy_levels::list_secrecy_levels)
                    .post(secrecy_levels::create_secrecy_level),
            )
            .service(
                web::resource("/secrecy-levels/{code}")
                    .get(secrecy_levels::get_secrecy_level)
                    .patch(secrecy_levels::update_secrecy_level)
                    .delete(secrecy_levels::delete_secrecy_level),
            )
            // The busiest resources first: routes are tried in order.
            .service(
                web::resource("/customers")
                    .get(customer_files::list_customers)
                    .post(customer_files::create_customer),
            )
            .service(web::resource("/customers/export").get(customer_exchange::export_customers))
            .service(web::resource("/customers/counts").get(customer_counts::count_customers))
            .service(web::resource("/customers/import").post(customer_exchange::import_customers))
            .service(
                web::resource("/customers/contacts/import").post(contact_exchange::import_contacts),
            )
            .service(
                web::resource("/customers/contacts/export").get(contact_exchange::export_contacts),
            )
            .service(web::resource("/customers/hand-over").post(customer_handover::hand_over))
            .service(
                web::resource("/customers/unit-transfer")
                    .post(customer_handover::transfer_unit_files),
            )
            .service(
                web::resource("/customers/duplicate-groups")
                    .get(customer_duplicates::list_duplicate_groups),
            )
            .service(
                web::resource("/customers/duplicate-check")
                    .get(customer_duplicates::check_duplicates),
            )
            .service(
                web::resource("/customers/{id}")
                    .get(customer_files::get_customer)
                    .patch(customer_files::update_customer),
            )
            .service(
                web::resource("/customers/{id}/duplicates")
                    .get(customer_duplicates::list_duplicates),
            )
            .service(web::resource("/customers/{id}/merge").post(customer_files::merge_customer))
            .service(web::resource("/customers/{id}/history").get(customer_files::customer_history))
            .service(
                web::resource("/customers/{id}/history/{sub_id}/revert")
                    .post(customer_files::revert_change),
            )
            .service(
                web::resource("/customers/{id}/contacts")
                    .get(customer_parts::list_contacts)
                    .post(customer_parts::add_contact),
            )
            .service(
                web::resource("/customers/{id}/contacts/{sub_id}")
                    .get(customer_parts::get_contact)
                    .patch(customer_parts::update_contact)
                    .delete(customer_parts::remove_contact),
            )
            .service(
                web::resource("/customers/{id}/relations")
                    .get(customer_parts::list_relations)
                    .post(customer_parts::add_relation),
            )
            .service(
                web::resource("/customers/{id}/relations/{sub_id}")
                    .get(customer_parts::get_relation)
                    .delete(customer_parts::end_relation),
            )
            .service(
                web::resource("/customers/{id}/documents")
                    .get(customer_parts::list_documents)
                    .post(customer_parts::add_document),
            )
            .service(
                web::resource("/customers/{id}/documents/{sub_id}")
                    .get(customer_parts::get_document)
                    .patch(customer_parts::update_document),
            )
            .service(
                web::resource("/customers/{id}/timeline").get(customer_parts::customer_timeline),
            )
            .service(
                web::resource("/customers/{id}/access-log").get(customer_access::file_access_log),
            )
            .service(
                web::resource("/customers/{id}/outside-access-requests")
                    .post(customer_access::request_outside_access),
            )
            .service(web::resource("/provinces").get(provinces::list_provinces))
            .service(
                web::resource("/regions")
                    .get(regions::list_regions)
                    .post(regions::create_region),
            )
            .service(
                web::resource("/regions/{code}")
                    .get(regions::get_region)
                    .patch(regions::update_region),
            )
            .service(
                web::resource("/backups")
                    .get(backups::list_backups)
                    .post(backups::take_backup),
            )
            .service(
                web::resource("/units")
                    .get(org_units::list_units)
                    .post(org_units::create_unit),
            )
            .service(
                web::resource("/units/{id}")
                    .get(org_units::get_unit)
                    .patch(org_units::update_unit),
            )
            .service(
                web::resource("/users")
                    .get(users::list_users)
                    .post(users::create_user),
            )
            .service(
                web::resource("/users/{id}")
                    .get(users::get_user)
                    .patch(users::update_user),
            )
            .service(web::resource("/users/{id}/password").post(users::reset_password))
            .service(
                web::resource("/service-accounts").post(service_accounts::create_service_account),
            )
            .service(
                web::resource("/service-accounts/{id}/secret")
                    .post(service_accounts::rotate_secret),
            )
            .service(web::resource("/approval-rules/decision").get(approval_rules::decide))
            .service(
                web::resource("/approval-rules")
                    .get(approval_rules::list_approval_rules)
                    .post(approval_rules::create_approval_rule),
            )
            .service(
                web::resource("/approval-rules/{id}")
                    .get(approval_rules::get_approval_rule)
                    .patch(approval_rules::update_approval_rule)
                    .delete(approval_rules::delete_approval_rule),
            )
            .service(web::resource("/audit-log").get(audit::list_audit_log))
            .service(web::resource("/access-register").get(customer_access::access_register))
            .service(
                web::resource("/access-register/export")
                    .get(customer_access::export_access_register),
            )
            .service(
                web::resource("/outside-access-requests").get(customer_access::list_outside_access),
            )
            .service(
                web::resource("/outside-access-requests/{id}")
                    .get(customer_access::get_outside_access),
            )
            .service(
                web::resource("/outside-access-requests/{id}/decision")
                    .post(customer_access::decide_outside_access),
            )
            .service(
                web::resource("/outside-access-requests/{id}/revocation")
                    .post(customer_access::revoke_outside_access),
            )
            .service(
                web::resource("/export-requests")
                    .get(export_requests::list_export_requests)
                    .post(export_requests::request_export),
            )
            .service(
                web::resource("/export-requests/{id}").get(export_requests::get_export_request),
            )
            .service(
                web::resource("/export-requests/{id}/decision")
                    .post(export_requests::decide_export_request),
            )
            .service(
                web::resource("/export-requests/{id}/withdrawal")
                    .post(export_requests::withdraw_export_request),
            )
            .service(
                web::resource("/export-requests/{id}/export")
                    .get(export_requests::export_under_request),
            )
            .service(
                web::resource("/webhooks")
                    .get(webhooks::list_webhooks)
                    .post(webhooks::create_webhook),
            )
            .service(
                web::resource("/webhooks/{id}")
                    .get(webhooks::get_webhook)
                    .patch(webhooks::update_webhook),
            )
            .service(web::resource("/webhooks/{id}/secret").post(webhooks::rotate_webhook_secret))
            .service(web::resource("/webhooks/{id}/deliveries").get(webhooks::list_deliveries))
            .service(
                web::resource("/webhooks/{id}/deliveries/{sub_id}/retry")
                    .post(webhooks::retry_delivery),
            ),
    );
}
