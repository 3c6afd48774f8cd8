//! ERP exchange: export (CSV, NDJSON) and CSV import with dry run and
//! all-or-nothing commit, upserting by external id.

use clientele_e2e::{Resp, TestServer};
use serde_json::json;
use std::sync::mpsc;

/// The CSV export carries a file's CUS-02 contents (characteristics,
/// business and transaction status) after the original columns, with the
/// financial ones empty for roles that may not see them.
#[test]
fn r_cus_02_csv_export_carries_the_file_contents() {
    let s = TestServer::start();
    let mgr = s.token("demo.manager.bj");
    let made = s.post(
        "/api/v1/customers",
        &mgr,
        &json!({"name": "北京导出内容有限公司", "nature": "private",
                "owner_unit_id": s.unit_id("BJ-P1"), "business_policy": "稳健",
                "attitude_to_us": "友好", "credit_standing": "AA",
                "credit_problems": "曾逾期一次"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let row_of = |token: &str| {
        let csv = s.get("/api/v1/customers/export?format=csv&name=导出内容", token);
        assert_eq!(csv.status, 200, "{}", csv.text);
        csv.csv_rows().remove(0)
    };
    let as_manager = row_of(&mgr);
    assert_eq!(as_manager["business_policy"], "稳健");
    assert_eq!(as_manager["attitude_to_us"], "友好");
    assert_eq!(as_manager["credit_standing"], "AA");
    assert_eq!(as_manager["credit_problems"], "曾逾期一次");
    assert_eq!(as_manager["vulnerable"], "false");
    // A service agent reads the file in the archive, without its financial
    // fields, and does not take it out (CUS-08).
    let agent = s.token("demo.agent");
    s.get("/api/v1/customers/export?format=csv&name=导出内容", &agent)
        .assert_problem(403, "forbidden");
    let listed = s.get("/api/v1/customers?name=导出内容", &agent);
    assert_eq!(listed.status, 200, "{}", listed.text);
    let item = &listed.json["items"][0];
    assert_eq!(item["business_policy"], "稳健");
    assert!(item["credit_standing"].is_null(), "{item}");
    assert!(item["credit_problems"].is_null(), "{item}");
}

/// The CSV import takes the same CUS-02 contents as the export gives:
/// characteristics, business and transaction status, each checked like the
/// API checks it.
#[test]
fn r_cus_02_csv_import_carries_the_file_contents() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let long = "长".repeat(2001);
    let bad = format!(
        "external_id,name,nature,sales_history,vulnerable,customer_type\n\
         ERP-C1,北京内容导入有限公司,private,{long},perhaps,reseller\n"
    );
    let dry = s.import_csv(&am, &bad, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    let fields: Vec<(String, String)> = dry.json["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        fields.contains(&("sales_history".into(), "too_long".into()))
            && fields.contains(&("vulnerable".into(), "invalid_format".into()))
            && fields.contains(&("customer_type".into(), "unknown_value".into())),
        "{fields:?}"
    );
    let good = "external_id,name,nature,business_policy,sales_history,attitude_to_us,\
                competitor_relations,service_area,sales_capacity,potential,\
                credit_standing,trading_terms,credit_problems,vulnerable,customer_type\n\
                ERP-C1,北京内容导入有限公司,private,稳健经营,十年往来,友好,\
                与乙公司合作,华北,年销千万,大,AA,月结30天,曾逾期一次,true,distributor\n";
    let made = s.import_csv(&am, good, false);
    assert_eq!(made.json["created"], 1, "{}", made.text);
    let listed = s.get("/api/v1/customers?external_id=ERP-C1", &am);
    let file = &listed.json["items"][0];
    for (field, value) in [
        ("business_policy", "稳健经营"),
        ("sales_history", "十年往来"),
        ("attitude_to_us", "友好"),
        ("competitor_relations", "与乙公司合作"),
        ("service_area", "华北"),
        ("sales_capacity", "年销千万"),
        ("potential", "大"),
        ("credit_standing", "AA"),
        ("trading_terms", "月结30天"),
        ("credit_problems", "曾逾期一次"),
    ] {
        assert_eq!(file[field], value, "{field}: {file}");
    }
    assert_eq!(file["vulnerable"], true);
    assert_eq!(file["customer_type"], "distributor");
    // An empty cell clears the field; the change is in the history.
    let cleared = s.import_csv(
        &am,
        "external_id,name,credit_problems,vulnerable\nERP-C1,北京内容导入有限公司,,false\n",
        false,
    );
    assert_eq!(cleared.json["updated"], 1, "{}", cleared.text);
    let id = file["id"].as_str().unwrap_or_default();
    let after = s.get(&format!("/api/v1/customers/{id}"), &am);
    assert_eq!(after.json["credit_problems"], serde_json::Value::Null);
    assert_eq!(after.json["vulnerable"], false);
    let history = s.get(&format!("/api/v1/customers/{id}/history"), &am);
    assert!(
        history.json["items"].as_array().is_some_and(|h| h
            .iter()
            .any(|e| e["field"] == "credit_problems" && e["old_value"] == "曾逾期一次")),
        "{}",
        history.text
    );
}

/// A CSV saved by Excel on Chinese Windows is GBK: imported when the type
/// says so, refused with the way to send it when it does not.
#[test]
fn erp_import_reads_a_gbk_csv_from_excel() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let auth = format!("Bearer {am}");
    let text =
        "external_id,name,nature,industry\r\nGBK-1,北京国标编码导入有限公司,private,批发零售\r\n";
    let gbk = encoding_rs::GBK.encode(text).0;
    let send = |content_type: &str| {
        s.raw(
            "POST",
            "/api/v1/customers/import?dry_run=false",
            &[("authorization", &auth)],
            Some((content_type, &gbk)),
        )
    };
    let before = s.audit_count();
    let undeclared = send("text/csv");
    undeclared.assert_problem(400, "invalid_encoding");
    assert!(
        undeclared.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("charset=gb18030")),
        "{}",
        undeclared.text
    );
    send("text/csv; charset=big5").assert_problem(400, "unsupported_charset");
    assert_eq!(s.audit_count(), before, "a refused import changes nothing");
    let imported = send("text/csv; charset=GBK");
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert_eq!(imported.json["created"], 1, "{}", imported.text);
    // A Chinese client reads each row's fault in Chinese.
    let zh = s.raw(
        "POST",
        "/api/v1/customers/import?dry_run=true",
        &[("authorization", &auth), ("accept-language", "zh-CN")],
        Some((
            "text/csv",
            "external_id,name,nature\nGBK-2,北京中文报告有限公司,alien\n".as_bytes(),
        )),
    );
    assert_eq!(zh.status, 200, "{}", zh.text);
    assert!(
        zh.json["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("不认识的取值")),
        "{}",
        zh.text
    );
    let found = s.get("/api/v1/customers?name=国标编码导入", &am);
    assert_eq!(
        found.json["items"][0]["name"], "北京国标编码导入有限公司",
        "{}",
        found.text
    );
    assert_eq!(found.json["items"][0]["industry"], "批发零售");
}

#[test]
fn r_cus_08_exports_are_registered_and_safe() {
    let s = TestServer::start();
    let mgr = s.token("demo.manager.bj");
    let made = s.post(
        "/api/v1/customers",
        &mgr,
        &json!({"name": "=HYPERLINK(\"http://x\")有限公司", "nature": "private"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let csv = s.get("/api/v1/customers/export?format=csv", &mgr);
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("id,code,external_id,name,"));
    // Beijing's own files (5 demo + 1), plus shared files of other units (2).
    assert_eq!(lines.len() - 1, 8, "{}", csv.text);
    assert!(
        csv.text.contains("'=HYPERLINK"),
        "formula cells are neutralised"
    );
    let auditor = s.token("demo.auditor");
    let id = made.json["id"].as_str().unwrap_or_default();
    let reg = s.get(
        &format!("/api/v1/access-register?customer_id={id}&action=export"),
        &auditor,
    );
    assert_eq!(reg.json["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(reg.json["items"][0]["detail"], "csv");
    // One entry for the whole export, naming every file it carried.
    assert_eq!(
        reg.json["items"][0]["customer_ids"]
            .as_array()
            .map(Vec::len),
        Some(lines.len() - 1)
    );

    let nd = s.get(
        "/api/v1/customers/export?format=ndjson&limit=3&sort=name",
        &mgr,
    );
    assert_eq!(nd.status, 200);
    let rows: Vec<serde_json::Value> = nd
        .text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(rows.len(), 3);
    let next = nd.header("x-next-cursor").unwrap_or_default().to_owned();
    assert!(!next.is_empty());
    let rest = s.get(
        &format!("/api/v1/customers/export?format=ndjson&limit=100&sort=name&cursor={next}"),
        &mgr,
    );
    assert_eq!(rest.text.lines().count(), 5);
    // Files leave the archive only with permission (CUS-08): a service
    // agent and an account manager may list them, not export them; an
    // auditor may.
    for who in ["demo.agent", "demo.am.bj"] {
        s.get("/api/v1/customers/export?format=ndjson", &s.token(who))
            .assert_problem(403, "forbidden");
        // A refused export takes nothing out, so registers nothing.
        let refused = s.get(
            &format!(
                "/api/v1/access-register?actor_id={}&action=export",
                s.user_id(who)
            ),
            &auditor,
        );
        assert_eq!(refused.status, 200, "{}", refused.text);
        assert_eq!(refused.json["items"].as_array().map(Vec::len), Some(0));
    }
    let audited = s.get(
        "/api/v1/customers/export?format=ndjson&limit=3&sort=name",
        &s.token("demo.auditor"),
    );
    assert_eq!(audited.status, 200, "{}", audited.text);
    assert_eq!(audited.text.lines().count(), 3);
    s.get("/api/v1/customers/export?format=xml", &mgr)
        .assert_problem(400, "invalid_query");
    s.get("/api/v1/customers/export?limit=10001", &mgr)
        .assert_problem(400, "invalid_query");
}

#[test]
fn erp_import_dry_run_then_commit_all_or_nothing() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let before = s.audit_count();
    let bad = "external_id,name,nature,credit_code,region_code,status,colour\n\
               ERP-1,北京导入一有限公司,private,,110105,active,red\n";
    let r = s.import_csv(&am, bad, true);
    r.assert_problem(422, "import_rejected");
    assert_eq!(r.json["report"]["errors"][0]["code"], "unknown_column");
    let rows = "external_id,name,nature,credit_code,region_code,status,tags\n\
                ERP-1,北京导入一有限公司,private,,110105,active,重点;vip\n\
                ERP-2,北京导入二有限公司,alien,91440300708461136U,990000,active,\n\
                ERP-2,北京导入三有限公司,private,,,prospect,\n\
                ERP-4,北京导入四有限公司,private,,,active,\"重点,vip\"\n";
    let dry = s.import_csv(&am, rows, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    let errors = dry.json["errors"].as_array().cloned().unwrap_or_default();
    // Tags listed with commas, as a spreadsheet lists: the fault says how.
    let commas = errors
        .iter()
        .find(|e| e["row"] == 4 && e["field"] == "tags");
    assert!(
        commas.is_some_and(|e| e["message"].as_str().unwrap_or("").contains("(a;b)")),
        "{}",
        dry.text
    );
    let found: Vec<(u64, String)> = errors
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or(0),
                e["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        found.contains(&(2, "nature".into()))
            && found.contains(&(2, "credit_code".into()))
            && found.contains(&(2, "region_code".into()))
    );
    assert!(found.contains(&(3, "external_id".into())), "{found:?}");
    // Committing the same file writes nothing.
    let refused = s.import_csv(&am, rows, false);
    refused.assert_problem(422, "import_rejected");
    assert!(refused.json["report"]["errors"]
        .as_array()
        .is_some_and(|e| e.len() >= 4));
    assert_eq!(s.audit_count(), before);
    // A clean file: dry run counts, commit writes, a repeat changes nothing.
    let good = "external_id,name,nature,region_code,tags\n\
                ERP-10,北京导入十有限公司,private,110105,重点\n\
                ERP-11,北京导入十一有限公司,state_owned,110106,\n";
    let d = s.import_csv(&am, good, true);
    assert_eq!(
        (d.json["created"].as_u64(), d.json["dry_run"].as_bool()),
        (Some(2), Some(true)),
        "{}",
        d.text
    );
    assert_eq!(s.audit_count(), before, "a dry run writes nothing");
    let c = s.import_csv(&am, good, false);
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(c.json["created"], 2);
    let again = s.import_csv(&am, good, false);
    assert_eq!(
        (
            again.json["created"].as_u64(),
            again.json["unchanged"].as_u64()
        ),
        (Some(0), Some(2)),
        "{}",
        again.text
    );
    // Upsert by external id: the ERP renames one file.
    let renamed = "external_id,name\nERP-10,北京导入十（更名）有限公司\n";
    let u = s.import_csv(&am, renamed, false);
    assert_eq!(u.json["updated"], 1, "{}", u.text);
    let listed = s.get("/api/v1/customers?external_id=ERP-10", &am);
    assert_eq!(
        listed.json["items"][0]["name"],
        "北京导入十（更名）有限公司"
    );
    // A row that breaks a rule inside the transaction rolls back the whole file.
    let sh_code = "external_id,name,nature,owner_unit_code\nERP-20,北京导入二十有限公司,private,\nERP-21,越权导入有限公司,private,SH\n";
    let mid = s.import_csv(&am, sh_code, false);
    mid.assert_problem(422, "import_rejected");
    assert_eq!(mid.json["report"]["errors"][0]["row"], 2);
    assert_eq!(mid.json["report"]["errors"][0]["code"], "unit_out_of_scope");
    assert_eq!(
        s.get("/api/v1/customers?external_id=ERP-20", &am).json["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    // Wrong media type, broken CSV.
    let auth = format!("Bearer {am}");
    s.raw(
        "POST",
        "/api/v1/customers/import",
        &[("authorization", &auth)],
        Some(("application/json", b"{}")),
    )
    .assert_problem(415, "unsupported_media_type");
    s.import_csv(&am, "external_id,name\n\"ERP-1,x\n", true)
        .assert_problem(422, "malformed_csv");
    s.import_csv(&s.token("demo.agent"), good, true)
        .assert_problem(403, "forbidden");
}

/// Rows that pass their own checks but cannot be written (a unit out of
/// scope or unknown, a level above the caller's clearance, a credit code an
/// earlier row of the same import took) are all named, beside a row whose
/// own field is wrong (an empty nature), by a dry run and by a refused
/// commit alike; the rows between them are still tried, and a refused
/// commit writes nothing.
#[test]
fn erp_import_names_every_row_that_cannot_be_written() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let before = s.audit_count();
    let rows = "external_id,name,nature,owner_unit_code,secrecy_level,credit_code\n\
                ERP-30,北京导入三十有限公司,private,,,\n\
                ERP-31,越权导入有限公司,private,SH,,\n\
                ERP-32,无名单位导入有限公司,private,NOPE,,\n\
                ERP-33,北京导入三十三有限公司,private,,A,\n\
                ERP-34,北京导入三十四有限公司,private,,,91440300708461136T\n\
                ERP-35,北京导入三十五有限公司,private,,,91440300708461136T\n\
                ERP-36,北京导入三十六有限公司,,,,\n\
                ERP-37,北京导入三十七有限公司,state_owned,,,\n";
    let named = |errors: &serde_json::Value| -> Vec<(u64, String, String)> {
        errors
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap_or(0),
                    e["field"].as_str().unwrap_or("").to_owned(),
                    e["code"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    // Each named by its CSV column: the unit by its code.
    let expected: Vec<(u64, String, String)> = [
        (2, "owner_unit_code", "unit_out_of_scope"),
        (3, "owner_unit_code", "unit_not_found"),
        (4, "secrecy_level", "secrecy_above_clearance"),
        (6, "credit_code", "duplicate"),
        (7, "nature", "unknown_value"),
    ]
    .into_iter()
    .map(|(r, f, c)| (r, f.to_owned(), c.to_owned()))
    .collect();
    let dry = s.import_csv(&am, rows, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(named(&dry.json["errors"]), expected, "{}", dry.text);
    let refused = s.import_csv(&am, rows, false);
    refused.assert_problem(422, "import_rejected");
    assert_eq!(named(&refused.json["report"]["errors"]), expected);
    assert_eq!(s.audit_count(), before, "nothing was written");
    for id in ["ERP-30", "ERP-34", "ERP-37"] {
        let r = s.get(&format!("/api/v1/customers?external_id={id}"), &am);
        assert_eq!(r.json["items"], json!([]), "{id}: {}", r.text);
    }
}

/// An import of more new files than one statement writes (PostgreSQL runs
/// 100 rows at once and writes their new rows in one statement) creates
/// them all, also among rows that change existing files; faults in several
/// such runs are all named, in file order, as row by row; and two new rows
/// with one credit code are named, though the database refuses them
/// together.
#[test]
fn erp_import_of_many_new_files_names_a_credit_code_met_twice() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let before = s.audit_count();
    let new_rows = |prefix: &str, n: usize| -> String {
        (0..n)
            .map(|i| format!("{prefix}-{i:04},批量导入{prefix}{i:04}号有限公司,private,\n"))
            .collect()
    };
    let header = "external_id,name,nature,address\n";
    let first = format!("{header}{}", new_rows("MANY", 1200));
    let dry = s.import_csv(&am, &first, true);
    assert_eq!(dry.json["created"].as_u64(), Some(1200), "{}", dry.text);
    assert_eq!(s.audit_count(), before, "a dry run writes nothing");
    let made = s.import_csv(&am, &first, false);
    assert_eq!(made.json["created"].as_u64(), Some(1200), "{}", made.text);
    let second = format!(
        "{header}MANY-0007,批量导入七号改名有限公司,private,北京市东城区一号\n{}\
         MANY-1150,批量导入一一五〇改名有限公司,private,北京市东城区二号\n",
        new_rows("MORE", 600)
    );
    for dry_run in [true, false] {
        let before = s.audit_count();
        let r = s.import_csv(&am, &second, dry_run);
        assert_eq!(
            (r.json["created"].as_u64(), r.json["updated"].as_u64()),
            (Some(600), Some(2)),
            "{}",
            r.text
        );
        assert_eq!(r.json["errors"], json!([]), "{}", r.text);
        // One audit entry a file created or changed, none for a dry run.
        let written = if dry_run { 0 } else { 602 };
        assert_eq!(s.audit_count() - before, written, "dry run: {dry_run}");
    }
    // A changed file's history names each changed field, and it has its
    // event, as a change by hand would.
    let changed = s.get("/api/v1/customers?external_id=MANY-0007", &am).json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let history = s.get(&format!("/api/v1/customers/{changed}/history"), &am);
    let entries = history.json["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let entry = |field: &str| entries.iter().find(|e| e["field"] == field).cloned();
    assert_eq!(
        entry("address").map(|e| (e["old_value"].clone(), e["new_value"].clone())),
        Some((json!(null), json!("北京市东城区一号"))),
        "{}",
        history.text
    );
    assert_eq!(
        entry("name").map(|e| e["new_value"].clone()),
        Some(json!("批量导入七号改名有限公司")),
        "{}",
        history.text
    );
    assert_eq!(
        s.customer_event_topics(&changed),
        ["customer.created", "customer.imported"]
    );
    for (id, name, address) in [
        ("MANY-0000", "批量导入MANY0000号有限公司", json!(null)),
        (
            "MANY-0007",
            "批量导入七号改名有限公司",
            json!("北京市东城区一号"),
        ),
        (
            "MANY-1150",
            "批量导入一一五〇改名有限公司",
            json!("北京市东城区二号"),
        ),
        ("MANY-1199", "批量导入MANY1199号有限公司", json!(null)),
        ("MORE-0599", "批量导入MORE0599号有限公司", json!(null)),
    ] {
        let r = s.get(&format!("/api/v1/customers?external_id={id}"), &am);
        assert_eq!(r.json["items"][0]["name"], name, "{id}: {}", r.text);
        assert_eq!(r.json["items"][0]["address"], address, "{id}: {}", r.text);
    }

    // Faults in several runs of rows (PostgreSQL runs 100 rows at once and
    // a run with a bad row again row by row): an unknown unit in two runs,
    // and two credit codes each met in one run and again in a later one.
    let code = |first16: &str| {
        clientele_customers::credit_code::CreditCode::complete(first16)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .to_string()
    };
    let (a, b) = (code("9111010571234567"), code("9111010576543210"));
    let mut faulty = String::from("external_id,name,nature,owner_unit_code,credit_code\n");
    for i in 1..=1200 {
        let unit = if i == 3 || i == 700 { "NOPE" } else { "" };
        let credit = match i {
            400 | 900 => a.as_str(),
            1000 | 1100 => b.as_str(),
            _ => "",
        };
        faulty.push_str(&format!(
            "FAULT-{i:04},多处出错导入{i:04}号有限公司,private,{unit},{credit}\n"
        ));
    }
    let before = s.audit_count();
    for dry_run in [true, false] {
        let r = s.import_csv(&am, &faulty, dry_run);
        let report = if dry_run { &r.json } else { &r.json["report"] };
        let named: Vec<(u64, &str)> = report["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (
                    e["row"].as_u64().unwrap_or(0),
                    e["code"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                (3, "unit_not_found"),
                (700, "unit_not_found"),
                (900, "duplicate"),
                (1100, "duplicate")
            ],
            "{}",
            r.text
        );
    }
    assert_eq!(s.audit_count(), before, "nothing was written");

    let twice = "external_id,name,nature,credit_code\n\
                 TWICE-1,同码导入一有限公司,private,91440300708461136T\n\
                 TWICE-2,同码导入二有限公司,private,\n\
                 TWICE-3,同码导入三有限公司,private,91440300708461136T\n";
    let before = s.audit_count();
    for dry_run in [true, false] {
        let r = s.import_csv(&am, twice, dry_run);
        let report = if dry_run { &r.json } else { &r.json["report"] };
        let errors = report["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 1, "{}", r.text);
        assert_eq!(
            (errors[0]["row"].as_u64(), errors[0]["code"].as_str()),
            (Some(3), Some("duplicate")),
            "{}",
            r.text
        );
    }
    assert_eq!(s.audit_count(), before, "nothing was written");
}

/// A CSV import may be larger than other request bodies, up to its own
/// limit (the test server: 64 KiB for bodies, 256 KiB for imports); above it
/// the answer is 413 and nothing is written, with or without an
/// `Idempotency-Key`.
#[test]
fn csv_imports_have_their_own_body_limit() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let csv = |rows: usize| {
        let mut out = String::from("external_id,name,nature,address\n");
        for i in 0..rows {
            out.push_str(&format!(
                "BIG-{i:05},大批导入{i:05}号贸易有限公司,private,{}\n",
                "北京市朝阳区建国路八十八号".repeat(10)
            ));
        }
        out
    };
    let within = csv(300);
    assert!(
        within.len() > 64 * 1024 && within.len() < 256 * 1024,
        "{}",
        within.len()
    );
    let dry = s.import_csv(&am, &within, true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.json["rows"], 300, "{}", dry.text);
    let auth = format!("Bearer {am}");
    let keyed = |body: &str| {
        s.raw(
            "POST",
            "/api/v1/customers/import?dry_run=false",
            &[
                ("authorization", &auth),
                ("idempotency-key", "big-import-1"),
            ],
            Some(("text/csv", body.as_bytes())),
        )
    };
    let made = keyed(&within);
    assert_eq!(made.status, 200, "{}", made.text);
    assert_eq!(made.json["created"], 300, "{}", made.text);

    let beyond = csv(800);
    assert!(beyond.len() > 256 * 1024, "{}", beyond.len());
    for r in [s.import_csv(&am, &beyond, false), keyed(&beyond)] {
        assert_eq!(r.status, 413, "{}", r.text);
        assert_eq!(r.json["code"], "payload_too_large", "{}", r.text);
    }
    let last = s.get("/api/v1/customers?external_id=BIG-00799", &am);
    assert_eq!(last.json["items"], json!([]), "{}", last.text);
    let first = s.get("/api/v1/customers?external_id=BIG-00000", &am);
    assert_eq!(first.json["items"].as_array().map(Vec::len), Some(1));
    // So may a contacts import, keyed or not.
    let mut contacts = String::from("customer_external_id,name,phone,note\n");
    for i in 0..300 {
        contacts.push_str(&format!(
            "BIG-{i:05},联系人{i:05},010-6123 {:04},{}\n",
            i,
            "负责采购与对账".repeat(12)
        ));
    }
    assert!(contacts.len() > 64 * 1024, "{}", contacts.len());
    let keyed_contacts = s.raw(
        "POST",
        "/api/v1/customers/contacts/import?dry_run=true",
        &[
            ("authorization", &auth),
            ("idempotency-key", "big-contacts-1"),
        ],
        Some(("text/csv", contacts.as_bytes())),
    );
    assert_eq!(keyed_contacts.status, 200, "{}", keyed_contacts.text);
    assert_eq!(
        keyed_contacts.json["created"], 300,
        "{}",
        keyed_contacts.text
    );
    // Other bodies keep the smaller limit.
    let name = "大".repeat(30_000);
    let r = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": name, "nature": "private"}),
    );
    assert_eq!(r.status, 413, "{}", r.text);
}

/// An import hands out customer codes in order from the same counter as
/// single creates, and leaves the counter past them; a dry run takes none.
#[test]
fn erp_import_takes_codes_in_order_from_the_counter() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let code_of = |file: &serde_json::Value| -> u64 {
        file["code"]
            .as_str()
            .and_then(|c| c.strip_prefix("KH"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no code: {file}"))
    };
    let first = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "编码之前有限公司", "nature": "private"}),
    );
    assert_eq!(first.status, 201, "{}", first.text);
    let csv = "external_id,name,nature\n\
               CODE-1,编码导入一有限公司,private\n\
               CODE-2,编码导入二有限公司,private\n\
               CODE-3,编码导入三有限公司,private\n";
    assert_eq!(s.import_csv(&am, csv, true).json["created"], 3);
    // A commit refused for a row's own fault is rolled back: it uses no code.
    let refused = s.import_csv(
        &am,
        &format!("{csv}CODE-4,编码导入四有限公司,bogus\n"),
        false,
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    let made = s.import_csv(&am, csv, false);
    assert_eq!(made.json["created"], 3, "{}", made.text);
    let a = code_of(&first.json);
    for (i, id) in ["CODE-1", "CODE-2", "CODE-3"].iter().enumerate() {
        let listed = s.get(&format!("/api/v1/customers?external_id={id}"), &am);
        assert_eq!(code_of(&listed.json["items"][0]), a + 1 + i as u64, "{id}");
    }
    let next = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "编码之后有限公司", "nature": "private"}),
    );
    assert_eq!(next.status, 201, "{}", next.text);
    assert_eq!(code_of(&next.json), a + 4);
}

/// A PostgreSQL session of the test's own beside the server's, to hold
/// locks while requests run.
struct PgSession(clientele_persistence::DbConn);

impl PgSession {
    fn open(s: &TestServer) -> Self {
        let target = clientele_persistence::connection::Target::parse(&s.database_url())
            .unwrap_or_else(|e| panic!("{e}"));
        Self(target.establish().unwrap_or_else(|e| panic!("{e}")))
    }

    /// A session whose open transaction has made a file of `external_id`
    /// (in the Beijing branch) and not committed it.
    fn holding_new_file(s: &TestServer, external_id: &str) -> Self {
        let mut session = Self::open(s);
        let unit = s.unit_id("BJ");
        session
            .run(&format!(
                "BEGIN; INSERT INTO customers (id, code, name, name_normalized, name_folded, \
                   nature, status, external_id, owner_unit_id, secrecy_level, created_at, updated_at) \
                 VALUES ('held', 'HELD0001', '占位有限公司', '占位', '占位有限公司', 'private', \
                   'active', '{external_id}', '{unit}', 'C', now(), now())"
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        session
    }

    fn run(&mut self, sql: &str) -> diesel::QueryResult<()> {
        use diesel::connection::SimpleConnection;
        match &mut self.0 {
            clientele_persistence::DbConn::Pg(pg) => pg.batch_execute(sql),
            clientele_persistence::DbConn::Sqlite(_) => unreachable!("a PostgreSQL session"),
        }
    }
}

/// Imports a file for each `(external id, name)` and answers their ids
/// with their external ids, in id order (the order writes lock files in).
fn imported_in_id_order(
    s: &TestServer,
    token: &str,
    files: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut csv = String::from("external_id,name,nature\n");
    for (ext, name) in files {
        csv.push_str(&format!("{ext},{name},private\n"));
    }
    let seeded = s.import_csv(token, &csv, false);
    assert_eq!(seeded.json["created"], files.len(), "{}", seeded.text);
    let mut ids: Vec<(String, String)> = files
        .iter()
        .map(|(ext, _)| {
            let listed = s.get(&format!("/api/v1/customers?external_id={ext}"), token);
            let id = listed.json["items"][0]["id"].as_str().unwrap_or_default();
            (id.to_owned(), (*ext).to_owned())
        })
        .collect();
    ids.sort();
    ids
}

/// Sends a request on a thread of `sc`; its answer arrives on the
/// receiver, so the test can see the request still waiting.
fn in_background<'scope>(
    sc: &'scope std::thread::Scope<'scope, '_>,
    request: impl FnOnce() -> Resp + Send + 'scope,
) -> mpsc::Receiver<Resp> {
    let (tx, rx) = mpsc::channel();
    sc.spawn(move || {
        let _ = tx.send(request());
    });
    rx
}

/// A dry run is rolled back, so its new files get provisional codes and it
/// takes no lock on the code counter: on PostgreSQL, while another
/// transaction holds the counter, a dry run still answers, and a commit
/// waits for it (which shows the hold is real).
#[test]
fn erp_dry_run_takes_no_lock_on_the_code_counter() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time: any import waits for it
    }
    let am = s.token("demo.am.bj");
    let csv = "external_id,name,nature\n\
               LOCK-1,计数锁一有限公司,private\n\
               LOCK-2,计数锁二有限公司,private\n";
    let mut holder = PgSession::open(&s);
    holder
        .run("BEGIN; UPDATE counters SET value = value WHERE name = 'customer_code'")
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let dry_rx = in_background(sc, move || s.import_csv(am, csv, true));
        let dry = dry_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| {
                let _ = holder.run("ROLLBACK");
                panic!("the dry run waited for the code counter")
            });
        assert_eq!(dry.status, 200, "{}", dry.text);
        assert_eq!(dry.json["created"], 2, "{}", dry.text);
        let commit_rx = in_background(sc, move || s.import_csv(am, csv, false));
        assert!(
            commit_rx.recv_timeout(Duration::from_millis(1500)).is_err(),
            "a commit must wait for the counter"
        );
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let made = commit_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(made.json["created"], 2, "{}", made.text);
    });
    // The dry run left no code behind: the files made carry counter codes.
    let listed = s.get("/api/v1/customers?name=计数锁", &am);
    assert_eq!(listed.json["items"].as_array().map(Vec::len), Some(2));
    for f in listed.json["items"].as_array().into_iter().flatten() {
        assert!(
            f["code"].as_str().is_some_and(|c| c.starts_with("KH")),
            "{f}"
        );
    }
}

/// On PostgreSQL an import holds each unit it files into from the moment
/// it reads it, a unit named by its code as much as the importer's own:
/// while another transaction is closing such a unit, the import waits for
/// it and then sees it closed (CUS-10: no file lands in a unit closed
/// meanwhile).
#[test]
fn r_cus_10_an_import_holds_the_units_it_names_by_code() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time: any import waits for it
    }
    let am = s.token("demo.am.bj");
    let csv = "external_id,name,nature,owner_unit_code\n\
               HOLD-1,单位锁导入一有限公司,private,BJ-P1\n";
    let mut closer = PgSession::open(&s);
    closer
        .run("BEGIN; UPDATE org_units SET active = false WHERE code = 'BJ-P1'")
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let rx = in_background(sc, move || s.import_csv(am, csv, false));
        let early = rx.recv_timeout(Duration::from_millis(1500));
        closer.run("COMMIT").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            early.is_err(),
            "the import did not wait for the unit: {early:?}"
        );
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        answer.assert_problem(422, "import_rejected");
        assert_eq!(
            answer.json["report"]["errors"][0]["code"], "unit_inactive",
            "{}",
            answer.text
        );
    });
    let listed = s.get("/api/v1/customers?external_id=HOLD-1", &am);
    assert_eq!(listed.json["items"], json!([]), "{}", listed.text);
}

/// On PostgreSQL a commit reserves its codes before it starts, so a file
/// made while an import runs does not wait for the import to end. The
/// import is held in the middle by an uncommitted file of one of its
/// external ids; a new file is made meanwhile, then the import goes on.
#[test]
fn erp_import_in_progress_does_not_hold_up_new_files() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time: a create waits for any import
    }
    let am = s.token("demo.am.bj");
    // An uncommitted file holding the import's second external id.
    let mut holder = PgSession::holding_new_file(&s, "HOLD-2");
    let csv = "external_id,name,nature\n\
               HOLD-1,进行中一有限公司,private\n\
               HOLD-2,进行中二有限公司,private\n\
               HOLD-3,进行中三有限公司,private\n";
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let import_rx = in_background(sc, move || s.import_csv(am, csv, false));
        // The import is under way and waits at its second row.
        assert!(
            import_rx.recv_timeout(Duration::from_millis(1500)).is_err(),
            "the import should wait for the uncommitted file"
        );
        let made_rx = in_background(sc, move || {
            s.post(
                "/api/v1/customers",
                am,
                &json!({"name": "导入期间新建有限公司", "nature": "private"}),
            )
        });
        let made = made_rx.recv_timeout(Duration::from_secs(10));
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let made = made.unwrap_or_else(|_| panic!("a new file waited for the import"));
        assert_eq!(made.status, 201, "{}", made.text);
        let imported = import_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imported.json["created"], 3, "{}", imported.text);
        // The file made meanwhile comes after the import's reserved codes.
        let listed = s.get("/api/v1/customers?name=进行中&sort=name", am);
        let codes: Vec<&str> = listed.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["code"].as_str())
            .collect();
        assert_eq!(codes.len(), 3, "{}", listed.text);
        let newest = made.json["code"].as_str().unwrap_or_default();
        assert!(codes.iter().all(|c| *c < newest), "{codes:?} < {newest}");
    });
}

/// An ERP that sends its import again (a timeout, a second scheduler)
/// while the first is still running gets an upsert, not a refusal: the
/// second import waits for the first and then finds its files, new and
/// changed, as its own. The first is held at its last row by an
/// uncommitted file of that external id, so the second surely starts
/// while the first has written files it has not committed.
#[test]
fn erp_the_same_import_sent_twice_at_once_upserts_both_times() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time: the second import waits for the first
    }
    let am = s.token("demo.am.bj");
    let seeded = s.import_csv(
        &am,
        "external_id,name,nature\nTWICE-1,两次导入一有限公司,private\n",
        false,
    );
    assert_eq!(seeded.json["created"], 1, "{}", seeded.text);
    let mut holder = PgSession::holding_new_file(&s, "TWICE-3");
    // A changed file, a new one, and the new one held up by the holder.
    let csv = "external_id,name,nature,industry\n\
               TWICE-1,两次导入一有限公司,private,批发零售\n\
               TWICE-2,两次导入二有限公司,private,批发零售\n\
               TWICE-3,两次导入三有限公司,private,批发零售\n";
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let send = |dry_run: bool| in_background(sc, move || s.import_csv(am, csv, dry_run));
        let first = send(false);
        assert!(
            first.recv_timeout(Duration::from_millis(1000)).is_err(),
            "the first import should wait for the uncommitted file"
        );
        let (second, checked) = (send(false), send(true));
        std::thread::sleep(Duration::from_millis(1000));
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let wait = Duration::from_secs(20);
        let first = first.recv_timeout(wait).unwrap_or_else(|e| panic!("{e}"));
        let second = second.recv_timeout(wait).unwrap_or_else(|e| panic!("{e}"));
        let checked = checked.recv_timeout(wait).unwrap_or_else(|e| panic!("{e}"));
        for answer in [&first, &second, &checked] {
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
        // Whichever committed first made and changed the files; the commit
        // and the dry run after it found nothing left to do.
        let outcomes: Vec<(u64, u64, u64)> = [&first, &second]
            .iter()
            .map(|a| {
                let n = |k: &str| a.json[k].as_u64().unwrap_or(99);
                (n("created"), n("updated"), n("unchanged"))
            })
            .collect();
        assert!(
            outcomes.contains(&(2, 1, 0)) && outcomes.contains(&(0, 0, 3)),
            "{outcomes:?}"
        );
    });
    for ext in ["TWICE-1", "TWICE-2", "TWICE-3"] {
        let listed = s.get(&format!("/api/v1/customers?external_id={ext}"), &am);
        let items = listed.json["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{}", listed.text);
        assert_eq!(items[0]["industry"], "批发零售", "{}", listed.text);
    }
}

/// An import that meets a single write committed between its read and its
/// write — a file it changes edited, a file it would make made — runs
/// again and takes that write into account, instead of refusing those rows
/// with a precondition its caller never sent or a duplicate of its own
/// upsert key.
#[test]
fn erp_an_import_overtaken_by_a_single_write_runs_again() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time: nothing commits within an import
    }
    let am = s.token("demo.am.bj");
    let seeded = s.import_csv(
        &am,
        "external_id,name,nature\nOVER-1,超车一有限公司,private\n",
        false,
    );
    assert_eq!(seeded.json["created"], 1, "{}", seeded.text);
    let unit = s.unit_id("BJ");
    let mut holder = PgSession::open(&s);
    holder
        .run(&format!(
            "BEGIN; UPDATE customers SET address = '单笔修改', version = version + 1 \
               WHERE external_id = 'OVER-1'; \
             INSERT INTO customers (id, code, name, name_normalized, name_folded, name_sort, \
               nature, status, external_id, owner_unit_id, secrecy_level, created_at, updated_at) \
             VALUES ('made-meanwhile', 'HELD0002', '超车二有限公司', '超车二', '超车二有限公司', \
               'chaoche2', 'private', 'active', 'OVER-2', '{unit}', 'C', now(), now())"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = "external_id,name,nature,industry\n\
               OVER-1,超车一有限公司,private,批发零售\n\
               OVER-2,超车二有限公司,private,批发零售\n";
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let rx = in_background(sc, move || s.import_csv(am, csv, false));
        assert!(
            rx.recv_timeout(Duration::from_millis(1500)).is_err(),
            "the import should wait for the uncommitted writes"
        );
        holder.run("COMMIT").unwrap_or_else(|e| panic!("{e}"));
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(
            (&answer.json["created"], &answer.json["updated"]),
            (&json!(0), &json!(2)),
            "{}",
            answer.text
        );
    });
    for ext in ["OVER-1", "OVER-2"] {
        let listed = s.get(&format!("/api/v1/customers?external_id={ext}"), &am);
        let items = listed.json["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{}", listed.text);
        assert_eq!(items[0]["industry"], "批发零售", "{}", listed.text);
    }
    // The single write is kept: the import changed only what it names.
    let first = s.get("/api/v1/customers?external_id=OVER-1", &am);
    assert_eq!(
        first.json["items"][0]["address"], "单笔修改",
        "{}",
        first.text
    );
}

/// Auditors take the read register away for their own work: CSV with one
/// row a file read, named by the reader's username and the file's code, or
/// NDJSON as the register shows it; filtered and paged as the register.
#[test]
fn r_cus_08_the_register_is_exported_for_auditors() {
    let s = TestServer::start();
    let mgr = s.token("demo.manager.bj");
    let made = s.post(
        "/api/v1/customers",
        &mgr,
        &json!({"name": "北京借阅导出有限公司", "nature": "private"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    let code = made.json["code"].as_str().unwrap_or_default().to_owned();
    assert_eq!(s.get(&format!("/api/v1/customers/{id}"), &mgr).status, 200);
    let listed = s.get("/api/v1/customers?name=借阅导出", &mgr);
    assert_eq!(listed.status, 200);

    let auditor = s.token("demo.auditor");
    let csv = s.get(
        &format!("/api/v1/access-register/export?customer_id={id}&format=csv"),
        &auditor,
    );
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/csv")));
    let text = csv.text.trim_start_matches('\u{feff}').to_owned();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(header[0], "entry_id");
    let rows: Vec<std::collections::HashMap<&str, &str>> = lines
        .map(|l| header.iter().copied().zip(l.split(',')).collect())
        .collect();
    // The read and the list page, newest first.
    let actions: Vec<&str> = rows.iter().map(|r| r["action"]).collect();
    assert_eq!(actions, vec!["list", "read"], "{text}");
    assert!(rows.iter().all(|r| r["actor_username"] == "demo.manager.bj"
        && r["customer_id"] == id
        && r["customer_code"] == code));

    // NDJSON pages with the cursor, as the customer export does.
    let first = s.get(
        &format!("/api/v1/access-register/export?customer_id={id}&format=ndjson&limit=1"),
        &auditor,
    );
    assert_eq!(first.text.lines().count(), 1, "{}", first.text);
    let next = first.header("x-next-cursor").unwrap_or_default().to_owned();
    assert!(!next.is_empty());
    let rest = s.get(
        &format!(
            "/api/v1/access-register/export?customer_id={id}&format=ndjson&limit=1&cursor={next}"
        ),
        &auditor,
    );
    let last: serde_json::Value =
        serde_json::from_str(rest.text.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(last["action"], "read", "{}", rest.text);
    assert_eq!(last["customer_ids"], json!([id]));

    // Auditors and admins only; bad parameters are named.
    s.get("/api/v1/access-register/export", &mgr)
        .assert_problem(403, "forbidden");
    let bad = s.get("/api/v1/access-register/export?limit=0", &auditor);
    bad.assert_problem(400, "invalid_query");
    assert_eq!(bad.json["errors"][0]["field"], "limit");
}

/// Someone whose role does not export asks a manager over their unit for
/// the files a filter finds (CUS-08: files leave the archive only with
/// permission); the approval lets the requester, and only them, take that
/// export for the days approved, each file registered under the request.
#[test]
fn r_cus_08_an_export_is_asked_for_and_approved() {
    let s = TestServer::start();
    let (am, mgr) = (s.token("demo.am.bj"), s.token("demo.manager.bj"));
    for name in ["北京导出审批甲有限公司", "北京导出审批乙有限公司"] {
        let made = s.post(
            "/api/v1/customers",
            &mgr,
            &json!({"name": name, "nature": "private", "owner_unit_id": s.unit_id("BJ")}),
        );
        assert_eq!(made.status, 201, "{}", made.text);
    }
    // Bad filters are the filter field's fault, and nothing is written.
    let auditor = s.token("demo.auditor");
    let before = s.audit_count();
    for (filter, why) in [
        ("limit=5", "paging is chosen at export"),
        ("status=nope", "an unknown status"),
        ("region=abc", "not a region code"),
        ("unknown=1", "not a filter"),
        ("sort=bogus", "not an order the list knows"),
    ] {
        let r = s.post(
            "/api/v1/export-requests",
            &am,
            &json!({"filter": filter, "purpose": "季度回访名单"}),
        );
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.json["errors"][0]["field"], "filter", "{why}: {}", r.text);
        assert_eq!(r.json["errors"][0]["code"], "invalid_filter", "{why}");
    }
    s.post(
        "/api/v1/export-requests",
        &am,
        &json!({"filter": "", "purpose": "名单", "days": 8}),
    )
    .assert_problem(422, "validation_failed");
    s.post(
        "/api/v1/export-requests",
        &auditor,
        &json!({"filter": "", "purpose": "审计"}),
    )
    .assert_problem(403, "forbidden");
    assert_eq!(s.audit_count(), before);

    let asked = s.post(
        "/api/v1/export-requests",
        &am,
        &json!({"filter": "?name=导出审批&sort=name", "purpose": "季度回访名单", "days": 2}),
    );
    assert_eq!(asked.status, 201, "{}", asked.text);
    assert_eq!(asked.json["status"], "pending");
    assert_eq!(asked.json["filter"], "name=导出审批&sort=name");
    assert_eq!(asked.json["unit_id"], s.unit_id("BJ").as_str());
    assert_eq!(asked.header("etag"), Some("\"1\""));
    assert_eq!(s.audit_count(), before + 1);
    let rid = asked.json["id"].as_str().unwrap_or_default().to_owned();
    let one = format!("/api/v1/export-requests/{rid}");
    let take = format!("/api/v1/export-requests/{rid}/export?format=csv");
    // Not before a decision.
    s.get(&take, &am)
        .assert_problem(403, "approval_not_in_force");
    // The requester's managers see it waiting; another branch does not.
    let waiting = s.get("/api/v1/export-requests?status=pending", &mgr);
    assert!(
        waiting.json["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["id"] == rid.as_str())),
        "{}",
        waiting.text
    );
    let sh = s.token("demo.am.sh");
    s.get(&one, &sh).assert_problem(404, "not_found");
    let theirs = s.get("/api/v1/export-requests", &sh);
    assert_eq!(theirs.json["items"].as_array().map(Vec::len), Some(0));
    // The requester does not decide it; a manager over the unit does, once.
    let decide = |token: &str, etag: &str, approve: bool| {
        s.call(
            "POST",
            &format!("{one}/decision"),
            Some(token),
            Some(&json!({"approve": approve, "note": "同意，限本季度"})),
            &[("if-match", etag)],
        )
    };
    decide(&am, "\"1\"", true).assert_problem(403, "forbidden");
    let approved = decide(&mgr, "\"1\"", true);
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.json["status"], "approved");
    assert_eq!(
        approved.json["decided_by"],
        s.user_id("demo.manager.bj").as_str()
    );
    assert!(approved.json["valid_until"].is_string());
    decide(&mgr, "\"1\"", false).assert_problem(412, "precondition_failed");
    decide(&mgr, "\"2\"", false).assert_problem(409, "already_decided");
    // Only the requester takes it: the files the filter finds, registered
    // as exported under the request.
    s.get(&take, &mgr).assert_problem(403, "forbidden");
    let csv = s.get(&take, &am);
    assert_eq!(csv.status, 200, "{}", csv.text);
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.text);
    assert!(lines[1].contains("北京导出审批甲有限公司"));
    let reg = s.get(
        &format!(
            "/api/v1/access-register?actor_id={}&action=export",
            s.user_id("demo.am.bj")
        ),
        &auditor,
    );
    assert_eq!(
        reg.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        reg.text
    );
    assert_eq!(reg.json["items"][0]["grant_id"], rid.as_str());
    // The same entry, found by the request it was taken under.
    let under = s.get(&format!("/api/v1/access-register?grant_id={rid}"), &auditor);
    assert_eq!(
        under.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        under.text
    );
    assert_eq!(under.json["items"][0]["id"], reg.json["items"][0]["id"]);
    assert_eq!(
        reg.json["items"][0]["customer_ids"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // A manager's own request waits for someone above them.
    let own = s.post(
        "/api/v1/export-requests",
        &mgr,
        &json!({"filter": "status=active", "purpose": "分公司年报"}),
    );
    assert_eq!(own.status, 201, "{}", own.text);
    s.call(
        "POST",
        &format!(
            "/api/v1/export-requests/{}/decision",
            own.json["id"].as_str().unwrap_or_default()
        ),
        Some(&mgr),
        Some(&json!({"approve": true})),
        &[("if-match", "\"1\"")],
    )
    .assert_problem(409, "own_request");
    // A request still pending is the requester's to take back, once.
    let changed_mind = s.post(
        "/api/v1/export-requests",
        &am,
        &json!({"filter": "status=dormant", "purpose": "休眠客户名单"}),
    );
    let back = format!(
        "/api/v1/export-requests/{}",
        changed_mind.json["id"].as_str().unwrap_or_default()
    );
    let withdraw = |token: &str, etag: &str| {
        s.call(
            "POST",
            &format!("{back}/withdrawal"),
            Some(token),
            None,
            &[("if-match", etag)],
        )
    };
    withdraw(&mgr, "\"1\"").assert_problem(403, "forbidden");
    withdraw(&sh, "\"1\"").assert_problem(404, "not_found");
    let withdrawn = withdraw(&am, "\"1\"");
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.text);
    assert_eq!(withdrawn.json["status"], "withdrawn");
    withdraw(&am, "\"2\"").assert_problem(409, "already_decided");
    s.call(
        "POST",
        &format!("{back}/decision"),
        Some(&mgr),
        Some(&json!({"approve": true})),
        &[("if-match", "\"2\"")],
    )
    .assert_problem(409, "already_decided");
    s.get(&format!("{back}/export"), &am)
        .assert_problem(403, "approval_not_in_force");
    // A refused request exports nothing.
    let refused = s.post(
        "/api/v1/export-requests",
        &am,
        &json!({"filter": "", "purpose": "全部客户"}),
    );
    let rid2 = refused.json["id"].as_str().unwrap_or_default().to_owned();
    let no = s.call(
        "POST",
        &format!("/api/v1/export-requests/{rid2}/decision"),
        Some(&mgr),
        Some(&json!({"approve": false, "note": "范围过大"})),
        &[("if-match", "\"1\"")],
    );
    assert_eq!(no.json["status"], "refused", "{}", no.text);
    s.get(&format!("/api/v1/export-requests/{rid2}/export"), &am)
        .assert_problem(403, "approval_not_in_force");
    // An approval is for the files of the unit it was asked from.
    let admin = s.token("demo.admin");
    let clerk = s.post(
        "/api/v1/users",
        &admin,
        &json!({"username": "bj.clerk", "display_name": "北京文员", "password": "a-long-password",
                "unit_id": s.unit_id("BJ"), "roles": ["service_agent"]}),
    );
    assert_eq!(clerk.status, 201, "{}", clerk.text);
    let asked = s.post(
        "/api/v1/export-requests",
        &s.token_with("bj.clerk", "a-long-password"),
        &json!({"filter": "name=导出审批", "purpose": "整理名单"}),
    );
    let rid3 = asked.json["id"].as_str().unwrap_or_default().to_owned();
    let yes = s.call(
        "POST",
        &format!("/api/v1/export-requests/{rid3}/decision"),
        Some(&mgr),
        Some(&json!({"approve": true})),
        &[("if-match", "\"1\"")],
    );
    assert_eq!(yes.json["status"], "approved", "{}", yes.text);
    let user = format!(
        "/api/v1/users/{}",
        clerk.json["id"].as_str().unwrap_or_default()
    );
    let etag = clerk.header("etag").unwrap_or_default().to_owned();
    let moved = s.patch(&user, &admin, &etag, &json!({"unit_id": s.unit_id("SH")}));
    assert_eq!(moved.status, 200, "{}", moved.text);
    s.get(
        &format!("/api/v1/export-requests/{rid3}/export"),
        &s.token_with("bj.clerk", "a-long-password"),
    )
    .assert_problem(403, "requester_moved");
}

/// Two managers deciding one export request at once: one decision stands,
/// the other is told the request moved on (412), and only one is audited.
#[test]
fn r_cus_08_one_decision_of_an_export_request_stands() {
    let s = TestServer::start();
    let (am, mgr, admin) = (
        s.token("demo.am.bj"),
        s.token("demo.manager.bj"),
        s.token("demo.admin"),
    );
    for round in 0..6 {
        let asked = s.post(
            "/api/v1/export-requests",
            &am,
            &json!({"filter": "status=active", "purpose": format!("第{round}次")}),
        );
        assert_eq!(asked.status, 201, "{}", asked.text);
        let decision = format!(
            "/api/v1/export-requests/{}/decision",
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
        };
        let (yes, no) = std::thread::scope(|sc| {
            let yes = sc.spawn(|| decide(&mgr, true));
            let no = sc.spawn(|| decide(&admin, false));
            (yes.join().ok(), no.join().ok())
        });
        let (yes, no) = (
            yes.unwrap_or_else(|| panic!("approve")),
            no.unwrap_or_else(|| panic!("refuse")),
        );
        let mut both = [yes.status, no.status];
        both.sort_unstable();
        assert_eq!(
            both,
            [200, 412],
            "round {round}: {} / {}",
            yes.text,
            no.text
        );
        let stands = if yes.status == 200 {
            "approved"
        } else {
            "refused"
        };
        let now = s.get(decision.trim_end_matches("/decision"), &am);
        assert_eq!(now.json["status"], stands, "round {round}");
        assert_eq!(s.audit_count(), before + 1, "round {round}");
    }
}

/// The files an import creates are found by the quick search (`q`), by
/// parts of three characters and more and by parts of one or two, as a
/// file created alone is. (On SQLite the import writes their search rows
/// together at its end, not one by one.) Files created after it, and
/// renames by a later import or by hand, are found as well, and nothing
/// is found by a name a file no longer has. The records written together
/// with the new files (tags, history, audit entry, event) are all there.
#[test]
fn erp_import_files_are_found_by_search() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let found = |q: &str| -> Vec<String> {
        let r = s.get(
            &format!("/api/v1/customers?limit=50&q={}", urlencode(q)),
            &am,
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_owned))
            .collect()
    };
    let rows = "external_id,name,nature,tags\n\
                ERP-S1,杭州湾新材料有限公司,private,新材料;重点\n\
                ERP-S2,宁波港务物流有限公司,state_owned,\n\
                ERP-S3,温州瓯江贸易有限公司,private,重点\n";
    let dry = s.import_csv(&am, rows, true);
    assert_eq!(dry.json["created"], 3, "{}", dry.text);
    assert!(
        found("新材料").is_empty(),
        "a dry run leaves no search rows"
    );
    let made = s.import_csv(&am, rows, false);
    assert_eq!(made.json["created"], 3, "{}", made.text);
    assert_eq!(found("新材料"), ["杭州湾新材料有限公司"]);
    assert_eq!(found("宁波港务"), ["宁波港务物流有限公司"]);
    assert!(found("瓯").contains(&"温州瓯江贸易有限公司".to_owned()));
    assert!(found("港务").contains(&"宁波港务物流有限公司".to_owned()));
    assert!(
        found("hzw").contains(&"杭州湾新材料有限公司".to_owned()),
        "by mnemonic"
    );
    // The records written with the new files, together: tags, the history's
    // first entry, the audit entry.
    let tagged = s.get("/api/v1/customers?tag=%E6%96%B0%E6%9D%90%E6%96%99", &am);
    assert_eq!(
        tagged.json["items"][0]["name"], "杭州湾新材料有限公司",
        "{}",
        tagged.text
    );
    assert_eq!(tagged.json["items"][0]["tags"], json!(["新材料", "重点"]));
    let s1 = tagged.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let history = s.get(&format!("/api/v1/customers/{s1}/history"), &am);
    assert_eq!(
        history.json["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        history.text
    );
    assert_eq!(history.json["items"][0]["field"], "*", "{}", history.text);
    let audit = s.get(
        &format!("/api/v1/audit-log?entity_type=customer&entity_id={s1}"),
        &s.token("demo.auditor"),
    );
    assert_eq!(
        audit.json["items"][0]["action"], "created",
        "{}",
        audit.text
    );
    assert_eq!(s.customer_event_topics(&s1), ["customer.created"]);

    // Created alone after it: its own search rows, no other file's.
    let alone = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "嘉兴南湖电子有限公司", "nature": "private"}),
    );
    assert_eq!(alone.status, 201, "{}", alone.text);
    assert_eq!(found("南湖电子"), ["嘉兴南湖电子有限公司"]);
    assert_eq!(found("新材料"), ["杭州湾新材料有限公司"]);

    // Renamed by a later import, then by hand.
    let renamed = s.import_csv(
        &am,
        "external_id,name\nERP-S1,杭州湾新能源有限公司\n",
        false,
    );
    assert_eq!(renamed.json["updated"], 1, "{}", renamed.text);
    assert_eq!(found("新能源"), ["杭州湾新能源有限公司"]);
    assert!(found("新材料").is_empty(), "the old name is gone");
    let s3 = s.get("/api/v1/customers?external_id=ERP-S3", &am);
    let id = s3.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let etag = s
        .get(&format!("/api/v1/customers/{id}"), &am)
        .header("etag")
        .unwrap_or_default()
        .to_owned();
    let patched = s.patch(
        &format!("/api/v1/customers/{id}"),
        &am,
        &etag,
        &json!({"name": "温州瓯海贸易有限公司"}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(found("瓯海"), ["温州瓯海贸易有限公司"]);
    assert!(found("瓯江").is_empty());
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Files of several customers are locked in id order by every write that
/// changes several (a merge, a hand-over, an import), so two of them queue
/// and never deadlock. An import whose CSV names its files against that
/// order locks them all first: held up at the lower one, it holds none, and
/// another transaction that holds the lower and then takes the higher is
/// not refused as a deadlock.
#[test]
fn erp_an_import_locks_its_files_in_order_before_it_changes_one() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time
    }
    let am = s.token("demo.am.bj");
    let files = imported_in_id_order(
        &s,
        &am,
        &[("ORDER-1", "次序一有限公司"), ("ORDER-2", "次序二有限公司")],
    );
    let [(low, low_ext), (high, high_ext)] = [files[0].clone(), files[1].clone()];
    // The higher file first, as an ERP's file may have it.
    let csv = format!(
        "external_id,name,nature,industry\n\
         {high_ext},次序高有限公司,private,批发零售\n\
         {low_ext},次序低有限公司,private,批发零售\n"
    );
    let mut holder = PgSession::open(&s);
    holder
        .run(&format!(
            "BEGIN; SELECT 1 FROM customers WHERE id = '{low}' FOR UPDATE"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|sc| {
        let (s, am, csv) = (&s, &am, &csv);
        let rx = in_background(sc, move || s.import_csv(am, csv, false));
        assert!(
            rx.recv_timeout(Duration::from_millis(1500)).is_err(),
            "the import should wait for the lower file"
        );
        // Beyond PostgreSQL's deadlock_timeout (1 s): a cycle would be found.
        let taken = holder.run(&format!(
            "SELECT 1 FROM customers WHERE id = '{high}' FOR UPDATE; SELECT pg_sleep(1.5)"
        ));
        holder.run("COMMIT").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            taken.is_ok(),
            "the higher file was held by the import: {taken:?}"
        );
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert_eq!(answer.json["updated"], 2, "{}", answer.text);
    });
}

/// A merge writes the history of the files the absorbed one was related
/// to (a link the survivor has too is ended, on both sides); an import
/// holding such a file (waiting for another of its files) does not hold
/// the merge up, as the lock a write takes on the files it changes leaves
/// references to them free (CUS-01, CUS-06).
#[test]
fn r_cus_01_a_merge_does_not_wait_for_an_import_holding_a_related_file() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time
    }
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let held = imported_in_id_order(
        &s,
        &am,
        &[
            ("REL-1", "关联持有一有限公司"),
            ("REL-2", "关联持有二有限公司"),
        ],
    );
    let (related, blocking) = (held[0].0.clone(), held[1].0.clone());
    let file = |name: &str| s.private_file(&am, name);
    let (survivor, absorbed) = (file("合并留存有限公司"), file("合并并入有限公司"));
    // Both are related to the held file: the merge ends the absorbed
    // one's link as a duplicate, an entry in the held file's history.
    for side in [&survivor, &absorbed] {
        let linked = s.post(
            &format!("/api/v1/customers/{side}/relations"),
            &am,
            &json!({"customer_id": related, "kind": "related"}),
        );
        assert_eq!(linked.status, 201, "{}", linked.text);
    }
    let mut holder = PgSession::open(&s);
    holder
        .run(&format!(
            "BEGIN; SELECT 1 FROM customers WHERE id = '{blocking}' FOR UPDATE"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = "external_id,name,nature,industry\n\
               REL-1,关联持有一有限公司,private,批发零售\n\
               REL-2,关联持有二有限公司,private,批发零售\n";
    std::thread::scope(|sc| {
        let s = &s;
        let am = &am;
        let import_rx = in_background(sc, move || s.import_csv(am, csv, false));
        // The import has locked the related file and waits for the other.
        assert!(import_rx.recv_timeout(Duration::from_millis(1500)).is_err());
        let (mgr, survivor, absorbed) = (&mgr, &survivor, &absorbed);
        let merge_rx = in_background(sc, move || {
            s.post(
                &format!("/api/v1/customers/{survivor}/merge"),
                mgr,
                &json!({"absorbed_id": absorbed}),
            )
        });
        let merged = merge_rx.recv_timeout(Duration::from_secs(10));
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let merged = merged.unwrap_or_else(|_| panic!("the merge waited for the import"));
        assert_eq!(merged.status, 200, "{}", merged.text);
        let imported = import_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(imported.json["updated"], 2, "{}", imported.text);
    });
    // The relation moved to the survivor, seen from the related file.
    let relations = s.get(&format!("/api/v1/customers/{related}/relations"), &am);
    assert!(
        relations.text.contains(&survivor) && !relations.text.contains(&absorbed),
        "{}",
        relations.text
    );
}

/// A file merged into the absorbed one while a merge waits for its locks
/// is pointed at the survivor too: the merge takes its locks again with
/// that file among them (CUS-01: one hop from any absorbed file reaches the
/// living one).
#[test]
fn r_cus_01_a_file_absorbed_while_a_merge_waits_points_at_the_survivor() {
    use std::time::Duration;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite has one writer at a time
    }
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let mut made: Vec<String> = [
        "等待合并甲有限公司",
        "等待合并乙有限公司",
        "等待合并丙有限公司",
    ]
    .iter()
    .map(|name| s.private_file(&am, name))
    .collect();
    made.sort();
    // The survivor comes first in id order: the merge waits there holding nothing.
    let (survivor, absorbed, late) = (made[0].clone(), made[1].clone(), made[2].clone());
    let merge = |into: &str, gone: &str| {
        s.post(
            &format!("/api/v1/customers/{into}/merge"),
            &mgr,
            &json!({"absorbed_id": gone}),
        )
    };
    let mut holder = PgSession::open(&s);
    holder
        .run(&format!(
            "BEGIN; SELECT 1 FROM customers WHERE id = '{survivor}' FOR UPDATE"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::scope(|sc| {
        let (merge, survivor, absorbed) = (&merge, &survivor, &absorbed);
        let rx = in_background(sc, move || merge(survivor, absorbed));
        assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err());
        let first = merge(absorbed, &late);
        assert_eq!(first.status, 200, "{}", first.text);
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        let second = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(second.status, 200, "{}", second.text);
    });
    for gone in [&absorbed, &late] {
        let file = s.get(&format!("/api/v1/customers/{gone}"), &mgr);
        assert_eq!(
            file.json["merged_into_id"],
            survivor.as_str(),
            "{}",
            file.text
        );
    }
}

/// Writes of every kind that changes several files, side by side over the
/// same few files: edits, contacts, links, merges, hand-overs, unit
/// transfers and imports (commits and dry runs, each naming its files in an
/// order of its own). Each may be refused for what the others did (a file
/// merged meanwhile, an ETag gone stale), but none fails on the server:
/// no deadlock, no 5xx. On PostgreSQL this load deadlocked within seconds
/// while imports locked their files in their CSV's order and merges
/// re-pointed files they had not locked.
#[test]
fn writes_of_several_files_side_by_side_never_fail_on_the_server() {
    const CLIENTS: u64 = 8;
    const OPS: u64 = 30;
    const FILES: usize = 10;
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let ids: Vec<String> = (0..FILES)
        .map(|i| {
            let made = s.post(
                "/api/v1/customers",
                &admin,
                &json!({"name": format!("并行写入{i}号有限公司"), "nature": "private",
                        "external_id": format!("SIDE-{i}")}),
            );
            assert_eq!(made.status, 201, "{}", made.text);
            made.json["id"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    let ids_of = |path: &str| -> Vec<String> {
        let listed = s.get(path, &admin);
        listed.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect()
    };
    let users = ids_of("/api/v1/users?limit=100");
    let units = ids_of("/api/v1/units?limit=100");
    assert!(users.len() > 2 && units.len() > 2);
    let failures = clientele_e2e::side_by_side(CLIENTS, OPS, |_, _, draw| {
        let file = &ids[draw.below(FILES)];
        let other = &ids[draw.below(FILES)];
        let (what, answer) = match draw.below(8) {
            0 => {
                let read = s.get(&format!("/api/v1/customers/{file}"), &admin);
                let etag = read.headers.get("etag").cloned().unwrap_or_default();
                let body = json!({"industry": format!("行业{}", draw.below(3))});
                let path = format!("/api/v1/customers/{file}");
                ("edit", s.patch(&path, &admin, &etag, &body))
            }
            1 => (
                "contact",
                s.post(
                    &format!("/api/v1/customers/{file}/contacts"),
                    &admin,
                    &json!({"name": "并行联系人", "mobile": "13800138000", "is_primary": draw.below(2) == 0}),
                ),
            ),
            2 => (
                "link",
                s.post(
                    &format!("/api/v1/customers/{file}/relations"),
                    &admin,
                    &json!({"customer_id": other, "kind": "related"}),
                ),
            ),
            3 => (
                "merge",
                s.post(
                    &format!("/api/v1/customers/{file}/merge"),
                    &admin,
                    &json!({"absorbed_id": other}),
                ),
            ),
            4 => (
                "hand-over",
                s.post(
                    "/api/v1/customers/hand-over",
                    &admin,
                    &json!({"from_user_id": users[draw.below(users.len())],
                            "to_user_id": users[draw.below(users.len())]}),
                ),
            ),
            5 => (
                "unit transfer",
                s.post(
                    "/api/v1/customers/unit-transfer",
                    &admin,
                    &json!({"from_unit_id": units[draw.below(units.len())],
                            "to_unit_id": units[draw.below(units.len())]}),
                ),
            ),
            _ => {
                let mut csv = String::from("external_id,name,nature,industry\n");
                for _ in 0..4 {
                    let i = draw.below(FILES);
                    let industry = draw.below(3);
                    csv.push_str(&format!("SIDE-{i},并行写入{i}号有限公司,private,行业{industry}\n"));
                }
                ("import", s.import_csv(&admin, &csv, draw.below(2) == 0))
            }
        };
        (answer.status >= 500).then(|| format!("{what}: {} {}", answer.status, answer.text))
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Imports waiting for their turn behind a long one hold none of the
/// database connections: files are still read meanwhile. (The test
/// server has four connections; five imports queued inside the database
/// would hold them all.)
#[test]
fn erp_imports_waiting_their_turn_leave_the_database_to_others() {
    use std::time::{Duration, Instant};
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return; // SQLite imports wait for the writer's turn before a connection already
    }
    let am = s.token("demo.am.bj");
    let listed = s.get("/api/v1/customers?limit=1", &am);
    let file = listed.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut holder = PgSession::holding_new_file(&s, "QUEUE-2");
    let csv = "external_id,name,nature\n\
               QUEUE-1,排队导入一有限公司,private\n\
               QUEUE-2,排队导入二有限公司,private\n";
    std::thread::scope(|sc| {
        let (s, am) = (&s, &am);
        let first = in_background(sc, move || s.import_csv(am, csv, false));
        assert!(first.recv_timeout(Duration::from_millis(1000)).is_err());
        let queued: Vec<_> = (0..5)
            .map(|_| in_background(sc, move || s.import_csv(am, csv, false)))
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        let read = s.get(&format!("/api/v1/customers/{file}"), am);
        let took = started.elapsed();
        holder.run("ROLLBACK").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.status, 200, "{}", read.text);
        assert!(
            took < Duration::from_secs(5),
            "the read waited {took:?} for a connection"
        );
        for answer in std::iter::once(first).chain(queued) {
            let answer = answer
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(answer.status, 200, "{}", answer.text);
        }
    });
}

/// An import that may double the archive has its statements planned for
/// the tables as they grow (PostgreSQL): the plans a connection kept from
/// when the archive was small read every file for each foreign-key check
/// and lookup, and the import adds its files unseen by the statistics
/// (docs/benchmarks.md, session 22). A smaller import keeps the kept plans,
/// which are right for it and cheaper; the setting ends with the import's
/// transaction.
#[test]
fn erp_an_import_that_may_double_the_archive_is_planned_as_it_grows() {
    use diesel::prelude::*;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return;
    }
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        mode: String,
    }
    let mode =
        |c: &mut clientele_persistence::DbConn| -> clientele_persistence::error::Result<String> {
            let clientele_persistence::DbConn::Pg(pg) = c else {
                return Ok(String::new());
            };
            Ok(
                diesel::sql_query("SELECT current_setting('plan_cache_mode') AS mode")
                    .get_result::<Setting>(pg)?
                    .mode,
            )
        };
    s.db.read(|c| match c {
        clientele_persistence::DbConn::Pg(pg) => {
            Ok(diesel::sql_query("ANALYZE customers").execute(pg)?)
        }
        _ => Ok(0),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let files = s
        .get("/api/v1/customers?limit=200", &s.token("demo.admin"))
        .json["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(files > 3, "the demo archive has files");
    for (rows, planned) in [(files * 2, "force_custom_plan"), (files / 2, "auto")] {
        let seen =
            s.db.write(|c| {
                clientele_persistence::customers::begin_import(c, true, rows)?;
                mode(c)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen, planned, "an import of {rows} rows into {files} files");
        let after = s.db.write(mode).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            after, "auto",
            "the import's transaction took its setting with it"
        );
    }
}

/// PostgreSQL plans lists and searches from its count of the files; an
/// import that adds a tenth or more to that count has the files counted
/// again after it commits (autovacuum would, within a minute, and never
/// where it is off). A dry run and a small import leave the count alone.
#[test]
fn erp_an_import_that_grows_the_archive_is_counted_for_the_planner() {
    use diesel::prelude::*;
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return;
    }
    #[derive(QueryableByName)]
    struct Size {
        #[diesel(sql_type = diesel::sql_types::Double)]
        files: f64,
    }
    let counted = || -> f64 {
        s.db.read(|c| match c {
            clientele_persistence::DbConn::Pg(pg) => Ok(diesel::sql_query(
                "SELECT reltuples::float8 AS files FROM pg_class WHERE oid = 'customers'::regclass",
            )
            .get_result::<Size>(pg)?
            .files),
            _ => Ok(0.0),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let waited = |at_least: f64| -> f64 {
        let started = std::time::Instant::now();
        loop {
            let n = counted();
            if n >= at_least || started.elapsed() > std::time::Duration::from_secs(20) {
                return n;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let admin = s.token("demo.admin");
    let csv = |prefix: &str, rows: usize| {
        let mut csv = String::from("external_id,name,nature\n");
        for k in 0..rows {
            csv.push_str(&format!(
                "{prefix}-{k:04},计数测试{prefix}{k:04}号有限公司,private\n"
            ));
        }
        csv
    };
    let before = counted();
    let dry = s.import_csv(&admin, &csv("DRY", 300), true);
    assert_eq!(dry.status, 200, "{}", dry.text);
    let big = s.import_csv(&admin, &csv("BIG", 300), false);
    assert_eq!(big.status, 200, "{}", big.text);
    assert_eq!(big.json["created"], 300, "{}", big.text);
    let after = waited(300.0);
    assert!(
        after >= 300.0,
        "counted {after} files after the import (before: {before})"
    );
    // Three more files are not a tenth more: the count stays.
    let small = s.import_csv(&admin, &csv("SMALL", 3), false);
    assert_eq!(small.status, 200, "{}", small.text);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(counted(), after, "a small import is not counted");
}

/// A file exported, changed in a spreadsheet and imported again (an
/// ERP's or a clerk's round trip): the export's own CSV is read whole —
/// its unit by id, its keeper by username, a name it neutralised against
/// formulas as the name — and the change lands. The columns the archive
/// keeps itself are checked, not written, and a row whose file changed
/// after the export is refused rather than undoing that change.
#[test]
fn r_cus_04_an_exported_file_imported_again_round_trips() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let made = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "=往返导入有限公司", "nature": "private", "external_id": "RT-1",
                "region_code": "110105", "tags": ["重点"], "credit_standing": "AA"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let exported = s.get("/api/v1/customers/export?format=csv&external_id=RT-1", &mgr);
    assert_eq!(exported.status, 200, "{}", exported.text);
    let text = exported.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_owned();
    let row = lines.next().unwrap_or_default().to_owned();
    assert!(row.contains("'=往返导入有限公司"), "{row}");

    // Exported as is: nothing to change.
    let again = s.import_csv(&am, text, true);
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["unchanged"], 1, "{}", again.text);
    assert_eq!(again.json["errors"], json!([]), "{}", again.text);

    // Changed in the spreadsheet: the industry.
    let edited = format!(
        "{header}\r\n{}\r\n",
        row.replacen(",private,,", ",private,制造业,", 1)
    );
    let committed = s.import_csv(&am, &edited, false);
    assert_eq!(committed.status, 200, "{}", committed.text);
    assert_eq!(committed.json["updated"], 1, "{}", committed.text);
    let path = format!(
        "/api/v1/customers/{}",
        made.json["id"].as_str().unwrap_or("")
    );
    let now = s.get(&path, &am);
    assert_eq!(now.json["industry"], "制造业", "{}", now.text);
    assert_eq!(now.json["name"], "=往返导入有限公司", "the name as it was");
    assert_eq!(now.json["tags"], json!(["重点"]));
    assert_eq!(now.json["credit_standing"], "AA");
    assert_eq!(now.json["owner_unit_id"], made.json["owner_unit_id"]);
    assert_eq!(now.json["owner_user_id"], made.json["owner_user_id"]);

    // The same rows again: the file changed after they were exported.
    let before = s.audit_count();
    let stale = s.import_csv(&am, &edited, true);
    assert_eq!(
        stale.json["errors"][0]["field"], "updated_at",
        "{}",
        stale.text
    );
    assert_eq!(stale.json["errors"][0]["code"], "changed_since_export");
    // A column the archive keeps is checked, not written.
    let fresh = s.get("/api/v1/customers/export?format=csv&external_id=RT-1", &mgr);
    let fresh = fresh.text.trim_start_matches('\u{feff}');
    let code = now.json["code"].as_str().unwrap_or_default();
    let recoded = fresh.replacen(code, "KH99999999", 1);
    let refused = s.import_csv(&am, &recoded, true);
    assert_eq!(
        refused.json["errors"][0]["field"], "code",
        "{}",
        refused.text
    );
    assert_eq!(refused.json["errors"][0]["code"], "kept_by_archive");
    // Nor given to a new file.
    let new_with_code = "external_id,name,nature,code\nRT-2,往返新建有限公司,private,KH00000001\n";
    let new_refused = s.import_csv(&am, new_with_code, true);
    assert_eq!(
        new_refused.json["errors"][0]["code"], "kept_by_archive",
        "{}",
        new_refused.text
    );
    // A unit named by code and by id must be one unit.
    let crossed = format!(
        "external_id,name,nature,owner_unit_code,owner_unit_id\nRT-1,往返导入有限公司,private,BJ,{}\n",
        s.unit_id("BJ-P1")
    );
    let mismatch = s.import_csv(&am, &crossed, true);
    assert_eq!(
        mismatch.json["errors"][0]["code"], "unit_mismatch",
        "{}",
        mismatch.text
    );
    assert_eq!(mismatch.json["errors"][0]["field"], "owner_unit_code");
    assert_eq!(s.audit_count(), before, "dry runs write nothing");
    // A date as Excel on Chinese Windows saves the one it exported.
    let excel = s.import_csv(
        &am,
        "external_id,name,nature,trading_since\nRT-3,表格日期有限公司,private,2020/1/5\n",
        false,
    );
    assert_eq!(excel.json["created"], 1, "{}", excel.text);
    let dated = s.get("/api/v1/customers?external_id=RT-3", &am);
    assert_eq!(
        dated.json["items"][0]["trading_since"], "2020-01-05",
        "{}",
        dated.text
    );
}

/// A file made by hand has no ERP id, so its exported row has none: the
/// row names its file by the archive's `id`, and a round trip changes it
/// too — or gives it the ERP id the spreadsheet added. An id no file has,
/// or one named twice, is the row's fault.
#[test]
fn r_cus_04_a_file_without_an_erp_id_round_trips_by_its_id() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let made = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "手工往返有限公司", "nature": "private", "industry": "零售"}),
    );
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json["id"].as_str().unwrap_or_default().to_owned();
    let exported = s.get("/api/v1/customers/export?format=csv&name=手工往返", &mgr);
    let text = exported.text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_owned();
    let row = lines.next().unwrap_or_default().to_owned();
    assert!(row.starts_with(&format!("{id},")), "{row}");
    // The industry changed, and an ERP id given, in the spreadsheet.
    let code = made.json["code"].as_str().unwrap_or_default();
    let edited = row.replacen(",零售,", ",批发,", 1).replacen(
        &format!("{code},,"),
        &format!("{code},ERP-HAND-1,"),
        1,
    );
    let committed = s.import_csv(&am, &format!("{header}\r\n{edited}\r\n"), false);
    assert_eq!(committed.json["updated"], 1, "{}", committed.text);
    let now = s.get(&format!("/api/v1/customers/{id}"), &am);
    assert_eq!(now.json["industry"], "批发", "{}", now.text);
    assert_eq!(now.json["external_id"], "ERP-HAND-1");
    // An id no file has; an id named twice.
    let nowhere = format!(
        "id,external_id,name,nature\n{},,无此档案有限公司,private\n",
        uuid::Uuid::now_v7()
    );
    let refused = s.import_csv(&am, &nowhere, true);
    assert_eq!(refused.json["errors"][0]["field"], "id", "{}", refused.text);
    assert_eq!(refused.json["errors"][0]["code"], "customer_not_found");
    let twice =
        format!("id,external_id,name,nature\n{id},,甲有限公司,private\n{id},,乙有限公司,private\n");
    let doubled = s.import_csv(&am, &twice, true);
    assert_eq!(
        doubled.json["errors"][0]["code"], "duplicate",
        "{}",
        doubled.text
    );
    assert_eq!(doubled.json["errors"][0]["field"], "id");
    // Without either, a row names no file.
    let anonymous = s.import_csv(
        &am,
        "id,external_id,name,nature\n,,无名有限公司,private\n",
        true,
    );
    assert_eq!(
        anonymous.json["errors"][0]["field"], "external_id",
        "{}",
        anonymous.text
    );
}

/// The export carries each file's primary contact (an ERP's invoicing
/// contact): in CSV its name, phone, mobile and address; in NDJSON the
/// contact as the API shows it. Read back, the columns are checked, not
/// written — a number as a spreadsheet rewrites it is the same number —
/// and contacts change through the file's contacts.
#[test]
fn r_cus_02_the_export_carries_the_primary_contact() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let mgr = s.token("demo.manager.bj");
    let file = s.post(
        "/api/v1/customers",
        &am,
        &json!({"name": "北京导出联系人有限公司", "nature": "private", "external_id": "PC-1"}),
    );
    assert_eq!(file.status, 201, "{}", file.text);
    let id = file.json["id"].as_str().unwrap_or_default().to_owned();
    for (name, primary) in [("周秘书", false), ("钱总", true)] {
        let r = s.post(
            &format!("/api/v1/customers/{id}/contacts"),
            &am,
            &json!({"name": name, "phone": "+86 10 6123 0001", "mobile": "139 0000 1111",
                    "email": "Qian@Example.cn", "is_primary": primary}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let csv = s.get("/api/v1/customers/export?format=csv&external_id=PC-1", &mgr);
    assert_eq!(csv.status, 200, "{}", csv.text);
    let text = csv.text.trim_start_matches('\u{feff}').to_owned();
    let cells = csv.csv_rows().remove(0);
    assert_eq!(cells["primary_contact_name"], "钱总", "{text}");
    // Neutralised against formulas, as every cell starting with +.
    assert_eq!(cells["primary_contact_phone"], "'+86 10 6123 0001");
    assert_eq!(cells["primary_contact_mobile"], "139 0000 1111");
    assert_eq!(cells["primary_contact_email"], "Qian@Example.cn");
    let nd = s.get(
        "/api/v1/customers/export?format=ndjson&external_id=PC-1",
        &mgr,
    );
    assert_eq!(nd.status, 200, "{}", nd.text);
    let line: serde_json::Value =
        serde_json::from_str(nd.text.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(line["id"], id.as_str(), "{}", nd.text);
    assert_eq!(line["primary_contact"]["name"], "钱总", "{}", nd.text);
    assert_eq!(line["primary_contact"]["mobile"], "139 0000 1111");

    // Read back as exported, or with the numbers as a spreadsheet
    // rewrites them: nothing changes.
    let again = s.import_csv(&am, &text, true);
    assert_eq!(again.json["unchanged"], 1, "{}", again.text);
    let rewritten = text
        .replace("'+86 10 6123 0001", "010-61230001")
        .replace("139 0000 1111", "13900001111")
        .replace("Qian@Example.cn", "qian@example.cn");
    let same = s.import_csv(&am, &rewritten, true);
    assert_eq!(same.json["errors"], json!([]), "{}", same.text);
    assert_eq!(same.json["unchanged"], 1, "{}", same.text);
    // Another number is refused on its column, and nothing is written.
    let before = s.audit_count();
    let changed = text.replace("139 0000 1111", "139 0000 2222");
    let refused = s.import_csv(&am, &changed, false);
    assert_eq!(refused.status, 422, "{}", refused.text);
    let error = &refused.json["report"]["errors"][0];
    assert_eq!(error["field"], "primary_contact_mobile", "{}", refused.text);
    assert_eq!(error["code"], "kept_by_archive");
    assert_eq!(s.audit_count(), before);
    // A new file's contacts are not made by an import.
    let new_row = "external_id,name,nature,primary_contact_name\nPC-2,北京导入联系人有限公司,private,孙经理\n";
    let new_refused = s.import_csv(&am, new_row, true);
    assert_eq!(
        new_refused.json["errors"][0]["field"], "primary_contact_name",
        "{}",
        new_refused.text
    );
    assert_eq!(new_refused.json["errors"][0]["code"], "kept_by_archive");
}
