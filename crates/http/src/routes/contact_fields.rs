//! A contact's fields as a request body or a row of a contacts import
//! gives them, checked by one set of rules and written one way: a name to
//! show, numbers as the contact keeps them, a valid address, one way at
//! least to reach the contact, and an ERP id that names one contact of its
//! file (CUS-02).

use crate::dto::customers::{ContactChanges, NewContact};
use crate::error::ApiError;
use crate::routes::customer_files::clean;
use clientele_customers::contacts::{contact_name, reachable};
use clientele_persistence::customer_parts::{self, ContactRow, Held};
use clientele_persistence::{DbConn, Error as DbError, Timestamp, WriteMeta};
use validator::ValidateEmail;

/// What a write sets; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFields {
    pub name: Option<String>,
    pub title: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub is_primary: Option<bool>,
    pub note: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
}

/// A phone or mobile number as the contact keeps it
/// ([`clientele_customers::phone_number`], and for `mobile`
/// [`clientele_customers::mobile_number`]); a bad one is the field's fault.
pub fn number(field: &'static str, raw: &str) -> Result<String, ApiError> {
    if field == "mobile" {
        return clientele_customers::mobile_number(raw)
            .map_err(|e| ApiError::field(field, e.code, e.message));
    }
    clientele_customers::phone_number(raw).map_err(|e| {
        ApiError::field(
            field,
            e.code,
            format!("{field} is 3 to 32 digits, spaces, +, - and brackets"),
        )
    })
}

impl ContactFields {
    /// Checks each field given on its own, and puts it in the form kept
    /// (trimmed; an empty text clears).
    pub fn checked(mut self) -> Result<Self, ApiError> {
        if let Some(n) = &self.name {
            let name = contact_name(n).map_err(|e| ApiError::field("name", e.code, e.message))?;
            self.name = Some(name);
        }
        for (field, value) in [("phone", &mut self.phone), ("mobile", &mut self.mobile)] {
            if let Some(v) = value {
                *v = clean(v.take()).map(|n| number(field, &n)).transpose()?;
            }
        }
        if let Some(v) = &mut self.email {
            *v = clean(v.take());
            if v.as_deref().is_some_and(|e| !e.validate_email()) {
                return Err(ApiError::field(
                    "email",
                    "email",
                    "email is not a valid address",
                ));
            }
        }
        for (field, most, value) in [
            ("title", 100, &mut self.title),
            ("note", 500, &mut self.note),
            ("external_id", 64, &mut self.external_id),
            ("email", 254, &mut self.email),
        ] {
            if let Some(v) = value {
                *v = clean(v.take());
                if v.as_deref().is_some_and(|t| t.chars().count() > most) {
                    return Err(ApiError::field(
                        field,
                        "invalid_length",
                        format!("{field} is at most {most} characters"),
                    ));
                }
            }
        }
        Ok(self)
    }

    /// A new contact of file `customer_id` with these fields; nothing given
    /// is none, and the contact is not primary unless it says so.
    pub fn new_contact(self, customer_id: &str, at: Timestamp) -> ContactRow {
        let mut row = ContactRow {
            id: clientele_core::new_id().to_string(),
            customer_id: customer_id.to_owned(),
            name: String::new(),
            title: None,
            phone: None,
            mobile: None,
            email: None,
            is_primary: false,
            note: None,
            active: true,
            version: 1,
            created_at: at,
            updated_at: at,
            external_id: None,
        };
        self.apply(&mut row);
        row
    }

    /// Sets what is given on `row`.
    pub fn apply(self, row: &mut ContactRow) {
        if let Some(n) = self.name {
            row.name = n;
        }
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = self.$f { row.$f = v; } )*};
        }
        set!(title, phone, mobile, email, is_primary, note, external_id);
    }
}

impl From<NewContact> for ContactFields {
    fn from(b: NewContact) -> Self {
        Self {
            name: Some(b.name),
            title: Some(b.title),
            phone: Some(b.phone),
            mobile: Some(b.mobile),
            email: Some(b.email),
            is_primary: b.is_primary,
            note: Some(b.note),
            external_id: Some(b.external_id),
        }
    }
}

impl From<ContactChanges> for ContactFields {
    fn from(b: ContactChanges) -> Self {
        Self {
            name: b.name,
            title: b.title,
            phone: b.phone,
            mobile: b.mobile,
            email: b.email,
            is_primary: b.is_primary,
            note: b.note,
            external_id: b.external_id,
        }
    }
}

/// Writes a contact as it is to be, after the rules that weigh the whole
/// contact and its file: one way at least to reach it, its ERP id held by
/// no other active contact of the file. `expected`: the version changed
/// (`None` adds the contact). The file is locked and judged by the caller;
/// `held`: what an import holds of it, else the file's contacts are read
/// and the records written at once.
pub fn write_contact(
    c: &mut DbConn,
    meta: &WriteMeta,
    expected: Option<i64>,
    row: ContactRow,
    held: Option<Held<'_>>,
) -> Result<ContactRow, DbError> {
    if row.active
        && !reachable(
            row.phone.as_deref(),
            row.mobile.as_deref(),
            row.email.as_deref(),
        )
    {
        return Err(DbError::Invalid {
            field: "phone",
            code: "required",
            message: "give a phone, a mobile or an email".into(),
        });
    }
    if row.active {
        customer_parts::check_contact_external_id(
            c,
            &row.customer_id,
            row.external_id.as_deref(),
            &row.id,
            held.as_ref().map(|h| h.siblings),
        )?;
    }
    match expected {
        None => customer_parts::add_contact(c, meta, row, held),
        Some(version) => customer_parts::save_contact(c, meta, version, row, held),
    }
}
