//! The development "delivery": each message is written to a file under `data/outbox/`, so a
//! developer on the embedded default can read the code. The log names the file, never the
//! message (codes stay out of logs).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::notification::{DeliveryError, OutgoingMessage};
use crate::ports::{Clock, MessageSender};

pub struct OutboxDirSender {
    dir: PathBuf,
    /// Names the files, in the order they were written.
    clock: Arc<dyn Clock>,
}

impl OutboxDirSender {
    pub fn new(dir: PathBuf, clock: Arc<dyn Clock>) -> Self {
        Self { dir, clock }
    }
}

#[async_trait]
impl MessageSender for OutboxDirSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| DeliveryError::transient(format!("cannot create the outbox folder: {e}")))?;
        let name = format!("{}-{}.txt", self.clock.new_id(), message.channel.as_str());
        let path = self.dir.join(name);
        let mut contents = format!("To: {}\nChannel: {}\n", message.recipient, message.channel.as_str());
        if let Some(subject) = &message.subject {
            contents.push_str(&format!("Subject: {subject}\n"));
        }
        contents.push('\n');
        contents.push_str(&message.text);
        tokio::fs::write(&path, contents)
            .await
            .map_err(|e| DeliveryError::transient(format!("cannot write to the outbox folder: {e}")))?;
        tracing::info!(channel = message.channel.as_str(), file = %path.display(), "message written to the outbox folder");
        Ok(())
    }
}
