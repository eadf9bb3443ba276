//! One writer per credential at a time, in this process. An update reads the credential,
//! computes the new one and writes it if the version did not move; without this, writers
//! of one credential would race, and all but one would read and compute again. In turn
//! they never lose: an unconditional write is never refused for concurrency, and no work is
//! wasted. (Writers in other processes are still told apart by the version check.)

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use futures::lock::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Entries kept before the ones nobody holds are swept.
const SWEEP_AT: usize = 1024;

/// An async lock per key, created on first use and gone once nobody holds or awaits it.
#[derive(Debug)]
pub(crate) struct WriteLocks<K> {
    locks: Mutex<HashMap<K, Weak<AsyncMutex<()>>>>,
}

impl<K> Default for WriteLocks<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::default(),
        }
    }
}

/// Held while writing; dropping it lets the next writer of the key in.
pub(crate) type WriteGuard = OwnedMutexGuard<()>;

impl<K: Eq + Hash + Copy> WriteLocks<K> {
    /// Waits until no one else holds `key`'s lock, and takes it.
    pub(crate) async fn lock(&self, key: K) -> WriteGuard {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            if locks.len() >= SWEEP_AT {
                locks.retain(|_, lock| lock.strong_count() > 0);
            }
            match locks.get(&key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    locks.insert(key, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }

    /// Keys with a live lock (held or awaited), for tests.
    #[cfg(test)]
    fn live(&self) -> usize {
        let locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks
            .values()
            .filter(|lock| lock.strong_count() > 0)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::executor::block_on;
    use futures::future::join_all;

    use super::*;

    /// Lets the other writers run before this one goes on.
    async fn yield_now() {
        let mut yielded = false;
        futures::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
    }

    #[test]
    fn writers_of_one_key_take_turns_and_other_keys_do_not_wait() {
        let locks = WriteLocks::default();
        let first = block_on(locks.lock(1));
        // Another key is free while 1 is held.
        drop(block_on(locks.lock(2)));
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let writers = (0..8).map(|_| async {
            let _guard = locks.lock(1).await;
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            yield_now().await;
            inside.fetch_sub(1, Ordering::SeqCst);
        });
        drop(first);
        block_on(join_all(writers));
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two writers of one key at once"
        );
    }

    #[test]
    fn a_lock_nobody_holds_is_forgotten() {
        let locks = WriteLocks::default();
        for key in 0..(SWEEP_AT + 10) {
            drop(block_on(locks.lock(key)));
        }
        assert_eq!(locks.live(), 0);
        assert!(locks.locks.lock().expect("lock").len() <= SWEEP_AT);
    }
}
