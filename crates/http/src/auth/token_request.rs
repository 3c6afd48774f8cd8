//! A token request as OAuth 2.0 clients send it (RFC 6749): its parameters
//! as a form (`application/x-www-form-urlencoded`, §4.3.2, §4.4.2, §6) or
//! as JSON, a service account's credentials in the body or in HTTP Basic
//! (§2.3.1), and its faults answered with OAuth's error codes (§5.2), so
//! that an ERP's stock OAuth client signs in unchanged. A revocation
//! request (RFC 7009) is read the same way.

use crate::dto::auth::{RevokeRequest, TokenRequest};
use crate::error::{validation_errors, ApiError, FieldError};
use crate::extract::{parse_json_object, read_body, shape_fault};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use validator::Validate;

/// OAuth's error codes (§5.2). A problem with one of them also carries
/// `error` and `error_description`, the members OAuth clients read.
const OAUTH_CODES: [&str; 6] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

const GRANTS: [&str; 3] = ["password", "refresh_token", "client_credentials"];

/// Reads and checks the request: its body within `limit` bytes, the
/// client of an `Authorization: Basic` header, the grant it asks for.
pub async fn read(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<TokenRequest, ApiError> {
    let mut params = body_params(req, payload, limit).await?;
    let grant = grant_type(&params)?;
    let basic = basic_client(req)?;
    if grant == "client_credentials" {
        if let Some((id, secret)) = basic {
            take_basic_client(&mut params, id, secret)?;
        }
    } else {
        pass_over_public_client(&mut params, basic)?;
    }
    refuse_scope(&mut params)?;
    let params = Value::Object(params);
    Ok(match grant {
        "password" => TokenRequest::Password(typed(params)?),
        "refresh_token" => TokenRequest::RefreshToken(typed(params)?),
        _ => TokenRequest::ClientCredentials(typed(params)?),
    })
}

/// Reads a revocation request (RFC 7009 §2.1): its body within `limit`
/// bytes, as a form or JSON.
pub async fn read_revocation(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<RevokeRequest, ApiError> {
    let params = body_params(req, payload, limit).await?;
    typed(Value::Object(params))
}

/// The problem as OAuth clients read it: with `error` and an ASCII
/// `error_description` (§5.2 allows no other characters) beside `code`
/// and the detail in the caller's language.
pub fn oauth_problem(e: ApiError) -> ApiError {
    if !OAUTH_CODES.contains(&e.code) {
        return e;
    }
    let description: String = e
        .detail
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect();
    let code = e.code;
    e.with_extra("error", Value::from(code))
        .with_extra("error_description", Value::from(description))
}

fn invalid_request(detail: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", detail)
}

fn invalid_parameter(field: &str, code: &str, message: &str) -> ApiError {
    let mut e = invalid_request(message.to_owned());
    e.errors.push(FieldError {
        field: field.to_owned(),
        code: code.to_owned(),
        message: message.to_owned(),
    });
    e
}

/// A body that is not a set of parameters is a malformed request (§5.2),
/// whatever the rest of the API would call it.
fn as_invalid_request(mut e: ApiError) -> ApiError {
    if matches!(e.status.as_u16(), 400 | 422) {
        e.status = StatusCode::BAD_REQUEST;
        e.code = "invalid_request";
    }
    e
}

async fn body_params(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let mime = req.mime_type().ok().flatten();
    let form = mime
        .as_ref()
        .is_some_and(|m| m.type_() == "application" && m.subtype() == "x-www-form-urlencoded");
    let json = mime.as_ref().is_some_and(|m| {
        m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
    });
    if !form && !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the token request as a form (application/x-www-form-urlencoded) or as JSON \
             (application/json)",
        ));
    }
    let bytes = read_body(req, payload, limit, false).await?;
    if form {
        form_params(&bytes)
    } else {
        parse_json_object(&bytes).map_err(as_invalid_request)
    }
}

/// The form's parameters. One sent without a value counts as left out
/// (§3.1), and none may come twice (§3.2).
fn form_params(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| invalid_request("the form is not UTF-8 text"))?;
    let mut params = Map::new();
    let mut seen = std::collections::BTreeSet::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decoded(name)?;
        let value = form_decoded(value)?;
        if !seen.insert(name.clone()) {
            return Err(invalid_parameter(
                &name,
                "duplicate",
                "a parameter is sent more than once",
            ));
        }
        if !value.is_empty() {
            params.insert(name, Value::String(value));
        }
    }
    Ok(params)
}

/// One name or value of a form: `+` is a space, `%XX` a byte, and the
/// bytes must be UTF-8 text without NUL.
fn form_decoded(part: &str) -> Result<String, ApiError> {
    let spaced = part.replace('+', " ");
    let text = percent_decode_str(&spaced)
        .decode_utf8()
        .map_err(|_| invalid_request("a parameter of the form is not UTF-8 once decoded"))?;
    if text.contains('\0') {
        return Err(invalid_request(
            "a parameter of the form holds a NUL character (%00)",
        ));
    }
    Ok(text.into_owned())
}

fn grant_type(params: &Map<String, Value>) -> Result<&'static str, ApiError> {
    match params.get("grant_type") {
        None => Err(invalid_parameter(
            "grant_type",
            "missing_field",
            "grant_type is required: password, refresh_token or client_credentials",
        )),
        Some(Value::String(asked)) => {
            GRANTS.iter().find(|g| *g == asked).copied().ok_or_else(|| {
                let shown: String = asked.chars().take(64).collect();
                ApiError::bad_request(
                    "unsupported_grant_type",
                    format!(
                        "grant_type `{shown}` is not offered here: use password, refresh_token \
                         or client_credentials"
                    ),
                )
            })
        }
        Some(_) => Err(invalid_parameter(
            "grant_type",
            "invalid_type",
            "grant_type is a string",
        )),
    }
}

/// 401 for client credentials in HTTP Basic that cannot be read: the
/// client tried the Authorization header, so it gets its scheme's
/// challenge (§5.2).
fn unreadable_basic(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        format!("the Basic credentials cannot be read: {why}"),
    )
    .with_header("www-authenticate", r#"Basic realm="clientele""#)
}

/// The client id and secret of an `Authorization: Basic` header, each
/// form-encoded inside it (§2.3.1). Another scheme (a stale bearer token)
/// is not client authentication and is left alone.
fn basic_client(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    let Some(header) = req.headers().get("authorization") else {
        return Ok(None);
    };
    let raw = header.as_bytes();
    if raw.len() < 6 || !raw[..6].eq_ignore_ascii_case(b"basic ") {
        return Ok(None);
    }
    let encoded = std::str::from_utf8(&raw[6..])
        .map_err(|_| unreadable_basic("they are not base64"))?
        .trim();
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|_| unreadable_basic("they are not base64"))?;
    let text =
        String::from_utf8(decoded).map_err(|_| unreadable_basic("they are not UTF-8 text"))?;
    let (id, secret) = text
        .split_once(':')
        .ok_or_else(|| unreadable_basic("they hold no `:` between client id and secret"))?;
    let id = form_decoded(id).map_err(|e| unreadable_basic(&e.detail))?;
    let secret = form_decoded(secret).map_err(|e| unreadable_basic(&e.detail))?;
    if id.is_empty() {
        return Err(unreadable_basic("the client id is empty"));
    }
    Ok(Some((id, secret)))
}

/// Puts the Basic client of a `client_credentials` grant into the
/// parameters. A client authenticates one way at a time (§2.3).
fn take_basic_client(
    params: &mut Map<String, Value>,
    id: String,
    secret: String,
) -> Result<(), ApiError> {
    if secret.is_empty() {
        return Err(unreadable_basic("the secret is empty"));
    }
    if params.contains_key("client_secret") {
        return Err(invalid_request(
            "the client authenticates twice: send its secret in the Authorization header or in \
             the body, not both",
        ));
    }
    let same = |v: &Value| {
        v.as_str()
            .is_some_and(|body| body.trim().eq_ignore_ascii_case(id.trim()))
    };
    if params.get("client_id").is_some_and(|v| !same(v)) {
        return Err(invalid_parameter(
            "client_id",
            "mismatch",
            "client_id in the body names another client than the Authorization header",
        ));
    }
    params.insert("client_id".into(), Value::String(id));
    params.insert("client_secret".into(), Value::String(secret));
    Ok(())
}

/// People's grants (`password`, `refresh_token`) come from public clients
/// — a web or phone app, which holds no secret — and stock OAuth
/// libraries name that app anyway: as `client_id` in the body, or as
/// HTTP Basic with an empty secret (requests-oauthlib does so by
/// default). The app's name is passed over (a `client_id` in the body is
/// a documented parameter of these grants), as there are no clients of
/// people's apps to check it against. A client secret, though, would be
/// authentication this server cannot perform: refused as an unknown
/// client (§5.2), never ignored.
fn pass_over_public_client(
    params: &mut Map<String, Value>,
    basic: Option<(String, String)>,
) -> Result<(), ApiError> {
    let secret_in_body = params.remove("client_secret").is_some();
    let secret_in_basic = basic.is_some_and(|(_, secret)| !secret.is_empty());
    if secret_in_body || secret_in_basic {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "people's grants take no client secret: there are no confidential clients of \
             people's apps here; name the app by client_id alone, or not at all",
        )
        .with_header("www-authenticate", r#"Basic realm="clientele""#));
    }
    Ok(())
}

/// Access here follows an account's roles, unit and clearance, not
/// scopes: an empty scope is no scope; any other is refused rather than
/// silently granted something else.
fn refuse_scope(params: &mut Map<String, Value>) -> Result<(), ApiError> {
    match params.remove("scope") {
        None => Ok(()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(()),
        Some(Value::String(_)) => Err(ApiError::bad_request(
            "invalid_scope",
            "scopes are not offered: an account's access follows its roles, unit and \
             clearance; leave scope out",
        )),
        Some(_) => Err(invalid_parameter(
            "scope",
            "invalid_type",
            "scope is a string",
        )),
    }
}

/// The parameters as the grant's own type, checked by its rules.
fn typed<T: DeserializeOwned + Validate>(params: Value) -> Result<T, ApiError> {
    let grant: T = serde_path_to_error::deserialize(params).map_err(|e| {
        let fault = shape_fault(&e);
        let mut err = invalid_request(format!(
            "the parameters do not fit the request: {}",
            fault.message
        ));
        err.errors.push(fault);
        err
    })?;
    grant.validate().map_err(|e| {
        let mut err = invalid_request("the request has invalid parameters");
        err.errors = validation_errors(&e);
        err
    })?;
    Ok(grant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reads_plus_as_space_and_percent_escapes_as_utf8() {
        let p = form_params(b"grant_type=password&username=li+lei&password=%E5%AF%86%2B1")
            .unwrap_or_default();
        assert_eq!(p["username"], "li lei");
        assert_eq!(p["password"], "密+1");
    }

    #[test]
    fn a_form_parameter_without_a_value_is_left_out() {
        let p = form_params(b"grant_type=client_credentials&scope=&client_id").unwrap_or_default();
        assert!(p.get("scope").is_none());
        assert!(p.get("client_id").is_none());
    }

    #[test]
    fn a_form_parameter_sent_twice_is_refused() {
        let e = form_params(b"grant_type=password&grant_type=password").err();
        assert_eq!(e.map(|e| e.code), Some("invalid_request"));
    }

    #[test]
    fn a_form_that_is_not_utf8_or_holds_nul_is_refused() {
        assert!(form_params(b"username=%FF").is_err());
        assert!(form_params(b"username=a%00b").is_err());
        assert!(form_params(b"username=\xff").is_err());
    }

    #[test]
    fn an_unknown_grant_type_is_unsupported_not_malformed() {
        let mut p = Map::new();
        p.insert("grant_type".into(), Value::from("authorization_code"));
        assert_eq!(
            grant_type(&p).err().map(|e| e.code),
            Some("unsupported_grant_type")
        );
    }

    #[test]
    fn oauth_problems_carry_error_and_an_ascii_description() {
        let e = oauth_problem(ApiError::bad_request(
            "invalid_grant",
            "wrong \"name\" — or",
        ));
        let extra = e.extra.unwrap_or_default();
        assert_eq!(extra["error"], "invalid_grant");
        assert_eq!(extra["error_description"], "wrong 'name' ? or");
        let other = oauth_problem(ApiError::bad_request("too_many_attempts", "wait"));
        assert!(other.extra.is_none());
    }
}
