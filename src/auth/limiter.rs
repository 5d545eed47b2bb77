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

    /// `Err(seconds to wait)` when any of the keys has used up its failures.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        self.check_at(keys, Instant::now())
    }

    fn check_at(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let failures = self.failures.lock().expect("limiter lock");
        let wait = keys
            .iter()
            .filter_map(|key| failures.get(key))
            .filter(|(count, first)| *count >= self.max_failures && now.duration_since(*first) < self.window)
            .map(|(_, first)| (self.window - now.duration_since(*first)).as_secs().max(1))
            .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn record_failure(&self, keys: &[String]) {
        self.record_failure_at(keys, Instant::now());
    }

    fn record_failure_at(&self, keys: &[String], now: Instant) {
        let mut failures = self.failures.lock().expect("limiter lock");
        // Forget expired windows so the map stays small under a spray of usernames.
        failures.retain(|_, (_, first)| now.duration_since(*first) < self.window);
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert((0, now));
            entry.0 += 1;
        }
    }

    pub fn record_success(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let keys = vec!["user:anna".to_owned(), "ip:127.0.0.1".to_owned()];
        let start = Instant::now();
        for _ in 0..2 {
            limiter.record_failure_at(&keys, start);
        }
        assert_eq!(limiter.check_at(&keys, start), Ok(()));
        limiter.record_failure_at(&keys, start);
        assert_eq!(limiter.check_at(&keys, start + Duration::from_secs(10)), Err(50));
        assert_eq!(limiter.check_at(&["user:bo".to_owned()], start), Ok(()));
        assert_eq!(limiter.check_at(&["ip:127.0.0.1".to_owned()], start), Err(60), "the address is limited too");
        assert_eq!(limiter.check_at(&keys, start + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn success_clears_the_username() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        let keys = vec!["user:anna".to_owned()];
        limiter.record_failure(&keys);
        assert!(limiter.check(&keys).is_err());
        limiter.record_success("user:anna");
        assert!(limiter.check(&keys).is_ok());
    }
}
