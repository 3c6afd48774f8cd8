//! Token requests and answers (RFC 6749 §5.1 fields).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

/// A token request, told apart by `grant_type`: as a form
/// (`application/x-www-form-urlencoded`, as OAuth 2.0 clients send it) or
/// as JSON. `auth::token_request` reads it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TokenRequest {
    /// A person signs in.
    Password(PasswordGrant),
    /// A refresh token is exchanged for new tokens (and spent).
    RefreshToken(RefreshGrant),
    /// A service account (ERP, finance) signs in.
    ClientCredentials(ClientGrant),
}

macro_rules! grant_kind {
    ($name:ident, $variant:ident) => {
        /// The grant type; one value.
        #[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $variant,
        }
    };
}
grant_kind!(PasswordGrantType, Password);
grant_kind!(RefreshGrantType, RefreshToken);
grant_kind!(ClientGrantType, ClientCredentials);

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordGrant {
    pub grant_type: PasswordGrantType,
    #[validate(length(min = 1, max = 64))]
    #[schema(
        pattern = "^[^\\u0000]*$",
        min_length = 1,
        max_length = 64,
        example = "demo.admin"
    )]
    pub username: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(pattern = "^[^\\u0000]*$", min_length = 1, max_length = 256, example = "clientele-demo", format = Password)]
    pub password: String,
    /// The app signing in, as OAuth libraries name it; passed over: a
    /// person's app is a public client with nothing to check it against.
    #[validate(length(max = 64))]
    #[schema(
        pattern = "^[^\\u0000]*$",
        nullable = false,
        max_length = 64,
        example = "web"
    )]
    #[serde(default, deserialize_with = "super::present")]
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshGrant {
    pub grant_type: RefreshGrantType,
    #[validate(length(min = 1, max = 512))]
    #[schema(pattern = "^[^\\u0000]*$", min_length = 1, max_length = 512)]
    pub refresh_token: String,
    /// The app signing in, as OAuth libraries name it; passed over: a
    /// person's app is a public client with nothing to check it against.
    #[validate(length(max = 64))]
    #[schema(
        pattern = "^[^\\u0000]*$",
        nullable = false,
        max_length = 64,
        example = "web"
    )]
    #[serde(default, deserialize_with = "super::present")]
    pub client_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGrant {
    pub grant_type: ClientGrantType,
    #[validate(length(min = 1, max = 64))]
    #[schema(pattern = "^[^\\u0000]*$", min_length = 1, max_length = 64)]
    pub client_id: String,
    #[validate(length(min = 1, max = 512))]
    #[schema(pattern = "^[^\\u0000]*$", min_length = 1, max_length = 512, format = Password)]
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

/// A token to revoke (RFC 7009 §2.1), as a form or as JSON.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// An access token or a refresh token this server issued.
    #[validate(length(min = 1, max = 4096))]
    #[schema(pattern = "^[^\\u0000]*$", min_length = 1, max_length = 4096)]
    pub token: String,
    /// `access_token` or `refresh_token`, as the client believes. Not
    /// needed and not relied on: an access token is known by its
    /// signature, so the hint is passed over (RFC 7009 §2.1 allows it).
    #[validate(length(max = 64))]
    #[schema(
        pattern = "^[^\\u0000]*$",
        nullable = false,
        max_length = 64,
        example = "refresh_token"
    )]
    #[serde(default, deserialize_with = "super::present")]
    pub token_type_hint: Option<String>,
    /// Sent by public clients (RFC 7009 §2.1); not needed, and not checked:
    /// holding the token is what allows revoking it.
    #[validate(length(max = 64))]
    #[schema(pattern = "^[^\\u0000]*$", nullable = false, max_length = 64)]
    #[serde(default, deserialize_with = "super::present")]
    pub client_id: Option<String>,
}
