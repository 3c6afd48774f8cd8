//! Lists of rare and common values (CUS-03's filters): a value few files
//! hold is gathered from its own index, one many hold is found by walking
//! the list's order (`clientele_persistence::list_routes`). Either way a
//! list answers exactly the files that pass, in order, page after page.

use clientele_e2e::TestServer;
use clientele_persistence::customers::ListScope;
use clientele_persistence::list_routes::{Probe, Route};
use serde_json::Value;

/// Every file a list shows, page after page, in its order.
fn every_file(s: &TestServer, token: &str, query: &str, limit: u32) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/api/v1/customers?{query}&limit={limit}{cursor}");
        let page = s.get(&path, token);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        seen.extend(page.json["items"].as_array().cloned().unwrap_or_default());
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    seen
}

fn ids(files: &[Value]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_owned))
        .collect()
}

/// 480 files in Beijing, most alike; a few of each kind stand out: one in
/// 40 of another nature, industry, type, region and status, vulnerable, or
/// kept by the Beijing team. And 300 Shanghai files in Shenzhen, which the
/// Beijing branch does not see.
fn import_files(s: &TestServer, admin: &str) {
    let mut csv = String::from(
        "external_id,name,nature,industry,customer_type,region_code,status,vulnerable,owner_unit_code,tags\n",
    );
    for k in 0..480 {
        let odd = |shift: usize| (k + shift).is_multiple_of(40);
        csv.push_str(&format!(
            "ROUTE-{k:03},路线测试{k:03}号有限公司,{},{},{},{},{},{},{},{}\n",
            if odd(0) { "foreign" } else { "private" },
            if odd(1) { "金融业" } else { "制造业" },
            if odd(2) { "agent" } else { "end_user" },
            if odd(3) { "650102" } else { "110105" },
            if odd(4) { "dormant" } else { "active" },
            if odd(5) { "true" } else { "false" },
            if odd(6) { "BJ-P1" } else { "BJ" },
            if odd(8) { "稀有" } else { "常见" },
        ));
    }
    for k in 0..300 {
        csv.push_str(&format!(
            "ROUTE-SH-{k:03},深圳路线{k:03}号有限公司,private,制造业,end_user,440305,active,false,SH,常见\n"
        ));
    }
    let imported = s.import_csv(admin, &csv, false);
    assert_eq!(imported.status, 200, "{}", imported.text);
}

/// The moment after which only the files changed next were changed: 12
/// Beijing files and 2 Shenzhen ones, renamed by a second import.
fn change_a_few(s: &TestServer, admin: &str) -> String {
    let changed_from = latest_change(s, admin);
    let mut csv = String::from("external_id,name\n");
    for k in (7..480).step_by(40) {
        csv.push_str(&format!("ROUTE-{k:03},路线测试{k:03}号改名有限公司\n"));
    }
    for k in [11, 211] {
        csv.push_str(&format!("ROUTE-SH-{k:03},深圳路线{k:03}号改名有限公司\n"));
    }
    let imported = s.import_csv(admin, &csv, false);
    assert_eq!(imported.status, 200, "{}", imported.text);
    changed_from
}

/// Just after the last change to any file.
fn latest_change(s: &TestServer, admin: &str) -> String {
    let newest = s.get("/api/v1/customers?sort=-updated_at&limit=1", admin);
    let at = newest.json["items"][0]["updated_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("{}", newest.text));
    (at + chrono::Duration::microseconds(1))
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn changed_at(f: &Value) -> chrono::DateTime<chrono::Utc> {
    f["updated_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("{f}"))
        .to_utc()
}

/// Gathered or walked, a list of a value answers the files that hold it in
/// the list's order, for the whole archive and for a branch's view of it;
/// counts agree.
#[test]
fn r_cus_03_rare_and_common_values_list_the_same_files() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    import_files(&s, &admin);
    let changed_from = change_a_few(&s, &admin);
    let since = chrono::DateTime::parse_from_rfc3339(&changed_from)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_utc();
    let (bj, team, sh) = (s.unit_id("BJ"), s.unit_id("BJ-P1"), s.unit_id("SH"));
    // Three Shanghai files are shared: all of that unit Beijing sees.
    for k in [7, 150, 299] {
        let found = s.get(
            &format!("/api/v1/customers?external_id=ROUTE-SH-{k:03}"),
            &admin,
        );
        let id = found.json["items"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let path = format!("/api/v1/customers/{id}");
        let etag = s
            .get(&path, &admin)
            .header("etag")
            .unwrap_or_default()
            .to_owned();
        let shared = s.patch(&path, &admin, &etag, &serde_json::json!({"shared": true}));
        assert_eq!(shared.status, 200, "{}", shared.text);
    }

    // Which values are rare: 12 files of 480 are gathered, the rest walked.
    let everything = ListScope {
        unit_path: None,
        clearance_rank: i32::MAX,
    };
    let route_in = |scope: &ListScope, probes: Vec<Probe>| {
        let shares = s.db.shares();
        s.db.read(|c| shares.route(c, scope, &probes))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let route = |probes: Vec<Probe>| route_in(&everything, probes);
    for rare in [
        Probe::Nature("foreign".into()),
        Probe::Industry("金融业".into()),
        Probe::CustomerType("agent".into()),
        Probe::Region("65".into()),
        Probe::Status("dormant".into()),
        Probe::Vulnerable(true),
        Probe::ChangedSince(since.naive_utc()),
        Probe::Tag("稀有".into()),
    ] {
        assert_eq!(route(vec![rare.clone()]), Route::Gather(rare));
    }
    let ever = chrono::DateTime::UNIX_EPOCH.naive_utc();
    assert_eq!(route(vec![Probe::ChangedSince(ever)]), Route::Walk);
    for common in [
        Probe::Nature("private".into()),
        Probe::Industry("制造业".into()),
        Probe::CustomerType("end_user".into()),
        Probe::Region("1101".into()),
        Probe::Status("active".into()),
        Probe::Vulnerable(false),
        Probe::Tag("常见".into()),
    ] {
        assert_eq!(route(vec![common.clone()]), Route::Walk, "{common:?}");
    }
    // Shenzhen is common in the archive, and rare in Beijing's sight.
    let beijing_path =
        s.db.read(|c| clientele_persistence::units::get(c, &bj))
            .unwrap_or_else(|e| panic!("{e}"))
            .path;
    let beijing_sight = ListScope {
        unit_path: Some(beijing_path),
        clearance_rank: 1,
    };
    let shenzhen = Probe::Region("4403".into());
    assert_eq!(route(vec![shenzhen.clone()]), Route::Walk);
    assert_eq!(
        route_in(&beijing_sight, vec![shenzhen.clone()]),
        Route::Gather(shenzhen)
    );
    // So is the Shanghai unit: only its shared files are in Beijing's sight.
    let sh_path =
        s.db.read(|c| clientele_persistence::units::get(c, &sh))
            .unwrap_or_else(|e| panic!("{e}"))
            .path;
    let shanghai = Probe::Unit(sh_path);
    assert_eq!(route(vec![shanghai.clone()]), Route::Walk);
    assert_eq!(
        route_in(&beijing_sight, vec![shanghai.clone()]),
        Route::Gather(shanghai)
    );
    // With a common filter beside it, the rare one is gathered.
    assert_eq!(
        route(vec![
            Probe::Status("active".into()),
            Probe::Region("6501".into())
        ]),
        Route::Gather(Probe::Region("6501".into()))
    );

    type Test = Box<dyn Fn(&Value) -> bool>;
    let held = |field: &'static str, value: Value| -> Test { Box::new(move |f| f[field] == value) };
    let region = |prefix: &'static str| -> Test {
        Box::new(move |f| {
            f["region_code"]
                .as_str()
                .is_some_and(|r| r.starts_with(prefix))
        })
    };
    let both = |a: Test, b: Test| -> Test { Box::new(move |f| a(f) && b(f)) };
    let beijing = || -> Test {
        let (bj, team) = (bj.clone(), team.clone());
        Box::new(move |f| f["owner_unit_id"] == bj || f["owner_unit_id"] == team)
    };
    let changed =
        |from: chrono::DateTime<chrono::Utc>| -> Test { Box::new(move |f| changed_at(f) >= from) };
    let since_query = format!("updated_since={}", changed_from.replace('+', "%2B"));
    let tagged = |tag: &'static str| -> Test {
        Box::new(move |f| {
            f["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|v| v == tag))
        })
    };
    let filters: Vec<(String, Test)> = vec![
        ("tag=%E7%A8%80%E6%9C%89".into(), tagged("稀有")),
        ("tag=%E5%B8%B8%E8%A7%81".into(), tagged("常见")),
        (
            "tag=%E5%B8%B8%E8%A7%81&status=dormant".into(),
            both(tagged("常见"), held("status", "dormant".into())),
        ),
        (since_query.clone(), changed(since)),
        (
            "updated_since=2000-01-01T00:00:00Z".into(),
            changed(chrono::DateTime::UNIX_EPOCH),
        ),
        (
            format!("{since_query}&status=active"),
            both(changed(since), held("status", "active".into())),
        ),
        ("nature=foreign".into(), held("nature", "foreign".into())),
        ("nature=private".into(), held("nature", "private".into())),
        (
            "industry=%E9%87%91%E8%9E%8D%E4%B8%9A".into(),
            held("industry", "金融业".into()),
        ),
        (
            "industry=%E5%88%B6%E9%80%A0%E4%B8%9A".into(),
            held("industry", "制造业".into()),
        ),
        (
            "customer_type=agent".into(),
            held("customer_type", "agent".into()),
        ),
        (
            "customer_type=end_user".into(),
            held("customer_type", "end_user".into()),
        ),
        ("region=65".into(), region("65")),
        ("region=1101".into(), region("1101")),
        ("region=44".into(), region("44")),
        ("status=dormant".into(), held("status", "dormant".into())),
        ("status=active".into(), held("status", "active".into())),
        ("vulnerable=true".into(), held("vulnerable", true.into())),
        ("vulnerable=false".into(), held("vulnerable", false.into())),
        (
            "status=active&region=6501".into(),
            both(held("status", "active".into()), region("6501")),
        ),
        (
            "nature=private&industry=%E9%87%91%E8%9E%8D%E4%B8%9A&vulnerable=false".into(),
            both(
                both(
                    held("nature", "private".into()),
                    held("industry", "金融业".into()),
                ),
                held("vulnerable", false.into()),
            ),
        ),
        (
            format!("unit_id={team}"),
            held("owner_unit_id", team.clone().into()),
        ),
        (format!("unit_id={bj}"), beijing()),
        // Another branch's unit: Beijing sees its shared files only.
        (
            format!("unit_id={sh}"),
            held("owner_unit_id", sh.clone().into()),
        ),
        (
            format!("unit_id={sh}&status=active"),
            both(
                held("owner_unit_id", sh.clone().into()),
                held("status", "active".into()),
            ),
        ),
        (
            format!("unit_id={bj}&status=dormant"),
            both(beijing(), held("status", "dormant".into())),
        ),
    ];
    let manager = s.token("demo.manager.bj");
    for (who, token) in [("admin", &admin), ("manager", &manager)] {
        for sort in ["name", "-updated_at", "updated_at", "created_at"] {
            let all = every_file(&s, token, &format!("sort={sort}"), 100);
            assert!(all.len() >= 480, "{who} sees {} files", all.len());
            for (query, passes) in &filters {
                let wanted: Vec<Value> = all.iter().filter(|f| passes(f)).cloned().collect();
                let limit = if wanted.len() > 40 { 60 } else { 4 };
                let got = every_file(&s, token, &format!("{query}&sort={sort}"), limit);
                assert_eq!(
                    ids(&got),
                    ids(&wanted),
                    "{who}, {query}, by {sort}: {} files, {} wanted",
                    got.len(),
                    wanted.len()
                );
                if sort == "name" {
                    let counted = s.get(
                        &format!("/api/v1/customers/counts?by=status&{query}"),
                        token,
                    );
                    assert_eq!(counted.status, 200, "{}", counted.text);
                    assert_eq!(
                        counted.json["total"].as_u64(),
                        Some(wanted.len() as u64),
                        "{who}, counts of {query}: {}",
                        counted.text
                    );
                }
            }
        }
    }
}
