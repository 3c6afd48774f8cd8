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
        // The company's ERP syncs every unit's files (within clearance B).
        "HQ",
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
    let meta =
        WriteMeta::system(clientele_core::Clock::now(&clientele_core::SystemClock).naive_utc());
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

/// One demo customer file, as an account manager would have filled it in.
struct DemoFile {
    name: &'static str,
    /// The first two characters of the credit code: the registering
    /// authority and kind (91 an enterprise, 92 an individual business, 12 a
    /// public institution). `None`: a natural person, or a file typed in
    /// without the code.
    registrar: Option<&'static str>,
    nature: &'static str,
    industry: Option<&'static str>,
    customer_type: Option<&'static str>,
    region: &'static str,
    /// The address after the region's own name.
    street: &'static str,
    unit: &'static str,
    secrecy: &'static str,
    status: &'static str,
    shared: bool,
    tags: &'static [&'static str],
    legal_representative: Option<&'static str>,
    size: Option<&'static str>,
    /// Registered capital in 10 000 CNY (万元).
    capital_wan: Option<i64>,
    trading_since: Option<&'static str>,
    service_area: Option<&'static str>,
    sales_capacity: Option<&'static str>,
    potential: Option<&'static str>,
    credit_standing: Option<&'static str>,
    trading_terms: Option<&'static str>,
    business_policy: Option<&'static str>,
    sales_history: Option<&'static str>,
    attitude_to_us: Option<&'static str>,
    competitor_relations: Option<&'static str>,
    credit_problems: Option<&'static str>,
    vulnerable: bool,
    external_id: Option<&'static str>,
    contacts: &'static [DemoContact],
    documents: &'static [DemoDocument],
}

/// (name, title, phone, mobile, primary)
type DemoContact = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);

/// (category, title, reference number, date, keeper unit code, location)
type DemoDocument = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// A file with only what every file has; the rest is filled in below.
const BLANK: DemoFile = DemoFile {
    name: "",
    registrar: Some("91"),
    nature: "private",
    industry: None,
    customer_type: None,
    region: "",
    street: "",
    unit: "",
    secrecy: "C",
    status: "active",
    shared: false,
    tags: &[],
    legal_representative: None,
    size: None,
    capital_wan: None,
    trading_since: None,
    service_area: None,
    sales_capacity: None,
    potential: None,
    credit_standing: None,
    trading_terms: None,
    business_policy: None,
    sales_history: None,
    attitude_to_us: None,
    competitor_relations: None,
    credit_problems: None,
    vulnerable: false,
    external_id: None,
    contacts: &[],
    documents: &[],
};

const CUSTOMERS: &[DemoFile] = &[
    DemoFile {
        name: "北京燕京建设集团有限公司",
        nature: "state_owned",
        industry: Some("建筑业"),
        customer_type: Some("end_user"),
        region: "110105",
        street: "东三环中路甲18号燕京大厦",
        unit: "BJ",
        secrecy: "B",
        shared: true,
        tags: &["战略合作", "集团"],
        legal_representative: Some("郑国栋"),
        size: Some("large"),
        capital_wan: Some(300_000),
        trading_since: Some("2012-03-15"),
        service_area: Some("京津冀"),
        sales_capacity: Some("年施工产值约180亿元"),
        potential: Some("高"),
        credit_standing: Some("AAA"),
        trading_terms: Some("按工程进度月结，质保金5%，质保期2年"),
        business_policy: Some("集中采购，优先长期战略供应商"),
        sales_history: Some("2021—2025年累计签约6.8亿元，其中2份合同各2亿元以上"),
        attitude_to_us: Some("友好，视我方为战略供应商"),
        competitor_relations: Some("同时向两家同业采购电气设备"),
        external_id: Some("ERP-01001"),
        contacts: &[
            (
                "孙立新",
                "采购中心总经理",
                Some("010-65881201"),
                Some("13901086621"),
                true,
            ),
            ("郑国栋", "董事长", Some("010-65881001"), None, false),
            (
                "何静",
                "财务部副部长",
                Some("010-65881360"),
                Some("13811627450"),
                false,
            ),
        ],
        documents: &[
            (
                "contract",
                "战略合作框架协议（2023—2027）",
                "HX-BJ-ZL-2023-001",
                "2023-04-10",
                "BJ",
                "北京分公司档案室A-03柜",
            ),
            (
                "contract",
                "京雄城际配套工程设备供货合同",
                "HX-BJ-HT-2024-017",
                "2024-06-28",
                "BJ",
                "北京分公司档案室A-03柜",
            ),
            (
                "certificate",
                "营业执照副本（复印件）",
                "",
                "2022-11-02",
                "BJ",
                "北京分公司档案室A-01柜",
            ),
        ],
        ..BLANK
    },
    DemoFile {
        name: "北京燕京建设第三工程有限公司",
        nature: "state_owned",
        industry: Some("建筑业"),
        customer_type: Some("end_user"),
        region: "110106",
        street: "南四环西路188号总部基地12区5号楼",
        unit: "BJ",
        tags: &["子公司"],
        legal_representative: Some("韩志强"),
        size: Some("large"),
        capital_wan: Some(50_000),
        trading_since: Some("2016-08-01"),
        service_area: Some("北京市、河北省"),
        sales_capacity: Some("年施工产值约35亿元"),
        potential: Some("中"),
        credit_standing: Some("AA"),
        trading_terms: Some("货到验收后60天付款"),
        business_policy: Some("随集团集中采购，零星物资自行采购"),
        sales_history: Some("近三年年均采购约1 200万元"),
        attitude_to_us: Some("友好"),
        external_id: Some("ERP-01002"),
        contacts: &[(
            "马晓东",
            "物资设备部经理",
            Some("010-83928866"),
            Some("13601138245"),
            true,
        )],
        documents: &[(
            "maintenance",
            "丰台站项目配电柜年度维保记录",
            "HX-BJ-WB-2025-031",
            "2025-12-20",
            "BJ-P1",
            "北京亦庄项目部资料室",
        )],
        ..BLANK
    },
    DemoFile {
        name: "北京亦庄智造科技有限公司",
        industry: Some("制造业"),
        customer_type: Some("distributor"),
        region: "110115",
        street: "经济技术开发区科创十三街29号院2号楼",
        unit: "BJ-P1",
        tags: &["重点"],
        legal_representative: Some("林涛"),
        size: Some("medium"),
        capital_wan: Some(3_000),
        trading_since: Some("2019-05-20"),
        service_area: Some("华北"),
        sales_capacity: Some("年销售额约2.4亿元，经销网点11个"),
        potential: Some("高"),
        credit_standing: Some("A"),
        trading_terms: Some("预付30%，发货前付清"),
        business_policy: Some("扩张期，对价格敏感"),
        sales_history: Some("2025年采购860万元，同比增长35%"),
        attitude_to_us: Some("积极"),
        competitor_relations: Some("另代理一家同类产品，份额约三成"),
        credit_problems: Some("2022年一笔货款逾期47天，已结清"),
        external_id: Some("ERP-01003"),
        contacts: &[
            (
                "林涛",
                "总经理",
                Some("010-67856120"),
                Some("18611590327"),
                false,
            ),
            ("黄佳怡", "采购主管", None, Some("15210478863"), true),
        ],
        documents: &[(
            "sales",
            "2026年度经销协议",
            "HX-YZ-JX-2026-002",
            "2026-01-08",
            "BJ-P1",
            "北京亦庄项目部资料室",
        )],
        ..BLANK
    },
    DemoFile {
        name: "北京市朝阳区惠民医院",
        registrar: Some("12"),
        nature: "government",
        industry: Some("卫生"),
        customer_type: Some("end_user"),
        region: "110105",
        street: "朝阳北路101号",
        unit: "BJ",
        legal_representative: Some("周文华"),
        size: Some("medium"),
        trading_since: Some("2018-09-03"),
        service_area: Some("朝阳区东部"),
        potential: Some("中"),
        credit_standing: Some("AA"),
        trading_terms: Some("政府采购，验收合格后财政集中支付"),
        business_policy: Some("公开招标，重视售后响应时间"),
        sales_history: Some("2023年中标门诊楼配电改造，合同额380万元"),
        attitude_to_us: Some("满意"),
        external_id: Some("ERP-01004"),
        contacts: &[(
            "冯建军",
            "后勤保障处处长",
            Some("010-65012345"),
            Some("13910752218"),
            true,
        )],
        documents: &[
            (
                "contract",
                "门诊楼配电改造工程合同",
                "CYHM-ZB-2023-014",
                "2023-05-16",
                "BJ",
                "北京分公司档案室A-04柜",
            ),
            (
                "maintenance",
                "配电系统季度巡检记录",
                "HX-BJ-WB-2026-009",
                "2026-10-12",
                "BJ",
                "北京分公司档案室A-04柜",
            ),
        ],
        ..BLANK
    },
    // A natural person: no credit code; flagged for special care and
    // served at home (CUS-03).
    DemoFile {
        name: "陈淑芬",
        registrar: None,
        nature: "individual",
        customer_type: Some("end_user"),
        region: "110108",
        street: "学院路甲5号院3号楼2单元401室",
        unit: "BJ-P1",
        status: "prospect",
        tags: &["上门服务"],
        potential: Some("低"),
        sales_history: Some("2026年10月来电咨询家用电梯加装及上门维护"),
        attitude_to_us: Some("信任，由社区推荐"),
        vulnerable: true,
        contacts: &[
            (
                "陈淑芬",
                "本人（78岁，行动不便）",
                Some("010-62318874"),
                None,
                true,
            ),
            ("王磊", "儿子，代为联系", None, Some("13522906417"), false),
        ],
        ..BLANK
    },
    DemoFile {
        name: "上海浦江国际物流有限公司",
        industry: Some("交通运输"),
        customer_type: Some("partner"),
        region: "310115",
        street: "外高桥保税区富特北路211号",
        unit: "SH",
        tags: &["重点"],
        legal_representative: Some("沈建平"),
        size: Some("medium"),
        capital_wan: Some(8_000),
        trading_since: Some("2017-04-11"),
        service_area: Some("长三角"),
        sales_capacity: Some("自有及合作车辆约300辆"),
        potential: Some("中"),
        credit_standing: Some("AA"),
        trading_terms: Some("月结45天"),
        business_policy: Some("承运我方华东区设备，运费与采购互抵"),
        sales_history: Some("近三年年均运费结算约1 500万元"),
        attitude_to_us: Some("友好"),
        external_id: Some("ERP-01006"),
        contacts: &[
            (
                "沈建平",
                "总经理",
                Some("021-58661088"),
                Some("13801772564"),
                false,
            ),
            (
                "陆晓燕",
                "客户服务部经理",
                Some("021-58661092"),
                Some("13917336508"),
                true,
            ),
        ],
        documents: &[(
            "contract",
            "华东区设备运输框架合同",
            "HX-SH-YS-2024-005",
            "2024-03-01",
            "SH",
            "上海子公司档案室2号柜",
        )],
        ..BLANK
    },
    DemoFile {
        name: "上海申城轨道交通集团有限公司",
        nature: "state_owned",
        industry: Some("交通运输"),
        customer_type: Some("end_user"),
        region: "310101",
        street: "衡山路12号",
        unit: "SH",
        secrecy: "B",
        shared: true,
        tags: &["战略合作"],
        legal_representative: Some("顾伟民"),
        size: Some("large"),
        capital_wan: Some(1_200_000),
        trading_since: Some("2014-10-08"),
        service_area: Some("上海市"),
        sales_capacity: Some("运营线路20条，年设备更新预算约40亿元"),
        potential: Some("高"),
        credit_standing: Some("AAA"),
        trading_terms: Some("按合同节点付款，质保金10%"),
        business_policy: Some("国产化替代优先，严格准入"),
        sales_history: Some("2020—2025年签约3份合同，最大一份2.6亿元"),
        attitude_to_us: Some("认可，要求驻场服务"),
        competitor_relations: Some("主要竞争对手为两家外资厂商"),
        external_id: Some("ERP-01007"),
        contacts: &[
            ("顾伟民", "董事长", Some("021-63180001"), None, false),
            (
                "邵振华",
                "物资采购部部长",
                Some("021-63180211"),
                Some("13601609984"),
                true,
            ),
        ],
        documents: &[
            (
                "contract",
                "14号线供电设备采购合同",
                "SC-WZ-2022-0336",
                "2022-07-19",
                "SH",
                "上海子公司档案室1号柜",
            ),
            (
                "certificate",
                "供应商准入资格证书",
                "SC-ZR-2021-118",
                "2021-12-01",
                "SH",
                "上海子公司档案室1号柜",
            ),
        ],
        ..BLANK
    },
    DemoFile {
        name: "Shanghai Bund Trading Co., Ltd.",
        nature: "foreign",
        industry: Some("批发零售"),
        customer_type: Some("distributor"),
        region: "310101",
        street: "中山东一路18号6楼",
        unit: "SH",
        status: "dormant",
        tags: &["外资"],
        legal_representative: Some("Thomas Becker"),
        size: Some("small"),
        capital_wan: Some(700),
        trading_since: Some("2019-02-14"),
        service_area: Some("华东、东南亚转口"),
        potential: Some("低"),
        credit_standing: Some("BBB"),
        trading_terms: Some("信用证付款"),
        sales_history: Some("2023年后无新订单"),
        attitude_to_us: Some("观望"),
        competitor_relations: Some("已转向东南亚供应商"),
        external_id: Some("ERP-01008"),
        contacts: &[(
            "Thomas Becker",
            "Managing Director",
            Some("+86 21 6323 1818"),
            None,
            true,
        )],
        ..BLANK
    },
    DemoFile {
        name: "上海张江生物医药股份有限公司",
        industry: Some("医药"),
        customer_type: Some("end_user"),
        region: "310115",
        street: "张江高科技园区哈雷路955号",
        unit: "SH",
        secrecy: "A",
        tags: &["涉密"],
        legal_representative: Some("许明远"),
        size: Some("large"),
        capital_wan: Some(42_000),
        trading_since: Some("2021-06-30"),
        service_area: Some("上海、苏州"),
        potential: Some("高"),
        credit_standing: Some("AA"),
        trading_terms: Some("月结60天"),
        business_policy: Some("新建洁净车间，供应商须签保密协议"),
        sales_history: Some("2025年洁净室配电项目在谈，预计9 000万元"),
        attitude_to_us: Some("友好"),
        external_id: Some("ERP-01009"),
        contacts: &[
            ("许明远", "董事长", Some("021-50801500"), None, false),
            (
                "钟雅琴",
                "工程部总监",
                Some("021-50801566"),
                Some("13764205518"),
                true,
            ),
        ],
        documents: &[(
            "other",
            "保密协议",
            "ZJSW-NDA-2025-07",
            "2025-03-18",
            "SH",
            "上海子公司机要柜",
        )],
        ..BLANK
    },
    DemoFile {
        name: "华北电力物资供应有限公司",
        nature: "state_owned",
        industry: Some("电力"),
        customer_type: Some("end_user"),
        region: "110102",
        street: "复兴门内大街86号",
        unit: "HQ",
        secrecy: "B",
        shared: true,
        tags: &["战略合作", "集团"],
        legal_representative: Some("王振宇"),
        size: Some("large"),
        capital_wan: Some(200_000),
        trading_since: Some("2010-01-05"),
        service_area: Some("华北五省（区、市）"),
        sales_capacity: Some("年集中招标规模约120亿元"),
        potential: Some("高"),
        credit_standing: Some("AAA"),
        trading_terms: Some("到货款60%，投运款30%，质保金10%"),
        business_policy: Some("集中招标，框架协议，按季度下单"),
        sales_history: Some("近五年签约2份合同各2亿元以上，累计9.1亿元"),
        attitude_to_us: Some("友好"),
        competitor_relations: Some("框架协议入围供应商共6家"),
        external_id: Some("ERP-01010"),
        contacts: &[(
            "田海峰",
            "招标采购中心主任",
            Some("010-66597300"),
            Some("13801235716"),
            true,
        )],
        documents: &[(
            "contract",
            "配网物资框架协议（2025—2026）",
            "HBDL-KJ-2025-0042",
            "2025-02-26",
            "HQ",
            "集团档案室3排2柜",
        )],
        ..BLANK
    },
    DemoFile {
        name: "天津港散货物流有限公司",
        nature: "state_owned",
        industry: Some("交通运输"),
        customer_type: Some("end_user"),
        region: "120116",
        street: "东疆港区亚洲路6975号",
        unit: "MKT",
        status: "prospect",
        legal_representative: Some("刘长青"),
        size: Some("medium"),
        capital_wan: Some(20_000),
        service_area: Some("天津港"),
        potential: Some("中"),
        business_policy: Some("码头机械电气化改造，2027年招标"),
        sales_history: Some("尚无交易，2026年9月首次拜访"),
        attitude_to_us: Some("中立"),
        external_id: Some("ERP-01011"),
        contacts: &[
            ("刘长青", "总经理", Some("022-25601880"), None, false),
            ("唐宏伟", "设备管理部经理", None, Some("13802061947"), true),
        ],
        ..BLANK
    },
    DemoFile {
        name: "河北容城新城建设投资有限公司",
        nature: "state_owned",
        industry: Some("建筑业"),
        customer_type: Some("end_user"),
        region: "130629",
        street: "容城镇奥威路38号",
        unit: "MKT",
        status: "prospect",
        tags: &["储备"],
        legal_representative: Some("杨宏斌"),
        size: Some("large"),
        capital_wan: Some(500_000),
        service_area: Some("雄安新区"),
        potential: Some("高"),
        business_policy: Some("片区开发平台，设备由总包单位采购"),
        sales_history: Some("尚无交易，通过燕京建设集团引荐"),
        attitude_to_us: Some("愿意接触"),
        contacts: &[("杨帆", "招采部副经理", Some("0312-5608712"), None, true)],
        ..BLANK
    },
    // The Tianjin port company filed a second time under another company
    // form, typed in by hand without its credit code: a likely duplicate
    // for `GET /customers/duplicate-groups` to find and a manager to merge.
    DemoFile {
        name: "天津港散货物流股份有限公司",
        registrar: None,
        nature: "state_owned",
        industry: Some("交通运输"),
        region: "120116",
        street: "东疆港区",
        unit: "MKT",
        status: "prospect",
        sales_history: Some("展会上收到名片"),
        contacts: &[("唐宏伟", "设备部", None, Some("13802061947"), true)],
        ..BLANK
    },
];

/// (group, member, kind, note): group ↔ subsidiary and other links (CUS-06).
const RELATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "北京燕京建设集团有限公司",
        "北京燕京建设第三工程有限公司",
        "parent_of",
        "全资子公司",
    ),
    (
        "北京燕京建设集团有限公司",
        "河北容城新城建设投资有限公司",
        "related",
        "雄安片区项目的总包方，引荐人",
    ),
    (
        "上海申城轨道交通集团有限公司",
        "上海浦江国际物流有限公司",
        "related",
        "承运地铁设备的物流商",
    ),
];

fn seed_customers(
    c: &mut clientele_persistence::DbConn,
    meta: &WriteMeta,
    units: &[(&str, String)],
) -> Result<(), clientele_persistence::Error> {
    use clientele_customers::{CreditCode, CustomerName, Tags};
    use clientele_persistence::customer_parts::{self, ContactRow, DocumentRow, RelationRow};
    use clientele_persistence::customers::{self, CustomerRow};
    let corrupt = |e: String| clientele_persistence::Error::Corrupt(e);
    let unit_id = |code: &str| {
        units
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| corrupt(format!("demo unit {code} missing")))
    };
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt(e.to_string()))
    };
    let text = |s: Option<&str>| s.map(str::to_owned);
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
    let mut ids: Vec<(&str, String)> = Vec::new();
    for (i, f) in CUSTOMERS.iter().enumerate() {
        let level_rank = clientele_persistence::secrecy::find(c, f.secrecy)?.map_or(0, |l| l.rank);
        // Demo codes are judged like any other, and named by the catalogue.
        let division = clientele_persistence::regions::for_file(c, f.region)?;
        let parsed = CustomerName::parse(f.name).map_err(|e| corrupt(e.to_string()))?;
        let forms = parsed.forms();
        let credit = match f.registrar {
            Some(kind) => Some(
                CreditCode::complete(&format!("{kind}{}{:08}", f.region, 31_000_000 + i * 7919))
                    .map_err(|e| corrupt(e.to_string()))?
                    .to_string(),
            ),
            None => None,
        };
        let tags = Tags::parse(f.tags).map_err(|e| corrupt(e.to_string()))?;
        let row = CustomerRow {
            id: clientele_core::new_id().to_string(),
            code: customers::next_code(c)?,
            name: parsed.as_str().to_owned(),
            name_normalized: forms.normalised,
            name_folded: forms.folded,
            name_sort: forms.sort_key,
            name_mnemonic: forms.mnemonic,
            credit_code: credit,
            legal_representative: text(f.legal_representative),
            nature: f.nature.to_owned(),
            industry: text(f.industry),
            region_code: Some(f.region.to_owned()),
            address: Some(format!("{division}{}", f.street)),
            region_name: Some(division),
            size: text(f.size),
            registered_capital_fen: f.capital_wan.map(|w| w * 1_000_000),
            trading_since: f.trading_since.map(date).transpose()?,
            service_area: text(f.service_area),
            sales_capacity: text(f.sales_capacity),
            potential: text(f.potential),
            credit_standing: text(f.credit_standing),
            trading_terms: text(f.trading_terms),
            business_policy: text(f.business_policy),
            sales_history: text(f.sales_history),
            attitude_to_us: text(f.attitude_to_us),
            competitor_relations: text(f.competitor_relations),
            credit_problems: text(f.credit_problems),
            customer_type: text(f.customer_type),
            vulnerable: f.vulnerable,
            status: f.status.to_owned(),
            external_id: text(f.external_id),
            owner_user_id: keepers
                .iter()
                .find(|(u, _, rank)| *u == f.unit && *rank >= level_rank)
                .map(|(_, id, _)| id.clone()),
            owner_unit_id: unit_id(f.unit)?,
            secrecy_level: f.secrecy.to_owned(),
            shared: f.shared,
            merged_into_id: None,
            version: 1,
            created_at: meta.at,
            updated_at: meta.at,
        };
        let id = row.id.clone();
        customers::create(c, meta, row, tags.as_strs())?;
        for (name, title, phone, mobile, primary) in f.contacts {
            let contact = ContactRow {
                external_id: None,
                id: clientele_core::new_id().to_string(),
                customer_id: id.clone(),
                name: (*name).to_owned(),
                title: Some((*title).to_owned()),
                phone: text(*phone),
                mobile: text(*mobile),
                email: None,
                is_primary: *primary,
                note: None,
                active: true,
                version: 1,
                created_at: meta.at,
                updated_at: meta.at,
            };
            customer_parts::add_contact(c, meta, contact, None)?;
        }
        for (category, title, reference, on, keeper, location) in f.documents {
            let document = DocumentRow {
                id: clientele_core::new_id().to_string(),
                customer_id: id.clone(),
                category: (*category).to_owned(),
                title: (*title).to_owned(),
                reference_no: (!reference.is_empty()).then(|| (*reference).to_owned()),
                doc_date: Some(date(on)?),
                keeper_unit_id: Some(unit_id(keeper)?),
                location: Some((*location).to_owned()),
                external_url: None,
                version: 1,
                created_at: meta.at,
                updated_at: meta.at,
            };
            customer_parts::add_document(c, meta, document)?;
        }
        ids.push((f.name, id));
    }
    let file = |name: &str| {
        ids.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| id.clone())
            .ok_or_else(|| corrupt(format!("demo file {name} missing")))
    };
    for (from, to, kind, note) in RELATIONS {
        let relation = RelationRow {
            id: clientele_core::new_id().to_string(),
            from_id: file(from)?,
            to_id: file(to)?,
            kind: (*kind).to_owned(),
            note: Some((*note).to_owned()),
            active: true,
            created_at: meta.at,
        };
        customer_parts::add_relation(c, meta, relation)?;
    }
    // An outside party's request waiting for the legal office (CUS-09),
    // filed by the market department's manager, who keeps that file.
    if let Some(manager) = users::credentials(c, "demo.manager")? {
        use clientele_persistence::customer_access::{OutsideAsk, OutsideRequestRow};
        clientele_persistence::customer_access::request_outside_access(
            c,
            meta,
            OutsideRequestRow::pending(
                file("河北容城新城建设投资有限公司")?,
                manager.id.clone(),
                manager.id,
                OutsideAsk {
                    outside_party: "雄安新区审计局".into(),
                    purpose: "政府投资项目专项审计：核查供应商与建设单位的往来记录".into(),
                    legal_basis: "《中华人民共和国审计法》第三十四条".into(),
                    days: 7,
                },
                meta.at,
            ),
        )?;
    }
    // An account manager's export request waiting for the Beijing branch's
    // manager (CUS-08): the list of active customers for a review.
    if let Some(am) = users::credentials(c, "demo.am.bj")? {
        use clientele_persistence::export_requests::{self, ExportRequestRow};
        let unit = clientele_persistence::units::get(c, &am.unit_id)?;
        export_requests::create(
            c,
            meta,
            ExportRequestRow::pending(
                am.id,
                unit.path,
                (
                    "status=active&sort=name".into(),
                    "季度客户回访：整理本分公司在用客户名单".into(),
                    2,
                ),
                meta.at,
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's parts obey the rules the API holds a client to: a
    /// contact can be reached, numbers are numbers, one primary a file, a
    /// document's date is a date.
    #[test]
    fn demo_parts_follow_the_api_rules() {
        let phone = |n: &str| {
            (3..=32).contains(&n.len())
                && n.chars().all(|c| c.is_ascii_digit() || "+() -".contains(c))
        };
        for f in CUSTOMERS {
            assert!(
                clientele_customers::CustomerName::parse(f.name).is_ok(),
                "{}",
                f.name
            );
            let primaries = f.contacts.iter().filter(|c| c.4).count();
            assert!(f.contacts.is_empty() || primaries == 1, "{}", f.name);
            for (name, _, tel, mobile, _) in f.contacts {
                assert!(
                    tel.is_some() || mobile.is_some(),
                    "{name} cannot be reached"
                );
                assert!(tel.iter().chain(mobile).all(|n| phone(n)), "{name}");
            }
            for (_, title, _, on, _, _) in f.documents {
                assert!(
                    chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d").is_ok(),
                    "{title}"
                );
            }
        }
        for (from, to, _, _) in RELATIONS {
            assert!(CUSTOMERS.iter().any(|f| f.name == *from), "{from}");
            assert!(CUSTOMERS.iter().any(|f| f.name == *to), "{to}");
        }
    }
}
