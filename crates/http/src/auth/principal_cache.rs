//! A short-lived, per-process cache of the principal behind a session, so a
//! request does not need a database round trip to learn who is calling.
//!
//! Correctness: this replica forgets entries at once when it revokes a
//! session or changes users or units; other replicas notice within the TTL
//! (default 1 s, `CLIENTELE_AUTH_CACHE_TTL_MS`, 0 turns the cache off).
//! Nothing in it is needed by another replica.

use clientele_core::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// More sessions than this at once and the cache starts over.
const MAX_ENTRIES: usize = 50_000;

pub struct PrincipalCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Principal)>>,
}

impl PrincipalCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Principal)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached principal of `session_id`, if fresh and of `user_id`.
    pub fn get(&self, session_id: &str, user_id: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let map = self.lock();
        let (at, p) = map.get(session_id)?;
        (at.elapsed() < self.ttl && p.user_id.to_string() == user_id).then(|| p.clone())
    }

    pub fn put(&self, session_id: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(session_id, (Instant::now(), principal));
    }

    /// A session ended here.
    pub fn forget_session(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    /// Users or units changed here: who may do what may have changed.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clientele_core::{AccountKind, SessionId, UnitId, UnitPath, UserId};

    fn principal() -> Principal {
        Principal {
            user_id: UserId::new(),
            username: "u".into(),
            display_name: "U".into(),
            kind: AccountKind::Person,
            unit_id: UnitId::new(),
            unit_path: UnitPath::root(UnitId::new()),
            roles: vec![],
            clearance: "C".into(),
            clearance_rank: 1,
            session_id: SessionId::new(),
        }
    }

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c = PrincipalCache::new(Duration::from_millis(50));
        let p = principal();
        let uid = p.user_id.to_string();
        c.put("s".into(), p);
        assert!(c.get("s", &uid).is_some());
        assert!(c.get("s", "someone-else").is_none());
        c.forget_session("s");
        assert!(c.get("s", &uid).is_none());
        c.put("s".into(), principal());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.get("s", &uid).is_none());
        let off = PrincipalCache::new(Duration::ZERO);
        off.put("s".into(), principal());
        assert!(off.get("s", &uid).is_none());
    }
}
