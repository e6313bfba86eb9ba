//! The authorization code flow through the OAuth services alone: a third-party
//! application asks, the person allows it once, the code becomes tokens, a code dies at
//! its time limit, and a consent given once is not asked again.

use authd::domain::authorization::AuthorizationRequest;
use authd::domain::oauth::ClientRequest;
use authd::domain::oidc::CODE_TTL_SECS;
use authd::domain::token::Claims;
use authd::usecases::clients::ClientAuth;
use authd::usecases::oidc::authorize::{Authorizations, Outcome};
use authd::usecases::oidc::token::TokenRequest;
use secrecy::{ExposeSecret as _, SecretString};

use super::{origin, Services};

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
    let parameters = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid email"),
        ("nonce", "n-0S6_WzA2Mj"),
    ];
    AuthorizationRequest::parse(&parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

async fn redeem(services: &Services, client: &(String, String), code: &str) -> Result<String, &'static str> {
    let auth = ClientAuth {
        client_id: Some(client.0.clone()),
        secret: Some(SecretString::from(client.1.clone())),
        basic: true,
    };
    let token_request = TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(REDIRECT.into()),
        ..TokenRequest::default()
    };
    match services.get().token_grants.grant(auth, token_request, &origin()).await {
        Ok(granted) => Ok(granted.id_token.expect("openid was granted")),
        Err(refused) => Err(refused.error.code),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_application_is_allowed_once_and_its_codes_die_at_their_time() {
    let services = Services::start(|_| {}).await;
    let person: Claims = services.signed_in("ada@example.com").await.token.claims;
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
    let client = (
        registered.client.id.clone(),
        registered.secret.unwrap().expose_secret().to_owned(),
    );
    let authorizations: &Authorizations = &services.get().authorizations;

    let asked = authorizations.authorize(&request(&client.0), Some(&person)).await;
    assert!(
        matches!(&asked, Outcome::Consent { client_name, .. } if client_name == "Notes"),
        "{asked:?}"
    );
    let nobody = authorizations.authorize(&request(&client.0), None).await;
    assert!(matches!(nobody, Outcome::SignIn { force: false, .. }), "{nobody:?}");

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
