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
        "unsupported_media_type" => "请求体必须是 JSON（Content-Type: application/json）",
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
        "unsupported_grant_type" => "不支持的授权类型",
        "too_many_attempts" => "登录失败次数过多，请稍后再试",
        "precondition_failed" => "资源已被他人修改，请重新读取后再提交",
        "precondition_required" => "更新需要 If-Match 请求头（取自 ETag）",
        "duplicate" => "已存在相同的记录",
        "idempotency_key_reused" => "该 Idempotency-Key 已用于另一个请求",
        "idempotency_key_in_progress" => "使用该 Idempotency-Key 的请求仍在处理中",
        "secret_not_replayed" => "使用该 Idempotency-Key 的首次请求已成功；其中的密钥只显示一次，不再重放，如已丢失请重新生成",
        "unit_in_use" => "该单位仍有在用的下级单位或用户",
        "parent_not_found" => "上级单位不存在",
        "invalid_parent_kind" => "该类型的单位不能放在此上级单位之下",
        "cycle" => "单位不能移动到自身或其下级之下",
        "unit_not_found" => "单位不存在",
        "unit_inactive" => "单位已停用",
        "unknown_clearance" => "未知的密级",
        "service_unavailable" => "数据库暂时不可用，请稍后重试",
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
        "invalid_type" => "字段类型错误",
        "too_short" => "过短",
        "too_long" => "过长",
        "too_weak" => "过于简单",
        "invalid_format" => "格式不正确",
        "unknown_role" => "未知的角色",
        "unknown_unit_kind" => "未知的单位类型",
        "invalid_currency" => "币种代码不正确",
        "negative_amount" => "金额不能为负数",
        "duplicate" => "已被占用",
        "invalid_uuid" => "不是有效的 ID",
        _ => "取值无效",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
