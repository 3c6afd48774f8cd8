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
        Ok(true)
    })
}
