//! An exercise an administrator adds to the bundled library: described as the
//! library's are, and kept in the catalogue with a package's life.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::exercise::{
    Equipment, ExerciseCategory, ExerciseLevel, Force, LibraryExercise, Mechanic, Muscle,
};
use super::package::{Authorship, Level, Package, PackageStatus, package_fields};
use super::values::{ExerciseId, Name, Notes, Slug, Tag, Version};

/// An exercise an administrator added to the library, kept in the catalogue beside
/// the packages, with their life: a draft until published, archived rather than
/// deleted once it has been public. Its id is a UUID, so it never clashes with a
/// bundled exercise's slug, and it stays its id whatever its slug becomes; a set
/// names it by that id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomExercise {
    pub id: Uuid,
    pub slug: Slug,
    pub name: Name,
    pub category: ExerciseCategory,
    pub level: ExerciseLevel,
    #[schema(required = true)]
    pub equipment: Option<Equipment>,
    #[schema(required = true)]
    pub force: Option<Force>,
    #[schema(required = true)]
    pub mechanic: Option<Mechanic>,
    pub primary_muscles: Vec<Muscle>,
    pub secondary_muscles: Vec<Muscle>,
    pub instructions: Vec<Notes>,
    pub status: PackageStatus,
    /// Bumped by every change of content (not of status).
    pub version: Version,
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
    /// When it was first published; `null` while it never has been (then it may
    /// be deleted, since no set or package can name it yet).
    #[serde(default)]
    #[schema(required = true)]
    pub first_published_at: Option<DateTime<Utc>>,
}

impl CustomExercise {
    /// The id a logged set or a package names it by.
    pub fn exercise_id(&self) -> ExerciseId {
        ExerciseId::of_custom(self.id)
    }

    /// Whether sets and packages may name it: once published, always, so that a
    /// session logged with it can still be edited after it was withdrawn.
    pub fn may_be_named(&self) -> bool {
        self.status == PackageStatus::Published || self.first_published_at.is_some()
    }

    /// It as clients see any exercise.
    pub fn described(&self) -> LibraryExercise {
        LibraryExercise {
            id: self.exercise_id(),
            name: self.name.to_string(),
            category: self.category,
            level: self.level,
            equipment: self.equipment,
            force: self.force,
            mechanic: self.mechanic,
            primary_muscles: self.primary_muscles.clone(),
            secondary_muscles: self.secondary_muscles.clone(),
            instructions: self.instructions.iter().map(ToString::to_string).collect(),
        }
    }
}

impl Package for CustomExercise {
    const NOUN: &'static str = "custom exercise";

    package_fields!();
    fn searchable_tags(&self) -> Box<dyn Iterator<Item = &Tag> + '_> {
        Box::new(std::iter::empty())
    }
    fn level(&self) -> Option<Level> {
        None
    }
}
