//! Syncing changes (CUS-04): an ERP asks for the files changed since its
//! last run. A change is stamped when its request starts and seen when it
//! commits, so the newest `updated_at` a sync saw is no place to resume
//! from; `X-Changes-Complete-Until` is.

use clientele_e2e::TestServer;
use std::collections::HashSet;
use std::time::Duration;

/// One run of a sync: every file changed since `from`, page by page, by
/// change; the external ids it saw, and where the next run resumes (the
/// first page's `X-Changes-Complete-Until`, taken before it read).
fn sync_run(s: &TestServer, token: &str, from: &str) -> (Vec<String>, String) {
    let (mut seen, mut resume, mut cursor) = (Vec::new(), None, String::new());
    loop {
        let path =
            format!("/api/v1/customers?updated_since={from}&sort=updated_at&limit=200{cursor}");
        let page = s.get(&path, token);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        let complete = page
            .header("x-changes-complete-until")
            .unwrap_or_else(|| panic!("{path}: no X-Changes-Complete-Until"))
            .to_owned();
        resume.get_or_insert(complete);
        for f in page.json["items"].as_array().into_iter().flatten() {
            if let Some(id) = f["external_id"].as_str() {
                seen.push(id.to_owned());
            }
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    (seen, resume.unwrap_or_default())
}

/// An ERP imports 1 500 files (external ids `{prefix}-0000`…) through
/// `writer` while its sync polls `reader`, each run resuming where the
/// last said every change was complete. Asserts that the sync saw every
/// imported file, the moment never going back, and that once nothing is
/// under way (after `settle`) the moment is past every change made.
fn sync_during_an_import(writer: &TestServer, reader: &TestServer, prefix: &str, settle: Duration) {
    let admin = writer.token("demo.admin");
    let mut csv = String::from("external_id,name,nature\n");
    for k in 0..1_500 {
        csv.push_str(&format!(
            "{prefix}-{k:04},同步{prefix}{k:04}号贸易有限公司,private\n"
        ));
    }
    let (_, mut from) = sync_run(reader, &admin, "2000-01-01T00:00:00Z");
    let mut seen = HashSet::new();
    let mut runs_during_import = 0;
    std::thread::scope(|scope| {
        let import = scope.spawn(|| writer.import_csv(&admin, &csv, false));
        loop {
            let finished = import.is_finished();
            let (got, next) = sync_run(reader, &admin, &from);
            assert!(next >= from, "the moment went back: {from} → {next}");
            seen.extend(got);
            from = next;
            if finished {
                break;
            }
            runs_during_import += 1;
        }
        let imported = import.join().unwrap_or_else(|_| panic!("import thread"));
        assert_eq!(imported.status, 200, "{}", imported.text);
    });
    assert!(runs_during_import > 0, "no sync ran while the import did");
    let missed: Vec<String> = (0..1_500)
        .map(|k| format!("{prefix}-{k:04}"))
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(
        missed.is_empty(),
        "{} imported files missed by the sync ({runs_during_import} runs during the import), first {:?}",
        missed.len(),
        missed.first()
    );
    std::thread::sleep(settle);
    let newest = reader.get("/api/v1/customers?sort=-updated_at&limit=1", &admin);
    let last_change = newest.json["items"][0]["updated_at"]
        .as_str()
        .unwrap_or_default();
    let now = newest
        .header("x-changes-complete-until")
        .unwrap_or_default();
    assert!(now > last_change, "{now} is not after {last_change}");
}

/// A sync that polls while an ERP import of 1 500 files runs sees every
/// imported file — the import's files are all stamped before runs that
/// started while it was under way; and once nothing is under way the
/// moment is the present again.
#[test]
fn r_cus_04_a_sync_resuming_where_changes_were_complete_misses_none() {
    let s = TestServer::start();
    sync_during_an_import(&s, &s, "SYNC", Duration::ZERO);
}

/// A sync in Beijing time writes its moment with `+08:00`; sent as it is
/// in a URL, the `+` arrives as a space. Read as the offset it is, the
/// moment finds the same files as its UTC form.
#[test]
fn r_cus_04_a_moment_in_beijing_time_sent_unencoded_is_read() {
    let s = TestServer::start();
    let admin = s.token("demo.admin");
    let ids = |path: &str| -> Vec<String> {
        let page = s.get(path, &admin);
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        page.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["id"].as_str().map(str::to_owned))
            .collect()
    };
    let utc = ids("/api/v1/customers?updated_since=2020-01-01T00:00:00Z&limit=200");
    assert!(!utc.is_empty());
    let beijing = ids("/api/v1/customers?updated_since=2020-01-01T08:00:00+08:00&limit=200");
    assert_eq!(beijing, utc);
    let audit = s.get(
        "/api/v1/audit-log?since=2020-01-01T08:00:00+08:00&limit=1",
        &admin,
    );
    assert_eq!(audit.status, 200, "{}", audit.text);
}

/// Two servers on one PostgreSQL, as behind a load balancer: an ERP
/// imports through one while its sync polls the other. The polled server
/// knows nothing of the other's import but the floor that server
/// publishes, which holds its moment back: the sync misses none, and once
/// the floors are exchanged again the moment is past every change.
/// (One process serves a SQLite file; there is no other to hear from.)
#[test]
fn r_cus_04_a_sync_through_one_server_misses_no_change_made_through_another() {
    let s = TestServer::start();
    if s.db.kind() != clientele_persistence::BackendKind::Postgres {
        return;
    }
    let other = s.replica();
    sync_during_an_import(&s, &other, "PEER", clientele_http::sync_floors::EVERY * 3);
}
