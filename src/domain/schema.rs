//! OpenAPI schemas of the value types, written by hand because their rules live in
//! their constructors: each schema states the same bounds the constructor enforces,
//! so the published contract and the validation cannot drift apart unnoticed (the
//! schema-driven fuzz test sends values from both sides of every bound).

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

/// A string of at most `max_len` characters matching `pattern`.
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

/// Text with at least one character that is not white space; surrounding white
/// space is trimmed when stored.
pub const NOT_BLANK: &str = r"\S";

/// A doc comment as one paragraph: `///` lines arrive with their line breaks and
/// leading spaces.
pub fn prose(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}
