//! What every CSV import shares (files, contacts): the upload read and
//! decoded, the dry run asked for, the report of what was or would be done
//! with every bad row and field, and the answer of a refused commit.

use crate::csv;
use crate::error::{ApiError, FieldError};
use crate::extract::read_body;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use clientele_core::Principal;
use clientele_customers::visibility::edits_files;
use clientele_persistence::{Db, DbConn, Error as DbError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and report, writing nothing (default true).
    pub dry_run: Option<bool>,
}

/// One problem in an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    /// 1-based data row (the header is row 0).
    pub row: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// Something a row does that is allowed but worth a look before a commit:
/// `likely_duplicate`, a row that opens a file for a customer the archive
/// likely holds already, or gives a file a contact another file's contact
/// shares (CUS-01).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportWarning {
    /// 1-based data row (the header is row 0).
    pub row: usize,
    pub field: String,
    #[schema(example = "likely_duplicate")]
    pub code: String,
    pub message: String,
    /// Files in sight that are likely the same customer (at most 20).
    pub customer_ids: Vec<uuid::Uuid>,
    /// Other rows of the import that open a file for it (files only; at
    /// most 20).
    pub rows: Vec<usize>,
}

/// What an import did, or would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<ImportError>,
    /// Rows that are allowed but worth a look (`likely_duplicate`): for
    /// files, a new file whose normalised name the archive or another row
    /// holds already; for contacts, a contact added or given another
    /// number or address that reaches another file's contact too (as `GET
    /// /customers/duplicate-check` compares).
    pub warnings: Vec<ImportWarning>,
}

/// An upload as read: its records (the header first) and the language its
/// report speaks.
pub struct Upload {
    pub records: Vec<Vec<String>>,
    pub lang: Lang,
}

impl Upload {
    /// The header row, as given.
    pub fn header(&self) -> &[String] {
        self.records.first().map_or(&[][..], Vec::as_slice)
    }

    /// How many data rows.
    pub fn rows(&self) -> usize {
        self.records.len().saturating_sub(1)
    }
}

/// Reads an import's `text/csv` body (415 otherwise), decoded by its
/// charset (UTF-8, or GB 18030 as Excel saves it on Chinese Windows) and
/// parsed; the body may be as large as an import's
/// (`CLIENTELE_MAX_IMPORT_BYTES`). Only the roles that edit files import.
pub async fn read_upload(
    st: &AppState,
    p: &Principal,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Upload, ApiError> {
    if !edits_files(p) {
        return Err(ApiError::forbidden(
            "importing needs the admin, manager, account_manager or integration role",
        ));
    }
    let Some(mime) = req
        .mime_type()
        .ok()
        .flatten()
        .filter(|m| m.type_() == "text" && m.subtype() == "csv")
    else {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .with_extra("expected", serde_json::json!("text/csv")));
    };
    let charset = mime.get_param("charset").map(|c| c.as_str().to_owned());
    let lang = Lang::from_accept_language(
        req.headers()
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut raw: Payload = payload.into_inner();
    let bytes = read_body(req, &mut raw, st.config.import_limit(), false).await?;
    let text = csv::decode(&bytes, charset.as_deref())
        .map_err(|(code, why)| ApiError::bad_request(code, why))?;
    let records = csv::parse(&text).map_err(|(line, why)| {
        ApiError::unprocessable("malformed_csv", format!("line {line}: {why}"))
            .with_extra("line", serde_json::json!(line))
    })?;
    Ok(Upload { records, lang })
}

/// The report's line for a row that writing refused: a field's own fault
/// names its code (`unknown_region`), not the answer's
/// (`validation_failed`), on the CSV column `column` names for the field.
pub fn row_fault(line: usize, e: DbError, column: impl Fn(&str) -> String) -> ImportError {
    let api = ApiError::from(e);
    let first: Option<&FieldError> = api.errors.first();
    let field = first.map_or(String::new(), |f| column(&f.field));
    let (code, message) = match first {
        Some(f) if api.code == "validation_failed" => (f.code.clone(), f.message.clone()),
        _ => (api.code.to_owned(), api.detail.clone()),
    };
    ImportError {
        row: line,
        field,
        code,
        message,
    }
}

/// A dry run answers with its report; a failed commit is a problem
/// document carrying the report, and nothing was written.
pub fn answer(
    dry_run: bool,
    mut report: ImportReport,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    in_language(&mut report, lang);
    if dry_run {
        return Ok(HttpResponse::Ok().json(report));
    }
    Err(ApiError::unprocessable(
        "import_rejected",
        format!(
            "{} rows have errors; nothing was written",
            report.errors.len()
        ),
    )
    .with_extra("report", serde_json::to_value(&report).unwrap_or_default()))
}

/// A row's fault or warning in the caller's language, the English after
/// it, as a problem's field errors are.
fn in_language(report: &mut ImportReport, lang: Lang) {
    if lang == Lang::Zh {
        for e in &mut report.errors {
            let zh = i18n::zh_detail(&e.code).unwrap_or_else(|| i18n::zh_field(&e.code));
            e.message = format!("{zh}（{}）", e.message);
        }
        for w in &mut report.warnings {
            w.message = format!("{}（{}）", i18n::zh_field(&w.code), w.message);
        }
    }
}

/// The transaction's end for a run that must not stay: a dry run, or a
/// commit some row refused. Never answered.
pub fn rolled_back() -> DbError {
    DbError::Rejected {
        code: "rolled_back",
        message: String::new(),
        status: clientele_persistence::error::RejectStatus::Conflict,
        field: None,
    }
}

/// Has the database count an import's new rows for its planner, after the
/// answer (`count`: [`clientele_persistence::customers::count_for_planner`]
/// for files, and its like for contacts): a failure costs only plans, so it
/// is logged, not answered.
pub fn count_for_planner(
    st: &AppState,
    added: usize,
    count: fn(&mut clientele_persistence::DbConn, usize) -> clientele_persistence::Result<bool>,
) {
    if st.db.kind() != clientele_persistence::BackendKind::Postgres || added == 0 {
        return;
    }
    let db = st.db.clone();
    actix_web::rt::spawn(async move {
        let counted = web::block(move || db.autocommit(|c| count(c, added)));
        match counted.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "counting an import's rows for the planner failed")
            }
            Err(e) => {
                tracing::warn!(error = %e, "counting an import's rows for the planner did not run")
            }
        }
    });
}

/// What an import did, the rows it could not write, each with its line,
/// and what it found worth a look.
#[derive(Default)]
pub struct Tally {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: Vec<(usize, DbError)>,
    pub warnings: Vec<ImportWarning>,
    /// The files the rows opened: (line, id, normalised name).
    pub opened: Vec<(usize, String, String)>,
}

impl Tally {
    pub fn add(&mut self, more: Tally) {
        self.created += more.created;
        self.updated += more.updated;
        self.unchanged += more.unchanged;
        self.failed.extend(more.failed);
        self.warnings.extend(more.warnings);
        self.opened.extend(more.opened);
    }
}

/// What an import's transaction came to: how it ended, and what its rows
/// did (none when it did not get to run them).
pub type Outcome = (Result<(), DbError>, Option<Result<Tally, DbError>>);

/// Runs an import's rows (`run`) in one transaction, kept only by a commit
/// (`dry_run` false) whose rows all went in and that had no faulty rows
/// before it (`faulty`): a dry run goes through the same writes and rolls
/// them back, so it finds what the commit would find.
pub fn in_one_transaction(
    db: &Db,
    dry_run: bool,
    faulty: bool,
    run: impl FnOnce(&mut DbConn) -> Result<Tally, DbError>,
) -> Outcome {
    let result = std::cell::RefCell::new(None);
    let tx = db.write(|c| {
        let r = run(c);
        let failed = faulty || !matches!(&r, Ok(done) if done.failed.is_empty());
        *result.borrow_mut() = Some(r);
        if dry_run || failed {
            Err(rolled_back())
        } else {
            Ok(())
        }
    });
    (tx, result.into_inner())
}

/// The answer to an import: its report, or (a commit with faulty rows) a
/// problem carrying it. `errors`: the rows' own faults found before writing;
/// `column`: the CSV column of a field a refusal names; `committed`: what to
/// do after a commit that added `created` rows.
pub fn conclude(
    outcome: Outcome,
    dry_run: bool,
    upload: &Upload,
    mut errors: Vec<ImportError>,
    column: impl Fn(&str) -> String,
    committed: impl FnOnce(usize),
) -> Result<HttpResponse, ApiError> {
    let report = |done: Option<&Tally>, errors, warnings| ImportReport {
        dry_run,
        rows: upload.rows(),
        created: done.map_or(0, |d| d.created),
        updated: done.map_or(0, |d| d.updated),
        unchanged: done.map_or(0, |d| d.unchanged),
        errors,
        warnings,
    };
    match outcome {
        // Every row went in, but the commit itself failed.
        (Err(e), Some(Ok(done))) if !dry_run && done.failed.is_empty() && errors.is_empty() => {
            Err(e.into())
        }
        (_, Some(Ok(mut done))) if done.failed.is_empty() && errors.is_empty() => {
            if !dry_run {
                committed(done.created);
            }
            let warnings = std::mem::take(&mut done.warnings);
            let mut answered = report(Some(&done), vec![], warnings);
            in_language(&mut answered, upload.lang);
            Ok(HttpResponse::Ok().json(answered))
        }
        (_, Some(Ok(done))) => {
            errors.extend(
                done.failed
                    .into_iter()
                    .map(|(line, e)| row_fault(line, e, &column)),
            );
            // In file order; a row's own faults before what writing it met.
            errors.sort_by_key(|e| e.row);
            answer(dry_run, report(None, errors, done.warnings), upload.lang)
        }
        (_, Some(Err(e))) | (Err(e), None) => Err(e.into()),
        (Ok(()), None) => Err(ApiError::internal()),
    }
}

/// An import's header refused: no row can be read, dry run or not.
pub fn header_refused(
    upload: &Upload,
    dry_run: bool,
    errors: Vec<ImportError>,
) -> Result<HttpResponse, ApiError> {
    let report = ImportReport {
        dry_run,
        rows: upload.rows(),
        created: 0,
        updated: 0,
        unchanged: 0,
        errors,
        warnings: vec![],
    };
    answer(false, report, upload.lang)
}
