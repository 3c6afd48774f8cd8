//! Exchange with ERP and finance systems (CUS-08, issue 3 §8): CSV and
//! NDJSON export of a filtered list, registered as an export of each file;
//! CSV import with a dry run that reports every bad row and field, and a
//! commit that is all-or-nothing, upserting by the ERP id.

use crate::csv;
use crate::dto::customers::{
    wire, Contact, Customer, CustomerTypeDto, NatureDto, SizeDto, StatusDto,
};
use crate::error::ApiError;
use crate::extract::{Auth, ReqCtx, ValidQuery};
use crate::routes::csv_import::{
    self, conclude, header_refused, in_one_transaction, read_upload, ImportError, ImportQuery,
    ImportReport, ImportWarning, Tally,
};
use crate::routes::customer_files::{
    clearance_guard, judge_for_change, registered_page, scope_of, see_for_change, settle_region,
    unit_guard, ClassQuery, CustomerQuery,
};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use clientele_core::{Cursor, Principal};
use clientele_customers::regions::CatalogueEntry;
use clientele_customers::visibility::{exports_files, sees_financials};
use clientele_customers::{CreditCode, CustomerName, RegionCode, Tags};
use clientele_persistence::changed_files::{self, ChangedFiles};
use clientele_persistence::customer_parts::{self, ContactRow};
use clientele_persistence::customers::{self, CustomerRow, CustomerView};
use clientele_persistence::file_refs::CheckedRefs;
use clientele_persistence::new_files::NewFiles;
use clientele_persistence::{regions, units, users, DbConn, Error as DbError, WriteMeta};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormatQuery {
    /// `csv` (default) or `ndjson`.
    pub format: Option<ExportFormat>,
    /// Rows in this answer, 1 to 10 000 (default 1 000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
    /// `X-Next-Cursor` of the previous answer.
    #[param(max_length = 1024, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// Rows one export answer may carry; more come with the cursor in `X-Next-Cursor`.
const EXPORT_MAX: u32 = 10_000;

impl ExportFormatQuery {
    /// The format (CSV by default), the rows of this answer (1 000 by
    /// default) and where it starts.
    pub fn parse(&self) -> Result<(ExportFormat, u32, Option<Cursor>), ApiError> {
        let limit = match self.limit {
            None => 1_000,
            Some(n) if (1..=i64::from(EXPORT_MAX)).contains(&n) => n as u32,
            Some(_) => {
                return Err(ApiError::bad_parameter(
                    "limit",
                    "out_of_range",
                    format!("limit must be between 1 and {EXPORT_MAX}"),
                ))
            }
        };
        let cursor = self
            .cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(|e| ApiError::bad_request("invalid_cursor", e.message))?;
        Ok((self.format.unwrap_or(ExportFormat::Csv), limit, cursor))
    }
}

/// One JSON document a line.
pub(crate) fn ndjson<T: serde::Serialize>(
    rows: impl IntoIterator<Item = T>,
) -> Result<String, ApiError> {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(&r).map_err(|_| ApiError::internal())?);
        out.push('\n');
    }
    Ok(out)
}

/// An export's answer: its body as `format`, named `name` for a download,
/// and the cursor of the next answer.
pub(crate) fn export_answer(
    name: &str,
    format: ExportFormat,
    body: String,
    next: Option<String>,
) -> HttpResponse {
    let content_type = match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Ndjson => "application/x-ndjson",
    };
    let mut res = HttpResponse::Ok();
    res.content_type(content_type);
    res.insert_header((
        "content-disposition",
        format!("attachment; filename=\"{name}.{}\"", wire_format(format)),
    ));
    if let Some(n) = next {
        res.insert_header(("x-next-cursor", n));
    }
    res.body(body)
}

/// The export's columns. Columns added later go at the end, so readers that
/// take them by position keep working.
const COLUMNS: [&str; 40] = [
    "id",
    "code",
    "external_id",
    "name",
    "credit_code",
    "legal_representative",
    "nature",
    "industry",
    "region_code",
    "region_name",
    "address",
    "size",
    "registered_capital_fen",
    "trading_since",
    "status",
    "tags",
    "owner_unit_id",
    "owner_user_id",
    "secrecy_level",
    "merged_into_id",
    "updated_at",
    "service_area",
    "sales_capacity",
    "potential",
    "business_policy",
    "sales_history",
    "attitude_to_us",
    "competitor_relations",
    "credit_standing",
    "trading_terms",
    "credit_problems",
    "vulnerable",
    "customer_type",
    "mnemonic",
    "province",
    "owner_username",
    "primary_contact_name",
    "primary_contact_phone",
    "primary_contact_mobile",
    "primary_contact_email",
];

/// One file as a CSV line; `keeper` is its keeper's username, `primary`
/// its primary contact.
fn csv_row(c: &Customer, keeper: Option<&str>, primary: Option<&ContactRow>) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let of_primary =
        |f: fn(&ContactRow) -> Option<&String>| primary.and_then(f).cloned().unwrap_or_default();
    csv::line([
        c.id.to_string(),
        c.code.clone(),
        opt(&c.external_id),
        c.name.clone(),
        opt(&c.credit_code),
        opt(&c.legal_representative),
        c.nature.clone(),
        opt(&c.industry),
        opt(&c.region_code),
        opt(&c.region_name),
        opt(&c.address),
        opt(&c.size),
        c.registered_capital_fen
            .map(|v| v.to_string())
            .unwrap_or_default(),
        c.trading_since.map(|d| d.to_string()).unwrap_or_default(),
        c.status.clone(),
        c.tags.join(";"),
        c.owner_unit_id.to_string(),
        c.owner_user_id.map(|u| u.to_string()).unwrap_or_default(),
        c.secrecy_level.clone(),
        c.merged_into_id.map(|u| u.to_string()).unwrap_or_default(),
        c.updated_at.to_rfc3339(),
        opt(&c.service_area),
        opt(&c.sales_capacity),
        opt(&c.potential),
        opt(&c.business_policy),
        opt(&c.sales_history),
        opt(&c.attitude_to_us),
        opt(&c.competitor_relations),
        opt(&c.credit_standing),
        opt(&c.trading_terms),
        opt(&c.credit_problems),
        c.vulnerable.to_string(),
        opt(&c.customer_type),
        c.mnemonic.clone(),
        opt(&c.province),
        keeper.unwrap_or_default().to_owned(),
        of_primary(|p| Some(&p.name)),
        of_primary(|p| p.phone.as_ref()),
        of_primary(|p| p.mobile.as_ref()),
        of_primary(|p| p.email.as_ref()),
    ])
}

/// Files leave the archive only with permission (CUS-08): the admin,
/// manager, auditor and integration roles export; others are refused (403)
/// and ask with an export request.
pub(crate) fn may_export(p: &Principal) -> Result<(), ApiError> {
    if exports_files(p) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "exporting files needs the admin, manager, auditor or integration role",
        ))
    }
}

/// One file as an NDJSON line: the file as the API shows it, and its
/// primary contact.
#[derive(Serialize)]
struct ExportedFile<'a> {
    #[serde(flatten)]
    file: &'a Customer,
    primary_contact: Option<Contact>,
}

/// Export the files visible to the caller, filtered like the list, as CSV or
/// NDJSON (up to 10 000 rows an answer; `X-Next-Cursor` continues), each
/// with its primary contact (CSV: `primary_contact_name`, `_phone`,
/// `_mobile`, `_email`; NDJSON: `primary_contact`). Every
/// exported file is registered as exported. Files leave the archive only
/// with permission (CUS-08): the admin, manager, auditor and integration
/// roles export; others get 403 and read files in the archive instead.
#[utoipa::path(get, path = "/api/v1/customers/export", tag = "customers", security(("bearer" = [])),
    params(CustomerQuery, ClassQuery, ExportFormatQuery),
    responses((status = 200, description = "The files, one per line", content(
        (String = "text/csv"),
        (String = "application/x-ndjson")
    ), headers(
        ("X-Next-Cursor" = String, description = "Where the next answer starts, when there is one"),
        ("X-Changes-Complete-Until" = String, description = "Every change to a file stamped before this moment (RFC 3339, UTC) was committed when the answer was read: a sync resumes `updated_since` from it")
    ))))]
pub async fn export_customers(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<CustomerQuery>,
    c: ValidQuery<ClassQuery>,
    f: ValidQuery<ExportFormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    may_export(&p)?;
    let (format, limit, cursor) = f.parse()?;
    let meta = ctx.meta(&st, Some(&p));
    exported(
        &st,
        p,
        meta,
        (&q.into_inner(), &c.into_inner()),
        (format, limit, cursor),
        None,
    )
    .await
}

/// A page of the files `p` sees that the filters find, as CSV or NDJSON,
/// each registered as exported (under `grant`, the approved export request
/// it was taken under, if any).
pub(crate) async fn exported(
    st: &AppState,
    p: Principal,
    meta: WriteMeta,
    q: (&CustomerQuery, &ClassQuery),
    (format, limit, cursor): (ExportFormat, u32, Option<Cursor>),
    grant: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let financials = sees_financials(&p);
    let detail = Some(wire_format(format).to_owned());
    let complete = super::changes_complete_until(st);
    let page = registered_page(st, p, meta, q, (limit, cursor), "export", (detail, grant)).await?;
    let next = page.next.as_ref().map(Cursor::encode);
    let rows: Vec<Customer> = page
        .items
        .into_iter()
        .map(|v| Customer::from_view(v, financials))
        .collect();
    let files: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let mut primaries = st
        .read(move |c| customer_parts::primary_contacts(c, &files))
        .await?;
    let body = match format {
        ExportFormat::Csv => {
            // Keepers by username, as an import names them.
            let mut ids: Vec<String> = rows
                .iter()
                .filter_map(|r| r.owner_user_id.map(|u| u.to_string()))
                .collect();
            ids.sort();
            ids.dedup();
            let keepers = st.read(move |c| users::usernames(c, &ids)).await?;
            let mut out = String::from("\u{feff}");
            out.push_str(&csv::line(COLUMNS));
            for r in &rows {
                let keeper = r
                    .owner_user_id
                    .and_then(|u| keepers.get(&u.to_string()))
                    .map(String::as_str);
                out.push_str(&csv_row(r, keeper, primaries.get(&r.id.to_string())));
            }
            out
        }
        ExportFormat::Ndjson => ndjson(rows.iter().map(|file| ExportedFile {
            file,
            primary_contact: primaries.remove(&file.id.to_string()).map(Contact::from),
        }))?,
    };
    let mut res = export_answer("customers", format, body, next);
    let (name, value) = complete;
    res.headers_mut().insert(name, value);
    Ok(res)
}

fn wire_format(f: ExportFormat) -> &'static str {
    match f {
        ExportFormat::Csv => "csv",
        ExportFormat::Ndjson => "ndjson",
    }
}

/// Columns an import may carry besides [`TEXT_COLUMNS`]; `external_id`
/// and `name` are required.
const IMPORT_COLUMNS: [&str; 15] = [
    "external_id",
    "name",
    "credit_code",
    "nature",
    "customer_type",
    "region_code",
    "size",
    "registered_capital_fen",
    "trading_since",
    "status",
    "vulnerable",
    "tags",
    "owner_unit_code",
    "secrecy_level",
    "owner_username",
];

/// Columns the export writes that an import reads too, so that a file
/// exported, changed in a spreadsheet and imported again is read whole.
/// The archive keeps `id`, `code`, `mnemonic`, `province` and
/// `merged_into_id` itself, and the file's primary contact (changed
/// through the file's contacts): a cell of them is checked against the
/// file, never written. `updated_at` says when the file was as exported: a row
/// whose file changed since is refused, so a round trip loses no change
/// made meanwhile. `owner_unit_id` and `owner_user_id` name the unit and
/// the keeper by id, beside or instead of their code and username.
const EXPORTED_COLUMNS: [&str; 12] = [
    "id",
    "code",
    "mnemonic",
    "province",
    "merged_into_id",
    "updated_at",
    "owner_unit_id",
    "owner_user_id",
    "primary_contact_name",
    "primary_contact_phone",
    "primary_contact_mobile",
    "primary_contact_email",
];

fn import_columns() -> impl Iterator<Item = &'static str> {
    IMPORT_COLUMNS
        .into_iter()
        .chain(TEXT_COLUMNS.iter().map(|(name, ..)| *name))
        .chain(EXPORTED_COLUMNS)
}

/// The free-text columns of an import: name, most characters (the API's
/// limits) and whether it is a financial field (CUS-07).
const TEXT_COLUMNS: [(&str, usize, bool); 14] = [
    ("legal_representative", 100, false),
    ("industry", 100, false),
    ("region_name", 100, false),
    ("address", 300, false),
    ("service_area", 500, false),
    ("sales_capacity", 500, false),
    ("potential", 500, false),
    ("business_policy", 500, false),
    ("sales_history", 2000, false),
    ("attitude_to_us", 500, false),
    ("competitor_relations", 500, false),
    ("credit_standing", 500, true),
    ("trading_terms", 500, true),
    ("credit_problems", 2000, true),
];

const MAX_IMPORT_ROWS: usize = 10_000;

/// A row as parsed: the fields present, checked.
#[derive(Debug, Clone, Default)]
struct ImportRow {
    line: usize,
    external_id: String,
    name: Option<CustomerName>,
    values: Vec<(&'static str, Option<String>)>,
    nature: Option<String>,
    size: Option<Option<String>>,
    capital: Option<Option<i64>>,
    trading_since: Option<Option<chrono::NaiveDate>>,
    status: Option<String>,
    tags: Option<Vec<String>>,
    unit_code: Option<String>,
    /// The keeper's username; an empty cell takes the keeper off.
    owner_username: Option<Option<String>>,
    secrecy: Option<String>,
    credit_code: Option<Option<String>>,
    region_code: Option<Option<String>>,
    vulnerable: Option<bool>,
    customer_type: Option<Option<String>>,
    /// Cells of the columns the archive keeps itself, as given (not empty).
    kept: Vec<(&'static str, String)>,
    /// When the file was as exported (`updated_at`).
    exported_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The unit by id (`owner_unit_id`).
    unit_id: Option<String>,
    /// The keeper by id (`owner_user_id`); an empty cell: none.
    owner_id: Option<Option<String>>,
}

impl ImportRow {
    /// The archive's id of the file, as the row's `id` cell gives it.
    fn given_id(&self) -> Option<&str> {
        self.kept
            .iter()
            .find_map(|(column, v)| (*column == "id").then_some(v.as_str()))
    }

    /// Whether the row gives a region name of its own (a cell with text).
    fn names_region(&self) -> bool {
        self.values
            .iter()
            .any(|(k, v)| *k == "region_name" && v.is_some())
    }
}

/// A date in a CSV cell: `2018-09-03` as the export writes it, or as a
/// spreadsheet saves a date it recognised (Excel on Chinese Windows:
/// `2018/9/3`), with or without leading zeros.
fn cell_date(cell: &str) -> Option<chrono::NaiveDate> {
    let parts: Vec<&str> = cell.split(['-', '/']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, most: usize| {
        (!s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let year = i32::try_from(digits(y, 4).filter(|_| y.len() == 4)?).ok()?;
    chrono::NaiveDate::from_ymd_opt(year, digits(m, 2)?, digits(d, 2)?)
}

fn enum_value<T: for<'de> Deserialize<'de> + Serialize>(raw: &str) -> Option<String> {
    serde_json::from_value::<T>(serde_json::Value::String(raw.to_owned()))
        .ok()
        .map(|v| wire(&v))
}

fn parse_rows(
    records: &[Vec<String>],
    financials: bool,
    now: clientele_persistence::Timestamp,
) -> Result<(Vec<ImportRow>, Vec<ImportError>), ApiError> {
    let Some((header, data)) = records.split_first() else {
        return Err(ApiError::unprocessable(
            "empty_import",
            "the CSV has no header row",
        ));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut errors = Vec::new();
    for h in &header {
        if !import_columns().any(|c| c == h) {
            errors.push(ImportError {
                row: 0,
                field: h.clone(),
                code: "unknown_column".into(),
                message: format!(
                    "unknown column {h:?}; known: {}",
                    import_columns().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    for required in ["external_id", "name"] {
        if !header.iter().any(|h| h == required) {
            errors.push(ImportError {
                row: 0,
                field: required.into(),
                code: "missing_column".into(),
                message: format!("the {required} column is required"),
            });
        }
    }
    if !errors.is_empty() {
        return Ok((Vec::new(), errors));
    }
    if data.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::unprocessable(
            "too_many_rows",
            format!("at most {MAX_IMPORT_ROWS} rows per import"),
        ));
    }
    let mut rows = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut seen_files = std::collections::HashSet::new();
    for (i, rec) in data.iter().enumerate() {
        let line = i + 1;
        let mut err = |field: &str, code: &str, message: String| {
            errors.push(ImportError {
                row: line,
                field: field.to_owned(),
                code: code.to_owned(),
                message,
            })
        };
        if rec.len() != header.len() {
            err(
                "",
                "wrong_field_count",
                format!("{} fields, the header has {}", rec.len(), header.len()),
            );
            continue;
        }
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        for (h, raw) in header.iter().zip(rec) {
            let v = csv::plain(raw.trim()).trim();
            let opt = (!v.is_empty()).then(|| v.to_owned());
            if v.chars().any(|c| c == '\0') {
                err(h, "invalid_format", "NUL characters are not allowed".into());
                continue;
            }
            match h.as_str() {
                "external_id" => {
                    // An empty one is judged with the row's id, below.
                    if v.chars().count() > 64 {
                        err(
                            h,
                            "invalid_length",
                            "external_id has 1 to 64 characters".into(),
                        );
                    } else if !v.is_empty() && !seen_ids.insert(v.to_owned()) {
                        err(h, "duplicate", format!("{v} appears twice in this file"));
                    }
                    row.external_id = v.to_owned();
                }
                "name" => match CustomerName::parse(v) {
                    Ok(n) => row.name = Some(n),
                    Err(e) => err(h, e.code, e.message),
                },
                "credit_code" => {
                    row.credit_code = Some(match opt {
                        Some(c) => match CreditCode::parse(&c) {
                            Ok(c) => Some(c.to_string()),
                            Err(e) => {
                                err(h, e.code, e.message);
                                None
                            }
                        },
                        None => None,
                    })
                }
                "region_code" => {
                    row.region_code = Some(match opt {
                        Some(c) => match RegionCode::parse(&c) {
                            Ok(r) => Some(r.as_str().to_owned()),
                            Err(e) => {
                                err(h, e.code, e.message);
                                None
                            }
                        },
                        None => None,
                    })
                }
                "nature" => match enum_value::<NatureDto>(v) {
                    Some(n) => row.nature = Some(n),
                    None => err(h, "unknown_value", format!("{v:?} is not a nature")),
                },
                "size" => {
                    row.size = Some(match opt {
                        Some(s) => match enum_value::<SizeDto>(&s) {
                            Some(s) => Some(s),
                            None => {
                                err(h, "unknown_value", format!("{s:?} is not a size"));
                                None
                            }
                        },
                        None => None,
                    })
                }
                "status" => match enum_value::<StatusDto>(v) {
                    Some(s) => row.status = Some(s),
                    None => err(h, "unknown_value", format!("{v:?} is not a status")),
                },
                "registered_capital_fen" => {
                    if !financials && opt.is_some() {
                        err(
                            h,
                            "forbidden",
                            "this field needs a role that may see it".into(),
                        );
                    }
                    row.capital = Some(match opt {
                        Some(n) => match n.parse::<i64>() {
                            Ok(n) if n >= 0 => Some(n),
                            _ => {
                                err(
                                    h,
                                    "invalid_format",
                                    "a whole, non-negative number of fen".into(),
                                );
                                None
                            }
                        },
                        None => None,
                    })
                }
                "trading_since" => {
                    row.trading_since = Some(match opt {
                        Some(d) => match cell_date(&d) {
                            Some(d) => match clientele_customers::fields::trading_since(d, now) {
                                Ok(d) => Some(d),
                                Err(e) => {
                                    err(h, e.code, e.message);
                                    None
                                }
                            },
                            None => {
                                err(
                                    h,
                                    "invalid_format",
                                    "a date as YYYY-MM-DD (or YYYY/M/D, as Excel saves one)".into(),
                                );
                                None
                            }
                        },
                        None => None,
                    })
                }
                "tags" => match Tags::parse(
                    &v.split(';')
                        .filter(|t| !t.trim().is_empty())
                        .collect::<Vec<_>>(),
                ) {
                    Ok(t) => row.tags = Some(t.as_strs()),
                    // A list written as a spreadsheet writes one.
                    Err(e) if v.contains([',', '，']) => err(
                        h,
                        e.code,
                        format!("{}: tags are separated by ';' in a cell (a;b)", e.message),
                    ),
                    Err(e) => err(h, e.code, e.message),
                },
                "owner_unit_code" => row.unit_code = opt,
                "owner_username" => row.owner_username = Some(opt.map(|u| u.to_lowercase())),
                "id"
                | "code"
                | "mnemonic"
                | "province"
                | "merged_into_id"
                | "primary_contact_name"
                | "primary_contact_phone"
                | "primary_contact_mobile"
                | "primary_contact_email" => {
                    let Some((v, col)) = opt.zip(EXPORTED_COLUMNS.iter().find(|c| *c == h)) else {
                        continue;
                    };
                    // Ids as the archive writes them (lower case).
                    let v = if h.ends_with("id") {
                        match uuid::Uuid::parse_str(&v) {
                            Ok(id) => id.to_string(),
                            Err(_) => {
                                err(h, "invalid_format", format!("{h} is a UUID"));
                                continue;
                            }
                        }
                    } else {
                        v
                    };
                    row.kept.push((col, v));
                }
                "updated_at" => match opt.as_deref().map(chrono::DateTime::parse_from_rfc3339) {
                    Some(Ok(t)) => row.exported_at = Some(t.with_timezone(&chrono::Utc)),
                    Some(Err(_)) => err(
                        h,
                        "invalid_format",
                        "a time as RFC 3339 with its offset, as the export writes it".into(),
                    ),
                    None => {}
                },
                "owner_unit_id" | "owner_user_id" => {
                    let id = match opt.as_deref().map(uuid::Uuid::parse_str) {
                        Some(Ok(id)) => Some(id.to_string()),
                        Some(Err(_)) => {
                            err(h, "invalid_format", format!("{h} is a UUID"));
                            continue;
                        }
                        None => None,
                    };
                    if h == "owner_unit_id" {
                        row.unit_id = id;
                    } else {
                        row.owner_id = Some(id);
                    }
                }
                "secrecy_level" => row.secrecy = opt,
                "customer_type" => {
                    row.customer_type = Some(match opt {
                        Some(t) => match enum_value::<CustomerTypeDto>(&t) {
                            Some(t) => Some(t),
                            None => {
                                err(h, "unknown_value", format!("{t:?} is not a customer type"));
                                None
                            }
                        },
                        None => None,
                    })
                }
                "vulnerable" => match v.to_lowercase().as_str() {
                    "true" | "yes" | "1" => row.vulnerable = Some(true),
                    "false" | "no" | "0" | "" => row.vulnerable = Some(false),
                    _ => err(h, "invalid_format", "true or false".into()),
                },
                other => {
                    let Some(&(key, max, financial)) =
                        TEXT_COLUMNS.iter().find(|(name, ..)| *name == other)
                    else {
                        continue;
                    };
                    if financial && !financials && opt.is_some() {
                        err(
                            h,
                            "forbidden",
                            "this field needs a role that may see it".into(),
                        );
                    }
                    if v.chars().count() > max {
                        err(h, "too_long", format!("at most {max} characters"));
                    }
                    row.values.push((key, opt));
                }
            }
        }
        // A row names its file by ERP id, or by the archive's id (a file
        // exported without an ERP id); a new file needs its ERP id.
        match row.given_id() {
            None if row.external_id.is_empty() => errors.push(ImportError {
                row: line,
                field: "external_id".into(),
                code: "invalid_length".into(),
                message: "external_id has 1 to 64 characters (or the id of the file the row \
                          changes)"
                    .into(),
            }),
            Some(id) if !seen_files.insert(id.to_ascii_lowercase()) => errors.push(ImportError {
                row: line,
                field: "id".into(),
                code: "duplicate".into(),
                message: format!("{id} appears twice in this file"),
            }),
            _ => {}
        }
        rows.push(row);
    }
    Ok((rows, errors))
}

/// Applies one parsed row to a file (new or existing).
fn apply_row(
    row: &ImportRow,
    mut base: CustomerRow,
    tags: &mut Option<Vec<String>>,
) -> CustomerRow {
    if let Some(n) = &row.name {
        base.set_name(n);
    }
    for (k, v) in &row.values {
        let field = match *k {
            "legal_representative" => &mut base.legal_representative,
            "industry" => &mut base.industry,
            "region_name" => &mut base.region_name,
            "service_area" => &mut base.service_area,
            "sales_capacity" => &mut base.sales_capacity,
            "potential" => &mut base.potential,
            "business_policy" => &mut base.business_policy,
            "sales_history" => &mut base.sales_history,
            "attitude_to_us" => &mut base.attitude_to_us,
            "competitor_relations" => &mut base.competitor_relations,
            "credit_standing" => &mut base.credit_standing,
            "trading_terms" => &mut base.trading_terms,
            "credit_problems" => &mut base.credit_problems,
            _ => &mut base.address,
        };
        field.clone_from(v);
    }
    if let Some(v) = row.vulnerable {
        base.vulnerable = v;
    }
    if let Some(v) = &row.customer_type {
        base.customer_type.clone_from(v);
    }
    if let Some(v) = &row.credit_code {
        base.credit_code = v.clone();
    }
    if let Some(v) = &row.region_code {
        base.region_code = v.clone();
    }
    if let Some(v) = &row.nature {
        base.nature = v.clone();
    }
    if let Some(v) = &row.size {
        base.size = v.clone();
    }
    if let Some(v) = row.capital {
        base.registered_capital_fen = v;
    }
    if let Some(v) = row.trading_since {
        base.trading_since = v;
    }
    if let Some(v) = &row.status {
        base.status = v.clone();
    }
    if let Some(v) = &row.secrecy {
        base.secrecy_level = v.clone();
    }
    if row.tags.is_some() {
        tags.clone_from(&row.tags);
    }
    base
}

/// What importing one row did.
enum RowOutcome {
    /// A new file: its id and normalised name.
    Created {
        id: String,
        normalised: String,
    },
    Updated,
    Unchanged,
}

/// What every row of one import looks up: read once (the files of the
/// file's external ids in one query a thousand), as the import's
/// transaction sees them, and kept up to date as rows create files.
struct ImportContext {
    levels: Vec<clientele_persistence::secrecy::SecrecyLevelRow>,
    units: HashMap<String, units::UnitRow>,
    unit_ids: HashMap<String, Option<String>>,
    /// File ids by external id.
    files: HashMap<String, String>,
    /// Files of the rows about to run, read ahead by [`load_files`](Self::load_files).
    loaded: HashMap<String, CustomerView>,
    /// What the region catalogue holds of each code met.
    regions: HashMap<String, Option<CatalogueEntry>>,
    /// Account ids by username, as met.
    people: HashMap<String, Option<String>>,
    codes: customers::CodeRun,
}

impl ImportContext {
    /// `codes`: where new files' codes come from.
    fn load(
        c: &mut DbConn,
        rows: &[ImportRow],
        codes: customers::CodeRun,
    ) -> Result<Self, DbError> {
        let mut levels = clientele_persistence::secrecy::list(c)?;
        levels.sort_by_key(|l| l.rank);
        let external_ids: Vec<&str> = rows
            .iter()
            .map(|r| r.external_id.as_str())
            .filter(|e| !e.is_empty())
            .collect();
        let files = customers::ids_by_external_id(c, &external_ids)?;
        // Every file the import may change is locked now, in id order, as
        // every other write of several files locks them (a merge, a
        // hand-over): taken row by row in the CSV's order, the locks of an
        // import and of such a write crossed, and one of them failed as a
        // deadlock (PostgreSQL; SQLite's writers take turns). Files named
        // by their id are among them.
        let mut ids: Vec<&str> = files.values().map(String::as_str).collect();
        ids.extend(rows.iter().filter_map(ImportRow::given_id));
        ids.sort_unstable();
        ids.dedup();
        customers::lock_files(c, &ids)?;
        Ok(Self {
            levels,
            units: HashMap::new(),
            unit_ids: HashMap::new(),
            files,
            loaded: HashMap::new(),
            regions: HashMap::new(),
            people: HashMap::new(),
            codes,
        })
    }

    /// The file a row changes: the one its ERP id names, else the one its
    /// `id` names (a file without an ERP id, or one the row gives one);
    /// none for a new file.
    fn file_of<'a>(&'a self, row: &'a ImportRow) -> Option<&'a str> {
        self.files
            .get(&row.external_id)
            .map(String::as_str)
            .or_else(|| row.given_id())
    }

    /// Reads the files `rows` change, in one query on PostgreSQL, so that
    /// each row does not read its own.
    fn load_files(&mut self, c: &mut DbConn, rows: &[ImportRow]) -> Result<(), DbError> {
        let ids: Vec<&str> = rows.iter().filter_map(|r| self.file_of(r)).collect();
        if ids.is_empty() {
            // Only new files: nothing to read.
            self.loaded.clear();
            return Ok(());
        }
        self.loaded = customers::get_many(c, &ids)?
            .into_iter()
            .map(|v| (v.row.id.clone(), v))
            .collect();
        Ok(())
    }

    /// Before rows rolled back run again: the codes they took are handed
    /// out again, and units are read (and held) anew, since the rollback
    /// let go of the holds taken meanwhile.
    fn retry(&mut self, codes: customers::CodeRun) {
        self.codes = codes;
        self.units.clear();
        self.unit_ids.clear();
    }

    fn unit(&mut self, c: &mut DbConn, id: &str) -> Result<&units::UnitRow, DbError> {
        if !self.units.contains_key(id) {
            // Held until the import commits: a deactivation waits for it.
            let unit = units::get_held(c, id)?;
            self.units.insert(id.to_owned(), unit);
        }
        self.units.get(id).ok_or(DbError::NotFound)
    }

    /// [`regions::for_file`], each code read once an import.
    fn region_for_file(&mut self, c: &mut DbConn, code: &str) -> Result<String, DbError> {
        if !self.regions.contains_key(code) {
            let entry = regions::entry(c, code)?;
            self.regions.insert(code.to_owned(), entry);
        }
        regions::judge(code, self.regions.get(code).and_then(Option::as_ref))
    }

    /// The keeper a row names: the account of a username (read once an
    /// import), or none for an empty cell. Whether it may keep files is
    /// judged where the file is written, as for any change of keeper.
    fn keeper(&mut self, c: &mut DbConn, name: Option<&str>) -> Result<Option<String>, DbError> {
        let Some(name) = name else {
            return Ok(None);
        };
        if !self.people.contains_key(name) {
            let id = users::credentials(c, name)?.map(|u| u.id);
            self.people.insert(name.to_owned(), id);
        }
        match self.people.get(name).cloned().flatten() {
            Some(id) => Ok(Some(id)),
            None => Err(DbError::Invalid {
                field: "owner_username",
                code: "user_not_found",
                message: format!("no account has username {name:?}"),
            }),
        }
    }

    fn unit_id_of_code(&mut self, c: &mut DbConn, code: &str) -> Result<String, DbError> {
        let id = match self.unit_ids.get(code) {
            Some(id) => id.clone(),
            None => {
                // Only the id: the unit itself is read and held by `unit`.
                let id = units::find_by_code(c, code)?.map(|u| u.id);
                self.unit_ids.insert(code.to_owned(), id.clone());
                id
            }
        };
        id.ok_or_else(|| {
            DbError::unprocessable("unit_not_found", format!("no unit has code {code:?}"))
                .on("owner_unit_code")
        })
    }
}

/// Rows run at once on PostgreSQL, in one savepoint, before the next.
const ROWS_AT_ONCE: usize = 100;

/// Runs every row inside one transaction; what rows write besides files'
/// rows (history, audit entries, events) is gathered and written at the
/// end. On PostgreSQL [`ROWS_AT_ONCE`] rows at a time, the files they
/// change read in one query, all at once in one savepoint, their new rows
/// inserted together: most imports have no bad row, and a savepoint, a
/// read and an insert a row were most of its round trips. If a row fails,
/// those rows are rolled back and run again, each in a savepoint of its
/// own: a row that fails leaves nothing behind and the rows after it are
/// still tried, so a dry run (or a refused commit) names every bad row,
/// not only the first, and a bad row costs its own run of rows once more,
/// not the whole import. The second try hands out the same codes.
fn run_import(
    c: &mut DbConn,
    p: &Principal,
    meta: &clientele_persistence::WriteMeta,
    rows: &[ImportRow],
    codes: Option<customers::CodeRun>,
) -> Result<Tally, DbError> {
    let codes = match codes {
        Some(run) => run,
        None => customers::CodeRun::start(c)?,
    };
    let mut cx = ImportContext::load(c, rows, codes)?;
    let mut records = Records::default();
    let mut done = Tally::default();
    let sqlite = matches!(c, DbConn::Sqlite(_));
    // On SQLite the new files' search rows are written at the end, all
    // together, by `records`.
    let _deferred = sqlite.then(clientele_persistence::sql_fns::DeferredSearch::hold);
    if sqlite {
        // In-process savepoints cost no round trip, and one held over the
        // whole pass made SQLite keep every page it changed: row by row
        // was measured faster there (3.9–4.0 s against 4.2–4.5 s).
        import_rows(c, p, meta, rows, &mut cx, &mut records, &mut done, true)?;
    } else {
        for run in rows.chunks(ROWS_AT_ONCE) {
            let (mark, codes) = (records.mark(), cx.codes.clone());
            let mut tried = Tally::default();
            cx.load_files(c, run)?;
            let at_once = clientele_persistence::savepoint(c, |c| {
                records.new.hold_rows();
                import_rows(c, p, meta, run, &mut cx, &mut records, &mut tried, false)?;
                records.new.write_rows(c)
            });
            match at_once {
                Ok(()) => done.add(tried),
                Err(e) if e.is_refusal() => {
                    records.forget_since(mark);
                    cx.retry(codes);
                    import_rows(c, p, meta, run, &mut cx, &mut records, &mut done, true)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    cx.codes.finish(c)?;
    records.new.write(c)?;
    records.changed.write(c)?;
    done.warnings = likely_duplicates(c, p, &done.opened)?;
    Ok(done)
}

/// The files in sight holding one normalised name: how many the archive
/// held and how many rows of the import opened, and the first of each.
#[derive(Default)]
struct Holders {
    files: usize,
    named_files: Vec<uuid::Uuid>,
    rows: usize,
    named_rows: Vec<usize>,
}

/// Files in sight that a file the import opened has the normalised name
/// of: each row that opened one is warned of the files the archive held
/// before and of the other rows that opened one, at most [`NAMED`] of each
/// named (a sheet of ten thousand people called 张伟 stays a sheet of
/// warnings, not a square of them).
fn likely_duplicates(
    c: &mut DbConn,
    p: &Principal,
    opened: &[(usize, String, String)],
) -> Result<Vec<ImportWarning>, DbError> {
    const NAMED: usize = 20;
    let names: Vec<&str> = opened.iter().map(|(_, _, n)| n.as_str()).collect();
    let held = customers::visible_holders_of_shared(c, &scope_of(p), &names)?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let line_of: HashMap<&str, usize> = opened
        .iter()
        .map(|(line, id, _)| (id.as_str(), *line))
        .collect();
    // Each shared name once: the archive's files (how many, the first
    // named) and the rows that opened one (how many, the first named and
    // one more, for a row that is among them).
    let mut by_name: HashMap<&str, Holders> = HashMap::new();
    for (name, holders) in &held {
        let mut h = Holders::default();
        for id in holders {
            match line_of.get(id.as_str()) {
                Some(line) => {
                    h.rows += 1;
                    h.named_rows.push(*line);
                }
                None => {
                    h.files += 1;
                    if h.named_files.len() < NAMED {
                        h.named_files.push(id.parse().unwrap_or_default());
                    }
                }
            }
        }
        h.named_rows.sort_unstable();
        h.named_rows.truncate(NAMED + 1);
        by_name.insert(name.as_str(), h);
    }
    let mut warnings = Vec::new();
    for (line, _, name) in opened {
        let Some(h) = by_name.get(name.as_str()) else {
            continue;
        };
        let (files, others) = (h.files, h.rows - 1);
        if files == 0 && others == 0 {
            continue;
        }
        let mut rows_named: Vec<usize> =
            h.named_rows.iter().copied().filter(|l| l != line).collect();
        rows_named.truncate(NAMED);
        let in_archive = match files {
            0 => String::new(),
            1 => "a file in the archive".to_owned(),
            n => format!("{n} files in the archive"),
        };
        let in_sheet = match others {
            0 => String::new(),
            1 => "another row".to_owned(),
            n => format!("{n} other rows"),
        };
        let message = match (files, others) {
            (1, 0) => format!("{in_archive} holds the same name"),
            (_, 0) => format!("{in_archive} hold the same name"),
            (0, 1) => format!("{in_sheet} opens a file of the same name too"),
            (0, _) => format!("{in_sheet} open files of the same name too"),
            _ => format!("{in_archive} and {in_sheet} hold the same name"),
        };
        warnings.push(ImportWarning {
            row: *line,
            field: "name".into(),
            code: "likely_duplicate".into(),
            message,
            customer_ids: h.named_files.clone(),
            rows: rows_named,
        });
    }
    warnings.sort_by_key(|w| w.row);
    Ok(warnings)
}

/// What an import's rows write besides the files' rows, gathered over the
/// import and written at its end, and the references (units, keepers,
/// levels) its rows were found to make well.
#[derive(Default)]
struct Records {
    new: NewFiles,
    changed: ChangedFiles,
    refs: CheckedRefs,
}

impl Records {
    fn mark(&self) -> (usize, changed_files::Mark) {
        (self.new.mark(), self.changed.mark())
    }

    fn forget_since(&mut self, (new, changed): (usize, changed_files::Mark)) {
        self.new.forget_since(new);
        self.changed.forget_since(changed);
        self.refs.forget();
    }
}

/// Runs rows into `done`; with `row_by_row`, each row in a savepoint of its
/// own and a row's fault recorded, else the first fault ends the run.
#[allow(clippy::too_many_arguments)]
fn import_rows(
    c: &mut DbConn,
    p: &Principal,
    meta: &clientele_persistence::WriteMeta,
    rows: &[ImportRow],
    cx: &mut ImportContext,
    records: &mut Records,
    done: &mut Tally,
    row_by_row: bool,
) -> Result<(), DbError> {
    for row in rows {
        let outcome = if row_by_row {
            clientele_persistence::savepoint(c, |c| import_row(c, p, meta, row, cx, records))
        } else {
            import_row(c, p, meta, row, cx, records)
        };
        match outcome {
            Ok(RowOutcome::Created { id, normalised }) => {
                done.created += 1;
                done.opened.push((row.line, id, normalised));
            }
            Ok(RowOutcome::Updated) => done.updated += 1,
            Ok(RowOutcome::Unchanged) => done.unchanged += 1,
            Err(e) if row_by_row && e.is_refusal() => {
                // Its savepoint's rollback let go of what its checks held.
                records.refs.forget();
                done.failed.push((row.line, e));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A row read back from an export is about the file as it was exported:
/// the columns the archive keeps itself must be the file's, and the file
/// must not have changed since (`updated_at`), or the row would undo what
/// was changed meanwhile.
fn as_exported(
    row: &ImportRow,
    file: &CustomerRow,
    primary: Option<&ContactRow>,
) -> Result<(), DbError> {
    use clientele_customers::reach::{email_key, number_key};
    for (column, given) in &row.kept {
        let of_primary =
            |f: fn(&ContactRow) -> Option<&String>| primary.and_then(f).map(String::as_str);
        let kept = match *column {
            "id" => Some(file.id.as_str()),
            "code" => Some(file.code.as_str()),
            "mnemonic" => Some(file.name_mnemonic.as_str()),
            "province" => file
                .region_code
                .as_deref()
                .and_then(clientele_customers::province_of),
            "primary_contact_name" => of_primary(|p| Some(&p.name)),
            "primary_contact_phone" => of_primary(|p| p.phone.as_ref()),
            "primary_contact_mobile" => of_primary(|p| p.mobile.as_ref()),
            "primary_contact_email" => of_primary(|p| p.email.as_ref()),
            _ => file.merged_into_id.as_deref(),
        };
        // Numbers and addresses as a spreadsheet may rewrite them.
        let same = |k: &str| match *column {
            "primary_contact_phone" | "primary_contact_mobile" => {
                number_key(k) == number_key(given)
            }
            "primary_contact_email" => email_key(k) == email_key(given),
            _ => k.eq_ignore_ascii_case(given),
        };
        if column.starts_with("primary_contact_") && !kept.is_some_and(same) {
            return Err(DbError::unprocessable(
                "kept_by_archive",
                format!(
                    "{column} is the file's primary contact, {}: contacts change through the \
                     file's contacts (/customers/{{id}}/contacts), not an import",
                    kept.unwrap_or("empty")
                ),
            )
            .on(column));
        }
        if !kept.is_some_and(same) {
            return Err(DbError::unprocessable(
                "kept_by_archive",
                format!(
                    "{column} is kept by the archive: this file's is {}",
                    kept.unwrap_or("empty")
                ),
            )
            .on(column));
        }
    }
    let changed = crate::dto::utc(file.updated_at);
    if row.exported_at.is_some_and(|at| at != changed) {
        return Err(DbError::conflict(
            "changed_since_export",
            format!(
                "the file changed at {} after this row was exported: export it again",
                changed.to_rfc3339()
            ),
        )
        .on("updated_at"));
    }
    Ok(())
}

/// Creates or updates the file of one row.
fn import_row(
    c: &mut DbConn,
    p: &Principal,
    meta: &clientele_persistence::WriteMeta,
    row: &ImportRow,
    cx: &mut ImportContext,
    records: &mut Records,
) -> Result<RowOutcome, DbError> {
    let unit_id = match (&row.unit_code, &row.unit_id) {
        (Some(code), by_id) => {
            let id = cx.unit_id_of_code(c, code)?;
            if by_id.as_ref().is_some_and(|u| *u != id) {
                return Err(DbError::unprocessable(
                    "unit_mismatch",
                    "owner_unit_code and owner_unit_id name different units",
                )
                .on("owner_unit_id"));
            }
            id
        }
        (None, Some(id)) => id.clone(),
        (None, None) => p.unit_id.to_string(),
    };
    let names_unit = row.unit_code.is_some() || row.unit_id.is_some();
    let keeper = match (&row.owner_username, &row.owner_id) {
        (Some(name), by_id) => {
            let id = cx.keeper(c, name.as_deref())?;
            if by_id.as_ref().is_some_and(|k| *k != id) {
                return Err(DbError::unprocessable(
                    "keeper_mismatch",
                    "owner_username and owner_user_id name different people",
                )
                .on("owner_user_id"));
            }
            Some(id)
        }
        (None, Some(id)) => Some(id.clone()),
        (None, None) => None,
    };
    if let Some(id) = cx.file_of(row).map(str::to_owned) {
        let by_id = !cx.files.contains_key(&row.external_id);
        let seen = match cx.loaded.remove(&id) {
            Some(view) => judge_for_change(c, p, view, meta.at),
            None => see_for_change(c, p, &id, meta.at),
        }
        .map_err(|e| match e {
            // Named by its id: a file that is not there, or not the
            // caller's to see, is that cell's fault.
            DbError::NotFound if by_id => {
                DbError::unprocessable("customer_not_found", "no file has this id").on("id")
            }
            other => other,
        })?;
        let primary = if row
            .kept
            .iter()
            .any(|(c, _)| c.starts_with("primary_contact_"))
        {
            customer_parts::primary_contacts(c, std::slice::from_ref(&seen.view.row.id))?
                .remove(&seen.view.row.id)
        } else {
            None
        };
        as_exported(row, &seen.view.row, primary.as_ref())?;
        let mut tags = None;
        let mut after = apply_row(row, seen.view.row.clone(), &mut tags);
        // A file named by its id takes the ERP id the row gives it, if it
        // has none: one it has is its key, and a spreadsheet that changed
        // it (Excel drops an id's leading zeros) would relink the file.
        if !row.external_id.is_empty() {
            match &seen.view.row.external_id {
                Some(kept) if *kept != row.external_id => {
                    return Err(DbError::unprocessable(
                        "external_id_mismatch",
                        format!("this file's external_id is {kept}: an import does not change it"),
                    )
                    .on("external_id"))
                }
                _ => after.external_id = Some(row.external_id.clone()),
            }
        }
        if let Some(k) = keeper {
            after.owner_user_id = k;
        }
        settle_region(
            &mut after,
            seen.view.row.region_code.as_deref(),
            row.names_region(),
            |code| cx.region_for_file(c, code),
        )?;
        if names_unit {
            after.owner_unit_id = unit_id;
        }
        if after == seen.view.row && tags.as_ref().is_none_or(|t| *t == seen.view.tags) {
            return Ok(RowOutcome::Unchanged);
        }
        let version = seen.view.row.version;
        let changed = customers::save_loaded(
            c,
            meta,
            &seen.view,
            version,
            after,
            tags,
            "imported",
            &mut records.changed,
            &mut records.refs,
        )?;
        return Ok(if changed {
            RowOutcome::Updated
        } else {
            RowOutcome::Unchanged
        });
    }
    let level = match &row.secrecy {
        Some(code) => cx.levels.iter().find(|l| l.code == *code),
        None => cx.levels.first(),
    }
    .ok_or_else(|| {
        DbError::unprocessable(
            "unknown_secrecy_level",
            format!(
                "{:?} is not a secrecy level",
                row.secrecy.as_deref().unwrap_or("")
            ),
        )
        .on("secrecy_level")
    })?;
    if let Some((column, _)) = row.kept.first() {
        let why = if column.starts_with("primary_contact_") {
            "a new file's contacts are added through its contacts (/customers/{id}/contacts)"
        } else {
            "it is given by the archive"
        };
        return Err(DbError::unprocessable(
            "kept_by_archive",
            format!("{column}: {why}; leave it empty for a new file"),
        )
        .on(column));
    }
    let (level, rank) = (level.code.clone(), level.rank);
    let unit = cx.unit(c, &unit_id).map_err(|e| match e {
        DbError::NotFound => {
            DbError::unprocessable("unit_not_found", "the owner unit does not exist")
                .on("owner_unit_id")
        }
        other => other,
    })?;
    unit_guard(p, &unit.path)?;
    if !unit.active {
        return Err(
            DbError::unprocessable("unit_inactive", "the owner unit is deactivated")
                .on("owner_unit_id"),
        );
    }
    clearance_guard(p, rank)?;
    if row.name.is_none() || row.nature.is_none() {
        return Err(
            DbError::unprocessable("missing_field", "a new file needs name and nature")
                .on(if row.name.is_none() { "name" } else { "nature" }),
        );
    }
    let blank = CustomerRow {
        external_id: Some(row.external_id.clone()),
        ..CustomerRow::blank(cx.codes.take(), unit_id, level, meta.at)
    };
    let mut tags = None;
    let mut new = apply_row(row, blank, &mut tags);
    if let Some(k) = keeper {
        new.owner_user_id = k;
    }
    settle_region(&mut new, None, row.names_region(), |code| {
        cx.region_for_file(c, code)
    })?;
    let opened = RowOutcome::Created {
        id: new.id.clone(),
        normalised: new.name_normalized.clone(),
    };
    // The unit (active, in scope), the level and the external id were
    // checked above, from what the import read once.
    customers::create_checked(
        c,
        meta,
        new,
        &tags.unwrap_or_default(),
        &mut records.new,
        &mut records.refs,
    )?;
    Ok(opened)
}

/// Import customer files from CSV (`Content-Type: text/csv`), upserting by
/// `external_id` (a file without one is named by its `id`, which may give
/// it one). A file's keeper is named by `owner_username` (an empty
/// cell takes the keeper off), its unit by `owner_unit_code`, or either by
/// id (`owner_user_id`, `owner_unit_id`). The export's own CSV imports as
/// it is: the columns the archive keeps (`id`, `code`, `mnemonic`,
/// `province`, `merged_into_id`) are checked against the file, never
/// written, and a row whose file changed after its `updated_at` is
/// refused (`changed_since_export`). With `dry_run=true` (the default) every row is checked and
/// nothing is written; a commit writes all rows or none. A row that opens a
/// file whose normalised name the archive or another row holds is written,
/// and named in the report's `warnings` (`likely_duplicate`, CUS-01). At
/// most 10 000 rows; the body may be larger than other requests'
/// (`CLIENTELE_MAX_IMPORT_BYTES`, default 32 MiB; 413 above).
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "customers", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "Header row, then one file per row. UTF-8 (a byte-order mark is allowed), or GB 18030 / GBK as Excel saves it on Chinese Windows when the type says so: `text/csv; charset=gb18030`"),
    responses((status = 200, body = ImportReport)))]
pub async fn import_customers(
    st: web::Data<AppState>,
    ctx: ReqCtx,
    auth: Auth,
    q: ValidQuery<ImportQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let p = auth.0;
    let upload = read_upload(&st, &p, &req, payload).await?;
    let dry_run = q.dry_run.unwrap_or(true);
    let meta = ctx.meta(&st, Some(&p));
    let (rows, errors) = parse_rows(&upload.records, sees_financials(&p), meta.at)?;
    if errors.iter().any(|e| e.row == 0) {
        return header_refused(&upload, dry_run, errors);
    }
    // Rows with faults of their own are not tried; the others are, so that
    // one dry run names every bad row, whether its fault is in its fields or
    // in what writing it meets.
    let faulty: std::collections::HashSet<usize> = errors.iter().map(|e| e.row).collect();
    let rows: Vec<ImportRow> = rows
        .into_iter()
        .filter(|r| !faulty.contains(&r.line))
        .collect();
    let db = st.db.clone();
    // A dry run goes through the same writes and rolls them back, so it finds
    // what the commit would find (duplicates, units, visibility).
    let outcome = web::block(move || {
        let rolled_back = dry_run || !faulty.is_empty();
        let codes = match import_codes(&db, rolled_back, rows.len()) {
            Ok(codes) => codes,
            Err(e) => return (Err(e), None),
        };
        // Imports take turns with each other, first in this process (no
        // connection held while waiting), then in the database; a row that
        // lost a race with a single write (a file changed, an external id
        // taken between the import's read and its write) runs the whole
        // import again, which reads that write, at most `ATTEMPTS` times.
        let _turn = db.import_turn(!rolled_back);
        const ATTEMPTS: usize = 3;
        let mut attempt = 1;
        loop {
            let (tx, result) = in_one_transaction(&db, dry_run, !faulty.is_empty(), |c| {
                customers::begin_import(c, !rolled_back, rows.len())?;
                run_import(c, &p, &meta, &rows, codes.clone())
            });
            let raced = matches!(&result, Some(Ok(done))
                if done.failed.iter().any(|(_, e)| customers::lost_a_race(e)));
            if raced && attempt < ATTEMPTS {
                attempt += 1;
                continue;
            }
            return (tx, result);
        }
    })
    .await?;
    let header = upload.header();
    conclude(
        outcome,
        dry_run,
        &upload,
        errors,
        |f| column_of(f, header).to_owned(),
        |created| csv_import::count_for_planner(&st, created, customers::count_for_planner),
    )
}

/// The CSV column of a file's field: the keeper and the unit by the
/// column the CSV names them in, by username and code unless it names them
/// by id alone.
fn column_of<'a>(field: &'a str, header: &[String]) -> &'a str {
    let has = |column: &str| header.iter().any(|h| h.trim().eq_ignore_ascii_case(column));
    match field {
        "owner_user_id" if has("owner_username") || !has(field) => "owner_username",
        "owner_unit_id" if has("owner_unit_code") || !has(field) => "owner_unit_code",
        other => other,
    }
}

/// Where an import's new files get their codes. One that will be rolled
/// back (a dry run, or a commit already refused for bad rows) takes
/// provisional codes and leaves the counter alone. A commit on PostgreSQL
/// reserves a code a row beforehand, so new files made meanwhile do not wait
/// for it; on SQLite, whose writers take turns anyway, the import's own
/// transaction locks the counter (`None`) and leaves no unused codes.
fn import_codes(
    db: &clientele_persistence::Db,
    rolled_back: bool,
    rows: usize,
) -> Result<Option<customers::CodeRun>, DbError> {
    Ok(if rolled_back {
        Some(customers::CodeRun::provisional())
    } else if db.kind() == clientele_persistence::BackendKind::Postgres && rows > 0 {
        Some(customers::CodeRun::reserve(db, rows)?)
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::cell_date;

    #[test]
    fn a_date_reads_as_the_export_writes_it_or_excel_saves_it() {
        let day = chrono::NaiveDate::from_ymd_opt(2018, 9, 3);
        for cell in ["2018-09-03", "2018/9/3", "2018/09/03", "2018-9-3"] {
            assert_eq!(cell_date(cell), day, "{cell}");
        }
        for cell in [
            "18/9/3",
            "2018/13/3",
            "2018/2/30",
            "2018.9.3",
            "2018/9",
            "9/3/2018",
            "2018/ 9/3",
            "",
        ] {
            assert_eq!(cell_date(cell), None, "{cell}");
        }
    }
}
