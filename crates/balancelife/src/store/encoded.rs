//! A value encoded once as JSON: its bytes and their strong entity tag. The cache's
//! in-process tier keeps one beside each catalogue value it holds, so a repeated
//! read of the catalogue is a copy of a reference, not an encoding and a digest.
//! It is plain bytes and a tag, no HTTP type: the API turns it into an answer.

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Bytes,
    /// `"<first 128 bits of the SHA-256 of the bytes, in hex>"`, quotes included.
    pub tag: String,
}

impl Encoded {
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Self {
        let bytes = Bytes::from(serde_json::to_vec(value).expect("answers serialize to JSON"));
        let tag = tag_of(&bytes);
        Self { bytes, tag }
    }
}

/// The strong entity tag of `body`: the first 128 bits of its SHA-256, quoted.
pub fn tag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_a_quoted_digest_of_the_bytes() {
        let body = Encoded::encode(&serde_json::json!({"a": 1}));
        assert_eq!(&body.bytes[..], br#"{"a":1}"#);
        assert_eq!(body.tag, tag_of(br#"{"a":1}"#));
        assert_eq!(body.tag.len(), 34);
        assert_ne!(tag_of(b"{}"), tag_of(b"[]"));
    }
}
