//! Routes, one module per resource. Handlers are thin: parse, authorize,
//! call persistence, shape the answer.

pub mod approval_rules;
pub mod audit;
pub mod auth;
pub mod me;
pub mod ops;
pub mod org_units;
pub mod secrecy_levels;
pub mod service_accounts;
pub mod users;

use actix_web::web;

/// Everything under `/api/v1`.
pub fn api(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .service(web::resource("/auth/token").post(auth::issue_token))
            .service(web::resource("/auth/logout").post(auth::logout))
            .service(web::resource("/me").get(me::get_me))
            .service(web::resource("/secrecy-levels").get(secrecy_levels::list_secrecy_levels))
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
            .service(web::resource("/audit-log").get(audit::list_audit_log)),
    );
}
