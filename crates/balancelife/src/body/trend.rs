//! The weight trend: what a scale says once the day-to-day noise (water, salt, a
//! late meal) is smoothed away, and how fast it moves.
//!
//! **Method: an exponentially smoothed moving average, as in John Walker's *The
//! Hacker's Diet*.** Each day's trend moves a tenth of the way from yesterday's trend
//! to today's weight:
//!
//! ```text
//! trend(day) = trend(day - 1) + 0.1 × (weight(day) - trend(day - 1))
//! ```
//!
//! Why this one: it needs nothing but the weigh-ins a user already logs, it reacts
//! within a couple of weeks without following every swing (a day's weight moves by
//! a kilogram or more; fat by a few grams), older days count for less and less
//! rather than dropping out of a window at once, and it is the trend the trackers
//! people compare us with show, so our numbers match theirs.
//!
//! - The trend starts at the first weigh-in.
//! - Several weigh-ins on one day count as their mean.
//! - A day without a weigh-in between two that have one takes the straight line
//!   between them (people weigh in some days, not every day; the trend should not
//!   sag towards an old weight meanwhile), when they are at most 30 days apart.
//! - A longer gap is not bridged: nobody knows what the weight did over two months
//!   away from the scale. The trend holds through it, as it does after the last
//!   weigh-in, and starts afresh at the first weigh-in after it, as it started at
//!   the very first: an old trend is no estimate of today's weight. So a day's
//!   trend depends on no weigh-in more than 30 days after it, nor on any before a
//!   long gap, which keeps what a summary must read bounded.
//!
//! **The weekly rate** is the slope of a least-squares line through the last
//! (up to) 14 days of trend, times seven: kilograms per week, negative when losing.
//! It needs at least 7 days of trend, and weigh-ins on at least 2 of them.

use chrono::NaiveDate;

/// How far the trend moves towards each day's weight.
pub const SMOOTHING: f64 = 0.1;

/// The longest gap between two weigh-ins (in days) bridged by a straight line.
pub const BRIDGED_GAP_DAYS: i64 = 30;

/// The days of trend the weekly rate is fitted to, at most.
pub const RATE_WINDOW_DAYS: usize = 14;

/// The fewest days of trend that give a weekly rate.
pub const RATE_MIN_DAYS: usize = 7;

/// One weigh-in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeighIn {
    pub date: NaiveDate,
    pub kg: f64,
}

/// One day of the trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendDay {
    pub date: NaiveDate,
    /// The day's weight (the mean of its weigh-ins), if it had any.
    pub weight_kg: Option<f64>,
    pub trend_kg: f64,
}

/// The trend of every day from the first weigh-in to `through` (none before the
/// first weigh-in, nor when it is after `through`). `weigh_ins` in any order.
pub fn daily_trend(weigh_ins: &[WeighIn], through: NaiveDate) -> Vec<TrendDay> {
    let days = daily_means(weigh_ins);
    let Some(&(first, first_kg)) = days.first() else {
        return Vec::new();
    };
    // The first day's trend is its weight: the step below moves it by nothing.
    let mut trend = first_kg;
    let mut rows = Vec::new();
    let mut next_logged = 0;
    for date in first.iter_days().take_while(|date| *date <= through) {
        while next_logged < days.len() && days[next_logged].0 < date {
            next_logged += 1;
        }
        let logged = days.get(next_logged).filter(|(day, _)| *day == date);
        let after_long_gap = logged.is_some()
            && next_logged > 0
            && (date - days[next_logged - 1].0).num_days() > BRIDGED_GAP_DAYS;
        if let (true, Some(&(_, kg))) = (after_long_gap, logged) {
            trend = kg;
        }
        let weight = match logged {
            Some(&(_, kg)) => Some(kg),
            // Between two weigh-ins not too far apart, the straight line between them.
            None => days.get(next_logged).and_then(|&(after, after_kg)| {
                let (before, before_kg) = days[next_logged - 1];
                let span = (after - before).num_days();
                let gone = (date - before).num_days() as f64;
                (span <= BRIDGED_GAP_DAYS)
                    .then(|| before_kg + (after_kg - before_kg) * gone / span as f64)
            }),
        };
        if let Some(weight) = weight {
            trend += SMOOTHING * (weight - trend);
        }
        rows.push(TrendDay {
            date,
            weight_kg: logged.map(|&(_, kg)| kg),
            trend_kg: trend,
        });
    }
    rows
}

/// The weekly rate of change of the trend (kg per week) at the end of `trend`, as
/// the module explains; `None` with too little of it.
pub fn weekly_rate(trend: &[TrendDay]) -> Option<f64> {
    let window = &trend[trend.len().saturating_sub(RATE_WINDOW_DAYS)..];
    let weighed = window.iter().filter(|day| day.weight_kg.is_some()).count();
    if window.len() < RATE_MIN_DAYS || weighed < 2 {
        return None;
    }
    let points: Vec<(f64, f64)> = window
        .iter()
        .enumerate()
        .map(|(day, row)| (day as f64, row.trend_kg))
        .collect();
    Some(least_squares_slope(&points) * 7.0)
}

/// The slope of the least-squares line through `points` (at least two, not all at
/// one x).
fn least_squares_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|(x, _)| x).sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, y)| y).sum::<f64>() / n;
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    covariance / variance
}

/// Each day that has weigh-ins, with their mean, in date order.
fn daily_means(weigh_ins: &[WeighIn]) -> Vec<(NaiveDate, f64)> {
    let mut sorted = weigh_ins.to_vec();
    sorted.sort_by_key(|weigh_in| weigh_in.date);
    let mut days: Vec<(NaiveDate, f64, u32)> = Vec::new();
    for weigh_in in sorted {
        match days.last_mut() {
            Some((date, sum, count)) if *date == weigh_in.date => {
                *sum += weigh_in.kg;
                *count += 1;
            }
            _ => days.push((weigh_in.date, weigh_in.kg, 1)),
        }
    }
    days.into_iter()
        .map(|(date, sum, count)| (date, sum / f64::from(count)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn weigh_in(date: &str, kg: f64) -> WeighIn {
        WeighIn {
            date: day(date),
            kg,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Worked by hand:
    /// - 1 March, 80.0 kg: the trend starts there, 80.0;
    /// - 2 March, 79.0: 80.0 + 0.1 × (79.0 − 80.0) = 79.9;
    /// - 3 March, no weigh-in: the line from 79.0 to 78.6 gives 78.8, so
    ///   79.9 + 0.1 × (78.8 − 79.9) = 79.79;
    /// - 4 March, 78.4 and 78.8 (their mean 78.6): 79.79 + 0.1 × (78.6 − 79.79) = 79.671;
    /// - 5 March, nothing after: the trend holds at 79.671.
    #[test]
    fn the_trend_follows_the_hackers_diet_worked_example() {
        let weigh_ins = [
            weigh_in("2026-03-04", 78.8),
            weigh_in("2026-03-01", 80.0),
            weigh_in("2026-03-02", 79.0),
            weigh_in("2026-03-04", 78.4),
        ];
        let trend = daily_trend(&weigh_ins, day("2026-03-05"));
        let expected = [
            ("2026-03-01", Some(80.0), 80.0),
            ("2026-03-02", Some(79.0), 79.9),
            ("2026-03-03", None, 79.79),
            ("2026-03-04", Some(78.6), 79.671),
            ("2026-03-05", None, 79.671),
        ];
        assert_eq!(trend.len(), expected.len());
        for (row, (date, weight, trend_kg)) in trend.iter().zip(expected) {
            assert_eq!(row.date, day(date));
            assert_eq!(row.weight_kg.is_some(), weight.is_some(), "{date}");
            if let (Some(got), Some(want)) = (row.weight_kg, weight) {
                assert!(close(got, want), "{date}: weight {got}");
            }
            assert!(
                close(row.trend_kg, trend_kg),
                "{date}: trend {}",
                row.trend_kg
            );
        }
    }

    /// 1 March 80.0 kg, then 80.0 30 days later (bridged: every day on the line
    /// is 80.0, the trend stays 80.0), then 70.0 on 1 May, 31 days later (not
    /// bridged: the trend holds at 80.0 through 30 April, and starts afresh at
    /// 70.0 on 1 May).
    #[test]
    fn a_gap_longer_than_a_month_is_not_bridged() {
        let weigh_ins = [
            weigh_in("2026-03-01", 80.0),
            weigh_in("2026-03-31", 80.0),
            weigh_in("2026-05-01", 70.0),
        ];
        let trend = daily_trend(&weigh_ins, day("2026-05-01"));
        let on = |date: &str| trend.iter().find(|row| row.date == day(date)).unwrap();
        assert!(close(on("2026-03-15").trend_kg, 80.0));
        assert!(close(on("2026-04-30").trend_kg, 80.0));
        assert!(close(on("2026-05-01").trend_kg, 70.0));
        let bridged = daily_trend(
            &[weigh_in("2026-03-01", 80.0), weigh_in("2026-03-31", 77.0)],
            day("2026-03-31"),
        );
        // 2 March lies a thirtieth of the way to 77.0: 79.9, so the trend is 79.99.
        assert!(close(bridged[1].trend_kg, 79.99), "{}", bridged[1].trend_kg);
    }

    #[test]
    fn no_weigh_in_no_trend() {
        assert!(daily_trend(&[], day("2026-03-05")).is_empty());
        let later = [weigh_in("2026-03-09", 70.0)];
        assert!(daily_trend(&later, day("2026-03-05")).is_empty());
    }

    /// A trend falling by exactly 0.1 kg a day falls by 0.7 kg a week.
    #[test]
    fn the_weekly_rate_is_the_slope_of_the_last_fortnight_times_seven() {
        let start = day("2026-03-01");
        let falling: Vec<TrendDay> = (0..20)
            .map(|n| TrendDay {
                date: start + chrono::Days::new(n),
                weight_kg: Some(80.0),
                trend_kg: 80.0 - 0.1 * n as f64,
            })
            .collect();
        let rate = weekly_rate(&falling).unwrap();
        assert!(close(rate, -0.7), "{rate}");
        // Only the last 14 days count: a different start changes nothing.
        let mut bent = falling.clone();
        bent[0].trend_kg = 95.0;
        assert!(close(weekly_rate(&bent).unwrap(), -0.7));
    }

    #[test]
    fn a_weekly_rate_needs_a_week_of_trend_and_two_weigh_ins() {
        let start = day("2026-03-01");
        let days = |count: u64, weighed: &[u64]| -> Vec<TrendDay> {
            (0..count)
                .map(|n| TrendDay {
                    date: start + chrono::Days::new(n),
                    weight_kg: weighed.contains(&n).then_some(80.0),
                    trend_kg: 80.0,
                })
                .collect()
        };
        assert_eq!(weekly_rate(&days(6, &[0, 5])), None, "six days");
        assert_eq!(weekly_rate(&days(10, &[0])), None, "one weigh-in");
        assert_eq!(weekly_rate(&days(7, &[0, 6])), Some(0.0));
    }
}
