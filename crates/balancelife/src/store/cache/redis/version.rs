//! The Redis version the cache needs, read from `INFO server` when it connects.
//!
//! The cache's scripts declare their flags in a `#!lua` shebang (`allow-oom`, so
//! that invalidations run when Redis is full), which Redis reads from 7.0 on. An
//! older server refuses every one of them: the cache would connect, fail its first
//! script, and try again, over and over. So a server older than 7.0 is not used at
//! all, and the cache says why.

/// The first Redis release that runs the cache's scripts.
pub const OLDEST_RUNNING_THE_SCRIPTS: &str = "7.0";
const OLDEST_MAJOR: u32 = 7;

/// A Redis server's version, as `INFO server` reports it (`redis_version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    text: String,
    /// Major, minor, patch; missing parts count as 0.
    parts: [u32; 3],
}

impl ServerVersion {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = [0; 3];
        for (slot, part) in parts.iter_mut().zip(text.split('.')) {
            *slot = part.parse().ok()?;
        }
        Some(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// Whether this server runs the cache's scripts.
    pub fn runs_the_scripts(&self) -> bool {
        self.parts[0] >= OLDEST_MAJOR
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The oldest `redis_version` in `replies` (the text of `INFO server`, one per
/// node of a cluster); `None` when none says.
pub fn oldest<'a>(replies: impl IntoIterator<Item = &'a str>) -> Option<ServerVersion> {
    replies
        .into_iter()
        .flat_map(str::lines)
        .filter_map(|line| line.trim().strip_prefix("redis_version:"))
        .filter_map(ServerVersion::parse)
        .min_by_key(|version| version.parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEVEN: &str = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n";
    const SIX: &str = "# Server\r\nredis_version:6.2.14\r\nredis_mode:cluster\r\n";

    #[test]
    fn a_server_from_7_0_on_runs_the_scripts_and_an_older_one_does_not() {
        let seven = oldest([SEVEN]).unwrap();
        assert_eq!(seven.as_str(), "7.0.15");
        assert!(seven.runs_the_scripts());
        assert!(!oldest([SIX]).unwrap().runs_the_scripts());
        let ten = oldest(["redis_version:10.0.1"]).unwrap();
        assert!(ten.runs_the_scripts(), "compared as numbers, not as text");
    }

    #[test]
    fn of_a_cluster_the_oldest_node_counts() {
        let oldest = oldest([SEVEN, SIX, "redis_version:7.2.4"]).unwrap();
        assert_eq!(oldest.as_str(), "6.2.14");
    }

    #[test]
    fn a_reply_without_a_version_says_nothing() {
        assert_eq!(oldest(["# Server\r\nredis_mode:standalone\r\n"]), None);
        assert_eq!(oldest(["redis_version:seven"]), None);
    }
}
