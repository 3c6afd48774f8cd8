//! Customer files and what hangs off them (CUS-01..10).

use super::{page_of, utc};
use chrono::{DateTime, NaiveDate, Utc};
use clientele_persistence::customer_access::{OutsideRequestRow, RegisterRow};
use clientele_persistence::customer_parts::{ContactRow, DocumentRow, RelationRow};
use clientele_persistence::customers::{ChangeRow, CustomerView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NatureDto {
    Government,
    StateOwned,
    Private,
    Individual,
    Foreign,
    Other,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusDto {
    Prospect,
    Active,
    Dormant,
    Archived,
}

/// Customer type (客户类型, CUS-03): how the customer buys from us.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CustomerTypeDto {
    /// Uses what it buys (终端客户).
    EndUser,
    /// Buys to resell (经销商).
    Distributor,
    /// Sells on our behalf (代理商).
    Agent,
    /// Works with us on shared business (合作伙伴).
    Partner,
    Other,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SizeDto {
    Micro,
    Small,
    Medium,
    Large,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RelationKindDto {
    ParentOf,
    SameGroup,
    Related,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DocumentCategoryDto {
    Sales,
    Contract,
    Certificate,
    HandOver,
    Maintenance,
    Compensation,
    Litigation,
    Lease,
    Other,
}

/// Serde's own name of a unit-like enum value.
pub fn wire<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A customer file (CUS-02: basic data, characteristics, business status,
/// transaction status; contacts are a sub-resource). Financial fields
/// (`registered_capital_fen`, `credit_standing`, `trading_terms`,
/// `credit_problems`) are shown only to admin, manager,
/// account_manager, legal, auditor and integration roles; for others they are
/// `null` and named in `restricted_fields`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    pub id: uuid::Uuid,
    /// Generated, never reused: `KH` and eight digits.
    pub code: String,
    pub name: String,
    /// The name's mnemonic code (助记码): the initials of its pinyin, letters
    /// and digits as they are (北京华联商贸有限公司 → `bjhlsmyxgs`); derived
    /// from the name, found by the list's quick search `q`.
    #[schema(example = "bjhlsmyxgs")]
    pub mnemonic: String,
    /// 统一社会信用代码.
    pub credit_code: Option<String>,
    pub legal_representative: Option<String>,
    #[schema(value_type = NatureDto)]
    pub nature: String,
    pub industry: Option<String>,
    #[schema(value_type = Option<CustomerTypeDto>)]
    pub customer_type: Option<String>,
    /// GB/T 2260 administrative division code.
    pub region_code: Option<String>,
    /// The province-level division of `region_code` (北京市, 广东省 …);
    /// derived.
    #[schema(example = "北京市")]
    pub province: Option<String>,
    pub region_name: Option<String>,
    pub address: Option<String>,
    #[schema(value_type = Option<SizeDto>)]
    pub size: Option<String>,
    /// Registered capital in fen.
    pub registered_capital_fen: Option<i64>,
    pub trading_since: Option<NaiveDate>,
    pub service_area: Option<String>,
    pub sales_capacity: Option<String>,
    pub potential: Option<String>,
    pub credit_standing: Option<String>,
    pub trading_terms: Option<String>,
    /// Business policy (经营方针).
    pub business_policy: Option<String>,
    /// Business status: sales history (销售历史).
    pub sales_history: Option<String>,
    /// Business status: attitude to us (对我方态度).
    pub attitude_to_us: Option<String>,
    /// Business status: relations with competitors (与竞争对手关系).
    pub competitor_relations: Option<String>,
    /// Transaction status: past credit problems (过往信用问题).
    pub credit_problems: Option<String>,
    /// Vulnerable customer (老弱病残): special care, home service (CUS-03).
    pub vulnerable: bool,
    #[schema(value_type = StatusDto)]
    pub status: String,
    /// Labels in their stored form, sorted: lower case, full-width forms as
    /// ASCII, traditional characters as simplified (ＶＩＰ is vip, 重點客戶
    /// is 重点客户).
    pub tags: Vec<String>,
    /// The ERP's id of this customer.
    pub external_id: Option<String>,
    pub owner_user_id: Option<uuid::Uuid>,
    pub owner_unit_id: uuid::Uuid,
    pub secrecy_level: String,
    /// Visible to every unit (top tiers).
    pub shared: bool,
    /// Set when this file was merged into another; it stays readable.
    /// Always the living file: files merged into one that is absorbed
    /// later are pointed at the new survivor.
    pub merged_into_id: Option<uuid::Uuid>,
    /// Fields withheld from this caller.
    pub restricted_fields: Vec<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const FINANCIAL_FIELDS: [&str; 4] = [
    "registered_capital_fen",
    "credit_standing",
    "trading_terms",
    "credit_problems",
];

impl NewCustomer {
    /// Whether the new file sets any of [`FINANCIAL_FIELDS`].
    pub fn touches_financials(&self) -> bool {
        self.registered_capital_fen.is_some()
            || self.credit_standing.is_some()
            || self.trading_terms.is_some()
            || self.credit_problems.is_some()
    }
}

impl CustomerChanges {
    /// Whether the change set touches any of [`FINANCIAL_FIELDS`].
    pub fn touches_financials(&self) -> bool {
        self.registered_capital_fen.is_some()
            || self.credit_standing.is_some()
            || self.trading_terms.is_some()
            || self.credit_problems.is_some()
    }
}

impl Customer {
    pub fn from_view(v: CustomerView, financials: bool) -> Self {
        let r = v.row;
        let hide = |x: Option<String>| if financials { x } else { None };
        Self {
            id: r.id.parse().unwrap_or_default(),
            code: r.code,
            name: r.name,
            mnemonic: r.name_mnemonic,
            credit_code: r.credit_code,
            legal_representative: r.legal_representative,
            nature: r.nature,
            industry: r.industry,
            customer_type: r.customer_type,
            province: r
                .region_code
                .as_deref()
                .and_then(clientele_customers::province_of)
                .map(str::to_owned),
            region_code: r.region_code,
            region_name: r.region_name,
            address: r.address,
            size: r.size,
            registered_capital_fen: if financials {
                r.registered_capital_fen
            } else {
                None
            },
            trading_since: r.trading_since,
            service_area: r.service_area,
            sales_capacity: r.sales_capacity,
            potential: r.potential,
            credit_standing: hide(r.credit_standing),
            trading_terms: hide(r.trading_terms),
            business_policy: r.business_policy,
            sales_history: r.sales_history,
            attitude_to_us: r.attitude_to_us,
            competitor_relations: r.competitor_relations,
            credit_problems: hide(r.credit_problems),
            vulnerable: r.vulnerable,
            status: r.status,
            tags: v.tags,
            external_id: r.external_id,
            owner_user_id: r.owner_user_id.and_then(|u| u.parse().ok()),
            owner_unit_id: r.owner_unit_id.parse().unwrap_or_default(),
            secrecy_level: r.secrecy_level,
            shared: r.shared,
            merged_into_id: r.merged_into_id.and_then(|m| m.parse().ok()),
            restricted_fields: if financials {
                vec![]
            } else {
                FINANCIAL_FIELDS.iter().map(|f| (*f).to_owned()).collect()
            },
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

page_of!(CustomerPage, Customer);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, example = "北京华联商贸有限公司")]
    pub name: String,
    /// 18 characters, checked with both check digits (GB 32100-2015).
    /// Full-width forms (as a Chinese input method types them) are read as
    /// ASCII, lower case as upper; the file keeps the ASCII form.
    #[validate(length(equal = 18))]
    #[schema(
        min_length = 18,
        max_length = 18,
        pattern = "^[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy０-９Ａ-ＨＪ-ＮＰ-ＲＴＵＷＸＹａ-ｈｊ-ｎｐ-ｒｔｕｗｘｙ]{18}$",
        example = "91440300708461136T"
    )]
    pub credit_code: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub legal_representative: Option<String>,
    pub nature: NatureDto,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub industry: Option<String>,
    pub customer_type: Option<CustomerTypeDto>,
    #[validate(length(equal = 6))]
    #[schema(
        min_length = 6,
        max_length = 6,
        pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$",
        example = "110105"
    )]
    pub region_code: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub region_name: Option<String>,
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    pub size: Option<SizeDto>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub registered_capital_fen: Option<i64>,
    pub trading_since: Option<NaiveDate>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub service_area: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub sales_capacity: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub potential: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub credit_standing: Option<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub trading_terms: Option<String>,
    /// Business policy (经营方针).
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub business_policy: Option<String>,
    /// Sales history (销售历史).
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub sales_history: Option<String>,
    /// Attitude to us (对我方态度).
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub attitude_to_us: Option<String>,
    /// Relations with competitors (与竞争对手关系).
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub competitor_relations: Option<String>,
    /// Past credit problems (过往信用问题); a financial field.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub credit_problems: Option<String>,
    pub vulnerable: Option<bool>,
    /// Default `prospect`; a file is not created archived.
    pub status: Option<StatusDto>,
    /// At most 20 labels of 1 to 32 characters, without commas; stored
    /// folded (see the file's `tags`), so two that fold alike are one.
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub external_id: Option<String>,
    pub owner_user_id: Option<uuid::Uuid>,
    /// Default: the caller's unit.
    pub owner_unit_id: Option<uuid::Uuid>,
    /// Default: the lowest level.
    #[validate(length(min = 1, max = 16))]
    #[schema(min_length = 1, max_length = 16)]
    pub secrecy_level: Option<String>,
    pub shared: Option<bool>,
}

/// Change a file; absent fields stay, `null` clears a clearable field.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChanges {
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    #[serde(default, deserialize_with = "super::present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 18, max = 18))]
    #[schema(value_type = Option<String>, min_length = 18, max_length = 18, pattern = "^[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy０-９Ａ-ＨＪ-ＮＰ-ＲＴＵＷＸＹａ-ｈｊ-ｎｐ-ｒｔｕｗｘｙ]{18}$")]
    pub credit_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub legal_representative: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub nature: Option<NatureDto>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub industry: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<CustomerTypeDto>)]
    pub customer_type: Option<Option<CustomerTypeDto>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 6, max = 6))]
    #[schema(value_type = Option<String>, min_length = 6, max_length = 6, pattern = "^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|7[1]|8[12])[0-9]{4}$")]
    pub region_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub region_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 300))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 300)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<SizeDto>)]
    pub size: Option<Option<SizeDto>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(range(min = 0))]
    #[schema(value_type = Option<i64>, minimum = 0)]
    pub registered_capital_fen: Option<Option<i64>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub trading_since: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub service_area: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub sales_capacity: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub potential: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub credit_standing: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub trading_terms: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub business_policy: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub sales_history: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub attitude_to_us: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub competitor_relations: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub credit_problems: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub vulnerable: Option<bool>,
    /// `archived` closes the file; it stays readable (no deletion, CUS-05).
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub status: Option<StatusDto>,
    /// At most 20 labels of 1 to 32 characters, without commas; stored
    /// folded (see the file's `tags`), so two that fold alike are one.
    #[validate(length(max = 20))]
    #[schema(nullable = false, max_items = 20)]
    #[serde(default, deserialize_with = "super::present")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub owner_user_id: Option<Option<uuid::Uuid>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub owner_unit_id: Option<uuid::Uuid>,
    #[validate(length(min = 1, max = 16))]
    #[schema(nullable = false, min_length = 1, max_length = 16)]
    #[serde(default, deserialize_with = "super::present")]
    pub secrecy_level: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub shared: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The duplicate to absorb into this file.
    pub absorbed_id: uuid::Uuid,
    /// The duplicate's `version` as you read it (the number in its
    /// `ETag`): the merge is refused (409 `absorbed_changed`) if that file
    /// changed since, as `If-Match` guards the surviving one. Left out, the
    /// duplicate is absorbed as it stands.
    #[schema(minimum = 1)]
    #[validate(range(min = 1))]
    pub absorbed_version: Option<i64>,
}

/// One entry of a file's history (CUS-04).
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<uuid::Uuid>,
    /// `customer`, `contact`, `relation`, `document`.
    pub entity: String,
    pub entity_id: String,
    /// The field; `*` for a creation.
    pub field: String,
    /// The value before: any JSON (text, number, boolean, list, object).
    pub old_value: Option<serde_json::Value>,
    /// The value after.
    pub new_value: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// Fields whose values this entry withholds from this caller: financial
    /// fields (the same rule as on the file: `old_value`/`new_value` are
    /// `null` for such a field, and a creation's snapshot leaves them out),
    /// or `*` for a relation to a file the caller may not see.
    pub restricted_fields: Vec<String>,
}

impl HistoryEntry {
    /// A change as the caller may see it: with `financials` false, the
    /// values of the file's financial fields are withheld, as on the file;
    /// with `hidden`, all of its values (a relation to a file the caller
    /// may not see).
    pub fn shown(r: ChangeRow, financials: bool, hidden: bool) -> Self {
        let mut old_value = super::stored_json(r.old_value, Some(&r.field));
        let mut new_value = super::stored_json(r.new_value, Some(&r.field));
        let mut restricted_fields = Vec::new();
        if hidden {
            (old_value, new_value) = (None, None);
            restricted_fields.push(r.field.clone());
        } else if !financials && r.entity == "customer" {
            if FINANCIAL_FIELDS.contains(&r.field.as_str()) {
                (old_value, new_value) = (None, None);
                restricted_fields.push(r.field.clone());
            } else {
                // A creation or a merge carries the whole file as an object.
                for value in [&mut old_value, &mut new_value].into_iter().flatten() {
                    let Some(fields) = value.as_object_mut() else {
                        continue;
                    };
                    for f in FINANCIAL_FIELDS {
                        if fields.remove(f).is_some() && !restricted_fields.iter().any(|r| r == f) {
                            restricted_fields.push(f.to_owned());
                        }
                    }
                }
            }
        }
        Self {
            id: r.id.parse().unwrap_or_default(),
            at: utc(r.at),
            actor_id: r.actor_id.and_then(|a| a.parse().ok()),
            entity: r.entity,
            entity_id: r.entity_id,
            field: r.field,
            old_value,
            new_value,
            request_id: r.request_id,
            restricted_fields,
        }
    }
}

page_of!(HistoryPage, HistoryEntry);

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub is_primary: bool,
    pub note: Option<String>,
    /// The id an ERP or finance system keeps the contact by; one active
    /// contact of a file holds it.
    pub external_id: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ContactRow> for Contact {
    fn from(r: ContactRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            customer_id: r.customer_id.parse().unwrap_or_default(),
            name: r.name,
            title: r.title,
            phone: r.phone,
            mobile: r.mobile,
            email: r.email,
            is_primary: r.is_primary,
            note: r.note,
            external_id: r.external_id,
            active: r.active,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub title: Option<String>,
    /// Digits, spaces, `+`, `-` and brackets; full-width forms (as a Chinese
    /// input method types them) are read as ASCII, and kept so.
    #[validate(length(min = 3, max = 32))]
    #[schema(
        min_length = 3,
        max_length = 32,
        pattern = "^[0-9０-９+＋()（） 　－-]+$"
    )]
    pub phone: Option<String>,
    /// A mobile number: a mainland one, 11 digits starting 13 to 19 (`+86`
    /// before it or not), or another country's, starting with `+` and its
    /// country code (8 to 15 digits). Digits, spaces, `+`, `-` and brackets;
    /// full-width forms (as a Chinese input method types them) are read as
    /// ASCII, and kept so.
    #[validate(length(min = 3, max = 32))]
    #[schema(
        min_length = 3,
        max_length = 32,
        pattern = "^[0-9０-９+＋()（） 　－-]+$"
    )]
    pub mobile: Option<String>,
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    pub is_primary: Option<bool>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// The id an ERP keeps the contact by; no other active contact of the
    /// file may hold it (409 `duplicate_external_id`).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub external_id: Option<String>,
}

/// Change a contact; `null` clears.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactChanges {
    #[validate(length(min = 1, max = 100))]
    #[schema(nullable = false, min_length = 1, max_length = 100)]
    #[serde(default, deserialize_with = "super::present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 100))]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub title: Option<Option<String>>,
    /// Digits, spaces, `+`, `-` and brackets; full-width forms (as a Chinese
    /// input method types them) are read as ASCII, and kept so.
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 3, max = 32))]
    #[schema(value_type = Option<String>, min_length = 3, max_length = 32, pattern = "^[0-9０-９+＋()（） 　－-]+$")]
    pub phone: Option<Option<String>>,
    /// A mobile number: a mainland one, 11 digits starting 13 to 19 (`+86`
    /// before it or not), or another country's, starting with `+` and its
    /// country code (8 to 15 digits). Digits, spaces, `+`, `-` and brackets;
    /// full-width forms (as a Chinese input method types them) are read as
    /// ASCII, and kept so.
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 3, max = 32))]
    #[schema(value_type = Option<String>, min_length = 3, max_length = 32, pattern = "^[0-9０-９+＋()（） 　－-]+$")]
    pub mobile: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 254))]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub is_primary: Option<bool>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub note: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64)]
    pub external_id: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Relation {
    pub id: uuid::Uuid,
    /// The other file.
    pub customer_id: uuid::Uuid,
    /// The other file's code and name, so a relation can be shown without
    /// reading the other file (their showing is registered as a read of it).
    #[schema(example = "KH00000002")]
    pub customer_code: String,
    pub customer_name: String,
    /// Seen from the file asked about: `parent_of`, `subsidiary_of`, `same_group`, `related`.
    pub kind: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Relation {
    /// The relation as the file `me` sees it; `other` is the file at its
    /// other end.
    pub fn seen_from(r: RelationRow, me: &str, other: &CustomerView) -> Self {
        let (other_id, kind) = if r.from_id == me {
            (r.to_id, r.kind)
        } else {
            let k = clientele_customers::RelationKind::parse(&r.kind)
                .map(|k| k.seen_from_target().to_owned())
                .unwrap_or(r.kind);
            (r.from_id, k)
        };
        Self {
            id: r.id.parse().unwrap_or_default(),
            customer_id: other_id.parse().unwrap_or_default(),
            customer_code: other.row.code.clone(),
            customer_name: other.row.name.clone(),
            kind,
            note: r.note,
            created_at: utc(r.created_at),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    /// The other file.
    pub customer_id: uuid::Uuid,
    /// From this file's side: `parent_of` means this file is the group of the other.
    pub kind: RelationKindDto,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    #[schema(value_type = DocumentCategoryDto)]
    pub category: String,
    pub title: String,
    pub reference_no: Option<String>,
    pub doc_date: Option<NaiveDate>,
    pub keeper_unit_id: Option<uuid::Uuid>,
    /// Where the paper is kept.
    pub location: Option<String>,
    pub external_url: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            customer_id: r.customer_id.parse().unwrap_or_default(),
            category: r.category,
            title: r.title,
            reference_no: r.reference_no,
            doc_date: r.doc_date,
            keeper_unit_id: r.keeper_unit_id.and_then(|k| k.parse().ok()),
            location: r.location,
            external_url: r.external_url,
            version: r.version,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDocument {
    pub category: DocumentCategoryDto,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub reference_no: Option<String>,
    pub doc_date: Option<NaiveDate>,
    pub keeper_unit_id: Option<uuid::Uuid>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub location: Option<String>,
    /// Where the document is kept: an `http` or `https` address.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub external_url: Option<String>,
}

/// Change a document record; `null` clears.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentChanges {
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "super::present")]
    pub category: Option<DocumentCategoryDto>,
    #[validate(length(min = 1, max = 200))]
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    #[serde(default, deserialize_with = "super::present")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub reference_no: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub doc_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub keeper_unit_id: Option<Option<uuid::Uuid>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(min = 1, max = 200))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200)]
    pub location: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[validate(length(max = 1000))]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub external_url: Option<Option<String>>,
}

/// One read of one file, from the read register (CUS-08).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    /// The register entry; one request that showed several files has one entry.
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    /// `read`, `list`, `export`, `history`, `contacts`, `relations`, `documents`, `timeline`, `duplicates`, `access_log`, `audit_log`.
    /// A change whose answer shows the file or part is registered with the
    /// read's action and a `detail` such as "answer to a change".
    pub action: String,
    pub detail: Option<String>,
    /// The outside-access grant the read relied on.
    pub grant_id: Option<uuid::Uuid>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

impl AccessEntry {
    /// The read of `customer_id` that entry `r` records.
    pub fn of(customer_id: &str, r: RegisterRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            at: utc(r.at),
            actor_id: r.actor_id.parse().unwrap_or_default(),
            customer_id: customer_id.parse().unwrap_or_default(),
            action: r.action,
            detail: r.detail,
            grant_id: r.grant_id.and_then(|g| g.parse().ok()),
            client_ip: r.client_ip,
            request_id: r.request_id,
        }
    }
}

/// One entry of the read register (CUS-08): one request, the files it showed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterEntry {
    pub id: uuid::Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: uuid::Uuid,
    /// `read`, `list`, `export`, `history`, `contacts`, `relations`, `documents`, `timeline`, `duplicates`, `access_log`, `audit_log`.
    /// A change whose answer shows the file or part is registered with the
    /// read's action and a `detail` such as "answer to a change".
    pub action: String,
    pub detail: Option<String>,
    /// The outside-access grant the read relied on.
    pub grant_id: Option<uuid::Uuid>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    /// The files shown, in the order they were shown.
    pub customer_ids: Vec<uuid::Uuid>,
}

impl From<RegisterRow> for RegisterEntry {
    fn from(r: RegisterRow) -> Self {
        let customer_ids = r.files().iter().filter_map(|c| c.parse().ok()).collect();
        Self {
            id: r.id.parse().unwrap_or_default(),
            at: utc(r.at),
            actor_id: r.actor_id.parse().unwrap_or_default(),
            action: r.action,
            detail: r.detail,
            grant_id: r.grant_id.and_then(|g| g.parse().ok()),
            client_ip: r.client_ip,
            request_id: r.request_id,
            customer_ids,
        }
    }
}

page_of!(RegisterPage, RegisterEntry);
page_of!(AccessPage, AccessEntry);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutsideAccess {
    /// Who outside the company asks to see the file (外单位).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub outside_party: String,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub purpose: String,
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    pub legal_basis: String,
    /// How many days the read is needed, 1 to 90.
    #[validate(range(min = 1, max = 90))]
    #[schema(minimum = 1, maximum = 90)]
    pub days: i32,
    /// Who will show the file to the outside party and read it under the
    /// approval, whether or not they may see it otherwise (an active
    /// person; default: the one asking).
    pub reader_id: Option<uuid::Uuid>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutsideStatusDto {
    Pending,
    Approved,
    Refused,
    /// Approved, then ended by the legal office before its time.
    Revoked,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutsideAccess {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub requested_by: uuid::Uuid,
    /// Who reads the file under the approval and shows it to the party.
    pub reader_id: uuid::Uuid,
    pub outside_party: String,
    pub purpose: String,
    pub legal_basis: String,
    pub days: i32,
    #[schema(value_type = OutsideStatusDto)]
    pub status: String,
    pub decided_by: Option<uuid::Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// An approved request lets the requester read the file until then.
    pub valid_until: Option<DateTime<Utc>>,
    /// Who ended an approved access early, when and why (`revoked`).
    pub revoked_by: Option<uuid::Uuid>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_note: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<OutsideRequestRow> for OutsideAccess {
    fn from(r: OutsideRequestRow) -> Self {
        Self {
            id: r.id.parse().unwrap_or_default(),
            customer_id: r.customer_id.parse().unwrap_or_default(),
            requested_by: r.requested_by.parse().unwrap_or_default(),
            reader_id: r.reader_id.parse().unwrap_or_default(),
            outside_party: r.outside_party,
            purpose: r.purpose,
            legal_basis: r.legal_basis,
            days: r.days,
            status: r.status,
            decided_by: r.decided_by.and_then(|d| d.parse().ok()),
            decided_at: r.decided_at.map(utc),
            decision_note: r.decision_note,
            valid_until: r.valid_until.map(utc),
            revoked_by: r.revoked_by.and_then(|d| d.parse().ok()),
            revoked_at: r.revoked_at.map(utc),
            revocation_note: r.revocation_note,
            version: r.version,
            created_at: utc(r.created_at),
        }
    }
}

page_of!(OutsideAccessPage, OutsideAccess);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideDecision {
    pub approve: bool,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// End an approved outside access before its time.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideRevocation {
    /// Why (the matter closed, the party's mandate withdrawn …).
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// One thing that happened to a file.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    /// `created`, `updated`, `contact`, `relation`, `document`, `merged`
    /// (another file was absorbed into this one), `merged_into` (this file
    /// was absorbed, or pointed at a new survivor), `outside_access`.
    pub kind: String,
    /// What happened to the entity.
    pub action: TimelineAction,
    pub actor_id: Option<uuid::Uuid>,
    pub entity: String,
    pub entity_id: String,
    /// Fields that changed, for edits.
    pub fields: Vec<String>,
    pub request_id: Option<String>,
}

/// What a history entry is about.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryEntityDto {
    Customer,
    Contact,
    Document,
    Relation,
}

/// What a revert changed, whole: the file, a contact or a document record
/// (the one the history entry is about).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Reverted {
    Customer(Box<Customer>),
    Contact(Contact),
    Document(Document),
}

/// What a timeline item did to its entity.
#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TimelineAction {
    /// Created: the file, a contact, a document or a relation; an outside
    /// access request made.
    Added,
    /// Fields changed; a merge; an outside access request decided.
    Changed,
    /// A contact removed or a relation ended.
    Removed,
}

page_of!(TimelinePage, TimelineItem);

/// A province-level division of GB/T 2260: the first two digits of the
/// region codes that lie in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Province {
    #[schema(example = "11", pattern = "^[0-9]{2}$")]
    pub code: String,
    #[schema(example = "北京市")]
    pub name: String,
}

/// Hand the files one person keeps over to another (CUS-10, ORG-03).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    /// Who keeps the files now (a departing or moving person; may be deactivated).
    pub from_user_id: uuid::Uuid,
    /// Who keeps them after: an active account.
    pub to_user_id: uuid::Uuid,
    /// Only the files kept by this unit and the units below it.
    pub unit_id: Option<uuid::Uuid>,
}

/// What a hand-over did: the files now kept by the new keeper. Files the
/// caller may not work (another unit's, shared ones) stay as they were.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandOverReport {
    pub handed_over: usize,
    pub customer_ids: Vec<uuid::Uuid>,
}

/// What files are counted by (CUS-03: classification for analysis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CountByDto {
    Nature,
    CustomerType,
    Industry,
    Size,
    Status,
    SecrecyLevel,
    /// The province-level division the region code lies in (`11` 北京市).
    Province,
    /// The region code, as filed.
    Region,
    /// The keeping unit (`owner_unit_id`).
    OwnerUnit,
    /// The keeper (`owner_user_id`).
    OwnerUser,
}

/// How many files in sight share one value.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountGroup {
    /// The value (an enum's wire value, a code or an id); `null` for files
    /// where it is not filled in.
    pub key: Option<String>,
    /// What the value is called, for provinces, regions and units.
    pub name: Option<String>,
    pub count: i64,
}

/// Files counted by one classification: the groups, largest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCounts {
    pub by: CountByDto,
    /// Every file counted (the sum of the groups).
    pub total: i64,
    pub groups: Vec<CountGroup>,
}

/// Move the files one unit keeps to another unit (CUS-10, ORG-03): before
/// a unit closes, or when its customers go to another branch.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitTransfer {
    /// The unit keeping the files now (it may be deactivated already). Its
    /// sub-units' files stay where they are.
    pub from_unit_id: uuid::Uuid,
    /// The unit keeping them after: an active unit.
    pub to_unit_id: uuid::Uuid,
    /// A new keeper for every file moved. Without it each file keeps its
    /// keeper, who must be able to work files of the new unit.
    pub to_user_id: Option<uuid::Uuid>,
}

/// What a transfer did: the files the new unit now keeps. Files the caller
/// may not work (above their clearance) stay as they were.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitTransferReport {
    pub transferred: usize,
    pub customer_ids: Vec<uuid::Uuid>,
    /// Files of the old unit, within the caller's clearance, left for the
    /// next transfer (one moves at most 10 000).
    pub remaining: i64,
}

/// Files the caller may see that share a normalised name: likely one
/// customer with several files (CUS-01).
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateGroup {
    /// The name once company forms, spaces, full-width and traditional
    /// characters are set aside.
    #[schema(example = "北京华联商贸")]
    pub name_normalized: String,
    /// How many unmerged files the caller may see hold it.
    pub count: i64,
    /// The first 20 of them, in id order.
    pub files: Vec<Customer>,
}

page_of!(DuplicateGroupPage, DuplicateGroup);

/// What makes another file a likely duplicate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateSign {
    /// The same name once company forms, places' forms, spaces and
    /// full-width characters are set aside.
    #[default]
    Name,
    /// A contact reached by the same number or address (a shared
    /// switchboard, mobile or mailbox): files an import split under two
    /// names, or a group's companies.
    Contact,
}

/// An identifier another file holds already: a file opened with it is
/// refused (409 `duplicate`, CUS-01).
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateConflict {
    /// `credit_code` or `external_id`.
    #[schema(example = "credit_code")]
    pub field: String,
    /// The file that holds it, named whether or not the caller may see it
    /// (as the 409 names it): one customer, one file.
    pub existing_id: uuid::Uuid,
}

/// A file the caller may see that is likely the customer checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct LikelyDuplicate {
    /// What it shares with the customer checked: its normalised name, a
    /// contact's number or address, or both.
    pub signs: Vec<DuplicateSign>,
    pub file: Customer,
}

/// What a new file with the identifiers checked would meet (CUS-01):
/// conflicts that refuse it, and files that are likely the same customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateCheck {
    /// The name checked, as duplicates are compared (company forms,
    /// places' forms, spaces, full-width and traditional characters set
    /// aside); absent when no name was checked.
    #[schema(example = "北京华联商贸")]
    pub name_normalized: Option<String>,
    /// Identifiers held by another file: opening a file with them is
    /// refused, the existing file should be used (or merged into).
    pub conflicts: Vec<DuplicateConflict>,
    /// Unmerged files the caller may see with the same normalised name or
    /// reached through the same contact, in id order, at most 50.
    pub likely: Vec<LikelyDuplicate>,
}
