//! Rate limits on the endpoints that take passwords: per client address and per
//! e-mail, so neither one machine nor a botnet aimed at one account can guess
//! passwords at speed.
//!
//! With Redis the counters are shared (one GCRA script per subject), so three
//! instances allow what one allows; while Redis does not answer, each instance
//! limits on its own, with the same quotas.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::Email;
use crate::store::RedisCache;
use crate::store::cache_keys::Scope;

pub struct AuthLimits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    per_minute: u32,
    /// Counters shared by every instance, when there is a Redis.
    shared: Option<Arc<RedisCache>>,
}

impl AuthLimits {
    /// `per_minute` attempts per e-mail; three times that per client address (a
    /// household or an office shares one).
    pub fn new(per_minute: u32, shared: Option<Arc<RedisCache>>) -> Self {
        let per_email = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        let per_address =
            NonZeroU32::new(per_minute.max(1).saturating_mul(3)).expect("at least one");
        Self {
            per_address: RateLimiter::keyed(Quota::per_minute(per_address)),
            per_email: RateLimiter::keyed(Quota::per_minute(per_email)),
            clock: DefaultClock::default(),
            per_minute: per_minute.max(1),
            shared,
        }
    }

    /// `Err(wait)` when this attempt is over a limit: by the shared counters, or by
    /// this instance's own while Redis does not answer.
    pub async fn check(&self, address: Option<IpAddr>, email: &Email) -> Result<(), Duration> {
        if let Some(shared) = &self.shared {
            // The e-mail by its digest: addresses stay out of key names.
            let mut subjects = vec![(format!("e:{}", Scope::email(email)), self.per_minute)];
            if let Some(address) = address {
                subjects.push((
                    format!("a:{}", network_of(address)),
                    self.per_minute.saturating_mul(3),
                ));
            }
            let mut answered = true;
            for (subject, limit) in &subjects {
                match shared.rate_limit(subject, *limit).await {
                    Some(Ok(())) => {}
                    Some(Err(wait)) => return Err(wait),
                    None => {
                        answered = false;
                        break;
                    }
                }
            }
            if answered {
                return Ok(());
            }
        }
        self.check_here(address, email)
    }

    /// This instance's own counters.
    fn check_here(&self, address: Option<IpAddr>, email: &Email) -> Result<(), Duration> {
        if let Some(address) = address
            && let Err(not_until) = self.per_address.check_key(&network_of(address))
        {
            return Err(not_until.wait_time_from(self.clock.now()));
        }
        if let Err(not_until) = self.per_email.check_key(&email.as_str().to_owned()) {
            return Err(not_until.wait_time_from(self.clock.now()));
        }
        // Forget keys whose limit has fully recovered, so the maps stay small.
        if rand::random::<u8>() == 0 {
            self.per_address.retain_recent();
            self.per_email.retain_recent();
        }
        Ok(())
    }
}

/// The unit one client controls: an IPv4 address, or an IPv6 /64 (one subscriber's
/// allocation, so rotating addresses within it does not escape the limit).
fn network_of(address: IpAddr) -> IpAddr {
    // On a dual-stack socket IPv4 clients arrive as `::ffff:a.b.c.d`; as IPv6 they
    // would all fall into one /64 and share one budget.
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
    }
}

/// The client's address, when the server knows it (not when the router is called
/// directly, as in tests). Proxies' forwarding headers are not trusted.
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_subscriber_is_one_client_and_ipv4_addresses_are_each_one() {
        let address = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(
            network_of(address("2001:db8:1:2:aaaa::1")),
            network_of(address("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(
            network_of(address("2001:db8:1:2::1")),
            network_of(address("2001:db8:1:3::1"))
        );
        assert_ne!(
            network_of(address("192.0.2.1")),
            network_of(address("192.0.2.2"))
        );
        assert_ne!(
            network_of(address("::ffff:192.0.2.1")),
            network_of(address("::ffff:192.0.2.2"))
        );
        assert_eq!(
            network_of(address("::ffff:192.0.2.1")),
            network_of(address("192.0.2.1"))
        );
    }

    #[test]
    fn the_address_budget_is_three_times_the_e_mail_budget() {
        let limits = AuthLimits::new(2, None);
        let address = Some("2001:db8::1".parse().unwrap());
        let same_network = Some("2001:db8::2".parse().unwrap());
        let email = |n: u8| Email::try_from(format!("user{n}@example.com")).unwrap();
        for n in 0..6 {
            let from = if n % 2 == 0 { address } else { same_network };
            assert!(limits.check_here(from, &email(n)).is_ok(), "attempt {n}");
        }
        assert!(limits.check_here(address, &email(7)).is_err());
        // Without an address, only the e-mail's own budget counts.
        assert!(limits.check_here(None, &email(8)).is_ok());
        assert!(limits.check_here(None, &email(8)).is_ok());
        assert!(limits.check_here(None, &email(8)).is_err());
    }
}
