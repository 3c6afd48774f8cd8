//! Customer files (CUS-01..07, CUS-10): create, read, change, list, find
//! duplicates, merge, history and revert. Every read of a file is written to
//! the read register in the same request, before the answer leaves.

use crate::dto::customers::{
    wire, Customer, CustomerChanges, CustomerPage, CustomerTypeDto, HistoryEntry, HistoryPage,
    MergeRequest, NatureDto, NewCustomer, Reverted, StatusDto,
};
use crate::error::{ApiError, FieldError};
use crate::extract::{
    Auth, IfMatch, IfNoneMatch, OptionalIfMatch, PageParams, PathId, PathSub, ReqCtx, ValidJson,
    ValidQuery,
};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use clientele_core::{Principal, Role, UnitPath};
use clientele_customers::visibility::{decide, edits_files, manages_files, sees_financials};
use clientele_customers::{
    merge as merge_rules, CreditCode, CustomerName, FileScope, RegionCode, Tags, Visibility,
};
use clientele_persistence::customer_access::{self, AccessEntry};
use clientele_persistence::customers::{
    self, CustomerFilter, CustomerRow, CustomerView, ListScope, Sort, SortKey,
};
use clientele_persistence::{regions, DbConn, Error as DbError, Plans, Timestamp, WriteMeta};
use serde::Deserialize;

/// A file the principal may see, how far, and the grant that opened it.
pub struct Seen {
    pub view: CustomerView,
    pub visibility: Visibility,
    pub grant: Option<String>,
}

/// Loads a file for `p`; a file it may not see is NotFound, like a missing one.
pub fn see(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    let view = customers::get(c, id)?;
    judge(c, p, view, now)
}

/// Decides how far `p` may see a loaded file; hidden is NotFound. Only a
/// hidden file costs a query, for an outside-access grant.
pub fn judge(
    c: &mut DbConn,
    p: &Principal,
    view: CustomerView,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    let path =
        UnitPath::parse(&view.owner_unit_path).map_err(|e| DbError::Corrupt(e.to_string()))?;
    let scope = FileScope {
        owner_unit_path: &path,
        secrecy_rank: view.secrecy_rank,
        shared: view.row.shared,
    };
    let mut visibility = decide(p, &scope, false);
    let mut grant = None;
    if visibility == Visibility::Hidden {
        grant = customer_access::active_grant(c, &view.row.id, &p.user_id.to_string(), now)?;
        if grant.is_some() {
            visibility = decide(p, &scope, true);
        }
    }
    if visibility == Visibility::Hidden {
        return Err(DbError::NotFound);
    }
    Ok(Seen {
        view,
        visibility,
        grant,
    })
}

/// Like `see`, but the principal must be allowed to work the file.
pub fn see_for_write(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    writable(see(c, p, id, now)?)
}

/// [`see_for_write`] for a file loaded already.
pub fn judge_for_write(
    c: &mut DbConn,
    p: &Principal,
    view: CustomerView,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    writable(judge(c, p, view, now)?)
}

fn writable(seen: Seen) -> clientele_persistence::Result<Seen> {
    if seen.visibility != Visibility::ReadWrite {
        return Err(DbError::forbidden(
            "read_only",
            "you may read this file but not change it",
        ));
    }
    Ok(seen)
}

/// A file the caller may change: one they may write that was not merged
/// away. An absorbed file is kept as the merge left it (CUS-05); its
/// customer is worked on the living file, which the answer names.
pub fn see_for_change(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    let view = customers::get(c, id)?;
    judge_for_change(c, p, view, now)
}

/// [`see_for_change`] for a file loaded already.
pub fn judge_for_change(
    c: &mut DbConn,
    p: &Principal,
    view: CustomerView,
    now: Timestamp,
) -> clientele_persistence::Result<Seen> {
    let seen = writable(judge(c, p, view, now)?)?;
    if let Some(living) = &seen.view.row.merged_into_id {
        return Err(DbError::conflict(
            "merged",
            format!("this file was merged into {living}; work that file"),
        ));
    }
    Ok(seen)
}

/// The register entry for one read of one file.
pub fn entry(seen: &Seen, action: &'static str) -> AccessEntry {
    AccessEntry {
        customer_id: seen.view.row.id.clone(),
        action,
        detail: None,
        grant_id: seen.grant.clone(),
    }
}

/// Registers one read of one file.
pub fn register(
    c: &mut DbConn,
    meta: &WriteMeta,
    seen: &Seen,
    action: &'static str,
    detail: Option<String>,
) -> clientele_persistence::Result<()> {
    customer_access::register(
        c,
        meta,
        &[AccessEntry {
            customer_id: seen.view.row.id.clone(),
            action,
            detail,
            grant_id: seen.grant.clone(),
        }],
    )
}

/// Loads a part of a file the caller may see (404 otherwise) and registers
/// the read as `action` in the same transaction (CUS-08). `load` gets the
/// connection, the caller and the time of the request.
pub(crate) async fn read_part<T: Send + 'static>(
    st: &AppState,
    ctx: &ReqCtx,
    p: Principal,
    id: String,
    action: &'static str,
    load: impl FnOnce(&mut DbConn, &Principal, Timestamp) -> clientele_persistence::Result<T>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    read_registered(st, ctx, p, id, (action, None), load).await
}

/// Like [`read_part`], for one contact, document or relation: the entry's
/// `detail` names it.
pub(crate) async fn read_one<T: Send + 'static>(
    st: &AppState,
    ctx: &ReqCtx,
    p: Principal,
    (id, sub): (String, String),
    action: &'static str,
    load: impl FnOnce(&mut DbConn, &Principal, Timestamp) -> clientele_persistence::Result<T>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    read_registered(st, ctx, p, id, (action, Some(sub)), load).await
}

async fn read_registered<T: Send + 'static>(
    st: &AppState,
    ctx: &ReqCtx,
    p: Principal,
    id: String,
    (action, detail): (&'static str, Option<String>),
    load: impl FnOnce(&mut DbConn, &Principal, Timestamp) -> clientele_persistence::Result<T>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    let meta = ctx.meta(st, Some(&p));
    st.write(move |c| {
        let seen = see(c, &p, &id, meta.at)?;
        register(c, &meta, &seen, action, detail)?;
        load(c, &p, meta.at)
    })
    .await
}

pub(crate) fn customer_answer(
    status: StatusCode,
    view: CustomerView,
    p: &Principal,
) -> HttpResponse {
    let (version, location) = (
        view.row.version,
        format!("/api/v1/customers/{}", view.row.id),
    );
    super::versioned(
        status,
        version,
        location,
        Customer::from_view(view, sees_financials(p)),
    )
}

fn field_err(errors: &mut Vec<FieldError>, field: &str, e: clientele_core::ParseError) {
    errors.push(FieldError {
        field: field.to_owned(),
        code: e.code.to_owned(),
        message: e.message,
    });
}

fn parse_credit(errors: &mut Vec<FieldError>, raw: Option<&str>) -> Option<String> {
    raw.and_then(|c| {
        CreditCode::parse(c)
            .map(|c| c.to_string())
            .map_err(|e| field_err(errors, "credit_code", e))
            .ok()
    })
}

fn parse_trading_since(
    errors: &mut Vec<FieldError>,
    day: chrono::NaiveDate,
    now: Timestamp,
) -> Option<chrono::NaiveDate> {
    clientele_customers::fields::trading_since(day, now)
        .map_err(|e| field_err(errors, "trading_since", e))
        .ok()
}

fn parse_region(errors: &mut Vec<FieldError>, raw: Option<&str>) -> Option<String> {
    raw.and_then(|c| {
        RegionCode::parse(c)
            .map(|r| r.as_str().to_owned())
            .map_err(|e| field_err(errors, "region_code", e))
            .ok()
    })
}

/// Trimmed text, or nothing when blank.
pub(crate) fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The financial fields need a role that may see them (field-level rule).
fn financial_guard(p: &Principal, touched: bool) -> Result<(), ApiError> {
    if touched && !sees_financials(p) {
        return Err(ApiError::forbidden(
            "registered_capital_fen, credit_standing, trading_terms and credit_problems need a role that may see them",
        ));
    }
    Ok(())
}

/// Files are kept in the unit's data, within what the creator may see.
fn placement_guard(
    p: &Principal,
    unit_path: &str,
    secrecy_rank: i32,
) -> clientele_persistence::Result<()> {
    unit_guard(p, unit_path)?;
    clearance_guard(p, secrecy_rank)
}

/// A file is kept by the caller's own unit or one below it (admins: any).
pub(crate) fn unit_guard(p: &Principal, unit_path: &str) -> clientele_persistence::Result<()> {
    let path = UnitPath::parse(unit_path).map_err(|e| DbError::Corrupt(e.to_string()))?;
    if !p.is_admin() && !p.unit_path.contains(&path) {
        return Err(DbError::unprocessable(
            "unit_out_of_scope",
            "a file can only be kept by your own unit or a unit below it",
        )
        .on("owner_unit_id"));
    }
    Ok(())
}

/// A file's secrecy level is within the caller's clearance.
pub(crate) fn clearance_guard(
    p: &Principal,
    secrecy_rank: i32,
) -> clientele_persistence::Result<()> {
    if secrecy_rank > p.clearance_rank {
        return Err(DbError::unprocessable(
            "secrecy_above_clearance",
            "you cannot file a customer at a secrecy level above your own clearance",
        )
        .on("secrecy_level"));
    }
    Ok(())
}

/// A region code set on a file must name a division a file may take now
/// (CUS-03: listed in the catalogue, not withdrawn); a code the file keeps
/// is not judged again. The region name follows the code unless the same
/// write names it: the division's full name, or none without a code.
/// `full_name_of` asks the catalogue (an import asks its own copy).
pub(crate) fn settle_region(
    row: &mut CustomerRow,
    before_code: Option<&str>,
    name_given: bool,
    full_name_of: impl FnOnce(&str) -> clientele_persistence::Result<String>,
) -> clientele_persistence::Result<()> {
    if row.region_code.as_deref() == before_code {
        return Ok(());
    }
    let full = row.region_code.as_deref().map(full_name_of).transpose()?;
    if !name_given {
        row.region_name = full;
    }
    Ok(())
}

fn placement_of(
    c: &mut DbConn,
    unit_id: &str,
    level: &str,
) -> clientele_persistence::Result<(String, i32)> {
    let unit = match clientele_persistence::units::get(c, unit_id) {
        Ok(u) => u,
        Err(DbError::NotFound) => {
            return Err(
                DbError::unprocessable("unit_not_found", "the owner unit does not exist")
                    .on("owner_unit_id"),
            )
        }
        Err(e) => return Err(e),
    };
    let rank = clientele_persistence::secrecy::find(c, level)?
        .ok_or_else(|| {
            DbError::unprocessable(
                "unknown_secrecy_level",
                format!("{level:?} is not a secrecy level"),
            )
            .on("secrecy_level")
        })?
        .rank;
    Ok((unit.path, rank))
}

/// Open a customer file (CUS-01, CUS-02). A credit code or ERP id that is
/// already on file answers 409 with the existing file's id.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])),
    request_body = NewCustomer, responses((status = 201, body = Customer)))]
pub async fn create_customer(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    body: ValidJson<NewCustomer>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !edits_files(&p) {
        return Err(ApiError::forbidden(
            "opening files needs the admin, manager, account_manager or integration role",
        ));
    }
    let b = body.0;
    financial_guard(&p, b.touches_financials())?;
    if b.shared == Some(true) && !(p.is_admin() || p.has(Role::Manager)) {
        return Err(ApiError::forbidden(
            "only managers and admins share files across units",
        ));
    }
    if b.status == Some(StatusDto::Archived) {
        return Err(ApiError::field(
            "status",
            "invalid_value",
            "a file is not opened archived",
        ));
    }
    let mut errors = Vec::new();
    let name = CustomerName::parse(&b.name)
        .map_err(|e| field_err(&mut errors, "name", e))
        .ok();
    let meta = ctx.meta(&st, Some(&p));
    let credit_code = parse_credit(&mut errors, b.credit_code.as_deref());
    let region_code = parse_region(&mut errors, b.region_code.as_deref());
    let trading_since = b
        .trading_since
        .and_then(|d| parse_trading_since(&mut errors, d, meta.at));
    let tags = Tags::parse(b.tags.as_deref().unwrap_or_default())
        .map_err(|e| field_err(&mut errors, "tags", e))
        .ok();
    let (Some(name), Some(tags)) = (name, tags) else {
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = meta.at;
    let who = p.clone();
    let owner_unit = b
        .owner_unit_id
        .map_or_else(|| p.unit_id.to_string(), |u| u.to_string());
    let view = st
        .write(move |c| {
            let level = match b.secrecy_level {
                Some(l) => l,
                None => clientele_persistence::secrecy::lowest(c)?.code,
            };
            let (path, rank) = placement_of(c, &owner_unit, &level)?;
            placement_guard(&p, &path, rank)?;
            let mut row = CustomerRow {
                id: clientele_core::new_id().to_string(),
                code: customers::next_code(c)?,
                name: String::new(),
                name_normalized: String::new(),
                name_folded: String::new(),
                name_sort: String::new(),
                name_mnemonic: String::new(),
                credit_code,
                legal_representative: clean(b.legal_representative),
                nature: wire(&b.nature),
                industry: clean(b.industry),
                customer_type: b.customer_type.map(|t| wire(&t)),
                region_code,
                region_name: clean(b.region_name),
                address: clean(b.address),
                size: b.size.map(|s| wire(&s)),
                registered_capital_fen: b.registered_capital_fen,
                trading_since,
                service_area: clean(b.service_area),
                sales_capacity: clean(b.sales_capacity),
                potential: clean(b.potential),
                credit_standing: clean(b.credit_standing),
                trading_terms: clean(b.trading_terms),
                business_policy: clean(b.business_policy),
                sales_history: clean(b.sales_history),
                attitude_to_us: clean(b.attitude_to_us),
                competitor_relations: clean(b.competitor_relations),
                credit_problems: clean(b.credit_problems),
                vulnerable: b.vulnerable.unwrap_or(false),
                status: wire(&b.status.unwrap_or(StatusDto::Prospect)),
                external_id: clean(b.external_id),
                owner_user_id: b.owner_user_id.map(|u| u.to_string()),
                owner_unit_id: owner_unit,
                secrecy_level: level,
                shared: b.shared.unwrap_or(false),
                merged_into_id: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            row.set_name(&name);
            let named = row.region_name.is_some();
            settle_region(&mut row, None, named, |code| regions::for_file(c, code))?;
            customers::create(c, &meta, row, tags.as_strs())
        })
        .await?;
    Ok(customer_answer(StatusCode::CREATED, view, &who))
}

/// Read a file; the read is registered (CUS-08).
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), IfNoneMatch),
    responses((status = 200, body = Customer, headers(("ETag" = String, description = "The version read"))),
        (status = 304, description = "Not modified: the `If-None-Match` tag is the current version")))]
pub async fn get_customer(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let who = p.clone();
    let seen = st.register.read_file(meta, p, id.0, "read").await?;
    Ok(customer_answer(StatusCode::OK, seen.view, &who))
}

/// Applies a validated change set to a stored row.
fn apply(
    p: &Principal,
    before: &CustomerRow,
    ch: CustomerChanges,
    now: Timestamp,
) -> Result<(CustomerRow, Option<Vec<String>>), ApiError> {
    financial_guard(p, ch.touches_financials())?;
    if ch.shared.is_some() && !(p.is_admin() || p.has(Role::Manager)) {
        return Err(ApiError::forbidden(
            "only managers and admins share files across units",
        ));
    }
    let mut errors = Vec::new();
    let mut row = before.clone();
    if let Some(n) = ch.name {
        if let Ok(name) = CustomerName::parse(&n).map_err(|e| field_err(&mut errors, "name", e)) {
            row.set_name(&name);
        }
    }
    if let Some(cc) = ch.credit_code {
        row.credit_code = match cc {
            Some(c) => parse_credit(&mut errors, Some(&c)),
            None => None,
        };
    }
    if let Some(rc) = ch.region_code {
        row.region_code = match rc {
            Some(r) => parse_region(&mut errors, Some(&r)),
            None => None,
        };
    }
    let tags = match ch.tags {
        Some(t) => Tags::parse(&t)
            .map(|t| Some(t.as_strs()))
            .map_err(|e| field_err(&mut errors, "tags", e))
            .unwrap_or(None),
        None => None,
    };
    if let Some(v) = ch.trading_since {
        row.trading_since = v.and_then(|d| parse_trading_since(&mut errors, d, now));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    macro_rules! clearable {
        ($($f:ident),*) => {$(
            if let Some(v) = ch.$f {
                row.$f = clean(v);
            }
        )*};
    }
    clearable!(
        legal_representative,
        industry,
        region_name,
        address,
        service_area,
        sales_capacity,
        potential,
        credit_standing,
        trading_terms,
        business_policy,
        sales_history,
        attitude_to_us,
        competitor_relations,
        credit_problems,
        external_id
    );
    if let Some(n) = ch.nature {
        row.nature = wire::<NatureDto>(&n);
    }
    if let Some(t) = ch.customer_type {
        row.customer_type = t.map(|t| wire(&t));
    }
    if let Some(s) = ch.size {
        row.size = s.map(|s| wire(&s));
    }
    if let Some(v) = ch.registered_capital_fen {
        row.registered_capital_fen = v;
    }
    if let Some(v) = ch.vulnerable {
        row.vulnerable = v;
    }
    if let Some(s) = ch.status {
        row.status = wire(&s);
    }
    if let Some(v) = ch.owner_user_id {
        row.owner_user_id = v.map(|u| u.to_string());
    }
    if let Some(v) = ch.owner_unit_id {
        row.owner_unit_id = v.to_string();
    }
    if let Some(v) = ch.secrecy_level {
        row.secrecy_level = v;
    }
    if let Some(v) = ch.shared {
        row.shared = v;
    }
    Ok((row, tags))
}

/// Change a file (`If-Match`). Each changed field lands in the history (CUS-04);
/// `status: archived` closes the file without destroying it (CUS-05).
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "ETag of the version you read", pattern = "^\"[0-9]+\"$")),
    request_body = CustomerChanges, responses((status = 200, body = Customer)))]
pub async fn update_customer(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    body: ValidJson<CustomerChanges>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let (who, reader) = (p.clone(), p.clone());
    let (file, now) = (id.0.clone(), meta.at);
    let current = st
        .read(move |c| see_for_change(c, &reader, &file, now))
        .await?;
    // Bad input is answered as such even when the ETag is stale too.
    let region_named = body.0.region_name.is_some();
    let (mut row, tags) = apply(&p, &current.view.row, body.0, now)?;
    if current.view.row.version != if_match.0 {
        return Err(DbError::StaleVersion.into());
    }
    let before = current.view.row;
    let view = st
        .write(move |c| {
            let seen = see_for_change(c, &p, &id.0, meta.at)?;
            // The answer shows the whole file: a read like any other (CUS-08).
            register(c, &meta, &seen, "read", Some("answer to a change".into()))?;
            settle_region(
                &mut row,
                before.region_code.as_deref(),
                region_named,
                |code| regions::for_file(c, code),
            )?;
            if row.owner_unit_id != before.owner_unit_id
                || row.secrecy_level != before.secrecy_level
            {
                let (path, rank) = placement_of(c, &row.owner_unit_id, &row.secrecy_level)?;
                placement_guard(&p, &path, rank)?;
            }
            let action = if row.status == "archived" && before.status != "archived" {
                "archived"
            } else {
                "updated"
            };
            customers::save(c, &meta, if_match.0, row, tags, action)
        })
        .await?;
    Ok(customer_answer(StatusCode::OK, view, &who))
}

/// Filters that find files by what identifies them, and the order of a
/// page (lists and exports; counts take none of them).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Parts of the name, any case, full- or half-width, in simplified or
    /// traditional characters (`臺灣` and `台湾` find the same files): the
    /// name holds each word, in any order (`燕京 集团` and `集团 燕京` find
    /// 北京燕京建设集团), and a word is found whether the name spaces it
    /// or not (`ABC科技` finds 深圳市 ABC 科技有限公司).
    #[param(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Quick search, as a search box: parts of the name (as `name`), or part
    /// of its mnemonic code (`bjhl` finds 北京华联…), the whole customer code
    /// or credit code, or a contact's whole number or address (as
    /// `contact`), each written with spaces or without.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(min_length = 1, max_length = 32)]
    pub code: Option<String>,
    #[param(min_length = 18, max_length = 18)]
    pub credit_code: Option<String>,
    #[param(min_length = 1, max_length = 64)]
    pub external_id: Option<String>,
    /// A phone or mobile number, or an email address, of one of the file's
    /// active contacts: who is calling, or writing? A number is found
    /// however either side wrote it (`010-8888 6666`, `+86 10 88886666`;
    /// `+86 138 0013 8000`, `013800138000`), in a contact's phone or
    /// mobile; an address in any case. Numbers need at least 5 digits.
    #[param(min_length = 3, max_length = 254)]
    pub contact: Option<String>,
    /// `name` (in pinyin order: 阿里 < 北京 < 中国), `created_at`, `updated_at`;
    /// prefix `-` for descending.
    #[param(pattern = "^-?(name|created_at|updated_at)$")]
    pub sort: Option<String>,
}

/// Filters by classification (CUS-03) and keeping (CUS-10): lists,
/// exports and counts.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClassQuery {
    pub nature: Option<NatureDto>,
    #[param(min_length = 1, max_length = 100)]
    pub industry: Option<String>,
    pub customer_type: Option<CustomerTypeDto>,
    /// Only vulnerable customers (`true`, CUS-03), or only the others.
    pub vulnerable: Option<bool>,
    /// Region code prefix: `11` Beijing, `4403` Shenzhen …; a whole
    /// province or prefecture code (`110000`, `440300`, as pickers give
    /// them) stands for every division in it.
    #[param(min_length = 1, max_length = 6, pattern = "^[0-9]+$")]
    pub region: Option<String>,
    pub status: Option<StatusDto>,
    pub owner_user_id: Option<uuid::Uuid>,
    /// Files kept by this unit or below it.
    pub unit_id: Option<uuid::Uuid>,
    /// Files that carry this tag, matched in its folded form: ＶＩＰ finds
    /// vip, 重點客戶 finds 重点客户.
    #[param(min_length = 1, max_length = 32)]
    pub tag: Option<String>,
    /// Files changed at or after this moment. A sync resumes from the
    /// `X-Changes-Complete-Until` of its previous answer, not from the
    /// newest `updated_at` it saw: a change stamped earlier may still have
    /// been under way then.
    #[serde(default, deserialize_with = "crate::dto::query_time")]
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Also take files merged into others (default false).
    pub include_merged: Option<bool>,
}

impl CustomerQuery {
    /// The parameters this query sets, by name.
    pub(crate) fn named(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("q", self.q.is_some()),
            ("code", self.code.is_some()),
            ("credit_code", self.credit_code.is_some()),
            ("external_id", self.external_id.is_some()),
            ("contact", self.contact.is_some()),
            ("sort", self.sort.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| *n)
        .collect()
    }
}

pub(crate) fn parse_sort(raw: Option<&str>) -> Result<Sort, ApiError> {
    let raw = raw.unwrap_or("name");
    let (descending, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    let key = match key {
        "name" => SortKey::Name,
        "created_at" => SortKey::CreatedAt,
        "updated_at" => SortKey::UpdatedAt,
        _ => {
            return Err(ApiError::bad_parameter(
                "sort",
                "unknown_value",
                "sort is name, created_at or updated_at, with - for descending",
            ))
        }
    };
    Ok(Sort { key, descending })
}

/// Turns the query into a filter, checking what the schema cannot.
pub(crate) fn filter_of(
    q: &CustomerQuery,
    c: &ClassQuery,
) -> Result<(CustomerFilter, Option<String>), ApiError> {
    for (name, v, max) in [
        ("name", &q.name, 100),
        ("q", &q.q, 100),
        ("code", &q.code, 32),
        ("industry", &c.industry, 100),
        ("tag", &c.tag, 32),
        ("external_id", &q.external_id, 64),
    ] {
        text_param(name, v.as_deref(), max)?;
    }
    let region_prefix = c
        .region
        .as_deref()
        .map(RegionCode::parse_prefix)
        .transpose()
        .map_err(|e| ApiError::bad_parameter("region", e.code, e.message))?;
    let credit_code = credit_code_param(q.credit_code.as_deref())?;
    let contact = q.contact.as_deref().map(reach_of).transpose()?;
    Ok((
        CustomerFilter {
            name_contains: q
                .name
                .as_deref()
                .map(clientele_customers::name::search_words),
            quick: q.q.as_deref().map(clientele_customers::name::search_words),
            code: q.code.clone(),
            credit_code,
            nature: c.nature.map(|n| wire(&n)),
            industry: c.industry.clone(),
            customer_type: c.customer_type.map(|t| wire(&t)),
            vulnerable: c.vulnerable,
            region_prefix,
            status: c.status.map(|s| wire(&s)),
            owner_user_id: c.owner_user_id.map(|u| u.to_string()),
            unit_path: None,
            tag: c.tag.as_deref().map(clientele_customers::Tag::fold),
            external_id: q.external_id.clone(),
            contact,
            quick_reach: q.q.as_deref().and_then(|raw| reach_of(raw.trim_end()).ok()),
            updated_since: c.updated_since.map(|t| t.naive_utc()),
            include_merged: c.include_merged.unwrap_or(false),
        },
        c.unit_id.map(|u| u.to_string()),
    ))
}

/// A text query parameter, when given: 1 to `max` characters, not white
/// space only.
pub(crate) fn text_param(name: &str, value: Option<&str>, max: usize) -> Result<(), ApiError> {
    if value.is_some_and(|s| s.trim().is_empty() || s.chars().count() > max) {
        return Err(ApiError::bad_parameter(
            name,
            "invalid_length",
            format!("{name} must have 1 to {max} characters"),
        ));
    }
    Ok(())
}

/// A `credit_code` query parameter, when given: checked with its check
/// digits, in the form files hold it.
pub(crate) fn credit_code_param(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(|c| CreditCode::parse(c).map(|c| c.to_string()))
        .transpose()
        .map_err(|e| ApiError::bad_parameter("credit_code", e.code, e.message))
}

/// The number or address a `contact` query parameter names. One sent
/// unencoded as `+86 …` arrives as ` 86 …` (a `+` in a query is a space):
/// its country code is read as one.
pub(crate) fn reach_of(raw: &str) -> Result<clientele_customers::Reach, ApiError> {
    if !(3..=254).contains(&raw.chars().count()) {
        return Err(ApiError::bad_parameter(
            "contact",
            "invalid_length",
            "contact must have 3 to 254 characters",
        ));
    }
    let restored: std::borrow::Cow<'_, str> = match raw.strip_prefix(' ') {
        Some(rest) if rest.trim_start().starts_with("86") => format!("+{rest}").into(),
        _ => raw.into(),
    };
    clientele_customers::Reach::parse(&restored)
        .map_err(|e| ApiError::bad_parameter("contact", e.code, e.message))
}

pub(crate) fn scope_of(p: &Principal) -> ListScope {
    ListScope {
        unit_path: (!p.reads_everything()).then(|| p.unit_path.as_str().to_owned()),
        clearance_rank: p.clearance_rank,
    }
}

/// Resolves a unit filter to its path; an unknown unit matches nothing.
pub(crate) fn unit_filter(
    c: &mut DbConn,
    f: &mut CustomerFilter,
    unit_id: Option<&str>,
) -> clientele_persistence::Result<()> {
    if let Some(u) = unit_id {
        f.unit_path = Some(match clientele_persistence::units::get(c, u) {
            Ok(unit) => unit.path,
            Err(DbError::NotFound) => "/no-such-unit/".to_owned(),
            Err(e) => return Err(e),
        });
    }
    Ok(())
}

/// Lists the files visible to `p` under the query, and registers every file
/// shown under `action` before returning the page.
pub(crate) async fn registered_page(
    st: &AppState,
    p: Principal,
    meta: WriteMeta,
    (q, c): (&CustomerQuery, &ClassQuery),
    (limit, cursor): (u32, Option<clientele_core::Cursor>),
    action: &'static str,
    (detail, grant_id): (Option<String>, Option<String>),
) -> Result<clientele_persistence::Page<CustomerView>, ApiError> {
    let sort = parse_sort(q.sort.as_deref())?;
    let (mut filter, unit_id) = filter_of(q, c)?;
    let scope = scope_of(&p);
    // The unit filter names a unit here; its path is looked up in the read.
    let shares = std::sync::Arc::clone(st.db.shares());
    let plans = if unit_id.is_some() {
        Plans::ByValue
    } else {
        filter.plans(&shares, &scope)
    };
    let page = st
        .read_with(plans, move |c| {
            unit_filter(c, &mut filter, unit_id.as_deref())?;
            customers::list(c, &shares, &scope, &filter, sort, limit, cursor.as_ref())
        })
        .await?;
    let entries: Vec<AccessEntry> = page
        .items
        .iter()
        .map(|v| AccessEntry {
            customer_id: v.row.id.clone(),
            action,
            detail: detail.clone(),
            grant_id: grant_id.clone(),
        })
        .collect();
    st.register.register(meta, entries).await?;
    Ok(page)
}

/// List the files visible to the caller; every file shown is registered as read.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])),
    params(CustomerQuery, ClassQuery, PageParams), responses((status = 200, body = CustomerPage,
        headers(("X-Changes-Complete-Until" = String, description = "Every change to a file stamped before this moment (RFC 3339, UTC) was committed when the answer was read: a sync resumes `updated_since` from it")))))]
pub async fn list_customers(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<CustomerQuery>,
    c: ValidQuery<ClassQuery>,
    page: ValidQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let q = (q.into_inner(), c.into_inner());
    let (limit, cursor) = page.parse()?;
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let financials = sees_financials(&p);
    let complete = super::changes_complete_until(&st);
    let page = registered_page(
        &st,
        p,
        meta,
        (&q.0, &q.1),
        (limit, cursor),
        "list",
        (None, None),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(complete)
        .json(CustomerPage::from_page(page, |v| {
            Customer::from_view(v, financials)
        })))
}

fn status_of(v: &CustomerView) -> clientele_persistence::Result<clientele_customers::Status> {
    clientele_customers::Status::parse(&v.row.status).map_err(|e| DbError::Corrupt(e.to_string()))
}

fn merge_side(v: &CustomerView) -> clientele_persistence::Result<merge_rules::MergeSide<'_>> {
    Ok(merge_rules::MergeSide {
        id: &v.row.id,
        status: status_of(v)?,
        merged_into: v.row.merged_into_id.as_deref(),
        credit_code: v.row.credit_code.as_deref(),
        external_id: v.row.external_id.as_deref(),
        secrecy_rank: v.secrecy_rank,
    })
}

/// Merge a duplicate into this file (manager or admin): its contacts,
/// relations, documents and history move here; it stays, archived, pointing
/// at this file (CUS-01, CUS-05), as do the files merged into it before.
/// This file takes over the credit code and ERP id it lacks; files with
/// different credit codes are different entities (409).
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, nullable = false, description = "ETag of the surviving file as you read it: the merge is refused (412) if it changed since", pattern = "^\"[0-9]+\"$")),
    request_body = MergeRequest, responses((status = 200, body = Customer)))]
pub async fn merge_customer(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    if_match: OptionalIfMatch,
    body: ValidJson<MergeRequest>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    if !manages_files(&p) {
        return Err(ApiError::forbidden(
            "merging files needs the manager or admin role",
        ));
    }
    let meta = ctx.meta(&st, Some(&p));
    let who = p.clone();
    let absorbed_id = body.0.absorbed_id.to_string();
    let absorbed_version = body.0.absorbed_version;
    let view = st
        .write(move |c| {
            customers::lock_merge(c, &id.0, &absorbed_id)?;
            let survivor = see_for_write(c, &p, &id.0, meta.at)?;
            // Decided on the file as the manager read it.
            if if_match.0.is_some_and(|v| v != survivor.view.row.version) {
                return Err(DbError::StaleVersion);
            }
            // The body names the other file: its absence is a bad request, not a missing path.
            let absorbed = see_for_write(c, &p, &absorbed_id, meta.at).map_err(|e| match e {
                DbError::NotFound => DbError::unprocessable(
                    "customer_not_found",
                    "the file to absorb does not exist",
                )
                .on("absorbed_id"),
                other => other,
            })?;
            let now = absorbed.view.row.version;
            if absorbed_version.is_some_and(|v| v != now) {
                return Err(DbError::conflict(
                    "absorbed_changed",
                    format!("the file to absorb changed since you read it (now version {now}); read it again before merging"),
                )
                .on("absorbed_version"));
            }
            let (kept, gone) = (merge_side(&survivor.view)?, merge_side(&absorbed.view)?);
            merge_rules::check(&kept, &gone).map_err(|e| DbError::conflict(e.code, e.message))?;
            let taken = merge_rules::taken_over(&kept, &gone);
            register(
                c,
                &meta,
                &survivor,
                "read",
                Some("answer to a merge".into()),
            )?;
            customers::merge(c, &meta, &survivor.view.row.id, &absorbed.view, taken)
        })
        .await?;
    Ok(customer_answer(StatusCode::OK, view, &who))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Only changes of this kind: the file's own fields, or its contacts,
    /// documents or relations.
    pub entity: Option<crate::dto::customers::HistoryEntityDto>,
    /// Only changes of this one contact, document or relation (or, with
    /// the file's own id, of the file's fields).
    pub entity_id: Option<uuid::Uuid>,
}

/// The history of a file, newest first (CUS-04). The values of financial
/// fields are withheld from roles that may not see them, as on the file.
#[utoipa::path(get, path = "/api/v1/customers/{id}/history", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), HistoryQuery), responses((status = 200, body = HistoryPage)))]
pub async fn customer_history(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    q: ValidQuery<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let (limit, cursor) = PageParams::of(q.limit, q.cursor).parse()?;
    let entity = q.entity.map(|e| wire(&e));
    let entity_id = q.entity_id.map(|e| e.to_string());
    let file = id.0.clone();
    let financials = sees_financials(&auth.0);
    let page = read_part(&st, &ctx, auth.0, id.0, "history", move |c, p, at| {
        let of = customers::HistoryOf {
            entity: entity.as_deref(),
            entity_id: entity_id.as_deref(),
        };
        let page = customers::history_of(c, &file, of, limit, cursor.as_ref())?;
        // A relation's creation names the file at its other end; shown only
        // to those who may see that file, as in the list of relations.
        let mut items = Vec::with_capacity(page.items.len());
        for row in page.items {
            let other = (row.entity == "relation")
                .then(|| related_file(&row, &file))
                .flatten();
            let hidden = match other {
                Some(other) => see(c, p, &other, at).is_err(),
                None => false,
            };
            items.push((row, hidden));
        }
        Ok(clientele_persistence::Page {
            items,
            next: page.next,
        })
    })
    .await?;
    Ok(
        HttpResponse::Ok().json(HistoryPage::from_page(page, |(r, hidden)| {
            HistoryEntry::shown(r, financials, hidden)
        })),
    )
}

/// The file at the other end of a relation named in a history entry.
fn related_file(row: &clientele_persistence::customers::ChangeRow, file: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(row.new_value.as_deref()?).ok()?;
    let other = [&value["from_id"], &value["to_id"]]
        .into_iter()
        .filter_map(|v| v.as_str())
        .find(|id| *id != file)
        .map(str::to_owned);
    other
}

/// Fields a revert may not touch: identity and merge bookkeeping.
const NOT_REVERTIBLE: [&str; 5] = ["*", "merged_from", "merged_into_id", "code", "id"];

/// Put one field back to the value it had before a change: a field of the
/// file, or of one of its contacts or document records (`If-Match` of the
/// one changed; the answer is it, whole). The revert is itself a new
/// change. Identity, merge bookkeeping and relations are not reverted.
#[utoipa::path(post, path = "/api/v1/customers/{id}/history/{sub_id}/revert", tag = "customers", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("sub_id" = uuid::Uuid, Path, description = "The history entry"),
        ("If-Match" = String, Header, description = "ETag of the file, contact or document the entry changed", pattern = "^\"[0-9]+\"$")),
    responses((status = 200, body = Reverted)))]
pub async fn revert_change(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    id: PathId,
    change: PathSub,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let meta = ctx.meta(&st, Some(&p));
    let who = p.clone();
    let reverted = st
        .write(move |c| {
            // Contact writes of a file queue (one primary a file).
            customers::lock_files(c, &[&id.0])?;
            let seen = see_for_change(c, &p, &id.0, meta.at)?;
            let ch = customers::change(c, &id.0, &change.0)?;
            match ch.entity.as_str() {
                "contact" | "document" => {
                    super::customer_parts::revert_part(c, &meta, &seen, &ch, if_match.0)
                }
                _ => {
                    register(c, &meta, &seen, "read", Some("answer to a revert".into()))?;
                    revert_file_field(c, &meta, &p, seen, &ch, if_match.0)
                        .map(|v| Reverting::File(Box::new(v)))
                }
            }
        })
        .await?;
    Ok(match reverted {
        Reverting::File(view) => customer_answer(StatusCode::OK, *view, &who),
        Reverting::Contact(row) => super::versioned(
            StatusCode::OK,
            row.version,
            String::new(),
            Reverted::Contact(row.into()),
        ),
        Reverting::Document(row) => super::versioned(
            StatusCode::OK,
            row.version,
            String::new(),
            Reverted::Document(row.into()),
        ),
    })
}

/// The value a history entry replaced (`null` when there was none).
pub(crate) fn old_value(ch: &clientele_persistence::customers::ChangeRow) -> serde_json::Value {
    ch.old_value
        .as_deref()
        .and_then(|v| serde_json::from_str(v).ok())
        .unwrap_or_default()
}

/// A copy of a row with one field, by its JSON name, set to `value`.
pub(crate) fn with_field<T: serde::Serialize + serde::de::DeserializeOwned>(
    row: &T,
    field: &str,
    value: serde_json::Value,
) -> clientele_persistence::Result<T> {
    let corrupt = |e: serde_json::Error| DbError::Corrupt(e.to_string());
    let mut v = serde_json::to_value(row).map_err(corrupt)?;
    v[field] = value;
    serde_json::from_value(v).map_err(corrupt)
}

/// What a revert changed.
pub(crate) enum Reverting {
    File(Box<CustomerView>),
    Contact(clientele_persistence::customer_parts::ContactRow),
    Document(clientele_persistence::customer_parts::DocumentRow),
}

/// Puts a field of the file itself back.
fn revert_file_field(
    c: &mut DbConn,
    meta: &WriteMeta,
    p: &Principal,
    seen: Seen,
    ch: &clientele_persistence::customers::ChangeRow,
    expected_version: i64,
) -> clientele_persistence::Result<CustomerView> {
    if ch.entity != "customer" || NOT_REVERTIBLE.contains(&ch.field.as_str()) {
        return Err(DbError::unprocessable(
            "not_revertible",
            "identity, merge bookkeeping and relations cannot be reverted",
        ));
    }
    if crate::dto::customers::FINANCIAL_FIELDS.contains(&ch.field.as_str()) && !sees_financials(p) {
        return Err(DbError::forbidden(
            "forbidden",
            "that field needs a role that may see it",
        ));
    }
    let old = old_value(ch);
    let mut tags = None;
    let mut row = seen.view.row.clone();
    if ch.field == "tags" {
        // Stored by today's rule: a value recorded before it is folded.
        let earlier = serde_json::from_value::<Vec<String>>(old).unwrap_or_default();
        let folded =
            Tags::parse(&earlier).map_err(|e| DbError::unprocessable(e.code, e.message))?;
        tags = Some(folded.as_strs());
    } else {
        row = with_field(&row, &ch.field, old)?;
        if ch.field == "name" {
            let name = CustomerName::parse(&row.name)
                .map_err(|e| DbError::unprocessable(e.code, e.message))?;
            row.set_name(&name);
        }
        if row.owner_unit_id != seen.view.row.owner_unit_id
            || row.secrecy_level != seen.view.row.secrecy_level
        {
            let (path, rank) = placement_of(c, &row.owner_unit_id, &row.secrecy_level)?;
            placement_guard(p, &path, rank)?;
        }
        settle_region(
            &mut row,
            seen.view.row.region_code.as_deref(),
            false,
            |code| regions::for_file(c, code),
        )?;
    }
    customers::save(c, meta, expected_version, row, tags, "reverted")
}
