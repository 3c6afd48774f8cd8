//! Likely duplicates across the archive (CUS-01) through HTTP.

use clientele_e2e::{Resp, TestServer};
use serde_json::{json, Value};

fn group<'a>(page: &'a Resp, name: &str) -> Option<&'a Value> {
    page.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|g| g["name_normalized"] == name))
}

#[test]
fn r_cus_01_duplicate_groups_across_the_archive() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let am = s.token("demo.am.bj");
    let sh = s.unit_id("SH");
    let mut ids: Vec<String> = [
        "重复测试华联商贸有限公司",
        "重复测试华联商贸股份有限公司",
        "重复测试 华联商贸",
    ]
    .iter()
    .map(|name| s.private_file(&am, name))
    .collect();
    // The same customer filed in Shanghai, out of the Beijing branch's sight.
    let far = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "重复测试华联商贸有限公司", "nature": "private", "owner_unit_id": sh}),
    );
    assert_eq!(far.status, 201, "{}", far.text);

    let page = s.get("/api/v1/customers/duplicate-groups?limit=200", &am);
    assert_eq!(page.status, 200, "{}", page.text);
    let mine = group(&page, "重复测试华联商贸")
        .cloned()
        .unwrap_or_default();
    assert_eq!(mine["count"], 3, "{}", page.text);
    let mut shown: Vec<String> = mine["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    shown.sort();
    ids.sort();
    assert_eq!(shown, ids, "only the files the caller may see");
    let all = s.get("/api/v1/customers/duplicate-groups?limit=200", &admin);
    assert_eq!(
        group(&all, "重复测试华联商贸").map(|g| g["count"].clone()),
        Some(json!(4))
    );

    // Every file shown is registered as read.
    let auditor = s.token("demo.auditor");
    let log = s.get(
        &format!("/api/v1/access-register?customer_id={}&action=list", ids[0]),
        &auditor,
    );
    assert!(
        log.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["detail"] == "duplicate groups")),
        "{}",
        log.text
    );

    // Pages follow on in name order.
    for name in ["另一组重复测试有限公司", "另一组重复测试"] {
        s.private_file(&am, name);
    }
    let first = s.get("/api/v1/customers/duplicate-groups?limit=1", &admin);
    let cursor = first.json["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!cursor.is_empty(), "{}", first.text);
    let second = s.get(
        &format!("/api/v1/customers/duplicate-groups?limit=1&cursor={cursor}"),
        &admin,
    );
    assert_eq!(second.status, 200, "{}", second.text);
    let (a, b) = (
        first.json["items"][0]["name_normalized"]
            .as_str()
            .unwrap_or_default(),
        second.json["items"][0]["name_normalized"]
            .as_str()
            .unwrap_or_default(),
    );
    assert!(a < b, "{a} then {b}");

    // A merged file leaves its group; a group of one is no group.
    let mgr = s.token("demo.manager.bj");
    for absorbed in &ids[1..] {
        let merged = s.post(
            &format!("/api/v1/customers/{}/merge", ids[0]),
            &mgr,
            &json!({"absorbed_id": absorbed}),
        );
        assert_eq!(merged.status, 200, "{}", merged.text);
    }
    let after = s.get("/api/v1/customers/duplicate-groups?limit=200", &am);
    assert!(
        group(&after, "重复测试华联商贸").is_none(),
        "{}",
        after.text
    );
    let admin_after = s.get("/api/v1/customers/duplicate-groups?limit=200", &admin);
    assert_eq!(
        group(&admin_after, "重复测试华联商贸").map(|g| g["count"].clone()),
        Some(json!(2))
    );
    // The demo's own duplicate (the second filing lacks the credit code)
    // merges, the survivor keeping its code.
    let demo = group(&admin_after, "天津港散货物流")
        .cloned()
        .unwrap_or_default();
    let pair: Vec<&Value> = demo["files"]
        .as_array()
        .map(|f| f.iter().collect())
        .unwrap_or_default();
    assert_eq!(pair.len(), 2, "{}", admin_after.text);
    let (kept, refiled) = if pair[0]["credit_code"].is_null() {
        (pair[1], pair[0])
    } else {
        (pair[0], pair[1])
    };
    assert!(refiled["credit_code"].is_null());
    let merged = s.post(
        &format!(
            "/api/v1/customers/{}/merge",
            kept["id"].as_str().unwrap_or_default()
        ),
        &admin,
        &json!({"absorbed_id": refiled["id"]}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.json["credit_code"], kept["credit_code"]);
    s.get("/api/v1/customers/duplicate-groups?cursor=YWJj", &am)
        .assert_problem(400, "invalid_cursor");
    s.call("GET", "/api/v1/customers/duplicate-groups", None, None, &[])
        .assert_problem(401, "unauthorized");
}

/// A name pasted with invisible characters (a zero-width space, a byte-order
/// mark, a direction override) is stored without them, so it is the same
/// name to the duplicate check and to search as the one typed (CUS-01).
#[test]
fn r_cus_01_a_name_pasted_with_invisible_characters_is_still_a_duplicate() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let typed = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京隐形字符科技有限公司", "nature": "private"}),
    );
    assert_eq!(typed.status, 201, "{}", typed.text);
    let pasted = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "\u{FEFF}北京隐形\u{200B}字符科技\u{202E}有限公司\u{202C}", "nature": "private"}),
    );
    assert_eq!(pasted.status, 201, "{}", pasted.text);
    assert_eq!(
        pasted.json["name"], "北京隐形字符科技有限公司",
        "{}",
        pasted.text
    );
    let id = pasted.json["id"].as_str().unwrap_or_default();
    let dups = s.get(&format!("/api/v1/customers/{id}/duplicates"), &am);
    assert_eq!(dups.status, 200, "{}", dups.text);
    assert!(
        dups.text.contains(typed.json["id"].as_str().unwrap_or("?")),
        "{}",
        dups.text
    );
    // A search part pasted with one finds both.
    let found = s.get(
        "/api/v1/customers?name=%E9%9A%90%E5%BD%A2%E2%80%8B%E5%AD%97%E7%AC%A6",
        &am,
    );
    assert_eq!(
        found.json["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        found.text
    );
}

/// A Hong Kong, Macao or Taiwan company filed under its registered name in
/// traditional characters is the same name as the one staff type in
/// simplified ones: a likely duplicate, in one group of the report, and
/// found by a search part in either script. Files stored before this rule
/// get their forms recomputed when the migrations run.
#[test]
fn r_cus_01_a_name_in_traditional_characters_is_the_same_name() {
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let registered = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "臺灣積體電路製造股份有限公司", "nature": "foreign"}),
    );
    assert_eq!(registered.status, 201, "{}", registered.text);
    assert_eq!(registered.json["name"], "臺灣積體電路製造股份有限公司");
    let typed = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "台湾积体电路制造有限公司", "nature": "foreign"}),
    );
    assert_eq!(typed.status, 201, "{}", typed.text);
    let ids: Vec<String> = [&registered, &typed]
        .iter()
        .map(|r| r.json["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let check = || {
        let dups = s.get(&format!("/api/v1/customers/{}/duplicates", ids[1]), &am);
        assert_eq!(dups.status, 200, "{}", dups.text);
        assert!(dups.text.contains(&ids[0]), "{}", dups.text);
        let report = s.get("/api/v1/customers/duplicate-groups", &s.token("demo.admin"));
        let members = group(&report, "台湾积体电路制造").map(|g| g.to_string());
        assert!(
            members.is_some_and(|g| ids.iter().all(|id| g.contains(id))),
            "{}",
            report.text
        );
        // Parts of two characters and of more, typed in either script.
        for part in ["积体电路", "積體電路", "積體", "台湾", "臺灣積"] {
            let found = s.get(&format!("/api/v1/customers?name={part}"), &am);
            assert_eq!(found.status, 200, "{part}: {}", found.text);
            let shown = found.json["items"].as_array().map_or(0, Vec::len);
            assert_eq!(shown, 2, "{part}: {}", found.text);
        }
        let quick = s.get("/api/v1/customers?q=積體電路", &am);
        assert_eq!(
            quick.json["items"].as_array().map(Vec::len),
            Some(2),
            "{}",
            quick.text
        );
    };
    check();

    // The file as an earlier version stored it: forms without the rule.
    let stale = |name: &str| clientele_customers::name::fold_width(name).to_lowercase();
    s.db.write(|c| {
        Ok(diesel::update(customers::table.find(&ids[0]))
            .set((
                customers::name_normalized.eq(stale("臺灣積體電路製造")),
                customers::name_folded.eq(stale("臺灣積體電路製造股份有限公司")),
            ))
            .execute(c)?)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let before = s.get("/api/v1/customers?name=积体电路", &am);
    assert_eq!(
        before.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        before.text
    );
    s.upgrade_from("20261206000025");
    check();
    // Recomputing a form is no change to the file.
    let history = s.get(&format!("/api/v1/customers/{}/history", ids[0]), &am);
    assert_eq!(
        history.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        history.text
    );
    let file = s.get(&format!("/api/v1/customers/{}", ids[0]), &am);
    assert_eq!(file.header("etag"), registered.header("etag"));
}

/// A company's province-level place is one place wherever its name puts
/// it: `燕京建设（北京）有限公司` is a likely duplicate of
/// `北京燕京建设有限公司` and of `北京市燕京建设有限公司`, while
/// `上海燕京建设有限公司` is another company; a prefecture- or
/// county-level city, an autonomous prefecture, a county or an autonomous
/// county likewise. Files stored before the rule get their
/// forms recomputed when the migrations run.
#[test]
fn r_cus_01_a_place_in_brackets_is_the_same_place() {
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let ids: Vec<String> = [
        "北京燕京建设有限公司",
        "燕京建设（北京）有限公司",
        "北京市燕京建设股份有限公司",
        "上海燕京建设有限公司",
        "深圳市鹏城物流有限公司",
        "鹏城物流（深圳）有限公司",
        "昆山精密电子有限公司",
        "精密电子（昆山）有限公司",
        "苏州精密电子有限公司",
        "上海西门子电气传动有限公司",
        "西门子（上海）电气传动有限公司",
        "延边长白山旅游有限公司",
        "长白山旅游（延边朝鲜族自治州）有限公司",
        "安吉绿色家居有限公司",
        "绿色家居（安吉县）有限公司",
        "德清县绿色家居有限公司",
        "长阳清江旅游有限公司",
        "长阳土家族自治县清江旅游有限公司",
    ]
    .iter()
    .map(|name| s.private_file(&am, name))
    .collect();
    let check = || {
        let dups = s.get(&format!("/api/v1/customers/{}/duplicates", ids[1]), &am);
        assert_eq!(dups.status, 200, "{}", dups.text);
        assert!(
            dups.text.contains(&ids[0]) && dups.text.contains(&ids[2]),
            "{}",
            dups.text
        );
        assert!(!dups.text.contains(&ids[3]), "another place: {}", dups.text);
        let report = s.get("/api/v1/customers/duplicate-groups", &s.token("demo.admin"));
        let members = group(&report, "北京燕京建设").map(|g| g.to_string());
        assert!(
            members.is_some_and(|g| ids[..3].iter().all(|id| g.contains(id))),
            "{}",
            report.text
        );
        // A prefecture-level city, likewise.
        let city = s.get(&format!("/api/v1/customers/{}/duplicates", ids[5]), &am);
        assert!(city.text.contains(&ids[4]), "{}", city.text);
        // A county-level city too; the prefecture around it is another place.
        let county = s.get(&format!("/api/v1/customers/{}/duplicates", ids[7]), &am);
        assert!(county.text.contains(&ids[6]), "{}", county.text);
        assert!(!county.text.contains(&ids[8]), "{}", county.text);
        // A place in brackets inside the name.
        let inside = s.get(&format!("/api/v1/customers/{}/duplicates", ids[10]), &am);
        assert!(inside.text.contains(&ids[9]), "{}", inside.text);
        // An autonomous prefecture, without its peoples.
        let yanbian = s.get(&format!("/api/v1/customers/{}/duplicates", ids[12]), &am);
        assert!(yanbian.text.contains(&ids[11]), "{}", yanbian.text);
        // A county, and an autonomous county without its peoples; another
        // county is another place.
        let anji = s.get(&format!("/api/v1/customers/{}/duplicates", ids[14]), &am);
        assert!(anji.text.contains(&ids[13]), "{}", anji.text);
        assert!(!anji.text.contains(&ids[15]), "{}", anji.text);
        let changyang = s.get(&format!("/api/v1/customers/{}/duplicates", ids[17]), &am);
        assert!(changyang.text.contains(&ids[16]), "{}", changyang.text);
    };
    check();
    // File `stale` as an earlier version stored its normal form, no longer
    // a duplicate of `twin`, until the upgrade from `version` recomputes it.
    let stored_before = |stale: usize, form: &str, twin: usize, version: &str| {
        s.db.write(|c| {
            Ok(diesel::update(customers::table.find(&ids[stale]))
                .set(customers::name_normalized.eq(form))
                .execute(c)?)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let before = s.get(&format!("/api/v1/customers/{}/duplicates", ids[twin]), &am);
        assert!(!before.text.contains(&ids[stale]), "{}", before.text);
        s.upgrade_from(version);
        check();
    };
    // A county in brackets, as session 30 stored it.
    stored_before(14, "绿色家居安吉县", 13, "20261207000037");
    // An autonomous prefecture in brackets, as session 28 stored it.
    stored_before(12, "长白山旅游延边朝鲜族自治州", 11, "20261207000033");
    // A county-level city in brackets, as session 27 stored it.
    stored_before(7, "精密电子昆山", 6, "20261207000031");
    // A province in brackets, as sessions before 27 stored it.
    stored_before(1, "燕京建设北京", 0, "20261207000029");
}

/// Files whose contacts share a number or address are likely duplicates
/// too (`?by=contact`): an import files one customer under two names that
/// no normal form joins, but its switchboard is one. Only files in sight,
/// each registered as read.
#[test]
fn r_cus_01_files_sharing_a_contact_are_likely_duplicates() {
    let s = TestServer::start();
    let (am, admin) = (s.token("demo.am.bj"), s.token("demo.admin"));
    let ids: Vec<String> = [
        "北京联络重复测试集团有限公司",
        "联络重复测试集团北京公司",
        "北京联络无关测试有限公司",
    ]
    .iter()
    .map(|name| s.private_file(&am, name))
    .collect();
    let far = s.private_file(&s.token("demo.am.sh"), "上海联络重复测试有限公司");
    s.add_contact(
        &am,
        &ids[0],
        json!({"name": "总机", "phone": "010-6123 4567"}),
    );
    s.add_contact(
        &am,
        &ids[0],
        json!({"name": "李经理", "email": "li@lianluo.cn"}),
    );
    s.add_contact(
        &am,
        &ids[1],
        json!({"name": "前台", "phone": "(010)61234567"}),
    );
    let left = s.add_contact(
        &am,
        &ids[2],
        json!({"name": "已离职", "email": "LI@lianluo.cn"}),
    );
    s.add_contact(
        &am,
        &ids[2],
        json!({"name": "另一人", "phone": "010-6588 9999"}),
    );
    s.add_contact(
        &s.token("demo.am.sh"),
        &far,
        json!({"name": "上海前台", "phone": "+86 10 6123 4567"}),
    );
    let dups = |token: &str, by: &str| -> Vec<String> {
        let r = s.get(
            &format!("/api/v1/customers/{}/duplicates{by}", ids[0]),
            token,
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let mut found: Vec<String> = r.json["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    };
    let mut both = vec![ids[1].clone(), ids[2].clone()];
    both.sort();
    assert_eq!(dups(&am, "?by=contact"), both, "a number and an address");
    // The names alone join none of them.
    assert!(dups(&am, "").is_empty());
    assert!(dups(&am, "?by=name").is_empty());
    // The administrator sees the Shanghai file too.
    let mut all = vec![ids[1].clone(), ids[2].clone(), far.clone()];
    all.sort();
    assert_eq!(dups(&admin, "?by=contact"), all);
    // A removed contact shares nothing.
    let removed = s.call(
        "DELETE",
        &format!("/api/v1/customers/{}/contacts/{left}", ids[2]),
        Some(&am),
        None,
        &[("if-match", "\"1\"")],
    );
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert_eq!(dups(&am, "?by=contact"), vec![ids[1].clone()]);
    // Each file shown is registered as read.
    let log = s.get(
        &format!("/api/v1/customers/{}/access-log", ids[1]),
        &s.token("demo.auditor"),
    );
    assert!(
        log.text.contains(&format!("duplicate of {}", ids[0])),
        "{}",
        log.text
    );
    s.get(
        &format!("/api/v1/customers/{}/duplicates?by=phone", ids[0]),
        &am,
    )
    .assert_problem(400, "invalid_query");
}

/// A customer filed by the Beijing account manager (`file`), filed again
/// under `twin` and merged into the first, and filed in Shanghai too, out
/// of the Beijing branch's sight, with `far` besides the name and nature:
/// the first file's id and the Shanghai one's.
fn filed_twice_and_far(s: &TestServer, file: Value, twin: &str, far: Value) -> (String, String) {
    let am = s.token("demo.am.bj");
    let id_of = |r: Resp| {
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["id"].as_str().unwrap_or_default().to_owned()
    };
    let held = id_of(s.post("/api/v1/customers", &am, &file));
    let absorbed = s.private_file(&am, twin);
    let merged = s.post(
        &format!("/api/v1/customers/{held}/merge"),
        &s.token("demo.manager.bj"),
        &json!({"absorbed_id": absorbed}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    let mut elsewhere = json!({"name": file["name"], "nature": file["nature"],
                               "owner_unit_id": s.unit_id("SH")});
    if let (Some(more), Some(into)) = (far.as_object(), elsewhere.as_object_mut()) {
        into.extend(more.clone());
    }
    let far = id_of(s.post("/api/v1/customers", &s.token("demo.admin"), &elsewhere));
    (held, far)
}

/// A customer is checked before its file is opened (CUS-01): a clerk
/// filling in the form, or an ERP preparing a row, learns which of its
/// identifiers another file holds (a file opened with them is refused)
/// and which files in sight are likely the same customer, by name or by a
/// contact's number or address; merged files and files out of sight are
/// not shown, and every file shown is registered as read (CUS-08).
#[test]
fn r_cus_01_a_customer_is_checked_before_its_file_is_opened() {
    let s = TestServer::start();
    let (am, admin) = (s.token("demo.am.bj"), s.token("demo.admin"));
    let (id, far) = filed_twice_and_far(
        &s,
        json!({"name": "北京预查重测试有限公司", "nature": "private",
                "credit_code": "9111010833551234XG", "external_id": "ERP-PRE-1"}),
        "北京预查重测试股份有限公司",
        json!({"credit_code": "91110108335512358G"}),
    );
    s.add_contact(&am, &id, json!({"name": "总机", "phone": "010-6234 5678"}));

    let check = |token: &str, query: &str| {
        let r = s.get(&format!("/api/v1/customers/duplicate-check?{query}"), token);
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r
    };
    let likely = Resp::likely_duplicates;
    // By name, however the company form is written.
    let by_name = check(&am, "name=北京 预查重测试有限责任公司");
    assert_eq!(by_name.json["name_normalized"], "北京预查重测试");
    assert_eq!(likely(&by_name), vec![(id.clone(), json!(["name"]))]);
    assert_eq!(by_name.json["conflicts"], json!([]));
    let mut both = vec![id.clone(), far.clone()];
    both.sort();
    let all: Vec<String> = likely(&check(&admin, "name=北京预查重测试有限责任公司"))
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(all, both, "the administrator sees the Shanghai file");
    // By a contact's number, however it is written; with the name, once.
    let by_contact = check(&am, "contact=%2B86%2010%2062345678");
    assert_eq!(likely(&by_contact), vec![(id.clone(), json!(["contact"]))]);
    assert!(by_contact.json["name_normalized"].is_null());
    let together = check(&am, "name=北京预查重测试&contact=01062345678");
    assert_eq!(
        likely(&together),
        vec![(id.clone(), json!(["name", "contact"]))]
    );
    // Identifiers another file holds: named as the 409 names them, even
    // a file out of sight.
    let held = check(
        &am,
        "credit_code=9111010833551234xg&external_id=ERP-PRE-1&name=北京新客户有限公司",
    );
    assert_eq!(
        held.json["conflicts"],
        json!([{"field": "credit_code", "existing_id": id},
               {"field": "external_id", "existing_id": id}])
    );
    assert_eq!(likely(&held), vec![]);
    let elsewhere = check(&am, "credit_code=91110108335512358G");
    assert_eq!(
        elsewhere.json["conflicts"],
        json!([{"field": "credit_code", "existing_id": far}])
    );
    assert_eq!(likely(&elsewhere), vec![]);
    let refused = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京另一家有限公司", "nature": "private", "credit_code": "91110108335512358G"}),
    );
    refused.assert_problem(409, "duplicate");
    assert_eq!(refused.json["existing_id"], json!(far));
    // A new customer meets nothing.
    let fresh = check(&am, "name=北京全新客户有限公司&contact=new@example.cn");
    assert_eq!(fresh.json["conflicts"], json!([]));
    assert_eq!(likely(&fresh), vec![]);

    // Every file shown is registered as read; the check writes nothing else.
    let auditor = s.token("demo.auditor");
    let checks_of = |file: &str| {
        let log = s.get(
            &format!("/api/v1/customers/{file}/access-log?limit=200"),
            &auditor,
        );
        log.json["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["detail"] == "duplicate check")
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(checks_of(&id), 4);
    let far_checks = checks_of(&far);
    assert_eq!(far_checks, 1, "only the administrator's check showed it");
    let history = s.get(&format!("/api/v1/customers/{id}/history?limit=200"), &am);
    let before = history.json["items"].as_array().map(Vec::len);
    check(&am, "name=北京预查重测试");
    let history = s.get(&format!("/api/v1/customers/{id}/history?limit=200"), &am);
    assert_eq!(history.json["items"].as_array().map(Vec::len), before);

    // Checking is for those who open files.
    s.get(
        "/api/v1/customers/duplicate-check?name=北京预查重测试",
        &auditor,
    )
    .assert_problem(403, "forbidden");
    s.get(
        "/api/v1/customers/duplicate-check?name=北京预查重测试",
        &s.token("demo.agent"),
    )
    .assert_problem(403, "forbidden");
    // Bad input: a clear 400 naming the parameter.
    for (query, field, code) in [
        ("", "name", "required"),
        ("name=%20%20", "name", "too_short"),
        ("name=有限公司", "name", "company_form_only"),
        (
            "credit_code=9111010833551234XA",
            "credit_code",
            "invalid_check_digit",
        ),
        ("credit_code=911101083355", "credit_code", "invalid_length"),
        ("external_id=%20", "external_id", "invalid_length"),
        ("contact=12", "contact", "invalid_length"),
        ("by=name", "by", "unknown_parameter"),
    ] {
        let r = s.get(&format!("/api/v1/customers/duplicate-check?{query}"), &am);
        r.assert_refused_on(400, "invalid_query", field, code);
    }
}

/// An import warns of each new file whose customer the archive likely
/// holds already (CUS-01): the files in sight of the same normalised name,
/// and the other rows that open one, in the dry run and the commit alike;
/// rows that update a file are not warned, nor are files out of sight or
/// merged.
#[test]
fn r_cus_01_an_import_warns_of_new_files_likely_filed_already() {
    let s = TestServer::start();
    let (am, admin) = (s.token("demo.am.bj"), s.token("demo.admin"));
    let (held, far) = filed_twice_and_far(
        &s,
        json!({"name": "北京导入查重测试有限公司", "nature": "private", "external_id": "IMP-HELD"}),
        "北京导入查重测试（有限责任公司）",
        json!({}),
    );

    let csv = "external_id,name,nature,industry\n\
               IMP-1,北京导入查重测试股份有限公司,private,\n\
               IMP-2,导入查重新客户有限公司,private,\n\
               IMP-3,导入查重 新客户（有限责任公司）,private,\n\
               IMP-4,导入查重独一家有限公司,private,\n\
               IMP-HELD,北京导入查重测试有限公司,private,制造业\n\
               IMP-5,导入查重新客户股份公司,private,\n";
    let warnings = |r: &Resp| -> Vec<(u64, Value, Value)> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["warnings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|w| {
                assert_eq!(w["code"], "likely_duplicate", "{w}");
                assert_eq!(w["field"], "name", "{w}");
                (
                    w["row"].as_u64().unwrap_or_default(),
                    w["customer_ids"].clone(),
                    w["rows"].clone(),
                )
            })
            .collect()
    };
    let expected = vec![
        (1, json!([held]), json!([])),
        (2, json!([]), json!([3, 6])),
        (3, json!([]), json!([2, 6])),
        (6, json!([]), json!([2, 3])),
    ];
    let dry = s.import_csv(&am, csv, true);
    assert_eq!(warnings(&dry), expected);
    assert_eq!(dry.json["created"], 5);
    assert_eq!(dry.json["updated"], 1);
    assert_eq!(
        dry.json["warnings"][0]["message"],
        "a file in the archive holds the same name"
    );
    assert_eq!(
        dry.json["warnings"][1]["message"],
        "2 other rows open files of the same name too"
    );
    // Many rows of one name: each names 20 of the others and counts them all.
    let many: String = (1..=25)
        .map(|i| format!("SAME-{i},张伟,individual\n"))
        .collect();
    let same = s.import_csv(&am, &format!("external_id,name,nature\n{many}"), true);
    assert_eq!(same.status, 200, "{}", same.text);
    let listed = same.json["warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 25);
    assert!(listed
        .iter()
        .all(|w| w["rows"].as_array().map(Vec::len) == Some(20)
            && w["message"] == "24 other rows open files of the same name too"));
    assert_eq!(listed[24]["rows"][0], 1);
    assert_eq!(listed[0]["rows"][0], 2);
    // In the caller's language, the English after it.
    let zh = s.raw(
        "POST",
        "/api/v1/customers/import?dry_run=true",
        &[
            ("authorization", &format!("Bearer {am}")),
            ("accept-language", "zh-CN"),
        ],
        Some(("text/csv", csv.as_bytes())),
    );
    let message = zh.json["warnings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("名称或联系方式")
            && message.ends_with("（a file in the archive holds the same name）"),
        "{message}"
    );
    // The commit warns alike, and writes what the dry run said.
    let committed = s.import_csv(&am, csv, false);
    assert_eq!(warnings(&committed), expected);
    assert_eq!(committed.json["created"], 5);
    // Again: every row now updates its file, and none is warned.
    let again = s.import_csv(&am, csv, true);
    assert_eq!(warnings(&again), vec![]);
    assert_eq!(again.json["unchanged"], 6);
    // The Shanghai file is the administrator's to be warned of.
    let theirs = s.import_csv(
        &admin,
        "external_id,name,nature\nIMP-9,北京导入查重测试有限公司,private\n",
        true,
    );
    let shown = &theirs.json["warnings"][0]["customer_ids"];
    assert_eq!(shown.as_array().map(Vec::len), Some(3), "{}", theirs.text);
    assert!(shown.as_array().is_some_and(|a| a.contains(&json!(far))));
    // A contacts import warns of a contact added, or given another number,
    // that reaches another file's contact in sight; not of one whose
    // number it leaves as it was.
    let other = s.private_file(&am, "导入查重联系人另一家有限公司");
    s.add_contact(
        &am,
        &other,
        json!({"name": "前台", "phone": "010-5555 6666"}),
    );
    s.add_contact(
        &s.token("demo.am.sh"),
        &far,
        json!({"name": "上海前台", "email": "desk@daoru.cn"}),
    );
    let contacts_csv = format!(
        "customer_id,name,title,phone,email\n\
         {held},导入查重联系人,经理,+86 10 55556666,\n\
         {held},邮箱联系人,,,DESK@daoru.cn\n\
         {held},独有联系人,,010-7777 8888,\n"
    );
    let contacts = s.import_contacts_csv(&am, &contacts_csv, false);
    assert_eq!(contacts.status, 200, "{}", contacts.text);
    assert_eq!(
        contacts.json["warnings"],
        json!([{"row": 1, "field": "phone", "code": "likely_duplicate",
                "message": "phone reaches a contact of another file too",
                "customer_ids": [other], "rows": []}]),
        "the Shanghai address is out of sight"
    );
    let retitled = contacts_csv.replace("经理", "总经理");
    let again = s.import_contacts_csv(&am, &retitled, true);
    assert_eq!(again.json["updated"], 1, "{}", again.text);
    assert_eq!(again.json["warnings"], json!([]));
    // A run with a row refused as it is written runs again row by row
    // (PostgreSQL), and warns of each row once (here a contact given the
    // number).
    let refused = s.import_contacts_csv(
        &am,
        &format!(
            "customer_id,contact_id,name,phone\n\
             {held},,独有联系人,010 5555 6666\n\
             {held},00000000-0000-4000-8000-000000000000,无此联系人,\n"
        ),
        true,
    );
    assert_eq!(refused.status, 200, "{}", refused.text);
    assert_eq!(refused.json["errors"][0]["code"], "contact_not_found");
    assert_eq!(
        refused.json["warnings"],
        json!([{"row": 1, "field": "phone", "code": "likely_duplicate",
                "message": "phone reaches a contact of another file too",
                "customer_ids": [other], "rows": []}])
    );
    // The administrator, giving the second contact its address in
    // another case (a change), is warned of the Shanghai file.
    let admin_sees = s.import_contacts_csv(&admin, &contacts_csv.replace("DESK", "desk"), true);
    assert_eq!(admin_sees.json["updated"], 1, "{}", admin_sees.text);
    assert_eq!(
        admin_sees.json["warnings"],
        json!([{"row": 2, "field": "email", "code": "likely_duplicate",
                "message": "email reaches a contact of another file too",
                "customer_ids": [far], "rows": []}])
    );
}
