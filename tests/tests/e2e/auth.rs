//! Authentication: grants, rotation, revocation, rate limits, bad tokens,
//! deactivation, service accounts.

use clientele_e2e::{TestServer, DEMO_PASSWORD, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

fn refresh(s: &TestServer, token: &str) -> clientele_e2e::Resp {
    s.call(
        "POST",
        "/api/v1/auth/token",
        None,
        Some(&json!({"grant_type": "refresh_token", "refresh_token": token})),
        &[],
    )
}

#[test]
fn password_grant_answers_with_oauth_token_fields() {
    let s = TestServer::start();
    let r = s.password_grant("demo.admin", DEMO_PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 900);
    assert!(r.json["access_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(r.json["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Names are case-insensitive on the way in.
    assert_eq!(s.password_grant("Demo.Admin", DEMO_PASSWORD).status, 200);
    let me = s.get(
        "/api/v1/me",
        r.json["access_token"].as_str().unwrap_or_default(),
    );
    assert_eq!(me.status, 200);
    assert_eq!(me.json["username"], "demo.admin");
    assert_eq!(me.json["roles"], json!(["admin"]));
    assert_eq!(me.json["clearance"], "A");
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let s = TestServer::start();
    let a = s.password_grant("demo.admin", "not-the-password");
    a.assert_problem(400, "invalid_grant");
    let b = s.password_grant("nobody.at.all", "not-the-password");
    b.assert_problem(400, "invalid_grant");
    assert_eq!(a.json["detail"], b.json["detail"]);
    // A service account cannot use the password grant.
    s.password_grant("demo-erp", "clientele-demo-erp-secret")
        .assert_problem(400, "invalid_grant");
}

#[test]
fn repeated_failures_are_rate_limited_per_account() {
    let s = TestServer::start();
    for _ in 0..5 {
        s.password_grant("demo.am.bj", "wrong-password")
            .assert_problem(400, "invalid_grant");
    }
    let blocked = s.password_grant("demo.am.bj", DEMO_PASSWORD);
    blocked.assert_problem(429, "too_many_attempts");
    let wait: i64 = blocked
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(wait > 0 && wait <= 900, "Retry-After {wait}");
    // Another account from the same address is not blocked by this one.
    assert_eq!(s.password_grant("demo.am.sh", DEMO_PASSWORD).status, 200);
}

#[test]
fn repeated_failures_are_rate_limited_per_address() {
    let s = TestServer::start_with(|c| c.login_max_failures_ip = 3);
    for name in ["a.one", "b.two", "c.three"] {
        s.password_grant(name, "wrong-password")
            .assert_problem(400, "invalid_grant");
    }
    let r = s.password_grant("demo.admin", DEMO_PASSWORD);
    r.assert_problem(429, "too_many_attempts");
    assert!(r.header("retry-after").is_some());
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_session() {
    let s = TestServer::start();
    let first = s.password_grant("demo.manager", DEMO_PASSWORD);
    let r1 = first.json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a1 = first.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = refresh(&s, &r1);
    assert_eq!(second.status, 200, "{}", second.text);
    let r2 = second.json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a2 = second.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(r1, r2);
    assert_eq!(s.get("/api/v1/me", &a2).status, 200);
    // The spent token comes back: theft. The whole family dies.
    refresh(&s, &r1).assert_problem(400, "invalid_grant");
    refresh(&s, &r2).assert_problem(400, "invalid_grant");
    s.get("/api/v1/me", &a2)
        .assert_problem(401, "invalid_token");
    s.get("/api/v1/me", &a1)
        .assert_problem(401, "invalid_token");
    // A fresh sign-in still works.
    assert_eq!(s.password_grant("demo.manager", DEMO_PASSWORD).status, 200);
    refresh(&s, "made-up-token").assert_problem(400, "invalid_grant");
}

#[test]
fn logout_ends_the_session_at_once() {
    let s = TestServer::start();
    let t = s.password_grant("demo.legal", DEMO_PASSWORD);
    let access = t.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rt = t.json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = s.call("POST", "/api/v1/auth/logout", Some(&access), None, &[]);
    assert_eq!(out.status, 204, "{}", out.text);
    s.get("/api/v1/me", &access)
        .assert_problem(401, "invalid_token");
    refresh(&s, &rt).assert_problem(400, "invalid_grant");
}

fn claims(s: &TestServer, aud: &str, iss: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    // A real session, so only the property under test is wrong.
    let token = s.token("demo.admin");
    let parts: Vec<&str> = token.split('.').collect();
    use base64::Engine;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap_or_default();
    let mut c: serde_json::Value = serde_json::from_slice(&payload).unwrap_or_default();
    c["aud"] = json!(aud);
    c["iss"] = json!(iss);
    c["exp"] = json!(now + exp_offset);
    c
}

fn sign(c: &serde_json::Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

#[test]
fn bad_tokens_get_401_with_a_challenge() {
    let s = TestServer::start();
    let good = claims(&s, "clientele-api", "clientele", 600);
    // Control: the crafted token is accepted when nothing is wrong with it.
    assert_eq!(
        s.get("/api/v1/me", &sign(&good, SECRET.as_bytes())).status,
        200
    );

    let missing = s.call("GET", "/api/v1/me", None, None, &[]);
    missing.assert_problem(401, "unauthorized");
    assert!(missing
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("Bearer")));

    use base64::Engine;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    let valid = sign(&good, SECRET.as_bytes());
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let mut tampered_claims = good.clone();
    tampered_claims["sub"] = json!(s.user_id("demo.auditor"));
    parts[1] = b64(&tampered_claims);
    let tampered = parts.join(".");
    let cases = [
        ("alg none", alg_none),
        ("tampered", tampered),
        (
            "expired",
            sign(
                &claims(&s, "clientele-api", "clientele", -120),
                SECRET.as_bytes(),
            ),
        ),
        (
            "wrong audience",
            sign(
                &claims(&s, "another-api", "clientele", 600),
                SECRET.as_bytes(),
            ),
        ),
        (
            "wrong issuer",
            sign(&claims(&s, "clientele-api", "evil", 600), SECRET.as_bytes()),
        ),
        (
            "wrong key",
            sign(&good, b"another-secret-another-secret-another-secret"),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let r = s.get("/api/v1/me", &token);
        r.assert_problem(401, "invalid_token");
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
    }
    s.raw("GET", "/api/v1/me", &[("authorization", "Basic abc")], None)
        .assert_problem(401, "invalid_token");
}

#[test]
fn deactivating_a_user_stops_their_tokens() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let victim = s.token("demo.agent");
    assert_eq!(s.get("/api/v1/me", &victim).status, 200);
    let id = s.user_id("demo.agent");
    let u = s.get(&format!("/api/v1/users/{id}"), &admin);
    let etag = u.header("etag").unwrap_or_default().to_owned();
    let r = s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        &etag,
        &json!({"active": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["active"], false);
    s.get("/api/v1/me", &victim)
        .assert_problem(401, "invalid_token");
    s.password_grant("demo.agent", DEMO_PASSWORD)
        .assert_problem(400, "invalid_grant");
}

#[test]
fn service_accounts_use_client_credentials() {
    let s = TestServer::start();
    let grant = |id: &str, secret: &str| {
        s.call(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(&json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret})),
            &[],
        )
    };
    let ok = grant("demo-erp", "clientele-demo-erp-secret");
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(
        ok.json.get("refresh_token").is_none(),
        "no refresh token for client credentials"
    );
    let token = ok.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let me = s.get("/api/v1/me", &token);
    assert_eq!(me.json["kind"], "service");
    assert_eq!(me.json["roles"], json!(["integration"]));
    let bad = grant("demo-erp", "wrong");
    bad.assert_problem(401, "invalid_client");
    // A person cannot use client credentials.
    grant("demo.admin", DEMO_PASSWORD).assert_problem(401, "invalid_client");
    // A service account sees only its scope: admin endpoints are refused.
    s.get("/api/v1/audit-log", &token)
        .assert_problem(403, "forbidden");

    // An administrator makes a new one; its secret is shown once and works.
    let admin = s.token("demo.admin");
    let fin = s.unit_id("FIN");
    let made = s.post(
        "/api/v1/service-accounts",
        &admin,
        &json!({"client_id": "erp-two", "display_name": "ERP two", "unit_id": fin}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.json["client_secret"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(grant("erp-two", &secret).status, 200);
    // Rotating the secret retires the old one and its sessions.
    let old_token = grant("erp-two", &secret).json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let id = made.json["account"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rotated = s.post(
        &format!("/api/v1/service-accounts/{id}/secret"),
        &admin,
        &json!({}),
    );
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.json["client_secret"].as_str().unwrap_or_default();
    grant("erp-two", &secret).assert_problem(401, "invalid_client");
    assert_eq!(grant("erp-two", new_secret).status, 200);
    s.get("/api/v1/me", &old_token)
        .assert_problem(401, "invalid_token");
    // Duplicate client id.
    let dup = s.post(
        "/api/v1/service-accounts",
        &admin,
        &json!({"client_id": "erp-two", "display_name": "again", "unit_id": fin}),
    );
    dup.assert_problem(409, "duplicate");
    assert_eq!(dup.json["errors"][0]["field"], "client_id");
}

/// A refused token request: its Basic header if any, its form, the
/// status and OAuth code of the answer, and the field named first.
type Refusal<'a> = (Option<&'a str>, &'a str, u16, &'a str, Option<&'a str>);

fn form_token(s: &TestServer, headers: &[(&str, &str)], form: &str) -> clientele_e2e::Resp {
    s.raw(
        "POST",
        "/api/v1/auth/token",
        headers,
        Some(("application/x-www-form-urlencoded", form.as_bytes())),
    )
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{id}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// What a stock OAuth 2.0 client sends (RFC 6749): a form body, and for a
/// service account HTTP Basic. Every fault names OAuth's code in `error`.
#[test]
fn oauth_clients_sign_in_with_forms_and_http_basic() {
    let s = TestServer::start();
    // A person, by form; `+` and `%XX` decode as a form does.
    let person = form_token(
        &s,
        &[],
        "grant_type=password&username=demo.admin&password=clientele%2Ddemo",
    );
    assert_eq!(person.status, 200, "{}", person.text);
    assert_eq!(person.header("cache-control"), Some("no-store"));
    let refresh_token = person.json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let rotated = form_token(
        &s,
        &[],
        &format!("grant_type=refresh_token&refresh_token={refresh_token}"),
    );
    assert_eq!(rotated.status, 200, "{}", rotated.text);

    // A service account, by HTTP Basic with an empty scope (left out).
    let erp = basic("demo-erp", "clientele-demo-erp-secret");
    let by_basic = form_token(
        &s,
        &[("authorization", &erp)],
        "grant_type=client_credentials&scope=",
    );
    assert_eq!(by_basic.status, 200, "{}", by_basic.text);
    assert!(by_basic.json.get("refresh_token").is_none());
    let token = by_basic.json["access_token"].as_str().unwrap_or_default();
    assert_eq!(s.get("/api/v1/me", token).json["kind"], "service");
    // The same id in the body as well is the same client.
    let named = form_token(
        &s,
        &[("authorization", &erp)],
        "grant_type=client_credentials&client_id=DEMO-ERP",
    );
    assert_eq!(named.status, 200, "{}", named.text);
    // By form credentials, as before by JSON.
    let by_form = form_token(
        &s,
        &[],
        "grant_type=client_credentials&client_id=demo-erp&client_secret=clientele-demo-erp-secret",
    );
    assert_eq!(by_form.status, 200, "{}", by_form.text);
    // People's apps are public clients: named, with no secret, they are
    // passed over.
    let app = basic("web-app", "");
    for (headers, form) in [
        (
            vec![("authorization", app.as_str())],
            "grant_type=password&username=demo.admin&password=clientele-demo",
        ),
        (
            vec![],
            "grant_type=password&username=demo.admin&password=clientele-demo&client_id=web-app",
        ),
    ] {
        let r = form_token(&s, &headers, form);
        assert_eq!(r.status, 200, "{form}: {}", r.text);
    }
    let admin = s.token("demo.admin");
    let sign_ins = || {
        let r = s.get("/api/v1/audit-log?action=signed_in&limit=200", &admin);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["items"].as_array().map_or(0, Vec::len)
    };
    let before = sign_ins();
    assert!(before >= 5, "{before}");

    // Faults: status, OAuth code, and the members OAuth clients read.
    let oauth = |r: clientele_e2e::Resp, status: u16, code: &str| {
        r.assert_problem(status, code);
        assert_eq!(r.json["error"], code, "{}", r.text);
        assert!(
            r.json["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty() && d.is_ascii()),
            "{}",
            r.text
        );
        r
    };
    let wrong = oauth(
        form_token(
            &s,
            &[("authorization", &basic("demo-erp", "wrong"))],
            "grant_type=client_credentials",
        ),
        401,
        "invalid_client",
    );
    assert_eq!(
        wrong.header("www-authenticate"),
        Some(r#"Basic realm="clientele""#)
    );
    let unreadable = oauth(
        form_token(
            &s,
            &[("authorization", "Basic not*base64")],
            "grant_type=client_credentials",
        ),
        401,
        "invalid_client",
    );
    assert!(unreadable.header("www-authenticate").is_some());
    // Refusals: who authenticates, the form, the answer, and the field
    // named first when the fault is one parameter's.
    let no_secret = basic("demo-erp", "");
    let long_app = format!(
        "grant_type=password&username=demo.admin&password=x&client_id={}",
        "a".repeat(65)
    );
    let refusals: Vec<Refusal> = vec![
        // Two ways at once, and another client in the body.
        (
            Some(&erp),
            "grant_type=client_credentials&client_secret=clientele-demo-erp-secret",
            400,
            "invalid_request",
            None,
        ),
        (
            Some(&erp),
            "grant_type=client_credentials&client_id=someone-else",
            400,
            "invalid_request",
            Some("client_id"),
        ),
        // The app's name is a parameter like any other: checked for length.
        (None, &long_app, 400, "invalid_request", Some("client_id")),
        // A people's grant with a client secret is authentication that
        // cannot be done.
        (
            Some(&erp),
            "grant_type=password&username=demo.admin&password=clientele-demo",
            401,
            "invalid_client",
            None,
        ),
        (
            None,
            "grant_type=refresh_token&refresh_token=x&client_id=web-app&client_secret=s",
            401,
            "invalid_client",
            None,
        ),
        // A service account's Basic needs its secret.
        (
            Some(&no_secret),
            "grant_type=client_credentials",
            401,
            "invalid_client",
            None,
        ),
        (
            None,
            "grant_type=password&username=demo.admin&password=wrong",
            400,
            "invalid_grant",
            None,
        ),
        (
            None,
            "grant_type=authorization_code&code=x",
            400,
            "unsupported_grant_type",
            None,
        ),
        (
            Some(&erp),
            "grant_type=client_credentials&scope=customers.read",
            400,
            "invalid_scope",
            None,
        ),
        (
            None,
            "grant_type=password&username=a&username=b&password=x",
            400,
            "invalid_request",
            Some("username"),
        ),
        (
            None,
            "grant_type=password&username=demo.admin",
            400,
            "invalid_request",
            Some("password"),
        ),
        (
            None,
            "grant_type=password&username=a%FF&password=x",
            400,
            "invalid_request",
            None,
        ),
    ];
    for (authorization, form, status, code, field) in refusals {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| ("authorization", a))
            .into_iter()
            .collect();
        let r = oauth(form_token(&s, &headers, form), status, code);
        if let Some(field) = field {
            assert_eq!(r.json["errors"][0]["field"], field, "{form}: {}", r.text);
        }
    }
    // JSON speaks the same codes: a bad shape is 400, not 422.
    let extra = s.call(
        "POST",
        "/api/v1/auth/token",
        None,
        Some(&json!({"grant_type": "password", "username": "a", "password": "b", "colour": 1})),
        &[],
    );
    let extra = oauth(extra, 400, "invalid_request");
    assert_eq!(extra.json["errors"][0]["code"], "unknown_field");
    // In Chinese the detail is translated; the description stays ASCII.
    let zh = oauth(
        form_token(
            &s,
            &[("accept-language", "zh-CN")],
            "grant_type=authorization_code",
        ),
        400,
        "unsupported_grant_type",
    );
    assert!(zh.json["detail"]
        .as_str()
        .is_some_and(|d| d.contains("授权类型")));
    // None of the refusals opened a session.
    assert_eq!(sign_ins(), before);
}

/// RFC 7009: a client revokes a refresh or an access token; either ends
/// the whole session. The answer is the same whether or not the token was
/// live, and tells nothing about it.
#[test]
fn oauth_clients_revoke_tokens() {
    let s = TestServer::start();
    let sign_in = || {
        let r = s.password_grant("demo.am.bj", DEMO_PASSWORD);
        assert_eq!(r.status, 200, "{}", r.text);
        let field = |f: &str| r.json[f].as_str().unwrap_or_default().to_owned();
        (field("access_token"), field("refresh_token"))
    };
    let revoke_form = |form: &str| {
        s.raw(
            "POST",
            "/api/v1/auth/revoke",
            &[],
            Some(("application/x-www-form-urlencoded", form.as_bytes())),
        )
    };
    let admin = s.token("demo.admin");
    let sign_outs = || {
        let r = s.get("/api/v1/audit-log?action=signed_out&limit=200", &admin);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["items"].as_array().map_or(0, Vec::len)
    };
    let before = sign_outs();

    // A refresh token, by form: its access token stops at once.
    let (access, refresh_token) = sign_in();
    assert_eq!(s.get("/api/v1/me", &access).status, 200);
    let r = revoke_form(&format!(
        "token={refresh_token}&token_type_hint=refresh_token&client_id=mobile-app"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.is_empty());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    s.get("/api/v1/me", &access)
        .assert_problem(401, "invalid_token");
    refresh(&s, &refresh_token).assert_problem(400, "invalid_grant");

    // An access token, by JSON, with the wrong hint: its refresh token dies too.
    let (access, refresh_token) = sign_in();
    let r = s.call(
        "POST",
        "/api/v1/auth/revoke",
        None,
        Some(&json!({"token": access, "token_type_hint": "refresh_token"})),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text);
    refresh(&s, &refresh_token).assert_problem(400, "invalid_grant");
    assert_eq!(sign_outs(), before + 2, "one sign-out a session ended");

    // Unknown, made-up or already revoked: the same answer, nothing written.
    for token in [refresh_token.as_str(), "made-up", access.as_str()] {
        let r = revoke_form(&format!("token={token}&token_type_hint=id_token"));
        assert_eq!(r.status, 200, "{token}: {}", r.text);
    }
    assert_eq!(sign_outs(), before + 2);

    // Bad requests, as OAuth says them.
    for (form, field) in [
        ("token_type_hint=access_token", "token"),
        ("token=&client_id=app", "token"),
        ("token=x&scope=all", "scope"),
        ("token=x&token=y", "token"),
    ] {
        let r = revoke_form(form);
        r.assert_problem(400, "invalid_request");
        assert_eq!(r.json["error"], "invalid_request", "{form}: {}", r.text);
        assert_eq!(r.json["errors"][0]["field"], field, "{form}: {}", r.text);
    }
    // A JSON null is no value for an optional parameter either.
    s.call(
        "POST",
        "/api/v1/auth/revoke",
        None,
        Some(&json!({"token": "x", "client_id": null})),
        &[],
    )
    .assert_problem(400, "invalid_request");
    s.raw(
        "POST",
        "/api/v1/auth/revoke",
        &[],
        Some(("text/plain", b"token=x")),
    )
    .assert_problem(415, "unsupported_media_type");
}
