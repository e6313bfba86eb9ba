//! Organizations: create, members and roles, rename and move without cycles.

use crate::common::{Backend, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

async fn create(server: &TestServer, token: &str, name: &str, parent: Option<&str>) -> String {
    let answer = server
        .post(
            "/organization",
            Some(token),
            json!({ "name": name, "parentId": parent }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_str().unwrap().to_owned()
}

async fn add(server: &TestServer, token: &str, org: &str, user: &str, role: Option<&str>) -> crate::common::Answer {
    let mut body = json!({ "organizationId": org, "userId": user });
    if let Some(role) = role {
        body["role"] = json!(role);
    }
    server.post("/organization/add", Some(token), body).await
}

async fn move_under(server: &TestServer, token: &str, org: &str, parent: Value) -> crate::common::Answer {
    server
        .patch(
            "/organization",
            Some(token),
            json!({ "organizationId": org, "parentId": parent }),
        )
        .await
}

async fn create_read_and_list(backend: Backend) {
    let server = backend.start().await;
    let (owner_id, _, owner) = server.new_session().await;
    let (_, _, stranger) = server.new_session().await;

    let acme = create(&server, &owner, "Acme", None).await;
    let details = server.get(&format!("/organization/{acme}"), Some(&owner)).await;
    assert_eq!(details.status, 200, "{}", details.body);
    assert_eq!(details.body["id"], acme);
    assert_eq!(details.body["name"], "Acme");
    assert_eq!(details.body["parentId"], Value::Null);
    assert_eq!(
        details.body["members"],
        json!([{ "userId": owner_id, "role": "owner" }])
    );

    let labs = create(&server, &owner, "Acme Labs", Some(&acme)).await;
    assert_eq!(
        server.get(&format!("/organization/{labs}"), Some(&owner)).await.body["parentId"],
        acme
    );

    let mine = server.get("/organization", Some(&owner)).await;
    let names: Vec<&str> = mine.body["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme", "Acme Labs"]);
    let me = server.get("/user/me", Some(&owner)).await;
    assert_eq!(me.body["organizations"][0]["id"], acme);
    assert_eq!(me.body["organizations"][0]["role"], "owner");
    assert_eq!(me.body["organizations"][1]["id"], labs, "both, in creation order");
    assert_eq!(me.body["organizations"][1]["name"], "Acme Labs");
    assert_eq!(me.body["organizations"][1]["parentId"], acme);
    assert_eq!(me.body["organizations"].as_array().unwrap().len(), 2);
    assert_eq!(me.body["mfa"], json!([]));

    server
        .get(&format!("/organization/{acme}"), Some(&stranger))
        .await
        .assert_problem(403, "forbidden");
    server
        .get(&format!("/organization/{}", Uuid::now_v7()), Some(&owner))
        .await
        .assert_problem(404, "not_found");
    server
        .get("/organization/not-a-uuid", Some(&owner))
        .await
        .assert_problem(400, "validation_failed");
    server
        .get(&format!("/organization/{acme}"), None)
        .await
        .assert_problem(401, "invalid_token");
    server
        .post(
            "/organization",
            Some(&stranger),
            json!({ "name": "Sub", "parentId": acme }),
        )
        .await
        .assert_problem(403, "forbidden");
    server
        .post(
            "/organization",
            Some(&owner),
            json!({ "name": "Sub", "parentId": Uuid::now_v7() }),
        )
        .await
        .assert_problem(404, "not_found");
    server
        .post("/organization", Some(&owner), json!({ "name": "" }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .post("/organization", Some(&owner), json!({ "name": "n".repeat(129) }))
        .await
        .assert_problem(400, "validation_failed");
    server
        .post("/organization", None, json!({ "name": "Anon" }))
        .await
        .assert_problem(401, "invalid_token");
    server.stop().await;
}

async fn members_roles_and_who_may_add(backend: Backend) {
    let (server, admin) = backend.start_with_admin(|_| {}).await;
    let (_, _, owner) = server.new_session().await;
    let (member_id, _, member) = server.new_session().await;
    let (helper_id, _, helper) = server.new_session().await;
    let (late_id, _, _) = server.new_session().await;
    let org = create(&server, &owner, "Guild", None).await;

    let added = add(&server, &owner, &org, &member_id, None).await;
    assert_eq!(added.status, 200, "{}", added.body);
    Uuid::parse_str(added.body["result"].as_str().unwrap()).expect("membership id");
    assert_eq!(add(&server, &owner, &org, &helper_id, Some("admin")).await.status, 200);

    add(&server, &owner, &org, &member_id, None)
        .await
        .assert_problem(409, "already_member");
    add(&server, &member, &org, &late_id, None)
        .await
        .assert_problem(403, "forbidden");
    add(&server, &owner, &org, &late_id, Some("owner"))
        .await
        .assert_problem(400, "validation_failed");
    add(&server, &owner, &org, &Uuid::now_v7().to_string(), None)
        .await
        .assert_problem(404, "not_found");
    add(&server, &owner, &Uuid::now_v7().to_string(), &late_id, None)
        .await
        .assert_problem(404, "not_found");
    server
        .post("/organization/add", Some(&owner), json!({ "organizationId": org }))
        .await
        .assert_problem(400, "validation_failed");

    // An admin of the organization may add; so may a system administrator.
    assert_eq!(add(&server, &helper, &org, &late_id, None).await.status, 200);
    let (extra_id, _, _) = server.new_session().await;
    assert_eq!(add(&server, &admin, &org, &extra_id, None).await.status, 200);

    let details = server.get(&format!("/organization/{org}"), Some(&member)).await;
    let roles: Vec<(String, String)> = details.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["userId"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(roles.contains(&(member_id.clone(), "member".into())));
    assert!(roles.contains(&(helper_id.clone(), "admin".into())));
    assert_eq!(roles.len(), 5);
    server.stop().await;
}

async fn removing_members_keeps_an_owner(backend: Backend) {
    let server = backend.start().await;
    let (owner_id, _, owner) = server.new_session().await;
    let (helper_id, _, helper) = server.new_session().await;
    let (member_id, _, member) = server.new_session().await;
    let org = create(&server, &owner, "Club", None).await;
    add(&server, &owner, &org, &helper_id, Some("admin")).await;
    add(&server, &owner, &org, &member_id, None).await;
    let remove = |token: String, user: String| {
        let path = format!("/organization/{org}/member/{user}");
        let server = &server;
        async move { server.request(Method::DELETE, &path, Some(&token), None).await }
    };

    remove(member.clone(), helper_id.clone())
        .await
        .assert_problem(403, "forbidden");
    remove(helper.clone(), owner_id.clone())
        .await
        .assert_problem(403, "forbidden");
    remove(owner.clone(), owner_id.clone())
        .await
        .assert_problem(409, "last_owner");
    let removed = remove(helper.clone(), member_id.clone()).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    remove(helper.clone(), member_id.clone())
        .await
        .assert_problem(404, "not_found");
    server
        .get(&format!("/organization/{org}"), Some(&member))
        .await
        .assert_problem(403, "forbidden");
    server
        .request(
            Method::DELETE,
            &format!("/organization/{}/member/{member_id}", Uuid::now_v7()),
            Some(&owner),
            None,
        )
        .await
        .assert_problem(404, "not_found");
    server.stop().await;
}

async fn rename_and_move_without_cycles(backend: Backend) {
    let server = backend.start().await;
    let (_, _, owner) = server.new_session().await;
    let (_, _, stranger) = server.new_session().await;
    let root = create(&server, &owner, "Root", None).await;
    let child = create(&server, &owner, "Child", Some(&root)).await;
    let grandchild = create(&server, &owner, "Grandchild", Some(&child)).await;
    let other = create(&server, &owner, "Other", None).await;
    let foreign = create(&server, &stranger, "Foreign", None).await;

    let renamed = server
        .patch(
            "/organization",
            Some(&owner),
            json!({ "organizationId": child, "name": "Renamed" }),
        )
        .await;
    assert_eq!(renamed.body, json!({ "result": true }));
    assert_eq!(
        server.get(&format!("/organization/{child}"), Some(&owner)).await.body["name"],
        "Renamed"
    );

    move_under(&server, &owner, &root, json!(root))
        .await
        .assert_problem(409, "cyclic_relationship");
    move_under(&server, &owner, &root, json!(child))
        .await
        .assert_problem(409, "cyclic_relationship");
    move_under(&server, &owner, &root, json!(grandchild))
        .await
        .assert_problem(409, "cyclic_relationship");
    assert_eq!(
        server.get(&format!("/organization/{root}"), Some(&owner)).await.body["parentId"],
        Value::Null
    );

    // The alias route does the same; a move and a rename together are all or nothing.
    let cyclic_with_rename = server
        .patch(
            "/organization/add",
            Some(&owner),
            json!({ "organizationId": child, "name": "Never", "parentId": grandchild }),
        )
        .await;
    cyclic_with_rename.assert_problem(409, "cyclic_relationship");
    assert_eq!(
        server.get(&format!("/organization/{child}"), Some(&owner)).await.body["name"],
        "Renamed"
    );
    let moved = server
        .patch(
            "/organization/add",
            Some(&owner),
            json!({ "organizationId": grandchild, "parentId": other }),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        server
            .get(&format!("/organization/{grandchild}"), Some(&owner))
            .await
            .body["parentId"],
        other
    );
    let to_root = move_under(&server, &owner, &grandchild, Value::Null).await;
    assert_eq!(to_root.status, 200, "{}", to_root.body);
    assert_eq!(
        server
            .get(&format!("/organization/{grandchild}"), Some(&owner))
            .await
            .body["parentId"],
        Value::Null
    );

    move_under(&server, &owner, &child, json!(foreign))
        .await
        .assert_problem(403, "forbidden");
    move_under(&server, &stranger, &child, json!(foreign))
        .await
        .assert_problem(403, "forbidden");
    move_under(&server, &owner, &child, json!(Uuid::now_v7()))
        .await
        .assert_problem(404, "not_found");
    move_under(&server, &owner, &Uuid::now_v7().to_string(), json!(root))
        .await
        .assert_problem(404, "not_found");
    server
        .patch("/organization", Some(&owner), json!({ "organizationId": child }))
        .await
        .assert_problem(400, "validation_failed");
    server.stop().await;
}

async fn deep_chains_reject_a_cycle_at_every_depth(backend: Backend) {
    let server = backend.start().await;
    let (_, _, owner) = server.new_session().await;
    let mut chain = vec![create(&server, &owner, "Level 0", None).await];
    for depth in 1..=50 {
        let parent = chain.last().unwrap().clone();
        chain.push(create(&server, &owner, &format!("Level {depth}"), Some(&parent)).await);
    }
    for (depth, descendant) in chain.iter().enumerate().skip(1) {
        let answer = move_under(&server, &owner, &chain[0], json!(descendant)).await;
        assert_eq!(answer.status, 409, "depth {depth}: {}", answer.body);
    }
    // A middle link may not go under its own descendants either, but may go elsewhere.
    move_under(&server, &owner, &chain[25], json!(chain[50]))
        .await
        .assert_problem(409, "cyclic_relationship");
    let other = create(&server, &owner, "Elsewhere", None).await;
    assert_eq!(move_under(&server, &owner, &chain[25], json!(other)).await.status, 200);
    assert_eq!(
        move_under(&server, &owner, &chain[0], json!(chain[50])).await.status,
        200,
        "no longer its descendant"
    );
    server.stop().await;
}

async fn concurrent_moves_never_close_a_cycle(backend: Backend) {
    let server = backend.start().await;
    let (_, _, owner) = server.new_session().await;
    for round in 0..15 {
        let a = create(&server, &owner, &format!("A{round}"), None).await;
        let b = create(&server, &owner, &format!("B{round}"), None).await;
        let (a_under_b, b_under_a) = tokio::join!(
            move_under(&server, &owner, &a, json!(b)),
            move_under(&server, &owner, &b, json!(a))
        );
        let statuses = [a_under_b.status.as_u16(), b_under_a.status.as_u16()];
        assert!(
            statuses == [200, 409] || statuses == [409, 200],
            "round {round}: exactly one move wins, got {statuses:?} ({}, {})",
            a_under_b.body,
            b_under_a.body
        );
        let parent_of_a = server.get(&format!("/organization/{a}"), Some(&owner)).await.body["parentId"].clone();
        let parent_of_b = server.get(&format!("/organization/{b}"), Some(&owner)).await.body["parentId"].clone();
        assert!(parent_of_a.is_null() || parent_of_b.is_null(), "no cycle was stored");
    }
    server.stop().await;
}

backend_tests!(
    create_read_and_list,
    members_roles_and_who_may_add,
    removing_members_keeps_an_owner,
    rename_and_move_without_cycles,
    deep_chains_reject_a_cycle_at_every_depth,
    concurrent_moves_never_close_a_cycle,
);
