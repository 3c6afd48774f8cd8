//! `clientele-bench`: starts the server on a fresh database (SQLite or
//! PostgreSQL), seeds it, drives load at each endpoint for a fixed time from
//! keep-alive client threads, and reports throughput and p50/p99 latency
//! beside `/healthz` measured in the same run, as ratios. With `--write`,
//! the section for that backend in `docs/benchmarks.md` is replaced.

use clap::Parser;
use clientele_core::SystemClock;
use clientele_http::{ApiConfig, AppState};
use clientele_persistence::{migrate, Db, DbSettings};
use diesel::connection::SimpleConnection;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The same allocator as the `clientele` binary, so the in-process server
/// is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// Admin URL for PostgreSQL; a fresh database is made from it and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Seconds of load per endpoint.
    #[arg(long, default_value_t = 8)]
    seconds: u64,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Server worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Replace this backend's section in the given Markdown file.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
    /// Seed this many customer files and measure the customer endpoints
    /// instead of the platform ones.
    #[arg(long, default_value_t = 0)]
    customers: usize,
    /// With `--customers`: drive only `get` (one file) or `list` (a page),
    /// beside `/healthz` (for profiling one path; not for `--write`); or
    /// `search`, the quick search `q` for parts of names (rare and common);
    /// `duplicates`, the archive-wide duplicate report and the check before a file is opened; `counts`, counts by
    /// classification; or `import`, a CSV import of 10 000 new files (dry
    /// run, then commit; then a dry run of 10 000 more, ten of them
    /// faulty; then the first 10 000 again, changed); or `handover`, an
    /// import of 9 000 files naming their keeper, then all of them handed
    /// to a successor; or `filters`, list pages of values rare in the
    /// archive or in the caller's sight beside common ones; or `contacts`,
    /// files looked up by a contact's number; or `contact-import`, 10 000
    /// contacts of 5 000 files imported (dry run, commit, again unchanged,
    /// again changed): these eight the default run leaves out.
    #[arg(long)]
    only: Option<String>,
    /// Leave the scratch database in place (its SQLite path or PostgreSQL
    /// name is printed), to look at its plans afterwards.
    #[arg(long)]
    keep: bool,
}

struct Outcome {
    name: String,
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time of this process (server and load generator; not a
    /// PostgreSQL server) per request, in microseconds: steadier than
    /// throughput on a machine whose speed moves.
    cpu_us: f64,
}

/// CPU seconds used so far by this process, all threads (Linux `/proc`).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // utime and stime, fields 14 and 15 of the whole line, in clock ticks.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / 100.0
}

fn drive(name: &str, url: &str, token: Option<&str>, secs: u64, conns: usize) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let results: Vec<(Vec<u32>, usize)> = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..conns)
            .map(|_| {
                sc.spawn(|| {
                    let agent = ureq::AgentBuilder::new()
                        .timeout(Duration::from_secs(10))
                        .build();
                    let auth = token.map(|t| format!("Bearer {t}"));
                    let mut lat = Vec::with_capacity(100_000);
                    let mut errors = 0usize;
                    while Instant::now() < deadline {
                        let t0 = Instant::now();
                        let mut req = agent.get(url);
                        if let Some(a) = &auth {
                            req = req.set("authorization", a);
                        }
                        match req.call() {
                            Ok(r) => {
                                let _ = r.into_string();
                                lat.push(t0.elapsed().as_micros() as u32);
                            }
                            Err(_) => errors += 1,
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    let errors = results.iter().map(|r| r.1).sum();
    let mut all: Vec<u32> = results.into_iter().flat_map(|r| r.0).collect();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return 0.0;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        f64::from(all[i]) / 1000.0
    };
    Outcome {
        name: name.to_owned(),
        requests: all.len(),
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        cpu_us: cpu * 1e6 / (all.len().max(1) as f64),
    }
}

/// `/healthz`, `/me` with and without the session cache.
type Targets = Vec<(&'static str, usize, f64)>;

fn platform_scenario(
    args: &Args,
    base: &str,
    strict: &str,
    token: &str,
) -> (Vec<Outcome>, Targets) {
    let _ = drive(
        "warm-up",
        &format!("{base}/healthz"),
        None,
        1,
        args.connections,
    );
    let _ = drive(
        "warm-up",
        &format!("{base}/api/v1/me"),
        Some(token),
        1,
        args.connections,
    );
    let baseline = drive(
        "GET /healthz",
        &format!("{base}/healthz"),
        None,
        args.seconds,
        args.connections,
    );
    let me = drive(
        "GET /api/v1/me",
        &format!("{base}/api/v1/me"),
        Some(token),
        args.seconds,
        args.connections,
    );
    let me_strict = drive(
        "GET /api/v1/me (session cache off)",
        &format!("{strict}/api/v1/me"),
        Some(token),
        args.seconds,
        args.connections,
    );
    let units = drive(
        "GET /api/v1/units?limit=20",
        &format!("{base}/api/v1/units?limit=20"),
        Some(token),
        args.seconds,
        args.connections,
    );
    (
        vec![baseline, me, me_strict, units],
        vec![("GET /api/v1/me", 1, 0.5)],
    )
}

/// Seeds `args.customers` files across the demo units, then reads one file
/// and a filtered page of 20 as the Beijing branch manager.
fn customer_scenario(args: &Args, db: &Db, base: &str) -> (Vec<Outcome>, Targets) {
    let started = Instant::now();
    let sample = seed_customers(db, args.customers);
    eprintln!(
        "seeded {} customers in {:.1}s",
        args.customers,
        started.elapsed().as_secs_f64()
    );
    let login: serde_json::Value = ureq::post(&format!("{base}/api/v1/auth/token"))
        .send_json(serde_json::json!({"grant_type": "password", "username": "demo.manager.bj", "password": clientele_server::demo::DEMO_PASSWORD}))
        .ok()
        .and_then(|r| r.into_json().ok())
        .unwrap_or_default();
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let one = format!("{base}/api/v1/customers/{sample}");
    let list = format!("{base}/api/v1/customers?region=1101&status=active&limit=20");
    let _ = drive(
        "warm-up",
        &format!("{base}/healthz"),
        None,
        1,
        args.connections,
    );
    let _ = drive("warm-up", &one, Some(&token), 1, args.connections);
    let _ = drive("warm-up", &list, Some(&token), 1, args.connections);
    let baseline = drive(
        "GET /healthz",
        &format!("{base}/healthz"),
        None,
        args.seconds,
        args.connections,
    );
    let wanted = |what: &str| args.only.as_deref().is_none_or(|o| o == what);
    let skipped = |name: &str| Outcome {
        name: format!("{name} (not run)"),
        requests: 0,
        errors: 0,
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        cpu_us: 0.0,
    };
    let get_name = "GET /api/v1/customers/{id} (+ register write)";
    let get = if wanted("get") {
        drive(get_name, &one, Some(&token), args.seconds, args.connections)
    } else {
        skipped(get_name)
    };
    let page_name =
        "GET /api/v1/customers?region=1101&status=active&limit=20 (+ 20 register writes)";
    let page = if wanted("list") {
        drive(
            page_name,
            &list,
            Some(&token),
            args.seconds,
            args.connections,
        )
    } else {
        skipped(page_name)
    };
    if args.only.as_deref() == Some("search") {
        // Rare terms (one file's mnemonic, one pair of leading characters,
        // which a few files share) and common ones (every file's).
        let middle = args.customers / 2;
        let pair: String = seed_name(middle).chars().take(2).collect();
        let first: String = seed_name(middle).chars().take(1).collect();
        let terms = [
            format!("kh{middle:07}h"),
            pair,
            first,
            "有限公司".to_owned(),
            "客户".to_owned(),
        ];
        for term in terms {
            let search = format!("{base}/api/v1/customers?q={}&limit=20", percent(&term));
            let _ = drive("warm-up", &search, Some(&token), 1, 1);
            for conns in [1, args.connections] {
                let o = drive(
                    &format!("GET /api/v1/customers?q={term} ({conns} connections)"),
                    &search,
                    Some(&token),
                    args.seconds,
                    conns,
                );
                eprintln!(
                    "{}: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
                    o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
                );
            }
        }
    }
    if args.only.as_deref() == Some("duplicates") {
        // The archive-wide duplicate report: seeded names are all distinct,
        // so a page walks every file the caller may see (the worst case).
        let report = format!("{base}/api/v1/customers/duplicate-groups?limit=50");
        let _ = drive("warm-up", &report, Some(&token), 1, 1);
        let o = drive(
            "GET /api/v1/customers/duplicate-groups (1 connection)",
            &report,
            Some(&token),
            args.seconds,
            1,
        );
        eprintln!(
            "{}: {:.1}/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
        );
        // The check a form makes before a file is opened: a name the
        // archive holds, one it does not, and a name with a credit code
        // (seeded files have none: the code is looked up and not found).
        let held = answer_of(
            ureq::get(&format!("{base}/api/v1/customers?limit=1"))
                .set("authorization", &format!("Bearer {token}"))
                .call(),
        )
        .map(|page| page["items"][0].clone())
        .unwrap_or_default();
        let name = held["name"].as_str().unwrap_or_default();
        for (what, query) in [
            ("a name held", format!("name={}", percent(name))),
            (
                "a new name",
                "name=%E5%85%A8%E6%96%B0%E5%AE%A2%E6%88%B7".to_owned(),
            ),
            (
                "a name held and a credit code",
                format!("name={}&credit_code=91110108335512358G", percent(name)),
            ),
        ] {
            let url = format!("{base}/api/v1/customers/duplicate-check?{query}");
            let o = drive(
                &format!("GET /api/v1/customers/duplicate-check, {what} (1 connection)"),
                &url,
                Some(&token),
                args.seconds,
                1,
            );
            eprintln!(
                "{}: {:.1}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
            );
        }
    }
    if args.only.as_deref() == Some("counts") {
        // Analysis counts over every file in sight (CUS-03): the whole
        // archive the Beijing manager sees, and one region of it.
        for query in [
            "by=nature",
            "by=province",
            "by=owner_unit",
            "by=status&region=1101",
        ] {
            let url = format!("{base}/api/v1/customers/counts?{query}");
            let _ = drive("warm-up", &url, Some(&token), 1, 1);
            let o = drive(
                &format!("GET /api/v1/customers/counts?{query} (1 connection)"),
                &url,
                Some(&token),
                args.seconds,
                1,
            );
            eprintln!(
                "{}: {:.1}/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
                o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
            );
        }
    }
    if args.only.as_deref() == Some("contacts") {
        contact_lookups(args, db, base, &token);
    }
    if args.only.as_deref() == Some("filters") {
        filter_pages(args, db, base, &token);
    }
    if args.only.as_deref() == Some("import") {
        make_files_by_hand(base, &token);
        // An ERP's import of 10 000 new files of eight columns: a dry run
        // (every write, rolled back), then the commit.
        let rows = 10_000;
        let mut csv =
            String::from("external_id,name,nature,industry,region_code,address,status,tags\n");
        for k in 0..rows {
            csv.push_str(&format!(
                "BENCH-{k:05},导入测试客户{k:05}号贸易有限公司,private,批发零售,110105,\
                 北京市朝阳区某路{k}号,active,导入;测试\n"
            ));
        }
        // Then an ERP's first dry run of another such file, ten of whose
        // rows name a unit that does not exist: faults found only when
        // the row is written.
        let mut faulty = String::from("external_id,name,nature,owner_unit_code\n");
        for k in 0..rows {
            let unit = if k % (rows / 10) == rows / 20 {
                "NO-SUCH-UNIT"
            } else {
                ""
            };
            faulty.push_str(&format!(
                "FAULTY-{k:05},导入测试客户{k:05}号商贸有限公司,private,{unit}\n"
            ));
        }
        // And an ERP's nightly sync: the same files again, each with a new
        // address.
        let changed = csv.replace("某路", "新路");
        for (what, body, dry_run) in [
            ("new files", &csv, true),
            ("new files", &csv, false),
            ("new files, 10 of them faulty", &faulty, true),
            ("changed files", &changed, true),
            ("changed files", &changed, false),
        ] {
            timed_import(base, &token, &format!("{rows} {what}"), body, dry_run);
        }
    }
    if args.only.as_deref() == Some("contact-import") {
        // An ERP's first import of contacts: 5 000 files, then two
        // contacts of each, named by their files' ERP ids; then the same
        // sheet again (nothing changes), then with a new title each.
        let files = 5_000;
        let mut csv = String::from("external_id,name,nature\n");
        for k in 0..files {
            csv.push_str(&format!(
                "CBENCH-{k:05},联系人测试客户{k:05}号贸易有限公司,private\n"
            ));
        }
        timed_import(base, &token, &format!("{files} new files"), &csv, false);
        let mut contacts = String::from(
            "customer_external_id,contact_external_id,name,title,mobile,email,is_primary\n",
        );
        for k in 0..files {
            for (n, (name, primary)) in [("采购", "是"), ("财务", "否")].iter().enumerate() {
                contacts.push_str(&format!(
                    "CBENCH-{k:05},P-{k:05}-{n},{name}{k:05},经理,139{k:05}{n:03},c{k}.{n}@example.com,{primary}\n"
                ));
            }
        }
        let retitled = contacts.replace(",经理,", ",总监,");
        let rows = files * 2;
        for (what, body, dry_run) in [
            ("new contacts", &contacts, true),
            ("new contacts", &contacts, false),
            ("the same contacts", &contacts, false),
            ("changed contacts", &retitled, false),
        ] {
            timed_upload(
                "customers/contacts/import",
                base,
                &token,
                &format!("{rows} {what}"),
                body,
                dry_run,
            );
        }
    }
    if args.only.as_deref() == Some("handover") {
        make_files_by_hand(base, &token);
        // An ERP's import of 9 000 files, each naming its keeper, then all
        // of them handed to a successor when the keeper leaves.
        let rows = 9_000;
        let mut csv = String::from("external_id,name,nature,owner_username,owner_unit_code\n");
        for k in 0..rows {
            csv.push_str(&format!(
                "KEPT-{k:05},交接测试客户{k:05}号贸易有限公司,private,demo.am.bj,BJ\n"
            ));
        }
        timed_import(
            base,
            &token,
            &format!("{rows} new files naming their keeper"),
            &csv,
            false,
        );
        let (leaving, successor) = (
            user_id(base, &token, "demo.am.bj"),
            user_id(base, &token, "demo.manager.bj"),
        );
        let started = Instant::now();
        let answer = answer_of(
            ureq::post(&format!("{base}/api/v1/customers/hand-over"))
                .set("authorization", &format!("Bearer {token}"))
                .send_json(serde_json::json!({"from_user_id": leaving, "to_user_id": successor})),
        );
        eprintln!(
            "POST /api/v1/customers/hand-over: {:.1} s, {} files handed over",
            started.elapsed().as_secs_f64(),
            answer.map_or("no answer".into(), |v| match &v["handed_over"] {
                n if n.is_number() => n.to_string(),
                _ => v.to_string(),
            })
        );
    }
    if let Ok(m) = ureq::get(&format!("{base}/metrics")).call() {
        let text = m.into_string().unwrap_or_default();
        let count = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0.0)
        };
        let (b, r) = (
            count("clientele_read_register_batches_total"),
            count("clientele_read_register_requests_total"),
        );
        eprintln!(
            "read register: {r} requests in {b} commits, {:.1} a commit",
            r / b.max(1.0)
        );
    }
    (
        vec![baseline, get, page],
        vec![
            ("GET /api/v1/customers/{id}", 1, 0.35),
            ("GET /api/v1/customers?…&limit=20", 2, 0.20),
        ],
    )
}

/// Files made one at a time, as people make them before the first ERP
/// import: on PostgreSQL their writes leave plans behind on the server's
/// connections for tables as small as they were then (run with
/// `--customers 1` for an archive's first import).
fn make_files_by_hand(base: &str, token: &str) {
    for k in 0..40 {
        let _ = ureq::post(&format!("{base}/api/v1/customers"))
            .set("authorization", &format!("Bearer {token}"))
            .send_json(
                serde_json::json!({"name": format!("手工建档客户{k:02}号"), "nature": "private"}),
            );
    }
}

/// The JSON of an answer, a refusal's too.
fn answer_of(answer: Result<ureq::Response, ureq::Error>) -> Option<serde_json::Value> {
    match answer {
        Ok(r) => r.into_json().ok(),
        Err(ureq::Error::Status(_, r)) => r.into_json().ok(),
        Err(_) => None,
    }
}

/// Imports `body` and prints how long it took and what it did.
fn timed_import(base: &str, token: &str, what: &str, body: &str, dry_run: bool) {
    timed_upload("customers/import", base, token, what, body, dry_run);
}

/// Posts `body` to the CSV import at `path` (under `/api/v1/`) and prints
/// how long it took and what it did.
fn timed_upload(path: &str, base: &str, token: &str, what: &str, body: &str, dry_run: bool) {
    let started = Instant::now();
    let outcome = answer_of(
        ureq::post(&format!("{base}/api/v1/{path}?dry_run={dry_run}"))
            .set("authorization", &format!("Bearer {token}"))
            .set("content-type", "text/csv")
            .send_string(body),
    )
    .map(|v| {
        let v = if v["report"].is_object() {
            v["report"].clone()
        } else {
            v
        };
        let errors = v["errors"].as_array().map_or(0, Vec::len);
        let warnings = v["warnings"].as_array().map_or(0, Vec::len);
        format!(
            "created {}, updated {}, unchanged {}, {errors} faults named, {warnings} likely duplicates",
            v["created"], v["updated"], v["unchanged"]
        )
    });
    eprintln!(
        "POST /api/v1/{path} ({what}, dry_run={dry_run}): {:.2} s, {}",
        started.elapsed().as_secs_f64(),
        outcome.unwrap_or_else(|| "no answer".into())
    );
}

/// The id of the account `username`.
fn user_id(base: &str, token: &str, username: &str) -> String {
    answer_of(
        ureq::get(&format!("{base}/api/v1/users?q={username}"))
            .set("authorization", &format!("Bearer {token}"))
            .call(),
    )
    .and_then(|v| {
        v["items"].as_array()?.iter().find_map(|u| {
            (u["username"] == username).then(|| u["id"].as_str().map(str::to_owned))?
        })
    })
    .unwrap_or_default()
}

/// List pages of values that few files in the Beijing manager's sight
/// hold, beside common ones (`clientele_persistence::list_routes`), one
/// connection each: no file of another nature; an industry one file in a
/// hundred holds, all of them Shanghai's; another branch's unit; a region
/// none holds; the dormant and the active files in another order.
/// Who is calling? One contact a file, its landline made of the file's
/// number (`BK00001000` is reached at 010-00001000); the Beijing manager
/// looks up a number of a file in sight, of a file out of it (Shanghai's),
/// and one nobody has; and types two of them into the search box (`q`).
fn contact_lookups(args: &Args, db: &Db, base: &str, token: &str) {
    let sql = "INSERT INTO customer_contacts (id, customer_id, name, phone, is_primary, active,
                 version, created_at, updated_at, phone_key)
               SELECT 'ct-' || id, id, '联系人', '010-' || substr(code, 3), TRUE, TRUE, 1,
                 created_at, updated_at, '010' || substr(code, 3) FROM customers;";
    db.write(|c| c.batch_execute(sql).map_err(Into::into))
        .unwrap_or_else(|e| panic!("{e}"));
    db.read(|c| {
        c.batch_execute("ANALYZE customer_contacts")
            .map_err(Into::into)
    })
    .unwrap_or_else(|e| panic!("analyze: {e}"));
    let middle = args.customers / 2 / 5 * 5;
    for (what, param, number, files) in [
        ("in sight", "contact", format!("010-{middle:08}"), 1),
        (
            "out of sight",
            "contact",
            format!("+86 10 {:08}", middle + 2),
            0,
        ),
        ("nobody's", "contact", "010-99999999".to_owned(), 0),
        ("in sight", "q", format!("010-{middle:08}"), 1),
        ("nobody's", "q", "010-99999999".to_owned(), 0),
    ] {
        let url = format!(
            "{base}/api/v1/customers?{param}={}&limit=20",
            percent(&number)
        );
        let page: serde_json::Value = ureq::get(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .ok()
            .and_then(|r| r.into_json().ok())
            .unwrap_or_default();
        let listed = page["items"].as_array().map_or(usize::MAX, Vec::len);
        assert_eq!(listed, files, "{what}: {page}");
        let _ = drive("warm-up", &url, Some(token), 1, 1);
        let o = drive(
            &format!("GET /api/v1/customers?{param}=… ({what}; 1 connection)"),
            &url,
            Some(token),
            args.seconds,
            1,
        );
        eprintln!(
            "{}: {:.1}/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
            o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
        );
    }
}

fn filter_pages(args: &Args, db: &Db, base: &str, token: &str) {
    let sh = db
        .read(|c| clientele_persistence::units::find_by_code(c, "SH"))
        .ok()
        .flatten()
        .map(|u| u.id)
        .unwrap_or_default();
    // Seeded codes are `BK` and the file's number: those ending in 07 are
    // one in a hundred, all kept by Shanghai (numbers ≡ 2 modulo 5).
    // Those ending in 13, one in a hundred across the units, changed last
    // and carry a tag; the rest last changed at the start of the year
    // (an ERP's sync asks for what changed since its last run).
    let sql = "UPDATE customers SET industry = '金融业' WHERE code LIKE '%07';
               UPDATE customers SET updated_at = '2026-01-01 00:00:00' WHERE code NOT LIKE '%13';
               INSERT INTO customer_tags (customer_id, tag)
                 SELECT id, '待回访' FROM customers WHERE code LIKE '%13';";
    db.write(|c| c.batch_execute(sql).map_err(Into::into))
        .unwrap_or_else(|e| panic!("{e}"));
    // As autovacuum counts a table after most of its rows changed.
    if db.kind() == clientele_persistence::BackendKind::Postgres {
        db.read(|c| {
            c.batch_execute("ANALYZE customers, customer_tags")
                .map_err(Into::into)
        })
        .unwrap_or_else(|e| panic!("analyze: {e}"));
    }
    let since = percent("2026-06-01T00:00:00Z");
    let queries = [
        "region=1101&status=active".to_owned(),
        "nature=other".to_owned(),
        format!("industry={}", percent("金融业")),
        format!("unit_id={sh}"),
        "region=65".to_owned(),
        "status=dormant&sort=created_at".to_owned(),
        "status=active&sort=-updated_at".to_owned(),
        "nature=private&sort=-updated_at".to_owned(),
        format!("updated_since={since}"),
        format!("updated_since={since}&sort=updated_at"),
        format!("updated_since={since}&sort=-updated_at"),
        format!("updated_since={since}&status=active"),
        format!("tag={}", percent("待回访")),
    ];
    for query in queries {
        let url = format!("{base}/api/v1/customers?{query}&limit=20");
        let _ = drive("warm-up", &url, Some(token), 1, 1);
        let o = drive(
            &format!("GET /api/v1/customers?{query} (1 connection)"),
            &url,
            Some(token),
            args.seconds,
            1,
        );
        eprintln!(
            "{}: {:.1}/s, p50 {:.1} ms, p99 {:.1} ms, {} errors",
            o.name, o.rps, o.p50_ms, o.p99_ms, o.errors
        );
    }
}

/// Bulk-loads `n` files spread over the demo units, regions and statuses;
/// returns the id of one Beijing file.
fn seed_customers(db: &Db, n: usize) -> String {
    use clientele_persistence::customers::{bulk_insert, CustomerRow};
    let units: Vec<String> = ["BJ", "BJ-P1", "SH", "MKT", "HQ"]
        .iter()
        .filter_map(|code| {
            let code = (*code).to_owned();
            db.read(move |c| clientele_persistence::units::find_by_code(c, &code))
                .ok()
                .flatten()
                .map(|u| u.id)
        })
        .collect();
    let regions = ["110105", "110108", "310115", "440305", "120116", "110101"];
    let statuses = ["active", "active", "prospect", "dormant"];
    let natures = ["private", "state_owned", "foreign", "individual"];
    let now = chrono::Utc::now().naive_utc();
    let mut first = String::new();
    let batch = 5_000;
    let mut i = 0;
    while i < n {
        let rows: Vec<CustomerRow> = (i..(i + batch).min(n))
            .map(|k| {
                let name = seed_name(k);
                let forms = clientele_customers::NameForms::of(&name);
                CustomerRow {
                    name_normalized: forms.normalised,
                    name_folded: forms.folded,
                    name_sort: forms.sort_key,
                    name_mnemonic: forms.mnemonic,
                    name,
                    nature: natures[k % natures.len()].to_owned(),
                    industry: Some("制造业".into()),
                    region_code: Some(regions[k % regions.len()].to_owned()),
                    registered_capital_fen: Some(k as i64 * 100),
                    status: statuses[k % statuses.len()].to_owned(),
                    ..CustomerRow::blank(
                        format!("BK{k:08}"),
                        units[k % units.len()].clone(),
                        "C".into(),
                        now,
                    )
                }
            })
            .collect();
        if first.is_empty() {
            first = rows[0].id.clone();
        }
        db.write(move |c| bulk_insert(c, &rows))
            .unwrap_or_else(|e| panic!("seed: {e}"));
        i += batch;
    }
    // As autovacuum leaves a table after a bulk load on PostgreSQL
    // (statistics, visibility map, GIN pending lists merged).
    let settle = match db.kind() {
        clientele_persistence::BackendKind::Postgres => "VACUUM ANALYZE",
        clientele_persistence::BackendKind::Sqlite => "ANALYZE",
    };
    db.read(|c| c.batch_execute(settle).map_err(Into::into))
        .unwrap_or_else(|e| panic!("analyze: {e}"));
    first
}

/// Characters that start the seeded names, two of them each, so that a
/// pair of characters is shared by one file in `LEAD.len()²`.
const LEAD: &str = "华联中东方新星光明天金银海山川宏远盛达恒信通安泰和丰瑞祥福康佳美德隆兴旺嘉利亚欧鑫源汇鼎科创环球万众富强博雅诚志腾飞云龙凤鹏宇辉煌永昌益民友谊长城江河湖南北京津沪粤闽浙苏鲁豫晋冀蜀滇黔桂琼藏青宁甘陕皖赣湘鄂";

/// The name of the `k`th seeded file.
fn seed_name(k: usize) -> String {
    let lead: Vec<char> = LEAD.chars().collect();
    let n = lead.len();
    format!("{}{}客户{k:07}号有限公司", lead[k % n], lead[(k / n) % n])
}

/// `text` percent-encoded for a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Starts a server over `db` on a free port; its base URL.
fn serve(db: &Db, workers: usize, auth_cache_ttl: Duration) -> String {
    let mut config =
        ApiConfig::with_secret(b"bench-secret-bench-secret-bench-secret-0123".to_vec());
    config.auth_cache_ttl = auth_cache_ttl;
    let state = AppState::new(db.clone(), config, Arc::new(SystemClock));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let (server, addr) = clientele_http::start(state, "127.0.0.1:0", workers)
                .unwrap_or_else(|e| panic!("{e}"));
            let _ = tx.send(addr);
            let _ = server.await;
        });
    });
    let addr = rx.recv().unwrap_or_else(|e| panic!("{e}"));
    format!("http://{addr}")
}

fn database(args: &Args) -> (String, Option<String>) {
    match args.backend.as_str() {
        "postgres" => {
            let name = format!("clientele_bench_{}", uuid::Uuid::now_v7().simple());
            admin_sql(&args.pg_url, &format!("CREATE DATABASE {name}"));
            // Connection parameters after `?` (e.g. `sslmode`) carry over.
            let (url, params) = args
                .pg_url
                .split_once('?')
                .map_or((args.pg_url.as_str(), None), |(u, p)| (u, Some(p)));
            let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
            let params = params.map(|p| format!("?{p}")).unwrap_or_default();
            (format!("{base}/{name}{params}"), Some(name))
        }
        _ => {
            let dir =
                std::env::temp_dir().join(format!("clientele-bench-{}", uuid::Uuid::now_v7()));
            (format!("sqlite://{}", dir.join("bench.db").display()), None)
        }
    }
}

/// The scratch folder of a bench SQLite database, removed afterwards.
fn sqlite_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://")?;
    std::path::Path::new(path).parent().map(|p| p.to_path_buf())
}

fn admin_sql(url: &str, sql: &str) {
    use diesel_free::run;
    run(url, sql);
}

mod diesel_free {
    /// Runs administrative SQL through the persistence crate's connection.
    pub fn run(url: &str, sql: &str) {
        let target =
            clientele_persistence::connection::Target::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let db_conn = target.establish().unwrap_or_else(|e| panic!("{e}"));
        clientele_persistence::connection::execute_batch(db_conn, sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn main() {
    let args = Args::parse();
    let (url, pg_name) = database(&args);
    let db = Db::connect(&DbSettings {
        url: url.clone(),
        pool_size: 16,
        connect_timeout: Duration::from_secs(10),
    })
    .unwrap_or_else(|e| panic!("connect: {e}"));
    migrate::run_pending(&db).unwrap_or_else(|e| panic!("migrate: {e}"));
    clientele_server::demo::seed(&db).unwrap_or_else(|e| panic!("seed: {e}"));
    let base = serve(&db, args.workers, Duration::from_secs(1));
    // The same API with every request checking its session in the database.
    let strict = if args.customers == 0 {
        serve(&db, args.workers, Duration::ZERO)
    } else {
        String::new()
    };
    let login: serde_json::Value = ureq::post(&format!("{base}/api/v1/auth/token"))
        .send_json(serde_json::json!({"grant_type": "password", "username": if args.customers > 0 { "demo.manager.bj" } else { "demo.admin" }, "password": clientele_server::demo::DEMO_PASSWORD}))
        .ok()
        .and_then(|r| r.into_json().ok())
        .unwrap_or_default();
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty(), "sign-in failed");
    assert!(
        args.only.is_none() || args.write.is_none(),
        "--only is for profiling; a partial run is not written"
    );

    let (results, target) = if args.customers > 0 {
        customer_scenario(&args, &db, &base)
    } else {
        platform_scenario(&args, &base, &strict, &token)
    };
    let base_rps = results[0].rps.max(f64::MIN_POSITIVE);
    let mut table = String::new();
    table.push_str(&format!(
        "Backend **{}**, {} s per endpoint, {} connections, {} server workers, measured {}.\n\n",
        args.backend,
        args.seconds,
        args.connections,
        args.workers,
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    ));
    table.push_str("| endpoint | requests | errors | req/s | × /healthz | p50 ms | p99 ms | CPU µs/req |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &results {
        table.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} |\n",
            r.name,
            r.requests,
            r.errors,
            r.rps,
            r.rps / base_rps,
            r.p50_ms,
            r.p99_ms,
            r.cpu_us
        ));
    }
    table.push('\n');
    for (name, index, min) in target {
        let ratio = results[index].rps / base_rps;
        table.push_str(&format!(
            "Target: `{name}` ≥ {min:.2} × `/healthz` — measured **{ratio:.2}×**: {}.\n",
            if ratio >= min { "met" } else { "NOT met" }
        ));
    }
    println!("{table}");

    if let Some(path) = &args.write {
        let key = if args.customers > 0 {
            format!("{}:customers:{}", args.backend, args.customers)
        } else {
            args.backend.clone()
        };
        let start = format!("<!-- bench:{key} -->");
        let end = format!("<!-- /bench:{key} -->");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let section = format!("{start}\n{table}{end}");
        let updated = match (text.find(&start), text.find(&end)) {
            (Some(a), Some(b)) if b > a => {
                format!("{}{}{}", &text[..a], section, &text[b + end.len()..])
            }
            _ => format!("{text}\n{section}\n"),
        };
        std::fs::write(path, updated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    drop(db);
    if let Some(dir) = sqlite_dir(&url) {
        if args.keep {
            eprintln!("kept {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    if let Some(name) = pg_name {
        if args.keep {
            eprintln!("kept database {name}");
        } else {
            admin_sql(
                &args.pg_url,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}
