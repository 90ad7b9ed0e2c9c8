//! The scopes an invalidation may not have reached (Redis did not confirm it):
//! nothing cached in them may be served by this process until their generation has
//! been bumped, which voids what every process cached in them.
//!
//! Bounded: past `RENEW_AT_MOST` scopes (a long outage under many writers) the set
//! stops growing and every scope counts as stale instead, until a new namespace
//! epoch (a whole-cache flush, one round trip) has voided them all at once. Each
//! entry counts its losses, so a renewal clears it only if no new loss came while
//! the renewal was under way (that loss may postdate the bump).

use std::collections::HashMap;

use crate::store::cache::keys::Scope;

/// Past this many scopes awaiting renewal, the whole cache is flushed instead:
/// every process refills it from the store, which beats renewing (and every
/// process flushing) that many scopes one by one.
pub const RENEW_AT_MOST: usize = 10_000;

#[derive(Default)]
pub struct StaleScopes {
    scopes: HashMap<Scope, u64>,
    /// Losses past the bound: while non-zero every scope counts as stale.
    everything: u64,
}

/// What a renewal round is to do, with the losses it saw.
#[derive(Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Bump these scopes' generations.
    Scopes(Vec<(Scope, u64)>),
    /// Flush the whole cache (a new namespace epoch): it renews every scope.
    Everything {
        losses: u64,
        scopes: Vec<(Scope, u64)>,
    },
}

impl StaleScopes {
    /// One more loss in `scope`; returns whether nothing was stale before.
    pub fn mark(&mut self, scope: Scope) -> bool {
        let was_clear = self.is_empty();
        if let Some(losses) = self.scopes.get_mut(&scope) {
            *losses += 1;
        } else if self.scopes.len() < RENEW_AT_MOST {
            self.scopes.insert(scope, 1);
        } else {
            self.everything += 1;
        }
        was_clear
    }

    pub fn contains(&self, scope: &Scope) -> bool {
        self.everything > 0 || self.scopes.contains_key(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.everything == 0 && self.scopes.is_empty()
    }

    /// How many scopes await renewal (`None`: all of them).
    pub fn count(&self) -> Option<usize> {
        (self.everything == 0).then_some(self.scopes.len())
    }

    /// What the next renewal round should do.
    pub fn renewal(&self) -> Renewal {
        let scopes = self
            .scopes
            .iter()
            .map(|(scope, losses)| (scope.clone(), *losses))
            .collect();
        match self.everything {
            0 => Renewal::Scopes(scopes),
            losses => Renewal::Everything { losses, scopes },
        }
    }

    /// `scope` was renewed after its `losses`-th loss.
    pub fn renewed(&mut self, scope: &Scope, losses: u64) {
        if self.scopes.get(scope) == Some(&losses) {
            self.scopes.remove(scope);
        }
    }

    /// The whole cache was flushed after `renewal`'s losses.
    pub fn flushed(&mut self, renewal: &Renewal) {
        let (losses, scopes) = match renewal {
            Renewal::Everything { losses, scopes } => (*losses, scopes),
            Renewal::Scopes(scopes) => (0, scopes),
        };
        if self.everything == losses {
            self.everything = 0;
        }
        for (scope, losses) in scopes {
            self.renewed(scope, *losses);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user(n: usize) -> Scope {
        Scope::user(Uuid::from_u128(n as u128))
    }

    #[test]
    fn a_loss_during_a_renewal_keeps_the_scope_stale() {
        let mut stale = StaleScopes::default();
        assert!(stale.mark(user(1)));
        let Renewal::Scopes(seen) = stale.renewal() else {
            panic!("a scope by scope renewal");
        };
        assert!(!stale.mark(user(1)), "lost again meanwhile");
        for (scope, losses) in &seen {
            stale.renewed(scope, *losses);
        }
        assert!(stale.contains(&user(1)));
        assert!(!stale.contains(&user(2)));
    }

    #[test]
    fn past_the_bound_everything_is_stale_until_the_whole_cache_is_flushed() {
        let mut stale = StaleScopes::default();
        for n in 0..=RENEW_AT_MOST {
            stale.mark(user(n));
        }
        assert_eq!(stale.scopes.len(), RENEW_AT_MOST, "the set stops growing");
        assert_eq!(stale.count(), None);
        assert!(stale.contains(&user(RENEW_AT_MOST + 7)), "any scope at all");
        let renewal = stale.renewal();
        assert!(matches!(renewal, Renewal::Everything { losses: 1, .. }));

        stale.flushed(&renewal);

        assert!(stale.is_empty());
    }

    #[test]
    fn a_loss_past_the_bound_during_the_flush_asks_for_another() {
        let mut stale = StaleScopes::default();
        for n in 0..=RENEW_AT_MOST {
            stale.mark(user(n));
        }
        let renewal = stale.renewal();
        stale.mark(user(RENEW_AT_MOST + 1));
        stale.flushed(&renewal);
        assert!(matches!(
            stale.renewal(),
            Renewal::Everything { losses: 2, .. }
        ));
    }
}
