//! argon2id verifications per second on all cores, at the server's default cost: the
//! ceiling `make load` compares login throughput against.
//! `cargo run --release --example argon2_rate -- 5` (seconds)

use std::time::{Duration, Instant};

use authd::crypto::password::{HashCost, PasswordHasher};
use authd::ports::PasswordHashing as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hasher = PasswordHasher::new(HashCost::default(), cores, cores * 2)?;
    let hash = hasher.hash("correct horse battery staple".into()).await?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..cores)
        .map(|_| {
            let (hasher, hash) = (hasher.clone(), hash.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while Instant::now() < deadline {
                    assert!(hasher
                        .verify("correct horse battery staple".into(), Some(hash.clone()))
                        .await
                        .unwrap());
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await?;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    println!(
        "{rate:.1} argon2id verifications/s on {cores} cores ({:.1} ms each per core)",
        1000.0 * cores as f64 / rate
    );
    Ok(())
}
