//! Which keys each scope holds in the in-process tier, so that flushing a scope
//! (a package written, a user deleted, a scope renewed after an outage) touches
//! what that scope holds instead of walking the whole tier. Values behind guards are
//! listed under each guard as well (a listing named after the scope and the guard),
//! so that bumping a guard touches what sits behind it.
//!
//! The tier reports removals (expiry, eviction, invalidation) after the fact, and a
//! key can be filled again in between. So each key is listed with the token of the
//! fill that installed it, and a removal unlists the key only if it names that
//! token: the late report of an older value never unlists a newer one. The index
//! may list a key the tier no longer holds (a flush then finds nothing there), but
//! never misses one it holds.
//!
//! Its lock is taken last and alone: nothing else is called while it is held.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// A scope's keys, each with the token of the fill that installed it.
type Listed = HashMap<Arc<str>, u64>;

#[derive(Default)]
pub struct ScopeIndex {
    scopes: Mutex<HashMap<Arc<str>, Listed>>,
}

impl ScopeIndex {
    /// `key` of `scope` was installed by the fill with `token`.
    pub fn add(&self, scope: &Arc<str>, key: &Arc<str>, token: u64) {
        self.scopes
            .lock()
            .entry(scope.clone())
            .or_default()
            .insert(key.clone(), token);
    }

    /// The value of `key` installed by `token` left the tier.
    pub fn forget(&self, scope: &str, key: &str, token: u64) {
        let mut scopes = self.scopes.lock();
        let Some(keys) = scopes.get_mut(scope) else {
            return;
        };
        if keys.get(key) == Some(&token) {
            keys.remove(key);
            if keys.is_empty() {
                scopes.remove(scope);
            }
        }
    }

    /// Unlists every key of `scope` and returns them, for the caller to drop.
    pub fn take(&self, scope: &str) -> Vec<Arc<str>> {
        self.scopes
            .lock()
            .remove(scope)
            .map(|keys| keys.into_keys().collect())
            .unwrap_or_default()
    }

    pub fn clear(&self) {
        self.scopes.lock().clear();
    }

    /// How many keys are listed, over every scope.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.scopes.lock().values().map(Listed::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Arc<str> {
        value.into()
    }

    #[test]
    fn a_scope_is_taken_with_its_keys_only() {
        let index = ScopeIndex::default();
        let (mine, other) = (text("u:1"), text("u:2"));
        index.add(&mine, &text("u:1|user"), 1);
        index.add(&mine, &text("u:1|page"), 2);
        for n in 0..1000 {
            index.add(&other, &text(&format!("u:2|page:{n}")), 10 + n);
        }

        let mut taken = index.take("u:1");
        taken.sort();

        assert_eq!(taken, [text("u:1|page"), text("u:1|user")]);
        assert!(index.take("u:1").is_empty());
        assert_eq!(index.len(), 1000);
    }

    #[test]
    fn the_late_removal_of_an_older_value_leaves_the_newer_listed() {
        let index = ScopeIndex::default();
        let (scope, key) = (text("u:1"), text("u:1|user"));
        index.add(&scope, &key, 1);
        index.add(&scope, &key, 2);

        index.forget("u:1", "u:1|user", 1);
        assert_eq!(index.len(), 1, "the value filled second is still listed");

        index.forget("u:1", "u:1|user", 2);
        assert_eq!(index.len(), 0);
        assert!(index.scopes.lock().is_empty(), "an empty scope goes too");
    }
}
