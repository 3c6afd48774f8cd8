//! The persistence error: database failures sorted into what callers can act on.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `constraint` is `uq_<table>_<columns>`
    /// on both backends.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// The record exists already, as `existing_id` (one customer, one file).
    #[error("duplicate {field}")]
    DuplicateOf {
        field: &'static str,
        existing_id: String,
    },
    /// The row changed since the caller read it (optimistic concurrency).
    #[error("the row was changed by someone else")]
    StaleVersion,
    /// A business rule checked inside a write refused it; `field` names
    /// the request's field whose value the rule refused, where one did
    /// (an owner unit that does not exist), so a form can point at it.
    #[error("{message}")]
    Rejected {
        code: &'static str,
        message: String,
        status: RejectStatus,
        field: Option<&'static str>,
    },
    /// A field's value is not one the stored data allows (a region code
    /// the catalogue does not hold); answered as that field's fault (422).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    /// The database is busy or unreachable; the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(DieselError),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

/// How a rejected write should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectStatus {
    /// The request contradicts the current state (409).
    Conflict,
    /// The request is well formed but breaks a rule (422).
    Unprocessable,
    /// The caller may see the thing but not do this to it (403).
    Forbidden,
}

impl Error {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Rejected {
            code,
            message: message.into(),
            status: RejectStatus::Conflict,
            field: None,
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Rejected {
            code,
            message: message.into(),
            status: RejectStatus::Forbidden,
            field: None,
        }
    }

    /// A domain rule's refusal of one field: 422 naming the field.
    pub fn on_field(field: &'static str, e: clientele_core::ParseError) -> Self {
        Error::Invalid {
            field,
            code: e.code,
            message: e.message,
        }
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Error::Rejected {
            code,
            message: message.into(),
            status: RejectStatus::Unprocessable,
            field: None,
        }
    }

    /// Whether the request (an import's row) is at fault, not the
    /// database: what it names is missing, taken, changed meanwhile, or
    /// refused by a rule. Such a row is reported and the others still run.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::NotFound
                | Error::Conflict { .. }
                | Error::DuplicateOf { .. }
                | Error::StaleVersion
                | Error::Rejected { .. }
                | Error::Invalid { .. }
        )
    }

    /// A rule's refusal as the fault of the request's `field`; other
    /// errors are left as they are.
    #[must_use]
    pub fn on(self, field: &'static str) -> Self {
        match self {
            Error::Rejected {
                code,
                message,
                status,
                ..
            } => Error::Rejected {
                code,
                message,
                status,
                field: Some(field),
            },
            other => other,
        }
    }
}

/// SQLite names the columns (`UNIQUE constraint failed: users.username`),
/// PostgreSQL the constraint (`users_username_key`); both become `uq_users_username`.
fn unique_name(info: &dyn diesel::result::DatabaseErrorInformation) -> String {
    if let Some(name) = info.constraint_name() {
        let base = name.strip_suffix("_key").unwrap_or(name);
        return if base.starts_with("uq_") {
            base.to_owned()
        } else {
            format!("uq_{base}")
        };
    }
    let msg = info.message();
    match msg.split_once(": ") {
        Some((_, cols)) => {
            let mut table = "";
            let mut names = Vec::new();
            for c in cols.split(", ") {
                if let Some((t, col)) = c.split_once('.') {
                    table = t;
                    names.push(col);
                }
            }
            format!("uq_{table}_{}", names.join("_"))
        }
        None => "uq_unknown".to_owned(),
    }
}

/// The words of failures diesel does not classify that a retry can
/// outlive: SQLite's busy file, PostgreSQL's deadlock (40P01) and a
/// connection its server ended or would not take (57P01–57P03). Sessions
/// ask PostgreSQL for English where the account may; where it may not, the
/// server words them in its own language. A deadlock leaves the connection
/// answering, so its words are here in every language PostgreSQL 15 is
/// translated into (de, es, fr, it, ko and sv keep the word "deadlock"; ja,
/// ka, ru, uk and Chinese have their own). An ended connection no longer
/// answers, which [`crate::Db`] asks whatever the words; the Chinese ones
/// are here as well, from PostgreSQL 15's zh_CN and zh_TW catalogues.
const RETRYABLE_WORDS: [&str; 24] = [
    "database is locked",
    "database is busy",
    "deadlock",
    "Deadlock",
    "terminating connection",
    "the database system is",
    // ja, ka, ru, uk: deadlock detected.
    "デッドロックを検出しました",
    "ნაპოვნია ურთიერთბლოკირება",
    "обнаружена взаимоблокировка",
    "виявлено взаємне блокування",
    // zh_CN: 检测到死锁; 由于管理员命令，正在终止连接 (and the other
    // reasons); 数据库系统正在关闭 / 正在启动 / 在恢复模式中 / 尚未接受连接.
    "检测到死锁",
    "终止连接",
    "数据库系统正在",
    "数据库系统在恢复模式",
    "数据库系统不接受连接",
    "数据库系统尚未接受连接",
    // zh_TW: 發現死結; 因管理員命令，正在中斷連線 (終止, 結束 for other
    // reasons); 資料庫系統正在關閉 / 正在啟動 / 處於復原模式 / 尚未接受連線.
    "發現死結",
    "中斷連線",
    "終止連線",
    "結束連線",
    "資料庫系統正在",
    "資料庫系統處於復原模式",
    "資料庫系統不接受連線",
    "資料庫系統尚未接受連線",
];

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Error::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict {
                    constraint: unique_name(info.as_ref()),
                }
            }
            // Something the write names was removed by another write that
            // committed meanwhile (a secrecy level, say): refused, retryable
            // once the caller has read again.
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Error::conflict(
                    "reference_gone",
                    "something this write refers to was removed meanwhile; read it again",
                )
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::Unavailable(info.message().to_owned())
            }
            // SQLite's busy file; PostgreSQL's deadlock and serialisation
            // failures (two writes crossed): the caller may retry. And a
            // PostgreSQL connection its server ended (an administrator, a
            // restart: SQLSTATE 57P01–57P03): libpq may still report it
            // open when the notice arrives, so it is known by its words;
            // as Unavailable, the pool drops it rather than handing it out
            // to fail a second time.
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                Error::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(_, ref info)
                if RETRYABLE_WORDS.iter().any(|w| info.message().contains(w)) =>
            {
                Error::Unavailable(info.message().to_owned())
            }
            other => Error::Database(other),
        }
    }
}

impl From<r2d2::Error> for Error {
    fn from(e: r2d2::Error) -> Self {
        Error::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::from(DieselError::DatabaseError(
            kind,
            Box::new(message.to_owned()),
        ))
    }

    #[test]
    fn crossed_writes_are_refused_or_retried_never_a_server_error() {
        assert!(matches!(
            db(
                DatabaseErrorKind::ForeignKeyViolation,
                "violates foreign key"
            ),
            Error::Rejected {
                code: "reference_gone",
                status: RejectStatus::Conflict,
                ..
            }
        ));
        assert!(matches!(
            db(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access"
            ),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "deadlock detected"),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            db(
                DatabaseErrorKind::Unknown,
                "terminating connection due to administrator command"
            ),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            db(
                DatabaseErrorKind::Unknown,
                "the database system is shutting down"
            ),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            db(DatabaseErrorKind::Unknown, "something else"),
            Error::Database(_)
        ));
    }

    /// PostgreSQL 15's own words in Chinese (its zh_CN and zh_TW message
    /// catalogues), for an account that may not ask for English.
    #[test]
    fn a_chinese_servers_deadlocks_and_ended_connections_are_retried() {
        for message in [
            "检测到死锁",
            "由于管理员命令，正在终止连接",
            "由于意外的 postmaster 退出而终止连接",
            "由于其他服务器进程崩溃，正在终止连接",
            "数据库系统正在关闭",
            "数据库系统正在启动",
            "数据库系统在恢复模式中",
            "数据库系统尚未接受连接",
            "發現死結",
            "因管理員命令，正在中斷連線",
            "正在結束連線，因為另一個伺服器行程崩潰",
            "由於閒置工作階段逾時，正在終止連線",
            "資料庫系統正在關閉",
            "資料庫系統正在啟動",
            "資料庫系統處於復原模式",
            "資料庫系統尚未接受連線",
        ] {
            assert_retried(message);
        }
        // Other failures in Chinese stay failures.
        assert_failed("关系 \"customers\" 不存在");
    }

    /// A message diesel does not classify is a failure to retry.
    fn assert_retried(message: &str) {
        assert!(
            matches!(
                db(DatabaseErrorKind::Unknown, message),
                Error::Unavailable(_)
            ),
            "{message}"
        );
    }

    /// A message diesel does not classify stays a storage failure.
    fn assert_failed(message: &str) {
        assert!(
            matches!(db(DatabaseErrorKind::Unknown, message), Error::Database(_)),
            "{message}"
        );
    }

    /// PostgreSQL 15's own words for a deadlock, from its message
    /// catalogues, in every language it is translated into.
    #[test]
    fn a_deadlock_is_retried_in_every_language_of_the_server() {
        for message in [
            "deadlock detected",
            "Verklemmung (Deadlock) entdeckt",
            "se ha detectado un deadlock",
            "interblocage (deadlock) détecté",
            "rilevato deadlock",
            "デッドロックを検出しました",
            "ნაპოვნია ურთიერთბლოკირება",
            "deadlock 발생했음",
            "обнаружена взаимоблокировка",
            "deadlock upptäckt",
            "виявлено взаємне блокування",
            "检测到死锁",
            "發現死結",
        ] {
            assert_retried(message);
        }
        assert_failed("отношение \"customers\" не существует");
    }
}
