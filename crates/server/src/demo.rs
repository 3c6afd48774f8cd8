//! Demo data: a believable group with head-office departments, two branches
//! and a project team, and one user of each role. Loading it twice changes
//! nothing.

use clientele_core::{Role, UnitId, UnitKind};
use clientele_persistence::{units, users, Db, WriteMeta};

pub const DEMO_PASSWORD: &str = "clientele-demo";
pub const DEMO_CLIENT_ID: &str = "demo-erp";
pub const DEMO_CLIENT_SECRET: &str = "clientele-demo-erp-secret";

/// (code, name, kind, parent code)
const UNITS: &[(&str, &str, UnitKind, Option<&str>)] = &[
    ("HQ", "华信集团有限公司", UnitKind::Company, None),
    ("MKT", "市场部", UnitKind::Department, Some("HQ")),
    ("QA", "质量管理部", UnitKind::Department, Some("HQ")),
    ("FIN", "财务部", UnitKind::Department, Some("HQ")),
    ("LEGAL", "法务部", UnitKind::Department, Some("HQ")),
    ("GMO", "总经理办公室", UnitKind::Department, Some("HQ")),
    ("BJ", "北京分公司", UnitKind::Branch, Some("HQ")),
    ("BJ-P1", "北京亦庄项目部", UnitKind::ProjectTeam, Some("BJ")),
    ("SH", "上海子公司", UnitKind::Subsidiary, Some("HQ")),
];

/// (username, display name, unit code, roles, clearance, service account)
type DemoUser = (
    &'static str,
    &'static str,
    &'static str,
    &'static [Role],
    &'static str,
    bool,
);

const USERS: &[DemoUser] = &[
    ("demo.admin", "系统管理员", "HQ", &[Role::Admin], "A", false),
    (
        "demo.manager",
        "王经理（市场部）",
        "MKT",
        &[Role::Manager],
        "B",
        false,
    ),
    (
        "demo.manager.bj",
        "李经理（北京分公司）",
        "BJ",
        &[Role::Manager],
        "B",
        false,
    ),
    (
        "demo.am.bj",
        "赵客户经理（北京）",
        "BJ",
        &[Role::AccountManager],
        "C",
        false,
    ),
    (
        "demo.am.sh",
        "钱客户经理（上海）",
        "SH",
        &[Role::AccountManager],
        "C",
        false,
    ),
    (
        "demo.agent",
        "孙客服（北京项目部）",
        "BJ-P1",
        &[Role::ServiceAgent],
        "C",
        false,
    ),
    (
        "demo.quality",
        "周质量专员",
        "QA",
        &[Role::Quality],
        "B",
        false,
    ),
    ("demo.legal", "吴法务", "LEGAL", &[Role::Legal], "B", false),
    ("demo.auditor", "郑审计", "HQ", &[Role::Auditor], "A", false),
    (
        DEMO_CLIENT_ID,
        "ERP 财务接口",
        "FIN",
        &[Role::Integration],
        "B",
        true,
    ),
];

/// Loads the demo set unless it is there; returns whether it loaded anything.
pub fn seed(db: &Db) -> Result<bool, clientele_persistence::Error> {
    let password_hash = clientele_http::auth::password::hash(DEMO_PASSWORD)
        .map_err(clientele_persistence::Error::Corrupt)?;
    let secret_hash = clientele_http::auth::password::hash(DEMO_CLIENT_SECRET)
        .map_err(clientele_persistence::Error::Corrupt)?;
    let meta = WriteMeta::system(chrono::Utc::now().naive_utc());
    db.write(|c| {
        if users::credentials(c, "demo.admin")?.is_some() {
            return Ok(false);
        }
        let mut ids: Vec<(&str, String)> = Vec::new();
        for (code, name, kind, parent) in UNITS {
            let parent_id = parent
                .and_then(|p| ids.iter().find(|(c, _)| *c == p))
                .and_then(|(_, id)| id.parse::<UnitId>().ok());
            let unit = match units::find_by_code(c, code)? {
                Some(existing) => existing,
                None => units::create(
                    c,
                    &meta,
                    units::NewUnit {
                        id: UnitId::new(),
                        parent_id,
                        code: (*code).to_owned(),
                        name: (*name).to_owned(),
                        kind: *kind,
                    },
                )?,
            };
            ids.push((code, unit.id));
        }
        for (username, display, unit, roles, clearance, service) in USERS {
            let unit_id = ids
                .iter()
                .find(|(c, _)| c == unit)
                .map(|(_, id)| id.clone())
                .ok_or_else(|| {
                    clientele_persistence::Error::Corrupt(format!("demo unit {unit} missing"))
                })?;
            users::create(
                c,
                &meta,
                users::NewUser {
                    id: clientele_core::new_id().to_string(),
                    kind: if *service { "service" } else { "person" },
                    username: (*username).to_owned(),
                    display_name: (*display).to_owned(),
                    email: (!service).then(|| format!("{username}@demo.clientele.invalid")),
                    unit_id,
                    clearance: Some((*clearance).to_owned()),
                    password_hash: if *service {
                        secret_hash.clone()
                    } else {
                        password_hash.clone()
                    },
                    roles: roles.to_vec(),
                },
            )?;
        }
        seed_customers(c, &meta, &ids)?;
        Ok(true)
    })
}

/// (name, nature, industry, region code, region name, unit, secrecy, status, shared, tags)
type DemoCustomer = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
);

const CUSTOMERS: &[DemoCustomer] = &[
    (
        "北京燕京建设集团有限公司",
        "state_owned",
        "建筑业",
        "110105",
        "北京市朝阳区",
        "BJ",
        "B",
        "active",
        true,
        &["战略合作", "集团"],
    ),
    (
        "北京燕京建设第三工程有限公司",
        "state_owned",
        "建筑业",
        "110106",
        "北京市丰台区",
        "BJ",
        "C",
        "active",
        false,
        &["子公司"],
    ),
    (
        "北京亦庄智造科技有限公司",
        "private",
        "制造业",
        "110115",
        "北京市大兴区",
        "BJ-P1",
        "C",
        "active",
        false,
        &["重点"],
    ),
    (
        "北京市朝阳区第一人民医院",
        "government",
        "卫生",
        "110105",
        "北京市朝阳区",
        "BJ",
        "C",
        "active",
        false,
        &[],
    ),
    (
        "北京京东方照明器材经营部",
        "individual",
        "批发零售",
        "110108",
        "北京市海淀区",
        "BJ-P1",
        "C",
        "prospect",
        false,
        &["储备"],
    ),
    (
        "上海浦江国际物流有限公司",
        "private",
        "交通运输",
        "310115",
        "上海市浦东新区",
        "SH",
        "C",
        "active",
        false,
        &["重点"],
    ),
    (
        "上海申通地铁集团有限公司",
        "state_owned",
        "交通运输",
        "310101",
        "上海市黄浦区",
        "SH",
        "B",
        "active",
        true,
        &["战略合作"],
    ),
    (
        "Shanghai Bund Trading Co., Ltd.",
        "foreign",
        "批发零售",
        "310101",
        "上海市黄浦区",
        "SH",
        "C",
        "dormant",
        false,
        &["外资"],
    ),
    (
        "上海张江生物医药股份有限公司",
        "private",
        "医药",
        "310115",
        "上海市浦东新区",
        "SH",
        "A",
        "active",
        false,
        &["涉密"],
    ),
    (
        "华北电网物资有限公司",
        "state_owned",
        "电力",
        "110102",
        "北京市西城区",
        "HQ",
        "B",
        "active",
        true,
        &["战略合作", "集团"],
    ),
    (
        "天津港散货物流有限公司",
        "state_owned",
        "交通运输",
        "120116",
        "天津市滨海新区",
        "MKT",
        "C",
        "prospect",
        false,
        &[],
    ),
    (
        "河北雄安新区建设投资集团有限公司",
        "state_owned",
        "建筑业",
        "130600",
        "河北省保定市",
        "MKT",
        "C",
        "prospect",
        false,
        &["储备"],
    ),
    // The Tianjin port company filed a second time under another company
    // form (and without its credit code): a likely duplicate for
    // `GET /customers/duplicate-groups` to find and a manager to merge.
    (
        "天津港散货物流股份有限公司",
        "state_owned",
        "交通运输",
        "120116",
        "天津市滨海新区",
        "MKT",
        "C",
        "prospect",
        false,
        &[],
    ),
];

fn seed_customers(
    c: &mut clientele_persistence::DbConn,
    meta: &WriteMeta,
    units: &[(&str, String)],
) -> Result<(), clientele_persistence::Error> {
    use clientele_customers::{CreditCode, CustomerName, Tags};
    use clientele_persistence::customers::{self, CustomerRow};
    // The branch's and the subsidiary's account managers keep their units'
    // files (CUS-10), so a hand-over has something to show; a file above an
    // account manager's clearance is kept by the first of the unit's people
    // cleared for it (Beijing's manager), else by nobody yet.
    let mut keepers: Vec<(&str, String, i32)> = Vec::new();
    for (unit, username) in [
        ("BJ", "demo.am.bj"),
        ("BJ", "demo.manager.bj"),
        ("SH", "demo.am.sh"),
    ] {
        if let Some(u) = users::credentials(c, username)? {
            let rank = clientele_persistence::secrecy::find(c, &u.clearance)?.map_or(0, |l| l.rank);
            keepers.push((unit, u.id, rank));
        }
    }
    for (i, (name, nature, industry, region, region_name, unit, secrecy, status, shared, tags)) in
        CUSTOMERS.iter().enumerate()
    {
        let level_rank = clientele_persistence::secrecy::find(c, secrecy)?.map_or(0, |l| l.rank);
        // Demo codes are judged like any other, and named by the catalogue.
        let division = clientele_persistence::regions::for_file(c, region)?;
        let unit_id = units
            .iter()
            .find(|(code, _)| code == unit)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| {
                clientele_persistence::Error::Corrupt(format!("demo unit {unit} missing"))
            })?;
        let parsed = CustomerName::parse(name)
            .map_err(|e| clientele_persistence::Error::Corrupt(e.to_string()))?;
        // A second filing of a customer was typed in without its credit
        // code (the code is unique: the first filing holds it).
        let refiled = CUSTOMERS[..i].iter().any(|earlier| {
            CustomerName::parse(earlier.0).is_ok_and(|n| n.normalised() == parsed.normalised())
        });
        let credit = (*nature != "individual" && !refiled)
            .then(|| CreditCode::complete(&format!("91{region}{:08}", 31_000_000 + i * 7919)).ok())
            .flatten()
            .map(|c| c.to_string());
        let tags =
            Tags::parse(tags).map_err(|e| clientele_persistence::Error::Corrupt(e.to_string()))?;
        let row = CustomerRow {
            id: clientele_core::new_id().to_string(),
            code: customers::next_code(c)?,
            name: parsed.as_str().to_owned(),
            name_normalized: parsed.normalised(),
            name_folded: clientele_customers::name::fold_width(parsed.as_str()).to_lowercase(),
            name_sort: clientele_customers::name::sort_key(parsed.as_str()),
            name_mnemonic: clientele_customers::name::mnemonic(parsed.as_str()),
            credit_code: credit,
            legal_representative: Some(["张伟", "王芳", "李强", "刘洋"][i % 4].to_owned()),
            nature: (*nature).to_owned(),
            industry: Some((*industry).to_owned()),
            region_code: Some((*region).to_owned()),
            region_name: Some(division),
            address: Some(format!("{region_name}示范路{}号", 10 + i)),
            size: Some(["large", "medium", "small", "micro"][i % 4].to_owned()),
            registered_capital_fen: Some(((i as i64) + 1) * 5_000_000_000),
            trading_since: chrono::NaiveDate::from_ymd_opt(
                2015 + (i as i32 % 10),
                1 + (i as u32 % 12),
                1,
            ),
            service_area: Some("华北、华东".into()),
            sales_capacity: None,
            potential: Some(["高", "中", "低"][i % 3].to_owned()),
            credit_standing: Some(["AAA", "AA", "A", "BBB"][i % 4].to_owned()),
            trading_terms: Some("月结30天".into()),
            business_policy: Some(["稳健经营，重视长期合作", "扩张期，价格敏感"][i % 2].to_owned()),
            sales_history: Some(format!("近三年年均采购约{}万元", 50 * (i + 1))),
            attitude_to_us: Some(["友好", "中立", "观望"][i % 3].to_owned()),
            competitor_relations: (i % 3 == 2).then(|| "同时与两家同业合作".to_owned()),
            credit_problems: None,
            customer_type: Some(
                ["end_user", "distributor", "end_user", "agent", "partner"][i % 5].to_owned(),
            ),
            // The individual customer is flagged for special care (CUS-03).
            vulnerable: *nature == "individual",
            status: (*status).to_owned(),
            external_id: Some(format!("ERP-{:05}", 1000 + i)),
            owner_user_id: keepers
                .iter()
                .find(|(u, _, rank)| u == unit && *rank >= level_rank)
                .map(|(_, id, _)| id.clone()),
            owner_unit_id: unit_id,
            secrecy_level: (*secrecy).to_owned(),
            shared: *shared,
            merged_into_id: None,
            version: 1,
            created_at: meta.at,
            updated_at: meta.at,
        };
        customers::create(c, meta, row, tags.as_strs())?;
    }
    Ok(())
}
