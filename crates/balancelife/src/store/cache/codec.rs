//! How values are kept in the cache: one byte that says whether the store's answer
//! was a value or "not found", then the value as MessagePack with named fields.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::{StoreError, StoreResult};

/// The first byte of a cached value: the store's answer was a value, or "not found".
const FOUND: u8 = 1;
const NOT_FOUND: u8 = 0;

/// The bytes to cache for the store's answer: `value`, or "not found" for `None`.
pub fn encode<T: Serialize>(value: Option<&T>) -> Vec<u8> {
    match value {
        Some(value) => {
            let mut bytes = vec![FOUND];
            // Named fields: robust to optional fields that are skipped when empty.
            bytes.extend(rmp_serde::to_vec_named(value).expect("domain values serialize"));
            bytes
        }
        None => vec![NOT_FOUND],
    }
}

/// What `value` weighs in L1: its encoded size, as in Redis.
pub fn encoded_len<T: Serialize>(value: &T) -> usize {
    rmp_serde::to_vec_named(value).map_or(0, |bytes| bytes.len())
}

/// `None` for bytes this version cannot read (then the store is asked).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<StoreResult<T>> {
    match bytes.split_first()? {
        (&FOUND, rest) => rmp_serde::from_slice(rest).ok().map(Ok),
        (&NOT_FOUND, []) => Some(Err(StoreError::NotFound)),
        _ => None,
    }
}
