//! Slows down password guessing: after too many failed logins for one username or from one
//! address within a window, further attempts are refused with 429 until the window has passed.
//! Kept in memory, per instance.
//!
//! Its memory is bounded whatever callers send: keys are kept as 16-byte hashes, never as the
//! text (a username can be as long as the body limit), and at most `capacity` of them; when it
//! is full the oldest window is forgotten first (expired ones are always forgotten first).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Keys the limiter tracks at most. An entry costs ~40 bytes in the map and 32 in the queue
/// (~100 with the tables' slack), so the limiter stays under ~15 MB whatever arrives.
pub const MAX_TRACKED_KEYS: usize = 100_000;

/// A key as kept: the first 16 bytes of its SHA-256.
type Key = [u8; 16];

fn key_of(text: &str) -> Key {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// A short, stable name for a text in the log (the first 8 hex digits of its SHA-256), for
/// telling attempts on the same principal apart without writing down what was typed.
pub fn short_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..4].iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    capacity: usize,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    /// Attempts counted per key, and when the key's window began.
    counts: HashMap<Key, (u32, Instant)>,
    /// Keys in the order their windows began, which is the order they expire in. An item whose
    /// key has since been cleared (or begun a new window) is stale and skipped.
    order: VecDeque<(Key, Instant)>,
}

impl Table {
    /// Forgets the oldest window (or a stale item for one already gone).
    fn pop_oldest(&mut self) {
        if let Some((key, first)) = self.order.pop_front() {
            if self.counts.get(&key).is_some_and(|(_, started)| *started == first) {
                self.counts.remove(&key);
            }
        }
    }
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self::with_capacity(max_failures, window, MAX_TRACKED_KEYS)
    }

    pub fn with_capacity(max_failures: u32, window: Duration, capacity: usize) -> Self {
        LoginLimiter { max_failures, window, capacity: capacity.max(1), table: Mutex::default() }
    }

    /// Counts an attempt for each key, or refuses it with the seconds to wait when any key has
    /// used up its attempts in the window. Counting before the password is checked means that
    /// parallel guesses cannot all slip under the limit; `succeeded` takes a good one back.
    pub fn begin(&self, keys: &[String]) -> Result<(), u64> {
        self.begin_at(keys, Instant::now())
    }

    fn begin_at(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let keys: Vec<Key> = keys.iter().map(|key| key_of(key)).collect();
        let mut table = self.table.lock().expect("limiter lock");
        // Expired windows are at the front: forgetting them costs nothing per attempt.
        while table.order.front().is_some_and(|(_, first)| now.duration_since(*first) >= self.window) {
            table.pop_oldest();
        }
        let wait = keys
            .iter()
            .filter_map(|key| table.counts.get(key))
            .filter(|(count, _)| *count >= self.max_failures)
            .map(|(_, first)| self.window.saturating_sub(now.duration_since(*first)).as_secs().max(1))
            .max();
        if let Some(seconds) = wait {
            return Err(seconds);
        }
        for key in keys {
            match table.counts.entry(key) {
                Entry::Occupied(mut entry) => entry.get_mut().0 += 1,
                Entry::Vacant(entry) => {
                    entry.insert((1, now));
                    table.order.push_back((key, now));
                }
            }
        }
        while table.counts.len() > self.capacity {
            table.pop_oldest();
        }
        // Successful logins leave stale items behind; drop them before they outnumber the live.
        if table.order.len() > 2 * self.capacity {
            let Table { counts, order } = &mut *table;
            order.retain(|(key, first)| counts.get(key).is_some_and(|(_, started)| started == first));
        }
        Ok(())
    }

    /// A successful login: the first key (the username or client) starts afresh, and the
    /// attempt no longer counts against the others (the address).
    pub fn succeeded(&self, keys: &[String]) {
        let mut table = self.table.lock().expect("limiter lock");
        if let Some((first, rest)) = keys.split_first() {
            table.counts.remove(&key_of(first));
            for key in rest {
                if let Some(entry) = table.counts.get_mut(&key_of(key)) {
                    entry.0 = entry.0.saturating_sub(1);
                }
            }
        }
    }

    /// Keys tracked now, and items in the expiry queue.
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let table = self.table.lock().expect("limiter lock");
        (table.counts.len(), table.order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["principal:anna".to_owned(), "ip:127.0.0.1".to_owned()]
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.begin_at(&keys(), start), Ok(()));
        }
        assert_eq!(limiter.begin_at(&keys(), start + Duration::from_secs(10)), Err(50));
        assert_eq!(limiter.begin_at(&["principal:bo".to_owned()], start), Ok(()));
        assert_eq!(limiter.begin_at(&["ip:127.0.0.1".to_owned()], start), Err(60), "the address is limited too");
        assert_eq!(limiter.begin_at(&keys(), start + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn success_clears_the_principal_and_gives_the_address_its_attempt_back() {
        let limiter = LoginLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        limiter.begin_at(&keys(), now).unwrap();
        limiter.succeeded(&keys());
        limiter.begin_at(&keys(), now).unwrap();
        limiter.begin_at(&keys(), now).unwrap();
        assert!(limiter.begin_at(&keys(), now).is_err(), "two failures in a row use up the limit");
        limiter.succeeded(&keys());
        assert!(limiter.begin_at(&["principal:anna".to_owned()], now).is_ok());
    }

    #[test]
    fn holds_at_most_its_capacity_and_forgets_the_oldest_first() {
        let limiter = LoginLimiter::with_capacity(1, Duration::from_secs(900), 1_000);
        let start = Instant::now();
        for n in 0..5_000u64 {
            let at = start + Duration::from_millis(n);
            limiter.begin_at(&[format!("principal:user{n}"), "ip:10.0.0.1".to_owned()], at).ok();
        }
        // The address used its one attempt at once; after that every attempt was refused and
        // counted nothing more.
        assert_eq!(limiter.sizes().0, 2);
        let spray = LoginLimiter::with_capacity(1, Duration::from_secs(900), 1_000);
        for n in 0..5_000u64 {
            spray.begin_at(&[format!("principal:user{n}")], start + Duration::from_millis(n)).unwrap();
        }
        let (tracked, queued) = spray.sizes();
        assert_eq!(tracked, 1_000);
        assert!(queued <= 2_000, "{queued} items in the queue");
        let late = start + Duration::from_millis(4_999 + 5_000);
        assert_eq!(spray.begin_at(&["principal:user4999".to_owned()], late), Err(895), "the newest are kept");
        assert_eq!(spray.begin_at(&["principal:user0".to_owned()], late), Ok(()), "the oldest were forgotten");
    }

    #[test]
    fn stale_items_of_successful_logins_do_not_pile_up() {
        let limiter = LoginLimiter::with_capacity(5, Duration::from_secs(900), 100);
        let start = Instant::now();
        for n in 0..10_000u64 {
            let keys = [format!("principal:user{n}"), "ip:10.0.0.1".to_owned()];
            limiter.begin_at(&keys, start + Duration::from_millis(n)).unwrap();
            limiter.succeeded(&keys);
        }
        let (tracked, queued) = limiter.sizes();
        assert_eq!(tracked, 1, "only the address");
        assert!(queued <= 200, "{queued} items in the queue");
    }

    #[test]
    fn expired_windows_are_forgotten() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(60));
        let start = Instant::now();
        for n in 0..100 {
            limiter.begin_at(&[format!("principal:user{n}")], start).unwrap();
        }
        limiter.begin_at(&["principal:late".to_owned()], start + Duration::from_secs(60)).unwrap();
        assert_eq!(limiter.sizes(), (1, 1));
    }

    #[test]
    fn a_huge_username_is_kept_as_its_hash() {
        let limiter = LoginLimiter::new(5, Duration::from_secs(60));
        let huge = format!("principal:{}", "x".repeat(1 << 20));
        limiter.begin(std::slice::from_ref(&huge)).unwrap();
        assert_eq!(limiter.sizes(), (1, 1));
        assert_eq!(std::mem::size_of::<Key>(), 16, "what is kept of a key, however long");
        // The same text finds its entry again; another does not.
        for _ in 0..4 {
            limiter.begin(std::slice::from_ref(&huge)).unwrap();
        }
        assert!(limiter.begin(&[huge]).is_err());
        assert!(limiter.begin(&[format!("principal:{}", "x".repeat((1 << 20) - 1))]).is_ok());
        assert_eq!(short_hash("anna").len(), 8);
    }
}
