//! Counts of files by classification (CUS-03: used for analysis) through
//! HTTP.

use clientele_e2e::TestServer;
use serde_json::{json, Value};

/// (key, count) of each group, in the answer's order.
fn groups(v: &Value) -> Vec<(Value, i64)> {
    v["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| (g["key"].clone(), g["count"].as_i64().unwrap_or(-1)))
        .collect()
}

#[test]
fn r_cus_03_files_are_counted_by_classification() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let (bj, sh, team) = (s.unit_id("BJ"), s.unit_id("SH"), s.unit_id("BJ-P1"));
    let files = [
        json!({"name": "统计甲建设有限公司", "nature": "state_owned", "industry": "建筑业",
               "region_code": "110105", "status": "active", "owner_unit_id": bj,
               "owner_user_id": s.user_id("demo.am.bj")}),
        json!({"name": "统计乙建设有限公司", "nature": "private", "industry": "建筑业",
               "region_code": "110108", "status": "prospect", "owner_unit_id": bj}),
        json!({"name": "统计丙贸易有限公司", "nature": "private", "region_code": "310115",
               "status": "active", "owner_unit_id": sh}),
        json!({"name": "统计丁科技有限公司", "nature": "private", "region_code": "110105",
               "status": "active", "owner_unit_id": team, "secrecy_level": "B"}),
    ];
    for mut file in files {
        file["tags"] = json!(["统计测试"]);
        let made = s.post("/api/v1/customers", &admin, &file);
        assert_eq!(made.status, 201, "{}", made.text);
    }
    let auditor = s.token("demo.auditor");
    let admin_id = s.user_id("demo.admin");
    let registered = || {
        let r = s.get(
            &format!("/api/v1/access-register?actor_id={admin_id}&limit=200"),
            &auditor,
        );
        r.json["items"].as_array().map(Vec::len).unwrap_or(0)
    };
    let before = registered();

    let count = |token: &str, query: &str| {
        let r = s.get(
            &format!("/api/v1/customers/counts?tag=统计测试&{query}"),
            token,
        );
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r
    };
    let by_nature = count(&admin, "by=nature");
    assert_eq!(by_nature.json["by"], "nature");
    assert_eq!(by_nature.json["total"], 4);
    assert_eq!(
        groups(&by_nature.json),
        vec![(json!("private"), 3), (json!("state_owned"), 1)]
    );
    let by_province = count(&admin, "by=province");
    assert_eq!(
        groups(&by_province.json),
        vec![(json!("11"), 3), (json!("31"), 1)]
    );
    assert_eq!(by_province.json["groups"][0]["name"], "北京市");
    let by_region = count(&admin, "by=region");
    assert_eq!(
        groups(&by_region.json),
        vec![
            (json!("110105"), 2),
            (json!("110108"), 1),
            (json!("310115"), 1)
        ]
    );
    assert!(
        by_region.json["groups"][0]["name"]
            .as_str()
            .is_some_and(|n| n.contains("朝阳区")),
        "{}",
        by_region.text
    );
    // Files without an industry are a group of their own.
    let by_industry = count(&admin, "by=industry");
    assert_eq!(
        groups(&by_industry.json),
        vec![(Value::Null, 2), (json!("建筑业"), 2)]
    );
    let by_unit = count(&admin, "by=owner_unit");
    let mut ones = [sh.clone(), team.clone()];
    ones.sort();
    assert_eq!(
        groups(&by_unit.json),
        vec![(json!(bj), 2), (json!(ones[0]), 1), (json!(ones[1]), 1)]
    );
    assert_eq!(by_unit.json["groups"][0]["name"], "北京分公司");
    let by_keeper = count(&admin, "by=owner_user");
    // Files without a keeper are a group of their own.
    assert_eq!(
        groups(&by_keeper.json),
        vec![(Value::Null, 3), (json!(s.user_id("demo.am.bj")), 1)]
    );
    // Filters narrow as in the list.
    let beijing_active = count(&admin, "by=status&region=11&status=active");
    assert_eq!(groups(&beijing_active.json), vec![(json!("active"), 2)]);

    // Each counts what they may see: the Beijing account manager (C)
    // neither Shanghai's file nor the B-level one; the Beijing manager (B)
    // the team's too.
    let am = s.token("demo.am.bj");
    assert_eq!(count(&am, "by=nature").json["total"], 2);
    let manager = s.token("demo.manager.bj");
    assert_eq!(count(&manager, "by=secrecy_level").json["total"], 3);
    assert_eq!(
        groups(&count(&manager, "by=secrecy_level").json),
        vec![(json!("C"), 2), (json!("B"), 1)]
    );
    s.call("GET", "/api/v1/customers/counts?by=nature", None, None, &[])
        .assert_problem(401, "unauthorized");

    // No file is shown, so nothing is registered.
    assert_eq!(registered(), before);

    // What finds one file is the list's (which registers it), and the
    // count needs its dimension, one the contract names.
    for (query, field) in [
        ("by=nature&name=统计", "name"),
        ("by=nature&external_id=ERP-1", "external_id"),
        ("by=nature&sort=name", "sort"),
        ("by=credit_standing", "by"),
        ("region=11", "by"),
    ] {
        let r = s.get(&format!("/api/v1/customers/counts?{query}"), &admin);
        r.assert_problem(400, "invalid_query");
        assert_eq!(r.json["errors"][0]["field"], field, "{query}: {}", r.text);
    }
}
