//! A TCP relay a test owns, between the server under test and a real service: `cut` makes
//! the service unreachable for that server only (open links dropped, new ones refused), and
//! `restore` brings it back on the same port. Outage tests use it so they never stop the
//! PostgreSQL or Twilio fake that other tests share.

use std::net::SocketAddr;

use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct FaultProxy {
    pub addr: SocketAddr,
    target: String,
    running: Mutex<Option<Relay>>,
}

struct Relay {
    accept: JoinHandle<()>,
    /// Dropping it tells every open link to close.
    _cut: watch::Sender<()>,
}

impl FaultProxy {
    /// Relays a free local port to `target` (`host:port`).
    pub async fn start(target: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            target: target.to_owned(),
            running: Mutex::new(None),
        };
        proxy.serve(listener);
        proxy
    }

    /// The outage begins: open links drop, new connections are refused.
    pub async fn cut(&self) {
        let relay = self.running.lock().take();
        if let Some(relay) = relay {
            relay.accept.abort();
            let _ = relay.accept.await;
        }
    }

    /// The outage ends: the same port accepts again.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("the proxy port is free again");
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (cut, cut_signal) = watch::channel(());
        let target = self.target.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let (target, mut cut_signal) = (target.clone(), cut_signal.clone());
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_signal.changed() => {}
                    }
                });
            }
        });
        *self.running.lock() = Some(Relay { accept, _cut: cut });
    }
}
