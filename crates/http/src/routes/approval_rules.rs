//! Approval authority (ORG-02): readable by every signed-in account, since
//! front-ends must know who can approve; edited by administrators.

use crate::dto::approval::{
    ApprovalDecision, ApprovalRule, ApprovalRuleChanges, ApprovalRulePage, DecisionQuery,
    NewApprovalRule,
};
use crate::error::ApiError;
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, PageParams, PathId, ReqCtx, ValidJson, ValidQuery,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::approval::{approving_roles, may_approve};
use clientele_core::{ApprovalSubject, Currency, Money, Role, RuleId};
use clientele_persistence::approval_rules::{self, RuleRow};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleQuery {
    #[param(min_length = 2, max_length = 64, pattern = "^[a-z][a-z0-9_]*$")]
    pub subject: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn rule_answer(status: StatusCode, row: RuleRow) -> HttpResponse {
    let location = format!("/api/v1/approval-rules/{}", row.id);
    super::versioned(status, row.version, location, ApprovalRule::from(row))
}

fn subject(raw: &str, field: &str) -> Result<ApprovalSubject, ApiError> {
    ApprovalSubject::parse(raw).map_err(|e| ApiError::field(field, e.code, e.message))
}

fn limit(minor: Option<i64>, currency: Option<&str>) -> Result<Option<Money>, ApiError> {
    let currency = match currency {
        Some(c) => {
            Currency::parse(c).map_err(|e| ApiError::field("currency", e.code, e.message))?
        }
        None => Currency::CNY,
    };
    minor
        .map(|m| {
            Money::non_negative(m, currency)
                .map_err(|e| ApiError::field("limit_minor", e.code, e.message))
        })
        .transpose()
}

/// List approval rules, by subject.
#[utoipa::path(get, path = "/api/v1/approval-rules", tag = "approvals", security(("bearer" = [])),
    params(RuleQuery), responses((status = 200, body = ApprovalRulePage)))]
pub async fn list_approval_rules(
    st: web::Data<AppState>,
    _auth: Auth,
    q: ValidQuery<RuleQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let (lim, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    let subj = q
        .subject
        .map(|s| {
            ApprovalSubject::parse(&s)
                .map_err(|e| ApiError::bad_parameter("subject", e.code, e.message))
        })
        .transpose()?;
    let page = st
        .read(move |c| {
            approval_rules::list(
                c,
                subj.as_ref().map(ApprovalSubject::as_str),
                lim,
                cursor.as_ref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(ApprovalRulePage::from_page(page, ApprovalRule::from)))
}

/// Add a rule (admin): `role` may approve `subject` up to `limit_minor`.
#[utoipa::path(post, path = "/api/v1/approval-rules", tag = "approvals", security(("bearer" = [])),
    request_body = NewApprovalRule, responses((status = 201, body = ApprovalRule)))]
pub async fn create_approval_rule(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewApprovalRule>,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let b = body.0;
    let rule = clientele_core::ApprovalRule {
        id: RuleId::new(),
        subject: subject(&b.subject, "subject")?,
        role: b.role.domain(),
        limit: limit(b.limit_minor, b.currency.as_deref())?,
    };
    let row = st
        .write(move |c| approval_rules::create(c, &meta, &rule, b.note))
        .await
        .map_err(|mut e| {
            if e.code == "duplicate" {
                e.detail = "a rule for this subject and role exists; change it instead".into();
            }
            e
        })?;
    Ok(rule_answer(StatusCode::CREATED, row))
}

/// Read one rule.
#[utoipa::path(get, path = "/api/v1/approval-rules/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), IfNoneMatch),
    responses((status = 200, body = ApprovalRule, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_approval_rule(
    st: web::Data<AppState>,
    _auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let id = id.0;
    let row = st.read(move |c| approval_rules::get(c, &id)).await?;
    Ok(rule_answer(StatusCode::OK, row))
}

/// Change a rule's cap and note (admin, `If-Match`).
#[utoipa::path(patch, path = "/api/v1/approval-rules/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = ApprovalRuleChanges, responses((status = 200, body = ApprovalRule)))]
pub async fn update_approval_rule(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<ApprovalRuleChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let id = id.0;
    let b = body.0;
    let cap = limit(b.limit_minor, b.currency.as_deref())?;
    let row = st
        .write(move |c| approval_rules::update(c, &meta, &id, if_match.0, cap, b.note))
        .await?;
    Ok(rule_answer(StatusCode::OK, row))
}

/// Remove a rule (admin, `If-Match`).
#[utoipa::path(delete, path = "/api/v1/approval-rules/{id}", tag = "approvals", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    responses((status = 204, description = "Removed")))]
pub async fn delete_approval_rule(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(auth.require(Role::Admin)?));
    let id = id.0;
    st.write(move |c| approval_rules::delete(c, &meta, &id, if_match.0))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who may approve `subject` at `amount_minor`, and may the caller (ORG-02; caps are inclusive).
#[utoipa::path(get, path = "/api/v1/approval-rules/decision", tag = "approvals", security(("bearer" = [])),
    params(DecisionQuery), responses((status = 200, body = ApprovalDecision)))]
pub async fn decide(
    st: web::Data<AppState>,
    auth: Auth,
    q: ValidQuery<DecisionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let subj = ApprovalSubject::parse(&q.subject)
        .map_err(|e| ApiError::bad_parameter("subject", e.code, e.message))?;
    let currency = match &q.currency {
        Some(c) => Currency::parse(c)
            .map_err(|e| ApiError::bad_parameter("currency", e.code, e.message))?,
        None => Currency::CNY,
    };
    let amount = q
        .amount_minor
        .map(|m| {
            Money::non_negative(m, currency)
                .map_err(|e| ApiError::bad_parameter("amount_minor", e.code, e.message))
        })
        .transpose()?;
    let s = subj.clone();
    let rules = st.read(move |c| approval_rules::for_subject(c, &s)).await?;
    Ok(HttpResponse::Ok().json(ApprovalDecision {
        subject: subj.as_str().to_owned(),
        amount_minor: q.amount_minor,
        currency: currency.as_str().to_owned(),
        approving_roles: approving_roles(&rules, &subj, amount)
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
        caller_may_approve: may_approve(&rules, &auth.0.roles, &subj, amount),
    }))
}
