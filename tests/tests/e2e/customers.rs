//! Customer archives (CUS-01..10) through HTTP.

use clientele_e2e::{Resp, TestServer};
use serde_json::{json, Value};

/// A valid credit code, different for each `n`.
fn credit(n: u32) -> String {
    clientele_customers::CreditCode::complete(&format!("91110105{:08}", 50_000_000 + n * 13))
        .map(|c| c.to_string())
        .unwrap_or_default()
}

fn create(s: &TestServer, token: &str, body: Value) -> Resp {
    s.post("/api/v1/customers", token, &body)
}

fn id_of(r: &Resp) -> String {
    r.json["id"].as_str().unwrap_or_default().to_owned()
}

fn etag_of(r: &Resp) -> String {
    r.header("etag").unwrap_or_default().to_owned()
}

/// The names of the files a list page of `query` shows `token` (up to
/// 50), sorted.
/// Opens a private file of each name, as `token`: the answers, each 201.
fn private_files_named(s: &TestServer, token: &str, names: &[&str]) -> Vec<Resp> {
    names
        .iter()
        .map(|n| {
            let r = create(s, token, json!({"name": n, "nature": "private"}));
            assert_eq!(r.status, 201, "{}", r.text);
            r
        })
        .collect()
}

fn names_listed(s: &TestServer, token: &str, query: &str) -> Vec<String> {
    let r = s.get(&format!("/api/v1/customers?{query}&limit=50"), token);
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    let mut names: Vec<String> = r.json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn r_cus_01_one_customer_one_file() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let code = credit(1);
    let first = create(
        &s,
        &am,
        json!({"name": "北京华联商贸有限公司", "nature": "private", "credit_code": code.to_lowercase()}),
    );
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.json["code"]
        .as_str()
        .is_some_and(|c| c.starts_with("KH") && c.len() == 10));
    assert_eq!(first.json["credit_code"], code, "stored upper-case");
    assert_eq!(first.json["secrecy_level"], "C", "lowest level by default");
    assert_eq!(
        first.json["owner_unit_id"],
        s.unit_id("BJ"),
        "kept by the creator's unit"
    );
    let before = s.audit_count();
    let dup = create(
        &s,
        &am,
        json!({"name": "另一个名字", "nature": "private", "credit_code": code}),
    );
    dup.assert_problem(409, "duplicate");
    assert_eq!(dup.json["existing_id"], first.json["id"]);
    assert_eq!(dup.json["errors"][0]["field"], "credit_code");
    let bad = create(
        &s,
        &am,
        json!({"name": "x", "nature": "private", "credit_code": "91440300708461136U"}),
    );
    bad.assert_problem(422, "validation_failed");
    assert_eq!(bad.json["errors"][0]["code"], "invalid_check_digit");
    assert_eq!(s.audit_count(), before, "refused creations leave no trace");

    // Same company written differently: a likely duplicate.
    let twin = create(
        &s,
        &am,
        json!({"name": "北京华联商贸（有限责任公司）", "nature": "private"}),
    );
    assert_eq!(twin.status, 201);
    let d = s.get(
        &format!("/api/v1/customers/{}/duplicates", id_of(&first)),
        &am,
    );
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["items"][0]["id"], twin.json["id"]);

    // Merge (manager): contacts move, the absorbed file stays readable and points at the survivor.
    let c = s.post(
        &format!("/api/v1/customers/{}/contacts", id_of(&twin)),
        &am,
        &json!({"name": "陈经理", "mobile": "13800000000"}),
    );
    assert_eq!(c.status, 201, "{}", c.text);
    s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&first)),
        &am,
        &json!({"absorbed_id": id_of(&twin)}),
    )
    .assert_problem(403, "forbidden");
    let mgr = s.token("demo.manager.bj");
    let merged = s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&first)),
        &mgr,
        &json!({"absorbed_id": id_of(&twin)}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    let contacts = s.get(
        &format!("/api/v1/customers/{}/contacts", id_of(&first)),
        &am,
    );
    assert_eq!(contacts.json[0]["name"], "陈经理");
    let gone = s.get(&format!("/api/v1/customers/{}", id_of(&twin)), &am);
    assert_eq!(gone.status, 200);
    assert_eq!(gone.json["status"], "archived");
    assert_eq!(gone.json["merged_into_id"], first.json["id"]);
    s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&first)),
        &mgr,
        &json!({"absorbed_id": id_of(&twin)}),
    )
    .assert_problem(409, "already_merged");
    s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&first)),
        &mgr,
        &json!({"absorbed_id": id_of(&first)}),
    )
    .assert_problem(409, "merge_into_itself");
    // The default list leaves merged files out.
    let listed = s.get("/api/v1/customers?name=华联", &am);
    assert_eq!(listed.json["items"].as_array().map(Vec::len), Some(1));
    let with_merged = s.get("/api/v1/customers?name=华联&include_merged=true", &am);
    assert_eq!(with_merged.json["items"].as_array().map(Vec::len), Some(2));
}

#[test]
fn r_cus_01_a_merge_leaves_the_identifiers_on_the_living_file() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let bare = create(
        &s,
        &am,
        json!({"name": "北京标识合并有限公司", "nature": "private"}),
    );
    let code = credit(71);
    let coded = create(
        &s,
        &am,
        json!({"name": "北京标识合并（有限公司）", "nature": "private",
               "credit_code": code, "external_id": "ERP-MERGE-1"}),
    );
    let other = create(
        &s,
        &am,
        json!({"name": "北京标识合并分部", "nature": "private", "credit_code": credit(72)}),
    );
    // Different credit codes are different legal entities: not merged.
    let before = s.audit_count();
    s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&coded)),
        &mgr,
        &json!({"absorbed_id": id_of(&other)}),
    )
    .assert_problem(409, "different_credit_codes");
    assert_eq!(s.audit_count(), before);

    // The survivor lacks both identifiers: it takes them over.
    let merged = s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&bare)),
        &mgr,
        &json!({"absorbed_id": id_of(&coded)}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(merged.json["credit_code"], code.as_str());
    assert_eq!(merged.json["external_id"], "ERP-MERGE-1");
    assert_eq!(
        merged.json["version"], 2,
        "the take-over is a change of the survivor"
    );
    let gone = s.get(&format!("/api/v1/customers/{}", id_of(&coded)), &am);
    assert_eq!(gone.json["credit_code"], Value::Null);
    assert_eq!(gone.json["external_id"], Value::Null);
    let history = s.get(&format!("/api/v1/customers/{}/history", id_of(&bare)), &am);
    assert!(
        history.json["items"].as_array().is_some_and(|items| items
            .iter()
            .any(|c| c["field"] == "credit_code" && c["new_value"] == code.as_str())),
        "{}",
        history.text
    );
    // The credit code now finds the living file; the ERP's rows update it.
    let again = create(
        &s,
        &am,
        json!({"name": "北京标识合并再建有限公司", "nature": "private", "credit_code": code}),
    );
    again.assert_problem(409, "duplicate");
    assert_eq!(again.json["existing_id"], bare.json["id"]);
    let import = s.import_csv(
        &am,
        "external_id,name,nature,industry\nERP-MERGE-1,北京标识合并有限公司,private,制造业\n",
        false,
    );
    assert_eq!(import.json["updated"], 1, "{}", import.text);
    let living = s.get(&format!("/api/v1/customers/{}", id_of(&bare)), &am);
    assert_eq!(living.json["industry"], "制造业");

    // A secret file's contacts and history do not move to a file read by
    // people not cleared for them (CUS-07): raise the survivor first.
    let open_file = create(
        &s,
        &mgr,
        json!({"name": "北京密级合并有限公司", "nature": "private"}),
    );
    let secret = create(
        &s,
        &mgr,
        json!({"name": "北京密级合并（有限公司）", "nature": "private", "secrecy_level": "B"}),
    );
    assert_eq!(secret.status, 201, "{}", secret.text);
    let before = s.audit_count();
    s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&open_file)),
        &mgr,
        &json!({"absorbed_id": id_of(&secret)}),
    )
    .assert_problem(409, "secrecy_mismatch");
    assert_eq!(s.audit_count(), before);
    let raised = s.patch(
        &format!("/api/v1/customers/{}", id_of(&open_file)),
        &mgr,
        &etag_of(&open_file),
        &json!({"secrecy_level": "B"}),
    );
    assert_eq!(raised.status, 200, "{}", raised.text);
    let merged = s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&open_file)),
        &mgr,
        &json!({"absorbed_id": id_of(&secret)}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
}

#[test]
fn r_cus_04_history_field_by_field_and_revert() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京历史测试有限公司", "nature": "private", "industry": "制造业", "tags": ["A"]}),
    );
    let id = id_of(&made);
    let path = format!("/api/v1/customers/{id}");
    let changed = s.patch(
        &path,
        &am,
        &etag_of(&made),
        &json!({"industry": "批发零售", "address": "北京市朝阳区", "tags": ["a", "b"]}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.header("etag"), Some("\"2\""));
    // The tag filter follows the change, and so does a read of the file.
    let tagged = |tag: &str| -> usize {
        let r = s.get(&format!("/api/v1/customers?tag={tag}"), &am);
        r.json["items"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|c| c["id"] == id.as_str()).count())
    };
    assert_eq!((tagged("a"), tagged("b")), (1, 1));
    assert_eq!(s.get(&path, &am).json["tags"], json!(["a", "b"]));
    let h = s.get(&format!("{path}/history"), &am);
    assert_eq!(h.status, 200);
    let items = h.json["items"].as_array().cloned().unwrap_or_default();
    let fields: Vec<&str> = items.iter().filter_map(|e| e["field"].as_str()).collect();
    assert!(
        fields.contains(&"industry")
            && fields.contains(&"address")
            && fields.contains(&"tags")
            && fields.contains(&"*"),
        "{fields:?}"
    );
    let industry = items
        .iter()
        .find(|e| e["field"] == "industry")
        .cloned()
        .unwrap_or_default();
    assert_eq!(industry["old_value"], "制造业");
    assert_eq!(industry["new_value"], "批发零售");
    assert_eq!(industry["actor_id"], s.user_id("demo.am.bj"));
    // Revert the industry: a new change, not an erasure.
    let change_id = industry["id"].as_str().unwrap_or_default();
    let reverted = s.call(
        "POST",
        &format!("{path}/history/{change_id}/revert"),
        Some(&am),
        None,
        &[("if-match", "\"2\"")],
    );
    assert_eq!(reverted.status, 200, "{}", reverted.text);
    assert_eq!(reverted.json["industry"], "制造业");
    assert_eq!(
        reverted.json["address"], "北京市朝阳区",
        "other fields stay"
    );
    let after = s.get(&format!("{path}/history"), &am);
    assert_eq!(after.json["items"][0]["field"], "industry");
    assert_eq!(after.json["items"][0]["new_value"], "制造业");
    // Stale If-Match and creation entries are refused.
    s.call(
        "POST",
        &format!("{path}/history/{change_id}/revert"),
        Some(&am),
        None,
        &[("if-match", "\"2\"")],
    )
    .assert_problem(412, "precondition_failed");
    let created = items
        .iter()
        .find(|e| e["field"] == "*")
        .cloned()
        .unwrap_or_default();
    let cid = created["id"].as_str().unwrap_or_default();
    s.call(
        "POST",
        &format!("{path}/history/{cid}/revert"),
        Some(&am),
        None,
        &[("if-match", "\"3\"")],
    )
    .assert_problem(422, "not_revertible");
    // Contacts and documents are in the same history.
    let contact = s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "周主任", "phone": "010-12345678", "is_primary": true}),
    );
    let cpath = format!("{path}/contacts/{}", id_of(&contact));
    let moved = s.patch(&cpath, &am, "\"1\"", &json!({"title": "采购部主任"}));
    assert_eq!(moved.status, 200, "{}", moved.text);
    let doc = s.post(&format!("{path}/documents"), &am, &json!({"category": "contract", "title": "2026 年度供货合同", "reference_no": "HT-2026-001"}));
    assert_eq!(doc.status, 201, "{}", doc.text);
    let h2 = s.get(&format!("{path}/history?limit=200"), &am);
    let entities: Vec<&str> = h2.json["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["entity"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        entities.contains(&"contact") && entities.contains(&"document"),
        "{entities:?}"
    );
}

#[test]
fn r_cus_05_files_are_never_destroyed() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京永存档案有限公司", "nature": "private"}),
    );
    let path = format!("/api/v1/customers/{}", id_of(&made));
    s.call("DELETE", &path, Some(&am), None, &[("if-match", "\"1\"")])
        .assert_problem(405, "method_not_allowed");
    let archived = s.patch(&path, &am, "\"1\"", &json!({"status": "archived"}));
    assert_eq!(archived.status, 200, "{}", archived.text);
    let read = s.get(&path, &am);
    assert_eq!(read.status, 200);
    assert_eq!(read.json["status"], "archived");
    assert_eq!(
        s.customer_event_topics(&id_of(&made)),
        ["customer.created", "customer.archived"]
    );
    // The database refuses to forget reads (the per-file rows included,
    // once the background indexer or a reader has written them).
    use diesel::connection::SimpleConnection;
    let indexed =
        s.db.write(clientele_persistence::customer_access::index_pending);
    assert!(indexed.is_ok(), "{indexed:?}");
    for table in ["read_register", "read_register_files"] {
        assert!(
            s.db.write(move |c| c
                .batch_execute(&format!("DELETE FROM {table}"))
                .map_err(Into::into))
                .is_err(),
            "{table} is append-only"
        );
    }
}

#[test]
fn r_cus_05_an_absorbed_file_points_one_hop_at_the_living_file() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let file = |name: &str| {
        let made = create(
            &s,
            &am,
            json!({"name": name, "nature": "private", "external_id": name}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
        id_of(&made)
    };
    let (first, second, third) = (
        file("北京链式合并甲有限公司"),
        file("北京链式合并乙有限公司"),
        file("北京链式合并丙有限公司"),
    );
    let merge = |survivor: &str, absorbed: &str| {
        let r = s.post(
            &format!("/api/v1/customers/{survivor}/merge"),
            &mgr,
            &json!({"absorbed_id": absorbed}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    };
    merge(&second, &first);
    merge(&third, &second);
    // The first file was absorbed by one that is now absorbed itself: it
    // points straight at the living file, as the second does.
    for gone in [&first, &second] {
        let read = s.get(&format!("/api/v1/customers/{gone}"), &am);
        assert_eq!(read.json["merged_into_id"], third.as_str(), "{}", read.text);
        assert_eq!(read.json["status"], "archived");
    }
    let history = s.get(&format!("/api/v1/customers/{first}/history"), &am);
    let moved = history.json["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["field"] == "merged_into_id"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(moved["old_value"], second.as_str(), "{}", history.text);
    assert_eq!(moved["new_value"], third.as_str());
    // Its timeline says so in its own words.
    let timeline = s.get(&format!("/api/v1/customers/{first}/timeline"), &am);
    let kinds: Vec<&str> = timeline.json["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kinds,
        vec!["merged_into", "merged_into"],
        "{}",
        timeline.text
    );
    assert_eq!(
        s.customer_event_topics(&first),
        ["customer.created", "customer.merged", "customer.merged"]
    );
    // The survivor's record of the merge counts the file it took along.
    let survivor = s.get(&format!("/api/v1/customers/{third}/history"), &am);
    let record = survivor.json["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["field"] == "merged_from"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        record["new_value"]["earlier_absorbed"], 1,
        "{}",
        survivor.text
    );

    // An absorbed file is kept as the merge left it: its customer is
    // worked on the living file, which every refusal names.
    let before = s.audit_count();
    let path = format!("/api/v1/customers/{first}");
    let etag = s
        .get(&path, &am)
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    let edit = s.patch(&path, &am, &etag, &json!({"industry": "制造业"}));
    edit.assert_problem(409, "merged");
    assert!(edit.json["detail"]
        .as_str()
        .unwrap_or_default()
        .contains(&third));
    s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "王经理", "mobile": "13900000000"}),
    )
    .assert_problem(409, "merged");
    let onto = s.post(
        &format!("/api/v1/customers/{third}/relations"),
        &am,
        &json!({"customer_id": first, "kind": "related"}),
    );
    onto.assert_problem(422, "merged");
    let import = s.import_csv(
        &am,
        "external_id,name,nature\n北京链式合并甲有限公司,北京链式合并甲有限公司,state_owned\n",
        true,
    );
    assert_eq!(
        import.json["errors"][0]["code"], "merged",
        "{}",
        import.text
    );
    assert_eq!(s.audit_count(), before, "refused writes leave no trace");
}

#[test]
fn r_cus_06_relations_show_from_both_sides() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let group = create(
        &s,
        &am,
        json!({"name": "北京关系集团有限公司", "nature": "state_owned"}),
    );
    let sub = create(
        &s,
        &am,
        json!({"name": "北京关系集团第一分公司", "nature": "state_owned"}),
    );
    let r = s.post(
        &format!("/api/v1/customers/{}/relations", id_of(&group)),
        &am,
        &json!({"customer_id": id_of(&sub), "kind": "parent_of"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let from_group = s.get(
        &format!("/api/v1/customers/{}/relations", id_of(&group)),
        &am,
    );
    assert_eq!(from_group.json[0]["kind"], "parent_of");
    assert_eq!(from_group.json[0]["customer_id"], group_other(&sub));
    let from_sub = s.get(&format!("/api/v1/customers/{}/relations", id_of(&sub)), &am);
    assert_eq!(from_sub.json[0]["kind"], "subsidiary_of");
    assert_eq!(from_sub.json[0]["customer_id"], group.json["id"]);
    // The other file is named, and naming it is a read of it (CUS-08).
    assert_eq!(from_sub.json[0]["customer_name"], "北京关系集团有限公司");
    assert_eq!(from_sub.json[0]["customer_code"], group.json["code"]);
    let named = s.get(
        &format!(
            "/api/v1/access-register?customer_id={}&action=relations&limit=200",
            id_of(&group)
        ),
        &s.token("demo.auditor"),
    );
    assert!(
        named.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["detail"] == "named in a relation")),
        "{}",
        named.text
    );
    s.post(
        &format!("/api/v1/customers/{}/relations", id_of(&sub)),
        &am,
        &json!({"customer_id": id_of(&group), "kind": "parent_of"}),
    )
    .assert_problem(409, "relation_exists");
    s.post(
        &format!("/api/v1/customers/{}/relations", id_of(&sub)),
        &am,
        &json!({"customer_id": id_of(&sub), "kind": "related"}),
    )
    .assert_problem(422, "validation_failed");
    let rid = r.json["id"].as_str().unwrap_or_default();
    let ended = s.call(
        "DELETE",
        &format!("/api/v1/customers/{}/relations/{rid}", id_of(&sub)),
        Some(&am),
        None,
        &[],
    );
    assert_eq!(ended.status, 204, "{}", ended.text);
    assert_eq!(
        s.get(
            &format!("/api/v1/customers/{}/relations", id_of(&group)),
            &am
        )
        .json,
        json!([])
    );

    // A group tree has no cycles: a subsidiary's subsidiary is not the
    // group's parent.
    let shop = create(
        &s,
        &am,
        json!({"name": "北京集团门店有限公司", "nature": "private"}),
    );
    let link = |parent: &Resp, child: &Resp| {
        s.post(
            &format!("/api/v1/customers/{}/relations", id_of(parent)),
            &am,
            &json!({"customer_id": id_of(child), "kind": "parent_of"}),
        )
    };
    assert_eq!(link(&group, &sub).status, 201);
    assert_eq!(link(&sub, &shop).status, 201);
    let before = s.audit_count();
    let cycle = link(&shop, &group);
    cycle.assert_problem(422, "validation_failed");
    assert_eq!(cycle.json["errors"][0]["field"], "customer_id");
    assert_eq!(cycle.json["errors"][0]["code"], "relation_cycle");
    assert_eq!(s.audit_count(), before);
    // A second parent is no cycle.
    assert_eq!(link(&group, &shop).status, 201);
}

/// A file's contacts, relations and document records come a page at a
/// time (`limit`, 1 to 500, all by default; `X-Next-Cursor` while more
/// follow): a group with more subsidiaries than one answer holds shows
/// them all. Relations to files out of the caller's sight are passed over
/// without an empty page or a cursor that betrays them.
#[test]
fn r_cus_02_a_files_parts_come_a_page_at_a_time() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let admin = s.token("demo.admin");
    let group = id_of(&create(
        &s,
        &am,
        json!({"name": "北京分页集团有限公司", "nature": "state_owned"}),
    ));
    let seen_sub = |name: &str| id_of(&create(&s, &am, json!({"name": name, "nature": "private"})));
    let first = seen_sub("北京分页一号有限公司");
    let hidden = id_of(&create(
        &s,
        &s.token("demo.am.sh"),
        json!({"name": "上海分页隐藏有限公司", "nature": "private"}),
    ));
    let last = seen_sub("北京分页二号有限公司");
    let mut relation_of = std::collections::HashMap::new();
    for sub in [&first, &hidden, &last] {
        let r = s.post(
            &format!("/api/v1/customers/{group}/relations"),
            &admin,
            &json!({"customer_id": sub, "kind": "parent_of"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        relation_of.insert(sub.clone(), id_of(&r));
    }
    // Every answer of a list, following its cursors: the pages' items.
    let pages = |token: &str, path: &str| -> Vec<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(String::new());
        while let Some(cursor) = next {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = if cursor.is_empty() {
                path.to_owned()
            } else {
                format!("{path}{sep}cursor={cursor}")
            };
            let r = s.get(&url, token);
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            next = r.header("x-next-cursor").map(str::to_owned);
            out.push(r.json.as_array().cloned().unwrap_or_default());
            assert!(out.len() < 10, "{url}: no end");
        }
        out
    };
    let others = |page: &[Value]| -> Vec<String> {
        page.iter()
            .filter_map(|r| r["customer_id"].as_str().map(str::to_owned))
            .collect()
    };
    let relations = format!("/api/v1/customers/{group}/relations");
    // The Beijing account manager: one a page, the Shanghai file passed over.
    let mine = pages(&am, &format!("{relations}?limit=1"));
    assert_eq!(
        mine.iter().map(|p| others(p)).collect::<Vec<_>>(),
        vec![vec![first.clone()], vec![last.clone()]]
    );
    // The administrator sees all three, two a page.
    let all = pages(&admin, &format!("{relations}?limit=2"));
    assert_eq!(
        all.iter().map(|p| others(p)).collect::<Vec<_>>(),
        vec![vec![first.clone(), hidden.clone()], vec![last.clone()]]
    );
    // By default one answer holds them all.
    assert_eq!(pages(&admin, &relations).len(), 1);
    // One relation by its id, wherever it falls in the list.
    let to_last = &relation_of[&last];
    assert_eq!(s.get(&format!("{relations}/{to_last}"), &am).status, 200);
    let to_hidden = &relation_of[&hidden];
    s.get(&format!("{relations}/{to_hidden}"), &am)
        .assert_problem(404, "not_found");

    // Contacts: the primary first, then in the order they were added.
    let c1 = s.add_contact(&am, &group, json!({"name": "甲", "mobile": "13800000001"}));
    let c2 = s.add_contact(
        &am,
        &group,
        json!({"name": "乙", "mobile": "13800000002", "is_primary": true}),
    );
    let c3 = s.add_contact(&am, &group, json!({"name": "丙", "mobile": "13800000003"}));
    let contacts = pages(&am, &format!("/api/v1/customers/{group}/contacts?limit=1"));
    let ids: Vec<Vec<&str>> = contacts
        .iter()
        .map(|p| p.iter().filter_map(|c| c["id"].as_str()).collect())
        .collect();
    assert_eq!(ids, vec![vec![c2.as_str()], vec![&c1], vec![&c3]]);
    let two = pages(&am, &format!("/api/v1/customers/{group}/contacts?limit=2"));
    assert_eq!(two.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);

    // Document records, in the order they were recorded, by category too.
    for (category, title) in [
        ("contract", "合同一"),
        ("certificate", "证书"),
        ("contract", "合同二"),
    ] {
        let d = s.post(
            &format!("/api/v1/customers/{group}/documents"),
            &am,
            &json!({"category": category, "title": title}),
        );
        assert_eq!(d.status, 201, "{}", d.text);
    }
    let titles = |token: &str, path: &str| -> Vec<Vec<String>> {
        pages(token, path)
            .iter()
            .map(|p| {
                p.iter()
                    .filter_map(|d| d["title"].as_str().map(str::to_owned))
                    .collect()
            })
            .collect()
    };
    let documents = format!("/api/v1/customers/{group}/documents");
    assert_eq!(
        titles(&am, &format!("{documents}?limit=2")),
        vec![vec!["合同一", "证书"], vec!["合同二"]]
    );
    assert_eq!(
        titles(&am, &format!("{documents}?category=contract&limit=1")),
        vec![vec!["合同一"], vec!["合同二"]]
    );

    // Bad pages are refused, naming what is wrong.
    for limit in ["0", "501", "x"] {
        s.get(&format!("{documents}?limit={limit}"), &am)
            .assert_problem(400, "invalid_query");
    }
    s.get(&format!("{documents}?cursor=bm90LWEtY3Vyc29y"), &am)
        .assert_problem(400, "invalid_cursor");
    // A document's cursor is no contact's.
    let doc_cursor = s
        .get(&format!("{documents}?limit=1"), &am)
        .header("x-next-cursor")
        .unwrap_or_default()
        .to_owned();
    s.get(
        &format!("/api/v1/customers/{group}/contacts?cursor={doc_cursor}"),
        &am,
    )
    .assert_problem(400, "invalid_cursor");
}

/// Two links made at the same moment that would together close a group
/// cycle (A→B and C→D exist; B→C and D→A are added): one is refused.
#[test]
fn r_cus_06_two_links_at_once_close_no_cycle() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    for round in 0..6 {
        let file = |n: &str| {
            let made = create(
                &s,
                &am,
                json!({"name": format!("北京环形集团{round}{n}有限公司"), "nature": "private"}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            id_of(&made)
        };
        let (a, b, c, d) = (file("甲"), file("乙"), file("丙"), file("丁"));
        let link = |parent: &str, child: &str| {
            s.post(
                &format!("/api/v1/customers/{parent}/relations"),
                &am,
                &json!({"customer_id": child, "kind": "parent_of"}),
            )
            .status
        };
        assert_eq!(link(&a, &b), 201);
        assert_eq!(link(&c, &d), 201);
        let (one, other) = std::thread::scope(|sc| {
            let one = sc.spawn(|| link(&b, &c));
            let other = sc.spawn(|| link(&d, &a));
            (one.join().unwrap_or(0), other.join().unwrap_or(0))
        });
        let mut both = [one, other];
        both.sort_unstable();
        assert_eq!(both, [201, 422], "round {round}");
    }
}

fn group_other(r: &Resp) -> Value {
    r.json["id"].clone()
}

/// Every customer endpoint × (owner, same unit, parent unit, other unit, low
/// clearance, auditor, service account, anonymous): no leak.
#[test]
fn r_cus_07_visibility_matrix() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let team = s.unit_id("BJ-P1");
    // A colleague in the project team who may edit files.
    let mate = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "team.mate", "display_name": "同组客户经理", "password": "a-long-password", "unit_id": team, "roles": ["account_manager"]}),
    );
    assert_eq!(mate.status, 201, "{}", mate.text);
    // The file: kept by the project team, owned by its service agent, level C;
    // a second, level-B file of the same team for the clearance column.
    let made = create(
        &s,
        &admin,
        json!({"name": "北京矩阵测试有限公司", "nature": "private", "owner_unit_id": team,
        "owner_user_id": s.user_id("demo.agent")}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let other = create(
        &s,
        &admin,
        json!({"name": "北京矩阵关联有限公司", "nature": "private", "owner_unit_id": team}),
    );
    let secret = create(
        &s,
        &admin,
        json!({"name": "北京矩阵秘密有限公司", "nature": "private", "owner_unit_id": team, "secrecy_level": "B"}),
    );
    // A likely duplicate of the level-C file, for the archive-wide report.
    let twin = create(
        &s,
        &admin,
        json!({"name": "北京矩阵测试股份有限公司", "nature": "private", "owner_unit_id": team}),
    );
    assert_eq!(twin.status, 201, "{}", twin.text);
    let (id, other_id, secret_id) = (id_of(&made), id_of(&other), id_of(&secret));
    let part = |path: &str, body: Value| {
        let r = s.post(&format!("/api/v1/customers/{id}/{path}"), &admin, &body);
        assert_eq!(r.status, 201, "{}", r.text);
        id_of(&r)
    };
    let contact = part(
        "contacts",
        json!({"name": "矩阵联系人", "phone": "010-12345678"}),
    );
    let document = part(
        "documents",
        json!({"category": "contract", "title": "矩阵合同"}),
    );
    let relation = part(
        "relations",
        json!({"customer_id": other_id, "kind": "related"}),
    );
    // A finance department's own system: its scope is its unit.
    let finance = s.post(
        "/api/v1/service-accounts",
        &admin,
        &json!({"client_id": "fin-ledger", "display_name": "财务总账接口", "unit_id": s.unit_id("FIN")}),
    );
    assert_eq!(finance.status, 201, "{}", finance.text);
    let erp = s.call(
        "POST",
        "/api/v1/auth/token",
        None,
        Some(
            &json!({"grant_type": "client_credentials", "client_id": "fin-ledger",
                     "client_secret": finance.json["client_secret"]}),
        ),
        &[],
    );
    let erp = erp.json["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    /// What a principal may do with the level-C file.
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum May {
        Nothing,
        Read,
        Work,
    }
    // (who, token, on the level-C file, sees the level-B file)
    let who: Vec<(&str, Option<String>, May, bool)> = vec![
        (
            "owner: the team's service agent",
            Some(s.token("demo.agent")),
            May::Read,
            false,
        ),
        (
            "same unit: team account manager",
            Some(s.token_with("team.mate", "a-long-password")),
            May::Work,
            false,
        ),
        (
            "parent unit: Beijing manager (B)",
            Some(s.token("demo.manager.bj")),
            May::Work,
            true,
        ),
        (
            "low clearance: Beijing account manager (C)",
            Some(s.token("demo.am.bj")),
            May::Work,
            false,
        ),
        (
            "other unit: Shanghai",
            Some(s.token("demo.am.sh")),
            May::Nothing,
            false,
        ),
        ("auditor", Some(s.token("demo.auditor")), May::Read, true),
        ("service account of finance", Some(erp), May::Nothing, false),
        ("anonymous", None, May::Nothing, false),
    ];
    let reads = [
        format!("/api/v1/customers/{id}"),
        format!("/api/v1/customers/{id}/contacts"),
        format!("/api/v1/customers/{id}/contacts/{contact}"),
        format!("/api/v1/customers/{id}/relations"),
        format!("/api/v1/customers/{id}/relations/{relation}"),
        format!("/api/v1/customers/{id}/documents"),
        format!("/api/v1/customers/{id}/documents/{document}"),
        format!("/api/v1/customers/{id}/history"),
        format!("/api/v1/customers/{id}/timeline"),
        format!("/api/v1/customers/{id}/duplicates"),
    ];
    for (name, token, may, sees_secret) in &who {
        let t = token.as_deref();
        // `ok` is the success status; 200 marks a read, anything else or a PATCH a write.
        let check = |r: clientele_e2e::Resp, ok: u16, what: &str| {
            let write = ok != 200 || what == "patch";
            match (t, may) {
                (None, _) => r.assert_problem(401, "unauthorized"),
                (Some(_), May::Nothing) => r.assert_problem(404, "not_found"),
                (Some(_), May::Read) if write => {
                    assert_eq!(r.status, 403, "{name} {what}: {}", r.text)
                }
                (Some(_), _) => assert_eq!(r.status, ok, "{name} {what}: {}", r.text),
            }
        };
        for path in &reads {
            check(s.call("GET", path, t, None, &[]), 200, path);
        }
        if t.is_none() {
            s.call("GET", "/api/v1/customers/duplicate-groups", None, None, &[])
                .assert_problem(401, "unauthorized");
            s.call(
                "GET",
                "/api/v1/customers/duplicate-check?name=x",
                None,
                None,
                &[],
            )
            .assert_problem(401, "unauthorized");
            for path in [
                "/api/v1/customers/hand-over",
                "/api/v1/customers/unit-transfer",
            ] {
                s.call("POST", path, None, Some(&json!({})), &[])
                    .assert_problem(401, "unauthorized");
            }
            s.call("GET", "/api/v1/customers/counts?by=nature", None, None, &[])
                .assert_problem(401, "unauthorized");
            s.call("GET", "/api/v1/export-requests", None, None, &[])
                .assert_problem(401, "unauthorized");
            s.call(
                "POST",
                "/api/v1/export-requests",
                None,
                Some(&json!({"filter": "", "purpose": "x"})),
                &[],
            )
            .assert_problem(401, "unauthorized");
        }
        // Writes below the file.
        check(
            s.call(
                "POST",
                &format!("/api/v1/customers/{id}/contacts"),
                t,
                Some(&json!({"name": "甲", "phone": "010-1"})),
                &[],
            ),
            201,
            "add contact",
        );
        check(
            s.call(
                "POST",
                &format!("/api/v1/customers/{id}/documents"),
                t,
                Some(&json!({"category": "other", "title": "备忘"})),
                &[],
            ),
            201,
            "add document",
        );
        // A contacts import naming the file (a dry run): a file out of
        // sight is refused as one that does not exist.
        let auth = t.map(|t| format!("Bearer {t}"));
        let import = |file: &str| {
            let csv = format!("customer_id,name,phone\n{file},矩阵导入,010-87654321\n");
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("authorization", a.as_str())).collect();
            s.raw(
                "POST",
                "/api/v1/customers/contacts/import?dry_run=true",
                &headers,
                Some(("text/csv", csv.as_bytes())),
            )
        };
        let imported = import(&id);
        match (t, may) {
            (None, _) => imported.assert_problem(401, "unauthorized"),
            (Some(_), May::Read) => imported.assert_problem(403, "forbidden"),
            (Some(_), May::Work) => {
                assert_eq!(imported.status, 200, "{name} import: {}", imported.text);
                assert_eq!(imported.json["created"], 1, "{name} import");
            }
            (Some(_), May::Nothing) => {
                let nowhere = import("00000000-0000-4000-8000-000000000000");
                assert_eq!(imported.status, 200, "{name} import: {}", imported.text);
                assert_eq!(
                    imported.json["errors"], nowhere.json["errors"],
                    "{name} import"
                );
                assert_eq!(imported.json["errors"][0]["code"], "customer_not_found");
            }
        }
        let rel = s.call(
            "POST",
            &format!("/api/v1/customers/{id}/relations"),
            t,
            Some(&json!({"customer_id": other_id, "kind": "related"})),
            &[],
        );
        if *may == May::Work {
            assert!(
                rel.status == 201 || rel.status == 409,
                "{name} relate: {}",
                rel.text
            );
        } else {
            check(rel, 201, "relate");
        }
        // The file itself.
        let current = s.get(&format!("/api/v1/customers/{id}"), &admin);
        let etag = etag_of(&current);
        let w = s.call(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            t,
            Some(&json!({"industry": format!("由{name}修改")})),
            &[("if-match", &etag)],
        );
        check(w, 200, "patch");
        // The level-B file follows clearance.
        if let Some(t) = t {
            let r = s.get(&format!("/api/v1/customers/{secret_id}"), t);
            assert_eq!(
                r.status,
                if *sees_secret { 200 } else { 404 },
                "{name} level B"
            );
            // Lists and exports show exactly what single reads show.
            let listed = s.get("/api/v1/customers?name=矩阵&limit=200", t);
            let n = listed.json["items"].as_array().map(Vec::len).unwrap_or(0);
            let expected = match may {
                May::Nothing => 0,
                _ => 3 + usize::from(*sees_secret),
            };
            assert_eq!(n, expected, "{name} lists");
            // Only managers, auditors and service accounts take files out (CUS-08).
            let exported = s.get("/api/v1/customers/export?format=ndjson&name=矩阵", t);
            let exports = matches!(
                *name,
                "parent unit: Beijing manager (B)" | "auditor" | "service account of finance"
            );
            // Their contacts go with the same permission, and only theirs.
            let contacts_out = s.get(
                "/api/v1/customers/contacts/export?format=ndjson&name=矩阵",
                t,
            );
            if exports {
                assert_eq!(exported.status, 200, "{name} exports: {}", exported.text);
                assert_eq!(exported.text.lines().count(), expected, "{name} exports");
                let files: Vec<Value> = exported
                    .text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .map(|f| f["id"].clone())
                    .collect();
                assert_eq!(contacts_out.status, 200, "{name}: {}", contacts_out.text);
                for line in contacts_out.text.lines() {
                    let k: Value = serde_json::from_str(line).unwrap_or_default();
                    assert!(files.contains(&k["customer_id"]), "{name} exports {line}");
                }
            } else {
                exported.assert_problem(403, "forbidden");
                contacts_out.assert_problem(403, "forbidden");
            }
            // Counts count exactly what lists list.
            let kept = s.get(&format!("/api/v1/customers?unit_id={team}&limit=200"), t);
            let counted = s.get(
                &format!("/api/v1/customers/counts?by=secrecy_level&unit_id={team}"),
                t,
            );
            assert_eq!(counted.status, 200, "{name} counts: {}", counted.text);
            assert_eq!(
                counted.json["total"].as_u64(),
                kept.json["items"].as_array().map(|a| a.len() as u64),
                "{name} counts"
            );
            // The duplicate report counts and shows only files in sight.
            let groups = s.get("/api/v1/customers/duplicate-groups?limit=200", t);
            assert_eq!(groups.status, 200, "{name} duplicate groups");
            let group = groups.json["items"].as_array().and_then(|a| {
                a.iter()
                    .find(|g| g["name_normalized"] == "北京矩阵测试")
                    .cloned()
            });
            assert_eq!(
                group.map(|g| g["count"].clone()),
                (*may != May::Nothing).then(|| json!(2)),
                "{name} duplicate groups"
            );
            // So does the check before a file is opened, for those who
            // open files: by name and by the file's contact.
            let checked = s.get(
                "/api/v1/customers/duplicate-check?name=北京矩阵测试有限责任公司&contact=010-12345678",
                t,
            );
            if *may == May::Read {
                checked.assert_problem(403, "forbidden");
            } else {
                assert_eq!(checked.status, 200, "{name} check: {}", checked.text);
                let mut likely = checked.likely_duplicates();
                likely.sort_by(|a, b| a.0.cmp(&b.0));
                let mut expected = vec![
                    (id.clone(), json!(["name", "contact"])),
                    (id_of(&twin), json!(["name"])),
                ];
                expected.sort_by(|a, b| a.0.cmp(&b.0));
                if *may == May::Nothing {
                    expected.clear();
                }
                assert_eq!(likely, expected, "{name} check");
            }
            // Handing files over is a manager's act (this one names the
            // same person twice, so it changes nothing where allowed).
            let handed = s.post(
                "/api/v1/customers/hand-over",
                t,
                &json!({"from_user_id": s.user_id("demo.agent"), "to_user_id": s.user_id("demo.agent")}),
            );
            let hand_over_status = if name.starts_with("parent unit") {
                422
            } else {
                403
            };
            assert_eq!(
                handed.status, hand_over_status,
                "{name} hand-over: {}",
                handed.text
            );
            // So is moving a unit's files (this one names the same unit
            // twice).
            let team_twice = json!({"from_unit_id": team, "to_unit_id": team});
            let moved = s.post("/api/v1/customers/unit-transfer", t, &team_twice);
            assert_eq!(
                moved.status, hand_over_status,
                "{name} unit transfer: {}",
                moved.text
            );
            // Only admins and auditors read the register.
            let log = s.get(&format!("/api/v1/customers/{id}/access-log"), t);
            let log_status = if *name == "auditor" { 200 } else { 403 };
            assert_eq!(log.status, log_status, "{name} access log");
        }
    }
    // Shared files are read by every unit but worked by their own.
    let shared = create(
        &s,
        &admin,
        json!({"name": "北京共享战略客户有限公司", "nature": "state_owned", "owner_unit_id": team, "shared": true}),
    );
    let sh = s.token("demo.am.sh");
    let path = format!("/api/v1/customers/{}", id_of(&shared));
    assert_eq!(s.get(&path, &sh).status, 200);
    s.patch(&path, &sh, "\"1\"", &json!({"industry": "x"}))
        .assert_problem(403, "read_only");
    // Financial fields follow the role.
    let agent = s.token("demo.agent");
    let as_agent = s.get(&path, &agent);
    assert_eq!(as_agent.json["registered_capital_fen"], Value::Null);
    assert_eq!(
        as_agent.json["restricted_fields"],
        json!([
            "registered_capital_fen",
            "credit_standing",
            "trading_terms",
            "credit_problems"
        ])
    );
    let as_manager = s.get(&path, &s.token("demo.manager.bj"));
    assert_eq!(as_manager.json["restricted_fields"], json!([]));
}

/// The day trading started is a day that has come, in China's time: a
/// day ahead (a slip of the keyboard) is refused when a file is opened,
/// changed or imported, and changes nothing.
#[test]
fn r_cus_02_trading_started_on_a_day_that_has_come() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let china_today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let ahead = (china_today + chrono::Duration::days(2)).to_string();
    let past = (china_today - chrono::Duration::days(1)).to_string();
    let refused = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京未来交易测试有限公司", "nature": "private", "trading_since": ahead}),
    );
    refused.assert_refused_on(422, "validation_failed", "trading_since", "out_of_range");
    assert!(
        s.get("/api/v1/customers?name=未来交易测试", &am).json["items"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "nothing was filed"
    );
    let made = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京未来交易测试有限公司", "nature": "private", "trading_since": past}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let path = format!(
        "/api/v1/customers/{}",
        made.json["id"].as_str().unwrap_or_default()
    );
    s.patch(&path, &am, "\"1\"", &json!({"trading_since": ahead}))
        .assert_refused_on(422, "validation_failed", "trading_since", "out_of_range");
    let kept = s.get(&path, &am);
    assert_eq!(kept.json["trading_since"], json!(past));
    assert_eq!(kept.json["version"], 1);
    let cleared = s.patch(&path, &am, "\"1\"", &json!({"trading_since": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    // An import row names the cell; the other rows are still checked.
    let report = s.import_csv(
        &am,
        &format!(
            "external_id,name,nature,trading_since\n\
             FUT-1,北京未来导入测试有限公司,private,{ahead}\n\
             FUT-2,北京过去导入测试有限公司,private,{past}\n"
        ),
        true,
    );
    assert_eq!(report.status, 200, "{}", report.text);
    assert_eq!(
        report.json["errors"],
        json!([{"row": 1, "field": "trading_since", "code": "out_of_range",
                "message": format!("trading_since is a day that has come: {china_today} at the latest (China time)")}])
    );
}

/// A file holds what CUS-02 lists: basic data, characteristics, business
/// status, transaction status, and contacts (the customer's owner and
/// managers among them, by title); each part can be supplemented later.
#[test]
fn r_cus_02_a_file_holds_basic_data_characteristics_business_and_transaction_status() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({
            "name": "北京档案内容示范有限公司", "nature": "private",
            "owner_unit_id": s.unit_id("BJ-P1"),
            "legal_representative": "王建国", "industry": "制造业",
            "region_code": "110105", "region_name": "北京市朝阳区",
            "address": "北京市朝阳区示范路1号", "size": "medium",
            "registered_capital_fen": 1_000_000_000, "trading_since": "2019-03-01",
            "service_area": "华北", "sales_capacity": "年销售额约2亿元",
            "potential": "高", "business_policy": "稳健经营，重视长期合作",
            "sales_history": "2021年起年均采购300万元", "attitude_to_us": "友好",
            "competitor_relations": "同时与一家同业有少量合作",
            "credit_standing": "AA", "trading_terms": "月结30天",
            "credit_problems": "2020年一次逾期15天，已结清"
        }),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let path = format!("/api/v1/customers/{}", id_of(&made));
    for (field, value) in [
        ("legal_representative", json!("王建国")),
        ("registered_capital_fen", json!(1_000_000_000)),
        ("trading_since", json!("2019-03-01")),
        ("sales_capacity", json!("年销售额约2亿元")),
        ("business_policy", json!("稳健经营，重视长期合作")),
        ("sales_history", json!("2021年起年均采购300万元")),
        ("attitude_to_us", json!("友好")),
        ("competitor_relations", json!("同时与一家同业有少量合作")),
        ("credit_standing", json!("AA")),
        ("credit_problems", json!("2020年一次逾期15天，已结清")),
    ] {
        assert_eq!(made.json[field], value, "{field}: {}", made.text);
    }
    // The owner and managers are contacts with their titles.
    for (name, title) in [("王建国", "董事长"), ("李红", "采购经理")] {
        let contact = s.post(
            &format!("{path}/contacts"),
            &am,
            &json!({"name": name, "title": title, "mobile": "13800000000"}),
        );
        assert_eq!(contact.status, 201, "{}", contact.text);
    }
    let contacts = s.get(&format!("{path}/contacts"), &am);
    assert_eq!(
        contacts.json.as_array().map(Vec::len),
        Some(2),
        "{}",
        contacts.text
    );
    // Supplemented later, field by field, and cleared with null.
    let changed = s.patch(
        &path,
        &am,
        &etag_of(&made),
        &json!({"attitude_to_us": "非常友好", "competitor_relations": null}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["attitude_to_us"], "非常友好");
    assert_eq!(changed.json["competitor_relations"], Value::Null);
    let history = s.get(&format!("{path}/history"), &am);
    let fields: Vec<&str> = history.json["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&"attitude_to_us") && fields.contains(&"competitor_relations"),
        "{}",
        history.text
    );
    // Past credit problems are a financial field: an agent does not read them.
    let agent_view = s.get(&path, &s.token("demo.agent"));
    assert_eq!(agent_view.status, 200, "{}", agent_view.text);
    assert_eq!(agent_view.json["credit_problems"], Value::Null);
    assert_eq!(agent_view.json["business_policy"], "稳健经营，重视长期合作");
    assert!(agent_view.json["restricted_fields"]
        .as_array()
        .is_some_and(|f| f.contains(&json!("credit_problems"))));
    let too_long = s.patch(
        &path,
        &am,
        &etag_of(&changed),
        &json!({"sales_history": "长".repeat(2001)}),
    );
    too_long.assert_problem(422, "validation_failed");
}

/// A relation shows from both sides (CUS-06), but its history entry names
/// the file at the other end only to those who may see that file, as the
/// list of relations does.
#[test]
fn r_cus_06_history_names_a_related_file_only_to_those_who_may_see_it() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let near = create(
        &s,
        &admin,
        json!({"name": "北京项目部关联甲有限公司", "nature": "private", "owner_unit_id": s.unit_id("BJ-P1")}),
    );
    let far = create(
        &s,
        &admin,
        json!({"name": "上海关联乙有限公司", "nature": "private", "owner_unit_id": s.unit_id("SH")}),
    );
    let (near_id, far_id) = (id_of(&near), id_of(&far));
    let related = s.post(
        &format!("/api/v1/customers/{near_id}/relations"),
        &admin,
        &json!({"customer_id": far_id, "kind": "related"}),
    );
    assert_eq!(related.status, 201, "{}", related.text);
    let history = format!("/api/v1/customers/{near_id}/history");
    let relation_entry = |r: &Resp| {
        r.json["items"]
            .as_array()
            .and_then(|items| items.iter().find(|e| e["entity"] == "relation").cloned())
            .unwrap_or_else(|| panic!("no relation entry in {}", r.text))
    };

    let as_admin = s.get(&history, &admin);
    assert!(as_admin.text.contains(&far_id), "{}", as_admin.text);
    assert_eq!(relation_entry(&as_admin)["restricted_fields"], json!([]));

    let agent = s.token("demo.agent");
    let as_agent = s.get(&history, &agent);
    assert_eq!(as_agent.status, 200, "{}", as_agent.text);
    assert!(!as_agent.text.contains(&far_id), "{}", as_agent.text);
    let entry = relation_entry(&as_agent);
    assert_eq!(entry["new_value"], Value::Null);
    assert_eq!(entry["restricted_fields"], json!(["*"]));
    let relations = s.get(&format!("/api/v1/customers/{near_id}/relations"), &agent);
    assert_eq!(relations.json, json!([]), "{}", relations.text);
}

/// The field-level rule holds in the history too: a role that may not see
/// a file's financial fields does not read their values there either —
/// neither in a change of one of them nor in the creation's snapshot.
#[test]
fn r_cus_07_history_withholds_financial_values_from_roles_that_may_not_see_them() {
    let s = TestServer::start();
    let manager = s.token("demo.manager.bj");
    let made = create(
        &s,
        &manager,
        json!({"name": "北京项目部财务保密有限公司", "nature": "private",
               "owner_unit_id": s.unit_id("BJ-P1"), "registered_capital_fen": 500_000_000,
               "credit_standing": "良好", "trading_terms": "月结60天"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let changed = s.patch(
        &path,
        &manager,
        &etag_of(&made),
        &json!({"credit_standing": "关注", "industry": "制造业"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    let history = format!("{path}/history");

    let seen = s.get(&history, &manager);
    assert_eq!(seen.status, 200, "{}", seen.text);
    let text = seen.text.clone();
    assert!(text.contains("月结60天") && text.contains("关注") && text.contains("良好"));
    assert!(seen.json["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|e| e["restricted_fields"] == json!([]))));

    let agent = s.token("demo.agent");
    let withheld = s.get(&history, &agent);
    assert_eq!(withheld.status, 200, "{}", withheld.text);
    for secret in ["月结60天", "关注", "良好", "500000000"] {
        assert!(
            !withheld.text.contains(secret),
            "{secret} in {}",
            withheld.text
        );
    }
    let items = withheld.json["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let entry = |field: &str| {
        items
            .iter()
            .find(|e| e["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("no {field} entry in {}", withheld.text))
    };
    let credit = entry("credit_standing");
    assert_eq!(credit["old_value"], Value::Null);
    assert_eq!(credit["new_value"], Value::Null);
    assert_eq!(credit["restricted_fields"], json!(["credit_standing"]));
    let industry = entry("industry");
    assert_eq!(industry["new_value"], "制造业");
    assert_eq!(industry["restricted_fields"], json!([]));
    let created = entry("*");
    assert_eq!(created["new_value"]["name"], "北京项目部财务保密有限公司");
    assert_eq!(
        created["restricted_fields"],
        json!([
            "registered_capital_fen",
            "credit_standing",
            "trading_terms",
            "credit_problems"
        ])
    );
}

#[test]
fn r_cus_08_every_read_is_registered() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京借阅登记有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let base = format!("/api/v1/customers/{id}");
    let other = create(
        &s,
        &am,
        json!({"name": "北京借阅登记关联有限公司", "nature": "private"}),
    );
    let part = |path: &str, body: Value| {
        let r = s.post(&format!("{base}/{path}"), &am, &body);
        assert_eq!(r.status, 201, "{}", r.text);
        id_of(&r)
    };
    let contact = part(
        "contacts",
        json!({"name": "登记联系人", "phone": "010-12345678"}),
    );
    let document = part(
        "documents",
        json!({"category": "contract", "title": "登记合同"}),
    );
    let relation = part(
        "relations",
        json!({"customer_id": id_of(&other), "kind": "related"}),
    );
    // (label, action, path, the one part read)
    let reads = [
        ("read", "read", base.clone(), None),
        ("contacts", "contacts", format!("{base}/contacts"), None),
        (
            "contact",
            "contacts",
            format!("{base}/contacts/{contact}"),
            Some(&contact),
        ),
        ("relations", "relations", format!("{base}/relations"), None),
        (
            "relation",
            "relations",
            format!("{base}/relations/{relation}"),
            Some(&relation),
        ),
        ("documents", "documents", format!("{base}/documents"), None),
        (
            "document",
            "documents",
            format!("{base}/documents/{document}"),
            Some(&document),
        ),
        ("history", "history", format!("{base}/history"), None),
        ("timeline", "timeline", format!("{base}/timeline"), None),
        (
            "duplicates",
            "duplicates",
            format!("{base}/duplicates"),
            None,
        ),
        (
            "list",
            "list",
            "/api/v1/customers?name=借阅".to_owned(),
            None,
        ),
    ];
    let auditor = s.token("demo.auditor");
    for (label, action, path, one) in reads {
        let r = s.call(
            "GET",
            &path,
            Some(&am),
            None,
            &[("x-request-id", &format!("reg-{label}"))],
        );
        assert_eq!(r.status, 200, "{path}");
        let log = s.get(
            &format!("/api/v1/access-register?customer_id={id}&action={action}&limit=200"),
            &auditor,
        );
        let items: Vec<Value> = log.json["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["request_id"] == format!("reg-{label}"))
            .collect();
        assert_eq!(items.len(), 1, "{label}: {}", log.text);
        if let Some(one) = one {
            assert_eq!(
                items[0]["detail"],
                one.as_str(),
                "{label} names the part read"
            );
        }
        assert_eq!(items[0]["actor_id"], s.user_id("demo.am.bj"));

        assert_eq!(items[0]["client_ip"], "127.0.0.1");
        assert!(
            items[0]["customer_ids"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == id.as_str())),
            "{label}: the entry names the file: {}",
            log.text
        );
    }
    let per_file = s.get(&format!("{base}/access-log?limit=200"), &auditor);
    assert!(per_file.json["items"]
        .as_array()
        .is_some_and(|a| a.len() >= 11));
    s.get(&format!("{base}/access-log"), &am)
        .assert_problem(403, "forbidden");
    s.get("/api/v1/access-register", &am)
        .assert_problem(403, "forbidden");
}

/// An answer to a change shows the whole file (or contact, or document):
/// an empty change with a guessed version must not read a file unregistered.
#[test]
fn r_cus_08_an_answer_to_a_change_is_registered_as_a_read() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let auditor = s.token("demo.auditor");
    let made = create(
        &s,
        &am,
        json!({"name": "北京变更应答登记有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let base = format!("/api/v1/customers/{id}");
    let contact = s.post(
        &format!("{base}/contacts"),
        &am,
        &json!({"name": "李经理", "mobile": "13600000000"}),
    );
    let document = s.post(
        &format!("{base}/documents"),
        &am,
        &json!({"category": "contract", "title": "框架合同"}),
    );
    assert_eq!(document.status, 201, "{}", document.text);
    let entries = |action: &str| {
        let log = s.get(
            &format!("/api/v1/access-register?customer_id={id}&action={action}"),
            &auditor,
        );
        log.json["items"].as_array().cloned().unwrap_or_default()
    };
    assert!(entries("read").is_empty(), "a creation reads nothing back");
    let changes = [
        ("read", base.clone()),
        ("contacts", format!("{base}/contacts/{}", id_of(&contact))),
        (
            "documents",
            format!("{base}/documents/{}", id_of(&document)),
        ),
    ];
    let audited = s.audit_count();
    for (action, path) in changes {
        let r = s.patch(&path, &am, "\"1\"", &json!({}));
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let found = entries(action);
        assert_eq!(found.len(), 1, "{action}: {found:?}");
        assert_eq!(found[0]["detail"], "answer to a change");
        assert_eq!(found[0]["actor_id"], s.user_id("demo.am.bj"));
    }
    // A change of nothing is no new version: no audit entry, no event,
    // and the ETag stays good.
    assert_eq!(s.audit_count(), audited);
    let same = s.get(&base, &am);
    assert_eq!(same.header("etag"), Some("\"1\""));
    // A refused change shows nothing and registers nothing.
    s.patch(&base, &am, "\"2\"", &json!({}))
        .assert_problem(412, "precondition_failed");
    assert_eq!(entries("read").len(), 2, "the change and the plain read");

    // The audit log holds copies of the file and its parts: reading them
    // is a read of the file, once a page.
    let audit = s.get(
        &format!("/api/v1/audit-log?entity_type=customer&entity_id={id}"),
        &auditor,
    );
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_eq!(entries("audit_log").len(), 1);
    let parts = s.get("/api/v1/audit-log?entity_type=contact&limit=200", &auditor);
    assert_eq!(parts.status, 200);
    assert_eq!(
        entries("audit_log").len(),
        2,
        "a contact's entry names its file"
    );
    let elsewhere = s.get("/api/v1/audit-log?entity_type=org_unit", &auditor);
    assert_eq!(elsewhere.status, 200);
    assert_eq!(entries("audit_log").len(), 2, "other entries show no file");
}

/// A client that keeps its own copy asks whether it is current
/// (`If-None-Match`): `304` without a body when it is, the file when it is
/// not; either way the read is registered. No answer is kept by caches, and
/// a file the caller may not see is a 404 whatever tag is named.
#[test]
fn r_cus_08_a_revalidated_read_is_registered_and_answers_304() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京条件读取有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let path = format!("/api/v1/customers/{id}");
    let auditor = s.token("demo.auditor");
    let reads = || {
        let log = s.get(
            &format!("/api/v1/access-register?customer_id={id}&action=read&limit=200"),
            &auditor,
        );
        log.json["items"].as_array().map_or(0, Vec::len)
    };
    let ask = |token: &str, tags: &str| {
        s.call("GET", &path, Some(token), None, &[("if-none-match", tags)])
    };

    let first = s.get(&path, &am);
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let tag = etag_of(&first);
    assert_eq!(tag, "\"1\"");
    assert_eq!(reads(), 1);

    for tags in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"9\", {tag}"),
        "*".into(),
    ] {
        let r = ask(&am, &tags);
        assert_eq!(r.status, 304, "{tags}: {}", r.text);
        assert!(r.text.is_empty(), "{tags}: a body: {}", r.text);
        assert_eq!(r.header("etag"), Some(tag.as_str()));
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    assert_eq!(reads(), 5, "every revalidation is a registered read");

    // Changed since: the file, with its new tag.
    let changed = s.patch(&path, &am, &tag, &json!({"industry": "制造业"}));
    assert_eq!(changed.status, 200, "{}", changed.text);
    let r = ask(&am, &tag);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["industry"], "制造业");
    assert_eq!(r.header("etag"), Some("\"2\""));

    // Not visible: the same 404 as a missing file, never a 304.
    for tags in ["\"2\"", "*"] {
        ask(&s.token("demo.am.sh"), tags).assert_problem(404, "not_found");
    }
    let missing = format!("/api/v1/customers/{}", clientele_core::new_id());
    s.call("GET", &missing, Some(&am), None, &[("if-none-match", "*")])
        .assert_problem(404, "not_found");

    // Lists and errors are not kept by caches either.
    let list = s.get("/api/v1/customers?name=条件读取", &am);
    assert_eq!(list.header("cache-control"), Some("no-store"));
    assert_eq!(
        s.get(&path, "not-a-token").header("cache-control"),
        Some("no-store")
    );
}

/// A page's entry names every file it showed; its per-file rows are written
/// in bulk in the background, yet each file's log and the register filtered
/// by file find the page at once, and the background indexer catches up on
/// its own.
#[test]
fn r_cus_08_a_page_is_found_under_every_file_it_showed() {
    use clientele_persistence::schema::read_register_unindexed;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let ids: Vec<String> = ["北京分页登记甲有限公司", "北京分页登记乙有限公司"]
        .iter()
        .map(|name| id_of(&create(&s, &am, json!({"name": name, "nature": "private"}))))
        .collect();
    let page = s.get("/api/v1/customers?name=分页登记", &am);
    assert_eq!(page.json["items"].as_array().map(Vec::len), Some(2));
    let auditor = s.token("demo.auditor");
    let lists = |id: &str| -> Vec<Value> {
        let r = s.get(
            &format!("/api/v1/access-register?customer_id={id}&action=list"),
            &auditor,
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["items"].as_array().cloned().unwrap_or_default()
    };
    for id in &ids {
        let found = lists(id);
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0]["customer_ids"].as_array().map(Vec::len), Some(2));
        let log = s.get(&format!("/api/v1/customers/{id}/access-log"), &auditor);
        assert!(
            log.json["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|e| e["action"] == "list")),
            "{}",
            log.text
        );
    }
    // A second page, read by nobody afterwards: the indexer writes its rows.
    s.get("/api/v1/customers?name=分页登记", &am);
    let waiting = || {
        s.db.read(|c| {
            read_register_unindexed::table
                .count()
                .get_result::<i64>(c)
                .map_err(Into::into)
        })
        .unwrap_or(-1)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while waiting() != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(waiting(), 0, "the background indexer caught up");
    for id in &ids {
        assert_eq!(lists(id).len(), 2, "{id}");
    }
}

/// Register entries are written in batches (on SQLite from one JSON
/// argument); the time each keeps must still select it exactly.
#[test]
fn r_cus_08_register_entries_are_found_by_their_time() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京登记时间有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    s.get(&format!("/api/v1/customers/{id}"), &am);
    let auditor = s.token("demo.auditor");
    let found = |query: &str| -> usize {
        let r = s.get(
            &format!("/api/v1/access-register?customer_id={id}&action=read{query}"),
            &auditor,
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["items"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(found(""), 1);
    let entry = s.get(
        &format!("/api/v1/access-register?customer_id={id}&action=read"),
        &auditor,
    );
    let at: chrono::DateTime<chrono::Utc> = entry.json["items"][0]["at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_default();
    assert!(at.timestamp() > 0, "the entry has a time: {}", entry.text);
    let q =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let tick = chrono::Duration::microseconds(1);
    assert_eq!(found(&format!("&since={}", q(at))), 1, "since = at");
    assert_eq!(found(&format!("&since={}", q(at + tick))), 0, "since after");
    assert_eq!(found(&format!("&until={}", q(at + tick))), 1, "until after");
    assert_eq!(found(&format!("&until={}", q(at))), 0, "until = at");
}

/// A read is registered and answered while another write holds the files
/// for as long as it likes (an import of 10 000 rows holds them for seconds):
/// on SQLite the register is a file of its own with its own writer's turn,
/// and PostgreSQL locks rows, not the database. The write waits for the
/// read's answer; had the read's register commit waited for the write, the
/// write would give up first.
#[test]
fn r_cus_08_reads_are_registered_while_a_long_write_holds_the_files() {
    use diesel::connection::SimpleConnection;
    use std::sync::mpsc;
    use std::time::Duration;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京长写入期间有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let (held, holding) = mpsc::channel();
    let (answered, answer) = mpsc::channel::<()>();
    let waited_out = std::thread::scope(|sc| {
        let db = &s.db;
        let writer = sc.spawn(move || {
            db.write(move |c| {
                c.batch_execute("UPDATE org_units SET name = name")?;
                let _ = held.send(());
                let waited_out = answer.recv_timeout(Duration::from_secs(20)).is_err();
                // Undone: only the holding mattered.
                Err::<(), _>(clientele_persistence::Error::Corrupt(format!(
                    "rolled back; waited out: {waited_out}"
                )))
            })
        });
        holding
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("the writer never began: {e}"));
        let r = s.get(&format!("/api/v1/customers/{id}"), &am);
        assert_eq!(r.status, 200, "{}", r.text);
        let _ = answered.send(());
        writer.join().map(|w| format!("{w:?}")).unwrap_or_default()
    });
    assert!(
        waited_out.contains("waited out: false"),
        "the read waited for the write: {waited_out}"
    );
    let auditor = s.token("demo.auditor");
    let log = s.get(
        &format!("/api/v1/access-register?customer_id={id}&action=read"),
        &auditor,
    );
    assert_eq!(
        log.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        log.text
    );
}

#[test]
fn r_cus_09_outside_access_needs_legal_approval() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let bj = s.unit_id("BJ");
    let made = create(
        &s,
        &admin,
        json!({"name": "北京外查测试有限公司", "nature": "private", "owner_unit_id": bj, "secrecy_level": "A"}),
    );
    let id = id_of(&made);
    // The Beijing manager (clearance B) cannot read the A-level file ...
    let mgr = s.token("demo.manager.bj");
    s.get(&format!("/api/v1/customers/{id}"), &mgr)
        .assert_problem(404, "not_found");
    // ... so an admin files the outside party's request, naming the
    // manager as the one who will show the file to the court; legal decides.
    let ask = json!({"outside_party": "北京市朝阳区人民法院", "purpose": "合同纠纷案件调查",
                     "legal_basis": "民事诉讼法第六十七条", "days": 7,
                     "reader_id": s.user_id("demo.manager.bj")});
    let asks = format!("/api/v1/customers/{id}/outside-access-requests");
    // The reader is an active person.
    for (reader, code) in [
        (s.user_id("demo-erp"), "not_a_person"),
        (id.clone(), "user_not_found"),
    ] {
        let mut wrong = ask.clone();
        wrong["reader_id"] = json!(reader);
        let r = s.post(&asks, &admin, &wrong);
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], "reader_id", "{}", r.text);
        assert_eq!(r.json["errors"][0]["code"], code, "{}", r.text);
    }
    let req = s.post(&asks, &admin, &ask);
    assert_eq!(req.status, 201, "{}", req.text);
    assert_eq!(req.json["reader_id"], s.user_id("demo.manager.bj").as_str());
    let rid = req.json["id"].as_str().unwrap_or_default().to_owned();
    // The request is read where its `Location` says: by legal, with the
    // `ETag` the decision needs, and by the one who asked; not by others.
    let location = req.header("location").unwrap_or_default().to_owned();
    assert_eq!(location, format!("/api/v1/outside-access-requests/{rid}"));
    let legal = s.token("demo.legal");
    for who in [&legal, &admin, &mgr] {
        let read = s.get(&location, who);
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.header("etag"), Some("\"1\""));
        assert_eq!(read.json["status"], "pending");
    }
    s.get(&location, &s.token("demo.am.sh"))
        .assert_problem(404, "not_found");
    // Not yet approved: the file stays closed to the reader.
    s.get(&format!("/api/v1/customers/{id}"), &mgr)
        .assert_problem(404, "not_found");
    let decision = format!("/api/v1/outside-access-requests/{rid}/decision");
    s.call(
        "POST",
        &decision,
        Some(&mgr),
        Some(&json!({"approve": true})),
        &[("if-match", "\"1\"")],
    )
    .assert_problem(403, "forbidden");
    let pending = s.get("/api/v1/outside-access-requests?status=pending", &legal);
    assert!(
        pending.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["id"] == rid.as_str())),
        "{}",
        pending.text
    );
    let ok = s.call(
        "POST",
        &decision,
        Some(&legal),
        Some(&json!({"approve": true, "note": "同意，限七日"})),
        &[("if-match", "\"1\"")],
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["status"], "approved");
    assert!(ok.json["valid_until"].is_string());
    assert_eq!(s.get(&location, &legal).header("etag"), Some("\"2\""));
    s.call(
        "POST",
        &decision,
        Some(&legal),
        Some(&json!({"approve": false})),
        &[("if-match", "\"2\"")],
    )
    .assert_problem(409, "already_decided");
    // The reader now reads the file, above their clearance, for reading
    // only; each read is registered with the grant.
    let read = s.get(&format!("/api/v1/customers/{id}"), &mgr);
    assert_eq!(read.status, 200, "{}", read.text);
    s.call(
        "PATCH",
        &format!("/api/v1/customers/{id}"),
        Some(&mgr),
        Some(&json!({"industry": "越权修改"})),
        &[("if-match", read.header("etag").unwrap_or_default())],
    )
    .assert_problem(403, "read_only");
    let log = s.get(
        &format!("/api/v1/customers/{id}/access-log"),
        &s.token("demo.auditor"),
    );
    assert!(
        log.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["grant_id"] == rid.as_str()
                && e["actor_id"] == s.user_id("demo.manager.bj").as_str())),
        "{}",
        log.text
    );
    // The register finds every read made under the grant, and only those.
    let under = s.get(
        &format!("/api/v1/access-register?grant_id={rid}"),
        &s.token("demo.auditor"),
    );
    assert_eq!(under.status, 200, "{}", under.text);
    let items = under.json["items"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty(), "{}", under.text);
    assert!(
        items.iter().all(|e| e["grant_id"] == rid.as_str()
            && e["customer_ids"][0] == id.as_str()
            && e["actor_id"] == s.user_id("demo.manager.bj").as_str()),
        "{}",
        under.text
    );
    let none = s.get(
        "/api/v1/access-register?grant_id=0190e0b4-7c1d-7000-8000-000000000001",
        &s.token("demo.auditor"),
    );
    assert_eq!(none.json["items"].as_array().map(Vec::len), Some(0));
    s.get(
        "/api/v1/access-register?grant_id=nope",
        &s.token("demo.auditor"),
    )
    .assert_problem(400, "invalid_query");
    // Nobody decides a request they would read under.
    let for_legal = s.post(
        &asks,
        &admin,
        &json!({"outside_party": "某律师事务所", "purpose": "尽职调查", "legal_basis": "委托合同",
                "days": 3, "reader_id": s.user_id("demo.legal")}),
    );
    assert_eq!(for_legal.status, 201, "{}", for_legal.text);
    s.call(
        "POST",
        &format!(
            "/api/v1/outside-access-requests/{}/decision",
            for_legal.json["id"].as_str().unwrap_or_default()
        ),
        Some(&legal),
        Some(&json!({"approve": true})),
        &[("if-match", "\"1\"")],
    )
    .assert_problem(409, "own_request");
    // A manager's own request, once approved, opens the file to them for reading only.
    let visible = create(
        &s,
        &admin,
        json!({"name": "北京外查第二有限公司", "nature": "private", "owner_unit_id": bj}),
    );
    let vid = id_of(&visible);
    let mine = s.post(
        &format!("/api/v1/customers/{vid}/outside-access-requests"),
        &mgr,
        &json!({"outside_party": "审计署驻京特派办", "purpose": "专项审计", "legal_basis": "审计法", "days": 3}),
    );
    assert_eq!(mine.status, 201);
    let own_list = s.get("/api/v1/outside-access-requests", &mgr);
    assert_eq!(
        own_list.json["items"].as_array().map(Vec::len),
        Some(2),
        "requesters see their own, readers those they read under"
    );
    let mid = mine.json["id"].as_str().unwrap_or_default();
    let refused = s.call(
        "POST",
        &format!("/api/v1/outside-access-requests/{mid}/decision"),
        Some(&legal),
        Some(&json!({"approve": false})),
        &[("if-match", "\"1\"")],
    );
    assert_eq!(refused.json["status"], "refused");
    let timeline = s.get(&format!("/api/v1/customers/{vid}/timeline"), &mgr);
    let kinds: Vec<&str> = timeline.json["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"outside_access") && kinds.contains(&"created"),
        "{kinds:?}"
    );
}

#[test]
fn r_cus_10_files_stay_with_a_unit_in_scope() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let sh = s.unit_id("SH");
    let before = s.audit_count();
    let out_of_scope = create(
        &s,
        &am,
        json!({"name": "越权归属有限公司", "nature": "private", "owner_unit_id": sh}),
    );
    out_of_scope.assert_refused_on(
        422,
        "unit_out_of_scope",
        "owner_unit_id",
        "unit_out_of_scope",
    );
    let above = create(
        &s,
        &am,
        json!({"name": "越密有限公司", "nature": "private", "secrecy_level": "A"}),
    );
    above.assert_refused_on(
        422,
        "secrecy_above_clearance",
        "secrecy_level",
        "secrecy_above_clearance",
    );
    let no_unit = create(
        &s,
        &am,
        json!({"name": "无此单位有限公司", "nature": "private", "owner_unit_id": uuid::Uuid::now_v7()}),
    );
    no_unit.assert_refused_on(422, "unit_not_found", "owner_unit_id", "unit_not_found");
    let no_level = create(
        &s,
        &am,
        json!({"name": "无此密级有限公司", "nature": "private", "secrecy_level": "Z"}),
    );
    no_level.assert_refused_on(
        422,
        "unknown_secrecy_level",
        "secrecy_level",
        "unknown_secrecy_level",
    );
    let no_keeper = create(
        &s,
        &am,
        json!({"name": "无此保管人有限公司", "nature": "private", "owner_user_id": uuid::Uuid::now_v7()}),
    );
    no_keeper.assert_refused_on(422, "owner_not_found", "owner_user_id", "owner_not_found");
    // The keeper is a person (CUS-10), not a service account.
    let system = create(
        &s,
        &am,
        json!({"name": "系统保管有限公司", "nature": "private", "owner_user_id": s.user_id("demo-erp")}),
    );
    system.assert_refused_on(422, "owner_not_person", "owner_user_id", "owner_not_person");
    assert_eq!(s.audit_count(), before, "nothing was written");
    let agent = s.token("demo.agent");
    create(
        &s,
        &agent,
        json!({"name": "客服不能建档", "nature": "private"}),
    )
    .assert_problem(403, "forbidden");
    create(
        &s,
        &s.token("demo.auditor"),
        json!({"name": "审计不能建档", "nature": "private"}),
    )
    .assert_problem(403, "forbidden");
}

#[test]
fn customer_lists_filter_sort_and_page() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    // Demo data: 13 files; full-width and case-insensitive name search.
    let bund = s.get("/api/v1/customers?name=ＢＵＮＤ", &admin);
    assert_eq!(
        bund.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        bund.text
    );
    let beijing = s.get("/api/v1/customers?region=11&limit=200", &admin);
    assert_eq!(beijing.json["items"].as_array().map(Vec::len), Some(6));
    let strategic = s.get("/api/v1/customers?tag=战略合作", &admin);
    assert_eq!(strategic.json["items"].as_array().map(Vec::len), Some(3));
    let soe = s.get("/api/v1/customers?nature=state_owned&status=active", &admin);
    assert_eq!(soe.json["items"].as_array().map(Vec::len), Some(4));
    let bj_unit = s.unit_id("BJ");
    let in_bj = s.get(&format!("/api/v1/customers?unit_id={bj_unit}"), &admin);
    assert_eq!(in_bj.json["items"].as_array().map(Vec::len), Some(5));
    // Pages by creation time, newest first, every file once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/customers?sort=-created_at&limit=5{cursor}");
        let page = s.get(&path, &admin);
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(
            page.json["items"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned)),
        );
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 13);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 13);
    // Bad filters.
    s.get("/api/v1/customers?sort=colour", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/customers?region=1x", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/customers?nature=alien", &admin)
        .assert_problem(400, "invalid_query");
    // A parameter of the wrong form is named, for the form that sent it.
    for (query, field) in [
        ("nature=alien", "nature"),
        ("updated_since=2026-13-01T00:00:00Z", "updated_since"),
        ("limit=99999999999", "limit"),
        ("status=active&status=dormant", "status"),
        ("limit=0", "limit"),
        ("sort=colour", "sort"),
        ("region=1x", "region"),
        ("tag=", "tag"),
    ] {
        let r = s.get(&format!("/api/v1/customers?{query}"), &admin);
        assert_eq!(r.status, 400, "{query}: {}", r.text);
        assert_eq!(r.json["errors"][0]["field"], field, "{query}: {}", r.text);
    }
    s.get("/api/v1/customers?credit_code=123", &admin)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/customers?cursor=zzz", &admin)
        .assert_problem(400, "invalid_cursor");
}

#[test]
fn concurrent_edits_of_a_file_lose_nothing() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京并发测试有限公司", "nature": "private"}),
    );
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let a = sc.spawn(|| {
            s.patch(&path, &am, "\"1\"", &json!({"industry": "甲"}))
                .status
        });
        let b = sc.spawn(|| {
            s.patch(&path, &am, "\"1\"", &json!({"industry": "乙"}))
                .status
        });
        vec![a.join().unwrap_or(0), b.join().unwrap_or(0)]
    });
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, vec![200, 412], "{statuses:?}");
    let history = s.get(&format!("{path}/history"), &am);
    let industry_changes = history.json["items"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["field"] == "industry").count());
    assert_eq!(industry_changes, Some(1));
}

/// Two managers merge the same pair at once, each the other way round:
/// one merge wins, the other is refused — never two files each absorbed
/// into the other.
#[test]
fn r_cus_01_crossed_merges_at_once_leave_one_living_file() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    for round in 0..6 {
        let file = |n: u32| {
            let made = create(
                &s,
                &am,
                json!({"name": format!("北京交叉合并{round}-{n}有限公司"), "nature": "private"}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            id_of(&made)
        };
        let (a, b) = (file(1), file(2));
        let merge = |survivor: &str, absorbed: &str| {
            s.post(
                &format!("/api/v1/customers/{survivor}/merge"),
                &mgr,
                &json!({"absorbed_id": absorbed}),
            )
        };
        let answers: Vec<(u16, String)> = std::thread::scope(|sc| {
            let one = sc.spawn(|| merge(&a, &b));
            let other = sc.spawn(|| merge(&b, &a));
            [one.join(), other.join()]
                .into_iter()
                .map(|r| {
                    r.map(|r| (r.status, r.json["code"].as_str().unwrap_or("").to_owned()))
                        .unwrap_or((0, String::new()))
                })
                .collect()
        });
        let won = answers.iter().filter(|(status, _)| *status == 200).count();
        assert_eq!(won, 1, "round {round}: {answers:?}");
        assert!(
            answers.iter().any(|(status, code)| *status == 409
                && (code == "survivor_merged" || code == "already_merged")),
            "round {round}: {answers:?}"
        );
        let living = [&a, &b]
            .iter()
            .filter(|id| {
                s.get(&format!("/api/v1/customers/{id}"), &am).json["merged_into_id"].is_null()
            })
            .count();
        assert_eq!(living, 1, "round {round}");
    }
}

/// Contacts added at once, each as the primary one: the file still has
/// exactly one primary contact.
#[test]
fn contacts_added_at_once_leave_one_primary() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京并发联系人有限公司", "nature": "private"}),
    );
    let path = format!("/api/v1/customers/{}/contacts", id_of(&made));
    std::thread::scope(|sc| {
        let adds: Vec<_> = (0..4)
            .map(|n| {
                let (s, am, path) = (&s, &am, &path);
                sc.spawn(move || {
                    s.post(
                        path,
                        am,
                        &json!({"name": format!("联系人{n}"), "mobile": format!("1380000000{n}"), "is_primary": true}),
                    )
                    .status
                })
            })
            .collect();
        for add in adds {
            assert_eq!(add.join().unwrap_or(0), 201);
        }
    });
    let contacts = s.get(&path, &am);
    let primaries = contacts
        .json
        .as_array()
        .map(|a| a.iter().filter(|c| c["is_primary"] == true).count());
    assert_eq!(primaries, Some(1), "{}", contacts.text);
}

#[test]
fn r_cus_04_a_contact_demoted_by_a_new_primary_is_a_recorded_change() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京主联系人变更有限公司", "nature": "private"}),
    );
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let first = s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "甲", "mobile": "13800000001", "is_primary": true}),
    );
    let second = s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "乙", "mobile": "13800000002", "is_primary": true}),
    );
    assert_eq!(second.status, 201, "{}", second.text);
    // The first contact changed: a new version, so a client holding the
    // old one cannot write over it unseen.
    let contacts = s.get(&format!("{path}/contacts"), &am);
    let demoted = contacts
        .json
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == first.json["id"]))
        .cloned()
        .unwrap_or_default();
    assert_eq!(demoted["is_primary"], false, "{}", contacts.text);
    assert_eq!(demoted["version"], 2);
    s.patch(
        &format!("{path}/contacts/{}", id_of(&first)),
        &am,
        "\"1\"",
        &json!({"title": "旧版本"}),
    )
    .assert_problem(412, "precondition_failed");
    let history = s.get(&format!("{path}/history?limit=200"), &am);
    assert!(
        history.json["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| {
                e["entity"] == "contact"
                    && e["entity_id"] == first.json["id"]
                    && e["field"] == "is_primary"
                    && e["old_value"] == true
                    && e["new_value"] == false
            })),
        "{}",
        history.text
    );
}

#[test]
fn r_cus_01_a_merge_keeps_one_primary_contact_and_one_link_of_a_kind() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let kept = create(
        &s,
        &am,
        json!({"name": "北京合并联系人有限公司", "nature": "private"}),
    );
    let absorbed = create(
        &s,
        &am,
        json!({"name": "北京合并联系人（有限公司）", "nature": "private"}),
    );
    let partner = create(
        &s,
        &am,
        json!({"name": "北京合并伙伴有限公司", "nature": "private"}),
    );
    for (file, name) in [(&kept, "留存主联系人"), (&absorbed, "并入主联系人")] {
        let added = s.post(
            &format!("/api/v1/customers/{}/contacts", id_of(file)),
            &am,
            &json!({"name": name, "mobile": "13900000000", "is_primary": true}),
        );
        assert_eq!(added.status, 201, "{}", added.text);
        let linked = s.post(
            &format!("/api/v1/customers/{}/relations", id_of(file)),
            &am,
            &json!({"customer_id": id_of(&partner), "kind": "related"}),
        );
        assert_eq!(linked.status, 201, "{}", linked.text);
    }
    let merged = s.post(
        &format!("/api/v1/customers/{}/merge", id_of(&kept)),
        &mgr,
        &json!({"absorbed_id": id_of(&absorbed)}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    let contacts = s.get(&format!("/api/v1/customers/{}/contacts", id_of(&kept)), &am);
    let primaries: Vec<&str> = contacts
        .json
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["is_primary"] == true)
                .filter_map(|c| c["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(primaries, ["留存主联系人"], "{}", contacts.text);
    assert_eq!(contacts.json.as_array().map(Vec::len), Some(2));
    // The partner is related to the living file once, not twice.
    let links = s.get(
        &format!("/api/v1/customers/{}/relations", id_of(&partner)),
        &am,
    );
    assert_eq!(
        links.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        links.text
    );
    assert_eq!(links.json[0]["customer_id"], kept.json["id"]);
}

#[test]
fn r_cus_06_a_merge_cannot_make_a_company_its_own_parent() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let file = |name: &str| id_of(&create(&s, &am, json!({"name": name, "nature": "private"})));
    // group → branch, and a second filing of the group's own parent is
    // entered as the branch's subsidiary by mistake: merging it into the
    // group would make the group its own grandparent.
    let group = file("北京合并环集团有限公司");
    let branch = file("北京合并环分公司");
    let refiled = file("北京合并环集团（有限公司）");
    for (parent, child) in [(&group, &branch), (&branch, &refiled)] {
        let r = s.post(
            &format!("/api/v1/customers/{parent}/relations"),
            &am,
            &json!({"customer_id": child, "kind": "parent_of"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let before = s.audit_count();
    s.post(
        &format!("/api/v1/customers/{refiled}/merge"),
        &mgr,
        &json!({"absorbed_id": group}),
    )
    .assert_problem(409, "relation_cycle");
    assert_eq!(s.audit_count(), before, "a refused merge changes nothing");
    let still = s.get(&format!("/api/v1/customers/{group}"), &am);
    assert_eq!(still.json["merged_into_id"], Value::Null);
}

/// A created contact, document or relation is read where its `Location`
/// says, with the `ETag` a change needs; a part is found only under its
/// own file, and a relation only while it lasts and its other file is in
/// sight.
#[test]
fn r_cus_02_each_part_is_read_where_its_location_says() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let file = |name: &str, unit: &str| {
        id_of(&create(
            &s,
            &s.token("demo.admin"),
            json!({"name": name, "nature": "private", "owner_unit_id": s.unit_id(unit)}),
        ))
    };
    let (mine, second, third, shanghai) = (
        file("北京部件读取有限公司", "BJ"),
        file("北京部件读取第二有限公司", "BJ"),
        file("北京部件读取第三有限公司", "BJ"),
        file("上海部件读取有限公司", "SH"),
    );
    let base = format!("/api/v1/customers/{mine}");
    for (path, body) in [
        (
            "contacts",
            json!({"name": "部件联系人", "mobile": "13800000009"}),
        ),
        (
            "documents",
            json!({"category": "lease", "title": "租赁合同", "reference_no": "ZL-1"}),
        ),
        (
            "relations",
            json!({"customer_id": second, "kind": "same_group"}),
        ),
    ] {
        let made = s.post(&format!("{base}/{path}"), &am, &body);
        assert_eq!(made.status, 201, "{}", made.text);
        let location = made.header("location").unwrap_or_default().to_owned();
        assert_eq!(location, format!("{base}/{path}/{}", id_of(&made)));
        let read = s.get(&location, &am);
        assert_eq!(read.status, 200, "{path}: {}", read.text);
        assert_eq!(read.json, made.json, "{path}");
        assert_eq!(read.header("etag"), made.header("etag"), "{path}");
        if let Some(etag) = made.header("etag") {
            let again = s.call(
                "GET",
                &location,
                Some(&am),
                None,
                &[("if-none-match", etag)],
            );
            assert_eq!(again.status, 304, "{path}: {}", again.text);
        }
        // Under another file it is not there.
        s.get(
            &format!("/api/v1/customers/{third}/{path}/{}", id_of(&made)),
            &am,
        )
        .assert_problem(404, "not_found");
    }
    // A relation to a file out of sight is not shown to this reader.
    let admin = s.token("demo.admin");
    let far = s.post(
        &format!("{base}/relations"),
        &admin,
        &json!({"customer_id": shanghai, "kind": "related"}),
    );
    assert_eq!(far.status, 201, "{}", far.text);
    let far_path = format!("{base}/relations/{}", id_of(&far));
    assert_eq!(s.get(&far_path, &admin).status, 200);
    s.get(&far_path, &am).assert_problem(404, "not_found");
    // An ended relation is gone.
    let ended = s.call("DELETE", &far_path, Some(&admin), None, &[]);
    assert_eq!(ended.status, 204, "{}", ended.text);
    s.get(&far_path, &admin).assert_problem(404, "not_found");
    s.get(&format!("{base}/contacts/not-an-id"), &am)
        .assert_problem(404, "not_found");
}

/// The timeline says what happened to each part: added, changed, removed.
#[test]
fn timeline_says_what_was_added_changed_and_removed() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京时间线动作有限公司", "nature": "private"}),
    );
    let base = format!("/api/v1/customers/{}", id_of(&made));
    let contact = s.post(
        &format!("{base}/contacts"),
        &am,
        &json!({"name": "动作联系人", "phone": "010-12345678"}),
    );
    let cpath = format!("{base}/contacts/{}", id_of(&contact));
    let changed = s.patch(&cpath, &am, "\"1\"", &json!({"title": "经理"}));
    assert_eq!(changed.status, 200, "{}", changed.text);
    let removed = s.call("DELETE", &cpath, Some(&am), None, &[("if-match", "\"2\"")]);
    assert_eq!(removed.status, 204, "{}", removed.text);
    let timeline = s.get(&format!("{base}/timeline"), &am);
    let seen: Vec<(String, String)> = timeline.json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["kind"].as_str().unwrap_or_default().to_owned(),
                        i["action"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<(String, String)> = [
        ("contact", "removed"),
        ("contact", "changed"),
        ("contact", "added"),
        ("created", "added"),
    ]
    .iter()
    .map(|(k, a)| ((*k).to_owned(), (*a).to_owned()))
    .collect();
    assert_eq!(seen, expected, "{}", timeline.text);
}

/// Paging through a long timeline shows an outside-access request once,
/// among the changes of its own time, not on the first page.
#[test]
fn r_cus_09_an_outside_request_is_on_the_timeline_page_of_its_time() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京时间线分页有限公司", "nature": "private"}),
    );
    let base = format!("/api/v1/customers/{}", id_of(&made));
    let asked = s.post(
        &format!("{base}/outside-access-requests"),
        &s.token("demo.manager.bj"),
        &json!({"outside_party": "天津海事法院", "purpose": "案件调查", "legal_basis": "民事诉讼法第六十七条", "days": 3}),
    );
    assert_eq!(asked.status, 201, "{}", asked.text);
    // Six later edits, each its own timeline item.
    for n in 0..6 {
        let current = s.get(&base, &am);
        let w = s.patch(
            &base,
            &am,
            &etag_of(&current),
            &json!({"address": format!("北京市朝阳区分页路{n}号")}),
        );
        assert_eq!(w.status, 200, "{}", w.text);
    }
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = s.get(&format!("{base}/timeline?limit=2{cursor}"), &am);
        assert_eq!(page.status, 200, "{}", page.text);
        pages.push(
            page.json["items"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|i| i["kind"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        );
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
        assert!(pages.len() < 20, "{pages:?}");
    }
    for page in &pages {
        let changes = page.iter().filter(|k| *k != "outside_access").count();
        assert!(changes <= 2, "a page keeps its limit: {pages:?}");
    }
    let all: Vec<&String> = pages.iter().flatten().collect();
    assert_eq!(
        all.iter()
            .filter(|k| k.as_str() == "outside_access")
            .count(),
        1,
        "{pages:?}"
    );
    assert!(
        !pages[0].contains(&"outside_access".to_owned()),
        "{pages:?}"
    );
    // Newest first across the pages: the request lies between the
    // creation and the first edit.
    let at = all.iter().position(|k| k.as_str() == "outside_access");
    assert_eq!(at, Some(all.len() - 2), "{pages:?}");
}

/// A field of a contact or document record is put back like a field of
/// the file (CUS-04): `If-Match` of the part, the part answered whole, a
/// new change in the history, the answer a registered read (CUS-08).
#[test]
fn r_cus_04_a_contact_or_document_field_is_reverted() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京部件回退有限公司", "nature": "private"}),
    );
    let file = id_of(&made);
    let base = format!("/api/v1/customers/{file}");
    // Contacts and documents have ids of their own: the entity is the id's.
    let entry =
        |_entity: &str, entity_id: &str, field: &str| s.change_of(&am, &file, entity_id, field);
    let revert = |change: &str, etag: &str| s.revert(&am, &file, change, etag);
    let contact = s.post(
        &format!("{base}/contacts"),
        &am,
        &json!({"name": "回退联系人", "phone": "010-11111111", "is_primary": true}),
    );
    let cid = id_of(&contact);
    let cpath = format!("{base}/contacts/{cid}");
    let changed = s.patch(&cpath, &am, "\"1\"", &json!({"phone": "010-22222222"}));
    assert_eq!(changed.status, 200, "{}", changed.text);
    let phone_change = s.change_of(&am, &file, &cid, "phone");
    // The contact's ETag, not the file's.
    revert(&phone_change, "\"1\"").assert_problem(412, "precondition_failed");
    let back = revert(&phone_change, "\"2\"");
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.json["id"], cid.as_str());
    assert_eq!(back.json["phone"], "010-11111111");
    assert_eq!(back.json["version"], 3);
    assert_eq!(back.header("etag"), Some("\"3\""));
    // A removed contact comes back by reverting its removal.
    let removed = s.call("DELETE", &cpath, Some(&am), None, &[("if-match", "\"3\"")]);
    assert_eq!(removed.status, 204, "{}", removed.text);
    let restored = revert(&s.change_of(&am, &file, &cid, "active"), "\"4\"");
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.json["active"], true);
    let listed = s.get(&format!("{base}/contacts"), &am);
    assert_eq!(
        listed.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    // A document's field likewise.
    let doc = s.post(
        &format!("{base}/documents"),
        &am,
        &json!({"category": "contract", "title": "回退合同", "location": "档案室A柜"}),
    );
    let did = id_of(&doc);
    let moved = s.patch(
        &format!("{base}/documents/{did}"),
        &am,
        "\"1\"",
        &json!({"location": "档案室B柜"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let doc_back = revert(&s.change_of(&am, &file, &did, "location"), "\"2\"");
    assert_eq!(doc_back.status, 200, "{}", doc_back.text);
    assert_eq!(doc_back.json["location"], "档案室A柜");
    assert_eq!(doc_back.json["category"], "contract");
    // The revert is in the history, and its answer in the register.
    let h = s.get(&format!("{base}/history?limit=200"), &am);
    assert!(
        h.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["entity"] == "document"
                && e["field"] == "location"
                && e["new_value"] == "档案室A柜")),
        "{}",
        h.text
    );
    let log = s.get(
        &format!(
            "/api/v1/access-register?customer_id={}&action=documents",
            id_of(&made)
        ),
        &s.token("demo.auditor"),
    );
    assert!(
        log.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["detail"] == "answer to a revert")),
        "{}",
        log.text
    );
    // A creation and a relation are not reverted.
    let created = s.change_of(&am, &file, &cid, "*");
    revert(&created, "\"5\"").assert_problem(422, "not_revertible");
    let other = create(
        &s,
        &am,
        json!({"name": "北京部件回退关联有限公司", "nature": "private"}),
    );
    let rel = s.post(
        &format!("{base}/relations"),
        &am,
        &json!({"customer_id": id_of(&other), "kind": "related"}),
    );
    let rel_entry = entry("relation", &id_of(&rel), "*");
    revert(&rel_entry, "\"1\"").assert_problem(422, "not_revertible");
}

/// A Chinese front-end shows the archive's refusals in Chinese.
#[test]
fn refusals_of_the_archive_are_explained_in_chinese() {
    let s = TestServer::start();
    let mgr = s.token("demo.manager.bj");
    let made = create(
        &s,
        &mgr,
        json!({"name": "北京中文提示有限公司", "nature": "private"}),
    );
    let zh = [("accept-language", "zh-CN")];
    let itself = s.call(
        "POST",
        &format!("/api/v1/customers/{}/merge", id_of(&made)),
        Some(&mgr),
        Some(&json!({"absorbed_id": id_of(&made)})),
        &zh,
    );
    itself.assert_problem(409, "merge_into_itself");
    assert!(
        itself.json["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("不能把档案合并到它自身")),
        "{}",
        itself.text
    );
    let bad_code = s.call(
        "POST",
        "/api/v1/customers",
        Some(&mgr),
        Some(&json!({"name": "北京中文校验有限公司", "nature": "private", "credit_code": "91110105MA01ABCDE1"})),
        &zh,
    );
    assert_eq!(bad_code.status, 422, "{}", bad_code.text);
    let message = bad_code.json["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.starts_with("校验码不正确"), "{}", bad_code.text);
}

/// The history narrows to one kind of entity or one entity: a contact's
/// own changes, to find the one to put back.
#[test]
fn r_cus_04_the_history_of_one_part() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京单项历史有限公司", "nature": "private"}),
    );
    let base = format!("/api/v1/customers/{}", id_of(&made));
    let mut ids = Vec::new();
    for name in ["甲", "乙"] {
        let c = s.post(
            &format!("{base}/contacts"),
            &am,
            &json!({"name": name, "phone": "010-12345678"}),
        );
        assert_eq!(c.status, 201, "{}", c.text);
        ids.push(id_of(&c));
    }
    let changed = s.patch(
        &format!("{base}/contacts/{}", ids[0]),
        &am,
        "\"1\"",
        &json!({"title": "经理"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    let entries = |query: &str| -> Vec<(String, String)> {
        let h = s.get(&format!("{base}/history?{query}"), &am);
        assert_eq!(h.status, 200, "{}", h.text);
        h.json["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["entity_id"].as_str().unwrap_or_default().to_owned(),
                            e["field"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = entries(&format!("entity=contact&entity_id={}", ids[0]));
    assert_eq!(
        first,
        [
            (ids[0].clone(), "title".to_owned()),
            (ids[0].clone(), "*".to_owned())
        ]
    );
    assert_eq!(entries("entity=contact").len(), 3);
    let own = entries("entity=customer");
    assert!(own.iter().all(|(id, _)| *id == id_of(&made)), "{own:?}");
    s.get(&format!("{base}/history?entity=alien"), &am)
        .assert_problem(400, "invalid_query");
    s.get(&format!("{base}/history?entity_id=nope"), &am)
        .assert_problem(400, "invalid_query");
}

#[test]
fn bad_customer_input_gets_clear_answers() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let before = s.audit_count();
    let cases = [
        (json!({"name": "x", "nature": "alien"}), 422, "invalid_body"),
        (
            json!({"name": "", "nature": "private"}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "长".repeat(201), "nature": "private"}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "x", "nature": "private", "region_code": "990000"}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "x", "nature": "private", "tags": ["a,b"]}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "x", "nature": "private", "registered_capital_fen": -1}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "x", "nature": "private", "status": "archived"}),
            422,
            "validation_failed",
        ),
        (
            json!({"name": "x", "nature": "private", "trading_since": "yesterday"}),
            422,
            "invalid_body",
        ),
        (
            json!({"name": "x", "nature": "private", "colour": "red"}),
            422,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        create(&s, &am, body.clone()).assert_problem(status, code);
    }
    assert_eq!(s.audit_count(), before);
}

/// Files are classified by industry, nature, region and customer type, and
/// filtered by each; vulnerable customers are flagged and listed apart
/// (CUS-03).
#[test]
fn r_cus_03_files_are_classified_by_type_and_the_vulnerable_are_listed() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let make = |name: &str, extra: serde_json::Value| {
        let mut body = json!({"name": name, "nature": "private", "region_code": "110105"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let r = s.post("/api/v1/customers", &am, &body);
        assert_eq!(r.status, 201, "{}", r.text);
        r.json
    };
    let dealer = make(
        "北京分类经销有限公司",
        json!({"customer_type": "distributor"}),
    );
    assert_eq!(dealer["customer_type"], "distributor");
    let elder = make(
        "北京分类照护有限公司",
        json!({"customer_type": "end_user", "vulnerable": true, "nature": "individual"}),
    );
    let plain = make("北京分类未定有限公司", json!({}));
    assert_eq!(plain["customer_type"], Value::Null);
    let names = |query: &str| -> Vec<String> {
        let r = s.get(&format!("/api/v1/customers?name=北京分类&{query}"), &am);
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r.json["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(names("customer_type=distributor"), ["北京分类经销有限公司"]);
    assert_eq!(names("vulnerable=true"), ["北京分类照护有限公司"]);
    assert_eq!(names("vulnerable=false").len(), 2);
    assert_eq!(
        names("nature=individual&customer_type=end_user&region=1101"),
        ["北京分类照护有限公司"]
    );
    // The type changes and clears like any field, and is in the history.
    let id = dealer["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/customers/{id}");
    let changed = s.patch(&path, &am, "\"1\"", &json!({"customer_type": "agent"}));
    assert_eq!(changed.json["customer_type"], "agent", "{}", changed.text);
    let cleared = s.patch(&path, &am, "\"2\"", &json!({"customer_type": null}));
    assert_eq!(
        cleared.json["customer_type"],
        Value::Null,
        "{}",
        cleared.text
    );
    let history = s.get(&format!("{path}/history"), &am);
    assert!(
        history.json["items"].as_array().is_some_and(|h| h
            .iter()
            .any(|e| e["field"] == "customer_type" && e["new_value"] == "agent")),
        "{}",
        history.text
    );
    // Unknown types are refused and change nothing.
    let before = s.audit_count();
    let bad = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京分类坏值有限公司", "nature": "private", "customer_type": "reseller"}),
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    s.patch(&path, &am, "\"3\"", &json!({"customer_type": "reseller"}))
        .assert_problem(422, "invalid_body");
    s.get("/api/v1/customers?customer_type=reseller", &am)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/customers?vulnerable=maybe", &am)
        .assert_problem(400, "invalid_query");
    assert_eq!(s.audit_count(), before);
    let _ = elder;
}

/// Names sort by pinyin, the same on both backends, forwards and backwards,
/// and keyset pages walk that order without gaps or repeats.
#[test]
fn customer_lists_sort_names_by_pinyin() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let names = [
        "中国拼音测试有限公司",
        "北京拼音测试有限公司",
        "阿里拼音测试有限公司",
        "IBM拼音测试有限公司",
        "西安拼音测试有限公司",
        "先锋拼音测试有限公司",
    ];
    for n in names {
        let r = s.post(
            "/api/v1/customers",
            &am,
            &json!({"name": n, "nature": "private"}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let walk = |sort: &str| -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let r = s.get(
                &format!("/api/v1/customers?name=拼音测试&limit=2&sort={sort}{cursor}"),
                &am,
            );
            assert_eq!(r.status, 200, "{}", r.text);
            for c in r.json["items"].as_array().cloned().unwrap_or_default() {
                seen.push(c["name"].as_str().unwrap_or_default().to_owned());
            }
            match r.json["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return seen,
            }
        }
    };
    let expected = [
        "阿里拼音测试有限公司",
        "北京拼音测试有限公司",
        "IBM拼音测试有限公司",
        "西安拼音测试有限公司",
        "先锋拼音测试有限公司",
        "中国拼音测试有限公司",
    ];
    assert_eq!(walk("name"), expected);
    let mut backwards = expected.to_vec();
    backwards.reverse();
    assert_eq!(walk("-name"), backwards);
    // Files from before the key existed get it when the migrations run.
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let blank =
        s.db.write(|c| {
            Ok(diesel::update(customers::table)
                .set(customers::name_sort.eq(""))
                .execute(c)?)
        })
        .unwrap_or(0);
    assert!(blank >= names.len());
    clientele_persistence::migrate::run_pending(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(walk("name"), expected);
    let left = s.db.read(|c| {
        Ok(customers::table
            .filter(customers::name_sort.eq(""))
            .count()
            .get_result::<i64>(c)?)
    });
    assert_eq!(left.ok(), Some(0));
}

/// Quick search (`q`), as a search box: part of the name, part of its
/// mnemonic code (助记码, pinyin initials: `bjhl` finds 北京华联 without a
/// Chinese input method), or the whole code or credit code; within what the
/// caller may see, and registered like any list page. Files from before the
/// mnemonic existed get it when the migrations run.
#[test]
fn customer_quick_search_finds_names_mnemonics_and_codes() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made: Vec<Resp> = [
        json!({"name": "北京华联快搜商贸有限公司", "nature": "private", "credit_code": credit(7101)}),
        json!({"name": "重庆银行快搜支行", "nature": "state_owned"}),
        json!({"name": "ＩＢＭ快搜（中国）", "nature": "foreign"}),
    ]
    .into_iter()
    .map(|b| {
        let r = create(&s, &am, b);
        assert_eq!(r.status, 201, "{}", r.text);
        r
    })
    .collect();
    assert_eq!(made[0].json["mnemonic"], "bjhlkssmyxgs");
    assert_eq!(made[1].json["mnemonic"], "cqyhkszh");
    assert_eq!(made[2].json["mnemonic"], "ibmkszg");
    let names = |q: &str| -> Vec<String> {
        let r = s.get(&format!("/api/v1/customers?q={q}&limit=50"), &am);
        assert_eq!(r.status, 200, "{q}: {}", r.text);
        r.json["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = made[0].json["name"].as_str().unwrap_or_default().to_owned();
    let second = made[1].json["name"].as_str().unwrap_or_default().to_owned();
    let third = made[2].json["name"].as_str().unwrap_or_default().to_owned();
    assert_eq!(names("bjhlks"), vec![first.clone()]);
    assert_eq!(names("BJHLKS"), vec![first.clone()], "any case");
    assert_eq!(names("cqyhks"), vec![second.clone()]);
    assert_eq!(names("ibmks"), vec![third.clone()]);
    assert_eq!(names("ＩＢＭ快搜"), vec![third.clone()], "full-width");
    assert_eq!(names("快搜支行"), vec![second.clone()], "part of the name");
    let code = made[1].json["code"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert_eq!(names(&code), vec![second.clone()], "the whole code");
    assert_eq!(names(&credit(7101)), vec![first.clone()], "the credit code");
    assert!(names("zzzzks").is_empty());
    assert!(
        names("%25").is_empty() || names("%25").len() < 3,
        "% is no wildcard"
    );
    // Other filters narrow it; another unit sees nothing of Beijing's.
    let r = s.get("/api/v1/customers?q=ks&nature=foreign", &am);
    assert_eq!(
        r.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    let sh = s.get("/api/v1/customers?q=bjhlks", &s.token("demo.am.sh"));
    assert_eq!(sh.json["items"], json!([]), "{}", sh.text);
    for bad in ["", "%20%20", "ks%00ks", &"x".repeat(101)] {
        s.get(&format!("/api/v1/customers?q={bad}"), &am)
            .assert_problem(400, "invalid_query");
    }
    // The mnemonic is exported.
    let csv = s.get(
        "/api/v1/customers/export?q=bjhlks&format=csv",
        &s.token("demo.manager.bj"),
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert_eq!(
        csv.csv_rows()[0]["mnemonic"],
        "bjhlkssmyxgs",
        "{}",
        csv.text
    );

    // Files from before the mnemonic: filled when the migrations run.
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let blank =
        s.db.write(|c| {
            Ok(diesel::update(customers::table)
                .set(customers::name_mnemonic.eq(""))
                .execute(c)?)
        })
        .unwrap_or(0);
    assert!(blank >= 3);
    assert!(names("bjhlks").is_empty());
    clientele_persistence::migrate::run_pending(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(names("bjhlks"), vec![first.clone()]);
    // The mnemonic follows the name, and is no change of its own.
    let path = format!("/api/v1/customers/{}", id_of(&made[2]));
    let renamed = s.patch(&path, &am, "\"1\"", &json!({"name": "蓝色快搜巨人"}));
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json["mnemonic"], "lsksjr");
    let history = s.get(&format!("{path}/history"), &am);
    for derived in [
        "name_mnemonic",
        "name_sort",
        "name_folded",
        "name_normalized",
    ] {
        assert!(
            !history.text.contains(derived),
            "{derived} is derived, not history: {}",
            history.text
        );
    }
    assert_eq!(names("lsks"), vec!["蓝色快搜巨人".to_owned()]);

    // The search index of a database that had files before it existed is
    // built from them by its migration.
    s.upgrade_from("20261123000013");
    assert_eq!(names("lsks"), vec!["蓝色快搜巨人".to_owned()]);
    assert_eq!(names("bjhlks"), vec![first]);
    // On SQLite a trigram table does, one row for every file, kept in step
    // (the searches above of three characters or more went through it).
    if s.db.kind() == clientele_persistence::BackendKind::Sqlite {
        #[derive(QueryableByName)]
        struct Counts {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            files: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            indexed: i64,
        }
        let counts = s.db.read(|c| match c {
            clientele_persistence::DbConn::Sqlite(lite) => Ok(diesel::sql_query(
                "SELECT (SELECT count(*) FROM customers) AS files, \
                 (SELECT count(*) FROM customers c JOIN customer_search_rows r \
                 ON r.customer_id = c.id JOIN customer_search s ON s.rowid = r.search_rowid \
                 WHERE s.name_folded = c.name_folded AND s.name_mnemonic = c.name_mnemonic) \
                 AS indexed",
            )
            .get_result::<Counts>(lite)
            .map(|n| (n.files, n.indexed))?),
            _ => Ok((0, 0)),
        });
        let (files, indexed) = counts.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            files >= 3 && indexed == files,
            "{indexed} of {files} indexed"
        );
    }
    // On PostgreSQL, trigram indexes serve the name and mnemonic searches.
    if s.db.kind() == clientele_persistence::BackendKind::Postgres {
        #[derive(QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let found = s.db.read(|c| match c {
            clientele_persistence::DbConn::Pg(pg) => Ok(diesel::sql_query(
                "SELECT count(*) AS n FROM pg_indexes WHERE indexname IN \
                 ('ix_customers_name_trgm', 'ix_customers_mnemonic_trgm')",
            )
            .get_result::<Found>(pg)?
            .n),
            _ => Ok(0),
        });
        assert_eq!(found.ok(), Some(2));
    }
}

/// Parts of one or two characters — the commonest Chinese search (华联,
/// 华) — are found by name and quick search alike, punctuation included,
/// follow a renamed file, and are indexed for files older than their index
/// when its migration runs.
#[test]
fn customer_search_finds_parts_of_one_or_two_characters() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let names = [
        "鼹鼷商贸有限公司",
        "鼷鼹超市有限公司",
        "北京鼯鼹公司",
        "鼯（乙）工作室",
    ];
    let made = private_files_named(&s, &am, &names);
    let found = |query: &str| names_listed(&s, &am, query);
    let these = |which: &[usize]| -> Vec<String> {
        let mut v: Vec<String> = which.iter().map(|&i| names[i].to_owned()).collect();
        v.sort();
        v
    };
    let check = || {
        assert_eq!(found("name=鼹鼷"), these(&[0]));
        assert_eq!(found("name=鼷鼹"), these(&[1]));
        assert_eq!(found("name=鼹"), these(&[0, 1, 2]));
        assert_eq!(found("q=鼹"), these(&[0, 1, 2]));
        assert_eq!(found("q=鼯"), these(&[2, 3]));
        assert_eq!(found("name=鼯%EF%BC%88"), these(&[3]), "full-width (");
        assert_eq!(found("name=(%E4%B9%99"), these(&[3]), "(乙");
        assert_eq!(found("q=%E4%B9%99)"), these(&[3]), "乙)");
        assert!(found("name=鼷鼯").is_empty());
        // The quick search also finds a part of the mnemonic, in either case,
        // and nothing by the mnemonic through the name filter.
        let mnemonic = made[3].json["mnemonic"].as_str().unwrap_or_default();
        let pair: String = mnemonic.chars().skip(1).take(2).collect();
        assert_eq!(pair.chars().count(), 2, "{mnemonic}");
        assert!(
            found(&format!("q={pair}")).contains(&names[3].to_owned()),
            "{pair}"
        );
        let upper = pair.to_uppercase();
        assert!(
            found(&format!("q={upper}")).contains(&names[3].to_owned()),
            "{upper}"
        );
        assert!(!found(&format!("name={pair}")).contains(&names[3].to_owned()));
    };
    check();
    // A renamed file is found by its new name only.
    let path = format!("/api/v1/customers/{}", id_of(&made[2]));
    let renamed = s.patch(&path, &am, "\"1\"", &json!({"name": "南京鼯鼠公司"}));
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(found("name=鼹"), these(&[0, 1]));
    assert_eq!(found("name=鼯鼠"), vec!["南京鼯鼠公司".to_owned()]);
    let back = s.patch(&path, &am, "\"2\"", &json!({"name": names[2]}));
    assert_eq!(back.status, 200, "{}", back.text);
    check();
    // Another unit sees none of them.
    let sh = s.get("/api/v1/customers?name=鼹", &s.token("demo.am.sh"));
    assert_eq!(sh.json["items"], json!([]), "{}", sh.text);
    // The index of a database that had files before it is built from them.
    s.upgrade_from("20261123000014");
    check();
}

/// A name is searched without its spaces: a file an ERP filed as
/// `深圳市 ABC 科技有限公司` is found by `ABC科技`, and one filed without
/// spaces by a part typed with them (a space, or the ideographic space of
/// a Chinese input method), by the name filter and the quick search alike,
/// through parts long and short; words apart are each held by the name, in
/// any order. Files stored before the rule get their
/// search form recomputed when the migrations run, with no change to them.
#[test]
fn r_cus_03_a_name_is_found_with_or_without_its_spaces() {
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let names = [
        "深圳市 ABC 科技有限公司",
        "广州珠江XYZ物流有限公司",
        "Pearl River Trading Ltd",
    ];
    let made = private_files_named(&s, &am, &names);
    for (r, n) in made.iter().zip(names) {
        assert_eq!(r.json["name"], n, "a name keeps its spaces");
    }
    let found = |query: &str| names_listed(&s, &am, query);
    let only = |i: usize| vec![names[i].to_owned()];
    let check = || {
        for query in [
            "name=ABC科技",
            "name=市abc",
            "name=c科",
            "q=abc科技有限",
            "name=%EF%BC%A1%EF%BC%A2%EF%BC%A3%E3%80%80%E7%A7%91%E6%8A%80",
        ] {
            assert_eq!(found(query), only(0), "{query}");
        }
        for query in [
            "name=XYZ%20物流",
            "name=江%20x",
            "q=珠江%20%20xyz",
            "name=z%20物",
        ] {
            assert_eq!(found(query), only(1), "{query}");
        }
        for query in [
            "name=riverTRADING",
            "name=pearl%20river%20trading%20ltd",
            "q=lriv",
        ] {
            assert_eq!(found(query), only(2), "{query}");
        }
        assert!(found("name=深圳XYZ").is_empty());
        // Words apart, in any order: the name holds each.
        for query in [
            "name=深圳%20科技",
            "name=科技%20深圳",
            "q=有限%20abc",
            "q=深%20c科",
        ] {
            assert_eq!(found(query), only(0), "{query}");
        }
        for query in [
            "name=pearl%20trading",
            "q=ltd%20river",
            "name=ver%20%E3%80%80pea",
        ] {
            assert_eq!(found(query), only(2), "{query}");
        }
        for query in ["name=abc%20物流", "q=深圳%20xyz", "name=pearl%20科技"] {
            assert!(found(query).is_empty(), "{query}");
        }
        // Spaces alone are no part of a name.
        s.get("/api/v1/customers?name=%20%20", &am)
            .assert_refused_on(400, "invalid_query", "name", "invalid_length");
    };
    check();

    // The files as an earlier version stored them: searched with spaces.
    let stale = |name: &str| clientele_customers::name::search_form(name);
    for (file, name) in made.iter().zip(names) {
        s.db.write(|c| {
            Ok(diesel::update(customers::table.find(id_of(file)))
                .set(customers::name_folded.eq(stale(name)))
                .execute(c)?)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(found("name=ABC科技").is_empty());
    s.upgrade_from("20261207000036");
    check();
    // Recomputing a form is no change to the file.
    for file in &made {
        let path = format!("/api/v1/customers/{}", id_of(file));
        let history = s.get(&format!("{path}/history"), &am);
        assert_eq!(
            history.json["items"].as_array().map(Vec::len),
            Some(1),
            "{}",
            history.text
        );
        assert_eq!(s.get(&path, &am).header("etag"), file.header("etag"));
    }
}

/// A part that more files hold than a search index is asked to list
/// (1 000 on SQLite) is searched by the ordered scan instead: every file
/// is still found, page after page, in pinyin order; a part held by exactly
/// that many still comes through the index, completely.
#[test]
fn customer_search_finds_every_file_of_a_common_part() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mut csv = String::from("external_id,name,nature\n");
    for i in 0..1002 {
        csv.push_str(&format!("SCAN-{i},鼩鼱{i:04}号贸易行,private\n"));
    }
    let made = s.import_csv(&am, &csv, false);
    assert_eq!(made.json["created"], 1002, "{}", made.text);
    let all = |query: &str| -> Vec<String> {
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let after = next
                .as_deref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let r = s.get(&format!("/api/v1/customers?{query}&limit=200{after}"), &am);
            assert_eq!(r.status, 200, "{query}: {}", r.text);
            names.extend(
                r.json["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned)),
            );
            next = r.json["next_cursor"].as_str().map(str::to_owned);
            if next.is_none() {
                return names;
            }
        }
    };
    let expected: Vec<String> = (0..1002).map(|i| format!("鼩鼱{i:04}号贸易行")).collect();
    assert_eq!(all("q=鼩鼱"), expected, "two characters, 1 002 files");
    assert_eq!(all("name=鼩鼱号"), Vec::<String>::new());
    assert_eq!(
        all("name=鼩鼱0"),
        expected[..1000].to_vec(),
        "exactly 1 000"
    );
    assert_eq!(all("name=鼩鼱1"), expected[1000..].to_vec());
    assert_eq!(all("q=号贸易"), expected, "three characters, 1 002 files");
}

/// A file's region is a real GB/T 2260 division: its province-level code
/// names a province (shown as `province`, exported, filtered by prefix);
/// a code whose first two digits are no province is refused and changes
/// nothing.
#[test]
fn r_cus_03_regions_name_their_province() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京省份测试有限公司", "nature": "private", "region_code": "110108"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.json["province"], "北京市");
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let moved = s.patch(&path, &am, "\"1\"", &json!({"region_code": "440305"}));
    assert_eq!(moved.status, 200, "{}", moved.text);
    assert_eq!(moved.json["province"], "广东省");
    let audit = s.audit_count();
    for bad in ["160000", "550101", "800000"] {
        let r = s.patch(&path, &am, "\"2\"", &json!({"region_code": bad}));
        r.assert_problem(422, "validation_failed");
        assert!(
            r.json["errors"].as_array().is_some_and(|e| e
                .iter()
                .any(|f| f["field"] == "region_code" && f["code"] == "unknown_province")),
            "{bad}: {}",
            r.text
        );
        let r = create(
            &s,
            &am,
            json!({"name": format!("北京{bad}有限公司"), "nature": "private", "region_code": bad}),
        );
        r.assert_problem(422, "validation_failed");
    }
    assert_eq!(s.audit_count(), audit, "refused changes change nothing");
    let cleared = s.patch(&path, &am, "\"2\"", &json!({"region_code": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.json["province"], Value::Null);
    let again = s.patch(&path, &am, "\"3\"", &json!({"region_code": "110105"}));
    assert_eq!(again.status, 200, "{}", again.text);
    // The list of provinces, for front-ends' pickers: every code is one a
    // file may take.
    let provinces = s.get("/api/v1/provinces", &am);
    assert_eq!(provinces.status, 200, "{}", provinces.text);
    let list = provinces.json.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 34);
    assert_eq!(list[0], json!({"code": "11", "name": "北京市"}));
    let mut version = 4;
    for p in &list {
        let code = format!("{}0000", p["code"].as_str().unwrap_or_default());
        let r = s.patch(
            &path,
            &am,
            &format!("\"{version}\""),
            &json!({"region_code": code}),
        );
        assert_eq!(r.status, 200, "{code}: {}", r.text);
        assert_eq!(r.json["province"], p["name"]);
        version += 1;
    }
    s.call("GET", "/api/v1/provinces", None, None, &[])
        .assert_problem(401, "unauthorized");
    let again = s.patch(
        &path,
        &am,
        &format!("\"{version}\""),
        &json!({"region_code": "110105"}),
    );
    assert_eq!(again.status, 200, "{}", again.text);
    let csv = s.get(
        "/api/v1/customers/export?name=省份测试&format=csv",
        &s.token("demo.manager.bj"),
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    let rows = csv.csv_rows();
    assert_eq!(rows[0]["province"], "北京市", "{}", csv.text);
    assert_eq!(rows[0]["owner_username"], "", "{}", csv.text);
}

/// The legal office ends an approved outside access before its time: the
/// requester's reads under it stop at once (CUS-09).
#[test]
fn r_cus_09_legal_revokes_an_access_in_force() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let (mgr, legal) = (s.token("demo.manager.bj"), s.token("demo.legal"));
    let made = create(
        &s,
        &admin,
        json!({"name": "北京撤销查阅有限公司", "nature": "private", "owner_unit_id": s.unit_id("BJ")}),
    );
    let id = id_of(&made);
    let asked = s.post(
        &format!("/api/v1/customers/{id}/outside-access-requests"),
        &mgr,
        &json!({"outside_party": "北京市审计局", "purpose": "专项审计", "legal_basis": "审计法第三十四条", "days": 30}),
    );
    assert_eq!(asked.status, 201, "{}", asked.text);
    let rid = asked.json["id"].as_str().unwrap_or_default().to_owned();
    let revocation = format!("/api/v1/outside-access-requests/{rid}/revocation");
    let revoke = |token: &str, etag: &str| {
        s.call(
            "POST",
            &revocation,
            Some(token),
            Some(&json!({"note": "审计结束"})),
            &[("if-match", etag)],
        )
    };
    // Nothing to end before an approval.
    revoke(&legal, "\"1\"").assert_problem(409, "not_in_force");
    let approved = s.call(
        "POST",
        &format!("/api/v1/outside-access-requests/{rid}/decision"),
        Some(&legal),
        Some(&json!({"approve": true})),
        &[("if-match", "\"1\"")],
    );
    assert_eq!(approved.json["status"], "approved", "{}", approved.text);
    // The file is raised above the manager's clearance: the approved
    // access still lets them read it, registered with the grant.
    let raised = s.patch(
        &format!("/api/v1/customers/{id}"),
        &admin,
        &etag_of(&made),
        &json!({"secrecy_level": "A"}),
    );
    assert_eq!(raised.status, 200, "{}", raised.text);
    let read = s.get(&format!("/api/v1/customers/{id}"), &mgr);
    assert_eq!(read.status, 200, "{}", read.text);
    let auditor = s.token("demo.auditor");
    let log = s.get(&format!("/api/v1/customers/{id}/access-log"), &auditor);
    assert!(
        log.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["grant_id"] == rid.as_str())),
        "{}",
        log.text
    );

    // Only legal ends it, with the request's current ETag.
    let before = s.audit_count();
    revoke(&mgr, "\"2\"").assert_problem(403, "forbidden");
    revoke(&legal, "\"1\"").assert_problem(412, "precondition_failed");
    assert_eq!(s.audit_count(), before);
    let ended = revoke(&legal, "\"2\"");
    assert_eq!(ended.status, 200, "{}", ended.text);
    assert_eq!(ended.json["status"], "revoked");
    assert_eq!(ended.json["revoked_by"], s.user_id("demo.legal").as_str());
    assert_eq!(ended.json["revocation_note"], "审计结束");
    assert!(ended.json["revoked_at"].is_string());
    assert_eq!(ended.header("etag"), Some("\"3\""));
    assert_eq!(s.audit_count(), before + 1);
    s.get(&format!("/api/v1/customers/{id}"), &mgr)
        .assert_problem(404, "not_found");
    // Once, and listed as such.
    revoke(&legal, "\"3\"").assert_problem(409, "not_in_force");
    let listed = s.get("/api/v1/outside-access-requests?status=revoked", &legal);
    assert!(
        listed.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["id"] == rid.as_str())),
        "{}",
        listed.text
    );
    let timeline = s.get(&format!("/api/v1/customers/{id}/timeline"), &admin);
    let item = timeline.json["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["kind"] == "outside_access").cloned())
        .unwrap_or_default();
    assert_eq!(item["fields"], json!(["revoked"]), "{}", timeline.text);
    assert_eq!(item["actor_id"], s.user_id("demo.legal").as_str());
}

/// A document record's link is a web address (CUS-06: a document kept
/// elsewhere is pointed at): front-ends show it to be followed, so a
/// `javascript:` or `data:` link is refused on creation and on change.
#[test]
fn r_cus_06_a_document_link_is_a_web_address() {
    let s = TestServer::start();
    let mgr = s.token("demo.manager.bj");
    let made = create(
        &s,
        &mgr,
        json!({"name": "北京链接校验有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let docs = format!("/api/v1/customers/{id}/documents");
    for bad in [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "档案室三号柜",
    ] {
        let r = s.post(
            &docs,
            &mgr,
            &json!({"category": "contract", "title": "合同", "external_url": bad}),
        );
        r.assert_refused_on(422, "validation_failed", "external_url", "invalid_url");
    }
    let listed = s.get(&docs, &mgr);
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains("合同"), "{}", listed.text);
    let doc = s.post(
        &docs,
        &mgr,
        &json!({"category": "contract", "title": "合同", "external_url": "https://dms.example.cn/c/1"}),
    );
    assert_eq!(doc.status, 201, "{}", doc.text);
    let path = format!("{docs}/{}", id_of(&doc));
    let changed = s.patch(
        &path,
        &mgr,
        "\"1\"",
        &json!({"external_url": "javascript:alert(1)"}),
    );
    changed.assert_problem(422, "validation_failed");
    assert_eq!(changed.json["errors"][0]["code"], "invalid_url");
    let kept = s.get(&path, &mgr);
    assert_eq!(kept.json["external_url"], "https://dms.example.cn/c/1");
    assert_eq!(kept.header("etag"), Some("\"1\""));
    let cleared = s.patch(&path, &mgr, "\"1\"", &json!({"external_url": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert!(cleared.json["external_url"].is_null());
}

/// `/me` tells a front-end what the account may do, and each flag is the
/// rule the API applies: where it says no, the act answers 403; where it
/// says yes, the act gets past the permission check (CUS-08, CUS-09,
/// CUS-10, CUS-01).
#[test]
fn r_cus_08_me_tells_what_an_account_may_do() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    // Both roles: an auditor writes nothing, so does not decide (CUS-09).
    let both = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "legal.auditor", "display_name": "法务兼审计", "password": "a-long-password",
                "unit_id": s.unit_id("LEGAL"), "roles": ["legal", "auditor"]}),
    );
    assert_eq!(both.status, 201, "{}", both.text);
    let me = s.user_id("demo.manager.bj");
    let nobody = "0190a000-0000-7000-8000-000000000000";
    // (who, edit, manage, export, financial fields, everything, decide, administer)
    let expected: [(&str, [bool; 7]); 8] = [
        ("demo.admin", [true, true, true, true, true, false, true]),
        (
            "demo.manager.bj",
            [true, true, true, true, false, false, false],
        ),
        (
            "demo.am.bj",
            [true, false, false, true, false, false, false],
        ),
        (
            "demo.agent",
            [false, false, false, false, false, false, false],
        ),
        (
            "demo.quality",
            [false, false, false, false, false, false, false],
        ),
        (
            "demo.legal",
            [false, false, false, true, false, true, false],
        ),
        (
            "demo.auditor",
            [false, false, true, true, true, false, false],
        ),
        (
            "legal.auditor",
            [false, false, true, true, true, false, false],
        ),
    ];
    for (who, flags) in expected {
        let t = if who == "legal.auditor" {
            s.token_with(who, "a-long-password")
        } else {
            s.token(who)
        };
        let r = s.get("/api/v1/me", &t);
        assert_eq!(r.status, 200, "{who}: {}", r.text);
        let may = &r.json["may"];
        let names = [
            "edit_files",
            "manage_files",
            "export_files",
            "see_financial_fields",
            "read_everything",
            "decide_outside_access",
            "administer",
        ];
        for (name, want) in names.iter().zip(flags) {
            assert_eq!(may[name].as_bool(), Some(want), "{who}: {name} in {may}");
        }
        let allowed = |r: &clientele_e2e::Resp, flag: &str| {
            let yes = may[flag].as_bool().unwrap_or_default();
            if yes {
                assert_ne!(r.status, 403, "{who} may {flag}: {}", r.text);
            } else {
                r.assert_problem(403, "forbidden");
            }
        };
        allowed(
            &s.get("/api/v1/customers/export?format=ndjson&limit=1", &t),
            "export_files",
        );
        allowed(
            &s.post(
                "/api/v1/customers/hand-over",
                &t,
                &json!({"from_user_id": me, "to_user_id": me}),
            ),
            "manage_files",
        );
        allowed(
            &s.get("/api/v1/access-register?limit=1", &t),
            "read_everything",
        );
        allowed(
            &s.call(
                "POST",
                &format!("/api/v1/outside-access-requests/{nobody}/decision"),
                Some(&t),
                Some(&json!({"approve": true})),
                &[("if-match", "\"1\"")],
            ),
            "decide_outside_access",
        );
        allowed(
            &s.post(
                "/api/v1/units",
                &t,
                &json!({"code": format!("T-{}", who.len()), "name": "权限测试", "kind": "project_team",
                        "parent_id": s.unit_id("HQ")}),
            ),
            "administer",
        );
    }
}

/// Two legal officers deciding one outside-access request at once: one
/// decision stands, the other is told the request moved on (412), and only
/// one is audited (CUS-09, ORG-03).
#[test]
fn r_cus_09_one_decision_of_an_outside_request_stands() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let second = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "legal.two", "display_name": "第二法务", "password": "a-long-password",
                "unit_id": s.unit_id("LEGAL"), "roles": ["legal"]}),
    );
    assert_eq!(second.status, 201, "{}", second.text);
    let (legal, other) = (
        s.token("demo.legal"),
        s.token_with("legal.two", "a-long-password"),
    );
    let made = create(
        &s,
        &admin,
        json!({"name": "北京并发审批有限公司", "nature": "private", "owner_unit_id": s.unit_id("BJ")}),
    );
    let id = id_of(&made);
    for round in 0..6 {
        let asked = s.post(
            &format!("/api/v1/customers/{id}/outside-access-requests"),
            &admin,
            &json!({"outside_party": "审计机关", "purpose": format!("第{round}次"),
                    "legal_basis": "审计法", "days": 1}),
        );
        assert_eq!(asked.status, 201, "{}", asked.text);
        let decision = format!(
            "/api/v1/outside-access-requests/{}/decision",
            asked.json["id"].as_str().unwrap_or_default()
        );
        let before = s.audit_count();
        let decide = |token: &str, approve: bool| {
            s.call(
                "POST",
                &decision,
                Some(token),
                Some(&json!({"approve": approve})),
                &[("if-match", "\"1\"")],
            )
            .status
        };
        let (yes, no) = std::thread::scope(|sc| {
            let yes = sc.spawn(|| decide(&legal, true));
            let no = sc.spawn(|| decide(&other, false));
            (yes.join().unwrap_or(0), no.join().unwrap_or(0))
        });
        let mut both = [yes, no];
        both.sort_unstable();
        assert_eq!(both, [200, 412], "round {round}");
        assert_eq!(s.audit_count(), before + 1, "round {round}");
    }
}

/// What a Chinese input method types in full width — a credit code's
/// letters and digits, a tag — is read as its ASCII form, stored so and
/// found so (CUS-02, CUS-03).
#[test]
fn r_cus_02_codes_and_tags_typed_in_full_width_are_read_as_ascii() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京全角输入有限公司", "nature": "private",
               "credit_code": "９１３５０１００Ｍ０００１００Ｙ４３",
               "tags": ["ＶＩＰ", "vip"]}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(
        made.json["credit_code"], "91350100M000100Y43",
        "{}",
        made.text
    );
    assert_eq!(made.json["tags"], json!(["vip"]), "{}", made.text);
    let id = id_of(&made);
    for query in [
        "tag=%EF%BC%B6%EF%BC%A9%EF%BC%B0",                // ＶＩＰ
        "credit_code=%EF%BC%99%EF%BC%91350100M000100Y43", // ９１…
    ] {
        let found = s.get(&format!("/api/v1/customers?{query}"), &am);
        assert_eq!(found.status, 200, "{query}: {}", found.text);
        assert!(found.text.contains(&id), "{query}: {}", found.text);
    }
}

/// A contact's numbers typed in full width (a Chinese input method) are
/// kept in ASCII; a number with letters is still refused (CUS-02).
#[test]
fn r_cus_02_contact_numbers_typed_in_full_width_are_kept_in_ascii() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京全角电话有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let contact = s.post(
        &format!("/api/v1/customers/{id}/contacts"),
        &am,
        &json!({"name": "王经理", "phone": "（０１０）８８８８－６６６６", "mobile": "＋８６　１３８００１３８０００"}),
    );
    assert_eq!(contact.status, 201, "{}", contact.text);
    assert_eq!(contact.json["phone"], "(010)8888-6666", "{}", contact.text);
    assert_eq!(
        contact.json["mobile"], "+86 13800138000",
        "{}",
        contact.text
    );
    let sub = contact.json["id"].as_str().unwrap_or_default();
    let path = format!("/api/v1/customers/{id}/contacts/{sub}");
    let etag = contact.header("etag").unwrap_or_default().to_owned();
    let changed = s.patch(
        &path,
        &am,
        &etag,
        &json!({"mobile": "１３９１２３４５６７８"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["mobile"], "13912345678", "{}", changed.text);
    let etag = changed.header("etag").unwrap_or_default().to_owned();
    s.patch(&path, &am, &etag, &json!({"mobile": "１３９ＡＢＣ"}))
        .assert_problem(422, "validation_failed");
    // A mobile is a mobile: not a number cut short, nor a landline.
    for not_mobile in ["12345", "010-88886666"] {
        let refused = s.patch(&path, &am, &etag, &json!({ "mobile": not_mobile }));
        refused.assert_problem(422, "validation_failed");
        assert_eq!(refused.json["errors"][0]["field"], "mobile");
        assert_eq!(refused.json["errors"][0]["code"], "invalid_mobile");
    }
    let abroad = s.patch(&path, &am, &etag, &json!({"mobile": "+852 9123 4567"}));
    assert_eq!(abroad.status, 200, "{}", abroad.text);
    s.post(
        &format!("/api/v1/customers/{id}/contacts"),
        &am,
        &json!({"name": "李经理", "mobile": "12345"}),
    )
    .assert_problem(422, "validation_failed");
}

/// A tag typed in traditional characters is the tag typed in simplified
/// ones: stored, shown and looked for in one form, so a Hong Kong branch and
/// a Beijing one tag alike. Files stored before this rule get their tags
/// refolded when the migrations run, as a change the history shows (made by
/// no user) with a new version, and a revert to an unfolded value is folded.
#[test]
fn r_cus_03_a_tag_in_traditional_characters_is_the_same_tag() {
    use clientele_persistence::schema::{customer_tags, customers};
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let hk = create(
        &s,
        &am,
        json!({"name": "香港標籤測試有限公司", "nature": "foreign", "tags": ["重點客戶", "VIP"]}),
    );
    assert_eq!(hk.json["tags"], json!(["vip", "重点客户"]), "{}", hk.text);
    let bj = create(
        &s,
        &am,
        json!({"name": "北京标签测试有限公司", "nature": "private", "tags": ["重点客户"]}),
    );
    let ids = [id_of(&hk), id_of(&bj)];
    let tagged = |tag: &str| -> Vec<String> {
        let r = s.get(&format!("/api/v1/customers?tag={tag}&sort=name"), &am);
        assert_eq!(r.status, 200, "{}", r.text);
        let mut found: Vec<String> = r.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str().map(str::to_owned))
            .filter(|id| ids.contains(id))
            .collect();
        found.sort();
        found
    };
    let mut both = ids.to_vec();
    both.sort();
    assert_eq!(tagged("重點客戶"), both);
    assert_eq!(tagged("重点客户"), both);
    // The same tags in the other script change nothing.
    let same = s.patch(
        &format!("/api/v1/customers/{}", ids[0]),
        &am,
        &etag_of(&hk),
        &json!({"tags": ["重点客户", "ｖｉｐ"]}),
    );
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.header("etag"), hk.header("etag"));

    // The file as an earlier version stored it: its tag as typed.
    s.db.write(|c| {
        diesel::update(customer_tags::table.filter(customer_tags::customer_id.eq(&ids[1])))
            .set(customer_tags::tag.eq("重點客戶"))
            .execute(c)?;
        Ok(diesel::update(customers::table.find(&ids[1]))
            .set(customers::tags.eq(r#"["重點客戶"]"#))
            .execute(c)?)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tagged("重点客户"), vec![ids[0].clone()]);
    s.upgrade_from("20261207000026");
    assert_eq!(tagged("重點客戶"), both);
    let path = format!("/api/v1/customers/{}", ids[1]);
    let file = s.get(&path, &am);
    assert_eq!(file.json["tags"], json!(["重点客户"]), "{}", file.text);
    assert_eq!(file.header("etag"), Some("\"2\""));
    let history = s.get(&format!("{path}/history"), &am);
    let refold = &history.json["items"][0];
    assert_eq!(refold["field"], "tags", "{}", history.text);
    assert_eq!(refold["old_value"], json!(["重點客戶"]));
    assert_eq!(refold["new_value"], json!(["重点客户"]));
    assert_eq!(refold["actor_id"], Value::Null);
    // Once refolded, a file is off the list: running again changes nothing.
    clientele_persistence::migrate::run_pending(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get(&path, &am).header("etag"), Some("\"2\""));
    // Reverting to the old value stores it folded: no change at all.
    let change = refold["id"].as_str().unwrap_or_default();
    let reverted = s.call(
        "POST",
        &format!("{path}/history/{change}/revert"),
        Some(&am),
        None,
        &[("if-match", "\"2\"")],
    );
    assert_eq!(reverted.status, 200, "{}", reverted.text);
    assert_eq!(
        reverted.json["tags"],
        json!(["重点客户"]),
        "{}",
        reverted.text
    );
    assert_eq!(reverted.header("etag"), Some("\"2\""));
}

/// A name stored with an invisible character before session 21's rule
/// (北京燕京\u{200B}建设 looks like 北京燕京建设) is rewritten when the
/// migrations run: a change the history shows, made by no user, with a
/// new version, after which the name is found and listed as a duplicate
/// like any other.
#[test]
fn r_cus_01_a_name_stored_with_an_invisible_character_is_rewritten() {
    use clientele_persistence::schema::customers;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "北京隐形字符测试有限公司", "nature": "private"}),
    );
    let plain = create(
        &s,
        &am,
        json!({"name": "北京隐形字符测试有限公司", "nature": "private"}),
    );
    let id = id_of(&made);
    let path = format!("/api/v1/customers/{id}");
    // As an earlier version stored it: the name as pasted, its forms too.
    let pasted = "北京隐形\u{200B}字符测试有限公司\u{FEFF}";
    s.db.write(|c| {
        let forms = clientele_customers::NameForms::of(pasted);
        Ok(diesel::update(customers::table.find(&id))
            .set((
                customers::name.eq(pasted),
                customers::name_folded.eq(pasted),
                customers::name_normalized.eq(forms.normalised),
            ))
            .execute(c)?)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get(&path, &am).json["name"], pasted);
    s.upgrade_from("20261207000027");
    let file = s.get(&path, &am);
    assert_eq!(
        file.json["name"], "北京隐形字符测试有限公司",
        "{}",
        file.text
    );
    assert_eq!(file.header("etag"), Some("\"2\""));
    let history = s.get(&format!("{path}/history"), &am);
    let rewrite = &history.json["items"][0];
    assert_eq!(rewrite["field"], "name", "{}", history.text);
    assert_eq!(rewrite["old_value"], pasted);
    assert_eq!(rewrite["new_value"], "北京隐形字符测试有限公司");
    assert_eq!(rewrite["actor_id"], Value::Null);
    let found = s.get("/api/v1/customers?name=隐形字符", &am);
    assert_eq!(
        found.json["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        found.text
    );
    let dups = s.get(
        &format!("/api/v1/customers/{}/duplicates", id_of(&plain)),
        &am,
    );
    assert!(dups.text.contains(&id), "{}", dups.text);
    // Once rewritten, the file is off the list.
    clientele_persistence::migrate::run_pending(&s.db).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.get(&path, &am).header("etag"), Some("\"2\""));
}

/// Two servers that start at once both refold the listed tags: each file
/// changes once, whichever server gets to it, and neither fails to start
/// (on PostgreSQL the later one finds the file moved on and reads its
/// batch again; SQLite takes one writer at a time).
#[test]
fn r_cus_03_two_servers_refold_stored_tags_at_once() {
    use clientele_persistence::schema::{customer_changes, customer_tags, customers, tags_to_fold};
    use diesel::prelude::*;
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let files = 1_200;
    let mut csv = String::from("external_id,name,nature,tags\n");
    for k in 0..files {
        csv.push_str(&format!(
            "RACE-{k:04},竞态测试{k:04}号有限公司,private,竞态测试\n"
        ));
    }
    let imported = s.import_csv(&admin, &csv, false);
    assert_eq!(imported.status, 200, "{}", imported.text);
    // As an earlier version stored them: the tag as typed, in traditional
    // characters, and every file listed to refold.
    let ids: Vec<String> =
        s.db.write(|c| {
            let ids: Vec<String> = customer_tags::table
                .filter(customer_tags::tag.eq("竞态测试"))
                .select(customer_tags::customer_id)
                .load(c)?;
            diesel::update(customer_tags::table.filter(customer_tags::tag.eq("竞态测试")))
                .set(customer_tags::tag.eq("競態測試"))
                .execute(c)?;
            diesel::update(customers::table.filter(customers::id.eq_any(&ids)))
                .set(customers::tags.eq(r#"["競態測試"]"#))
                .execute(c)?;
            for id in &ids {
                diesel::insert_into(tags_to_fold::table)
                    .values(tags_to_fold::customer_id.eq(id))
                    .execute(c)?;
            }
            Ok(ids)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids.len(), files);
    let changed: Vec<usize> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let db = s.db.clone();
                scope.spawn(move || clientele_persistence::stored_forms::fold_stored_tags(&db))
            })
            .collect();
        runs.into_iter()
            .map(|r| match r.join() {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => panic!("a server failed to start: {e}"),
                Err(_) => panic!("a server panicked"),
            })
            .collect()
    });
    assert_eq!(changed.iter().sum::<usize>(), files, "{changed:?}");
    let (left, refolds, versions) =
        s.db.read(|c| {
            let left: i64 = tags_to_fold::table.count().get_result(c)?;
            let refolds: i64 = customer_changes::table
                .filter(customer_changes::customer_id.eq_any(&ids))
                .filter(customer_changes::field.eq("tags"))
                .count()
                .get_result(c)?;
            let versions: Vec<i64> = customers::table
                .filter(customers::id.eq_any(&ids))
                .select(customers::version)
                .distinct()
                .load(c)?;
            Ok((left, refolds, versions))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((left, refolds, versions), (0, files as i64, vec![2]));
    let page = s.get("/api/v1/customers?tag=競態測試&limit=1", &admin);
    assert_eq!(
        page.json["items"][0]["tags"],
        json!(["竞态测试"]),
        "{}",
        page.text
    );
}

/// A tag more than a thousand files carry is found file by file in the
/// list's order (on SQLite; PostgreSQL's planner counts tags itself), a
/// rare one from the tags' own index: both page through exactly the files
/// that carry them, in order, within the caller's sight, and count them
/// alike.
#[test]
fn r_cus_03_a_tag_many_files_carry_pages_like_a_rare_one() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let sh = s.token("demo.am.sh");
    let mut csv = String::from("external_id,name,nature,tags,owner_unit_code\n");
    for k in 0..1_100 {
        let tags = if k % 100 == 7 {
            "常见;少见"
        } else {
            "常见"
        };
        let unit = if k % 2 == 0 { "SH" } else { "BJ" };
        csv.push_str(&format!(
            "TAG-{k:04},标签测试{k:04}号有限公司,private,{tags},{unit}\n"
        ));
    }
    let imported = s.import_csv(&admin, &csv, false);
    assert_eq!(imported.status, 200, "{}", imported.text);
    let walk = |tag: &str, token: &str, sort: &str| -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = s.get(
                &format!("/api/v1/customers?tag={tag}&sort={sort}&limit=100{cursor}"),
                token,
            );
            assert_eq!(page.status, 200, "{}", page.text);
            let items = page.json["items"].as_array().cloned().unwrap_or_default();
            seen.extend(
                items
                    .iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_owned)),
            );
            match page.json["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return seen,
            }
        }
    };
    let expected = |every: usize, of: usize, sh_only: bool| -> Vec<String> {
        (0..1_100)
            .filter(|k| k % every == of && (!sh_only || k % 2 == 0))
            .map(|k| format!("标签测试{k:04}号有限公司"))
            .collect()
    };
    let common = walk("%E5%B8%B8%E8%A7%81", &admin, "name");
    assert_eq!(common, expected(1, 0, false));
    let rare = walk("%E5%B0%91%E8%A7%81", &admin, "name");
    assert_eq!(rare, expected(100, 7, false));
    // Newest first: the import made them in file order.
    let mut newest = walk("%E5%B8%B8%E8%A7%81", &admin, "-created_at");
    newest.sort();
    assert_eq!(newest, expected(1, 0, false));
    // Shanghai's account manager sees Shanghai's half.
    assert_eq!(
        walk("%E5%B8%B8%E8%A7%81", &sh, "name"),
        expected(1, 0, true)
    );
    assert_eq!(
        walk("%E5%B0%91%E8%A7%81", &sh, "name"),
        Vec::<String>::new()
    );
    let counted = s.get(
        "/api/v1/customers/counts?by=status&tag=%E5%B8%B8%E8%A7%81",
        &admin,
    );
    assert_eq!(counted.status, 200, "{}", counted.text);
    assert_eq!(counted.json["total"], 1_100, "{}", counted.text);
}

/// A change that sends `null` for a field that cannot be empty (a name,
/// the status, the keeping unit, a contact's name, a user's display name)
/// is refused by that field's name, and nothing changes: the client meant
/// to clear it and would otherwise be told it had. `null` still clears a
/// field that may be empty.
#[test]
fn r_cus_04_null_clears_only_a_field_that_may_be_empty() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "清空测试有限公司", "nature": "private", "industry": "制造业"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let etag = etag_of(&made);
    let unchanged = s.audit_count();
    for field in [
        "name",
        "nature",
        "status",
        "vulnerable",
        "tags",
        "owner_unit_id",
        "secrecy_level",
        "shared",
    ] {
        let refused = s.patch(&path, &am, &etag, &json!({ field: null }));
        refused.assert_refused_on(422, "invalid_body", field, "not_clearable");
    }
    assert_eq!(s.audit_count(), unchanged, "refused changes leave no trace");
    let contact = s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "李经理", "mobile": "13900000001"}),
    );
    assert_eq!(contact.status, 201, "{}", contact.text);
    let contact_path = format!("{path}/contacts/{}", id_of(&contact));
    let nameless = s.patch(
        &contact_path,
        &am,
        &etag_of(&contact),
        &json!({"name": null}),
    );
    assert_eq!(nameless.json["errors"][0]["code"], "not_clearable");
    // Signing in is audited: before the count.
    let admin = s.token("demo.admin");
    let before = s.audit_count();
    let user = format!("/api/v1/users/{}", s.user_id("demo.am.sh"));
    let user_etag = etag_of(&s.get(&user, &admin));
    let anonymous = s.patch(&user, &admin, &user_etag, &json!({"display_name": null}));
    assert_eq!(anonymous.json["errors"][0]["field"], "display_name");
    assert_eq!(anonymous.json["errors"][0]["code"], "not_clearable");
    // In Chinese too.
    let zh = s.call(
        "PATCH",
        &path,
        Some(&am),
        Some(&json!({"name": null})),
        &[("if-match", etag.as_str()), ("accept-language", "zh-CN")],
    );
    assert!(
        zh.json["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("不能清空"),
        "{}",
        zh.text
    );
    assert_eq!(s.audit_count(), before, "refused changes leave no trace");
    // A field that may be empty is cleared by null.
    let cleared = s.patch(&path, &am, &etag, &json!({"industry": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert_eq!(cleared.json["industry"], Value::Null);
    assert_eq!(cleared.json["name"], "清空测试有限公司");
}

/// Every moment `value` holds, at any depth, under keys ending in `_at`.
fn moments_in<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(fields) => {
            for (name, v) in fields {
                match v.as_str() {
                    Some(t) if name.ends_with("_at") => out.push(t),
                    _ => moments_in(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| moments_in(v, out)),
        _ => {}
    }
}

/// The history (CUS-04) and the audit log keep records as they were,
/// created and changed moments included; those are shown as RFC 3339 UTC
/// like every other time of the API, so a client does not read them as
/// its own local time.
#[test]
fn r_cus_04_moments_in_recorded_values_are_utc() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let made = create(
        &s,
        &am,
        json!({"name": "时刻测试有限公司", "nature": "private"}),
    );
    let path = format!("/api/v1/customers/{}", id_of(&made));
    let contact = s.post(
        &format!("{path}/contacts"),
        &am,
        &json!({"name": "赵经理", "mobile": "13900000002"}),
    );
    assert_eq!(contact.status, 201, "{}", contact.text);
    let history = s.get(&format!("{path}/history"), &am);
    let audit = s.get("/api/v1/audit-log?limit=20", &s.token("demo.admin"));
    let mut moments = Vec::new();
    for items in [&history.json["items"], &audit.json["items"]] {
        for item in items.as_array().into_iter().flatten() {
            for key in ["old_value", "new_value", "before", "after"] {
                moments_in(&item[key], &mut moments);
            }
        }
    }
    assert!(moments.len() >= 4, "{moments:?}");
    for t in moments {
        assert!(
            chrono::DateTime::parse_from_rfc3339(t).is_ok() && t.ends_with('Z'),
            "{t} is not RFC 3339 UTC"
        );
    }
}

/// A name that is only a company form (有限公司, Co., Ltd.) names no
/// customer: refused on the name, through the API and an import alike.
#[test]
fn r_cus_01_a_name_is_more_than_its_company_form() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let before = s.audit_count();
    for form in ["有限公司", "（股份有限公司）", "Co., Ltd."] {
        let refused = create(&s, &am, json!({"name": form, "nature": "private"}));
        refused.assert_refused_on(422, "validation_failed", "name", "company_form_only");
    }
    let dry = s.import_csv(
        &am,
        "external_id,name,nature\nCF-1,有限公司,private\n",
        true,
    );
    assert_eq!(dry.json["errors"][0]["field"], "name", "{}", dry.text);
    assert_eq!(dry.json["errors"][0]["code"], "company_form_only");
    assert_eq!(s.audit_count(), before, "nothing was written");
    let made = create(
        &s,
        &am,
        json!({"name": "有限公司之家", "nature": "private"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
}

/// A manager merges on what they read: with the surviving file's `ETag`
/// in `If-Match`, a merge after someone changed that file is refused
/// (412) and changes nothing; with the current one it goes ahead. The
/// header may be left out, as before.
#[test]
fn r_cus_01_a_merge_decided_on_a_stale_view_is_refused() {
    let s = TestServer::start();
    let (am, mgr) = (s.token("demo.am.bj"), s.token("demo.manager.bj"));
    let survivor = s.private_file(&am, "合并视图测试有限公司");
    let absorbed = s.private_file(&am, "合并视图测试股份有限公司");
    let path = format!("/api/v1/customers/{survivor}");
    let read = s.get(&path, &mgr);
    let seen = etag_of(&read);
    let changed = s.patch(&path, &am, &seen, &json!({"industry": "物流"}));
    assert_eq!(changed.status, 200, "{}", changed.text);
    let merge = |etag: &str| {
        s.call(
            "POST",
            &format!("{path}/merge"),
            Some(&mgr),
            Some(&json!({ "absorbed_id": absorbed })),
            &[("if-match", etag)],
        )
    };
    let before = s.audit_count();
    merge(&seen).assert_problem(412, "precondition_failed");
    merge("2").assert_problem(400, "invalid_header");
    assert_eq!(s.audit_count(), before, "a refused merge changes nothing");
    let other = s.get(&format!("/api/v1/customers/{absorbed}"), &mgr);
    assert_eq!(other.json["merged_into_id"], Value::Null);
    // The file to absorb is guarded likewise, by the version read of it.
    let absorbed_path = format!("/api/v1/customers/{absorbed}");
    let absorbed_read = s.get(&absorbed_path, &mgr);
    let absorbed_seen = absorbed_read.json["version"].as_i64().unwrap_or_default();
    let retagged = s.patch(
        &absorbed_path,
        &am,
        &etag_of(&absorbed_read),
        &json!({"tags": ["待合并"]}),
    );
    assert_eq!(retagged.status, 200, "{}", retagged.text);
    let guarded = |version: i64| {
        s.call(
            "POST",
            &format!("{path}/merge"),
            Some(&mgr),
            Some(&json!({ "absorbed_id": absorbed, "absorbed_version": version })),
            &[("if-match", &etag_of(&changed))],
        )
    };
    guarded(absorbed_seen).assert_refused_on(
        409,
        "absorbed_changed",
        "absorbed_version",
        "absorbed_changed",
    );
    guarded(0).assert_refused_on(422, "validation_failed", "absorbed_version", "range");
    assert_eq!(s.audit_count(), before + 1, "only the tagging was written");
    let done = guarded(absorbed_seen + 1);
    assert_eq!(done.status, 200, "{}", done.text);
    let gone = s.get(&format!("/api/v1/customers/{absorbed}"), &mgr);
    assert_eq!(
        gone.json["merged_into_id"],
        survivor.as_str(),
        "{}",
        gone.text
    );
}
