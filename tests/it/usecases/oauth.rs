//! The authorization code flow through the OAuth services alone: a third-party
//! application asks, the person allows it once, the code becomes tokens, a code dies at
//! its time limit, a consent given once is not asked again, and a refreshed ID token
//! still says when the person signed in.

use authd::domain::authorization::AuthorizationRequest;
use authd::domain::oauth::ClientRequest;
use authd::domain::oidc::CODE_TTL_SECS;
use authd::domain::token::Claims;
use authd::usecases::clients::ClientAuth;
use authd::usecases::oidc::authorize::{Authorizations, Outcome};
use authd::usecases::oidc::token::{Granted, TokenRequest};
use secrecy::{ExposeSecret as _, SecretString};

use super::{origin, Services, START};
use crate::common::oidc::payload;

const REDIRECT: &str = "https://notes.example.com/callback";

fn code_of(outcome: Outcome) -> String {
    let Outcome::Redirect(to) = outcome else {
        panic!("expected a redirect with a code, got {outcome:?}");
    };
    let url = url::Url::parse(&to).unwrap();
    assert!(to.starts_with(REDIRECT), "{to}");
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn request(client_id: &str) -> AuthorizationRequest {
    request_for(client_id, "openid email")
}

fn request_for(client_id: &str, scope: &str) -> AuthorizationRequest {
    let parameters = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    AuthorizationRequest::parse(&parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// Asks the token endpoint, as the confidential `client`, for `request`'s grant.
async fn grant(services: &Services, client: &(String, String), request: TokenRequest) -> Result<Granted, &'static str> {
    let auth = ClientAuth {
        client_id: Some(client.0.clone()),
        secret: Some(SecretString::from(client.1.clone())),
        basic: true,
    };
    services
        .get()
        .token_grants
        .grant(auth, request, &origin())
        .await
        .map_err(|refused| refused.error.code)
}

async fn exchange(services: &Services, client: &(String, String), code: &str) -> Result<Granted, &'static str> {
    let request = TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(REDIRECT.into()),
        ..TokenRequest::default()
    };
    grant(services, client, request).await
}

async fn redeem(services: &Services, client: &(String, String), code: &str) -> Result<String, &'static str> {
    let granted = exchange(services, client, code).await?;
    Ok(granted.id_token.expect("openid was granted"))
}

/// Registers a confidential third-party client "Notes": its id and secret.
async fn notes(services: &Services) -> (String, String) {
    let registered = services
        .get()
        .clients
        .register(ClientRequest {
            name: "Notes".into(),
            redirect_uris: vec![REDIRECT.into()],
            ..ClientRequest::default()
        })
        .await
        .unwrap();
    (
        registered.client.id.clone(),
        registered.secret.unwrap().expose_secret().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_application_is_allowed_once_and_its_codes_die_at_their_time() {
    let services = Services::start(|_| {}).await;
    let person: Claims = services.signed_in("ada@example.com").await.token.claims;
    let client = notes(&services).await;
    let authorizations: &Authorizations = &services.get().authorizations;

    let asked = authorizations.authorize(&request(&client.0), Some(&person)).await;
    assert!(
        matches!(&asked, Outcome::Consent { client_name, .. } if client_name == "Notes"),
        "{asked:?}"
    );
    let nobody = authorizations.authorize(&request(&client.0), None).await;
    assert!(matches!(nobody, Outcome::SignIn { fresh: false, .. }), "{nobody:?}");

    let allowed = authorizations
        .answer_consent(&request(&client.0), Some(&person), true)
        .await;
    let id_token = redeem(&services, &client, &code_of(allowed)).await.unwrap();
    assert_eq!(id_token.split('.').count(), 3);

    // Allowed once, not asked again; a code lives CODE_TTL_SECS and no longer.
    let in_time = code_of(authorizations.authorize(&request(&client.0), Some(&person)).await);
    let late = code_of(authorizations.authorize(&request(&client.0), Some(&person)).await);
    services.clock.advance(CODE_TTL_SECS - 1);
    assert!(redeem(&services, &client, &in_time).await.is_ok());
    services.clock.advance(1);
    assert_eq!(redeem(&services, &client, &late).await, Err("invalid_grant"));
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_id_token_of_an_application_says_when_the_person_signed_in() {
    let services = Services::start(|_| {}).await;
    let person: Claims = services.signed_in("ada@example.com").await.token.claims;
    let client = notes(&services).await;
    let asked = request_for(&client.0, "openid offline_access");

    // The application asks a while after the sign-in, and exchanges its code later still.
    services.clock.advance(40);
    let allowed = services
        .get()
        .authorizations
        .answer_consent(&asked, Some(&person), true)
        .await;
    services.clock.advance(5);
    let first = exchange(&services, &client, &code_of(allowed)).await.unwrap();
    let first_id = payload(first.id_token.as_deref().unwrap());
    assert_eq!(first_id["auth_time"], START);
    assert_eq!(first_id["iat"], START + 45);

    services.clock.advance(120);
    let refresh = TokenRequest {
        grant_type: Some("refresh_token".into()),
        refresh_token: first.refresh_token,
        ..TokenRequest::default()
    };
    let refreshed = grant(&services, &client, refresh).await.unwrap();
    let refreshed_id = payload(refreshed.id_token.as_deref().unwrap());
    assert_eq!(
        refreshed_id["auth_time"], START,
        "OIDC Core 12.2: auth_time as at sign-in"
    );
    assert_eq!(refreshed_id["iat"], START + 165);
    assert_eq!(refreshed_id["sub"], first_id["sub"]);
    services.stop().await;
}
