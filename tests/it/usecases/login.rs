//! Signing in through the services: the password alone, and the second step with an
//! authenticator app whose codes follow the clock the test moves.

use authd::domain::mfa::{FactorAnswer, Strategy};
use authd::domain::AuthError;
use authd::ports::Clock as _;
use authd::usecases::login::LoginOutcome;
use secrecy::{ExposeSecret as _, SecretString};
use totp_rs::{Algorithm, Secret, TOTP};

use super::{origin, Services};
use crate::common::PASSWORD;

fn authenticator(secret_base32: &str) -> TOTP {
    let secret = Secret::Encoded(secret_base32.to_owned()).to_bytes().unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret, None, "ada".into()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_address_is_refused_alike() {
    let services = Services::start(|_| {}).await;
    services.signed_in("ada@example.com").await;
    let login = &services.get().login;
    for (email, password) in [
        ("ada@example.com", "not-the-password"),
        ("nobody@example.com", PASSWORD),
    ] {
        let refused = login.login(email, SecretString::from(password), &origin()).await;
        assert!(
            matches!(refused, Err(AuthError::InvalidCredentials)),
            "{email}: {:?}",
            refused.err()
        );
    }
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticator_app_is_the_second_step_and_each_of_its_codes_works_once() {
    let services = Services::start(|_| {}).await;
    let app = services.get();
    let person = services.signed_in("ada@example.com").await.token.claims;
    let now = || services.clock.unix_now() as u64;

    let enrolled = app
        .enrolment
        .enrol_factor(&person, "GOOGLE_AUTHENTICATOR", None, None, None)
        .await
        .unwrap();
    let totp = authenticator(enrolled.totp.unwrap().secret_base32.expose_secret());
    let code = |at: u64| SecretString::from(totp.generate(at));
    app.enrolment
        .validate_factor(&person, enrolled.factor_id, &code(now()), &origin())
        .await
        .unwrap();

    let sign_in = || async {
        match app
            .login
            .login("ada@example.com", SecretString::from(PASSWORD), &origin())
            .await
        {
            Ok(LoginOutcome::SecondFactorRequired { hash, strategies }) => {
                assert!(strategies.contains(&Strategy::Totp), "{strategies:?}");
                let step = app
                    .challenges
                    .choose_strategy(&hash, "GOOGLE_AUTHENTICATOR", &origin())
                    .await
                    .unwrap();
                step.hash
            }
            other => panic!("the password alone signs in: {:?}", other.map(|_| ())),
        }
    };
    let answer = |hash: String, code: SecretString| async move {
        app.challenges
            .submit_code(&hash, FactorAnswer::Code(code), &origin())
            .await
    };

    // The step that validated the app is spent; the next one signs in, once.
    let hash = sign_in().await;
    let spent = answer(hash, code(now())).await;
    assert!(matches!(spent, Err(AuthError::InvalidCode)), "{:?}", spent.err());
    services.clock.advance(30);
    let hash = sign_in().await;
    let signed_in = answer(hash, code(now())).await.expect("the next step's code");
    assert_eq!(signed_in.holder.email.as_str(), "ada@example.com");
    let hash = sign_in().await;
    let again = answer(hash, code(now())).await;
    assert!(matches!(again, Err(AuthError::InvalidCode)), "a code works once");

    // A code from an hour ahead is no code at all.
    let hash = sign_in().await;
    let future = answer(hash, code(now() + 3_600)).await;
    assert!(matches!(future, Err(AuthError::InvalidCode)));
    services.stop().await;
}
