//! Secrecy levels as configuration (CUS-07) through HTTP.

use clientele_e2e::{Resp, TestServer};
use serde_json::json;

fn codes(r: &Resp) -> Vec<String> {
    r.json
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn etag(r: &Resp) -> String {
    r.header("etag").unwrap_or_default().to_owned()
}

#[test]
fn r_cus_07_administrators_configure_the_ordered_levels() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let manager = s.token("demo.manager");
    let levels = "/api/v1/secrecy-levels";

    // Only administrators configure; bad levels change nothing.
    let before = s.audit_count();
    s.post(
        levels,
        &manager,
        &json!({"code": "S", "name": "绝密", "rank": 4}),
    )
    .assert_problem(403, "forbidden");
    for (body, field, code) in [
        (
            json!({"code": "s", "name": "绝密", "rank": 4}),
            "code",
            "invalid_format",
        ),
        (
            json!({"code": "B", "name": "又一个", "rank": 4}),
            "code",
            "duplicate",
        ),
        (
            json!({"code": "S", "name": "绝密", "rank": 2}),
            "rank",
            "rank_taken",
        ),
        (
            json!({"code": "S", "name": "   ", "rank": 4}),
            "name",
            "invalid_length",
        ),
    ] {
        let r = s.post(levels, &admin, &body);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
        assert_eq!(r.json["errors"][0]["code"], code, "{}", r.text);
    }
    s.post(
        levels,
        &admin,
        &json!({"code": "S", "name": "x", "rank": 0}),
    )
    .assert_problem(422, "validation_failed");
    assert_eq!(s.audit_count(), before);

    // A level above the highest: files there are hidden from everyone
    // cleared below it, auditors included.
    let top = s.post(
        levels,
        &admin,
        &json!({"code": "S", "name": "绝密 top secret", "rank": 4}),
    );
    assert_eq!(top.status, 201, "{}", top.text);
    assert_eq!(top.header("location"), Some("/api/v1/secrecy-levels/S"));
    assert_eq!(etag(&top), "\"1\"");
    let me = s.get("/api/v1/me", &admin);
    let admin_path = format!(
        "/api/v1/users/{}",
        me.json["id"].as_str().unwrap_or_default()
    );
    let admin_user = s.get(&admin_path, &admin);
    let raised = s.patch(
        &admin_path,
        &admin,
        &etag(&admin_user),
        &json!({"clearance": "S"}),
    );
    assert_eq!(raised.status, 200, "{}", raised.text);
    let file = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "绝密级测试有限公司", "nature": "state_owned", "secrecy_level": "S"}),
    );
    assert_eq!(file.status, 201, "{}", file.text);
    let path = format!(
        "/api/v1/customers/{}",
        file.json["id"].as_str().unwrap_or_default()
    );
    let auditor = s.token("demo.auditor");
    s.get(&path, &auditor).assert_problem(404, "not_found");

    // Renumbered in order (to make room), the levels read the same files.
    let up = s.patch(
        &format!("{levels}/S"),
        &admin,
        "\"1\"",
        &json!({"rank": 40}),
    );
    assert_eq!(up.status, 200, "{}", up.text);
    let a = s.get(&format!("{levels}/A"), &admin);
    let moved = s.patch(
        &format!("{levels}/A"),
        &admin,
        &etag(&a),
        &json!({"rank": 30}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(etag(&moved), "\"2\"");
    let b = s.get(&format!("{levels}/B"), &admin);
    let crossed = s.patch(
        &format!("{levels}/B"),
        &admin,
        &etag(&b),
        &json!({"rank": 31}),
    );
    crossed.assert_problem(422, "validation_failed");
    assert_eq!(crossed.json["errors"][0]["code"], "order_changed");
    let secret = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "机密级测试有限公司", "nature": "state_owned", "secrecy_level": "A"}),
    );
    let secret_path = format!(
        "/api/v1/customers/{}",
        secret.json["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        s.get(&secret_path, &auditor).status,
        200,
        "A-cleared still reads A"
    );
    s.get(&path, &auditor).assert_problem(404, "not_found");

    // A level between B and A, and a new lowest one, the default for new files.
    let between = s.post(
        levels,
        &admin,
        &json!({"code": "AB", "name": "内部", "rank": 10}),
    );
    assert_eq!(between.status, 201, "{}", between.text);
    let patch_rank = |code: &str, rank: i32| {
        let l = s.get(&format!("{levels}/{code}"), &admin);
        s.patch(
            &format!("{levels}/{code}"),
            &admin,
            &etag(&l),
            &json!({"rank": rank}),
        )
    };
    patch_rank("B", 20).assert_problem(422, "validation_failed");
    for (code, rank) in [("B", 5), ("C", 3)] {
        let r = patch_rank(code, rank);
        assert_eq!(r.status, 200, "{code}: {}", r.text);
    }
    let lowest = s.post(
        levels,
        &admin,
        &json!({"code": "D", "name": "公开", "rank": 1}),
    );
    assert_eq!(lowest.status, 201, "{}", lowest.text);
    let listed = s.get(levels, &manager);
    assert_eq!(codes(&listed), vec!["D", "C", "B", "AB", "A", "S"]);
    let plain = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "公开级测试有限公司", "nature": "private"}),
    );
    assert_eq!(plain.json["secrecy_level"], "D", "{}", plain.text);
    let renamed = s.patch(
        &format!("{levels}/AB"),
        &admin,
        &etag(&between),
        &json!({"name": "内部资料"}),
    );
    assert_eq!(renamed.json["name"], "内部资料", "{}", renamed.text);

    // Removed only when nothing has it, and never the last.
    let s_level = s.get(&format!("{levels}/S"), &admin);
    let in_use = s.call(
        "DELETE",
        &format!("{levels}/S"),
        Some(&admin),
        None,
        &[("if-match", etag(&s_level).as_str())],
    );
    in_use.assert_problem(409, "level_in_use");
    let gone = s.call(
        "DELETE",
        &format!("{levels}/AB"),
        Some(&admin),
        None,
        &[("if-match", etag(&renamed).as_str())],
    );
    assert_eq!(gone.status, 204, "{}", gone.text);
    s.get(&format!("{levels}/AB"), &admin)
        .assert_problem(404, "not_found");
    s.get(&format!("{levels}/ab"), &admin)
        .assert_problem(404, "not_found");
    let audited = s.get(
        "/api/v1/audit-log?entity_type=secrecy_level&limit=50",
        &auditor,
    );
    let actions: Vec<&str> = audited.json["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        actions.iter().filter(|a| **a == "created").count(),
        3,
        "{actions:?}"
    );
    assert!(actions.contains(&"deleted"));
}

/// Two renumberings at once, each keeping the order on its own, would
/// together swap two levels: one of them is refused.
#[test]
fn r_cus_07_renumberings_at_once_keep_the_order() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let levels = "/api/v1/secrecy-levels";
    for round in 0..6 {
        let base = 1000 * (round + 1);
        let (low, high) = (format!("P{round}"), format!("Q{round}"));
        for (code, rank) in [(&low, base), (&high, base + 10)] {
            let r = s.post(
                levels,
                &admin,
                &json!({"code": code, "name": code, "rank": rank}),
            );
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let (one, other) = std::thread::scope(|sc| {
            let one = sc.spawn(|| {
                s.patch(
                    &format!("{levels}/{low}"),
                    &admin,
                    "\"1\"",
                    &json!({"rank": base + 9}),
                )
                .status
            });
            let other = sc.spawn(|| {
                s.patch(
                    &format!("{levels}/{high}"),
                    &admin,
                    "\"1\"",
                    &json!({"rank": base + 1}),
                )
                .status
            });
            (one.join().unwrap_or(0), other.join().unwrap_or(0))
        });
        let mut both = [one, other];
        both.sort_unstable();
        assert_eq!(both, [200, 422], "round {round}");
        let listed = s.get(levels, &admin);
        let order: Vec<String> = codes(&listed)
            .into_iter()
            .filter(|c| *c == low || *c == high)
            .collect();
        assert_eq!(order, vec![low.clone(), high.clone()], "round {round}");
    }
}
