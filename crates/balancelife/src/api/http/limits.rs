//! Rate limits on the endpoints that take passwords: per client address, per client
//! site and e-mail, and per e-mail, so neither one machine nor a botnet aimed at one
//! account can guess passwords at speed, and no client can lock anyone else out.
//!
//! An attempt is checked against three budgets, in this order, and counted by each
//! only once the ones before it let it through:
//! - the client's address (an IPv4 address, an IPv6 /64): three times
//!   `AUTH_ATTEMPTS_PER_MINUTE`, whatever the e-mail;
//! - the client's site (an IPv4 address, an IPv6 /48, what one subscriber holds)
//!   and the e-mail: `AUTH_ATTEMPTS_PER_MINUTE`. This is what stops one client
//!   guessing one account, and it is that client's own: attempts from elsewhere
//!   never spend it, so the owner still signs in while someone hammers their
//!   address;
//! - the e-mail, from anywhere: ten times `AUTH_ATTEMPTS_PER_MINUTE`, the ceiling
//!   on guessing one account from many sites at once. One site reaches a tenth of
//!   it at most, so locking an owner out takes ten sites attacking at full speed.
//!
//! A refused attempt is not counted by the budgets after the one that refused it,
//! so an address that is over its limit spends nobody's e-mail budget.
//!
//! With shared counters (`AttemptCounter`: Redis, one GCRA script per subject),
//! three instances allow what one allows; while they do not answer, each instance
//! limits on its own, with the same quotas.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::domain::Email;
use crate::rate_limit::{AttemptCounter, LocalCounter};

/// The address budget, in e-mail budgets: a household or an office shares one.
const ADDRESS_SHARE: u32 = 3;
/// The ceiling of one e-mail from everywhere, in e-mail budgets of one site.
const EMAIL_CEILING: u32 = 10;

pub struct AuthLimits {
    per_minute: u32,
    /// Counters shared by every instance, when there are any.
    shared: Option<Arc<dyn AttemptCounter>>,
    /// This instance's own, for when there are none or they do not answer.
    local: LocalCounter,
}

impl AuthLimits {
    /// `per_minute` attempts per client site and e-mail; see the module for the
    /// others.
    pub fn new(per_minute: u32, shared: Option<Arc<dyn AttemptCounter>>) -> Self {
        Self {
            per_minute: per_minute.max(1),
            shared,
            local: LocalCounter::default(),
        }
    }

    /// `Err(wait)` when this attempt is over a limit: by the shared counters, or by
    /// this instance's own while they do not answer.
    pub async fn check(&self, address: Option<IpAddr>, email: &Email) -> Result<(), Duration> {
        if let Some(shared) = &self.shared
            && let Some(answer) = self.check_on(shared.as_ref(), address, email).await
        {
            return answer;
        }
        self.check_on(&self.local, address, email)
            .await
            .unwrap_or(Ok(()))
    }

    /// The budgets' answer on `counter`, or `None` when it did not give one.
    async fn check_on(
        &self,
        counter: &dyn AttemptCounter,
        address: Option<IpAddr>,
        email: &Email,
    ) -> Option<Result<(), Duration>> {
        // The e-mail by its digest: addresses stay out of key names.
        let email = format!("e:{}", email.digest());
        let site = address.map_or_else(|| "-".to_owned(), |a| site_of(a).to_string());
        let address = address.map(|a| (format!("a:{}", network_of(a)), ADDRESS_SHARE));
        let budgets = address.into_iter().chain([
            (format!("s:{site}:{email}"), 1),
            (format!("c:{email}"), EMAIL_CEILING),
        ]);
        for (subject, times) in budgets {
            let limit = self.per_minute.saturating_mul(times);
            match counter.count(&subject, limit).await? {
                Ok(()) => {}
                refused @ Err(_) => return Some(refused),
            }
        }
        Some(Ok(()))
    }
}

/// The unit one client controls: an IPv4 address, or an IPv6 /64 (one link's
/// addresses, so rotating addresses within it does not escape the limit).
pub fn network_of(address: IpAddr) -> IpAddr {
    prefix_of(address, 64)
}

/// What one subscriber holds: an IPv4 address, or an IPv6 /48 (the most a site is
/// given; a home gets a /56 or a /64), so that one attacker cannot pass for
/// several sites by moving between the /64s of their own allocation.
fn site_of(address: IpAddr) -> IpAddr {
    prefix_of(address, 48)
}

/// An IPv4 address, or the first `bits` of an IPv6 one.
fn prefix_of(address: IpAddr, bits: u32) -> IpAddr {
    // On a dual-stack socket IPv4 clients arrive as `::ffff:a.b.c.d`; as IPv6 they
    // would all fall into one prefix and share one budget.
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let mask = !(u128::MAX >> bits);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
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
        // A site is a /48: the /64s of one subscriber's allocation are one site.
        assert_eq!(
            site_of(address("2001:db8:1:2::1")),
            site_of(address("2001:db8:1:ff00::1"))
        );
        assert_ne!(
            site_of(address("2001:db8:1::1")),
            site_of(address("2001:db8:2::1"))
        );
    }

    #[tokio::test]
    async fn the_address_budget_is_three_times_the_e_mail_budget() {
        let limits = AuthLimits::new(2, None);
        let address = Some("2001:db8::1".parse().unwrap());
        let same_network = Some("2001:db8::2".parse().unwrap());
        let email = |n: u8| Email::try_from(format!("user{n}@example.com")).unwrap();
        for n in 0..6 {
            let from = if n % 2 == 0 { address } else { same_network };
            assert!(limits.check(from, &email(n)).await.is_ok(), "attempt {n}");
        }
        assert!(limits.check(address, &email(7)).await.is_err());
        // Without an address, only the e-mail's own budget counts.
        assert!(limits.check(None, &email(8)).await.is_ok());
        assert!(limits.check(None, &email(8)).await.is_ok());
        assert!(limits.check(None, &email(8)).await.is_err());
    }

    #[tokio::test]
    async fn an_address_over_its_limit_spends_no_e_mails_budget() {
        let limits = AuthLimits::new(2, None);
        let attacker = Some("192.0.2.66".parse().unwrap());
        let owner = Some("198.51.100.7".parse().unwrap());
        let victim = Email::try_from("victim@example.com".to_owned()).unwrap();
        let other = |n: u8| Email::try_from(format!("other{n}@example.com")).unwrap();
        for n in 0..6 {
            assert!(limits.check(attacker, &other(n)).await.is_ok());
        }
        for _ in 0..10 {
            assert!(limits.check(attacker, &victim).await.is_err());
        }
        assert!(limits.check(owner, &victim).await.is_ok());
        assert!(limits.check(owner, &victim).await.is_ok());
        assert!(
            limits.check(owner, &victim).await.is_err(),
            "the owner's own budget"
        );
    }

    #[tokio::test]
    async fn ten_sites_together_reach_an_e_mails_ceiling() {
        let limits = AuthLimits::new(2, None);
        let email = Email::try_from("popular@example.com".to_owned()).unwrap();
        let site = |n: u8| Some(IpAddr::from([192, 0, 2, n]));
        for n in 0..10 {
            for _ in 0..2 {
                assert!(limits.check(site(n), &email).await.is_ok(), "site {n}");
            }
            assert!(limits.check(site(n), &email).await.is_err(), "site {n}");
        }
        assert!(limits.check(site(10), &email).await.is_err(), "the ceiling");
    }
}
