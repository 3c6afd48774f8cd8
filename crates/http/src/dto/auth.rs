//! Token requests and answers (RFC 6749 §5.1 fields).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A token request, by `grant_type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "grant_type", rename_all = "snake_case")]
pub enum TokenRequest {
    /// A person signs in.
    Password(PasswordGrant),
    /// A refresh token is exchanged for new tokens (and spent).
    RefreshToken(RefreshGrant),
    /// A service account (ERP, finance) signs in.
    ClientCredentials(ClientGrant),
}

impl Validate for TokenRequest {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        match self {
            TokenRequest::Password(g) => g.validate(),
            TokenRequest::RefreshToken(g) => g.validate(),
            TokenRequest::ClientCredentials(g) => g.validate(),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordGrant {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64, example = "demo.admin")]
    pub username: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256, example = "clientele-demo", format = Password)]
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshGrant {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGrant {
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub client_id: String,
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512, format = Password)]
    pub client_secret: String,
}

/// RFC 6749 §5.1. Client-credentials answers carry no refresh token (§4.4.3).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}
