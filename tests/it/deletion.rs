//! Account deletion (by the owner with their password, by an administrator) and export.

use crate::common::upstream::Person;
use std::time::Duration;

use crate::common::{Backend, PASSWORD};
use reqwest::Method;
use serde_json::json;
use sqlx::Row as _;

/// Every (table, column) of the schema with a row whose value contains `needle`,
/// read from the database's own catalogue so a table added later is covered too.
async fn columns_naming(pool: &sqlx::AnyPool, postgres: bool, needle: &str) -> Vec<(String, String, i64)> {
    let catalogue = if postgres {
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%'"
    } else {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite%'"
    };
    let columns = sqlx::query(catalogue).fetch_all(pool).await.unwrap();
    let mut found = Vec::new();
    for row in &columns {
        let (table, column): (String, String) = (row.get("t"), row.get("c"));
        let statement = format!("SELECT COUNT(*) FROM {table} WHERE LOWER(CAST({column} AS TEXT)) LIKE $1");
        let count: i64 = sqlx::query_scalar(&statement)
            .bind(format!("%{}%", needle.to_lowercase()))
            .fetch_one(pool)
            .await
            .unwrap();
        if count > 0 {
            found.push((table, column, count));
        }
    }
    found
}

async fn pool(backend: &Backend) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&backend.database_url).await.unwrap()
}

async fn deleting_an_account_leaves_no_row_of_it(backend: Backend) {
    let origin = "https://auth.example.com";
    let (fake, corp) = crate::common::upstream::fake_corp().await;
    let server = backend
        .start_with(|c| {
            c.public_url = origin.into();
            c.upstreams = vec![corp];
        })
        .await;
    let (id, email, token) = server.new_session().await;
    // An identity at an upstream provider, whose subject names nobody else.
    fake.signs_in(Person::new(&format!("corp-{id}"), "corp-person@example.com", true));
    crate::common::upstream::connect(&server, &token, "corp", origin).await;
    let other = server.login(&email).await;
    let totp = server.post("/mfa", Some(&token), json!({ "strategy": "TOTP" })).await;
    assert_eq!(totp.status, 201);
    let passkey = server
        .post("/mfa", Some(&token), json!({ "strategy": "PASSKEY" }))
        .await;
    let twist = crate::common::passkey::Twist::default();
    let (_, response) = crate::common::passkey::SoftPasskey::create(&passkey.body["publicKey"], origin, &twist);
    let body = json!({ "id": passkey.body["mfaId"], "credential": response });
    assert_eq!(server.post("/mfa/validate", Some(&token), body).await.status, 200);
    let organization = server
        .post("/organization", Some(&token), json!({ "name": "Solo" }))
        .await;
    assert_eq!(organization.status, 201);
    server.post("/password/forget", None, json!({ "email": email })).await;

    let export = server.get("/user/me/export", Some(&token)).await;
    assert_eq!(export.status, 200, "{}", export.body);
    assert_eq!(export.body["profile"]["email"], email.as_str());
    assert_eq!(export.body["factors"][0]["strategy"], "GOOGLE_AUTHENTICATOR");
    assert_eq!(export.body["factors"][1]["strategy"], "PASSKEY");
    assert_eq!(export.body["memberships"][0]["role"], "owner");
    assert_eq!(export.body["identities"][0]["provider"], "corp");
    assert_eq!(export.body["sessions"].as_array().unwrap().len(), 2);
    let session = export.body["sessions"][0].as_object().unwrap();
    let fields: Vec<&str> = session.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        ["createdAt", "expiresAt", "id", "ip", "lastUsedAt", "userAgent"],
        "a session as its owner sees it, nothing of the request"
    );
    assert!(export.body["exportedAt"].as_str().unwrap().ends_with('Z'));
    assert!(!export.body["events"].as_array().unwrap().is_empty());
    let text = export.body.to_string();
    let seed = totp.body["secret"].as_str().unwrap();
    for secret in [PASSWORD, seed, token.as_str(), "$argon2id"] {
        assert!(!text.contains(secret), "no secret or digest in the export");
    }

    let wrong = server
        .request(
            Method::DELETE,
            "/user/me",
            Some(&token),
            Some(json!({ "password": "not my password" })),
        )
        .await;
    wrong.assert_problem(401, "invalid_credentials");
    let deleted = server
        .request(
            Method::DELETE,
            "/user/me",
            Some(&token),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(
        server.get("/user/me", Some(&other)).await.status,
        401,
        "every session ended"
    );
    server
        .post("/login", None, json!({ "email": email, "password": PASSWORD }))
        .await
        .assert_problem(401, "invalid_credentials");

    tokio::time::sleep(Duration::from_millis(300)).await;
    let pool = pool(&backend).await;
    let postgres = backend.is_postgres();
    let by_id = columns_naming(&pool, postgres, &id).await;
    assert_eq!(
        by_id,
        [("security_events".to_owned(), "user_id".to_owned(), 1)],
        "only the user.deleted event names the account"
    );
    assert_eq!(
        columns_naming(&pool, postgres, &email).await,
        [],
        "nothing holds the address"
    );
    let organizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE name = 'Solo'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(organizations, 0, "an organization left without members goes too");
    let events = sqlx::query("SELECT type, data, ip FROM security_events WHERE user_id = $1")
        .bind(&id)
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "only the tombstone is left");
    assert_eq!(events[0].get::<String, _>("type"), "user.deleted");
    assert!(!events[0].get::<String, _>("data").contains(&email));
}

async fn the_last_owner_of_a_shared_organization_cannot_leave(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let (_, _, owner) = server.new_session().await;
    let (member, _, _) = server.new_session().await;
    let organization = server
        .post("/organization", Some(&owner), json!({ "name": "Shared" }))
        .await;
    let organization = organization.body["id"].as_str().unwrap().to_owned();
    let added = server
        .post(
            "/organization/add",
            Some(&owner),
            json!({ "organizationId": organization, "userId": member }),
        )
        .await;
    assert_eq!(added.status, 200);
    let refused = server
        .request(
            Method::DELETE,
            "/user/me",
            Some(&owner),
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    refused.assert_problem(409, "sole_owner");
    assert_eq!(
        server.get("/user/me", Some(&owner)).await.status,
        200,
        "nothing changed"
    );

    // An administrator may delete the member; a non-admin may not delete anyone else.
    let by_owner = server
        .request(Method::DELETE, &format!("/user/{member}"), Some(&owner), None)
        .await;
    by_owner.assert_problem(403, "forbidden");
    let by_admin = server
        .request(Method::DELETE, &format!("/user/{member}"), Some(&admin), None)
        .await;
    assert_eq!(by_admin.status, 204, "{}", by_admin.body);
    let details = server.get(&format!("/organization/{organization}"), Some(&owner)).await;
    assert_eq!(details.body["members"].as_array().unwrap().len(), 1);
    let unknown = server
        .request(Method::DELETE, &format!("/user/{member}"), Some(&admin), None)
        .await;
    unknown.assert_problem(404, "not_found");
    let events = server
        .get(&format!("/events?type=user.deleted&userId={member}"), Some(&admin))
        .await;
    assert_eq!(events.body["list"][0]["data"]["by"], "admin");
}

backend_tests!(
    deleting_an_account_leaves_no_row_of_it,
    the_last_owner_of_a_shared_organization_cannot_leave,
);
