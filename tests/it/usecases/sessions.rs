//! Sessions on a clock the test moves: a token expires at its time, a refresh raced by the
//! same client within the grace interval gets the one successor, a rotated-away token
//! that comes back later revokes the session, and a session ends at its maximum age.

use authd::domain::AuthError;
use secrecy::{ExposeSecret as _, SecretString};

use super::{origin, Services};

fn copy(token: &SecretString) -> SecretString {
    SecretString::from(token.expose_secret().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_lasts_its_lifetime_to_the_second() {
    let services = Services::start(|c| c.token_ttl_secs = 900).await;
    let signed_in = services.signed_in("ada@example.com").await;
    let token = signed_in.token.token.expose_secret().to_owned();
    let tokens = &services.get().tokens;

    services.clock.advance(899);
    assert!(
        tokens.authenticate_for_api(&token).is_ok(),
        "valid until its last second"
    );
    services.clock.advance(1);
    assert!(matches!(
        tokens.authenticate_for_api(&token),
        Err(AuthError::InvalidToken)
    ));
    let refreshed = services.get().sessions.refresh(&signed_in.token.token, &origin()).await;
    assert!(
        matches!(refreshed, Err(AuthError::InvalidToken)),
        "an expired token does not refresh"
    );
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raced_refresh_within_the_grace_gets_the_same_successor_and_a_later_replay_revokes() {
    let services = Services::start(|c| c.refresh_grace_secs = 10).await;
    let sessions = &services.get().sessions;
    let first = services.signed_in("grace@example.com").await.token.token;

    services.clock.advance(60);
    let second = sessions.refresh(&copy(&first), &origin()).await.unwrap().token;
    services.clock.advance(9);
    let raced = sessions.refresh(&copy(&first), &origin()).await.unwrap().token;
    assert_eq!(
        raced.claims.jti, second.claims.jti,
        "within the grace: the one successor"
    );

    services.clock.advance(2);
    let replayed = sessions.refresh(&copy(&first), &origin()).await;
    assert!(matches!(replayed, Err(AuthError::TokenReused)), "past the grace: reuse");
    let after = sessions.refresh(&second.token, &origin()).await;
    assert!(after.is_err(), "reuse revoked the whole session, its successor too");
    services.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_keep_a_session_alive_only_until_its_maximum_age() {
    let services = Services::start(|c| {
        c.token_ttl_secs = 600;
        c.session_max_age_secs = 1_000;
    })
    .await;
    let sessions = &services.get().sessions;
    let mut token = services.signed_in("mary@example.com").await.token;
    for _ in 0..3 {
        services.clock.advance(300);
        token = sessions.refresh(&token.token, &origin()).await.unwrap().token;
    }
    assert!(
        token.claims.exp <= super::START + 1_000,
        "no token outlives its session"
    );
    services.clock.advance(101);
    assert!(sessions.refresh(&token.token, &origin()).await.is_err());
    services.stop().await;
}
