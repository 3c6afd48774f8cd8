//! Request extractors: validated JSON bodies, the authenticated principal,
//! `If-Match`, paging, and the request context written into the audit log.

use crate::error::{validation_errors, ApiError, FieldError};
use crate::middleware::request_id::RequestId;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use clientele_core::{
    AccountKind, Cursor, PageLimit, Principal, Role, SessionId, UnitId, UnitPath, UserId,
};
use clientele_persistence::WriteMeta;
use futures_util::future::{ready, LocalBoxFuture, Ready};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use validator::Validate;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(ApiError::internal)
}

/// Query parameters, deserialised naming the one that failed: a bad query
/// is a 400 whose `errors` name the parameter (`limit`, `updated_since` …).
pub struct ValidQuery<T>(pub T);

impl<T> ValidQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ValidQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Self))
    }
}

/// The code of a serde error, from the kind its message starts with.
fn serde_code(message: &str, otherwise: &'static str) -> &'static str {
    [
        ("unknown field", "unknown_field"),
        ("missing field", "missing_field"),
        ("duplicate field", "duplicate"),
        ("unknown variant", "unknown_value"),
        ("invalid type", "invalid_type"),
        (crate::dto::NOT_CLEARABLE, "not_clearable"),
    ]
    .iter()
    .find(|(start, _)| message.starts_with(start))
    .map_or(otherwise, |(_, code)| code)
}

/// What chrono says of a date or time it cannot read, which names neither
/// the form it wanted nor that a date or time was meant.
const DATE_TIME_FAULTS: [&str; 6] = [
    "premature end of input",
    "input contains invalid characters",
    "trailing input",
    "input is out of range",
    "input is not enough for unique date and time",
    "no possible date and time matching input",
];

/// `message`, with the forms a date and a time take where it is chrono's
/// (`updated_since=2026-01-01` was "premature end of input").
fn with_date_time_forms(message: String) -> String {
    if DATE_TIME_FAULTS.iter().any(|w| message.starts_with(w)) {
        format!(
            "{message} (a time is RFC 3339 with its offset, as 2026-06-01T00:00:00Z or \
             2026-06-01T08:00:00+08:00; a date is 2026-06-01)"
        )
    } else {
        message
    }
}

/// Deserialises a query string as actix's `Query` does, naming the failing
/// parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = with_date_time_forms(e.inner().to_string());
        let path = e.path().to_string();
        // serde names a duplicate or missing parameter in its message.
        let field = if path == "." || path.is_empty() {
            message.split('`').nth(1).unwrap_or("").to_owned()
        } else {
            path
        };
        let code = serde_code(&message, "invalid_format");
        if field.is_empty() {
            return ApiError::bad_request(
                "invalid_query",
                format!("invalid query parameters: {message}"),
            );
        }
        ApiError::bad_parameter(&field, code, format!("query parameter {field}: {message}"))
    })
}

/// A JSON body: right media type, within the size limit, well-formed, of
/// the right shape (unknown fields refused), and valid.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = state(&req)?.config.max_body_bytes;
            let bytes = read_body(&req, &mut payload, limit, true).await?;
            let value: T = parse_json_object(&bytes)?;
            value
                .validate()
                .map_err(|e| ApiError::validation(validation_errors(&e)))?;
            Ok(ValidJson(value))
        })
    }
}

/// Reads the body within `limit`; with `json`, the media type must be JSON.
pub async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
    json: bool,
) -> Result<web::Bytes, ApiError> {
    if json {
        let ok = req.mime_type().ok().flatten().is_some_and(|m| {
            m.type_() == "application"
                && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
        });
        if !ok {
            return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    };
    if let Some(len) = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_large());
        }
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("bad_request", "the request body could not be read")
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Deserialises, naming the failing field: syntax errors are 400, shape errors 422.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the request body is empty; send a JSON object",
        ));
    }
    if has_escaped_nul(bytes) {
        // Name the string that holds it; a body that is not JSON at all
        // falls through to the syntax error below.
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return Err(ApiError::field(
                &nul_path(&value, String::new()).unwrap_or_default(),
                "invalid_format",
                "text may not contain NUL characters (\\u0000)",
            ));
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let fault = shape_fault(&e);
        let mut err = ApiError::unprocessable(
            "invalid_body",
            format!("the body does not fit the schema: {}", fault.message),
        );
        err.errors.push(fault);
        err
    })
}

/// The field a value of the wrong shape is at, and what is wrong with it.
pub fn shape_fault(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let msg = with_date_time_forms(e.inner().to_string());
    let code = serde_code(&msg, "invalid");
    let path = e.path().to_string();
    let field = match (code, path.as_str()) {
        // serde reports a missing field at its parent.
        ("missing_field", p) => {
            let name = msg.split('`').nth(1).unwrap_or("");
            if p == "." || p.is_empty() {
                name.to_owned()
            } else {
                format!("{p}.{name}")
            }
        }
        (_, ".") => String::new(),
        (_, p) => p.to_owned(),
    };
    FieldError {
        field,
        code: code.into(),
        message: msg,
    }
}

/// A request body, which is always a JSON object: serde would also read a
/// struct from an array of its fields in order, which the contract does
/// not allow and no client means.
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        // Malformed JSON stays a syntax error (400).
        let value: serde_json::Value = parse_json(bytes)?;
        let kind = match value {
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Null => "null",
            serde_json::Value::Object(_) => "an object",
        };
        let message = format!("the body is a JSON object, not {kind}");
        let mut err = ApiError::unprocessable("invalid_body", message.clone());
        err.errors.push(FieldError {
            field: String::new(),
            code: "invalid_type".into(),
            message,
        });
        return Err(err);
    }
    parse_json(bytes)
}

/// Whether a JSON text holds a `\u0000` escape (an odd run of backslashes
/// before `u0000`). Databases refuse NUL in text, so it is refused at the door.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(i, w)| {
        w == b"\\u0000" && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// Where the first string holding a NUL is, in serde_path_to_error's form
/// (`contacts[0].name`); a key holding one names the key itself.
fn nul_path(value: &serde_json::Value, at: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) => s.contains('\0').then_some(at),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            // A NUL in a key is shown escaped, never sent back raw.
            let key = k.replace('\0', "\\u0000");
            let here = if at.is_empty() {
                key
            } else {
                format!("{at}.{key}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(v, here)
            }
        }),
        _ => None,
    }
}

/// The signed-in principal. Missing, malformed, expired, tampered,
/// wrong-audience tokens, revoked sessions and deactivated users: 401.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let st = state(&req)?;
            let header = req.headers().get("authorization").ok_or_else(|| {
                ApiError::unauthorized(
                    "unauthorized",
                    "sign in: send Authorization: Bearer <access_token>",
                )
            })?;
            let token = header
                .to_str()
                .ok()
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "invalid_token",
                        "the Authorization header must be Bearer <token>",
                    )
                })?;
            let claims = st
                .jwt
                .verify(token)
                .map_err(|why| ApiError::unauthorized("invalid_token", why))?;
            if let Some(principal) = st.principals.get(&claims.sid, &claims.sub) {
                req.extensions_mut().insert(principal.user_id);
                return Ok(Auth(principal));
            }
            let now = st.now();
            let (uid, sid) = (claims.sub.clone(), claims.sid.clone());
            let row = st
                .read(move |c| clientele_persistence::users::principal(c, &uid, &sid, now))
                .await?
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "invalid_token",
                        "the session has ended or the account is deactivated",
                    )
                })?;
            let corrupt = |_| ApiError::internal();
            let roles = row
                .roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<Result<Vec<_>, _>>()
                .map_err(corrupt)?;
            let principal = Principal {
                user_id: row
                    .user_id
                    .parse::<UserId>()
                    .map_err(|_| ApiError::internal())?,
                username: row.username,
                display_name: row.display_name,
                kind: AccountKind::parse(&row.kind).ok_or_else(ApiError::internal)?,
                unit_id: row
                    .unit_id
                    .parse::<UnitId>()
                    .map_err(|_| ApiError::internal())?,
                unit_path: UnitPath::parse(&row.unit_path).map_err(corrupt)?,
                roles,
                clearance: row.clearance,
                clearance_rank: row.clearance_rank,
                session_id: claims
                    .sid
                    .parse::<SessionId>()
                    .map_err(|_| ApiError::internal())?,
            };
            req.extensions_mut().insert(principal.user_id);
            st.principals.put(claims.sid, principal.clone());
            Ok(Auth(principal))
        })
    }
}

impl Auth {
    /// Refuses (403) unless the principal holds `role`.
    pub fn require(&self, role: Role) -> Result<&Principal, ApiError> {
        if self.0.has(role) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!("this needs the {role} role")))
        }
    }

    /// Refuses (403) unless the principal may read across the organisation.
    pub fn require_reader_of_all(&self) -> Result<&Principal, ApiError> {
        if self.0.reads_everything() {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden("this needs the admin or auditor role"))
        }
    }
}

/// Who, from where, which request: the context of an audited write.
pub struct ReqCtx {
    pub request_id: String,
    pub client_ip: Option<String>,
    /// Whether the request may change files (any method but a read's).
    pub writes: bool,
}

impl ReqCtx {
    /// Who acts, from where, and when. A request that may change files is
    /// held under way until the last copy of its meta is dropped, after its
    /// transaction ended (`clientele_persistence::writes_in_flight`).
    pub fn meta(&self, st: &AppState, actor: Option<&Principal>) -> WriteMeta {
        let (at, held) = if self.writes {
            let (at, held) = st.db.writes().start(|| st.now());
            (at, Some(held))
        } else {
            (st.now(), None)
        };
        WriteMeta {
            actor_id: actor.map(|p| p.user_id.to_string()),
            request_id: Some(self.request_id.clone()),
            client_ip: self.client_ip.clone(),
            at,
            held,
        }
    }
}

/// The client address: the peer, or the first `X-Forwarded-For` hop when
/// the proxy is trusted.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        if let Some(ip) = req.connection_info().realip_remote_addr() {
            return Some(ip.to_owned());
        }
    }
    req.peer_addr().map(|a| a.ip().to_string())
}

impl FromRequest for ReqCtx {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = state(req).map(|s| s.config.trust_proxy).unwrap_or(false);
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let reads = [Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method());
        ready(Ok(ReqCtx {
            request_id,
            client_ip: client_ip(req, trust),
            writes: !reads,
        }))
    }
}

/// The version named by `If-Match`: required on updates (428 without it).
pub struct IfMatch(pub i64);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_if_match(if_match_of(req)))
    }
}

/// An `If-Match` a request may leave out (a merge): absent, `None`;
/// present, it must be one ETag as returned, like [`IfMatch`] (400
/// otherwise; a weak or unknown tag matches no version, 412).
pub struct OptionalIfMatch(pub Option<i64>);

impl FromRequest for OptionalIfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let named = if_match_of(req).map(|raw| parse_if_match(Some(raw)).map(|m| m.0));
        ready(named.transpose().map(Self))
    }
}

/// The request's `If-Match`, if any; one that is not visible ASCII as a
/// NUL, which no tag holds, so that it is refused as malformed.
fn if_match_of(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get("if-match")
        .map(|v| v.to_str().unwrap_or("\u{0}"))
}

fn parse_if_match(raw: Option<&str>) -> Result<IfMatch, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "send If-Match with the ETag you read, so a concurrent change is not overwritten",
        )
    })?;
    let bad = || {
        ApiError::bad_request(
            "invalid_header",
            "If-Match must be one ETag as returned, e.g. \"3\"",
        )
    };
    let first = raw.split(',').next().unwrap_or("").trim();
    // A weak or unknown tag is well formed but never matches (RFC 9110
    // §13.1.1): the handler answers 412 after the body has been checked.
    if first.starts_with("W/\"") && first.ends_with('"') {
        return Ok(IfMatch(NEVER));
    }
    let v = first
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(bad)?;
    Ok(IfMatch(v.parse::<i64>().unwrap_or(NEVER)))
}

/// A version no stored row has.
const NEVER: i64 = -1;

/// The strong ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `{sub_id}` of a path below a file (a contact, a document …).
pub struct PathSub(pub String);

impl FromRequest for PathSub {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("sub_id")
            .and_then(|raw| uuid::Uuid::parse_str(raw).ok())
            .map(|u| PathSub(u.to_string()))
            .ok_or_else(ApiError::not_found);
        ready(id)
    }
}

/// `If-None-Match` on a read of one versioned resource, for the contract:
/// the caching middleware answers it (`304` when a named tag is current).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfNoneMatch {
    /// ETags of copies the caller holds (`"3"`, `W/"3"`, a list, or `*`);
    /// if one is the current version the answer is `304` without a body.
    /// A customer file's read is registered all the same (CUS-08).
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// `limit` and `cursor`, checked.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

impl PageParams {
    /// The page of a query that carries `limit` and `cursor` among its
    /// own parameters.
    pub fn of(limit: Option<i64>, cursor: Option<String>) -> Self {
        Self { limit, cursor }
    }

    pub fn parse(&self) -> Result<(u32, Option<Cursor>), ApiError> {
        self.parse_with(PageLimit::parse)
    }

    /// A page of a file's parts: up to 500, all of them by default.
    pub fn parse_parts(&self) -> Result<(u32, Option<Cursor>), ApiError> {
        self.parse_with(PageLimit::parse_parts)
    }

    fn parse_with(
        &self,
        limit_of: impl FnOnce(Option<i64>) -> Result<PageLimit, clientele_core::ParseError>,
    ) -> Result<(u32, Option<Cursor>), ApiError> {
        let limit = limit_of(self.limit)
            .map_err(|e| ApiError::bad_parameter("limit", e.code, e.message))?;
        let cursor = match &self.cursor {
            Some(c) => Some(
                Cursor::decode(c)
                    .map_err(|e| ApiError::bad_request("invalid_cursor", e.message))?,
            ),
            None => None,
        };
        Ok((limit.get(), cursor))
    }
}

/// The `{id}` of the path. Anything that is not a UUID cannot exist, so it
/// is a 404, decided before any header or body is looked at.
pub struct PathId(pub String);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("id")
            .and_then(|raw| uuid::Uuid::parse_str(raw).ok())
            .map(|u| PathId(u.to_string()))
            .ok_or_else(ApiError::not_found);
        ready(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        assert_eq!(parse_if_match(Some("\"3\"")).map(|m| m.0).ok(), Some(3));
        assert_eq!(
            parse_if_match(None).err().map(|e| e.status.as_u16()),
            Some(428)
        );
        // Weak and unknown tags parse, and can never match a stored version.
        assert_eq!(
            parse_if_match(Some("W/\"3\"")).map(|m| m.0).ok(),
            Some(NEVER)
        );
        assert_eq!(
            parse_if_match(Some("3")).err().map(|e| e.status.as_u16()),
            Some(400)
        );
        assert_eq!(
            parse_if_match(Some("\"abc\"")).map(|m| m.0).ok(),
            Some(NEVER)
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        n: i32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Dated {
        since: Option<chrono::DateTime<chrono::Utc>>,
        day: Option<chrono::NaiveDate>,
    }

    #[test]
    fn a_date_or_time_not_read_says_the_forms_it_takes() {
        let faults = [
            parse_query::<Dated>("since=2026-01-01").err(),
            parse_query::<Dated>("since=yesterday").err(),
            parse_json::<Dated>(br#"{"day": "2026-13-01"}"#).err(),
        ];
        for fault in faults {
            let fault = fault.unwrap_or_else(|| panic!("read"));
            assert!(fault.errors[0].message.contains("RFC 3339"), "{fault:?}");
            assert!(
                fault.detail.contains("2026-06-01T08:00:00+08:00"),
                "{fault:?}"
            );
        }
        assert!(parse_query::<Dated>("since=2026-01-01T08:00:00%2B08:00").is_ok());
        let not_a_date = parse_json::<Sample>(br#"{"name": 1, "n": 1}"#).err();
        assert!(!not_a_date.is_some_and(|e| e.detail.contains("RFC 3339")));
    }

    #[test]
    fn nul_escapes_are_found_but_escaped_backslashes_are_not() {
        assert!(has_escaped_nul(br#"{"a":"x\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"x\\u0000"}"#));
        assert!(has_escaped_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"u0000"}"#));
    }

    #[test]
    fn a_nul_names_the_string_that_holds_it() {
        let field = |body: &[u8]| {
            parse_json::<serde_json::Value>(body)
                .err()
                .map(|e| (e.status.as_u16(), e.errors[0].field.clone()))
        };
        assert_eq!(field(br#"{"name":"a\u0000b"}"#), Some((422, "name".into())));
        assert_eq!(
            field(br#"{"ok":"x","contacts":[{"n":"y"},{"n":"\u0000"}]}"#),
            Some((422, "contacts[1].n".into()))
        );
        assert_eq!(field(br#"{"k\u0000":1}"#), Some((422, "k\\u0000".into())));
        // Not JSON at all: the syntax error, not the NUL, is the answer.
        assert_eq!(
            parse_json::<serde_json::Value>(br#"{"a":"\u0000"#)
                .err()
                .map(|e| e.code),
            Some("malformed_json")
        );
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct SampleQuery {
        limit: Option<u32>,
        since: Option<chrono::DateTime<chrono::Utc>>,
        status: Option<SampleStatus>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum SampleStatus {
        Active,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let named = |q: &str| {
            parse_query::<SampleQuery>(q).err().map(|e| {
                (
                    e.status.as_u16(),
                    e.errors[0].field.clone(),
                    e.errors[0].code.clone(),
                )
            })
        };
        assert_eq!(
            named("limit=99999999999"),
            Some((400, "limit".into(), "invalid_format".into()))
        );
        assert_eq!(
            named("since=2026-13-01T00:00:00Z"),
            Some((400, "since".into(), "invalid_format".into()))
        );
        assert_eq!(
            named("status=x"),
            Some((400, "status".into(), "unknown_value".into()))
        );
        assert_eq!(
            named("limit=1&limit=2"),
            Some((400, "limit".into(), "duplicate".into()))
        );
        assert!(parse_query::<SampleQuery>("limit=5&status=active&other=1").is_ok());
        assert!(parse_query::<SampleQuery>("since=2026-12-01T00%3A00%3A00%2B08%3A00").is_ok());
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Sample>(b"{\"name\":\"a\",\"n\":\"x\"}").err();
        assert_eq!(e.as_ref().map(|e| e.status.as_u16()), Some(422));
        assert_eq!(e.map(|e| e.errors[0].field.clone()), Some("n".to_owned()));
        let e = parse_json::<Sample>(b"{\"name\":\"a\"}").err();
        assert_eq!(
            e.map(|e| (e.errors[0].field.clone(), e.errors[0].code.clone())),
            Some(("n".into(), "missing_field".into()))
        );
        let e = parse_json::<Sample>(b"{\"name\":\"a\",\"n\":1,\"zz\":1}").err();
        assert_eq!(
            e.map(|e| e.errors[0].code.clone()),
            Some("unknown_field".to_owned())
        );
        let e = parse_json::<Sample>(b"{\"name\":").err();
        assert_eq!(e.map(|e| e.code), Some("malformed_json"));
        let e = parse_json::<Sample>(b"   ").err();
        assert_eq!(e.map(|e| e.code), Some("malformed_json"));
    }

    #[test]
    fn a_body_is_an_object_never_an_array_of_its_fields() {
        // serde alone reads this as a Sample.
        assert!(parse_json::<Sample>(br#"["a", 1]"#).is_ok());
        let e = parse_json_object::<Sample>(br#" ["a", 1]"#).err();
        assert_eq!(
            e.as_ref()
                .map(|e| (e.status.as_u16(), e.code, e.errors[0].code.as_str())),
            Some((422, "invalid_body", "invalid_type"))
        );
        assert!(e.is_some_and(|e| e.detail.contains("not an array")));
        let e = parse_json_object::<Sample>(b"null").err();
        assert!(e.is_some_and(|e| e.detail.contains("not null")));
        let e = parse_json_object::<Sample>(b"[1,").err();
        assert_eq!(e.map(|e| e.code), Some("malformed_json"));
        let e = parse_json_object::<Sample>(b"  ").err();
        assert_eq!(e.map(|e| e.code), Some("malformed_json"));
        assert!(parse_json_object::<Sample>(br#" {"name": "a", "n": 1}"#).is_ok());
    }
}
