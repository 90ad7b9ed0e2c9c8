//! Reading the data files in `crates/balancelife/sample/`, which the binary embeds.
//! Their serde shapes use the domain value types as field types, so a value the
//! domain refuses fails while the file is read, and the message names the file and
//! shows the line (the package, dish or meal) that holds it.

use chrono::NaiveTime;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

use crate::domain::DurationSecs;

/// A data file's name and its text, embedded when the crate is built.
macro_rules! embedded {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/sample/", $name)),
        )
    };
}
pub(super) use embedded;

/// Parses an embedded file, or says what is wrong with it and where.
pub(super) fn read<T: DeserializeOwned>((name, text): (&str, &str)) -> Result<T, String> {
    toml::from_str(text).map_err(|error| format!("sample/{name}: {error}"))
}

/// Like `read`, for the data itself. A bad file is a bug in the build rather than a
/// condition to handle at run time, and the unit tests read every file first.
pub(super) fn parse<T: DeserializeOwned>(file: (&str, &str)) -> T {
    read(file).unwrap_or_else(|message| panic!("{message}"))
}

/// A wall-clock time written as people write it, "07:30". TOML's own local time
/// would need seconds and no quotes, which is easy to get wrong by hand.
pub(super) fn wall_clock<'de, D: Deserializer<'de>>(input: D) -> Result<NaiveTime, D::Error> {
    let text = String::deserialize(input)?;
    NaiveTime::parse_from_str(&text, "%H:%M")
        .map_err(|_| D::Error::custom(format!("{text:?} is not a time of day like \"07:30\"")))
}

/// A workout's length in whole minutes, as people give it, held as the domain's
/// seconds.
pub(super) fn minutes<'de, D: Deserializer<'de>>(input: D) -> Result<DurationSecs, D::Error> {
    let minutes = u32::deserialize(input)?;
    DurationSecs::try_from(i64::from(minutes) * 60).map_err(D::Error::custom)
}

/// For each file's tests: the file with `from` changed to `to` is refused, and the
/// message names the file and holds each of `expected` (the item's line, the reason).
#[cfg(test)]
pub(super) fn assert_refused<T: DeserializeOwned>(
    (name, text): (&str, &str),
    (from, to): (&str, &str),
    expected: &[&str],
) {
    assert!(
        text.contains(from),
        "sample/{name} no longer holds {from:?}"
    );
    let broken = text.replacen(from, to, 1);
    let Err(message) = read::<T>((name, &broken)) else {
        panic!("sample/{name} with {to:?} was accepted");
    };
    let file = format!("sample/{name}:");
    for part in std::iter::once(file.as_str()).chain(expected.iter().copied()) {
        assert!(message.contains(part), "{part:?} is not in: {message}");
    }
}
