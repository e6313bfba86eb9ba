//! Redis adapters (fred): the cache every instance shares (counters, challenges), and the pub/sub channel
//! that carries revocations between instances. Keys and the channel live under a namespace
//! so several deployments (or test runs) can share one Redis.

use std::time::Duration;

use async_trait::async_trait;
use fred::clients::SubscriberClient;
use fred::prelude::*;
use fred::types::{Builder, Expiration, ExpireOptions, SetOptions};
use tokio::sync::{broadcast, mpsc};

use crate::domain::revocation::Revocation;
use crate::ports::{Cache, RevocationBus, StoreError, StoreResult};

/// A Redis connection for commands plus one for subscriptions.
#[derive(Clone)]
pub struct RedisCache {
    client: Client,
    subscriber: SubscriberClient,
    namespace: String,
}

/// Revocation messages the subscriber buffers for its listener; past it the oldest are
/// skipped and the periodic catch-up from the database brings them.
const SUBSCRIBER_BUFFER: usize = 8192;

impl RedisCache {
    /// Connects both clients; they reconnect on their own afterwards.
    pub async fn connect(url: &str, namespace: &str) -> anyhow::Result<Self> {
        let config = Config::from_url(url)?;
        let builder = || {
            let mut builder = Builder::from_config(config.clone());
            builder
                .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
                .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
                .with_performance_config(|p| {
                    p.default_command_timeout = Duration::from_secs(2);
                    // Revocations come in bursts (a logout everywhere, a reuse detected, a
                    // password changed); fred's default of 32 buffered messages overflows
                    // within milliseconds at a few thousand per second.
                    p.broadcast_channel_capacity = SUBSCRIBER_BUFFER;
                });
            builder
        };
        let client = builder().build()?;
        let subscriber = builder().build_subscriber_client()?;
        client.init().await?;
        subscriber.init().await?;
        subscriber.manage_subscriptions();
        Ok(Self {
            client,
            subscriber,
            namespace: namespace.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    fn channel(&self) -> String {
        format!("{}:revocations", self.namespace)
    }

    pub async fn quit(&self) {
        let _ = self.subscriber.quit().await;
        let _ = self.client.quit().await;
    }
}

/// DECR that never creates a key: a counter that lapsed between the increment and the
/// give-back must not come back without an expiry.
const DECR_IF_PRESENT: &str =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0";

fn unavailable(err: fred::error::Error) -> StoreError {
    StoreError::Unavailable {
        component: "redis",
        reason: err.to_string(),
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let key = self.key(key);
        let pipeline = self.client.pipeline();
        let _: () = pipeline.incr(&key).await.map_err(unavailable)?;
        let _: () = pipeline
            .pexpire(&key, window.as_millis().max(1) as i64, Some(ExpireOptions::NX))
            .await
            .map_err(unavailable)?;
        let (count, _): (u64, i64) = pipeline.all().await.map_err(unavailable)?;
        Ok(count)
    }

    async fn counter(&self, key: &str) -> StoreResult<(u64, Duration)> {
        let key = self.key(key);
        let pipeline = self.client.pipeline();
        let _: () = pipeline.get(&key).await.map_err(unavailable)?;
        let _: () = pipeline.pttl(&key).await.map_err(unavailable)?;
        let (count, ttl_ms): (Option<u64>, i64) = pipeline.all().await.map_err(unavailable)?;
        Ok((count.unwrap_or(0), Duration::from_millis(ttl_ms.max(0) as u64)))
    }

    async fn decr(&self, key: &str) -> StoreResult<()> {
        let _: i64 = self
            .client
            .eval(DECR_IF_PRESENT, vec![self.key(key)], Vec::<String>::new())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<Option<Duration>> {
        let key = self.key(key);
        let expiry = Expiration::PX(ttl.as_millis().max(1) as i64);
        let set: Option<String> = self
            .client
            .set(&key, value, Some(expiry), Some(SetOptions::NX), false)
            .await
            .map_err(unavailable)?;
        if set.is_some() {
            return Ok(None);
        }
        let left: i64 = self.client.pttl(&key).await.map_err(unavailable)?;
        Ok(Some(Duration::from_millis(left.max(0) as u64)))
    }

    async fn ttl(&self, key: &str) -> StoreResult<Option<Duration>> {
        let left: i64 = self.client.pttl(self.key(key)).await.map_err(unavailable)?;
        Ok((left >= 0).then(|| Duration::from_millis(left as u64)))
    }

    async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        let expiry = Expiration::PX(ttl.as_millis().max(1) as i64);
        let _: () = self
            .client
            .set(self.key(key), value, Some(expiry), None, false)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        self.client.get(self.key(key)).await.map_err(unavailable)
    }

    async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        self.client.getdel(self.key(key)).await.map_err(unavailable)
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let _: i64 = self.client.del(self.key(key)).await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl RevocationBus for RedisCache {
    async fn publish(&self, revocation: &Revocation) -> StoreResult<()> {
        let payload = serde_json::to_string(revocation).expect("a revocation always serializes");
        let _: i64 = self
            .client
            .publish(self.channel(), payload)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn listen(&self, sink: mpsc::Sender<Revocation>) -> StoreResult<()> {
        let mut messages = self.subscriber.message_rx();
        let mut reconnects = self.subscriber.reconnect_rx();
        self.subscriber.subscribe(self.channel()).await.map_err(unavailable)?;
        loop {
            tokio::select! {
                _ = sink.closed() => return Ok(()),
                // The client resubscribes by itself; ending here lets the caller catch up on
                // what was published while the connection was down.
                _ = reconnects.recv() => {
                    return Err(StoreError::Unavailable {
                        component: "redis",
                        reason: "reconnected after an outage".into(),
                    })
                }
                message = messages.recv() => {
                    let message = match message {
                        Ok(message) => message,
                        // The database catch-up covers whatever a lagging receiver skipped.
                        Err(broadcast::error::RecvError::Lagged(skipped)) => {
                            tracing::warn!(skipped, "revocation subscriber lagged");
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => {
                            return Err(StoreError::Unavailable {
                                component: "redis",
                                reason: "subscriber closed".into(),
                            })
                        }
                    };
                    let Some(text) = message.value.as_string() else { continue };
                    match serde_json::from_str::<Revocation>(&text) {
                        Ok(revocation) => {
                            if sink.send(revocation).await.is_err() {
                                return Ok(());
                            }
                        }
                        Err(err) => tracing::warn!(%err, "ignoring a malformed revocation message"),
                    }
                }
            }
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        let _: String = self.client.ping(None).await.map_err(unavailable)?;
        Ok(())
    }
}
