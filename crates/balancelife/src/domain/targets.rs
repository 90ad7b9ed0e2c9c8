//! Energy and macro targets over time. A target is in force from a day on, until
//! the next plan's day, so each day is judged against the target it had: changing a
//! target never rewrites how past days look.
//!
//! A profile without plans (stored before plans existed, and not migrated yet)
//! keeps its targets in the profile's own fields, in force on every day. Which
//! targets hold on a day is `Profile::targets_on` (`domain::user`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::values::{GramsTarget, KcalTarget};

/// The most plans a profile keeps: past days' targets are never dropped to make
/// room, so a plan for a new day past this many is refused.
pub const MOST_PLANS: usize = 400;

/// A plan refused: the profile holds `MOST_PLANS` already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyPlans;

/// How a target was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetBasis {
    /// Typed in by the user.
    #[default]
    Fixed,
    /// Computed from the body (Mifflin–St Jeor, an activity factor, a weekly rate).
    Computed,
    /// Read off the log: logged intake and the weight trend.
    Adaptive,
}

/// A day's energy and macro targets; each may be unset.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Targets {
    #[schema(required = true)]
    pub daily_kcal_target: Option<KcalTarget>,
    #[schema(required = true)]
    pub protein_g_target: Option<GramsTarget>,
    #[schema(required = true)]
    pub carbs_g_target: Option<GramsTarget>,
    #[schema(required = true)]
    pub fat_g_target: Option<GramsTarget>,
}

impl Targets {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These targets with the changes a request names, each as a partial update
    /// has it: `None` keeps a target, `Some(None)` clears it, `Some(value)` sets it.
    pub fn changed(
        mut self,
        daily_kcal_target: Option<Option<KcalTarget>>,
        protein_g_target: Option<Option<GramsTarget>>,
        carbs_g_target: Option<Option<GramsTarget>>,
        fat_g_target: Option<Option<GramsTarget>>,
    ) -> Self {
        fn keep_or<T>(slot: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        keep_or(&mut self.daily_kcal_target, daily_kcal_target);
        keep_or(&mut self.protein_g_target, protein_g_target);
        keep_or(&mut self.carbs_g_target, carbs_g_target);
        keep_or(&mut self.fat_g_target, fat_g_target);
        self
    }
}

/// The targets in force from `from` on, until the next plan's day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetPlan {
    pub from: NaiveDate,
    #[serde(flatten)]
    pub targets: Targets,
    #[serde(default)]
    pub basis: TargetBasis,
}

/// The day a profile's targets from before plans existed are taken to have been
/// in force from, when a plan is first added and no migration has dated them: the
/// first day an entry can be on.
pub fn earliest_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}
