//! Hand-over of the files a person keeps (CUS-10, ORG-03) through HTTP.

use clientele_e2e::TestServer;
use serde_json::{json, Value};

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn r_cus_10_a_departing_keeper_hands_over_their_files() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let manager = s.token("demo.manager.bj");
    // A new account manager of head office, keeping files of the branch
    // and the subsidiary below it, who then leaves.
    let hired = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "wang.li", "display_name": "王丽", "password": "a-long-password",
                "unit_id": s.unit_id("HQ"), "roles": ["account_manager"]}),
    );
    assert_eq!(hired.status, 201, "{}", hired.text);
    let leaving = hired.json["id"].as_str().unwrap_or_default().to_owned();
    let successor = s.user_id("demo.manager.bj");
    let (bj, sh) = (s.unit_id("BJ"), s.unit_id("SH"));
    let mut beijing = Vec::new();
    for (i, unit) in [&bj, &bj, &sh].iter().enumerate() {
        let made = s.post(
            "/api/v1/customers",
            &admin,
            &json!({"name": format!("交接测试{i}号有限公司"), "nature": "private",
                    "owner_unit_id": unit, "owner_user_id": leaving}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
        if *unit == &bj {
            beijing.push(made.json["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    // A project team of the branch: its file is handed over like the
    // others (a unit closes only once its files moved on).
    let team = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": bj, "code": "BJ-P9", "name": "北京二期项目部", "kind": "project_team"}),
    );
    assert_eq!(team.status, 201, "{}", team.text);
    let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();
    let in_team = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "交接测试撤销项目有限公司", "nature": "private",
                "owner_unit_id": team_id, "owner_user_id": leaving}),
    );
    assert_eq!(in_team.status, 201, "{}", in_team.text);
    beijing.push(in_team.json["id"].as_str().unwrap_or_default().to_owned());
    let shanghai_file = s.get(
        &format!("/api/v1/customers?owner_user_id={leaving}&unit_id={sh}"),
        &admin,
    );
    let shanghai_id = shanghai_file.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The person leaves: their account is closed, their files are not.
    let closed = s.patch(
        &format!("/api/v1/users/{leaving}"),
        &admin,
        hired.header("etag").unwrap_or_default(),
        &json!({"active": false}),
    );
    assert_eq!(closed.status, 200, "{}", closed.text);

    // Refused, changing nothing: no role, the same person, an unknown one,
    // a closed account as successor.
    let (am, auditor) = (s.token("demo.am.bj"), s.token("demo.auditor"));
    let before = s.audit_count();
    let body = json!({"from_user_id": leaving, "to_user_id": successor});
    s.post("/api/v1/customers/hand-over", &am, &body)
        .assert_problem(403, "forbidden");
    s.post("/api/v1/customers/hand-over", &auditor, &body)
        .assert_problem(403, "forbidden");
    let same = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": leaving, "to_user_id": leaving}),
    );
    same.assert_problem(422, "validation_failed");
    assert_eq!(same.json["errors"][0]["code"], "same_user");
    let nobody = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": leaving, "to_user_id": "01930000-0000-7000-8000-000000000000"}),
    );
    nobody.assert_problem(422, "validation_failed");
    assert_eq!(nobody.json["errors"][0]["field"], "to_user_id");
    let to_closed = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": successor, "to_user_id": leaving}),
    );
    to_closed.assert_problem(422, "validation_failed");
    assert_eq!(to_closed.json["errors"][0]["code"], "user_inactive");
    // A keeper must be able to read and work the files: not someone of
    // another unit (CUS-10).
    let elsewhere = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": leaving, "to_user_id": s.user_id("demo.am.sh")}),
    );
    elsewhere.assert_problem(422, "validation_failed");
    assert_eq!(elsewhere.json["errors"][0]["code"], "keeper_outside_unit");
    let to_system = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": leaving, "to_user_id": s.user_id("demo-erp")}),
    );
    to_system.assert_problem(422, "validation_failed");
    assert_eq!(to_system.json["errors"][0]["code"], "owner_not_person");
    assert_eq!(s.audit_count(), before);

    // The Beijing manager hands over the Beijing files; Shanghai's stays.
    let done = s.post("/api/v1/customers/hand-over", &manager, &body);
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json["handed_over"], 3);
    let mut moved = ids(&done.json["customer_ids"]);
    moved.sort();
    beijing.sort();
    assert_eq!(moved, beijing);
    assert_eq!(s.audit_count(), before + 3);
    for id in &beijing {
        let file = s.get(&format!("/api/v1/customers/{id}"), &manager);
        assert_eq!(file.json["owner_user_id"], successor.as_str());
        let history = s.get(&format!("/api/v1/customers/{id}/history"), &manager);
        let change = history.json["items"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["field"] == "owner_user_id").cloned())
            .unwrap_or_default();
        assert_eq!(change["old_value"], leaving.as_str(), "{}", history.text);
        assert_eq!(change["new_value"], successor.as_str());
        assert_eq!(change["actor_id"], s.user_id("demo.manager.bj").as_str());
        // Each file's hand-over is an event for other systems.
        assert_eq!(
            s.customer_event_topics(id),
            ["customer.created", "customer.handed_over"],
            "{id}"
        );
    }
    let kept = s.get(&format!("/api/v1/customers/{shanghai_id}"), &admin);
    assert_eq!(kept.json["owner_user_id"], leaving.as_str());
    // Again: nothing left that the manager may work.
    let again = s.post("/api/v1/customers/hand-over", &manager, &body);
    assert_eq!(again.json["handed_over"], 0, "{}", again.text);

    // An admin hands over the rest, limited to a unit.
    let rest = s.post(
        "/api/v1/customers/hand-over",
        &admin,
        &json!({"from_user_id": leaving, "to_user_id": s.user_id("demo.am.sh"), "unit_id": sh}),
    );
    assert_eq!(rest.status, 200, "{}", rest.text);
    assert_eq!(ids(&rest.json["customer_ids"]), vec![shanghai_id]);
    let unknown_unit = s.post(
        "/api/v1/customers/hand-over",
        &admin,
        &json!({"from_user_id": leaving, "to_user_id": successor, "unit_id": leaving}),
    );
    unknown_unit.assert_problem(422, "validation_failed");
    assert_eq!(unknown_unit.json["errors"][0]["field"], "unit_id");
}

#[test]
fn r_cus_10_an_import_names_each_files_keeper() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let csv = "external_id,name,nature,owner_username\n\
               KP-1,保管人导入甲有限公司,private,Demo.AM.BJ\n\
               KP-2,保管人导入乙有限公司,private,no.such.person\n\
               KP-3,保管人导入丙有限公司,private,demo-erp\n";
    let dry = s.import_csv(&am, csv, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    let faults: Vec<(u64, String, String)> = dry.json["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or_default(),
                e["field"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        faults,
        vec![
            (2, "owner_username".to_owned(), "user_not_found".to_owned()),
            (
                3,
                "owner_username".to_owned(),
                "owner_not_person".to_owned()
            ),
        ],
        "{}",
        dry.text
    );
    let good = s.import_csv(
        &am,
        "external_id,name,nature,owner_username\nKP-1,保管人导入甲有限公司,private,demo.am.bj\n",
        false,
    );
    assert_eq!(good.json["created"], 1, "{}", good.text);
    let file = s.get("/api/v1/customers?external_id=KP-1", &am);
    assert_eq!(
        file.json["items"][0]["owner_user_id"],
        s.user_id("demo.am.bj").as_str()
    );
    // Exports name the keeper as imports do.
    let csv = s.get(
        "/api/v1/customers/export?external_id=KP-1&format=csv",
        &s.token("demo.manager.bj"),
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(
        csv.csv_rows()[0]["owner_username"],
        "demo.am.bj",
        "{}",
        csv.text
    );
    // An empty cell takes the keeper off.
    let off = s.import_csv(
        &am,
        "external_id,name,nature,owner_username\nKP-1,保管人导入甲有限公司,private,\n",
        false,
    );
    assert_eq!(off.json["updated"], 1, "{}", off.text);
    let file = s.get("/api/v1/customers?external_id=KP-1", &am);
    assert_eq!(file.json["items"][0]["owner_user_id"], Value::Null);
}

/// A keeper answers for a file, so must be able to read and work it: the
/// file's unit in their subtree, its level within their clearance. Every
/// write that sets the keeper, the unit or the level is judged.
#[test]
fn r_cus_10_a_keeper_can_read_and_work_the_file() {
    let s = TestServer::start();
    let manager = s.token("demo.manager.bj");
    let am = s.user_id("demo.am.bj");
    let before = s.audit_count();
    let field_error = |r: &clientele_e2e::Resp| {
        r.assert_problem(422, "validation_failed");
        (
            r.json["errors"][0]["field"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            r.json["errors"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    // Above the keeper's clearance (the account manager is cleared for C).
    let secret = s.post(
        "/api/v1/customers",
        &manager,
        &json!({"name": "北京保管密级测试有限公司", "nature": "private",
                "secrecy_level": "B", "owner_user_id": am}),
    );
    assert_eq!(
        field_error(&secret),
        ("owner_user_id".to_owned(), "keeper_not_cleared".to_owned())
    );
    // Of another unit.
    let foreign = s.post(
        "/api/v1/customers",
        &manager,
        &json!({"name": "北京保管单位测试有限公司", "nature": "private",
                "owner_user_id": s.user_id("demo.am.sh")}),
    );
    assert_eq!(
        field_error(&foreign),
        ("owner_user_id".to_owned(), "keeper_outside_unit".to_owned())
    );
    assert_eq!(s.audit_count(), before, "refused creations change nothing");

    // A kept file cannot be raised above its keeper or moved out of reach;
    // the error names the field the change set.
    let kept = s.post(
        "/api/v1/customers",
        &manager,
        &json!({"name": "北京保管变更测试有限公司", "nature": "private", "owner_user_id": am}),
    );
    assert_eq!(kept.status, 201, "{}", kept.text);
    let path = format!(
        "/api/v1/customers/{}",
        kept.json["id"].as_str().unwrap_or_default()
    );
    let etag = kept.header("etag").unwrap_or_default().to_owned();
    let raised = s.patch(&path, &manager, &etag, &json!({"secrecy_level": "B"}));
    assert_eq!(
        field_error(&raised),
        ("secrecy_level".to_owned(), "keeper_not_cleared".to_owned())
    );
    let admin = s.token("demo.admin");
    let moved = s.patch(
        &path,
        &admin,
        &etag,
        &json!({"owner_unit_id": s.unit_id("SH")}),
    );
    assert_eq!(
        field_error(&moved),
        ("owner_unit_id".to_owned(), "keeper_outside_unit".to_owned())
    );
    // Both at once, with a keeper who fits: accepted.
    let together = s.patch(
        &path,
        &manager,
        &etag,
        &json!({"secrecy_level": "B", "owner_user_id": s.user_id("demo.manager.bj")}),
    );
    assert_eq!(together.status, 200, "{}", together.text);

    // An import row naming a keeper who cannot keep the file is reported.
    let dry = s.import_csv(
        &s.token("demo.am.bj"),
        "external_id,name,nature,owner_username\nKF-1,北京保管导入测试有限公司,private,demo.am.sh\n",
        true,
    );
    assert_eq!(
        dry.json["errors"][0]["code"], "keeper_outside_unit",
        "{}",
        dry.text
    );
    // Named by the CSV's column, as the row names the keeper.
    assert_eq!(dry.json["errors"][0]["field"], "owner_username");

    // Nor can a keeper be moved away from their files, or lose the
    // clearance they need: hand the files over first.
    let user = format!("/api/v1/users/{am}");
    let etag = s
        .get(&user, &admin)
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    let before = s.audit_count();
    s.patch(&user, &admin, &etag, &json!({"unit_id": s.unit_id("SH")}))
        .assert_problem(409, "keeps_files");
    let boss = format!("/api/v1/users/{}", s.user_id("demo.manager.bj"));
    let boss_etag = s
        .get(&boss, &admin)
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    s.patch(&boss, &admin, &boss_etag, &json!({"clearance": "C"}))
        .assert_problem(409, "keeps_files");
    assert_eq!(s.audit_count(), before);
    // Up the tree is in reach: head office holds the branch.
    let up = s.patch(&user, &admin, &etag, &json!({"unit_id": s.unit_id("HQ")}));
    assert_eq!(up.status, 200, "{}", up.text);
}

/// Four new files of the Beijing manager's (`file` adds to each body),
/// each edited (`If-Match: "1"`) while `act` runs: the answer to the act,
/// each file's path and each edit's status (kept or refused as stale).
fn edits_during(
    s: &TestServer,
    manager: &str,
    file: Value,
    act: impl FnOnce() -> clientele_e2e::Resp,
) -> (clientele_e2e::Resp, Vec<String>, Vec<u16>) {
    let mut paths = Vec::new();
    for i in 0..4 {
        let mut body = file.clone();
        body["name"] = json!(format!("北京并发移交{i}有限公司"));
        body["nature"] = json!("private");
        let made = s.post("/api/v1/customers", manager, &body);
        assert_eq!(made.status, 201, "{}", made.text);
        paths.push(format!(
            "/api/v1/customers/{}",
            made.json["id"].as_str().unwrap_or_default()
        ));
    }
    let (done, edits) = std::thread::scope(|sc| {
        let edits: Vec<_> = paths
            .iter()
            .map(|path| {
                sc.spawn(move || {
                    s.patch(path, manager, "\"1\"", &json!({"industry": "并发"}))
                        .status
                })
            })
            .collect();
        let done = act();
        let edits: Vec<u16> = edits.into_iter().map(|e| e.join().unwrap_or(0)).collect();
        (done, edits)
    });
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(edits.iter().all(|e| *e == 200 || *e == 412), "{edits:?}");
    (done, paths, edits)
}

/// Files edited while they are handed over: the hand-over takes every
/// one of them, each edit is kept or refused as stale, none is lost.
#[test]
fn r_cus_10_a_hand_over_and_edits_at_once() {
    let s = TestServer::start();
    let manager = s.token("demo.manager.bj");
    let am = s.user_id("demo.am.bj");
    let successor = s.user_id("demo.manager.bj");
    let (_, paths, _) = edits_during(&s, &manager, json!({"owner_user_id": am}), || {
        s.post(
            "/api/v1/customers/hand-over",
            &manager,
            &json!({"from_user_id": am, "to_user_id": successor}),
        )
    });
    for path in &paths {
        let file = s.get(path, &manager);
        assert_eq!(
            file.json["owner_user_id"],
            successor.as_str(),
            "{}",
            file.text
        );
    }
}

/// A person is moved to another unit while a file is given to them: one
/// of the two is refused, never a keeper left out of reach of their file.
#[test]
fn r_cus_10_a_keeper_moved_while_given_a_file() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let manager = s.token("demo.manager.bj");
    let sh = s.unit_id("SH");
    for round in 0..8 {
        let hired = s.post(
            "/api/v1/users",
            &admin,
            &json!({"username": format!("zhou.yun{round}"), "display_name": "周云",
                    "password": "a-long-password", "unit_id": s.unit_id("BJ"),
                    "roles": ["account_manager"]}),
        );
        assert_eq!(hired.status, 201, "{}", hired.text);
        let person = hired.json["id"].as_str().unwrap_or_default().to_owned();
        let user = format!("/api/v1/users/{person}");
        let etag = hired.header("etag").unwrap_or_default().to_owned();
        let (moved, given) = std::thread::scope(|sc| {
            let moved = sc.spawn(|| {
                s.patch(&user, &admin, &etag, &json!({"unit_id": sh}))
                    .status
            });
            let given = sc.spawn(|| {
                s.post(
                    "/api/v1/customers",
                    &manager,
                    &json!({"name": format!("北京移动保管{round}有限公司"), "nature": "private",
                            "owner_user_id": person}),
                )
                .status
            });
            (moved.join().unwrap_or(0), given.join().unwrap_or(0))
        });
        assert!(
            !(moved == 200 && given == 201),
            "round {round}: both the move and the file went through"
        );
        assert!(
            moved == 200 || given == 201,
            "round {round}: {moved} {given}"
        );
    }
}

/// A unit that closes passes its files to another unit first (CUS-10:
/// data stays with a living unit; ORG-03: each move recorded).
#[test]
fn r_cus_10_a_closing_unit_passes_its_files_on() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let manager = s.token("demo.manager.bj");
    let (bj, sh) = (s.unit_id("BJ"), s.unit_id("SH"));
    let team = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": bj, "code": "BJ-P8", "name": "北京西站项目部", "kind": "project_team"}),
    );
    assert_eq!(team.status, 201, "{}", team.text);
    let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();
    let team_etag = team.header("etag").unwrap_or_default().to_owned();
    // One of the team's own people keeps a file of it.
    let member = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "liu.xi", "display_name": "刘曦", "password": "a-long-password",
                "unit_id": team_id, "roles": ["account_manager"]}),
    );
    assert_eq!(member.status, 201, "{}", member.text);
    let member_id = member.json["id"].as_str().unwrap_or_default().to_owned();
    let file = |name: &str, keeper: &str, level: &str| {
        let made = s.post(
            "/api/v1/customers",
            &admin,
            &json!({"name": name, "nature": "private", "owner_unit_id": team_id,
                    "owner_user_id": keeper, "secrecy_level": level}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
        made.json["id"].as_str().unwrap_or_default().to_owned()
    };
    let am = s.user_id("demo.am.bj");
    let by_branch = file("西站调出甲有限公司", &am, "C");
    let by_member = file("西站调出乙有限公司", &member_id, "C");
    // Above the Beijing manager's clearance (B): not theirs to move.
    let secret = file("西站调出丙有限公司", &s.user_id("demo.admin"), "A");

    // A unit keeping files is not closed: its files would be nobody's.
    let closing = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        &team_etag,
        &json!({"active": false}),
    );
    closing.assert_problem(409, "unit_in_use");
    assert!(
        closing.json["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("customer files: 3"),
        "{}",
        closing.text
    );

    // Refused, changing nothing.
    let others = [s.token("demo.am.bj"), s.token("demo.auditor")];
    let before = s.audit_count();
    let body = json!({"from_unit_id": team_id, "to_unit_id": bj});
    for token in &others {
        s.post("/api/v1/customers/unit-transfer", token, &body)
            .assert_problem(403, "forbidden");
    }
    let refused = |body: Value, field: &str, code: &str| {
        let r = s.post("/api/v1/customers/unit-transfer", &manager, &body);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
        assert_eq!(r.json["errors"][0]["code"], code, "{}", r.text);
    };
    refused(
        json!({"from_unit_id": team_id, "to_unit_id": team_id}),
        "to_unit_id",
        "same_unit",
    );
    refused(
        json!({"from_unit_id": am, "to_unit_id": bj}),
        "from_unit_id",
        "unit_not_found",
    );
    refused(
        json!({"from_unit_id": team_id, "to_unit_id": sh}),
        "to_unit_id",
        "unit_out_of_scope",
    );
    refused(
        json!({"from_unit_id": team_id, "to_unit_id": bj, "to_user_id": s.user_id("demo-erp")}),
        "to_user_id",
        "owner_not_person",
    );
    // The team's own member cannot work files of the branch above it: the
    // move names a keeper who can, or none at all is made.
    refused(body.clone(), "to_user_id", "keeper_outside_unit");
    let unknown = s.post(
        "/api/v1/customers/unit-transfer",
        &manager,
        &json!({"from_unit_id": team_id, "to_unit_id": bj, "extra": 1}),
    );
    unknown.assert_problem(422, "invalid_body");
    assert_eq!(s.audit_count(), before);
    for id in [&by_branch, &by_member] {
        let f = s.get(&format!("/api/v1/customers/{id}"), &manager);
        assert_eq!(f.json["owner_unit_id"], team_id.as_str());
        assert_eq!(f.json["version"], 1, "{}", f.text);
    }

    // The member's file goes to the Beijing account manager first; then
    // the branch takes the team's files, each keeping its keeper.
    let handed = s.post(
        "/api/v1/customers/hand-over",
        &manager,
        &json!({"from_user_id": member_id, "to_user_id": am}),
    );
    assert_eq!(handed.json["handed_over"], 1, "{}", handed.text);
    let moved = s.post("/api/v1/customers/unit-transfer", &manager, &body);
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.json["transferred"], 2, "{}", moved.text);
    // The secret file is neither moved nor counted as left to the manager.
    assert_eq!(moved.json["remaining"], 0, "{}", moved.text);
    let mut got = ids(&moved.json["customer_ids"]);
    got.sort();
    let mut want = vec![by_branch.clone(), by_member.clone()];
    want.sort();
    assert_eq!(got, want);
    for id in &want {
        let f = s.get(&format!("/api/v1/customers/{id}"), &manager);
        assert_eq!(f.json["owner_unit_id"], bj.as_str());
        assert_eq!(f.json["owner_user_id"], am.as_str());
        let history = s.get(&format!("/api/v1/customers/{id}/history"), &manager);
        let change = history.json["items"]
            .as_array()
            .and_then(|a| a.iter().find(|e| e["field"] == "owner_unit_id").cloned())
            .unwrap_or_default();
        assert_eq!(change["old_value"], team_id.as_str(), "{}", history.text);
        assert_eq!(change["new_value"], bj.as_str());
        assert_eq!(change["actor_id"], s.user_id("demo.manager.bj").as_str());
        assert_eq!(
            s.customer_event_topics(id).last().map(String::as_str),
            Some("customer.transferred"),
            "{id}"
        );
    }
    // The secret file stays; the team still cannot close.
    s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        &team_etag,
        &json!({"active": false}),
    )
    .assert_problem(409, "unit_in_use");

    // The administrator moves it to Shanghai with a keeper there.
    let to_sh = s.post(
        "/api/v1/customers/unit-transfer",
        &admin,
        &json!({"from_unit_id": team_id, "to_unit_id": sh, "to_user_id": s.user_id("demo.am.sh")}),
    );
    // The Shanghai account manager is cleared for C only.
    to_sh.assert_problem(422, "validation_failed");
    assert_eq!(to_sh.json["errors"][0]["code"], "keeper_not_cleared");
    let kept = s.post(
        "/api/v1/customers/unit-transfer",
        &admin,
        &json!({"from_unit_id": team_id, "to_unit_id": sh}),
    );
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(ids(&kept.json["customer_ids"]), vec![secret.clone()]);
    let f = s.get(&format!("/api/v1/customers/{secret}"), &admin);
    assert_eq!(f.json["owner_unit_id"], sh.as_str());

    // The member leaves, and the empty team closes.
    let left = s.patch(
        &format!("/api/v1/users/{member_id}"),
        &admin,
        member.header("etag").unwrap_or_default(),
        &json!({"active": false}),
    );
    assert_eq!(left.status, 200, "{}", left.text);
    let closed = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        &team_etag,
        &json!({"active": false}),
    );
    assert_eq!(closed.status, 200, "{}", closed.text);
    // Nothing is moved into a closed unit; out of it, nothing is left.
    let into_closed = s.post(
        "/api/v1/customers/unit-transfer",
        &admin,
        &json!({"from_unit_id": bj, "to_unit_id": team_id}),
    );
    into_closed.assert_problem(422, "validation_failed");
    assert_eq!(into_closed.json["errors"][0]["code"], "unit_inactive");
    let again = s.post("/api/v1/customers/unit-transfer", &admin, &body);
    assert_eq!(again.json["transferred"], 0, "{}", again.text);
}

/// A unit moves under another parent only if every keeper of its files
/// can still reach them (CUS-10).
#[test]
fn r_cus_10_a_unit_moves_only_with_keepers_who_reach_its_files() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let (bj, sh) = (s.unit_id("BJ"), s.unit_id("SH"));
    let team = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": bj, "code": "BJ-P7", "name": "北京南站项目部", "kind": "project_team"}),
    );
    assert_eq!(team.status, 201, "{}", team.text);
    let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();
    let made = s.post(
        "/api/v1/customers",
        &admin,
        &json!({"name": "南站随迁有限公司", "nature": "private", "owner_unit_id": team_id,
                "owner_user_id": s.user_id("demo.am.bj")}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    let before = s.audit_count();
    // Under Shanghai, the Beijing account manager could no longer see it.
    let stranded = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        team.header("etag").unwrap_or_default(),
        &json!({"parent_id": sh}),
    );
    stranded.assert_problem(409, "keepers_out_of_reach");
    assert_eq!(s.audit_count(), before);
    let unit = s.get(&format!("/api/v1/units/{team_id}"), &admin);
    assert_eq!(unit.json["parent_id"], bj.as_str(), "{}", unit.text);
    // Handed to a Shanghai person first, the team moves.
    let handed = s.post(
        "/api/v1/customers/hand-over",
        &admin,
        &json!({"from_user_id": s.user_id("demo.am.bj"), "to_user_id": s.user_id("demo.admin"),
                "unit_id": team_id}),
    );
    assert_eq!(handed.json["handed_over"], 1, "{}", handed.text);
    let moved = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        team.header("etag").unwrap_or_default(),
        &json!({"parent_id": sh}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let am_sh = s.token("demo.am.sh");
    let seen = s.get(&format!("/api/v1/customers/{id}"), &am_sh);
    assert_eq!(seen.status, 200, "{}", seen.text);
}

/// Files filed in a unit while it closes: either the unit stays open or
/// it keeps no file, never a file in a closed unit.
#[test]
fn r_cus_10_a_unit_closing_while_files_are_filed_in_it() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let bj = s.unit_id("BJ");
    for round in 0..8 {
        let team = s.post(
            "/api/v1/units",
            &admin,
            &json!({"parent_id": bj, "code": format!("BJ-R{round}"), "name": format!("北京临时项目部{round}"),
                    "kind": "project_team"}),
        );
        assert_eq!(team.status, 201, "{}", team.text);
        let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();
        let etag = team.header("etag").unwrap_or_default().to_owned();
        let (closed, filed) = std::thread::scope(|sc| {
            let closed = sc.spawn(|| {
                s.patch(
                    &format!("/api/v1/units/{team_id}"),
                    &admin,
                    &etag,
                    &json!({"active": false}),
                )
                .status
            });
            let filed = sc.spawn(|| {
                s.post(
                    "/api/v1/customers",
                    &admin,
                    &json!({"name": format!("临时项目部客户{round}有限公司"), "nature": "private",
                            "owner_unit_id": team_id}),
                )
                .status
            });
            (closed.join().unwrap_or(0), filed.join().unwrap_or(0))
        });
        assert!(
            !(closed == 200 && filed == 201),
            "round {round}: the unit closed and a file went into it"
        );
        assert!(
            closed == 200 || filed == 201,
            "round {round}: {closed} {filed}"
        );
    }
}

/// A unit keeping more files than one act moves passes them on in turns,
/// each all or nothing; a person's are handed over unit by unit.
#[test]
fn r_cus_10_a_large_unit_moves_in_turns() {
    let s = TestServer::start_with(|c| c.files_per_act = 2);
    let admin = s.token("demo.admin");
    let bj = s.unit_id("BJ");
    let team = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": bj, "code": "BJ-P6", "name": "北京东站项目部", "kind": "project_team"}),
    );
    assert_eq!(team.status, 201, "{}", team.text);
    let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();
    let am = s.user_id("demo.am.bj");
    for i in 0..3 {
        let made = s.post(
            "/api/v1/customers",
            &admin,
            &json!({"name": format!("东站分批{i}有限公司"), "nature": "private",
                    "owner_unit_id": team_id, "owner_user_id": am}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
    }
    // The keeper's files are more than one act takes.
    let too_many = s.post(
        "/api/v1/customers/hand-over",
        &admin,
        &json!({"from_user_id": am, "to_user_id": s.user_id("demo.manager.bj")}),
    );
    too_many.assert_problem(422, "too_many");
    let body = json!({"from_unit_id": team_id, "to_unit_id": bj});
    let first = s.post("/api/v1/customers/unit-transfer", &admin, &body);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["transferred"], 2, "{}", first.text);
    assert_eq!(first.json["remaining"], 1);
    let second = s.post("/api/v1/customers/unit-transfer", &admin, &body);
    assert_eq!(second.json["transferred"], 1, "{}", second.text);
    assert_eq!(second.json["remaining"], 0);
    let mut all = ids(&first.json["customer_ids"]);
    all.extend(ids(&second.json["customer_ids"]));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 3);
    let closed = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        team.header("etag").unwrap_or_default(),
        &json!({"active": false}),
    );
    assert_eq!(closed.status, 200, "{}", closed.text);
}

/// Files edited while their unit passes them on: the transfer takes every
/// one, each edit is kept or refused as stale, none is lost.
#[test]
fn r_cus_10_a_transfer_and_edits_at_once() {
    let s = TestServer::start();
    let manager = s.token("demo.manager.bj");
    let (team, bj) = (s.unit_id("BJ-P1"), s.unit_id("BJ"));
    let (_, paths, edits) = edits_during(&s, &manager, json!({"owner_unit_id": team}), || {
        s.post(
            "/api/v1/customers/unit-transfer",
            &manager,
            &json!({"from_unit_id": team, "to_unit_id": bj}),
        )
    });
    for (path, edit) in paths.iter().zip(&edits) {
        let file = s.get(path, &manager);
        assert_eq!(file.json["owner_unit_id"], bj.as_str(), "{}", file.text);
        if *edit == 200 {
            assert_eq!(file.json["industry"], "并发", "{}", file.text);
        }
    }
}

/// A hand-over, a unit's transfer or an import of many files checks the
/// new keeper (an active person who reaches the file) once for each unit
/// and level, not once a file: every file after the first costs only its
/// own update. A keeper who does not reach a file is still refused.
#[test]
fn r_cus_10_many_files_given_to_one_keeper_check_them_once() {
    use clientele_persistence::changed_files::ChangedFiles;
    use clientele_persistence::customers;
    use clientele_persistence::file_refs::CheckedRefs;
    use clientele_persistence::{DbConn, Error, WriteMeta};
    use diesel::connection::{Connection, InstrumentationEvent};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let (leaving, successor) = (s.user_id("demo.am.bj"), s.user_id("demo.manager.bj"));
    let stranger = s.user_id("demo.am.sh");
    let mut ids = Vec::new();
    for i in 0..12 {
        let made = s.post(
            "/api/v1/customers",
            &admin,
            &json!({"name": format!("批量交接{i}号有限公司"), "nature": "private",
                    "owner_unit_id": s.unit_id("BJ"), "owner_user_id": leaving}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
        ids.push(made.json["id"].as_str().unwrap_or_default().to_owned());
    }
    let statements = Arc::new(AtomicUsize::new(0));
    let counted = statements.clone();
    let count = move |e: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = e {
            counted.fetch_add(1, Ordering::Relaxed);
        }
    };
    let meta = WriteMeta::system(chrono::Utc::now().naive_utc());
    let (moved, refused) =
        s.db.write(|c| {
            let (mut records, mut known) = (ChangedFiles::default(), CheckedRefs::default());
            let mut give = |c: &mut DbConn, id: &str, to: &str| {
                let view = customers::get(c, id)?;
                let mut row = view.row.clone();
                row.owner_user_id = Some(to.to_owned());
                let version = row.version;
                customers::save_loaded(
                    c,
                    &meta,
                    &view,
                    version,
                    row,
                    None,
                    "handed_over",
                    &mut records,
                    &mut known,
                )
            };
            let (first, rest) = ids.split_first().ok_or(Error::NotFound)?;
            give(c, first, &successor)?;
            match c {
                DbConn::Pg(pg) => pg.set_instrumentation(count),
                DbConn::Sqlite(lite) => lite.set_instrumentation(count),
            }
            for id in &rest[1..] {
                give(c, id, &successor)?;
            }
            let moved = rest.len() - 1;
            // Another keeper is checked, and one of Shanghai does not
            // reach a Beijing file.
            let refused = give(c, &rest[0], &stranger).err();
            match c {
                DbConn::Pg(pg) => pg.set_instrumentation(|_: InstrumentationEvent<'_>| {}),
                DbConn::Sqlite(lite) => lite.set_instrumentation(|_: InstrumentationEvent<'_>| {}),
            }
            records.write(c)?;
            Ok((moved, refused))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = refused.map(|e| format!("{e:?}")).unwrap_or_default();
    assert!(refused.contains("keeper_outside_unit"), "{refused}");
    // One read and one update a file, and the other keeper's checks.
    let ran = statements.load(Ordering::Relaxed);
    assert!(ran <= 2 * moved + 8, "{ran} statements for {moved} files");
}
