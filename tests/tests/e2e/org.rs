//! Organisation (ORG-01..03): the unit tree, who sees whom, approval
//! authority, the audit trail.

use clientele_e2e::TestServer;
use serde_json::json;

#[test]
fn r_org_01_units_form_a_tree_with_rules() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let hq = s.unit_id("HQ");
    let gz = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": hq, "code": "GZ", "name": "广州分公司", "kind": "branch"}),
    );
    assert_eq!(gz.status, 201, "{}", gz.text);
    assert_eq!(gz.header("etag"), Some("\"1\""));
    let gz_id = gz.json["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        gz.header("location").map(str::to_owned),
        Some(format!("/api/v1/units/{gz_id}"))
    );
    assert_eq!(gz.json["path"], format!("/{hq}/{gz_id}/"));
    let team = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": gz_id, "code": "GZ-P1", "name": "广州项目部", "kind": "project_team"}),
    );
    assert_eq!(team.status, 201);
    let team_id = team.json["id"].as_str().unwrap_or_default().to_owned();

    // A department under a project team, and a second root that is not a company, are refused.
    let before = s.audit_count();
    s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": team_id, "code": "X1", "name": "x", "kind": "department"}),
    )
    .assert_problem(422, "invalid_parent_kind");
    s.post(
        "/api/v1/units",
        &admin,
        &json!({"code": "X2", "name": "x", "kind": "branch"}),
    )
    .assert_problem(422, "invalid_parent_kind");
    let orphan = s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": uuid::Uuid::now_v7(), "code": "X3", "name": "x", "kind": "branch"}),
    );
    orphan.assert_refused_on(422, "parent_not_found", "parent_id", "parent_not_found");
    s.post(
        "/api/v1/units",
        &admin,
        &json!({"parent_id": hq, "code": "GZ", "name": "dup", "kind": "branch"}),
    )
    .assert_problem(409, "duplicate");
    assert_eq!(s.audit_count(), before, "refused writes leave no trace");

    // Moving a branch under its own project team would make a cycle.
    s.patch(
        &format!("/api/v1/units/{gz_id}"),
        &admin,
        "\"1\"",
        &json!({"parent_id": team_id}),
    )
    .assert_problem(422, "invalid_parent_kind");
    // Moving the branch under another branch carries its subtree along.
    let bj = s.unit_id("BJ");
    let moved = s.patch(
        &format!("/api/v1/units/{gz_id}"),
        &admin,
        "\"1\"",
        &json!({"parent_id": bj}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let team_now = s.get(&format!("/api/v1/units/{team_id}"), &admin);
    assert_eq!(
        team_now.json["path"],
        format!("/{hq}/{bj}/{gz_id}/{team_id}/")
    );
    // The branch cannot move below itself.
    s.patch(
        &format!("/api/v1/units/{bj}"),
        &admin,
        "\"1\"",
        &json!({"parent_id": gz_id}),
    )
    .assert_problem(422, "cycle");

    // A unit with active members cannot be deactivated; an empty one can.
    s.patch(
        &format!("/api/v1/units/{bj}"),
        &admin,
        "\"1\"",
        &json!({"active": false}),
    )
    .assert_problem(409, "unit_in_use");
    let off = s.patch(
        &format!("/api/v1/units/{team_id}"),
        &admin,
        "\"1\"",
        &json!({"active": false}),
    );
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(off.json["active"], false);

    // Everyone signed in may read the tree; only admins change it.
    let manager = s.token("demo.manager.bj");
    assert_eq!(s.get("/api/v1/units", &manager).status, 200);
    s.post(
        "/api/v1/units",
        &manager,
        &json!({"parent_id": hq, "code": "NO", "name": "no", "kind": "branch"}),
    )
    .assert_problem(403, "forbidden");
    let within = s.get(&format!("/api/v1/units?within={bj}&limit=200"), &admin);
    let codes: Vec<&str> = within.json["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes.len(), 4, "{codes:?}");
}

#[test]
fn r_org_01_users_see_only_their_unit_subtree() {
    let s = TestServer::start();
    let bj_manager = s.token("demo.manager.bj");
    let listed = s.get("/api/v1/users?limit=200", &bj_manager);
    assert_eq!(listed.status, 200);
    let mut names: Vec<String> = listed.json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    assert_eq!(names, vec!["demo.agent", "demo.am.bj", "demo.manager.bj"]);
    // A user of another unit is as good as absent.
    let sh = s.user_id("demo.am.sh");
    s.get(&format!("/api/v1/users/{sh}"), &bj_manager)
        .assert_problem(404, "not_found");
    let agent = s.user_id("demo.agent");
    assert_eq!(
        s.get(&format!("/api/v1/users/{agent}"), &bj_manager).status,
        200
    );
    // The project-team agent does not see up into the branch.
    let agent_token = s.token("demo.agent");
    let bj_mgr_id = s.user_id("demo.manager.bj");
    s.get(&format!("/api/v1/users/{bj_mgr_id}"), &agent_token)
        .assert_problem(404, "not_found");
    // Auditors read everyone and change nothing.
    let auditor = s.token("demo.auditor");
    assert_eq!(s.get(&format!("/api/v1/users/{sh}"), &auditor).status, 200);
    let all = s.get("/api/v1/users?limit=200", &auditor);
    assert_eq!(all.json["items"].as_array().map(Vec::len), Some(10));
    let hq = s.unit_id("HQ");
    s.post(
        "/api/v1/users",
        &auditor,
        &json!({"username": "sneaky", "display_name": "x", "password": "long-enough-pw", "unit_id": hq, "roles": []}),
    )
    .assert_problem(403, "forbidden");
    // Filters.
    let admin = s.token("demo.admin");
    let services = s.get("/api/v1/users?kind=service", &admin);
    assert_eq!(services.json["items"].as_array().map(Vec::len), Some(1));
    let managers = s.get("/api/v1/users?role=manager", &admin);
    assert_eq!(managers.json["items"].as_array().map(Vec::len), Some(2));
    let q = s.get("/api/v1/users?q=DEMO.AM", &admin);
    assert_eq!(q.json["items"].as_array().map(Vec::len), Some(2));
}

#[test]
fn r_org_01_admins_manage_users() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let sh = s.unit_id("SH");
    let made = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "Li.Na", "display_name": "李娜", "email": "lina@example.com", "password": "a-long-password",
                "unit_id": sh, "roles": ["account_manager", "service_agent"], "clearance": "B"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.json["username"], "li.na");
    assert_eq!(
        made.json["roles"],
        json!(["account_manager", "service_agent"])
    );
    assert!(made.json.get("password").is_none() && !made.text.contains("argon2"));
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(s.password_grant("li.na", "a-long-password").status, 200);

    let dup = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "li.na", "display_name": "x", "password": "a-long-password", "unit_id": sh, "roles": []}),
    );
    dup.assert_problem(409, "duplicate");
    assert_eq!(dup.json["errors"][0]["field"], "username");

    let weak = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "x!y", "display_name": "x", "password": "aaaaaaaaaaaa", "unit_id": sh, "roles": []}),
    );
    weak.assert_problem(422, "validation_failed");
    let fields: Vec<&str> = weak.json["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, vec!["username", "password"]);
    let nowhere = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "ghost", "display_name": "x", "password": "a-long-password", "unit_id": uuid::Uuid::now_v7(), "roles": []}),
    );
    nowhere.assert_refused_on(422, "unit_not_found", "unit_id", "unit_not_found");
    let uncleared = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "ghost", "display_name": "x", "password": "a-long-password", "unit_id": sh, "roles": [], "clearance": "Z"}),
    );
    uncleared.assert_refused_on(422, "unknown_clearance", "clearance", "unknown_clearance");

    // Clearing a field with null, changing roles.
    let changed = s.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        "\"1\"",
        &json!({"email": null, "roles": ["manager"]}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["email"], serde_json::Value::Null);
    assert_eq!(changed.json["roles"], json!(["manager"]));
    assert_eq!(changed.header("etag"), Some("\"2\""));

    // An admin may not lock themself out.
    let me = s.user_id("demo.admin");
    let mine = s.get(&format!("/api/v1/users/{me}"), &admin);
    let etag = mine.header("etag").unwrap_or_default().to_owned();
    s.patch(
        &format!("/api/v1/users/{me}"),
        &admin,
        &etag,
        &json!({"active": false}),
    )
    .assert_problem(409, "self_lockout");

    // A password holding the username is the first one guessed (NIST SP
    // 800-63B), on creation and on a reset alike.
    let guessable = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "zhao.lei", "display_name": "赵磊", "password": "Zhao.Lei-2026",
                "unit_id": sh, "roles": []}),
    );
    guessable.assert_refused_on(422, "validation_failed", "password", "too_weak");
    s.post(
        &format!("/api/v1/users/{id}/password"),
        &admin,
        &json!({"password": "li.na-is-back"}),
    )
    .assert_refused_on(422, "validation_failed", "password", "too_weak");

    // Password reset ends the user's sessions.
    let their = s.token_with("li.na", "a-long-password");
    let reset = s.post(
        &format!("/api/v1/users/{id}/password"),
        &admin,
        &json!({"password": "another-long-one"}),
    );
    assert_eq!(reset.status, 204, "{}", reset.text);
    s.get("/api/v1/me", &their)
        .assert_problem(401, "invalid_token");
    assert_eq!(s.password_grant("li.na", "another-long-one").status, 200);
}

#[test]
fn r_org_02_approval_authority_depends_on_the_amount() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let at_limit = s.get(
        "/api/v1/approval-rules/decision?subject=contract&amount_minor=400000",
        &am,
    );
    assert_eq!(at_limit.status, 200, "{}", at_limit.text);
    assert_eq!(
        at_limit.json["caller_may_approve"], true,
        "4,000 CNY is within (以下) the account manager's authority"
    );
    assert_eq!(
        at_limit.json["approving_roles"],
        json!(["admin", "manager", "account_manager"])
    );
    let above = s.get(
        "/api/v1/approval-rules/decision?subject=contract&amount_minor=400001",
        &am,
    );
    assert_eq!(
        above.json["caller_may_approve"], false,
        "above 4,000 CNY needs contract approval"
    );
    assert_eq!(above.json["approving_roles"], json!(["admin", "manager"]));
    s.get(
        "/api/v1/approval-rules/decision?subject=contract&amount_minor=-1",
        &am,
    )
    .assert_problem(400, "invalid_query");
    s.get("/api/v1/approval-rules/decision?subject=BAD!", &am)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/approval-rules/decision", &am)
        .assert_problem(400, "invalid_query");

    // The table is data: an administrator raises the cap.
    let admin = s.token("demo.admin");
    let rules = s.get("/api/v1/approval-rules?subject=contract", &admin);
    let rule = rules.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["role"] == "account_manager").cloned())
        .unwrap_or_default();
    let id = rule["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/approval-rules/{id}");
    s.call(
        "PATCH",
        &path,
        Some(&admin),
        Some(&json!({"limit_minor": 500000})),
        &[],
    )
    .assert_problem(428, "precondition_required");
    s.patch(&path, &admin, "\"9\"", &json!({"limit_minor": 500000}))
        .assert_problem(412, "precondition_failed");
    s.patch(&path, &am, "\"1\"", &json!({"limit_minor": 500000}))
        .assert_problem(403, "forbidden");
    let raised = s.patch(
        &path,
        &admin,
        "\"1\"",
        &json!({"limit_minor": 500000, "note": "raised by GM decision"}),
    );
    assert_eq!(raised.status, 200, "{}", raised.text);
    let now = s.get(
        "/api/v1/approval-rules/decision?subject=contract&amount_minor=400001",
        &am,
    );
    assert_eq!(now.json["caller_may_approve"], true);
    // New subjects, duplicates, removal.
    let created = s.post(
        "/api/v1/approval-rules",
        &admin,
        &json!({"subject": "complaint_remedy", "role": "manager", "limit_minor": 1000000}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    s.post(
        "/api/v1/approval-rules",
        &admin,
        &json!({"subject": "complaint_remedy", "role": "manager"}),
    )
    .assert_problem(409, "duplicate");
    s.post(
        "/api/v1/approval-rules",
        &admin,
        &json!({"subject": "complaint_remedy", "role": "legal", "currency": "usd"}),
    )
    .assert_problem(422, "validation_failed");
    let rid = created.json["id"].as_str().unwrap_or_default().to_owned();
    let gone = s.call(
        "DELETE",
        &format!("/api/v1/approval-rules/{rid}"),
        Some(&admin),
        None,
        &[("if-match", "\"1\"")],
    );
    assert_eq!(gone.status, 204, "{}", gone.text);
    s.get(&format!("/api/v1/approval-rules/{rid}"), &admin)
        .assert_problem(404, "not_found");
}

#[test]
fn r_org_03_every_write_is_audited_with_who_when_and_where() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let hq = s.unit_id("HQ");
    let made = s.call(
        "POST",
        "/api/v1/units",
        Some(&admin),
        Some(&json!({"parent_id": hq, "code": "CD", "name": "成都分公司", "kind": "branch"})),
        &[("x-request-id", "audit-trace-1")],
    );
    assert_eq!(made.status, 201);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    let renamed = s.patch(
        &format!("/api/v1/units/{id}"),
        &admin,
        "\"1\"",
        &json!({"name": "成都分公司（西南）"}),
    );
    assert_eq!(renamed.status, 200);

    let auditor = s.token("demo.auditor");
    let log = s.get(
        &format!("/api/v1/audit-log?entity_type=org_unit&entity_id={id}"),
        &auditor,
    );
    assert_eq!(log.status, 200, "{}", log.text);
    let items = log.json["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    let (updated, created) = (&items[0], &items[1]);
    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["before"]["name"], "成都分公司");
    assert_eq!(updated["after"]["name"], "成都分公司（西南）");
    assert_eq!(created["action"], "created");
    assert_eq!(created["request_id"], "audit-trace-1");
    assert_eq!(created["client_ip"], "127.0.0.1");
    assert_eq!(created["actor_id"], s.user_id("demo.admin"));
    // Sign-ins are recorded too.
    let sessions = s.get("/api/v1/audit-log?action=signed_in&limit=200", &auditor);
    assert!(sessions.json["items"]
        .as_array()
        .is_some_and(|a| a.len() >= 2));

    // The outbox holds one event per change, written in the same transaction.
    let events =
        s.db.read(move |c| clientele_persistence::outbox::for_entity(c, "org_unit", &id))
            .unwrap_or_default();
    let topics: Vec<&str> = events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, vec!["org_unit.created", "org_unit.updated"]);

    // Only admins and auditors read the log.
    let manager = s.token("demo.manager");
    s.get("/api/v1/audit-log", &manager)
        .assert_problem(403, "forbidden");
}

#[test]
fn r_org_03_the_audit_log_is_append_only_in_the_database() {
    use diesel::connection::SimpleConnection;
    let s = TestServer::start();
    assert!(s.audit_count() > 0);
    let upd = s.db.write(|c| {
        c.batch_execute("UPDATE audit_log SET action = 'forged'")
            .map_err(Into::into)
    });
    assert!(upd.is_err(), "UPDATE must be refused");
    let del =
        s.db.write(|c| c.batch_execute("DELETE FROM audit_log").map_err(Into::into));
    assert!(del.is_err(), "DELETE must be refused");
}

#[test]
fn secrecy_levels_are_ordered() {
    let s = TestServer::start();
    let t = s.token("demo.am.bj");
    let r = s.get("/api/v1/secrecy-levels", &t);
    assert_eq!(r.status, 200);
    let codes: Vec<&str> = r
        .json
        .as_array()
        .map(|a| a.iter().filter_map(|l| l["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, vec!["C", "B", "A"]);
}

#[test]
fn admin_create_user_bootstraps_an_empty_database() {
    use clientele_persistence::{migrate, Db, DbSettings};
    let dir = std::env::temp_dir().join(format!("clientele-boot-{}", uuid::Uuid::now_v7()));
    let db = Db::connect(&DbSettings {
        url: format!("sqlite://{}", dir.join("b.db").display()),
        pool_size: 1,
        connect_timeout: std::time::Duration::from_secs(5),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    migrate::run_pending(&db).unwrap_or_else(|e| panic!("{e}"));
    let made = clientele_server::admin::create_user(
        &db,
        clientele_server::admin::NewAccount {
            username: "root.admin".into(),
            display_name: "Root".into(),
            password: "a-long-password".into(),
            unit_code: None,
            roles: vec!["admin".into()],
            clearance: None,
            company_name: "Acme 集团".into(),
        },
    );
    let user = made.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(user.roles, vec!["admin"]);
    assert_eq!(user.clearance, "C", "default clearance is the lowest level");
    // With units present, the unit must be named.
    let again = clientele_server::admin::create_user(
        &db,
        clientele_server::admin::NewAccount {
            username: "second".into(),
            display_name: "S".into(),
            password: "a-long-password".into(),
            unit_code: None,
            roles: vec![],
            clearance: None,
            company_name: "x".into(),
        },
    );
    assert!(again.is_err());
    let _ = std::fs::remove_dir_all(dir);
}

/// Units made and moved side by side keep a tree (ORG-01): every unit's
/// path is its parent's path and its own id, whatever ran beside it, and
/// no write fails on the server. Each unit's path is computed from its
/// parent's and a move rewrites the subtree it read; on PostgreSQL two
/// moves in opposite directions deadlocked, and a unit made (or moved)
/// under a subtree that was moving kept a path under its old place.
#[test]
fn r_org_01_units_made_and_moved_side_by_side_keep_one_tree() {
    const CLIENTS: u64 = 8;
    const OPS: u64 = 40;
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let hq = s.unit_id("HQ");
    let made: Vec<String> = (0..4)
        .map(|i| {
            let r = s.post(
                "/api/v1/units",
                &admin,
                &json!({"parent_id": hq, "code": format!("TREE-{i}"), "name": format!("树{i}部"), "kind": "department"}),
            );
            assert_eq!(r.status, 201, "{}", r.text);
            r.json["id"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    let failures = clientele_e2e::side_by_side(CLIENTS, OPS, |client, step, draw| {
        let unit = &made[draw.below(made.len())];
        let under = if draw.below(4) == 0 {
            &hq
        } else {
            &made[draw.below(made.len())]
        };
        let answer = if draw.below(3) == 0 {
            s.post(
                "/api/v1/units",
                &admin,
                &json!({"parent_id": under, "code": format!("TREE-{client}-{step}"),
                        "name": format!("树{client}-{step}组"), "kind": "department"}),
            )
        } else {
            let read = s.get(&format!("/api/v1/units/{unit}"), &admin);
            let etag = read.header("etag").unwrap_or_default().to_owned();
            let path = format!("/api/v1/units/{unit}");
            s.patch(&path, &admin, &etag, &json!({"parent_id": under}))
        };
        (answer.status >= 500).then(|| format!("{} {}", answer.status, answer.text))
    });
    assert!(failures.is_empty(), "{failures:#?}");
    let listed = s.get("/api/v1/units?limit=200", &admin);
    let units = listed.json["items"].as_array().cloned().unwrap_or_default();
    let path_of = |id: &str| {
        units
            .iter()
            .find(|u| u["id"] == id)
            .and_then(|u| u["path"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    for u in &units {
        let (id, path) = (
            u["id"].as_str().unwrap_or_default(),
            u["path"].as_str().unwrap_or_default(),
        );
        let expected = match u["parent_id"].as_str() {
            Some(parent) => format!("{}{id}/", path_of(parent)),
            None => format!("/{id}/"),
        };
        assert_eq!(path, expected, "{u}");
    }
}
