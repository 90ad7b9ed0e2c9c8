//! Users and their profile: the numbers a daily balance is measured against.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::device::Device;
use super::targets::{MOST_PLANS, TargetBasis, TargetPlan, Targets, TooManyPlans, earliest_day};
use super::values::{
    Email, GramsTarget, HeightCm, InvalidValue, KcalTarget, Name, Timezone, WeightKg,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityLevel {
    Sedentary,
    Light,
    Moderate,
    Active,
    VeryActive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    Lose,
    Maintain,
    Gain,
}

/// An Argon2id hash in PHC string form. It is kept with the user so every store can
/// persist it, but its `Debug` never shows it and the API never serializes a `User`
/// directly (see `api::account::user_view::UserView`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A date of birth: not in the future, not before 1900.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NaiveDate", into = "NaiveDate")]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    pub fn get(self) -> NaiveDate {
        self.0
    }
}

impl TryFrom<NaiveDate> for BirthDate {
    type Error = InvalidValue;

    fn try_from(value: NaiveDate) -> Result<Self, Self::Error> {
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid constant date");
        if value < earliest || value > Utc::now().date_naive() {
            return Err(InvalidValue::new(
                "must be a date between 1900-01-01 and today",
            ));
        }
        Ok(Self(value))
    }
}

impl From<BirthDate> for NaiveDate {
    fn from(value: BirthDate) -> NaiveDate {
        value.0
    }
}

impl utoipa::PartialSchema for BirthDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .description(Some("A date of birth between 1900-01-01 and today."))
            .into()
    }
}

impl ToSchema for BirthDate {}

/// The optional body and goal data a user may share.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub birth_date: Option<BirthDate>,
    pub sex: Option<Sex>,
    pub height_cm: Option<HeightCm>,
    pub weight_kg: Option<WeightKg>,
    pub activity_level: Option<ActivityLevel>,
    pub goal: Option<Goal>,
    pub daily_kcal_target: Option<KcalTarget>,
    pub protein_g_target: Option<GramsTarget>,
    pub carbs_g_target: Option<GramsTarget>,
    pub fat_g_target: Option<GramsTarget>,
    /// The targets over time, by the day each is in force from (`domain::targets`);
    /// the four fields above hold the targets in force when the profile was last
    /// written, for releases from before plans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_plans: Vec<TargetPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: Email,
    pub name: Name,
    pub password_hash: PasswordHash,
    pub role: Role,
    pub timezone: Timezone,
    pub profile: Profile,
    /// The foods (and recipes) the user starred, the latest first: their quick
    /// list, ranked first in their searches beside the foods they log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub favourite_foods: Vec<Uuid>,
    /// The devices signed in, each with its refresh tokens' state (`Device`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// Whether `other` shows the account differently (what the sync feed carries as
    /// the profile): devices, favourites and bookkeeping aside.
    pub fn profile_differs(&self, other: &User) -> bool {
        self.email != other.email
            || self.name != other.name
            || self.role != other.role
            || self.timezone != other.timezone
            || self.profile != other.profile
    }
}

impl Profile {
    /// The targets in force on `day`: the last plan from `day` or before (none
    /// before the first plan), or, without plans, the profile's own.
    pub fn targets_on(&self, day: NaiveDate) -> Targets {
        if self.target_plans.is_empty() {
            return self.legacy_targets();
        }
        self.target_plans
            .iter()
            .rev()
            .find(|plan| plan.from <= day)
            .map(|plan| plan.targets)
            .unwrap_or_default()
    }

    /// Puts `plan` in force from its day, in place of any plan from that day;
    /// later plans stay. `today` is the owner's: the profile's own fields (read by
    /// releases from before plans) take the targets in force then. Refused for a
    /// new day when the profile holds `MOST_PLANS`: no past day loses its targets.
    pub fn add_plan(&mut self, plan: TargetPlan, today: NaiveDate) -> Result<(), TooManyPlans> {
        let new_day = !self.target_plans.iter().any(|kept| kept.from == plan.from);
        if new_day && self.target_plans.len() >= MOST_PLANS {
            return Err(TooManyPlans);
        }
        if self.target_plans.is_empty() && !self.legacy_targets().is_empty() {
            // Targets from before plans were in force until now: keep them so.
            self.target_plans.push(TargetPlan {
                from: earliest_day().min(plan.from),
                targets: self.legacy_targets(),
                basis: TargetBasis::Fixed,
            });
        }
        self.target_plans.retain(|kept| kept.from != plan.from);
        let at = self
            .target_plans
            .partition_point(|kept| kept.from < plan.from);
        self.target_plans.insert(at, plan);
        let current = self.targets_on(today);
        self.daily_kcal_target = current.daily_kcal_target;
        self.protein_g_target = current.protein_g_target;
        self.carbs_g_target = current.carbs_g_target;
        self.fat_g_target = current.fat_g_target;
        Ok(())
    }

    fn legacy_targets(&self) -> Targets {
        Targets {
            daily_kcal_target: self.daily_kcal_target,
            protein_g_target: self.protein_g_target,
            carbs_g_target: self.carbs_g_target,
            fat_g_target: self.fat_g_target,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_birth_date_lies_between_1900_and_today_inclusive() {
        let today = Utc::now().date_naive();
        for accepted in [day("1900-01-01"), day("1985-06-15"), today] {
            let birth = BirthDate::try_from(accepted).unwrap();
            assert_eq!(birth.get(), accepted);
            assert_eq!(NaiveDate::from(birth), accepted);
        }
        for refused in [day("1899-12-31"), today.succ_opt().unwrap()] {
            assert!(BirthDate::try_from(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn a_password_hash_never_shows_in_debug_output() {
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        assert_eq!(format!("{hash:?}"), "PasswordHash(***)");
    }

    fn kcal(value: f64) -> Targets {
        Targets {
            daily_kcal_target: Some(KcalTarget::try_from(value).unwrap()),
            ..Targets::default()
        }
    }

    fn plan(from: &str, value: f64) -> TargetPlan {
        TargetPlan {
            from: day(from),
            targets: kcal(value),
            basis: TargetBasis::Fixed,
        }
    }

    #[test]
    fn each_day_has_the_target_of_the_last_plan_from_it_or_before() {
        let mut profile = Profile::default();
        profile
            .add_plan(plan("2026-03-10", 2000.0), day("2026-03-10"))
            .unwrap();
        profile
            .add_plan(plan("2026-03-20", 1800.0), day("2026-03-20"))
            .unwrap();
        assert!(
            profile.targets_on(day("2026-03-09")).is_empty(),
            "before any"
        );
        assert_eq!(profile.targets_on(day("2026-03-10")), kcal(2000.0));
        assert_eq!(profile.targets_on(day("2026-03-19")), kcal(2000.0));
        assert_eq!(profile.targets_on(day("2026-03-20")), kcal(1800.0));
        assert_eq!(profile.daily_kcal_target, kcal(1800.0).daily_kcal_target);

        // A second change on one day replaces that day's plan; a plan for a later
        // day waits, and the profile's own fields show today's.
        profile
            .add_plan(plan("2026-03-20", 1700.0), day("2026-03-20"))
            .unwrap();
        profile
            .add_plan(plan("2026-04-01", 2100.0), day("2026-03-20"))
            .unwrap();
        assert_eq!(profile.target_plans.len(), 3);
        assert_eq!(profile.targets_on(day("2026-03-25")), kcal(1700.0));
        assert_eq!(profile.targets_on(day("2026-04-02")), kcal(2100.0));
        assert_eq!(profile.daily_kcal_target, kcal(1700.0).daily_kcal_target);
    }

    #[test]
    fn targets_from_before_plans_hold_on_every_day_until_a_plan_dates_them() {
        let mut profile = Profile {
            daily_kcal_target: Some(KcalTarget::try_from(2200.0).unwrap()),
            ..Profile::default()
        };
        assert_eq!(profile.targets_on(day("2001-05-01")), kcal(2200.0));
        profile
            .add_plan(plan("2026-03-20", 1800.0), day("2026-03-20"))
            .unwrap();
        assert_eq!(profile.targets_on(day("2001-05-01")), kcal(2200.0));
        assert_eq!(profile.targets_on(day("2026-03-19")), kcal(2200.0));
        assert_eq!(profile.targets_on(day("2026-03-20")), kcal(1800.0));
    }
}
