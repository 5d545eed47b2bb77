//! Slows down password guessing: after too many failed logins for one username or from one
//! address within a window, further attempts are refused with 429 until the window has passed.
//! Kept in memory, per instance.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginLimiter { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt for each key, or refuses it with the seconds to wait when any key has
    /// used up its attempts in the window. Counting before the password is checked means that
    /// parallel guesses cannot all slip under the limit; `succeeded` takes a good one back.
    pub fn begin(&self, keys: &[String]) -> Result<(), u64> {
        self.begin_at(keys, Instant::now())
    }

    fn begin_at(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().expect("limiter lock");
        // Forget expired windows so the map stays small under a spray of usernames.
        failures.retain(|_, (_, first)| now.duration_since(*first) < self.window);
        let wait = keys
            .iter()
            .filter_map(|key| failures.get(key))
            .filter(|(count, _)| *count >= self.max_failures)
            .map(|(_, first)| (self.window - now.duration_since(*first)).as_secs().max(1))
            .max();
        if let Some(seconds) = wait {
            return Err(seconds);
        }
        for key in keys {
            failures.entry(key.clone()).or_insert((0, now)).0 += 1;
        }
        Ok(())
    }

    /// A successful login: the first key (the username or client) starts afresh, and the
    /// attempt no longer counts against the others (the address).
    pub fn succeeded(&self, keys: &[String]) {
        let mut failures = self.failures.lock().expect("limiter lock");
        if let Some((first, rest)) = keys.split_first() {
            failures.remove(first);
            for key in rest {
                if let Some(entry) = failures.get_mut(key) {
                    entry.0 = entry.0.saturating_sub(1);
                }
            }
        }
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
}
