//! The bad-input matrix: every bad request gets its documented 4xx
//! problem+json and changes nothing.

use clientele_e2e::TestServer;
use serde_json::json;

/// (what, method, path, body with its content type, status, code)
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    Option<(&'a str, Vec<u8>)>,
    u16,
    &'a str,
);

#[test]
fn bad_requests_get_problems_and_change_nothing() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let bearer = format!("Bearer {admin}");
    let auth = [("authorization", bearer.as_str())];
    let hq = s.unit_id("HQ");
    let before = s.audit_count();
    let units_before = s.get("/api/v1/units?limit=200", &admin).json["items"]
        .as_array()
        .map(Vec::len);

    let json_ct = "application/json";
    let cases: Vec<Case> = vec![
        ("malformed JSON", "POST", "/api/v1/units", Some((json_ct, b"{\"code\": ".to_vec())), 400, "malformed_json"),
        ("empty body", "POST", "/api/v1/units", Some((json_ct, Vec::new())), 400, "malformed_json"),
        ("not an object", "POST", "/api/v1/units", Some((json_ct, b"[1,2]".to_vec())), 422, "invalid_body"),
        // Every field in order, as serde alone would take it.
        ("an array of the fields", "POST", "/api/v1/units", Some((json_ct, json!([hq, "ARR", "数组单位", "branch"]).to_string().into_bytes())), 422, "invalid_body"),
        ("wrong type", "POST", "/api/v1/units", Some((json_ct, json!({"code": 5, "name": "x", "kind": "branch", "parent_id": hq}).to_string().into_bytes())), 422, "invalid_body"),
        ("missing field", "POST", "/api/v1/units", Some((json_ct, json!({"name": "x", "kind": "branch", "parent_id": hq}).to_string().into_bytes())), 422, "invalid_body"),
        ("unknown field", "POST", "/api/v1/units", Some((json_ct, json!({"code": "U", "name": "x", "kind": "branch", "parent_id": hq, "colour": "red"}).to_string().into_bytes())), 422, "invalid_body"),
        ("unknown enum", "POST", "/api/v1/units", Some((json_ct, json!({"code": "U", "name": "x", "kind": "castle", "parent_id": hq}).to_string().into_bytes())), 422, "invalid_body"),
        ("bad uuid", "POST", "/api/v1/units", Some((json_ct, json!({"code": "U", "name": "x", "kind": "branch", "parent_id": "nope"}).to_string().into_bytes())), 422, "invalid_body"),
        ("too long", "POST", "/api/v1/units", Some((json_ct, json!({"code": "U", "name": "长".repeat(201), "kind": "branch", "parent_id": hq}).to_string().into_bytes())), 422, "validation_failed"),
        ("oversize body", "POST", "/api/v1/units", Some((json_ct, vec![b' '; 70 * 1024])), 413, "payload_too_large"),
        ("wrong content type", "POST", "/api/v1/units", Some(("text/plain", b"code=U".to_vec())), 415, "unsupported_media_type"),
        ("token form without a username", "POST", "/api/v1/auth/token", Some(("application/x-www-form-urlencoded", b"grant_type=password".to_vec())), 400, "invalid_request"),
        ("token request as text", "POST", "/api/v1/auth/token", Some(("text/plain", b"grant_type=password".to_vec())), 415, "unsupported_media_type"),
        ("unknown grant", "POST", "/api/v1/auth/token", Some((json_ct, json!({"grant_type": "magic"}).to_string().into_bytes())), 400, "unsupported_grant_type"),
        ("unknown route", "GET", "/api/v1/does-not-exist", None, 404, "route_not_found"),
        ("wrong method", "DELETE", "/api/v1/units", None, 405, "method_not_allowed"),
        ("wrong method on me", "PUT", "/api/v1/me", None, 405, "method_not_allowed"),
        ("not a uuid in path", "GET", "/api/v1/units/not-a-uuid", None, 404, "not_found"),
        ("unknown id", "GET", "/api/v1/users/01900000-0000-7000-8000-000000000000", None, 404, "not_found"),
        ("bad query type", "GET", "/api/v1/users?active=maybe", None, 400, "invalid_query"),
        ("NUL in query", "GET", "/api/v1/users?q=a%00b", None, 400, "invalid_query"),
        ("GBK in query", "GET", "/api/v1/customers?name=%D1%E0%BE%A9", None, 400, "invalid_query"),
        ("GBK in an export's query", "GET", "/api/v1/customers/export?format=csv&name=%D1%E0%BE%A9", None, 400, "invalid_query"),
        ("NUL in text", "POST", "/api/v1/units", Some((json_ct, br#"{"code":"N","name":"a\u0000b","kind":"branch"}"#.to_vec())), 422, "validation_failed"),
        ("region code of letters", "POST", "/api/v1/regions", Some((json_ct, json!({"code": "11ab01", "name": "x"}).to_string().into_bytes())), 422, "validation_failed"),
        ("region name too long", "POST", "/api/v1/regions", Some((json_ct, json!({"code": "110190", "name": "区".repeat(51)}).to_string().into_bytes())), 422, "validation_failed"),
        ("region of no province", "POST", "/api/v1/regions", Some((json_ct, json!({"code": "990101", "name": "x"}).to_string().into_bytes())), 422, "validation_failed"),
        ("region unknown field", "POST", "/api/v1/regions", Some((json_ct, json!({"code": "110190", "name": "x", "level": "county"}).to_string().into_bytes())), 422, "invalid_body"),
        ("region filter of another form", "GET", "/api/v1/regions?parent=1101", None, 400, "invalid_query"),
        ("region level unknown", "GET", "/api/v1/regions?level=town", None, 400, "invalid_query"),
        ("unknown region", "GET", "/api/v1/regions/110199", None, 404, "not_found"),
        ("file in no region", "POST", "/api/v1/customers", Some((json_ct, json!({"name": "无区测试有限公司", "nature": "private", "region_code": "110199"}).to_string().into_bytes())), 422, "validation_failed"),
        ("hand-over, bad uuid", "POST", "/api/v1/customers/hand-over", Some((json_ct, json!({"from_user_id": "nope", "to_user_id": hq}).to_string().into_bytes())), 422, "invalid_body"),
        ("hand-over, missing successor", "POST", "/api/v1/customers/hand-over", Some((json_ct, json!({"from_user_id": hq}).to_string().into_bytes())), 422, "invalid_body"),
        ("hand-over, unknown people", "POST", "/api/v1/customers/hand-over", Some((json_ct, json!({"from_user_id": hq, "to_user_id": "01900000-0000-7000-8000-000000000000"}).to_string().into_bytes())), 422, "validation_failed"),
        ("level code of lower case", "POST", "/api/v1/secrecy-levels", Some((json_ct, json!({"code": "x", "name": "x", "rank": 9}).to_string().into_bytes())), 422, "validation_failed"),
        ("level rank not a number", "POST", "/api/v1/secrecy-levels", Some((json_ct, json!({"code": "X", "name": "x", "rank": "high"}).to_string().into_bytes())), 422, "invalid_body"),
        ("level rank taken", "POST", "/api/v1/secrecy-levels", Some((json_ct, json!({"code": "X", "name": "x", "rank": 1}).to_string().into_bytes())), 422, "validation_failed"),
        ("unknown level", "GET", "/api/v1/secrecy-levels/ZZ", None, 404, "not_found"),
        ("level removal without If-Match", "DELETE", "/api/v1/secrecy-levels/C", None, 428, "precondition_required"),
        ("duplicate groups, bad limit", "GET", "/api/v1/customers/duplicate-groups?limit=0", None, 400, "invalid_query"),
    ];
    for (what, method, path, body, status, code) in cases {
        let r = s.raw(
            method,
            path,
            &auth,
            body.as_ref().map(|(ct, b)| (*ct, b.as_slice())),
        );
        assert_eq!(r.status, status, "{what}: {}", r.text);
        r.assert_problem(status, code);
        assert_eq!(
            r.json["instance"],
            path.split('?').next().unwrap_or(path),
            "{what}"
        );
    }
    // Field errors name the field.
    let wrong = s.raw(
        "POST",
        "/api/v1/units",
        &auth,
        Some((
            json_ct,
            json!({"code": 5, "name": "x", "kind": "branch", "parent_id": hq})
                .to_string()
                .as_bytes(),
        )),
    );
    assert_eq!(wrong.json["errors"][0]["field"], "code");
    let missing = s.raw(
        "POST",
        "/api/v1/units",
        &auth,
        Some((
            json_ct,
            json!({"name": "x", "kind": "branch", "parent_id": hq})
                .to_string()
                .as_bytes(),
        )),
    );
    assert_eq!(missing.json["errors"][0]["field"], "code");
    assert_eq!(missing.json["errors"][0]["code"], "missing_field");
    let long = s.raw(
        "POST",
        "/api/v1/units",
        &auth,
        Some((
            json_ct,
            json!({"code": "U", "name": "长".repeat(201), "kind": "branch", "parent_id": hq})
                .to_string()
                .as_bytes(),
        )),
    );
    assert_eq!(long.json["errors"][0]["field"], "name");
    assert_eq!(long.json["errors"][0]["code"], "length");
    let nul = s.raw(
        "POST",
        "/api/v1/units",
        &auth,
        Some((
            json_ct,
            br#"{"code":"N","name":"a\u0000b","kind":"branch"}"#.as_slice(),
        )),
    );
    assert_eq!(nul.json["errors"][0]["field"], "name");
    assert_eq!(nul.json["errors"][0]["code"], "invalid_format");

    assert_eq!(s.audit_count(), before, "no bad request wrote anything");
    let units_after = s.get("/api/v1/units?limit=200", &admin).json["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(units_after, units_before);
}

#[test]
fn problems_speak_chinese_when_asked() {
    let s = TestServer::start();
    let zh = s.raw(
        "GET",
        "/api/v1/me",
        &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")],
        None,
    );
    zh.assert_problem(401, "unauthorized");
    assert_eq!(zh.json["title"], "未认证");
    assert!(
        zh.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("需要登录")),
        "{}",
        zh.text
    );
    let en = s.raw("GET", "/api/v1/me", &[("accept-language", "en-GB")], None);
    assert_eq!(en.json["title"], "Unauthorized");
    let admin = s.token("demo.admin");
    let bearer = format!("Bearer {admin}");
    let v = s.raw(
        "POST",
        "/api/v1/units",
        &[("authorization", &bearer), ("accept-language", "zh")],
        Some((
            "application/json",
            json!({"code": "", "name": "x", "kind": "branch"})
                .to_string()
                .as_bytes(),
        )),
    );
    v.assert_problem(422, "validation_failed");
    assert_eq!(v.json["title"], "无法处理的内容");
    assert!(
        v.json["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("长度")),
        "{}",
        v.text
    );
}

/// A query parameter an operation does not take is refused, on every
/// operation of the contract, before anything runs: a mistyped filter
/// (`stauts=archived`) must not pass for no filter. The check reads the
/// contract, so this also proves each route's pattern is the contract's.
#[test]
fn every_operation_refuses_a_query_parameter_it_does_not_take() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let before = s.audit_count();
    let spec: serde_json::Value =
        serde_json::from_str(&clientele_http::openapi::openapi_json()).unwrap_or_default();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, _) in item.as_object().into_iter().flatten() {
            if !["get", "post", "patch", "put", "delete"].contains(&method.as_str()) {
                continue;
            }
            let concrete = path
                .split('/')
                .map(|part| match part {
                    "{code}" => "C",
                    p if p.starts_with('{') => "0190e0b4-7c1d-7000-8000-000000000001",
                    p => p,
                })
                .collect::<Vec<_>>()
                .join("/");
            let r = s.call(
                &method.to_uppercase(),
                &format!("{concrete}?stauts=archived"),
                Some(&admin),
                Some(&json!({})),
                &[],
            );
            r.assert_problem(400, "invalid_query");
            assert_eq!(r.json["errors"][0]["field"], "stauts", "{method} {path}");
            assert_eq!(
                r.json["errors"][0]["code"], "unknown_parameter",
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked}");
    // What an operation takes still passes, and the answer names it.
    let list = s.get("/api/v1/customers?status=active&limit=5", &admin);
    assert_eq!(list.status, 200, "{}", list.text);
    let typo = s.get(
        "/api/v1/customers/export?format=csv&stauts=archived",
        &admin,
    );
    assert!(
        typo.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("status") && d.contains("format")),
        "{}",
        typo.text
    );
    assert_eq!(s.audit_count(), before);
}

/// The answers read off a raw connection: (status, headers lower-cased, body).
fn wire(s: &TestServer, request: &[u8]) -> Vec<(u16, String, String)> {
    use std::io::{Read, Write};
    let addr = s.url("").trim_start_matches("http://").to_owned();
    let mut conn = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    conn.write_all(request)
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut bytes = Vec::new();
    let _ = conn.read_to_end(&mut bytes);
    let mut answers = Vec::new();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() {
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no end of head in {}", String::from_utf8_lossy(rest)));
        let head = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
        let status = head[9..12].parse().unwrap_or(0);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap_or(0));
        let body = &rest[end + 4..end + 4 + length];
        answers.push((status, head, String::from_utf8_lossy(body).into_owned()));
        rest = &rest[end + 4 + length..];
    }
    answers
}

/// `curl 'http://host/api/v1/customers?name=燕京'` sends the name as raw
/// UTF-8, which is not a URI; the server takes it as its percent-encoding
/// (as nginx does) instead of the HTTP parser's bare 400, on every request
/// of a connection, before and after bodies of a given length, up to the
/// first sent in chunks. A body is never rewritten; after chunks, such a
/// target gets the parser's 400.
#[test]
fn a_raw_utf8_target_is_taken_as_its_percent_encoding() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let encoded = s.get("/api/v1/customers?name=%E7%87%95%E4%BA%AC", &admin);
    assert_eq!(encoded.status, 200, "{}", encoded.text);
    assert_eq!(
        encoded.json["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        encoded.text
    );

    let auth = format!("Authorization: Bearer {admin}\r\nHost: x\r\n");
    let gets = format!(
        "GET /api/v1/customers?name=燕京 HTTP/1.1\r\n{auth}\r\n\
         GET /api/v1/customers?q=燕京建设第三&limit=1 HTTP/1.1\r\n{auth}Content-Length: 0\r\n\r\n\
         GET /api/v1/customers/燕京 HTTP/1.1\r\n{auth}Connection: close\r\n\r\n"
    );
    let answers = wire(&s, gets.as_bytes());
    assert_eq!(answers.len(), 3, "{answers:?}");
    let (status, _, body) = &answers[0];
    assert_eq!(*status, 200, "{body}");
    let first: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    assert_eq!(
        first["items"], encoded.json["items"],
        "the same files as encoded"
    );
    let (status, _, body) = &answers[1];
    assert_eq!(*status, 200, "{body}");
    assert!(body.contains("北京燕京建设第三工程有限公司"), "{body}");
    let (status, head, body) = &answers[2];
    assert_eq!(*status, 404, "{body}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("x-request-id:"), "{head}");

    // Raw bytes that are not UTF-8 (GBK: 燕京) become escapes that are not
    // either: the API's own 400, naming the parameter, not the parser's.
    let gbk = [
        b"GET /api/v1/customers?name=\xd1\xe0\xbe\xa9 HTTP/1.1\r\n".as_slice(),
        auth.as_bytes(),
        b"Connection: close\r\n\r\n",
    ]
    .concat();
    let answers = wire(&s, &gbk);
    let (status, head, body) = &answers[0];
    assert_eq!(*status, 400, "{body}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    assert_eq!(problem["code"], "invalid_query", "{body}");
    assert_eq!(problem["errors"][0]["field"], "name", "{body}");
    assert_eq!(problem["errors"][0]["code"], "not_utf8", "{body}");

    // A body passes untouched, and the request after it is read as well.
    let body = json!({"name": "天津港散货物流（燕京）有限公司", "nature": "private"}).to_string();
    let post = format!(
        "POST /api/v1/customers HTTP/1.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\
         GET /api/v1/customers?name=燕京&sort=-created_at HTTP/1.1\r\n{auth}Connection: close\r\n\r\n",
        body.len()
    );
    let answers = wire(&s, post.as_bytes());
    assert_eq!(answers.len(), 2, "{answers:?}");
    let (status, _, created) = &answers[0];
    assert_eq!(*status, 201, "{created}");
    assert!(
        created.contains("天津港散货物流（燕京）有限公司"),
        "{created}"
    );
    let (status, _, found) = &answers[1];
    assert_eq!(*status, 200, "{found}");
    let found: serde_json::Value = serde_json::from_str(found).unwrap_or_default();
    assert_eq!(
        found["items"][0]["name"], "天津港散货物流（燕京）有限公司",
        "{found}"
    );

    // Chunks the server does not follow end the rewriting on their
    // connection: the next raw target gets the parser's 400.
    let body = json!({"name": "燕京分块测试有限公司", "nature": "private"}).to_string();
    let chunked = format!(
        "POST /api/v1/customers HTTP/1.1\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n\
         GET /api/v1/customers?name=燕京 HTTP/1.1\r\n{auth}Connection: close\r\n\r\n",
        body.len()
    );
    let answers = wire(&s, chunked.as_bytes());
    assert_eq!(answers.first().map(|a| a.0), Some(201), "{answers:?}");
    assert_eq!(answers.get(1).map(|a| a.0), Some(400), "{answers:?}");
}
