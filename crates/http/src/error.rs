//! One error story for the API: every failure becomes an RFC 9457
//! `application/problem+json` answer with a stable `code`, per-field
//! `errors[]`, and text in the caller's language.

use crate::i18n::{self, Lang};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use clientele_persistence::error::RejectStatus;
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field that failed.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// English detail; the Chinese one comes from the catalogue by `code`.
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub headers: Vec<(&'static str, String)>,
    /// Extra members of the problem, e.g. `existing_id`.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The problem document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI naming the problem type: `urn:clientele:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id (also in `X-Request-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field errors, for validation failures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Path of the field, e.g. `roles[1]` or `username`.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
            extra: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource, or not yours to see",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }

    /// 401 with the challenge RFC 6750 asks for.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let challenge = if code == "unauthorized" {
            r#"Bearer realm="clientele""#.to_owned()
        } else {
            format!(
                r#"Bearer realm="clientele", error="invalid_token", error_description="{}""#,
                detail.replace('"', "'")
            )
        };
        Self::new(StatusCode::UNAUTHORIZED, code, detail).with_header("www-authenticate", challenge)
    }

    /// A query parameter of the wrong form: 400, naming the parameter.
    pub fn bad_parameter(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::bad_request("invalid_query", message.clone());
        e.errors = vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message,
        }];
        e
    }

    /// 422 for one field.
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::unprocessable("validation_failed", "the request has invalid fields");
        e.errors = errors;
        e
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_owned(), value);
        self
    }

    /// A plain answer for a status the framework produced itself.
    pub fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            404 => Self::new(status, "route_not_found", "no such route"),
            405 => Self::new(
                status,
                "method_not_allowed",
                "this route does not accept that method",
            ),
            413 => Self::new(status, "payload_too_large", "the request body is too large"),
            415 => Self::new(
                status,
                "unsupported_media_type",
                "send JSON with Content-Type: application/json",
            ),
            400 => Self::bad_request("bad_request", "the request is malformed"),
            s if s >= 500 => Self::internal(),
            _ => Self::new(
                status,
                "error",
                status.canonical_reason().unwrap_or("error"),
            ),
        }
    }

    pub fn to_problem(
        &self,
        lang: Lang,
        instance: Option<String>,
        request_id: Option<String>,
    ) -> Problem {
        let detail = match lang {
            Lang::Zh => i18n::zh_detail(self.code).map_or_else(
                || self.detail.clone(),
                |zh| format!("{zh}（{}）", self.detail),
            ),
            Lang::En => self.detail.clone(),
        };
        Problem {
            type_: format!("urn:clientele:problem:{}", self.code),
            title: i18n::title(self.status, lang),
            status: self.status.as_u16(),
            detail,
            code: self.code.to_owned(),
            instance,
            request_id,
            errors: self
                .errors
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    code: f.code.clone(),
                    message: match lang {
                        Lang::Zh => format!("{}（{}）", i18n::zh_field(&f.code), f.message),
                        Lang::En => f.message.clone(),
                    },
                })
                .collect(),
            extra: self.extra.clone().unwrap_or_default(),
        }
    }

    /// Renders the answer; the problem middleware renders it again with the
    /// caller's language, path and request id.
    pub fn render(
        &self,
        lang: Lang,
        instance: Option<String>,
        request_id: Option<String>,
    ) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.content_type(PROBLEM_JSON);
        res.insert_header(("cache-control", "no-store"));
        for (name, value) in &self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) {
                res.insert_header((n, v));
            }
        }
        res.json(self.to_problem(lang, instance, request_id))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.render(Lang::En, None, None)
    }
}

/// `uq_<table>_<column>` → the field the caller sent.
fn field_of_constraint(constraint: &str) -> String {
    let rest = constraint.strip_prefix("uq_").unwrap_or(constraint);
    for table in ["org_units_", "users_", "approval_rules_", "customers_"] {
        if let Some(col) = rest.strip_prefix(table) {
            return col.to_owned();
        }
    }
    rest.to_owned()
}

impl From<clientele_persistence::Error> for ApiError {
    fn from(e: clientele_persistence::Error) -> Self {
        use clientele_persistence::Error as E;
        match e {
            E::NotFound => ApiError::not_found(),
            E::Conflict { constraint } => {
                let field = field_of_constraint(&constraint);
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate",
                    format!("a record with this {field} already exists"),
                );
                err.errors.push(FieldError {
                    field: field.clone(),
                    code: "duplicate".into(),
                    message: format!("{field} is already taken"),
                });
                err
            }
            E::StaleVersion => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "the resource changed since you read it; read it again and retry with the new ETag",
            ),
            E::Rejected {
                code,
                message,
                status,
                field,
            } => {
                let status = match status {
                    RejectStatus::Conflict => StatusCode::CONFLICT,
                    RejectStatus::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
                    RejectStatus::Forbidden => StatusCode::FORBIDDEN,
                };
                let mut err = ApiError::new(status, code, message.clone());
                // The rule's own code stays the answer's; the field it
                // refused is named as a body field's fault is.
                if let Some(field) = field {
                    err.errors.push(FieldError {
                        field: field.to_owned(),
                        code: code.into(),
                        message,
                    });
                }
                err
            }
            E::Invalid {
                field,
                code,
                message,
            } => ApiError::field(field, code, message),
            E::DuplicateOf { field, existing_id } => {
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate",
                    format!("a file with this {field} exists already: one customer, one file"),
                )
                .with_extra("existing_id", serde_json::json!(existing_id));
                err.errors.push(FieldError {
                    field: field.to_owned(),
                    code: "duplicate".into(),
                    message: format!("{field} belongs to file {existing_id}"),
                });
                err
            }
            E::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "service_unavailable",
                    "the database is busy; retry shortly",
                )
                .with_header("retry-after", "1")
            }
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking pool is gone");
        ApiError::internal()
    }
}

/// Turns validator's report into field errors, with bounds in the message.
pub fn validation_errors(errs: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect(errs, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect(errs: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind as K;
    for (field, kind) in errs.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            K::Field(list) => {
                for e in list {
                    let bounds: Vec<String> = ["min", "max", "equal"]
                        .iter()
                        .filter_map(|k| e.params.get(*k).map(|v| format!("{k} {v}")))
                        .collect();
                    let message = match (&e.message, bounds.is_empty()) {
                        (Some(m), _) => m.to_string(),
                        (None, true) => format!("{path} is invalid ({})", e.code),
                        (None, false) => format!("{path} fails {}: {}", e.code, bounds.join(", ")),
                    };
                    out.push(FieldError {
                        field: path.clone(),
                        code: e.code.to_string(),
                        message,
                    });
                }
            }
            K::Struct(inner) => collect(inner, &path, out),
            K::List(items) => {
                for (i, inner) in items {
                    collect(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}
