//! What every [`Cache`] adapter owes the core, written once as tests each adapter runs
//! against itself (in-process memory, the database).

use std::time::Duration;

use crate::ports::Cache;

/// Counters count within their window, give back only while they live, and start over
/// once it has passed.
pub async fn counters_count_within_their_window_and_restart_after_it(cache: &dyn Cache) {
    let window = Duration::from_millis(80);
    assert_eq!(cache.incr("k", window).await.unwrap(), 1);
    assert_eq!(cache.incr("k", window).await.unwrap(), 2);
    assert_eq!(cache.counter("k").await.unwrap().0, 2);
    cache.decr("k").await.unwrap();
    assert_eq!(cache.counter("k").await.unwrap().0, 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(cache.counter("k").await.unwrap().0, 0);
    assert_eq!(
        cache.incr("k", window).await.unwrap(),
        1,
        "a lapsed counter starts over"
    );
    cache.delete("k").await.unwrap();
    assert_eq!(cache.counter("k").await.unwrap().0, 0);
    cache.decr("absent").await.unwrap();
    assert_eq!(
        cache.ttl("absent").await.unwrap(),
        None,
        "an absent counter stays absent"
    );
}

/// A value is taken once, and a lapsed one is neither read nor taken.
pub async fn a_value_is_taken_once_and_a_lapsed_one_not_at_all(cache: &dyn Cache) {
    cache.put("v", "x", Duration::from_secs(5)).await.unwrap();
    assert_eq!(cache.get("v").await.unwrap().as_deref(), Some("x"));
    assert_eq!(cache.take("v").await.unwrap().as_deref(), Some("x"));
    assert_eq!(cache.take("v").await.unwrap(), None);
    cache.put("short", "y", Duration::from_millis(10)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(cache.get("short").await.unwrap(), None);
    assert_eq!(cache.take("short").await.unwrap(), None);
}

/// Only the first put-if-absent sets a value, until that value lapses.
pub async fn only_the_first_put_if_absent_sets_until_it_lapses(cache: &dyn Cache) {
    assert_eq!(
        cache.put_if_absent("g", "1", Duration::from_millis(60)).await.unwrap(),
        None
    );
    let left = cache.put_if_absent("g", "2", Duration::from_secs(5)).await.unwrap();
    assert!(left.is_some_and(|d| d <= Duration::from_millis(60)));
    assert_eq!(cache.get("g").await.unwrap().as_deref(), Some("1"));
    assert!(cache.ttl("g").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(
        cache.put_if_absent("g", "3", Duration::from_secs(5)).await.unwrap(),
        None
    );
    assert_eq!(cache.get("g").await.unwrap().as_deref(), Some("3"));
    cache.delete("g").await.unwrap();
    assert_eq!(cache.get("g").await.unwrap(), None);
}
