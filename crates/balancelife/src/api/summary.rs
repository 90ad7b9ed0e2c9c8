//! `GET /summary?date=` or `?from=&to=`: the daily balance (see `crate::summary`).

use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::account::auth::AuthUser;
use super::entries::MAX_RANGE_DAYS;
use super::http::error::{ApiError, ApiResult};
use super::http::extract::ValidQuery;
use super::http::state::SharedState;
use crate::store::DateRange;
use crate::summary::{Summary, summarize};

/// Either `date`, or `from` with an optional `to`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// One calendar day.
    date: Option<NaiveDate>,
    /// The first day of a range.
    from: Option<NaiveDate>,
    /// The last day of the range, at most 366 days after `from`; defaults to `from`.
    to: Option<NaiveDate>,
}

impl SummaryQuery {
    /// One `date`, or `from` with an optional `to` (default: `from`), at most a year.
    fn range(&self) -> ApiResult<DateRange> {
        let range = match (self.date, self.from, self.to) {
            (Some(date), None, None) => DateRange::day(date),
            (Some(_), _, _) => {
                return Err(ApiError::invalid(
                    "date",
                    "give either date, or from and to",
                ));
            }
            (None, Some(from), to) => DateRange::new(from, to.unwrap_or(from))
                .map_err(|e| ApiError::invalid("to", e.0))?,
            (None, None, _) => {
                return Err(ApiError::invalid("date", "is required (or from and to)"));
            }
        };
        if range.days() > MAX_RANGE_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("the range must span at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(range)
    }
}

/// The daily energy and macro balance, one row per day, with totals.
#[utoipa::path(
    get,
    path = "/api/v1/summary",
    tag = "insights",
    security(("bearer" = [])),
    params(SummaryQuery),
    responses((status = 200, description = "The balance of each day", body = Summary))
)]
pub async fn summary(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<SummaryQuery>,
) -> ApiResult<Json<Summary>> {
    let range = query.range()?;
    Ok(Json(summarize(state.store.as_ref(), &user, range).await?))
}
