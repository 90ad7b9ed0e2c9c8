//! OpenAPI schemas of the value types, written by hand because their rules live in
//! their constructors: each schema states the bounds the constructor enforces. The
//! schema may be looser where JSON Schema cannot say a rule (an e-mail domain needs a
//! dot), never stricter: the fuzz test sends values the schema forbids and fails if
//! one is accepted, and the tests below hold the text patterns to the constructors.

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};

/// A number in `[min, max]`.
pub fn number(min: f64, max: f64, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(prose(description)))
        .into()
}

/// A whole number in `[min, max]`.
pub fn integer(min: i64, max: i64, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
        .description(Some(prose(description)))
        .into()
}

/// A string of 1 to `max_len` characters matching `pattern`.
pub fn string(max_len: usize, pattern: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max_len))
        .pattern(Some(pattern))
        .description(Some(prose(description)))
}

pub fn with_format(builder: ObjectBuilder, format: KnownFormat) -> ObjectBuilder {
    builder.format(Some(SchemaFormat::KnownFormat(format)))
}

/// Not only white space, as Rust's `str::trim` defines it (Unicode `White_Space`;
/// JSON Schema's `\s` is a different set, so it is spelled out).
pub const NOT_BLANK: &str = concat!(
    r"[^\t\n\x0B\x0C\r \x85\xA0",
    r"\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]"
);

/// `Text`: not blank, and no control characters other than `\t` and `\n`.
pub const TEXT: &str = concat!(
    r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*",
    r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    r"[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$"
);

/// A doc comment as one paragraph: `///` lines arrive with their line breaks and
/// leading spaces.
pub fn prose(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Name;

    #[test]
    fn a_doc_comment_becomes_one_paragraph() {
        assert_eq!(
            prose(" The first line\n   and the second,\n  spaced.  "),
            "The first line and the second, spaced."
        );
    }

    /// Characters where JSON Schema's idea of white space, Rust's, and "control"
    /// part ways.
    fn awkward_characters() -> impl Iterator<Item = char> {
        (0..=0x3000_u32)
            .chain([0xFEFF, 0x180E, 0x200B, 0x1F600])
            .filter_map(char::from_u32)
    }

    #[test]
    fn the_text_pattern_accepts_exactly_what_text_accepts() {
        let pattern = regex::Regex::new(TEXT).unwrap();
        for c in awkward_characters() {
            for sample in [format!("{c}"), format!("a{c}"), format!("{c}b{c}")] {
                assert_eq!(
                    pattern.is_match(&sample),
                    Name::try_from(sample.as_str()).is_ok(),
                    "U+{:04X} in {sample:?}",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn the_not_blank_pattern_is_trims_idea_of_blank() {
        let pattern = regex::Regex::new(NOT_BLANK).unwrap();
        for c in awkward_characters() {
            let sample = format!("{c}{c}");
            assert_eq!(
                pattern.is_match(&sample),
                !sample.trim().is_empty(),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }
}
