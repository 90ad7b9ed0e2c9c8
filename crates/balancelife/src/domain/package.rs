//! The curated catalogue: meal packages and workout packages. Users read them and
//! log from them; only seeding and administrators write them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::entry::{EntrySource, MealData, MealSlot, Nutrition, PackageRef, Unit};
use super::exercise::LoggedSet;
use super::values::{
    DurationSecs, ExerciseId, Grams, Kcal, LoadKg, Name, Notes, Quantity, Reps, Slug, Tag, Title,
    Version,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    /// The name clients use (and the cache's keys).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Beginner => "beginner",
            Self::Intermediate => "intermediate",
            Self::Advanced => "advanced",
        }
    }
}

impl std::str::FromStr for Level {
    type Err = super::values::InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "beginner" => Ok(Self::Beginner),
            "intermediate" => Ok(Self::Intermediate),
            "advanced" => Ok(Self::Advanced),
            _ => Err(super::values::InvalidValue::new(
                "must be one of beginner, intermediate, advanced",
            )),
        }
    }
}

/// Where a package is in its life. Only `published` packages are in the public
/// catalogue and can be logged from; admins see every status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageStatus {
    /// Being written: visible to admins only.
    Draft,
    Published,
    /// Withdrawn (what `DELETE` does): hidden like a draft, kept so the entries
    /// logged from it still name a package, and so its slug is never reused.
    Archived,
}

/// Which statuses a catalogue list shows: the public sees `published` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    Draft,
    #[default]
    Published,
    Archived,
    All,
}

impl StatusFilter {
    pub const EVERY: [Self; 4] = [Self::Draft, Self::Published, Self::Archived, Self::All];

    pub fn admits(self, status: PackageStatus) -> bool {
        match self {
            Self::Draft => status == PackageStatus::Draft,
            Self::Published => status == PackageStatus::Published,
            Self::Archived => status == PackageStatus::Archived,
            Self::All => true,
        }
    }

    /// The filters whose lists a package in `status` appears in.
    pub fn showing(status: PackageStatus) -> impl Iterator<Item = Self> {
        Self::EVERY
            .into_iter()
            .filter(move |filter| filter.admits(status))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
            Self::All => "all",
        }
    }
}

/// Who wrote a package and when, as every package kind keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Authorship {
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// When the package first joined the public catalogue; `None` while it never has
    /// (see `Package::may_be_deleted`). One public before this was recorded gets
    /// the time of its first revision while public, of content or status.
    pub first_published_at: Option<DateTime<Utc>>,
}

/// Energy and macronutrients of a whole day, or a day's average.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct DailyNutrition {
    pub kcal: f64,
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MealItem {
    /// 1-based day of the package.
    pub day: u16,
    pub slot: MealSlot,
    pub name: Title,
    pub portion_g: Grams,
    pub kcal: Kcal,
    pub protein_g: Grams,
    pub carbs_g: Grams,
    pub fat_g: Grams,
}

impl MealItem {
    /// The meal entry data for eating this item at `eaten_at`, nutrition copied in.
    pub fn logged_at(
        &self,
        eaten_at: chrono::DateTime<chrono::Utc>,
        package: PackageRef,
    ) -> MealData {
        MealData {
            eaten_at,
            slot: self.slot,
            name: self.name.clone(),
            quantity: Quantity::try_from(self.portion_g.get().max(Quantity::MIN))
                .expect("a portion (at most 5 kg) is a valid quantity"),
            unit: Unit::G,
            nutrition: Nutrition {
                kcal: self.kcal,
                protein_g: Some(self.protein_g),
                carbs_g: Some(self.carbs_g),
                fat_g: Some(self.fat_g),
                fiber_g: None,
                sugar_g: None,
                sodium_mg: None,
            },
            source: EntrySource::Package,
            package: Some(package),
            food: None,
            notes: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MealPackage {
    pub id: Uuid,
    pub slug: Slug,
    pub name: Name,
    pub description: Notes,
    pub tags: Vec<Tag>,
    pub diet_tags: Vec<Tag>,
    pub duration_days: u16,
    pub daily_averages: DailyNutrition,
    pub items: Vec<MealItem>,
    pub status: PackageStatus,
    /// Bumped by every change of content (not of status): entries keep the version
    /// they were logged from.
    pub version: Version,
    /// Who created it and who changed it last, and when; `null` for packages from
    /// the sample catalogue and for those stored before the catalogue was editable.
    #[serde(default)]
    #[schema(required = true)]
    pub created_by: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true)]
    pub updated_by: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
    /// When it first joined the public catalogue; `null` if it never has (then,
    /// while a draft that no entry names, it may be deleted), and for a package
    /// that was public before this was recorded until its first revision while
    /// public, of content or status, which sets it (its status says it is public).
    #[serde(default)]
    #[schema(required = true)]
    pub first_published_at: Option<DateTime<Utc>>,
}

impl MealPackage {
    /// The per-day average of the items, so the advertised numbers always agree with
    /// what applying the package logs.
    pub fn average_of(items: &[MealItem], duration_days: u16) -> DailyNutrition {
        let days = f64::from(duration_days.max(1));
        let mut total = DailyNutrition::default();
        for item in items {
            total.kcal += item.kcal.get();
            total.protein_g += item.protein_g.get();
            total.carbs_g += item.carbs_g.get();
            total.fat_g += item.fat_g.get();
        }
        let round = |v: f64| (v / days * 10.0).round() / 10.0;
        DailyNutrition {
            kcal: round(total.kcal),
            protein_g: round(total.protein_g),
            carbs_g: round(total.carbs_g),
            fat_g: round(total.fat_g),
        }
    }
}

/// How much of an exercise one set is: a count of repetitions or a hold/interval time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseDose {
    Reps(u16),
    DurationS(u32),
}

impl ExerciseDose {
    /// No repetitions, or no time: not an exercise anyone can do.
    pub fn is_empty(self) -> bool {
        matches!(self, Self::Reps(0) | Self::DurationS(0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exercise {
    pub name: Title,
    /// The exercise of the library it is, if it is one: applying the package
    /// plans its sets under this id, so they count for records and volume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise_id: Option<ExerciseId>,
    pub sets: u8,
    /// Flattened so a client sees `"reps": 12` or `"duration_s": 30` beside `sets`.
    #[serde(flatten)]
    pub dose: ExerciseDose,
    pub rest_s: u16,
}

impl Exercise {
    /// The sets it prescribes, as logged sets at `load` (planned, unless `done`);
    /// none for an exercise the library lacks, or one whose repetitions or time a
    /// logged set cannot hold (the catalogue refuses both).
    pub fn prescribed_sets(&self, load: Option<LoadKg>, done: bool) -> Vec<LoggedSet> {
        let Some(exercise_id) = &self.exercise_id else {
            return Vec::new();
        };
        let (reps, duration_s) = match self.dose {
            ExerciseDose::Reps(reps) => (Reps::try_from(i64::from(reps)).ok(), None),
            ExerciseDose::DurationS(seconds) => {
                (None, DurationSecs::try_from(i64::from(seconds)).ok())
            }
        };
        if reps.is_none() && duration_s.is_none() {
            return Vec::new();
        }
        let set = LoggedSet {
            exercise_id: exercise_id.clone(),
            reps,
            weight_kg: load.filter(|_| reps.is_some()),
            rpe: None,
            duration_s,
            distance_km: None,
            warm_up: false,
            done,
        };
        vec![set; usize::from(self.sets)]
    }
}

/// One object with `reps` and `duration_s` both optional, and the rule (exactly one
/// of them) in words: what serde's flattened enum would document as an `allOf` over a
/// `oneOf`, which code generators drop (and every workout model with it).
impl utoipa::PartialSchema for Exercise {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use super::schema::integer;
        use utoipa::openapi::schema::ObjectBuilder;
        ObjectBuilder::new()
            .property("name", <Title as utoipa::PartialSchema>::schema())
            .property(
                "exercise_id",
                <ExerciseId as utoipa::PartialSchema>::schema(),
            )
            .property("sets", integer(1, 50, "Sets of the exercise."))
            .property(
                "reps",
                integer(1, i64::from(u16::MAX), "Repetitions per set."),
            )
            .property(
                "duration_s",
                integer(
                    1,
                    i64::from(u32::MAX),
                    "Seconds per set, for holds and intervals.",
                ),
            )
            .property(
                "rest_s",
                integer(0, i64::from(u16::MAX), "Rest after each set."),
            )
            .required("name")
            .required("sets")
            .required("rest_s")
            .description(Some(
                "One exercise of a session: exactly one of `reps` and `duration_s`; \
                 `exercise_id`, if given, names an exercise of the library.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Exercise {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkoutSession {
    /// 1-based week of the package.
    pub week: u8,
    /// 1-based session day within the week.
    pub day: u8,
    pub title: Title,
    #[schema(max_items = 40)]
    pub exercises: Vec<Exercise>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkoutPackage {
    pub id: Uuid,
    pub slug: Slug,
    pub name: Name,
    pub description: Notes,
    pub level: Level,
    pub tags: Vec<Tag>,
    pub equipment: Vec<Tag>,
    pub duration_weeks: u8,
    pub sessions_per_week: u8,
    pub minutes_per_session: u16,
    pub kcal_per_session: Kcal,
    pub sessions: Vec<WorkoutSession>,
    pub status: PackageStatus,
    /// Bumped by every change of content (not of status): entries keep the version
    /// they were logged from.
    pub version: Version,
    /// Who created it and who changed it last, and when; `null` for packages from
    /// the sample catalogue and for those stored before the catalogue was editable.
    #[serde(default)]
    #[schema(required = true)]
    pub created_by: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true)]
    pub updated_by: Option<Uuid>,
    #[serde(default)]
    #[schema(required = true)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    #[schema(required = true)]
    pub updated_at: Option<DateTime<Utc>>,
    /// When it first joined the public catalogue; `null` if it never has (then,
    /// while a draft that no entry names, it may be deleted), and for a package
    /// that was public before this was recorded until its first revision while
    /// public, of content or status, which sets it (its status says it is public).
    #[serde(default)]
    #[schema(required = true)]
    pub first_published_at: Option<DateTime<Utc>>,
}

/// Which packages a catalogue list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PackageFilter {
    pub tag: Option<Tag>,
    pub level: Option<Level>,
    pub status: StatusFilter,
}

/// What the generic catalogue store needs to know about a package kind.
pub trait Package:
    Clone
    + PartialEq
    + std::fmt::Debug
    + Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Used in logs and error messages, e.g. "meal package".
    const NOUN: &'static str;

    fn id(&self) -> Uuid;
    fn slug(&self) -> &Slug;
    fn status(&self) -> PackageStatus;
    fn version(&self) -> Version;
    fn authorship(&self) -> Authorship;
    /// The package in `status`, its content untouched.
    fn set_status(&mut self, status: PackageStatus);
    /// Stamps a revision: `version`, and who made it when.
    fn stamp(&mut self, version: Version, authorship: Authorship);

    fn published(&self) -> bool {
        self.status() == PackageStatus::Published
    }
    /// Whether the package may go for good: only a draft that was never public.
    /// Anything that was public may be linked to or logged from, so it is archived
    /// instead and its slug stays taken. (The caller also checks that no entry
    /// names it: a package public before `first_published_at` was recorded and
    /// taken back to draft has `None` there.)
    fn may_be_deleted(&self) -> bool {
        self.status() == PackageStatus::Draft && self.authorship().first_published_at.is_none()
    }
    /// Every tag a `tag=` filter may match.
    fn searchable_tags(&self) -> Box<dyn Iterator<Item = &Tag> + '_>;
    fn level(&self) -> Option<Level>;

    fn matches(&self, filter: &PackageFilter) -> bool {
        filter.status.admits(self.status())
            && filter
                .tag
                .as_ref()
                .is_none_or(|tag| self.searchable_tags().any(|t| t == tag))
            && filter.level.is_none_or(|level| self.level() == Some(level))
    }
}

/// The accessors of the fields every package kind has.
macro_rules! package_fields {
    () => {
        fn id(&self) -> Uuid {
            self.id
        }
        fn slug(&self) -> &Slug {
            &self.slug
        }
        fn status(&self) -> PackageStatus {
            self.status
        }
        fn version(&self) -> Version {
            self.version
        }
        fn authorship(&self) -> Authorship {
            Authorship {
                created_by: self.created_by,
                updated_by: self.updated_by,
                created_at: self.created_at,
                updated_at: self.updated_at,
                first_published_at: self.first_published_at,
            }
        }
        fn set_status(&mut self, status: PackageStatus) {
            self.status = status;
        }
        fn stamp(&mut self, version: Version, authorship: Authorship) {
            self.version = version;
            self.created_by = authorship.created_by;
            self.updated_by = authorship.updated_by;
            self.created_at = authorship.created_at;
            self.updated_at = authorship.updated_at;
            self.first_published_at = authorship.first_published_at;
        }
    };
}

// For the other package kinds of the domain (`custom_exercise`).
pub(super) use package_fields;

impl Package for MealPackage {
    const NOUN: &'static str = "meal package";

    package_fields!();
    fn searchable_tags(&self) -> Box<dyn Iterator<Item = &Tag> + '_> {
        Box::new(self.tags.iter().chain(&self.diet_tags))
    }
    fn level(&self) -> Option<Level> {
        None
    }
}

impl Package for WorkoutPackage {
    const NOUN: &'static str = "workout package";

    package_fields!();
    fn searchable_tags(&self) -> Box<dyn Iterator<Item = &Tag> + '_> {
        Box::new(self.tags.iter())
    }
    fn level(&self) -> Option<Level> {
        Some(self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(id: Option<&str>, sets: u8, dose: ExerciseDose) -> Exercise {
        Exercise {
            name: "Squat".try_into().unwrap(),
            exercise_id: id.map(|id| id.parse().unwrap()),
            sets,
            dose,
            rest_s: 60,
        }
    }

    #[test]
    fn a_prescription_becomes_its_sets_when_a_logged_set_can_hold_it() {
        let load = LoadKg::try_from(60.0).ok();
        let squats = exercise(Some("barbell-squat"), 3, ExerciseDose::Reps(5));
        let planned = squats.prescribed_sets(load, false);
        assert_eq!(planned.len(), 3);
        assert!(planned.iter().all(|set| {
            set.reps.map(Reps::get) == Some(5) && set.weight_kg == load && !set.done
        }));
        let plank = exercise(Some("plank"), 2, ExerciseDose::DurationS(45));
        let held = plank.prescribed_sets(load, true);
        assert_eq!(held.len(), 2);
        assert!(held.iter().all(|set| {
            set.duration_s.map(DurationSecs::get) == Some(45) && set.weight_kg.is_none() && set.done
        }));
        assert!(
            exercise(None, 3, ExerciseDose::Reps(5))
                .prescribed_sets(None, true)
                .is_empty()
        );
        let too_many = exercise(Some("barbell-squat"), 3, ExerciseDose::Reps(5_000));
        assert!(too_many.prescribed_sets(None, true).is_empty());
    }

    #[test]
    fn levels_parse_from_their_names_only() {
        assert_eq!("beginner".parse::<Level>().unwrap(), Level::Beginner);
        assert_eq!(
            "intermediate".parse::<Level>().unwrap(),
            Level::Intermediate
        );
        assert_eq!("advanced".parse::<Level>().unwrap(), Level::Advanced);
        assert!("expert".parse::<Level>().is_err());
        assert!("Beginner".parse::<Level>().is_err());
    }

    fn item(day: u16, kcal: f64, protein: f64, carbs: f64, fat: f64) -> MealItem {
        MealItem {
            day,
            slot: MealSlot::Lunch,
            name: "Bowl".try_into().unwrap(),
            portion_g: Grams::try_from(300.0).unwrap(),
            kcal: Kcal::try_from(kcal).unwrap(),
            protein_g: Grams::try_from(protein).unwrap(),
            carbs_g: Grams::try_from(carbs).unwrap(),
            fat_g: Grams::try_from(fat).unwrap(),
        }
    }

    #[test]
    fn daily_averages_add_every_item_and_divide_by_the_days() {
        let items = [
            item(1, 100.0, 10.0, 30.0, 5.0),
            item(2, 301.0, 21.0, 51.0, 8.0),
        ];

        let averages = MealPackage::average_of(&items, 2);

        assert_eq!(
            averages,
            DailyNutrition {
                kcal: 200.5,
                protein_g: 15.5,
                carbs_g: 40.5,
                fat_g: 6.5,
            }
        );
        assert_eq!(
            MealPackage::average_of(&items, 0).kcal,
            401.0,
            "no days counts as one"
        );
    }

    #[test]
    fn a_package_is_published_in_that_status_only() {
        let mut package = crate::sample::workout_packages().remove(0);
        for (status, published) in [
            (PackageStatus::Draft, false),
            (PackageStatus::Archived, false),
            (PackageStatus::Published, true),
        ] {
            package.set_status(status);
            assert_eq!(Package::published(&package), published, "{status:?}");
        }
    }

    #[test]
    fn each_status_filter_admits_its_own_and_every_status_is_in_two_listings() {
        let showing = |status| StatusFilter::showing(status).collect::<Vec<_>>();
        assert_eq!(
            showing(PackageStatus::Draft),
            [StatusFilter::Draft, StatusFilter::All]
        );
        assert_eq!(
            showing(PackageStatus::Published),
            [StatusFilter::Published, StatusFilter::All]
        );
        assert_eq!(
            showing(PackageStatus::Archived),
            [StatusFilter::Archived, StatusFilter::All]
        );
        assert_eq!(StatusFilter::default(), StatusFilter::Published);
    }
}
