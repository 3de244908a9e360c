//! Fair use of the database between organizations: list and search requests that are not
//! point lookups (the expensive reads) run at most `per_org` at a time per organization.
//! The others wait here, holding neither a pooled connection nor a blocking thread, so one
//! organization's worst filters cannot take every connection while another's lookups wait.
//! A request that waits longer than `wait` is answered 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;

pub struct OrgGate {
    per_org: usize,
    wait: Duration,
    gates: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl OrgGate {
    pub fn new(per_org: usize, wait: Duration) -> OrgGate {
        OrgGate {
            per_org: per_org.max(1),
            wait,
            gates: Mutex::default(),
        }
    }

    /// A permit for one expensive read of `org`, released when dropped.
    pub async fn enter(&self, org: &str) -> Result<OwnedSemaphorePermit, Error> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            gates
                .entry(org.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_org)))
                .clone()
        };
        match tokio::time::timeout(self.wait, gate.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Error::TooManyRequests(format!(
                "this organization already runs {} list or search requests; send this one \
                 again shortly",
                self.per_org
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_organization_waits_for_its_own_turns_only() {
        let gate = OrgGate::new(1, Duration::from_millis(50));
        let held = gate.enter("a").await.expect("first turn");
        assert!(matches!(
            gate.enter("a").await,
            Err(Error::TooManyRequests(_))
        ));
        assert!(
            gate.enter("b").await.is_ok(),
            "another organization is not held up"
        );
        drop(held);
        assert!(gate.enter("a").await.is_ok());
    }
}
