//! Sign-in flows as the service keeps them: only the browser that started one can read
//! it, and it ends at its time limit.

use authd::domain::flow::{Stage, Then, FLOW_TTL_SECS};

use super::Services;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_is_its_browsers_alone_and_ends_at_its_time() {
    let services = Services::start(|_| {}).await;
    let flows = &services.get().sign_in_flows;
    let then = Then::Page(Some("/ui/account".into()));
    let id = flows.start("browser-a", Stage::Credentials, then, true).await.unwrap();

    let flow = flows.get(&id, "browser-a").await.unwrap().expect("the flow");
    assert!(flow.fresh);
    assert_eq!(flows.get(&id, "browser-b").await.unwrap(), None, "another browser");
    assert_eq!(flows.get("not-an-id", "browser-a").await.unwrap(), None);

    services.clock.advance(FLOW_TTL_SECS - 1);
    assert!(flows.get(&id, "browser-a").await.unwrap().is_some());
    services.clock.advance(1);
    assert_eq!(flows.get(&id, "browser-a").await.unwrap(), None, "over at its time");

    let id = flows
        .start("browser-a", Stage::Consent, Then::Page(None), false)
        .await
        .unwrap();
    flows.finish(&id).await;
    assert_eq!(flows.get(&id, "browser-a").await.unwrap(), None, "finished");
    services.stop().await;
}
