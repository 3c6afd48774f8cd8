//! Contacts exchanged with an ERP or finance system (CUS-02's contacts,
//! issue 3 §8). `POST /customers/contacts/import`, a CSV whose rows name
//! their file and their contact: a dry run names every bad row and writes
//! nothing, a commit writes all rows or none, and a second run of the same
//! CSV changes nothing; every change is in the file's history (CUS-04).
//! `GET /customers/contacts/export`: registered as an export of each file
//! (CUS-08), and its CSV imports as it is.

use clientele_e2e::{Resp, TestServer};
use serde_json::{json, Value};

/// A file of this name and ERP id, made by `token`; its id.
fn erp_file(s: &TestServer, token: &str, name: &str, external_id: &str) -> String {
    let made = s.post(
        "/api/v1/customers",
        token,
        &json!({"name": name, "nature": "private", "external_id": external_id}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    made.json["id"].as_str().unwrap_or_default().to_owned()
}

/// The active contacts of a file, by name.
fn contacts(s: &TestServer, token: &str, file: &str) -> Vec<Value> {
    let r = s.get(&format!("/api/v1/customers/{file}/contacts"), token);
    assert_eq!(r.status, 200, "{}", r.text);
    let mut all = r.json.as_array().cloned().unwrap_or_default();
    all.sort_by_key(|c| c["name"].as_str().unwrap_or_default().to_owned());
    all
}

fn named<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no contact {name} in {all:?}"))
}

fn counts(r: &Resp) -> (u64, u64, u64) {
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["errors"], json!([]), "{}", r.text);
    let n = |k: &str| r.json[k].as_u64().unwrap_or(u64::MAX);
    (n("created"), n("updated"), n("unchanged"))
}

/// `(row, field, code)` of each fault a report names.
fn faults(report: &Value) -> Vec<(u64, String, String)> {
    report["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["row"].as_u64().unwrap_or_default(),
                        e["field"].as_str().unwrap_or_default().to_owned(),
                        e["code"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn r_cus_02_contacts_come_from_an_erp_dry_run_then_commit_then_unchanged() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let steel = erp_file(&s, &am, "北京导入钢铁有限公司", "ERP-001");
    let cement = erp_file(&s, &am, "北京导入水泥有限公司", "ERP-002");
    let code = s.get(&format!("/api/v1/customers/{cement}"), &am).json["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Entered by hand before the ERP sent its contacts.
    let by_hand = s.post(
        &format!("/api/v1/customers/{steel}/contacts"),
        &am,
        &json!({"name": "张伟", "phone": "010-8888 6666"}),
    );
    assert_eq!(by_hand.status, 201, "{}", by_hand.text);
    let csv = format!(
        "customer_external_id,customer_code,contact_external_id,name,title,mobile,email,is_primary\n\
         ERP-001,,C-1,张伟,采购经理,+86 139 0108 6621,,是\n\
         ERP-001,,C-2,李娜,,13901086622,li.na@example.com,\n\
         ERP-002,{code},C-3,王芳,财务,,wang.fang@example.com,1\n"
    );
    let audit_before = s.audit_count();
    let dry = s.import_contacts_csv(&am, &csv, true);
    assert_eq!(counts(&dry), (2, 1, 0));
    assert_eq!(dry.json["dry_run"], true);
    assert_eq!(
        contacts(&s, &am, &steel).len(),
        1,
        "a dry run writes nothing"
    );
    assert!(contacts(&s, &am, &cement).is_empty());
    assert_eq!(s.audit_count(), audit_before);

    let stamp =
        |file: &str| s.get(&format!("/api/v1/customers/{file}"), &am).json["updated_at"].clone();
    let (steel_was, cement_was) = (stamp(&steel), stamp(&cement));
    let done = s.import_contacts_csv(&am, &csv, false);
    assert_eq!(counts(&done), (2, 1, 0));
    // A file whose contacts changed is a changed file (an ERP's sync sees it).
    assert_ne!(stamp(&steel), steel_was);
    assert_ne!(stamp(&cement), cement_was);
    let kept = contacts(&s, &am, &steel);
    assert_eq!(kept.len(), 2);
    // The hand-made 张伟 took the ERP's id and its fields; the phone it had stays.
    let zhang = named(&kept, "张伟");
    assert_eq!(zhang["id"], by_hand.json["id"]);
    assert_eq!(zhang["external_id"], "C-1");
    assert_eq!(zhang["title"], "采购经理");
    assert_eq!(zhang["phone"], "010-8888 6666");
    assert_eq!(zhang["mobile"], "+86 139 0108 6621");
    assert_eq!(zhang["is_primary"], true);
    assert_eq!(named(&kept, "李娜")["is_primary"], false);
    let wang = contacts(&s, &am, &cement);
    assert_eq!(wang[0]["external_id"], "C-3");
    // The ERP finds its own contact in the file by its id.
    let by_erp = s.get(
        &format!("/api/v1/customers/{steel}/contacts?external_id=C-1"),
        &am,
    );
    assert_eq!(
        by_erp.json.as_array().map(Vec::len),
        Some(1),
        "{}",
        by_erp.text
    );
    assert_eq!(by_erp.json[0]["name"], "张伟");
    let none = s.get(
        &format!("/api/v1/customers/{cement}/contacts?external_id=C-1"),
        &am,
    );
    assert_eq!(none.json, json!([]));
    s.get(
        &format!("/api/v1/customers/{steel}/contacts?external_id="),
        &am,
    )
    .assert_refused_on(400, "invalid_query", "external_id", "invalid_length");
    assert_eq!(wang[0]["is_primary"], true);
    // Each change is in the file's history, field by field (CUS-04).
    let history = s.get(&format!("/api/v1/customers/{steel}/history"), &am);
    let changed: Vec<String> = history.json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|h| h["entity"] == "contact" && h["entity_id"] == zhang["id"])
                .filter_map(|h| h["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for field in ["external_id", "title", "mobile", "is_primary"] {
        assert!(changed.iter().any(|f| f == field), "{field}: {changed:?}");
    }
    // The imported numbers find their file (who is calling?).
    let found = s.get("/api/v1/customers?contact=13901086622", &am);
    assert_eq!(
        found.json["items"][0]["id"],
        steel.as_str(),
        "{}",
        found.text
    );

    // The same CSV again: every contact is as it says.
    let again = s.import_contacts_csv(&am, &csv, false);
    assert_eq!(counts(&again), (0, 0, 3));
    // A change in the ERP reaches the contact its id names, whatever its name now.
    let renamed = "customer_external_id,contact_external_id,name,title\n\
                   ERP-001,C-2,李娜娜,销售总监\n";
    assert_eq!(
        counts(&s.import_contacts_csv(&am, renamed, false)),
        (0, 1, 0)
    );
    let kept = contacts(&s, &am, &steel);
    let li = named(&kept, "李娜娜");
    assert_eq!(li["title"], "销售总监");
    // Columns left out keep their fields.
    assert_eq!(li["email"], "li.na@example.com");
    // A row without an ERP id means the contact of its name.
    let by_name = "customer_id,name,title\n".to_owned() + &steel + ",李娜娜,\n";
    assert_eq!(
        counts(&s.import_contacts_csv(&am, &by_name, false)),
        (0, 1, 0)
    );
    assert_eq!(
        named(&contacts(&s, &am, &steel), "李娜娜")["title"],
        Value::Null,
        "an empty cell clears"
    );
    // A contact removed in the ERP is removed here; sent again, nothing changes.
    let removal = "customer_external_id,contact_external_id,name,active\n\
                   ERP-001,C-2,李娜娜,否\n";
    assert_eq!(
        counts(&s.import_contacts_csv(&am, removal, false)),
        (0, 1, 0)
    );
    let left = contacts(&s, &am, &steel);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["name"], "张伟");
    assert_eq!(
        counts(&s.import_contacts_csv(&am, removal, false)),
        (0, 0, 1)
    );
    let nobody = "customer_external_id,contact_external_id,name,active\n\
                  ERP-001,C-404,无名,false\n";
    assert_eq!(
        faults(&s.import_contacts_csv(&am, nobody, true).json),
        [(1, "active".to_owned(), "contact_not_found".to_owned())]
    );
    // A new primary demotes the file's other one, which a later row of the
    // same import then changes from its demoted version.
    let promoted = "customer_external_id,contact_external_id,name,title,mobile,is_primary\n\
                    ERP-002,C-4,赵强,,13901086630,是\n\
                    ERP-002,C-3,王芳,财务总监,,\n";
    assert_eq!(
        counts(&s.import_contacts_csv(&am, promoted, false)),
        (1, 1, 0)
    );
    let both = contacts(&s, &am, &cement);
    assert_eq!(named(&both, "赵强")["is_primary"], true);
    let wang = named(&both, "王芳");
    assert_eq!(wang["is_primary"], false);
    assert_eq!(wang["title"], "财务总监");
    assert_eq!(wang["version"], 3, "demoted, then retitled: {wang}");
    // A contact added by a row is the one a later row names, even when a
    // primary in between had the file's contacts read again: that row is
    // refused (each contact once an import) and nothing is written twice.
    let again = "customer_external_id,contact_external_id,name,title,mobile,is_primary\n\
                 ERP-002,C-5,孙七,,13901086631,\n\
                 ERP-002,C-6,周八,,13901086632,是\n\
                 ERP-002,C-5,孙七,经理,,\n";
    assert_eq!(
        faults(&s.import_contacts_csv(&am, again, true).json),
        [(
            3,
            "contact_external_id".to_owned(),
            "duplicate_row".to_owned()
        )]
    );
    assert_eq!(
        contacts(&s, &am, &cement).len(),
        2,
        "a dry run writes nothing"
    );
    let done = s.import_contacts_csv(&am, &again.replace(",经理,,", ",经理,13901086631,"), false);
    assert_eq!(done.status, 422, "{}", done.text);
    assert_eq!(contacts(&s, &am, &cement).len(), 2, "all or nothing");
}

#[test]
fn r_cus_02_a_contacts_import_names_every_bad_row_and_writes_nothing() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let steel = erp_file(&s, &am, "北京坏行钢铁有限公司", "ERP-101");
    let cement = erp_file(&s, &am, "北京坏行水泥有限公司", "ERP-102");
    s.add_contact(
        &am,
        &steel,
        json!({"name": "王芳", "phone": "010-1111 2222"}),
    );
    s.add_contact(
        &am,
        &steel,
        json!({"name": "王芳", "phone": "010-1111 3333"}),
    );
    s.add_contact(
        &am,
        &steel,
        json!({"name": "赵敏", "phone": "010-1111 4444"}),
    );
    let gone_id = s.add_contact(
        &am,
        &cement,
        json!({"name": "钱进", "phone": "010-2222 1111", "external_id": "C-9"}),
    );
    let removed = s.call(
        "DELETE",
        &format!("/api/v1/customers/{cement}/contacts/{gone_id}"),
        Some(&am),
        None,
        &[("if-match", "\"1\"")],
    );
    assert_eq!(removed.status, 204, "{}", removed.text);
    let cement_code = s.get(&format!("/api/v1/customers/{cement}"), &am).json["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let csv = format!(
        "customer_external_id,customer_code,contact_external_id,name,phone,mobile,is_primary\n\
         ERP-404,,,孙丽,010-5555 6666,,\n\
         ERP-101,,,王芳,,,\n\
         ERP-102,,C-9,钱进,,,\n\
         ERP-101,,,赵敏,,,\n\
         ERP-101,,N-1,周杰,010-7777 8888,,1\n\
         ERP-101,,N-2,吴昊,010-7777 9999,,1\n\
         ERP-101,,N-1,周杰,010-7777 8888,,\n\
         ERP-101,{cement_code},,郑爽,010-1234 5678,,\n\
         ERP-101,,,  ,,12,maybe\n\
         ERP-102,,N-5,冯刚,010-6666 7777,,\n"
    );
    let audit_before = s.audit_count();
    let dry = s.import_contacts_csv(&am, &csv, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    let expected: Vec<(u64, String, String)> = [
        (1, "customer_external_id", "customer_not_found"),
        (2, "name", "ambiguous_contact"),
        (3, "contact_external_id", "contact_removed"),
        // 赵敏 keeps no way to be reached: the phone is cleared.
        (4, "phone", "required"),
        (6, "is_primary", "several_primary"),
        (7, "contact_external_id", "duplicate_row"),
        (8, "customer_code", "customer_mismatch"),
        (9, "name", "required"),
        (9, "mobile", "invalid_mobile"),
        (9, "is_primary", "invalid_boolean"),
    ]
    .iter()
    .map(|(r, f, c)| (*r, (*f).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(faults(&dry.json), expected, "{}", dry.text);
    assert_eq!(dry.json["rows"], 10);

    // A commit of it is refused whole: the good rows are not written either.
    let refused = s.import_contacts_csv(&am, &csv, false);
    refused.assert_problem(422, "import_rejected");
    assert_eq!(faults(&refused.json["report"]), expected);
    assert_eq!(contacts(&s, &am, &steel).len(), 3);
    assert!(contacts(&s, &am, &cement).is_empty());
    assert_eq!(s.audit_count(), audit_before);

    // Rows before a refused one are not refused with it: the rows a
    // refusal rolls back run again (on PostgreSQL, where rows run a
    // hundred at once) as if the first run had not been.
    let late = "customer_external_id,contact_external_id,name,phone,is_primary\n\
                ERP-102,N-7,陈晨,010-3333 4444,是\n\
                ERP-101,,赵敏,010-1111 5555,\n\
                ERP-101,,王芳,010-1111 6666,\n";
    let once = s.import_contacts_csv(&am, late, true);
    assert_eq!(
        faults(&once.json),
        [(3, "name".to_owned(), "ambiguous_contact".to_owned())],
        "{}",
        once.text
    );

    // In Chinese when asked.
    let zh = s.raw(
        "POST",
        "/api/v1/customers/contacts/import",
        &[
            ("authorization", &format!("Bearer {am}")),
            ("accept-language", "zh-CN"),
        ],
        Some(("text/csv", csv.as_bytes())),
    );
    let message = zh.json["errors"][1]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("档案中有多个联系人"), "{message}");

    // A wrong header names its columns, whatever the rows hold.
    let header = s.import_contacts_csv(&am, "customer_code,name,Name,fax\nX,甲,乙,1\n", true);
    header.assert_problem(422, "import_rejected");
    assert_eq!(
        faults(&header.json["report"]),
        [
            (0, "name".to_owned(), "duplicate_column".to_owned()),
            (0, "fax".to_owned(), "unknown_column".to_owned())
        ]
    );
    let no_file = s.import_contacts_csv(&am, "name,phone\n甲,010-1234 5678\n", true);
    assert_eq!(
        faults(&no_file.json["report"]),
        [(
            0,
            "customer_external_id".to_owned(),
            "missing_column".to_owned()
        )]
    );
    // Only CSV.
    let json_body = s.post(
        "/api/v1/customers/contacts/import",
        &am,
        &json!({"name": "甲"}),
    );
    json_body.assert_problem(415, "unsupported_media_type");
    // Reading files is not importing into them.
    s.import_contacts_csv(&s.token("demo.auditor"), &csv, true)
        .assert_problem(403, "forbidden");
}

#[test]
fn r_cus_02_an_erp_id_names_one_contact_of_a_file() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let file = s.private_file(&am, "北京外码钢铁有限公司");
    let path = format!("/api/v1/customers/{file}/contacts");
    let first = s.post(
        &path,
        &am,
        &json!({"name": "甲", "phone": "010-1234 5678", "external_id": "K-1"}),
    );
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.json["external_id"], "K-1");
    s.post(
        &path,
        &am,
        &json!({"name": "乙", "phone": "010-1234 5679", "external_id": "K-1"}),
    )
    .assert_refused_on(
        409,
        "duplicate_external_id",
        "external_id",
        "duplicate_external_id",
    );
    // Another file may hold it: ERP ids are kept a file.
    let other = s.private_file(&am, "北京外码水泥有限公司");
    let there = s.post(
        &format!("/api/v1/customers/{other}/contacts"),
        &am,
        &json!({"name": "乙", "phone": "010-1234 5679", "external_id": "K-1"}),
    );
    assert_eq!(there.status, 201, "{}", there.text);
    // A contact keeps a way to be reached, and a name to show.
    let id = first.json["id"].as_str().unwrap_or_default();
    let one = format!("{path}/{id}");
    s.patch(&one, &am, "\"1\"", &json!({"phone": null}))
        .assert_refused_on(422, "validation_failed", "phone", "required");
    s.patch(&one, &am, "\"1\"", &json!({"name": "  "}))
        .assert_refused_on(422, "validation_failed", "name", "required");
    s.post(
        &path,
        &am,
        &json!({"name": "\u{3000}", "phone": "010-1234 5670"}),
    )
    .assert_refused_on(422, "validation_failed", "name", "required");
    let still = s.get(&one, &am);
    assert_eq!(still.json["version"], 1);
    assert_eq!(still.json["phone"], "010-1234 5678");
    // Cleared, the ERP id is free again.
    let cleared = s.patch(&one, &am, "\"1\"", &json!({"external_id": null}));
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    let second = s.post(
        &path,
        &am,
        &json!({"name": "乙", "phone": "010-1234 5679", "external_id": "K-1"}),
    );
    assert_eq!(second.status, 201, "{}", second.text);
    // A revert is a change like any other (CUS-04): it may not take an ERP
    // id back from the contact now holding it, nor the last way to reach.
    let revert =
        |field: &str, etag: &str| s.revert(&am, &file, &s.change_of(&am, &file, id, field), etag);
    revert("external_id", "\"2\"").assert_refused_on(
        409,
        "duplicate_external_id",
        "external_id",
        "duplicate_external_id",
    );
    let mailed = s.patch(&one, &am, "\"2\"", &json!({"email": "jia@example.com"}));
    assert_eq!(mailed.status, 200, "{}", mailed.text);
    let unphoned = s.patch(&one, &am, "\"3\"", &json!({"phone": null}));
    assert_eq!(unphoned.status, 200, "{}", unphoned.text);
    revert("email", "\"4\"").assert_refused_on(422, "validation_failed", "phone", "required");
    assert_eq!(s.get(&one, &am).json["email"], "jia@example.com");
}

#[test]
fn r_cus_08_contacts_are_exported_registered_and_import_back() {
    let s = TestServer::start();
    let (am, mgr, admin) = (
        s.token("demo.am.bj"),
        s.token("demo.manager.bj"),
        s.token("demo.admin"),
    );
    let file = erp_file(&s, &am, "北京往返钢铁有限公司", "ERP-301");
    let path = format!("/api/v1/customers/{file}/contacts");
    for body in [
        json!({"name": "张伟", "mobile": "13901086621", "is_primary": true, "external_id": "C-1"}),
        json!({"name": "李娜", "phone": "010-6123 0001", "title": "会计"}),
        json!({"name": "钱进", "phone": "010-6123 0002"}),
    ] {
        assert_eq!(s.post(&path, &am, &body).status, 201);
    }
    let gone = named(&contacts(&s, &am, &file), "钱进")["id"].clone();
    let removed = s.call(
        "DELETE",
        &format!("{path}/{}", gone.as_str().unwrap_or_default()),
        Some(&am),
        None,
        &[("if-match", "\"1\"")],
    );
    assert_eq!(removed.status, 204);
    let url = "/api/v1/customers/contacts/export?name=往返钢铁";
    // Only the roles that take files out of the archive.
    s.get(url, &am).assert_problem(403, "forbidden");
    let out = s.get(url, &mgr);
    assert_eq!(out.status, 200, "{}", out.text);
    assert_eq!(out.header("content-type"), Some("text/csv; charset=utf-8"));
    let rows = out.csv_rows();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        ["张伟", "李娜"],
        "the primary first; removed ones not"
    );
    assert_eq!(rows[0]["customer_id"], file);
    assert_eq!(rows[0]["customer_external_id"], "ERP-301");
    assert_eq!(rows[0]["contact_external_id"], "C-1");
    assert_eq!(rows[0]["is_primary"], "true");
    assert_eq!(rows[1]["version"], "1");
    // Registered as an export of the file (CUS-08).
    let log = s.get(
        &format!("/api/v1/customers/{file}/access-log?limit=200"),
        &admin,
    );
    assert!(
        log.json["items"].as_array().is_some_and(|a| a
            .iter()
            .any(|e| e["action"] == "export" && e["detail"] == "contacts csv")),
        "{}",
        log.text
    );
    // NDJSON: each contact as the API shows it, with its file's code.
    let lines = s.get(&format!("{url}&format=ndjson"), &mgr);
    assert_eq!(lines.status, 200, "{}", lines.text);
    let first: Value =
        serde_json::from_str(lines.text.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(first["name"], "张伟");
    assert_eq!(first["customer_external_id"], "ERP-301");
    assert!(first["customer_code"]
        .as_str()
        .is_some_and(|c| !c.is_empty()));

    // Edited in a spreadsheet and imported back: 李娜 renamed is still 李娜,
    // named by her id.
    let original = out.text.clone();
    let edited = original.replace(",李娜,会计,", ",李娜娜,财务主管,");
    assert_ne!(edited, original);
    assert_eq!(
        counts(&s.import_contacts_csv(&mgr, &edited, false)),
        (0, 1, 1)
    );
    let now = contacts(&s, &am, &file);
    assert_eq!(now.len(), 2);
    assert_eq!(named(&now, "李娜娜")["title"], "财务主管");
    assert_eq!(named(&now, "李娜娜")["id"], json!(rows[1]["contact_id"]));
    // The first export again would undo that change: refused, nothing written.
    let stale = s.import_contacts_csv(&mgr, &original, true);
    assert_eq!(
        faults(&stale.json),
        [(2, "version".to_owned(), "changed_since_export".to_owned())],
        "{}",
        stale.text
    );
    // An id that is not the file's contact, or a removed one.
    let other = s.private_file(&am, "北京往返水泥有限公司");
    let wrong = format!(
        "customer_id,contact_id,name,phone\n{other},{},张伟,010-1\n{file},{},钱进,010-2\n",
        rows[0]["contact_id"],
        gone.as_str().unwrap_or_default()
    );
    let refused = s.import_contacts_csv(&mgr, &wrong, true);
    assert_eq!(
        faults(&refused.json),
        [
            (1, "contact_id".to_owned(), "contact_not_found".to_owned()),
            (2, "contact_id".to_owned(), "contact_removed".to_owned())
        ],
        "{}",
        refused.text
    );
}
