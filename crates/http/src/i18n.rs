//! Messages in English and Chinese (zh-CN), chosen by `Accept-Language`.

use actix_web::http::StatusCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// Picks the supported language with the highest `q`; English when none is named.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::En };
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }
}

/// The problem `title`: the status phrase.
pub fn title(status: StatusCode, lang: Lang) -> String {
    let zh = match status.as_u16() {
        400 => "请求有误",
        401 => "未认证",
        403 => "无权限",
        404 => "未找到",
        405 => "方法不允许",
        406 => "无法提供所需格式",
        409 => "冲突",
        412 => "前提条件不成立",
        413 => "请求体过大",
        415 => "不支持的媒体类型",
        422 => "无法处理的内容",
        428 => "需要前提条件",
        429 => "请求过于频繁",
        503 => "服务暂不可用",
        _ => "服务器内部错误",
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => status.canonical_reason().unwrap_or("Error").to_owned(),
    }
}

/// Chinese text for a problem `code`; `None` leaves the English detail.
pub fn zh_detail(code: &str) -> Option<&'static str> {
    Some(match code {
        "not_found" => "资源不存在或您无权查看",
        "route_not_found" => "没有这个接口地址",
        "method_not_allowed" => "该地址不支持此 HTTP 方法",
        "payload_too_large" => "请求体超过允许的大小",
        "unsupported_media_type" => "不支持该请求体类型（Content-Type），请按接口说明的类型发送",
        "malformed_json" => "请求体不是合法的 JSON",
        "invalid_body" => "请求体字段有误",
        "validation_failed" => "请求数据未通过校验",
        "invalid_query" => "查询参数有误",
        "invalid_header" => "请求头有误",
        "invalid_cursor" => "分页游标无效",
        "unauthorized" => "需要登录：请提供 Bearer 访问令牌",
        "invalid_token" => "访问令牌无效、已过期或已被撤销",
        "forbidden" => "您的角色无权执行此操作",
        "invalid_grant" => "用户名、密码或刷新令牌无效",
        "invalid_client" => "客户端凭据无效",
        "invalid_request" => "令牌请求的参数缺失、重复或格式不对",
        "invalid_scope" => "本系统不使用 scope：权限由账号的角色、单位和密级决定",
        "unsupported_grant_type" => "不支持的授权类型",
        "too_many_attempts" => "登录失败次数过多，请稍后再试",
        "precondition_failed" => "资源已被他人修改，请重新读取后再提交",
        "precondition_required" => "更新需要 If-Match 请求头（取自 ETag）",
        "duplicate" => "已存在相同的记录",
        "idempotency_key_reused" => "该 Idempotency-Key 已用于另一个请求",
        "idempotency_key_in_progress" => "使用该 Idempotency-Key 的请求仍在处理中",
        "secret_not_replayed" => "使用该 Idempotency-Key 的首次请求已成功；其中的密钥只显示一次，不再重放，如已丢失请重新生成",
        "unit_in_use" => "该单位仍有在用的下级单位、人员或保管的客户档案，请先调出（档案：POST /api/v1/customers/unit-transfer）",
        "parent_not_found" => "上级单位不存在",
        "invalid_parent_kind" => "该类型的单位不能放在此上级单位之下",
        "cycle" => "单位不能移动到自身或其下级之下",
        "unit_not_found" => "单位不存在",
        "unit_inactive" => "单位已停用",
        "unknown_clearance" => "未知的密级",
        "service_unavailable" => "数据库暂时不可用，请稍后重试",
        "self_lockout" => "管理员不能停用自己或取消自己的管理员角色",
        "parent_inactive" => "上级单位已停用",
        "reference_gone" => "引用的数据已被同时进行的另一操作删除，请重新读取后再提交",
        "bad_request" => "请求有误",
        // Customer archives (CUS).
        "customer_not_found" => "关联的客户档案不存在",
        "merged" => "该档案已并入另一份档案，请在存续档案上操作",
        "already_merged" => "该档案已被合并",
        "merge_into_itself" => "不能把档案合并到它自身",
        "survivor_merged" => "存续档案本身已被合并，请合并到它所指向的档案",
        "survivor_archived" => "存续档案已归档，请先恢复后再合并",
        "different_credit_codes" => "两份档案的统一社会信用代码不同，属于不同主体，不能合并",
        "secrecy_mismatch" => "被合并档案的密级高于存续档案，请先提高存续档案的密级",
        "relation_exists" => "这两份档案之间已有此类关联",
        "relation_cycle" => "集团关系不能形成循环：公司不能成为自己的上级",
        "external_id_mismatch" => "该档案已有外部系统编号，导入不改变它",
        "read_only" => "您对该档案只有查阅权限",
        "not_revertible" => "此项变更不能回退",
        "owner_not_person" => "档案保管人须是人员，不能是服务账号",
        "unit_out_of_scope" => "只能由本单位或下级单位保管档案",
        "secrecy_above_clearance" => "不能以高于本人涉密等级的密级建档",
        "keeper_not_cleared" => "保管人的涉密等级低于档案密级",
        "keeper_outside_unit" => "保管人不属于档案的保管单位或其上级单位",
        "keeps_files" => "该人员保管的档案在调整后将无法查阅，请先移交（POST /api/v1/customers/hand-over）",
        "too_many" => "一次移交的档案过多，请分批移交",
        "keepers_out_of_reach" => "移动后，部分档案的保管人将无法查阅这些档案，请先移交（POST /api/v1/customers/hand-over）",
        "already_decided" => "该申请已作出决定",
        "not_in_force" => "只能撤销已批准且仍在有效期内的查阅",
        "own_request" => "不能审批自己提交的申请",
        "approval_not_in_force" => "该导出申请尚未批准、已被拒绝或已过期",
        "requester_moved" => "申请人提交申请后已调往其他单位，请重新申请",
        "level_in_use" => "该密级仍被档案或人员使用",
        "last_level" => "至少要保留一个密级",
        "order_changed" => "密级的高低顺序不能改变",
        "rank_taken" => "该级别序号已被其他密级占用",
        "unknown_secrecy_level" => "未知的密级",
        "import_rejected" => "导入未执行：有的行无法写入，未做任何更改",
        "empty_import" => "导入文件没有数据行",
        "too_many_rows" => "导入行数超过上限",
        "malformed_csv" => "CSV 格式错误",
        "invalid_encoding" => "文件编码无效：请使用 UTF-8，或在 Content-Type 中声明 charset=gb18030",
        "unsupported_charset" => "不支持该字符集：请使用 UTF-8 或 GB18030（GBK）",
        "backup_exists" => "备份文件已存在",
        "backups_elsewhere" => "本服务器的数据保存在 PostgreSQL 中，请用 pg_dump 或 WAL 归档备份（见 README）",
        "unknown_region" => "未知的行政区划代码",
        "unknown_province" => "未知的省级行政区划",
        "internal" => "服务器内部错误，已记录",
        _ => return None,
    })
}

/// Chinese text for a field error code.
pub fn zh_field(code: &str) -> &'static str {
    match code {
        "length" | "invalid_length" => "长度不符合要求",
        "range" | "out_of_range" => "数值超出允许范围",
        "email" => "不是有效的电子邮件地址",
        "required" | "missing_field" => "缺少必填字段",
        "unknown_field" => "不认识的字段",
        "unknown_parameter" => "该操作没有这个查询参数",
        "not_utf8" => "解码后不是 UTF-8（可能是 GBK 编码）：请对其 UTF-8 字节做百分号编码",
        "invalid_type" => "字段类型错误",
        "not_clearable" => "此字段不能清空（null）；不改它就不要写这个字段",
        "too_short" => "过短",
        "too_long" => "过长",
        "too_weak" => "过于简单",
        "invalid_format" => "格式不正确",
        "kept_by_archive" => "此列由档案系统维护，不能由导入改写",
        "changed_since_export" => "导出之后该档案又被修改过，请重新导出后再导入",
        "unit_mismatch" => "owner_unit_code 与 owner_unit_id 指向不同的单位",
        "keeper_mismatch" => "owner_username 与 owner_user_id 指向不同的人",
        "company_form_only" => "客户名称不能只有公司形式（有限公司、Co., Ltd.）",
        "invalid_mobile" => {
            "手机号码有误：大陆手机号为13至19开头的11位数字（可带+86），境外号码以+和国家代码开头"
        }
        "invalid_contact" => {
            "联系方式须为电话或手机号码（至少5位数字，可含空格、+、-和括号）或电子邮箱地址"
        }
        "invalid_url" => "不是有效的网址（须以 http:// 或 https:// 开头）",
        "invalid_filter" => "不是客户列表可用的筛选条件",
        "unknown_role" => "未知的角色",
        "unknown_unit_kind" => "未知的单位类型",
        "invalid_currency" => "币种代码不正确",
        "negative_amount" => "金额不能为负数",
        "duplicate" => "已被占用",
        "invalid_uuid" => "不是有效的 ID",
        "invalid_check_digit" => "校验码不正确",
        "invalid_value" => "取值不允许（例如档案不能与自身关联）",
        "owner_not_found" => "保管人不存在或已停用",
        "same_user" => "档案已由此人保管",
        "same_unit" => "档案已由该单位保管",
        "unknown_value" => "不认识的取值",
        "unknown_secrecy_level" => "未知的密级",
        "unknown_region" => "未知的行政区划代码",
        "retired_region" => "该行政区划代码已撤销，请使用现行代码",
        "unknown_province" => "未知的省级行政区划",
        "keeper_not_cleared" => "保管人的涉密等级低于档案密级",
        "keeper_outside_unit" => "保管人不属于档案的保管单位或其上级单位",
        "likely_duplicate" => "名称或联系方式与其他档案相同，可能是同一客户：请确认未重复建档",
        "owner_not_person" => "保管人须是人员",
        "unit_out_of_scope" => "不在您的管辖范围内",
        "secrecy_above_clearance" => "高于您的涉密等级",
        "merged" => "该档案已被合并",
        "relation_cycle" => "会使集团关系形成循环",
        "unit_not_found" => "单位不存在",
        "unit_inactive" => "单位已停用",
        "user_not_found" => "人员不存在",
        "user_inactive" => "人员已停用",
        "not_a_person" => "须是人员，不能是服务账号",
        "customer_not_found" => "客户档案不存在",
        "unknown_column" => "不认识的列",
        "duplicate_column" => "同一列出现了两次",
        "invalid_boolean" => "须为是或否（true/false、1/0、是/否）",
        "ambiguous_contact" => "档案中有多个联系人可能是这一行所指，请用 contact_external_id 指明",
        "contact_removed" => "持有该外部编号的联系人已被移除，导入不会恢复它",
        "duplicate_row" => "本次导入中前面已有一行指向同一联系人",
        "several_primary" => "本次导入中前面已有一行把该档案的另一联系人设为主要联系人",
        "customer_mismatch" => "这几列指向不同的客户档案",
        "duplicate_external_id" => "该档案已有联系人使用此外部编号",
        "contact_not_found" => "该档案没有这个 ID 的联系人",
        "absorbed_changed" => "要并入的档案在您读取之后又被修改过，请重新读取后再合并",
        "missing_column" => "缺少必需的列",
        "invalid_unit_path" => "单位路径格式不正确",
        // A rule's refusal of one field (`owner_not_found`) says its own words.
        other => zh_detail(other).unwrap_or("取值无效"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every refusal the code base can answer has Chinese text: the codes
    /// are read from the sources (`conflict("…"`, `ParseError::new("…"`
    /// and the like), so a new one without a translation fails here.
    #[test]
    fn every_problem_code_speaks_chinese() {
        // Refusals of the command line, never an HTTP answer.
        const CLI_ONLY: [&str; 4] = [
            "unsupported_backend",
            "invalid_database_url",
            "unit_required",
            "invalid_scheme",
        ];
        let pattern = regex::Regex::new(
            r#"(?:conflict|unprocessable|bad_request|forbidden|ParseError::new|ApiError::field\(\s*"[^"]*",|ApiError::new\(\s*StatusCode::[A-Z_]+,)\(?\s*"([a-z_]+)""#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = vec![crates];
        let mut missing = std::collections::BTreeSet::new();
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                let entries = std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{e}"));
                files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for code in pattern.captures_iter(&text).filter_map(|c| c.get(1)) {
                    let code = code.as_str();
                    seen += 1;
                    if zh_detail(code).is_none()
                        && zh_field(code) == "取值无效"
                        && !CLI_ONLY.contains(&code)
                    {
                        missing.insert(code.to_owned());
                    }
                }
            }
        }
        assert!(seen > 50, "the scan found the codes ({seen})");
        assert!(missing.is_empty(), "no Chinese text for {missing:?}");
    }

    #[test]
    fn picks_highest_quality_supported_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language(Some("en-US,zh;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr, zh;q=0.3")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("zh;q=0")), Lang::En);
    }
}
