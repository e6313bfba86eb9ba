//! One OpenID Connect provider (kinds `oidc`, `google`, `microsoft`, `apple`, `gitlab`):
//! its Discovery document and keys, fetched once and kept, the authorization URL with
//! state, nonce and PKCE, and the code exchanged for an ID token the `openidconnect` crate
//! validates (signature from the provider's JWKS, `iss`, `aud`, `azp`, `exp`, `iat`,
//! `nonce`). An unknown `kid` fetches the keys again, at most once a minute, so a
//! provider's key rotation is followed without letting anyone make authd hammer it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IdToken, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse as _,
};
use parking_lot::Mutex;
use secrecy::ExposeSecret as _;

use super::apple::AppleSecret;
use super::{counted, Http};
use crate::domain::upstream::{ProviderKind, UpstreamProfile, UpstreamRefusal};
use crate::ports::{Arrival, Clock, Departure};
use crate::upstream_config::UpstreamProvider;

/// Discovery is read again after this long (keys rotate; endpoints rarely move).
const DISCOVERY_MAX_AGE_SECS: i64 = 24 * 3600;
/// An unknown `kid` fetches the keys again no more often than this.
const JWKS_REFRESH_SECS: i64 = 60;
/// How far an ID token's `iat` may be in the future (clock skew) or in the past.
const IAT_AHEAD_SECS: i64 = 60;
const IAT_BEHIND_SECS: i64 = 600;

/// The tenant segments of Microsoft's multi-tenant endpoints, in place of which each
/// token's issuer names its own tenant (`tid`).
const MICROSOFT_TENANTS: [&str; 3] = ["/common/", "/organizations/", "/consumers/"];

type Refusal = UpstreamRefusal;

/// What Discovery said, and when.
#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    fetched_at: i64,
    keys_fetched_at: i64,
}

/// An OpenID Connect provider of the configuration.
pub struct OidcProvider {
    config: UpstreamProvider,
    issuer: String,
    http: Http,
    clock: Arc<dyn Clock>,
    apple: Option<AppleSecret>,
    discovered: Mutex<Option<Discovered>>,
}

impl OidcProvider {
    pub fn new(config: UpstreamProvider, http: Http, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let issuer = config
            .issuer
            .clone()
            .ok_or_else(|| anyhow::anyhow!("an OIDC kind needs an issuer"))?;
        let apple = match &config.apple {
            Some(key) => Some(AppleSecret::read(key, &config.client_id)?),
            None => None,
        };
        Ok(Self {
            config,
            issuer,
            http,
            clock,
            apple,
            discovered: Mutex::new(None),
        })
    }

    pub async fn departure(&self, state: &str, redirect_uri: &str) -> Result<Departure, Refusal> {
        let client = self.client(self.discovery().await?.metadata, redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = state.to_owned();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if self.config.kind == ProviderKind::Apple {
            // Apple sends the name only to a POSTed callback.
            request = request.add_extra_param("response_mode", "form_post");
        }
        let (url, _, nonce) = request.url();
        Ok(Departure {
            url: url.to_string(),
            nonce: Some(nonce.secret().clone()),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    pub async fn arrival(&self, arrival: Arrival, redirect_uri: &str) -> Result<UpstreamProfile, Refusal> {
        let discovered = self.discovery().await?;
        let multi_tenant = self.config.kind == ProviderKind::Microsoft;
        // RFC 9207: an `iss` that names another issuer is a mix-up attack.
        if let Some(iss) = &arrival.iss {
            if !multi_tenant && iss != discovered.metadata.issuer().as_str() {
                tracing::info!(
                    provider = self.config.id.as_str(),
                    "upstream answer names another issuer"
                );
                return Err(Refusal::BadAnswer);
            }
        }
        let client = self.client(discovered.metadata.clone(), redirect_uri)?;
        let request = client
            .exchange_code(AuthorizationCode::new(arrival.code.clone()))
            .map_err(|_| Refusal::Unreachable)?
            .set_pkce_verifier(PkceCodeVerifier::new(arrival.pkce_verifier.clone()));
        let response = counted(&self.config.id, "token", request.request_async(&self.http))
            .await
            .map_err(|err| self.exchange_refused(err))?;
        let id_token = response.id_token().ok_or(Refusal::BadAnswer)?.clone();
        let nonce = Nonce::new(arrival.nonce.clone().ok_or(Refusal::BadState)?);
        let claims = match self.verify(&client, &id_token, &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let refreshed = self.refresh_keys(discovered).await?;
                let client = self.client(refreshed.metadata, redirect_uri)?;
                self.verify(&client, &id_token, &nonce)
            }
            other => other,
        }
        .map_err(|err| {
            tracing::info!(provider = self.config.id.as_str(), %err, "upstream ID token refused");
            Refusal::BadAnswer
        })?;
        if multi_tenant {
            self.check_tenant(&id_token, &claims, arrival.iss.as_deref())?;
        }
        let mut profile = profile_of(&claims);
        if self.config.kind == ProviderKind::Apple {
            profile.name = profile
                .name
                .or_else(|| arrival.user.as_deref().and_then(super::apple::name_of));
        }
        if profile.email.is_none() {
            if let Ok(request) = client.user_info(response.access_token().clone(), Some(claims.subject().clone())) {
                let info: Result<CoreUserInfoClaims, _> =
                    counted(&self.config.id, "userinfo", request.request_async(&self.http)).await;
                if let Ok(info) = info {
                    profile.email = info.email().map(|e| e.to_string());
                    profile.email_verified = info.email_verified().unwrap_or(false);
                    profile.name = profile.name.or_else(|| first_name(info.name()));
                }
            }
        }
        Ok(profile)
    }

    /// The ID token's claims, if `client`'s keys and rules accept them.
    fn verify(
        &self,
        client: &Client,
        id_token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
        let now = self.clock.unix_now();
        let at = move |unix: i64| DateTime::<Utc>::from_timestamp(unix, 0).unwrap_or_default();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPssSha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EdDsa,
            ])
            .require_issuer_match(self.config.kind != ProviderKind::Microsoft)
            .set_time_fn(move || at(now))
            .set_issue_time_verifier_fn(move |iat| {
                let iat = iat.timestamp();
                match (now - IAT_BEHIND_SECS..=now + IAT_AHEAD_SECS).contains(&iat) {
                    true => Ok(()),
                    false => Err(format!("issued at {iat}, too far from now")),
                }
            });
        id_token.claims(&verifier, nonce).cloned()
    }

    /// Microsoft's multi-tenant tokens: the issuer must name the token's own tenant.
    fn check_tenant(
        &self,
        id_token: &CoreIdToken,
        claims: &CoreIdTokenClaims,
        iss: Option<&str>,
    ) -> Result<(), Refusal> {
        let tid = payload_claim(&id_token.to_string(), "tid").ok_or(Refusal::BadAnswer)?;
        let expected = tenant_issuer(&self.issuer, &tid);
        let issuer_fits = claims.issuer().as_str() == expected && iss.is_none_or(|iss| iss == expected);
        match issuer_fits {
            true => Ok(()),
            false => Err(Refusal::BadAnswer),
        }
    }

    fn client(&self, metadata: CoreProviderMetadata, redirect_uri: &str) -> Result<Client, Refusal> {
        let secret = match &self.apple {
            Some(apple) => Some(
                apple
                    .client_secret(self.clock.unix_now())
                    .map_err(|_| Refusal::Unreachable)?,
            ),
            None => self.config.client_secret.as_ref().map(|s| s.expose_secret().to_owned()),
        };
        // Some providers (Apple) take the secret in the form only.
        let basic = metadata
            .token_endpoint_auth_methods_supported()
            .is_none_or(|methods| methods.iter().any(|m| m.as_ref() == "client_secret_basic"));
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| Refusal::Unreachable)?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            secret.map(ClientSecret::new),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(if basic {
            AuthType::BasicAuth
        } else {
            AuthType::RequestBody
        });
        Ok(client)
    }

    /// Discovery and keys, from memory while fresh.
    async fn discovery(&self) -> Result<Discovered, Refusal> {
        let now = self.clock.unix_now();
        if let Some(known) = self.discovered.lock().clone() {
            if now - known.fetched_at < DISCOVERY_MAX_AGE_SECS {
                return Ok(known);
            }
        }
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let metadata: CoreProviderMetadata = self.get_json("discovery", &url).await?;
        // Microsoft's common endpoint names the tenant-templated issuer, checked per token.
        if self.config.kind != ProviderKind::Microsoft && metadata.issuer().as_str() != self.issuer {
            tracing::warn!(provider = self.config.id.as_str(), "Discovery names another issuer");
            return Err(Refusal::Unreachable);
        }
        let keys: CoreJsonWebKeySet = self.get_json("jwks", metadata.jwks_uri().as_str()).await?;
        let known = Discovered {
            metadata: metadata.set_jwks(keys),
            fetched_at: now,
            keys_fetched_at: now,
        };
        *self.discovered.lock() = Some(known.clone());
        Ok(known)
    }

    /// The keys again (an ID token named a `kid` they lack), unless fetched a moment ago.
    async fn refresh_keys(&self, known: Discovered) -> Result<Discovered, Refusal> {
        let now = self.clock.unix_now();
        if now - known.keys_fetched_at < JWKS_REFRESH_SECS {
            return Err(Refusal::BadAnswer);
        }
        let keys: CoreJsonWebKeySet = self.get_json("jwks", known.metadata.jwks_uri().as_str()).await?;
        let refreshed = Discovered {
            metadata: known.metadata.set_jwks(keys),
            keys_fetched_at: now,
            ..known
        };
        *self.discovered.lock() = Some(refreshed.clone());
        Ok(refreshed)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, call: &'static str, url: &str) -> Result<T, Refusal> {
        let fetch = async {
            let response = self.http.get(url).send().await?.error_for_status()?;
            response.json::<T>().await
        };
        counted(&self.config.id, call, fetch).await.map_err(|err| {
            tracing::warn!(provider = self.config.id.as_str(), call, %err, "upstream provider unreachable");
            Refusal::Unreachable
        })
    }

    fn exchange_refused<E: std::error::Error>(
        &self,
        err: RequestTokenError<E, impl openidconnect::ErrorResponse>,
    ) -> Refusal {
        let refusal = match &err {
            // The provider refused the code (used, expired, another client's, a wrong verifier).
            RequestTokenError::ServerResponse(_) => Refusal::BadAnswer,
            _ => Refusal::Unreachable,
        };
        tracing::info!(provider = self.config.id.as_str(), %err, "upstream code exchange failed");
        refusal
    }
}

type Client = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

type CoreIdToken = IdToken<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The profile a validated ID token describes.
fn profile_of(claims: &CoreIdTokenClaims) -> UpstreamProfile {
    let name = first_name(claims.name()).or_else(|| {
        let given = claims.given_name().and_then(|n| n.get(None)).map(|n| n.to_string());
        let family = claims.family_name().and_then(|n| n.get(None)).map(|n| n.to_string());
        match (given, family) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (one, other) => one.or(other),
        }
    });
    UpstreamProfile {
        subject: claims.subject().to_string(),
        email: claims.email().map(|e| e.to_string()),
        email_verified: claims.email_verified().unwrap_or(false),
        name,
    }
}

fn first_name(name: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserName>>) -> Option<String> {
    name.and_then(|n| n.get(None)).map(|n| n.to_string())
}

/// Microsoft's issuer for the tenant `tid`: the configured multi-tenant issuer
/// (`https://login.microsoftonline.com/common/v2.0`) with the tenant in place of `common`.
fn tenant_issuer(configured: &str, tid: &str) -> String {
    let safe = !tid.is_empty() && tid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let segment = MICROSOFT_TENANTS
        .into_iter()
        .find(|segment| configured.contains(segment));
    match (safe, segment) {
        (true, Some(segment)) => configured.replacen(segment, &format!("/{tid}/"), 1),
        _ => configured.to_owned(),
    }
}

/// A string claim of a JWT whose signature was already checked.
fn payload_claim(jwt: &str, claim: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(claim)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_read_from_the_payload() {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"tid":"t-1","n":2}"#);
        let jwt = format!("h.{payload}.s");
        assert_eq!(payload_claim(&jwt, "tid").as_deref(), Some("t-1"));
        assert_eq!(payload_claim(&jwt, "n"), None);
        assert_eq!(payload_claim("nonsense", "tid"), None);
    }

    #[test]
    fn the_multi_tenant_issuer_names_the_tenant() {
        let common = "https://login.microsoftonline.com/common/v2.0";
        assert_eq!(
            tenant_issuer(common, "9188040d-6c67"),
            "https://login.microsoftonline.com/9188040d-6c67/v2.0"
        );
        // A tenant id that is not one cannot bend the issuer into something else.
        assert_eq!(tenant_issuer(common, "x/../evil"), common);
        assert_eq!(tenant_issuer(common, ""), common);
    }
}
