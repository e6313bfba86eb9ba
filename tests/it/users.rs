//! Accounts: `POST /user`, `PATCH /user`, `GET /user/me`, `GET /user`.

use crate::common::{Backend, PASSWORD};
use reqwest::Method;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

async fn sign_up_then_read_own_profile(backend: Backend) {
    let server = backend.start().await;
    let created = server
        .post(
            "/user",
            None,
            json!({ "name": "Ana Souza", "email": "Ana@Example.com", "password": PASSWORD, "phone": "+5511999998888" }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    Uuid::parse_str(&id).expect("id is a UUID");

    let token = server.login("ana@example.com").await;
    let me = server.get("/user/me", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["name"], "Ana Souza");
    assert_eq!(me.body["email"], "Ana@Example.com");
    assert_eq!(me.body["phone"], "+5511999998888");
    assert_eq!(me.body["organizations"], json!([]));
    assert_eq!(me.body["mfa"], json!([]));
    let created_at = me.body["createdAt"].as_str().unwrap();
    time::OffsetDateTime::parse(created_at, &time::format_description::well_known::Rfc3339).expect("RFC 3339");
    server.stop().await;
}

async fn sign_up_rejects_bad_input_and_duplicates(backend: Backend) {
    let server = backend.start().await;
    server.sign_up("Bruno", "bruno@example.com").await;

    let duplicate = server
        .post(
            "/user",
            None,
            json!({ "name": "Other", "email": "BRUNO@example.com", "password": PASSWORD }),
        )
        .await;
    duplicate.assert_problem(409, "email_taken");

    let weak = server
        .post(
            "/user",
            None,
            json!({ "name": "Carla", "email": "carla@example.com", "password": "password1" }),
        )
        .await;
    weak.assert_problem(400, "weak_password");

    let own_name = server
        .post(
            "/user",
            None,
            json!({ "name": "Carla Mendes", "email": "carla@example.com", "password": "carlamendes1" }),
        )
        .await;
    own_name.assert_problem(400, "weak_password");

    for body in [
        json!({ "name": "", "email": "d@example.com", "password": PASSWORD }),
        json!({ "name": "x".repeat(129), "email": "d@example.com", "password": PASSWORD }),
        json!({ "name": "D", "email": "not-an-email", "password": PASSWORD }),
        json!({ "name": "D", "email": format!("{}@example.com", "a".repeat(250)), "password": PASSWORD }),
        json!({ "name": "D", "email": "d@example.com", "password": "short" }),
        json!({ "name": "D", "email": "d@example.com", "password": "x".repeat(129) }),
        json!({ "name": "D", "email": "d@example.com", "password": PASSWORD, "phone": "11 9999-8888" }),
        json!({ "name": "D", "email": "d@example.com" }),
    ] {
        server
            .post("/user", None, body)
            .await
            .assert_problem(400, "validation_failed");
    }
    // Nothing was created by the rejected requests.
    let login = server
        .post(
            "/login",
            None,
            json!({ "email": "d@example.com", "password": PASSWORD }),
        )
        .await;
    login.assert_problem(401, "invalid_credentials");
    server.stop().await;
}

async fn admin_only_sign_up_needs_an_admin_token(backend: Backend) {
    let (server, admin) = backend
        .start_with_admin(|c| c.signup = authd::domain::user::SignupMode::Admin)
        .await;
    let body = json!({ "name": "Eva", "email": "eva@example.com", "password": PASSWORD });

    server
        .post("/user", None, body.clone())
        .await
        .assert_problem(401, "invalid_token");
    server
        .post("/user", Some("garbage"), body.clone())
        .await
        .assert_problem(401, "invalid_token");

    let created = server.post("/user", Some(&admin), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let eva = server.login("eva@example.com").await;
    let by_member = server
        .post(
            "/user",
            Some(&eva),
            json!({ "name": "Fay", "email": "fay@example.com", "password": PASSWORD }),
        )
        .await;
    by_member.assert_problem(403, "forbidden");
    server.stop().await;
}

async fn update_own_profile_and_others_only_as_admin(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let (gil_id, _, gil) = server.new_session().await;
    let (hana_id, hana_email, hana) = server.new_session().await;

    let updated = server
        .patch(
            "/user",
            Some(&gil),
            json!({ "name": "Gil Renamed", "phone": "+4915112345678" }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body, json!({ "result": true }));
    let me = server.get("/user/me", Some(&gil)).await;
    assert_eq!(me.body["name"], "Gil Renamed");
    assert_eq!(me.body["phone"], "+4915112345678");

    server
        .patch("/user", Some(&gil), json!({ "userId": hana_id, "name": "Hacked" }))
        .await
        .assert_problem(403, "forbidden");
    server
        .patch("/user", Some(&gil), json!({ "email": hana_email.to_uppercase() }))
        .await
        .assert_problem(409, "email_taken");
    server
        .patch("/user", Some(&gil), json!({ "email": "nope" }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .patch("/user", Some(&gil), json!({ "userId": "not-a-uuid" }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .patch("/user", None, json!({ "name": "Anon" }))
        .await
        .assert_problem(401, "invalid_token");

    let by_admin = server
        .patch(
            "/user",
            Some(&admin),
            json!({ "userId": hana_id, "name": "Hana by Admin" }),
        )
        .await;
    assert_eq!(by_admin.status, 200, "{}", by_admin.body);
    assert_eq!(server.get("/user/me", Some(&hana)).await.body["name"], "Hana by Admin");
    server
        .patch(
            "/user",
            Some(&admin),
            json!({ "userId": Uuid::now_v7(), "name": "Ghost" }),
        )
        .await
        .assert_problem(404, "not_found");
    assert_eq!(server.get("/user/me", Some(&gil)).await.body["id"], gil_id);
    server.stop().await;
}

async fn only_admins_list_users_page_by_page(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(server.sign_up("Listed", &format!("listed{i}@example.com")).await);
    }
    let member = server.login("listed0@example.com").await;
    server
        .get("/user", Some(&member))
        .await
        .assert_problem(403, "forbidden");
    server.get("/user", None).await.assert_problem(401, "invalid_token");
    server
        .get("/user?limit=0", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    server
        .get("/user?limit=abc", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");
    server
        .get("/user?cursor=xyz", Some(&admin))
        .await
        .assert_problem(400, "validation_failed");

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/user?limit=2&cursor={c}"),
            None => "/user?limit=2".to_owned(),
        };
        let page = server.get(&path, Some(&admin)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let list = page.body["list"].as_array().unwrap();
        assert!(list.len() <= 2);
        for user in list {
            assert!(user["email"].is_string() && user["name"].is_string());
            assert!(user.get("passwordHash").is_none());
            seen.push(user["id"].as_str().unwrap().to_owned());
        }
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "5 users and the admin");
    for id in &ids {
        assert!(seen.contains(id));
    }
    server.stop().await;
}

/// `GET /user/me` on the embedded default is served from a copy kept in memory (see
/// `storage/sql/profiles.rs`): every write that changes a profile must show at once, for
/// the writer and for the other users it touches, whose profiles were read (and kept) first.
async fn the_own_profile_shows_every_change_at_once(backend: Backend) {
    let server = backend.start().await;
    server.sign_up("Ana", "ana.fresh@example.com").await;
    server.sign_up("Bia", "bia.fresh@example.com").await;
    let ana = server.login("ana.fresh@example.com").await;
    let bia = server.login("bia.fresh@example.com").await;
    let me = |token: String| {
        let server = &server;
        async move {
            let answer = server.get("/user/me", Some(&token)).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body
        }
    };
    let bia_id = me(bia.clone()).await["id"].as_str().unwrap().to_owned();
    assert_eq!(me(ana.clone()).await["name"], "Ana");

    let renamed = server.patch("/user", Some(&ana), json!({ "name": "Ana Lima" })).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(me(ana.clone()).await["name"], "Ana Lima");

    let created = server
        .post("/organization", Some(&ana), json!({ "name": "Acme" }))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let org = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(me(ana.clone()).await["organizations"][0]["name"], "Acme");

    assert_eq!(me(bia.clone()).await["organizations"], json!([]));
    let added = server
        .post(
            "/organization/add",
            Some(&ana),
            json!({ "organizationId": org, "userId": bia_id }),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.body);
    assert_eq!(me(bia.clone()).await["organizations"][0]["role"], "member");

    let updated = server
        .patch(
            "/organization",
            Some(&ana),
            json!({ "organizationId": org, "name": "Acme Ltda" }),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(me(bia.clone()).await["organizations"][0]["name"], "Acme Ltda");

    let removed = server
        .request(
            Method::DELETE,
            &format!("/organization/{org}/member/{bia_id}"),
            Some(&ana),
            None,
        )
        .await;
    assert!(removed.status.is_success(), "{}", removed.body);
    assert_eq!(me(bia.clone()).await["organizations"], json!([]));

    let enrolled = server.post("/mfa", Some(&bia), json!({ "strategy": "TOTP" })).await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.body);
    let factor = enrolled.body["mfaId"].as_str().unwrap().to_owned();
    assert_eq!(me(bia.clone()).await["mfa"][0]["enabled"], false);
    let secret = Secret::Encoded(enrolled.body["secret"].as_str().unwrap().to_owned());
    let totp = TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_bytes().unwrap(),
        None,
        "bia".into(),
    )
    .unwrap();
    let validated = server
        .post(
            "/mfa/validate",
            Some(&bia),
            json!({ "id": factor, "code": totp.generate_current().unwrap() }),
        )
        .await;
    assert_eq!(validated.status, 200, "{}", validated.body);
    assert_eq!(me(bia.clone()).await["mfa"][0]["enabled"], true);
    let deleted = server
        .request(Method::DELETE, &format!("/mfa/{factor}"), Some(&bia), None)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(me(bia).await["mfa"], json!([]));
    server.stop().await;
}

backend_tests!(
    sign_up_then_read_own_profile,
    sign_up_rejects_bad_input_and_duplicates,
    admin_only_sign_up_needs_an_admin_token,
    update_own_profile_and_others_only_as_admin,
    only_admins_list_users_page_by_page,
    the_own_profile_shows_every_change_at_once,
);

/// On PostgreSQL each instance keeps profiles it read for at most a second: a change made
/// through one instance shows on another within 1 s, even one that had just read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis: `make test` runs it when they answer"]
async fn a_profile_changed_on_one_instance_shows_on_another_within_a_second() {
    let backend = Backend::postgres_redis().await;
    let a = backend.start().await;
    let b = backend.start().await;
    let (_, _, token) = a.new_session().await;
    let name_on = |server: &crate::common::TestServer| {
        let token = token.clone();
        let http = server.http.clone();
        let url = server.url("/user/me");
        async move {
            let answer = crate::common::answer(http.get(url).bearer_auth(token).send().await.unwrap()).await;
            answer.body["name"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(name_on(&b).await, "Test User", "B now holds a copy");
    let renamed = a.patch("/user", Some(&token), json!({ "name": "Renamed" })).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(name_on(&a).await, "Renamed", "the writing instance shows it at once");
    let started = std::time::Instant::now();
    let seen = crate::common::eventually(std::time::Duration::from_millis(1100), || async {
        name_on(&b).await == "Renamed"
    })
    .await;
    assert!(seen, "B shows the change within 1 s (took {:?})", started.elapsed());
    a.stop().await;
    b.stop().await;
}
