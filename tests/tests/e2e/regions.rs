//! The catalogue of administrative divisions (CUS-03) through HTTP: what
//! region codes files may take, the names they show, and its upkeep.

use clientele_e2e::{Resp, TestServer};
use serde_json::{json, Value};

fn etag_of(r: &Resp) -> String {
    r.header("etag").unwrap_or_default().to_owned()
}

fn codes(r: &Resp) -> Vec<String> {
    r.json["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i["code"].as_str().map(str::to_owned))
        .collect()
}

fn file(s: &TestServer, token: &str, body: Value) -> Resp {
    s.post("/api/v1/customers", token, &body)
}

#[test]
fn r_cus_03_region_codes_are_judged_against_the_catalogue() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = file(
        &s,
        &am,
        json!({"name": "深圳南山区域测试有限公司", "nature": "private", "region_code": "440305"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.json["region_name"], "广东省深圳市南山区");
    assert_eq!(made.json["province"], "广东省");
    // A picker's prefecture or province code filters for every division in it.
    for region in ["440300", "440000", "4403"] {
        let listed = s.get(
            &format!("/api/v1/customers?region={region}&name=深圳南山区域测试"),
            &am,
        );
        assert_eq!(
            listed.json["items"][0]["id"], made.json["id"],
            "{region}: {}",
            listed.text
        );
    }
    let own = file(
        &s,
        &am,
        json!({"name": "自写区域名测试有限公司", "nature": "private", "region_code": "440305", "region_name": "深圳南山科技园"}),
    );
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(
        own.json["region_name"], "深圳南山科技园",
        "a name given is kept"
    );

    // Six digits of a real province, but no such division: refused, nothing written.
    let before = s.audit_count();
    let unknown = file(
        &s,
        &am,
        json!({"name": "无此区县测试有限公司", "nature": "private", "region_code": "110199"}),
    );
    unknown.assert_problem(422, "validation_failed");
    assert_eq!(unknown.json["errors"][0]["field"], "region_code");
    assert_eq!(unknown.json["errors"][0]["code"], "unknown_region");
    assert_eq!(s.audit_count(), before);

    // A change of code brings the new division's name, unless one is given.
    let path = format!(
        "/api/v1/customers/{}",
        made.json["id"].as_str().unwrap_or_default()
    );
    let moved = s.patch(
        &path,
        &am,
        &etag_of(&made),
        &json!({"region_code": "110105"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.json["region_name"], "北京市朝阳区");
    assert_eq!(moved.json["province"], "北京市");
    let refused = s.patch(
        &path,
        &am,
        &etag_of(&moved),
        &json!({"region_code": "110199"}),
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.json["errors"][0]["code"], "unknown_region");
    let history = s.get(&format!("{path}/history"), &am);
    let fields: Vec<&str> = history.json["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&"region_code") && fields.contains(&"region_name"),
        "{fields:?}"
    );
    // Reverting the code brings its name back with it.
    let change = history.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["field"] == "region_code"))
        .and_then(|e| e["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let reverted = s.call(
        "POST",
        &format!("{path}/history/{change}/revert"),
        Some(&am),
        None,
        &[("if-match", &etag_of(&moved))],
    );
    assert_eq!(reverted.status, 200, "{}", reverted.text);
    assert_eq!(reverted.json["region_code"], "440305");
    assert_eq!(reverted.json["region_name"], "广东省深圳市南山区");
    let cleared = s.patch(
        &path,
        &am,
        &etag_of(&reverted),
        &json!({"region_code": null}),
    );
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.json["region_name"], Value::Null, "no code, no name");

    // An import names the row and field of an unknown code, and names the
    // divisions of the codes it takes.
    let csv = "external_id,name,nature,region_code\n\
               RG-1,仙桃区域导入有限公司,private,429004\n\
               RG-2,错码区域导入有限公司,private,110199\n";
    let dry = s.import_csv(&am, csv, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(
        dry.json["errors"],
        json!([{"row": 2, "field": "region_code", "code": "unknown_region",
                "message": "110199 is not in the catalogue of divisions (GET /api/v1/regions)"}])
    );
    let good = s.import_csv(
        &am,
        "external_id,name,nature,region_code\nRG-1,仙桃区域导入有限公司,private,429004\n",
        false,
    );
    assert_eq!(good.json["created"], 1, "{}", good.text);
    let listed = s.get("/api/v1/customers?external_id=RG-1", &am);
    assert_eq!(listed.json["items"][0]["region_name"], "湖北省仙桃市");
}

#[test]
fn r_cus_03_the_catalogue_lists_divisions_for_pickers() {
    let s = TestServer::start();
    let agent = s.token("demo.agent");
    let provinces = s.get("/api/v1/regions?level=province&limit=50", &agent);
    assert_eq!(provinces.status, 200, "{}", provinces.text);
    assert_eq!(codes(&provinces).len(), 34);
    // Every province of the picker of /provinces is in the catalogue.
    let listed = s.get("/api/v1/provinces", &agent);
    for p in listed.json.as_array().cloned().unwrap_or_default() {
        let code = format!("{}0000", p["code"].as_str().unwrap_or_default());
        assert!(codes(&provinces).contains(&code), "{code}");
    }
    let guangdong = s.get("/api/v1/regions?parent=440000&limit=200", &agent);
    let shenzhen = guangdong.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["code"] == "440300").cloned())
        .unwrap_or_default();
    assert_eq!(shenzhen["full_name"], "广东省深圳市");
    assert_eq!(shenzhen["level"], "prefecture");
    assert!(
        codes(&guangdong).contains(&"441900".to_owned()),
        "东莞市, a prefecture without counties"
    );
    let districts = s.get("/api/v1/regions?parent=440300&limit=200", &agent);
    assert!(codes(&districts).contains(&"440305".to_owned()));
    // Municipalities' districts hang from the municipality itself.
    let one = s.get("/api/v1/regions/110105", &agent);
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json["parent_code"], "110000");
    assert_eq!(one.json["full_name"], "北京市朝阳区");
    assert_eq!(one.json["level"], "county");
    assert!(one.header("etag").is_some());
    let by_name = s.get("/api/v1/regions?name=南山&limit=200", &agent);
    assert!(
        codes(&by_name).contains(&"440305".to_owned()),
        "{}",
        by_name.text
    );
    // Pages follow on in code order.
    let first = s.get("/api/v1/regions?parent=440300&limit=3", &agent);
    let cursor = first.json["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let second = s.get(
        &format!("/api/v1/regions?parent=440300&limit=3&cursor={cursor}"),
        &agent,
    );
    assert_eq!(second.status, 200, "{}", second.text);
    let (a, b) = (codes(&first), codes(&second));
    assert_eq!(a.len(), 3);
    assert!(!b.is_empty(), "{}", second.text);
    assert!(a.iter().all(|x| b.iter().all(|y| x < y)), "{a:?} {b:?}");
    s.get("/api/v1/regions/110199", &agent)
        .assert_problem(404, "not_found");
    s.get("/api/v1/regions/abc", &agent)
        .assert_problem(404, "not_found");
    s.get("/api/v1/regions?parent=11", &agent)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/regions?level=city", &agent)
        .assert_problem(400, "invalid_query");
    s.call("GET", "/api/v1/regions", None, None, &[])
        .assert_problem(401, "unauthorized");
}

#[test]
fn r_cus_03_administrators_keep_the_catalogue() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let am = s.token("demo.am.bj");
    let new = json!({"code": "110120", "name": "测试新区"});
    let before = s.audit_count();
    s.post("/api/v1/regions", &am, &new)
        .assert_problem(403, "forbidden");
    assert_eq!(s.audit_count(), before);
    let made = s.post("/api/v1/regions", &admin, &new);
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.header("location"), Some("/api/v1/regions/110120"));
    assert_eq!(made.json["parent_code"], "110000");
    assert_eq!(made.json["full_name"], "北京市测试新区");
    assert_eq!(s.audit_count(), before + 1);
    s.post("/api/v1/regions", &admin, &new)
        .assert_problem(409, "duplicate");
    let bad = s.post(
        "/api/v1/regions",
        &admin,
        &json!({"code": "990101", "name": "无省"}),
    );
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.json["errors"][0]["field"], "code");

    // A new division is taken by files at once.
    let kept = file(
        &s,
        &am,
        json!({"name": "新区首户测试有限公司", "nature": "private", "region_code": "110120"}),
    );
    assert_eq!(kept.status, 201, "{}", kept.text);
    assert_eq!(kept.json["region_name"], "北京市测试新区");

    // Withdrawn: no new file takes it; files that have it keep it.
    let path = "/api/v1/regions/110120";
    s.call(
        "PATCH",
        path,
        Some(&admin),
        Some(&json!({"active": false})),
        &[],
    )
    .assert_problem(428, "precondition_required");
    let retired = s.patch(
        path,
        &admin,
        &etag_of(&made),
        &json!({"active": false, "name": "测试旧区"}),
    );
    assert_eq!(retired.status, 200, "{}", retired.text);
    assert_eq!(retired.json["active"], false);
    assert_eq!(retired.json["full_name"], "北京市测试旧区");
    s.patch(path, &admin, &etag_of(&made), &json!({"active": true}))
        .assert_problem(412, "precondition_failed");
    let refused = file(
        &s,
        &am,
        json!({"name": "新区二户测试有限公司", "nature": "private", "region_code": "110120"}),
    );
    refused.assert_problem(422, "validation_failed");
    assert_eq!(refused.json["errors"][0]["code"], "retired_region");
    let file_path = format!(
        "/api/v1/customers/{}",
        kept.json["id"].as_str().unwrap_or_default()
    );
    let still = s.patch(
        &file_path,
        &am,
        &etag_of(&kept),
        &json!({"industry": "制造业"}),
    );
    assert_eq!(still.status, 200, "{}", still.text);
    assert_eq!(still.json["region_code"], "110120");
    assert_eq!(
        still.json["region_name"], "北京市测试新区",
        "files keep the name they were given"
    );
    let listed = s.get("/api/v1/regions?parent=110000&limit=200", &am);
    assert!(!codes(&listed).contains(&"110120".to_owned()));
    let all = s.get(
        "/api/v1/regions?parent=110000&limit=200&include_inactive=true",
        &am,
    );
    assert!(codes(&all).contains(&"110120".to_owned()));

    // A new prefecture takes over the counties of its code under the province.
    let prefecture = s.post(
        "/api/v1/regions",
        &admin,
        &json!({"code": "429000", "name": "省直辖测试"}),
    );
    assert_eq!(prefecture.status, 201, "{}", prefecture.text);
    let county = s.get("/api/v1/regions/429004", &am);
    assert_eq!(county.json["parent_code"], "429000");
    assert_eq!(county.json["full_name"], "湖北省省直辖测试仙桃市");
}
