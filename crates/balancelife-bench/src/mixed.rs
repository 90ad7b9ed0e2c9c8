//! The mixed workload: one user's busy day as the app makes it, against the running
//! service. Sixteen connections; one request in ten logs a meal somewhere in the
//! last 28 days, the rest read: the 28-day summary, one day's meal list and a
//! catalogue page, in equal shares. Three rounds back to back, so the history grows
//! under the reads: what a write costs the reads after it shows as the later
//! rounds' rate and latency against the first's.

use std::time::Duration;

use chrono::{Days, NaiveDate};

use crate::measure::Stats;
use crate::report::Row;

pub const OPERATION: &str = "10% meal writes over 28 days, 90% reads";
pub const ROUNDS: [&str; 3] = ["mixed, round 1", "mixed, round 2", "mixed, round 3"];
pub const CONNECTIONS: usize = 16;

/// The three rounds, each `round` long, against the service at `base` (process
/// `service`), as a user registered for the purpose.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    service: u32,
    round: Duration,
) -> anyhow::Result<Vec<Row>> {
    let token = register(client, base).await?;
    let today = chrono::Utc::now().date_naive();
    let script = std::env::temp_dir().join(format!(
        "balancelife-bench-mixed-{}.lua",
        std::process::id()
    ));
    std::fs::write(&script, lua_script(&token, today))?;
    let rounds: anyhow::Result<Vec<Stats>> = ROUNDS
        .iter()
        .map(|_| {
            crate::wrk::run(&crate::wrk::Load {
                url: base,
                // The script sends it with each request it makes.
                token: None,
                connections: CONNECTIONS,
                duration: round,
                script: Some(&script),
                server: service,
                expect: crate::wrk::Expect::Success,
            })
        })
        .collect();
    let _ = std::fs::remove_file(&script);
    Ok(ROUNDS
        .iter()
        .zip(rounds?)
        .map(|(tier, stats)| Row {
            group: "mixed",
            tier: (*tier).to_owned(),
            operation: OPERATION,
            clients: CONNECTIONS,
            stats,
        })
        .collect())
}

/// A new account in UTC, so that its days are the script's days.
async fn register(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let email = format!("mixed-{}@example.com", uuid::Uuid::now_v7().simple());
    let body = serde_json::json!({
        "email": email,
        "password": "a long enough password",
        "name": "Busy Day",
        "timezone": "UTC",
        "daily_kcal_target": 2200,
    });
    crate::http::session_token(client, &format!("{base}/api/v1/auth/register"), &body).await
}

/// The `wrk` script that makes each request: a fixed seed, so every run makes the
/// same sequence of requests.
fn lua_script(token: &str, today: NaiveDate) -> String {
    let days: Vec<String> = (0..28)
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .map(|day| format!("\"{day}\""))
        .collect();
    let first = today.checked_sub_days(Days::new(27)).unwrap_or(today);
    format!(
        r#"local days = {{{days}}}
local headers = {{ ["Authorization"] = "Bearer {token}", ["Content-Type"] = "application/json" }}
local summary = "/api/v1/summary?from={first}&to={today}"

function init(args)
  math.randomseed(20261206)
end

function request()
  local pick = math.random(100)
  local day = days[math.random(#days)]
  if pick <= 10 then
    local body = string.format(
      '{{"eaten_at":"%sT%02d:%02d:00Z","slot":"lunch","name":"Lentil soup","quantity":350,"unit":"g","kcal":%d,"protein_g":24,"carbs_g":58,"fat_g":9.5}}',
      day, math.random(0, 23), math.random(0, 59), 300 + math.random(300))
    return wrk.format("POST", "/api/v1/meal-entries", headers, body)
  elseif pick <= 40 then
    return wrk.format("GET", summary, headers)
  elseif pick <= 70 then
    return wrk.format("GET", "/api/v1/meal-entries?from=" .. day .. "&to=" .. day, headers)
  else
    return wrk.format("GET", "/api/v1/meal-packages?limit=20", headers)
  end
end
"#,
        days = days.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_covers_the_last_28_days_and_ends_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let script = lua_script("secret", today);
        assert!(script.contains(r#"local days = {"2026-03-01", "2026-02-28","#));
        assert!(script.contains(r#""2026-02-02"}"#), "{script}");
        assert!(script.contains("/api/v1/summary?from=2026-02-02&to=2026-03-01"));
        assert!(script.contains("Bearer secret"));
    }
}
