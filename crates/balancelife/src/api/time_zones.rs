//! `GET /time-zones`: the IANA zone names a profile may name. The document describes
//! a time zone as a string (see `Timezone`'s schema); this is the list to pick from.

use std::sync::LazyLock;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Timezone;
use crate::store::Encoded;

#[derive(Serialize, ToSchema)]
pub struct TimeZones {
    /// Every name `timezone` accepts, in the order of the tz database.
    #[schema(example = json!(["Europe/Berlin", "America/New_York"]))]
    items: Vec<&'static str>,
}

/// Encoded once: the list only changes with the binary.
static ANSWER: LazyLock<Encoded> = LazyLock::new(|| {
    Encoded::encode(&TimeZones {
        items: Timezone::names().collect(),
    })
});

/// The time zones a profile may name.
#[utoipa::path(
    get,
    path = "/api/v1/time-zones",
    tag = "users",
    responses((status = 200, description = "Every IANA zone name", body = TimeZones))
)]
pub async fn list_time_zones() -> Encoded {
    ANSWER.clone()
}
