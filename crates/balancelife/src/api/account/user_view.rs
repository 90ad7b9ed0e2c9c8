//! A user as every account endpoint answers it: below the sign-in, session and
//! profile handlers, which all answer with one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::{
    ActivityLevel, BirthDate, Email, Goal, GramsTarget, HeightCm, KcalTarget, Name, Role, Sex,
    TargetBasis, TargetPlan, Targets, Timezone, User, WeightKg,
};

/// A plan of targets as clients see it: the day it holds from, its targets and
/// how they were chosen.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetPlanView {
    from: chrono::NaiveDate,
    #[serde(flatten)]
    targets: Targets,
    basis: TargetBasis,
}

impl From<&TargetPlan> for TargetPlanView {
    fn from(plan: &TargetPlan) -> Self {
        Self {
            from: plan.from,
            targets: plan.targets,
            basis: plan.basis,
        }
    }
}

/// A user as clients see it: everything but the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    id: Uuid,
    email: Email,
    name: Name,
    role: Role,
    timezone: Timezone,
    #[schema(required = true)]
    birth_date: Option<BirthDate>,
    #[schema(required = true)]
    sex: Option<Sex>,
    #[schema(required = true)]
    height_cm: Option<HeightCm>,
    #[schema(required = true)]
    weight_kg: Option<WeightKg>,
    #[schema(required = true)]
    activity_level: Option<ActivityLevel>,
    #[schema(required = true)]
    goal: Option<Goal>,
    #[schema(required = true)]
    daily_kcal_target: Option<KcalTarget>,
    #[schema(required = true)]
    protein_g_target: Option<GramsTarget>,
    #[schema(required = true)]
    carbs_g_target: Option<GramsTarget>,
    #[schema(required = true)]
    fat_g_target: Option<GramsTarget>,
    /// The targets over time, oldest first, each from the day it holds: what a
    /// phone judges past days by (`/targets`). Empty for targets set before
    /// targets had dates and never changed since: they hold on every day.
    target_plans: Vec<TargetPlanView>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        let p = &user.profile;
        // The targets in force today: a plan dated today or before may have
        // taken over since the profile was written.
        let targets = p.targets_on(user.timezone.local_date(chrono::Utc::now()));
        Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role,
            timezone: user.timezone,
            birth_date: p.birth_date,
            sex: p.sex,
            height_cm: p.height_cm,
            weight_kg: p.weight_kg,
            activity_level: p.activity_level,
            goal: p.goal,
            daily_kcal_target: targets.daily_kcal_target,
            protein_g_target: targets.protein_g_target,
            carbs_g_target: targets.carbs_g_target,
            fat_g_target: targets.fat_g_target,
            target_plans: p.target_plans.iter().map(TargetPlanView::from).collect(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}
