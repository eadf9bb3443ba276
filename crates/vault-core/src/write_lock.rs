//! One writer per credential at a time, in this process, first come first served. An
//! update reads the credential, computes the new one and writes it if the version did not
//! move; without this, writers of one credential would race, and all but one would read
//! and compute again. In turn they never lose: an unconditional write is never refused for
//! concurrency, and no work is wasted. (Writers in other processes are still told apart by
//! the version check.)

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use futures::channel::oneshot;

/// Per key, the writers waiting behind the one that holds it. A key is present exactly
/// while someone holds it.
#[derive(Debug)]
pub(crate) struct WriteLocks<K> {
    queues: Mutex<HashMap<K, VecDeque<oneshot::Sender<()>>>>,
}

impl<K> Default for WriteLocks<K> {
    fn default() -> Self {
        Self {
            queues: Mutex::default(),
        }
    }
}

/// Held while writing; dropping it hands the key to the next writer in line.
#[must_use]
pub(crate) struct WriteGuard<'a, K: Eq + Hash + Copy> {
    locks: &'a WriteLocks<K>,
    key: K,
}

impl<K: Eq + Hash + Copy> Drop for WriteGuard<'_, K> {
    fn drop(&mut self) {
        self.locks.release(self.key);
    }
}

/// A writer in line. Dropped before its turn came (its request was cancelled), it leaves
/// the line; dropped just as its turn came, it passes the turn on.
struct Waiting<'a, K: Eq + Hash + Copy> {
    locks: &'a WriteLocks<K>,
    key: K,
    turn: Option<oneshot::Receiver<()>>,
}

impl<K: Eq + Hash + Copy> Drop for Waiting<'_, K> {
    fn drop(&mut self) {
        if let Some(mut turn) = self.turn.take() {
            turn.close();
            if let Ok(Some(())) = turn.try_recv() {
                self.locks.release(self.key);
            }
        }
    }
}

impl<K: Eq + Hash + Copy> WriteLocks<K> {
    /// Waits until every writer of `key` that came before has finished, and takes it.
    pub(crate) async fn lock(&self, key: K) -> WriteGuard<'_, K> {
        let turn = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            match queues.get_mut(&key) {
                None => {
                    queues.insert(key, VecDeque::new());
                    None
                }
                Some(line) => {
                    let (give, take) = oneshot::channel();
                    line.push_back(give);
                    Some(take)
                }
            }
        };
        if let Some(turn) = turn {
            let mut waiting = Waiting {
                locks: self,
                key,
                turn: Some(turn),
            };
            if let Some(turn) = waiting.turn.as_mut() {
                // Never cancelled by the giver: a giver hands over or leaves the line to us.
                let _ = turn.await;
            }
            waiting.turn = None;
        }
        WriteGuard { locks: self, key }
    }

    /// Hands `key` to the first writer in line still waiting, or frees it.
    fn release(&self, key: K) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(line) = queues.get_mut(&key) else {
            return;
        };
        while let Some(next) = line.pop_front() {
            if next.send(()).is_ok() {
                return;
            }
        }
        queues.remove(&key);
    }

    /// Keys held now, for tests.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures::executor::block_on;
    use futures::future::join_all;

    use super::*;
    use crate::test_support::yield_now;

    #[test]
    fn writers_of_one_key_take_turns_in_order_and_other_keys_do_not_wait() {
        let locks = WriteLocks::default();
        let first = block_on(locks.lock(1));
        // Another key is free while 1 is held.
        drop(block_on(locks.lock(2)));
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let order = Mutex::new(Vec::new());
        let writers = (0..8).map(|n| {
            let (inside, most, order, locks) = (&inside, &most, &order, &locks);
            async move {
                let _guard = locks.lock(1).await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                order.lock().expect("lock").push(n);
                yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }
        });
        let all = join_all(writers);
        futures::pin_mut!(all);
        // Everyone queues behind the first holder, then it lets go.
        assert!(futures::executor::block_on(futures::future::poll_immediate(&mut all)).is_none());
        drop(first);
        block_on(all);
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two writers of one key at once"
        );
        assert_eq!(*order.lock().expect("lock"), (0..8).collect::<Vec<_>>());
        assert_eq!(locks.held(), 0);
    }

    #[test]
    fn a_writer_that_gives_up_in_line_passes_its_turn_on() {
        let locks = WriteLocks::default();
        let first = block_on(locks.lock(7));
        let mut quitter = Box::pin(locks.lock(7));
        assert!(block_on(futures::future::poll_immediate(&mut quitter)).is_none());
        let mut patient = Box::pin(locks.lock(7));
        assert!(block_on(futures::future::poll_immediate(&mut patient)).is_none());
        // The turn goes to the quitter, who is dropped before it sees it.
        drop(first);
        drop(quitter);
        drop(block_on(patient));
        assert_eq!(locks.held(), 0);
        drop(block_on(locks.lock(7)));
    }
}
