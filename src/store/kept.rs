//! Rows a group-commit batch keeps to write once, before it commits (see `deferred`): a
//! list per table, which a table module holds in a thread-local `Slot` for the thread
//! running the batch.

use std::cell::RefCell;
use std::thread::LocalKey;

/// Where a table module keeps its rows for the batch running on this thread.
pub type Slot<T> = LocalKey<RefCell<KeptRows<T>>>;

/// `f` on the rows of `slot` kept on this thread.
pub fn with<T: 'static, R>(slot: &'static Slot<T>, f: impl FnOnce(&mut KeptRows<T>) -> R) -> R {
    slot.with(|k| f(&mut k.borrow_mut()))
}

/// The rows kept of one table; `None` while no batch keeps rows on this thread.
#[derive(Debug)]
pub struct KeptRows<T>(Option<Vec<T>>);

impl<T> KeptRows<T> {
    pub const fn none() -> KeptRows<T> {
        KeptRows(None)
    }

    /// From now on rows are kept (a batch began).
    pub fn start(&mut self) {
        self.0 = Some(Vec::new());
    }

    /// No more rows are kept; those still kept are dropped (the batch failed).
    pub fn stop(&mut self) {
        self.0 = None;
    }

    /// Keeps `row`; gives it back when no batch keeps rows (write it now).
    pub fn keep(&mut self, row: T) -> Option<T> {
        match &mut self.0 {
            Some(rows) => {
                rows.push(row);
                None
            }
            None => Some(row),
        }
    }

    /// How many are kept; `None` when no batch keeps rows.
    pub fn count(&self) -> Option<usize> {
        self.0.as_ref().map(Vec::len)
    }

    /// Forgets the rows kept after the first `n`.
    pub fn truncate(&mut self, n: usize) {
        if let Some(rows) = &mut self.0 {
            rows.truncate(n);
        }
    }

    /// The rows kept so far, taken out to be written (the batch goes on keeping).
    pub fn take(&mut self) -> Vec<T> {
        self.0.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub fn rows(&self) -> &[T] {
        self.0.as_deref().unwrap_or(&[])
    }
}
