//! Who is calling? A customer found by how one of its contacts is reached
//! (CUS-02's contacts; `GET /customers?contact=…`): a number however
//! either side wrote it, an address in any case, within the caller's sight
//! (CUS-07), and every file shown registered as read (CUS-08).

use clientele_e2e::{Resp, TestServer};
use serde_json::json;

/// The ids a lookup lists, in the list's order.
fn found(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn lookup(s: &TestServer, token: &str, contact: &str) -> Vec<String> {
    let encoded: String = url_encode(contact);
    found(&s.get(&format!("/api/v1/customers?contact={encoded}"), token))
}

fn url_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn r_cus_02_a_caller_is_found_by_a_contacts_number_or_address() {
    let s = TestServer::start();
    let (am, admin) = (s.token("demo.am.bj"), s.token("demo.admin"));
    let steel = s.private_file(&am, "北京来电钢铁有限公司");
    let cement = s.private_file(&am, "北京来电水泥有限公司");
    let glass = s.private_file(&am, "北京来电玻璃有限公司");
    let shanghai = s.private_file(&s.token("demo.am.sh"), "上海来电航运有限公司");
    s.add_contact(
        &am,
        &steel,
        json!({"name": "李伟", "phone": "010-8888 6666", "mobile": "+86 139 1234 5678",
               "email": "Li.Wei@Example.com"}),
    );
    // The same person also speaks for a second customer.
    s.add_contact(
        &am,
        &cement,
        json!({"name": "李伟", "mobile": "13912345678"}),
    );
    let leaver = s.add_contact(
        &am,
        &glass,
        json!({"name": "王芳", "phone": "（０２１）５５５５－６６６６"}),
    );
    // Another branch's customer shares the switchboard number.
    s.add_contact(
        &s.token("demo.am.sh"),
        &shanghai,
        json!({"name": "赵敏", "phone": "(010)88886666"}),
    );

    // A landline however the caller display shows it; only what the
    // Beijing account manager may see.
    for written in [
        "01088886666",
        "010-88886666",
        "+86 10 8888 6666",
        "0086 10 88886666",
    ] {
        assert_eq!(lookup(&s, &am, written), vec![steel.clone()], "{written}");
    }
    let mut everywhere = lookup(&s, &admin, "010 8888 6666");
    everywhere.sort();
    let mut both = vec![steel.clone(), shanghai.clone()];
    both.sort();
    assert_eq!(everywhere, both);
    // The + of a country code sent unencoded arrives as a space.
    let unencoded = s.get("/api/v1/customers?contact=+86%2010%208888%206666", &am);
    assert_eq!(found(&unencoded), vec![steel.clone()]);
    // A mobile, in a contact's mobile, whoever wrote it how; both files of
    // the person, in the list's order (by name: 钢铁 before 水泥).
    for written in [
        "13912345678",
        "+8613912345678",
        "013912345678",
        "１３９ １２３４ ５６７８",
    ] {
        assert_eq!(
            lookup(&s, &am, written),
            vec![steel.clone(), cement.clone()],
            "{written}"
        );
    }
    // And within the file, who it is.
    s.add_contact(
        &am,
        &steel,
        json!({"name": "郑国栋", "phone": "010-6588 1001-8001"}),
    );
    // A caller's display shows the line, never the extension.
    assert_eq!(lookup(&s, &am, "+86 10 6588 1001"), vec![steel.clone()]);
    let who = s.get(
        &format!(
            "/api/v1/customers/{steel}/contacts?contact={}",
            url_encode("+86 139-1234-5678")
        ),
        &am,
    );
    assert_eq!(who.status, 200, "{}", who.text);
    let names: Vec<&str> = who
        .json
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["李伟"], "{}", who.text);
    s.get(
        &format!("/api/v1/customers/{steel}/contacts?contact=1234"),
        &am,
    )
    .assert_refused_on(400, "invalid_query", "contact", "invalid_contact");
    // The search box finds them too, beside what it finds by name.
    let searched = |q: &str| found(&s.get(&format!("/api/v1/customers?q={}", url_encode(q)), &am));
    assert_eq!(
        searched("+86 139 1234 5678"),
        vec![steel.clone(), cement.clone()]
    );
    assert_eq!(searched("LI.WEI@example.com"), vec![steel.clone()]);
    assert_eq!(searched("来电水泥"), vec![cement.clone()]);
    // An address in any case; a number in a phone field.
    assert_eq!(lookup(&s, &am, "li.wei@EXAMPLE.com"), vec![steel.clone()]);
    assert_eq!(lookup(&s, &am, "021 5555 6666"), vec![glass.clone()]);
    // Other filters still apply.
    let narrowed = s.get(
        &format!(
            "/api/v1/customers?contact=13912345678&name={}",
            url_encode("水泥")
        ),
        &am,
    );
    assert_eq!(found(&narrowed), vec![cement.clone()]);
    // Nobody has this number.
    assert!(lookup(&s, &am, "010-6666 8888").is_empty());

    // A removed contact no longer speaks for the customer.
    let removed = s.call(
        "DELETE",
        &format!("/api/v1/customers/{glass}/contacts/{leaver}"),
        Some(&am),
        None,
        &[("if-match", "\"1\"")],
    );
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert!(lookup(&s, &am, "021 5555 6666").is_empty());

    // A changed number is found by its new form only.
    let moved = s.add_contact(
        &am,
        &glass,
        json!({"name": "孙强", "mobile": "13700001111"}),
    );
    let changed = s.patch(
        &format!("/api/v1/customers/{glass}/contacts/{moved}"),
        &am,
        "\"1\"",
        &json!({"mobile": "+86 137 0000 2222"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(lookup(&s, &am, "13700001111").is_empty());
    assert_eq!(lookup(&s, &am, "13700002222"), vec![glass.clone()]);

    // A merge takes the contacts to the surviving file, and so the lookup.
    let merged = s.post(
        &format!("/api/v1/customers/{steel}/merge"),
        &s.token("demo.manager.bj"),
        &json!({"absorbed_id": cement}),
    );
    assert_eq!(merged.status, 200, "{}", merged.text);
    assert_eq!(lookup(&s, &am, "13912345678"), vec![steel.clone()]);

    // Every file a lookup shows is registered as read, like any list's.
    let log = s.get(
        &format!("/api/v1/customers/{steel}/access-log?limit=200"),
        &s.token("demo.auditor"),
    );
    let listed = log.json["items"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "list").count())
        .unwrap_or_default();
    assert!(listed >= 10, "{}", log.text);
}

#[test]
fn r_cus_02_a_lookup_names_a_number_or_an_address() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    for bad in ["1008", "abc", "138x0013", "@example.com", "li wei@x.cn"] {
        let r = s.get(
            &format!("/api/v1/customers?contact={}", url_encode(bad)),
            &am,
        );
        r.assert_refused_on(400, "invalid_query", "contact", "invalid_contact");
    }
    for path in ["/api/v1/customers", "/api/v1/customers/{id}/contacts"] {
        let file = s.private_file(&am, "北京超长号码有限公司");
        let long = "0".repeat(255);
        let path = path.replace("{id}", &file);
        s.get(&format!("{path}?contact={long}"), &am)
            .assert_refused_on(400, "invalid_query", "contact", "invalid_length");
        s.get(&format!("{path}?contact={}", url_encode("a@")), &am)
            .assert_refused_on(400, "invalid_query", "contact", "invalid_length");
    }
    // A service number is short, and still a number.
    let r = s.get("/api/v1/customers?contact=95588", &am);
    assert_eq!(r.status, 200, "{}", r.text);
    // Counts are of classes, not of one customer's contacts.
    s.get("/api/v1/customers/counts?by=status&contact=95588", &am)
        .assert_refused_on(400, "invalid_query", "contact", "unknown_parameter");
}

/// Contacts stored before the lookup existed get their keys when the
/// migrations run.
#[test]
fn r_cus_02_contacts_from_before_are_found_after_the_upgrade() {
    use clientele_persistence::schema::customer_contacts;
    use diesel::prelude::*;
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    let file = s.private_file(&am, "北京升级来电有限公司");
    s.add_contact(
        &am,
        &file,
        json!({"name": "周到", "phone": "0755-8888 1234", "email": "Zhou@Example.cn"}),
    );
    assert_eq!(lookup(&s, &am, "075588881234"), vec![file.clone()]);
    let before = s.get(&format!("/api/v1/customers/{file}"), &am);
    s.upgrade_from("20261207000030");
    assert_eq!(lookup(&s, &am, "+86 755 8888 1234"), vec![file.clone()]);
    assert_eq!(lookup(&s, &am, "zhou@example.cn"), vec![file.clone()]);
    // Keyed once: the list is empty, and the keys are stored.
    let unkeyed: i64 =
        s.db.read(|c| {
            Ok(customer_contacts::table
                .filter(customer_contacts::phone.is_not_null())
                .filter(customer_contacts::phone_key.is_null())
                .count()
                .get_result(c)?)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unkeyed, 0);
    // The keys are no change to the file.
    let file_now = s.get(&format!("/api/v1/customers/{file}"), &am);
    assert_eq!(
        file_now.header("etag"),
        before.header("etag"),
        "{}",
        file_now.text
    );
}

/// Two primary contacts added at the same moment leave one primary.
#[test]
fn r_cus_02_two_primaries_at_once_leave_one() {
    let s = TestServer::start();
    let am = s.token("demo.am.bj");
    for round in 0..8 {
        let file = s.private_file(&am, &format!("北京并发联系人{round}号有限公司"));
        let add = |name: &str| {
            s.post(
                &format!("/api/v1/customers/{file}/contacts"),
                &am,
                &json!({"name": name, "phone": "010-12345678", "is_primary": true}),
            )
            .status
        };
        let (one, other) = std::thread::scope(|sc| {
            let one = sc.spawn(|| add("甲"));
            let other = sc.spawn(|| add("乙"));
            (one.join().unwrap_or(0), other.join().unwrap_or(0))
        });
        assert_eq!((one, other), (201, 201), "round {round}");
        let listed = s.get(&format!("/api/v1/customers/{file}/contacts"), &am);
        let primaries = listed.json["items"]
            .as_array()
            .or(listed.json.as_array())
            .map(|a| a.iter().filter(|c| c["is_primary"] == true).count());
        assert_eq!(primaries, Some(1), "round {round}: {}", listed.text);
    }
}
