//! OpenID Connect clients: registered by an administrator over the API (`/clients`) or by
//! the operator on the command line; secrets shown once and kept as digests; redirect URIs
//! checked at registration.

use std::process::Output;

use crate::common::Backend;
use reqwest::Method;
use serde_json::json;

fn grafana() -> serde_json::Value {
    json!({
        "name": "Grafana",
        "redirectUris": ["https://grafana.example.com/login/generic_oauth"],
        "postLogoutRedirectUris": ["https://grafana.example.com/login"],
    })
}

async fn an_admin_registers_lists_and_removes_clients(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;

    let created = server.post("/clients", Some(&admin), grafana()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let client_id = created.body["clientId"].as_str().unwrap().to_owned();
    let secret = created.body["clientSecret"].as_str().unwrap().to_owned();
    assert!(client_id.len() >= 16 && secret.len() >= 32);

    let spa = json!({"name": "SPA", "redirectUris": ["http://127.0.0.1:5173/cb"], "public": true});
    let public = server.post("/clients", Some(&admin), spa).await;
    assert_eq!(public.status, 201);
    assert!(
        public.body.get("clientSecret").is_none(),
        "a public client has no secret"
    );

    let listed = server.get("/clients", Some(&admin)).await;
    assert_eq!(listed.status, 200);
    let list = listed.body["list"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let grafana = list.iter().find(|c| c["clientId"] == client_id.as_str()).unwrap();
    assert_eq!(grafana["name"], "Grafana");
    assert_eq!(grafana["grants"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(grafana["public"], false);
    assert_eq!(
        grafana["postLogoutRedirectUris"],
        json!(["https://grafana.example.com/login"])
    );
    assert!(list.iter().any(|c| c["name"] == "SPA" && c["public"] == true));
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is never shown again"
    );

    let removed = server
        .request(Method::DELETE, &format!("/clients/{client_id}"), Some(&admin), None)
        .await;
    assert_eq!(removed.status, 204);
    let again = server
        .request(Method::DELETE, &format!("/clients/{client_id}"), Some(&admin), None)
        .await;
    again.assert_problem(404, "not_found");
    assert_eq!(
        server.get("/clients", Some(&admin)).await.body["list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn only_administrators_manage_clients(backend: Backend) {
    let (server, _admin) = backend.start_with_admin(|_| {}).await;
    let (_, _, user) = server.new_session().await;
    server
        .post("/clients", Some(&user), grafana())
        .await
        .assert_problem(403, "forbidden");
    server
        .get("/clients", Some(&user))
        .await
        .assert_problem(403, "forbidden");
    server
        .post("/clients", None, grafana())
        .await
        .assert_problem(401, "invalid_token");
}

async fn registrations_that_break_the_rules_are_refused(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    for (body, why) in [
        (
            json!({"name": "A", "redirectUris": ["http://app.example.com/cb"]}),
            "http off loopback",
        ),
        (
            json!({"name": "A", "redirectUris": ["https://app.example.com/cb#x"]}),
            "a fragment",
        ),
        (json!({"name": "A", "redirectUris": ["/cb"]}), "a relative URI"),
        (
            json!({"name": "A", "redirectUris": []}),
            "no redirect URI for the code grant",
        ),
        (json!({"name": "", "redirectUris": ["https://a.example/cb"]}), "no name"),
        (
            json!({"name": "A", "redirectUris": ["https://a.example/cb"], "scopes": ["root"]}),
            "an unknown scope",
        ),
        (
            json!({"name": "A", "redirectUris": ["https://a.example/cb"], "grants": ["password"]}),
            "an unknown grant",
        ),
        (
            json!({"name": "A", "public": true, "grants": ["client_credentials"]}),
            "a public client with client_credentials",
        ),
    ] {
        let answer = server.post("/clients", Some(&admin), body).await;
        assert_eq!(answer.status, 400, "{why}: {}", answer.body);
    }
    assert_eq!(server.get("/clients", Some(&admin)).await.body["list"], json!([]));
}

/// Runs `authd` with the configuration of `backend`'s servers.
fn authd(backend: &Backend, args: &[&str]) -> Output {
    let mut command = crate::common::authd_command(backend);
    command.args(args);
    command.output().expect("authd runs")
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn the_command_line_registers_lists_and_removes_clients(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let created = ok(&authd(
        &backend,
        &[
            "client",
            "create",
            "--name",
            "Gitea",
            "--redirect-uri",
            "https://git.example.com/user/oauth2/authd/callback",
            "--scope",
            "openid",
            "--scope",
            "email",
            "--first-party",
        ],
    ));
    let value = |key: &str| {
        created
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in {created}"))
            .to_owned()
    };
    let (client_id, secret) = (value("client_id"), value("client_secret"));

    let listed = server.get("/clients", Some(&admin)).await;
    let client = &listed.body["list"][0];
    assert_eq!(client["clientId"], client_id.as_str());
    assert_eq!(client["scopes"], json!(["openid", "email"]));
    assert_eq!(client["firstParty"], true);
    let printed = ok(&authd(&backend, &["client", "list"]));
    assert!(printed.contains(&client_id) && !printed.contains(&secret), "{printed}");

    let refused = authd(
        &backend,
        &[
            "client",
            "create",
            "--name",
            "X",
            "--redirect-uri",
            "http://x.example/cb",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("loopback"));

    ok(&authd(&backend, &["client", "delete", &client_id]));
    assert_eq!(server.get("/clients", Some(&admin)).await.body["list"], json!([]));
    assert!(!authd(&backend, &["client", "delete", &client_id]).status.success());
}

backend_tests!(
    an_admin_registers_lists_and_removes_clients,
    only_administrators_manage_clients,
    registrations_that_break_the_rules_are_refused,
    the_command_line_registers_lists_and_removes_clients,
);
