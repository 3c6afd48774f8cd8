//! Customer archives (CUS-01..11): one customer, one file. Value types
//! built by `parse()` (credit code with its check digits, names, region
//! codes, tags), the rules of the region catalogue, the classification enums, who may see a file and which of
//! its fields, the rules of merging duplicates and of group trees. No IO.

pub mod classification;
pub mod contacts;
pub mod credit_code;
pub mod fields;
pub mod merge;
pub mod name;
mod places;
pub mod reach;
pub mod regions;
pub mod relations;
pub mod secrecy;
pub mod visibility;

pub use classification::{CustomerType, DocumentCategory, Nature, RelationKind, Size, Status};
pub use credit_code::CreditCode;
pub use fields::{
    document_link, mobile_number, phone_number, province_of, provinces, RegionCode, Tag, Tags,
};
pub use name::{normalise_name, CustomerName, NameForms};
pub use reach::Reach;
pub use regions::{RegionLevel, RegionName};
pub use visibility::{FileScope, Visibility};

pub use clientele_core::ParseError;
