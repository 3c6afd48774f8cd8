//! The OpenAPI 3.1 contract, generated from the routes. Every operation
//! documents its error answers with the problem schema.

use crate::dto;
use crate::error::{Problem, ProblemField, PROBLEM_JSON};
use crate::routes;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HttpMethod, Ref, RefOr};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Clientele API",
        description = "Corporate customer management by the regulations: customer archives, grading, complaints, visits and assessments. Errors are RFC 9457 problem documents; a query parameter an operation does not take is refused (400, `unknown_parameter`), so a mistyped filter never passes for none, and so is one whose name or value is not UTF-8 once percent-decoded (400, `not_utf8`); lists use keyset paging (`limit`, `cursor`); updates need `If-Match`; reads of one resource answer `If-None-Match` with `304` when the named ETag is current; creates accept `Idempotency-Key`. Answers are `Cache-Control: no-store`: customer data is confidential and every read of a file is registered.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/", description = "This server")),
    paths(
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::metrics,
        routes::backups::list_backups,
        routes::backups::take_backup,
        routes::auth::issue_token,
        routes::auth::revoke_token,
        routes::auth::logout,
        routes::me::get_me,
        routes::secrecy_levels::list_secrecy_levels,
        routes::secrecy_levels::create_secrecy_level,
        routes::secrecy_levels::get_secrecy_level,
        routes::secrecy_levels::update_secrecy_level,
        routes::secrecy_levels::delete_secrecy_level,
        routes::org_units::list_units,
        routes::org_units::create_unit,
        routes::org_units::get_unit,
        routes::org_units::update_unit,
        routes::users::list_users,
        routes::users::create_user,
        routes::users::get_user,
        routes::users::update_user,
        routes::users::reset_password,
        routes::service_accounts::create_service_account,
        routes::service_accounts::rotate_secret,
        routes::approval_rules::list_approval_rules,
        routes::approval_rules::create_approval_rule,
        routes::approval_rules::get_approval_rule,
        routes::approval_rules::update_approval_rule,
        routes::approval_rules::delete_approval_rule,
        routes::approval_rules::decide,
        routes::audit::list_audit_log,
        routes::provinces::list_provinces,
        routes::regions::list_regions,
        routes::regions::create_region,
        routes::regions::get_region,
        routes::regions::update_region,
        routes::customer_files::create_customer,
        routes::customer_exchange::export_customers,
        routes::customer_counts::count_customers,
        routes::customer_exchange::import_customers,
        routes::contact_exchange::import_contacts,
        routes::contact_exchange::export_contacts,
        routes::customer_handover::hand_over,
        routes::customer_handover::transfer_unit_files,
        routes::customer_files::list_customers,
        routes::customer_files::get_customer,
        routes::customer_files::update_customer,
        routes::customer_duplicates::list_duplicates,
        routes::customer_duplicates::list_duplicate_groups,
        routes::customer_duplicates::check_duplicates,
        routes::customer_files::merge_customer,
        routes::customer_files::customer_history,
        routes::customer_files::revert_change,
        routes::customer_parts::list_contacts,
        routes::customer_parts::add_contact,
        routes::customer_parts::get_contact,
        routes::customer_parts::update_contact,
        routes::customer_parts::remove_contact,
        routes::customer_parts::list_relations,
        routes::customer_parts::add_relation,
        routes::customer_parts::get_relation,
        routes::customer_parts::end_relation,
        routes::customer_parts::list_documents,
        routes::customer_parts::add_document,
        routes::customer_parts::get_document,
        routes::customer_parts::update_document,
        routes::customer_parts::customer_timeline,
        routes::customer_access::file_access_log,
        routes::customer_access::access_register,
        routes::customer_access::export_access_register,
        routes::customer_access::request_outside_access,
        routes::customer_access::list_outside_access,
        routes::customer_access::get_outside_access,
        routes::customer_access::decide_outside_access,
        routes::customer_access::revoke_outside_access,
        routes::export_requests::request_export,
        routes::export_requests::list_export_requests,
        routes::export_requests::get_export_request,
        routes::export_requests::decide_export_request,
        routes::export_requests::withdraw_export_request,
        routes::export_requests::export_under_request,
        routes::webhooks::create_webhook,
        routes::webhooks::list_webhooks,
        routes::webhooks::get_webhook,
        routes::webhooks::update_webhook,
        routes::webhooks::rotate_webhook_secret,
        routes::webhooks::list_deliveries,
        routes::webhooks::retry_delivery,
    ),
    components(schemas(
        Problem,
        ProblemField,
        dto::org::RoleDto,
        dto::org::UnitKindDto,
        dto::org::AccountKindDto,
        routes::customer_exchange::ExportFormat,
        dto::customers::DocumentCategoryDto,
        dto::customers::OutsideStatusDto,
        dto::export_requests::ExportRequestStatusDto,
        dto::customers::HistoryEntityDto,
        dto::customers::CountByDto,
        dto::customers::DuplicateSign,
        dto::customers::DuplicateCheck,
        dto::customers::DuplicateConflict,
        dto::customers::LikelyDuplicate,
        dto::webhooks::DeliveryStatusDto,
    )),
    modifiers(&Security, &ErrorAnswers, &Links),
    tags(
        (name = "auth", description = "Tokens and the signed-in account"),
        (name = "organisation", description = "Units, users, service accounts, secrecy levels (ORG-01)"),
        (name = "approvals", description = "Approval authority (ORG-02)"),
        (name = "audit", description = "The append-only audit log (ORG-03)"),
        (name = "customers", description = "Customer files: one customer, one file; contacts, relations, documents, history, read register (CUS-01..11)"),
        (name = "webhooks", description = "Signed event deliveries to other systems, with retries and a delivery log"),
        (name = "operations", description = "Health, readiness, metrics and backups (CUS-11)"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from POST /api/v1/auth/token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A service account's client id and secret, for the \
                         client_credentials grant of POST /api/v1/auth/token only \
                         (RFC 6749 section 2.3.1)",
                    ))
                    .build(),
            ),
        );
    }
}

struct ErrorAnswers;

fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn add_errors(method: &HttpMethod, op: &mut Operation) {
    // The token endpoint takes a service account's Basic credentials, not
    // an access token; its faults, and the revocation endpoint's, are
    // OAuth's, listed below.
    let token = op.operation_id.as_deref() == Some("issue_token");
    let revocation = op.operation_id.as_deref() == Some("revoke_token");
    let oauth = token || revocation;
    let secured = !token && op.security.as_ref().is_some_and(|s| !s.is_empty());
    if op.security.as_ref().is_none_or(Vec::is_empty) {
        // Public on purpose: say so, rather than leave it undefined.
        op.security = Some(vec![SecurityRequirement::default()]);
    }
    // A relation is ended, never changed: it has no version to name.
    let versioned = op.operation_id.as_deref() != Some("add_relation");
    for (code, resp) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = resp {
            if r.description.is_empty() {
                r.description = match code.as_str() {
                    "201" => "Created",
                    "204" => "Done; no content",
                    _ => "Success",
                }
                .to_owned();
            }
            if code == "201" {
                r.headers
                    .entry("Location".into())
                    .or_insert_with(|| header("Where the new resource is read").into());
                if versioned {
                    r.headers
                        .entry("ETag".into())
                        .or_insert_with(|| header("The new resource's version").into());
                }
            }
        }
    }
    let has_body = op.request_body.is_some();
    let mut answers: Vec<(&str, &str)> = Vec::new();
    if token {
        answers.extend([
            ("400", "OAuth fault (RFC 6749 section 5.2): `invalid_request`, `invalid_grant`, `unsupported_grant_type` or `invalid_scope`, also in the members `error` and `error_description`; or a query parameter the operation does not take"),
            ("401", "Client authentication failed (`invalid_client`)"),
            ("429", "Too many failed sign-ins; retry after `Retry-After`"),
        ]);
    }
    if revocation {
        answers.push(("400", "OAuth fault (RFC 7009 section 2.2.1): `invalid_request`, also in the members `error` and `error_description`; or a query parameter the operation does not take"));
    }
    if oauth {
        answers.push(("415", "The body is neither a form nor JSON"));
    }
    answers.extend([
        ("400", "Malformed request: bad query, header or cursor, a query parameter the operation does not take, or one that is not UTF-8"),
        ("404", "Not found, or not visible to the caller"),
        ("500", "Internal error"),
        (
            "503",
            "The database is unavailable; retry after `Retry-After`",
        ),
    ]);
    if secured {
        answers.push(("401", "Missing, invalid, expired or revoked access token"));
        answers.push(("403", "The caller's role does not allow this"));
    }
    if has_body {
        answers.push(("413", "The body is larger than allowed"));
        answers.push(("415", "The body is not JSON"));
    }
    if has_body && !oauth {
        answers.push(("422", "The body does not fit the schema or breaks a rule"));
    }
    if !oauth
        && matches!(
            method,
            HttpMethod::Post | HttpMethod::Patch | HttpMethod::Delete
        )
    {
        answers.push((
            "409",
            "Conflicts with the current state (duplicate, in use, key in progress)",
        ));
        answers.push(("422", "Breaks a business rule"));
    }
    let if_match = op.parameters.as_ref().and_then(|ps| {
        ps.iter().find_map(|p| match p {
            RefOr::T(p) if p.name.eq_ignore_ascii_case("if-match") => {
                Some(matches!(p.required, utoipa::openapi::Required::True))
            }
            _ => None,
        })
    });
    let patch_or_delete = matches!(method, HttpMethod::Patch | HttpMethod::Delete);
    if if_match.is_some() || patch_or_delete {
        answers.push(("412", "If-Match does not name the current version"));
    }
    // An If-Match the operation may leave out (a merge) is never missing.
    if if_match.unwrap_or(false) || patch_or_delete {
        answers.push(("428", "If-Match is required"));
    }
    for (code, description) in answers {
        let mut answer = problem(description);
        if matches!(code, "429" | "503") {
            answer.headers.insert(
                "Retry-After".into(),
                header("Seconds to wait before trying again").into(),
            );
        }
        op.responses
            .responses
            .entry(code.to_owned())
            .or_insert_with(|| answer.into());
    }
}

/// A documented answer header, text.
fn header(description: &str) -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .description(Some(description))
        .build()
}

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (method, op) in [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
                (HttpMethod::Put, item.put.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
            ] {
                if let Some(op) = op {
                    add_errors(&method, op);
                }
            }
        }
    }
}

/// Links from an answer that names a resource to the operations on it
/// (OpenAPI link objects): a front-end sees where the id and the `ETag` of
/// an answer go next, and a contract fuzzer (schemathesis) follows them to
/// reach the resource it just made. Each row: the operation answering,
/// its status, the linked operation and what it takes from the answer (or
/// from the request that got it).
const LINKS: &[Link] = &[
    (
        "create_customer",
        "201",
        "get_customer",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "update_customer",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "create_customer",
        "201",
        "customer_history",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "add_contact",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "add_document",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "add_relation",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "merge_customer",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "customer_timeline",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_customer",
        "201",
        "request_outside_access",
        &[("path.id", BODY_ID)],
    ),
    (
        "customer_history",
        "200",
        "revert_change",
        &[
            ("path.id", REQUEST_ID),
            ("path.sub_id", "$response.body#/items/0/id"),
        ],
    ),
    (
        "add_contact",
        "201",
        "get_contact",
        &[("path.id", REQUEST_ID), ("path.sub_id", BODY_ID)],
    ),
    (
        "add_document",
        "201",
        "get_document",
        &[("path.id", REQUEST_ID), ("path.sub_id", BODY_ID)],
    ),
    (
        "add_relation",
        "201",
        "get_relation",
        &[("path.id", REQUEST_ID), ("path.sub_id", BODY_ID)],
    ),
    (
        "add_contact",
        "201",
        "update_contact",
        &[
            ("path.id", REQUEST_ID),
            ("path.sub_id", BODY_ID),
            ("header.If-Match", ETAG),
        ],
    ),
    (
        "add_contact",
        "201",
        "remove_contact",
        &[
            ("path.id", REQUEST_ID),
            ("path.sub_id", BODY_ID),
            ("header.If-Match", ETAG),
        ],
    ),
    (
        "add_document",
        "201",
        "update_document",
        &[
            ("path.id", REQUEST_ID),
            ("path.sub_id", BODY_ID),
            ("header.If-Match", ETAG),
        ],
    ),
    (
        "add_relation",
        "201",
        "end_relation",
        &[("path.id", REQUEST_ID), ("path.sub_id", BODY_ID)],
    ),
    (
        "request_outside_access",
        "201",
        "decide_outside_access",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "request_outside_access",
        "201",
        "get_outside_access",
        &[("path.id", BODY_ID)],
    ),
    (
        "decide_outside_access",
        "200",
        "revoke_outside_access",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "request_export",
        "201",
        "get_export_request",
        &[("path.id", BODY_ID)],
    ),
    (
        "request_export",
        "201",
        "decide_export_request",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "request_export",
        "201",
        "withdraw_export_request",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "decide_export_request",
        "200",
        "export_under_request",
        &[("path.id", BODY_ID)],
    ),
    (
        "decide_export_request",
        "200",
        "access_register",
        &[("query.grant_id", BODY_ID)],
    ),
    (
        "decide_outside_access",
        "200",
        "access_register",
        &[("query.grant_id", BODY_ID)],
    ),
    (
        "create_approval_rule",
        "201",
        "get_approval_rule",
        &[("path.id", BODY_ID)],
    ),
    (
        "create_approval_rule",
        "201",
        "update_approval_rule",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "create_approval_rule",
        "201",
        "delete_approval_rule",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "create_region",
        "201",
        "get_region",
        &[("path.code", "$response.body#/code")],
    ),
    (
        "create_region",
        "201",
        "update_region",
        &[
            ("path.code", "$response.body#/code"),
            ("header.If-Match", ETAG),
        ],
    ),
    ("create_unit", "201", "get_unit", &[("path.id", BODY_ID)]),
    (
        "create_unit",
        "201",
        "update_unit",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    ("create_user", "201", "get_user", &[("path.id", BODY_ID)]),
    (
        "create_user",
        "201",
        "update_user",
        &[("path.id", BODY_ID), ("header.If-Match", ETAG)],
    ),
    (
        "create_webhook",
        "201",
        "get_webhook",
        &[("path.id", WEBHOOK_ID)],
    ),
    (
        "create_webhook",
        "201",
        "update_webhook",
        &[("path.id", WEBHOOK_ID), ("header.If-Match", ETAG)],
    ),
    (
        "create_webhook",
        "201",
        "list_deliveries",
        &[("path.id", WEBHOOK_ID)],
    ),
    (
        "list_deliveries",
        "200",
        "retry_delivery",
        &[
            ("path.id", REQUEST_ID),
            ("path.sub_id", "$response.body#/items/0/id"),
        ],
    ),
];
/// The operation answering, its status, the linked operation, and each
/// parameter of it (`path.id`, `header.If-Match`) with the runtime
/// expression that fills it.
type Link = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const BODY_ID: &str = "$response.body#/id";
const REQUEST_ID: &str = "$request.path.id";
/// A new webhook's answer carries it beside its secret.
const WEBHOOK_ID: &str = "$response.body#/webhook/id";
const ETAG: &str = "$response.header.ETag";

struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::link::LinkBuilder;
        use utoipa::openapi::schema::Type;
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.patch.as_mut(),
                item.put.as_mut(),
                item.delete.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                let Some(id) = op.operation_id.clone() else {
                    continue;
                };
                for (_, status, target, params) in LINKS.iter().filter(|l| l.0 == id) {
                    let Some(RefOr::T(resp)) = op.responses.responses.get_mut(*status) else {
                        continue;
                    };
                    let link = params
                        .iter()
                        .fold(LinkBuilder::new().operation_id(*target), |b, (k, v)| {
                            b.parameter(*k, *v)
                        });
                    resp.links.insert((*target).to_owned(), link.build().into());
                    if params.iter().any(|(_, v)| *v == ETAG) {
                        resp.headers.entry("ETag".to_owned()).or_insert_with(|| {
                            HeaderBuilder::new()
                                .schema(Some(
                                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
                                ))
                                .description(Some(
                                    "The version made; send it as `If-Match` to change it",
                                ))
                                .build()
                                .into()
                        });
                    }
                }
            }
        }
    }
}

/// The contract as served and committed.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The committed form: pretty JSON with a final newline.
pub fn openapi_json() -> String {
    let mut s = openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}
