//! Access tokens: JWTs signed HS256 with the configured secret, or RS256 tokens from an external
//! identity provider verified with its public key. Issuer and audience are always checked.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::principals;
use super::{Caller, PrincipalKind, Role};
use crate::db::DbConnection;
use crate::error::{ApiError, ApiResult};

pub const MIN_SECRET_BYTES: usize = 32;

/// Lifetime of an access token issued here.
pub const TOKEN_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default)]
    pub municipalities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub iss: String,
    /// A string, or the array of strings some identity providers send.
    pub aud: serde_json::Value,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
}

/// A token that verified, and whether it came from an external identity provider.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    pub claims: Claims,
    pub external: bool,
}

pub struct TokenService {
    encoding: EncodingKey,
    hs256: DecodingKey,
    rs256: Option<DecodingKey>,
    pub issuer: String,
    pub audience: String,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService").field("issuer", &self.issuer).field("audience", &self.audience).finish()
    }
}

impl TokenService {
    /// `public_key_pem` enables RS256 tokens from an external identity provider.
    pub fn new(secret: &[u8], public_key_pem: Option<&[u8]>, issuer: &str, audience: &str) -> Result<Self, String> {
        // A short HMAC secret can be guessed offline from any token it signed.
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes"));
        }
        let rs256 = match public_key_pem {
            Some(pem) => Some(DecodingKey::from_rsa_pem(pem).map_err(|e| format!("BESKPLAN_JWT_PUBLIC_KEY: {e}"))?),
            None => None,
        };
        Ok(TokenService {
            encoding: EncodingKey::from_secret(secret),
            hs256: DecodingKey::from_secret(secret),
            rs256,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        })
    }

    /// Claims for a caller, valid from now for `TOKEN_SECONDS`.
    pub fn claims_for(&self, caller: &Caller) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: caller.id.clone(),
            role: caller.role.as_str().to_owned(),
            municipalities: caller.municipalities.clone(),
            party: caller.party.clone(),
            name: Some(caller.name.clone()),
            iss: self.issuer.clone(),
            aud: self.audience.clone().into(),
            iat: now,
            exp: now + TOKEN_SECONDS,
            nbf: None,
            jti: Uuid::now_v7().to_string(),
        }
    }

    pub fn sign(&self, claims: &Claims) -> ApiResult<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
    }

    pub fn verify(&self, token: &str) -> ApiResult<VerifiedToken> {
        let unauthorized = |why: &str| ApiError::Unauthorized(format!("invalid token: {why}"));
        // `alg: none` and unknown algorithms fail here: the header does not parse.
        let header = jsonwebtoken::decode_header(token).map_err(|_| unauthorized("malformed or unsupported header"))?;
        let (key, external) = match header.alg {
            Algorithm::HS256 => (&self.hs256, false),
            Algorithm::RS256 => match &self.rs256 {
                Some(key) => (key, true),
                None => return Err(unauthorized("RS256 tokens are not accepted here")),
            },
            _ => return Err(unauthorized("unsupported algorithm")),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => unauthorized("expired"),
            ErrorKind::ImmatureSignature => unauthorized("not yet valid"),
            ErrorKind::InvalidSignature => unauthorized("bad signature"),
            ErrorKind::InvalidIssuer => unauthorized("wrong issuer"),
            ErrorKind::InvalidAudience => unauthorized("wrong audience"),
            ErrorKind::MissingRequiredClaim(claim) => unauthorized(&format!("missing claim {claim}")),
            _ => unauthorized("malformed"),
        })?;
        Ok(VerifiedToken { claims: data.claims, external })
    }
}

/// The caller behind a verified token. Users and clients known here are loaded fresh, so a
/// deactivated one is refused and a changed role applies at once. An external identity provider's
/// token stands on its own claims and is never taken for a local account; its actor in the audit
/// log is `external:<sub>`, so it cannot pass for a local username.
pub fn load_caller(conn: &mut DbConnection, token: VerifiedToken) -> ApiResult<Caller> {
    let claims = token.claims;
    if token.external {
        let role = Role::parse(&claims.role)
            .ok_or_else(|| ApiError::Unauthorized(format!("invalid token: unknown role {:?}", claims.role)))?;
        return Ok(Caller {
            name: format!("external:{}", claims.sub),
            display_name: claims.name.unwrap_or_else(|| claims.sub.clone()),
            id: claims.sub,
            kind: PrincipalKind::External,
            role,
            municipalities: claims.municipalities,
            party: claims.party,
        });
    }
    match principals::by_id(conn, &claims.sub)? {
        Some(principal) if principal.active => principal.caller(),
        Some(_) => Err(ApiError::Unauthorized("the account behind this token is deactivated".into())),
        None => Err(ApiError::Unauthorized("the account behind this token does not exist".into())),
    }
}
