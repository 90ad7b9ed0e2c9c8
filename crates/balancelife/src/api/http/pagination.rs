//! Opaque list cursors and the `{"items", "next_cursor"}` list body.
//!
//! A cursor is the last item's list position, serialized and base64url-encoded.
//! Clients must treat it as opaque; the server decodes it back into a typed position,
//! so a cursor can never carry anything but a position into a query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::http::error::{ApiError, ApiResult};
use crate::store::{PageLimit, PageRequest};

const MAX_CURSOR_LEN: usize = 512;

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

pub fn encode<P: Serialize>(position: &P) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("positions serialize"))
}

pub fn decode<P: DeserializeOwned>(cursor: &str) -> ApiResult<P> {
    let invalid = || ApiError::invalid("cursor", "is not a cursor this service issued");
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

/// The page a `limit` and `cursor` query pair asks for.
pub fn page_request<P: DeserializeOwned>(
    limit: Option<i64>,
    cursor: Option<&str>,
) -> ApiResult<PageRequest<P>> {
    let limit = match limit {
        None => PageLimit::DEFAULT,
        Some(value) => PageLimit::try_from(value).map_err(|e| ApiError::invalid("limit", e.0))?,
    };
    let after = cursor.map(decode).transpose()?;
    Ok(PageRequest { limit, after })
}
