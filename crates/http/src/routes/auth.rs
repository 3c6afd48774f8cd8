//! Signing in and out: password, refresh-token and client-credentials
//! grants; failed attempts are limited per account and per address.

use crate::auth::{password, secrets, token_request};
use crate::dto::auth::{
    ClientGrant, PasswordGrant, RefreshGrant, RevokeRequest, TokenRequest, TokenResponse,
};
use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use clientele_persistence::audit::{self, Change};
use clientele_persistence::sessions::{self, Refresh};
use clientele_persistence::{login_failures, users};

fn invalid_grant(detail: &str) -> ApiError {
    ApiError::bad_request("invalid_grant", detail)
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// 429 when any subject has used up its failures within the window.
async fn check_rate(st: &AppState, subjects: &[(String, i64)]) -> Result<(), ApiError> {
    let now = st.now();
    let window = chrono::Duration::seconds(secs(st.config.login_window));
    let since = now - window;
    let subjects = subjects.to_vec();
    let blocked_until: Option<NaiveDateTime> = st
        .read(move |c| {
            let mut until: Option<NaiveDateTime> = None;
            for (s, max) in &subjects {
                let (n, oldest) = login_failures::count_since(c, s, since)?;
                if n >= *max {
                    let free = oldest.unwrap_or(now) + window;
                    until = Some(until.map_or(free, |u| u.max(free)));
                }
            }
            Ok(until)
        })
        .await?;
    match blocked_until {
        Some(t) => {
            let wait = (t - now).num_seconds().max(1);
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!("too many failed sign-ins; try again in {wait} seconds"),
            )
            .with_header("retry-after", wait.to_string()))
        }
        None => Ok(()),
    }
}

async fn record_failure(st: &AppState, subjects: Vec<String>) -> Result<(), ApiError> {
    let now = st.now();
    let forget = now - chrono::Duration::days(1);
    st.write(move |c| login_failures::record(c, &subjects, now, forget))
        .await
}

/// Verifies on the blocking pool: argon2 is deliberately slow.
async fn verify_secret(secret: String, hash: Option<String>) -> Result<bool, ApiError> {
    Ok(web::block(move || match hash {
        Some(h) => password::verify(&secret, &h),
        None => {
            password::verify_against_nothing(&secret);
            false
        }
    })
    .await?)
}

fn token_answer(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .insert_header(("pragma", "no-cache"))
        .json(body)
}

/// Opens a session for `user_id`, with a refresh token when `with_refresh`.
async fn open_session(
    st: &AppState,
    ctx: &ReqCtx,
    user_id: String,
    grant: &'static str,
    with_refresh: bool,
) -> Result<TokenResponse, ApiError> {
    let mut meta = ctx.meta(st, None);
    meta.actor_id = Some(user_id.clone());
    let now = meta.at;
    let access_ttl = secs(st.config.access_token_ttl);
    let lifetime = if with_refresh {
        secs(st.config.refresh_token_ttl)
    } else {
        access_ttl
    };
    let expires = now + chrono::Duration::seconds(lifetime);
    let refresh = with_refresh.then(secrets::generate);
    let refresh_hash = refresh.as_deref().map(secrets::digest);
    let ip = ctx.client_ip.clone();
    let uid = user_id.clone();
    let session = st
        .write(move |c| {
            let s = sessions::create(c, &uid, grant, now, expires, ip)?;
            if let Some(h) = &refresh_hash {
                sessions::issue_refresh(c, &s.id, h, now, expires)?;
            }
            audit::record(
                c,
                &meta,
                Change {
                    action: "signed_in",
                    entity_type: "session",
                    entity_id: &s.id,
                    before: None,
                    after: Some(serde_json::json!({"user_id": uid, "grant_type": grant})),
                },
            )?;
            Ok(s)
        })
        .await?;
    let access = st
        .jwt
        .issue(
            &user_id,
            &session.id,
            st.clock.now().timestamp(),
            access_ttl,
        )
        .map_err(|e| {
            tracing::error!(error = %e, "cannot sign access token");
            ApiError::internal()
        })?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: access_ttl,
        refresh_token: refresh,
    })
}

/// The accounts of one kind that sign in with a name and a secret.
struct Accounts {
    /// `users.kind`: `person` or `service`.
    kind: &'static str,
    /// How their failures are counted in `login_failures` (`user:`, `client:`).
    failures_as: &'static str,
    /// The answer to a wrong name or secret, or a deactivated account.
    refused: fn() -> ApiError,
}

const PEOPLE: Accounts = Accounts {
    kind: "person",
    failures_as: "user",
    refused: || invalid_grant("wrong username or password, or the account is deactivated"),
};

const SERVICE_ACCOUNTS: Accounts = Accounts {
    kind: "service",
    failures_as: "client",
    refused: || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client, wrong secret, or deactivated",
        )
        .with_header("www-authenticate", r#"Basic realm="clientele""#)
    },
};

/// The id of the active account of `accounts` named `name` whose secret
/// is `secret`. Failures are counted per account and per address, and
/// too many answer 429; an unknown name costs the same argon2 work as a
/// wrong secret.
async fn authenticate(
    st: &AppState,
    ctx: &ReqCtx,
    accounts: &Accounts,
    name: &str,
    secret: String,
) -> Result<String, ApiError> {
    let name = name.trim().to_lowercase();
    let ip = ctx.client_ip.clone().unwrap_or_else(|| "unknown".into());
    let account_key = format!("{}:{name}", accounts.failures_as);
    let ip_key = format!("ip:{ip}");
    check_rate(
        st,
        &[
            (account_key.clone(), st.config.login_max_failures_account),
            (ip_key.clone(), st.config.login_max_failures_ip),
        ],
    )
    .await?;
    let row = st.read(move |c| users::credentials(c, &name)).await?;
    let row = row.filter(|r| r.kind == accounts.kind);
    let ok = verify_secret(secret, row.as_ref().map(|r| r.password_hash.clone())).await?;
    let row = match row {
        Some(r) if ok && r.active => r,
        _ => {
            record_failure(st, vec![account_key, ip_key]).await?;
            return Err((accounts.refused)());
        }
    };
    st.write(move |c| login_failures::clear(c, &account_key))
        .await?;
    Ok(row.id)
}

async fn password_grant(
    st: &AppState,
    ctx: &ReqCtx,
    g: PasswordGrant,
) -> Result<HttpResponse, ApiError> {
    let user = authenticate(st, ctx, &PEOPLE, &g.username, g.password).await?;
    Ok(token_answer(
        open_session(st, ctx, user, "password", true).await?,
    ))
}

async fn client_grant(
    st: &AppState,
    ctx: &ReqCtx,
    g: ClientGrant,
) -> Result<HttpResponse, ApiError> {
    let account = authenticate(st, ctx, &SERVICE_ACCOUNTS, &g.client_id, g.client_secret).await?;
    Ok(token_answer(
        open_session(st, ctx, account, "client_credentials", false).await?,
    ))
}

async fn refresh_grant(st: &AppState, g: RefreshGrant) -> Result<HttpResponse, ApiError> {
    let presented = secrets::digest(g.refresh_token.trim());
    let next = secrets::generate();
    let next_hash = secrets::digest(&next);
    let now = st.now();
    let new_expiry = now + chrono::Duration::seconds(secs(st.config.refresh_token_ttl));
    let outcome = st
        .write(move |c| sessions::rotate(c, &presented, &next_hash, now, new_expiry))
        .await?;
    match outcome {
        Refresh::Rotated {
            user_id,
            session_id,
        } => {
            let ttl = secs(st.config.access_token_ttl);
            let access = st
                .jwt
                .issue(&user_id, &session_id, st.clock.now().timestamp(), ttl)
                .map_err(|_| ApiError::internal())?;
            Ok(token_answer(TokenResponse {
                access_token: access,
                token_type: "Bearer".into(),
                expires_in: ttl,
                refresh_token: Some(next),
            }))
        }
        Refresh::Reused => {
            st.principals.clear();
            Err(invalid_grant(
                "this refresh token was already used; the session has been revoked, sign in again",
            ))
        }
        Refresh::Invalid => Err(invalid_grant(
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// Obtain tokens (OAuth 2.0 token endpoint).
///
/// `password` for people, `refresh_token` to rotate (a spent refresh token
/// presented again revokes the whole session), `client_credentials` for
/// service accounts. The parameters come as a form
/// (`application/x-www-form-urlencoded`, as OAuth 2.0 clients send them)
/// or as JSON. A service account may instead authenticate with HTTP Basic
/// (`client_id:client_secret`, RFC 6749 §2.3.1), not both ways at once.
/// There are no scopes: access follows the account's roles, unit and
/// clearance, and a non-empty `scope` is refused (`invalid_scope`).
/// Faults answer 400 (401 for client authentication) with OAuth's codes
/// (`invalid_request`, `invalid_grant`, `invalid_client`,
/// `unsupported_grant_type`, `invalid_scope`), also as the members
/// `error` and `error_description` OAuth clients read. Repeated failures
/// answer 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded"),
        (TokenRequest = "application/json"),
    )),
    security((), ("client_basic" = [])),
    responses((status = 200, body = TokenResponse)))]
pub async fn issue_token(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let mut raw = payload.into_inner();
        let asked = token_request::read(&req, &mut raw, st.config.max_body_bytes).await?;
        match asked {
            TokenRequest::Password(g) => password_grant(&st, &ctx, g).await,
            TokenRequest::RefreshToken(g) => refresh_grant(&st, g).await,
            TokenRequest::ClientCredentials(g) => client_grant(&st, &ctx, g).await,
        }
    };
    answer.await.map_err(token_request::oauth_problem)
}

/// Revoke a token (OAuth 2.0 token revocation, RFC 7009).
///
/// `token` is an access token or a refresh token this server issued;
/// revoking either ends its whole session, so the other stops working at
/// once too (what `POST /auth/logout` does, without needing a live access
/// token: an app whose access token expired signs out with its refresh
/// token). Holding the token is what allows revoking it. The answer is
/// 200 whether or not the token was live, known or already revoked
/// (§2.2): it tells nothing about tokens. Parameters as a form or JSON;
/// faults as the token endpoint's (`invalid_request`, also in `error`).
#[utoipa::path(post, path = "/api/v1/auth/revoke", tag = "auth",
    request_body(content(
        (RevokeRequest = "application/x-www-form-urlencoded"),
        (RevokeRequest = "application/json"),
    )),
    responses((status = 200, description = "Revoked, or nothing to revoke: the same answer")))]
pub async fn revoke_token(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let answer = async {
        let mut raw = payload.into_inner();
        let asked =
            token_request::read_revocation(&req, &mut raw, st.config.max_body_bytes).await?;
        let token = asked.token.trim().to_owned();
        // An access token names its session; any other may be a refresh token.
        let of_access = st.jwt.verify(&token).ok().map(|claims| claims.sid);
        let digest = secrets::digest(&token);
        let mut meta = ctx.meta(&st, None);
        let ended = st
            .write(move |c| {
                let session = match of_access {
                    Some(sid) => Some(sid),
                    None => sessions::session_of_refresh(c, &digest)?,
                };
                let Some(sid) = session else {
                    return Ok(None);
                };
                if !sessions::revoke(c, &sid, "token revoked", meta.at)? {
                    return Ok(None);
                }
                meta.actor_id = Some(sessions::get(c, &sid)?.user_id);
                audit::record(
                    c,
                    &meta,
                    Change {
                        action: "signed_out",
                        entity_type: "session",
                        entity_id: &sid,
                        before: None,
                        after: Some(serde_json::json!({"via": "token_revocation"})),
                    },
                )?;
                Ok(Some(sid))
            })
            .await?;
        if let Some(sid) = ended {
            st.principals.forget_session(&sid);
        }
        Ok(HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .finish())
    };
    answer.await.map_err(token_request::oauth_problem)
}

/// Sign out: ends this session; its access and refresh tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Signed out")))]
pub async fn logout(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let meta = ctx.meta(&st, Some(&auth.0));
    let sid = auth.0.session_id.to_string();
    st.principals.forget_session(&sid);
    st.write(move |c| {
        sessions::revoke(c, &sid, "signed out", meta.at)?;
        audit::record(
            c,
            &meta,
            Change {
                action: "signed_out",
                entity_type: "session",
                entity_id: &sid,
                before: None,
                after: None,
            },
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
