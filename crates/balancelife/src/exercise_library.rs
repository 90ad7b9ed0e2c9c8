//! The exercise library: the exercises of free-exercise-db, bundled in the binary
//! (see `exercises/README.md` for the source and its licence), looked up by id and
//! searched by name, muscle, equipment, level and category.
//!
//! It is read once, on first use, and never changes while the service runs: a
//! logged set names an exercise by id, and that id must mean the same movement on
//! every instance and after every restart.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::{
    Equipment, ExerciseCategory, ExerciseId, ExerciseLevel, LibraryExercise, Muscle,
};

static BUNDLED: &str = include_str!("../exercises/free-exercise-db.json");

static LIBRARY: LazyLock<ExerciseLibrary> = LazyLock::new(|| {
    let exercises: Vec<LibraryExercise> =
        serde_json::from_str(BUNDLED).expect("the bundled exercise library is valid");
    ExerciseLibrary::new(exercises)
});

/// The library the service serves.
pub fn library() -> &'static ExerciseLibrary {
    &LIBRARY
}

/// Exercises by id, in the order of their names.
pub struct ExerciseLibrary {
    exercises: Vec<LibraryExercise>,
    by_id: HashMap<ExerciseId, usize>,
    /// By name, lower-cased.
    by_name: HashMap<String, usize>,
    /// Each exercise's name, lower-cased and split into words, for search.
    words: Vec<Vec<String>>,
}

/// What a search asks for; every part given must match.
#[derive(Debug, Clone, Default)]
pub struct ExerciseQuery {
    /// Words each of which must begin a word of the name (`dumb bench` finds
    /// "Dumbbell Bench Press"; `bell bench` does not).
    pub text: Option<String>,
    /// Trained as a primary or a secondary muscle.
    pub muscle: Option<Muscle>,
    pub equipment: Option<Equipment>,
    pub level: Option<ExerciseLevel>,
    pub category: Option<ExerciseCategory>,
}

impl ExerciseLibrary {
    fn new(mut exercises: Vec<LibraryExercise>) -> Self {
        exercises.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let by_id = exercises
            .iter()
            .enumerate()
            .map(|(index, exercise)| (exercise.id.clone(), index))
            .collect();
        let by_name = exercises
            .iter()
            .enumerate()
            .map(|(index, exercise)| (exercise.name.to_lowercase(), index))
            .collect();
        let words = exercises.iter().map(|e| words_of(&e.name)).collect();
        Self {
            exercises,
            by_id,
            by_name,
            words,
        }
    }

    pub fn len(&self) -> usize {
        self.exercises.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exercises.is_empty()
    }

    pub fn get(&self, id: &ExerciseId) -> Option<&LibraryExercise> {
        self.by_id.get(id).map(|&index| &self.exercises[index])
    }

    /// The exercise named `name`, whatever its case.
    pub fn named(&self, name: &str) -> Option<&LibraryExercise> {
        self.by_name
            .get(&name.trim().to_lowercase())
            .map(|&index| &self.exercises[index])
    }

    /// The exercises matching `query`: those whose name begins with the text
    /// first, then by name.
    pub fn search(&self, query: &ExerciseQuery) -> Vec<&LibraryExercise> {
        self.search_with(query, &[])
    }

    /// The exercises of the library and of `more` (the custom ones) matching
    /// `query`, in `search`'s order.
    pub fn search_with<'a>(
        &'a self,
        query: &ExerciseQuery,
        more: &'a [LibraryExercise],
    ) -> Vec<&'a LibraryExercise> {
        let wanted = query.text.as_deref().map(words_of).unwrap_or_default();
        // Whether it matches, and if so whether its name trails (does not begin
        // with the first word asked for).
        let rank = |exercise: &LibraryExercise, words: &[String]| {
            let matches = query.admits(exercise)
                && wanted
                    .iter()
                    .all(|w| words.iter().any(|word| word.starts_with(w.as_str())));
            matches.then(|| {
                !wanted.first().is_none_or(|first| {
                    words.first().is_some_and(|w| w.starts_with(first.as_str()))
                })
            })
        };
        let bundled = self.exercises.iter().zip(&self.words);
        let mut found: Vec<(bool, &LibraryExercise)> = bundled
            .filter_map(|(exercise, words)| Some((rank(exercise, words)?, exercise)))
            .chain(more.iter().filter_map(|exercise| {
                Some((rank(exercise, &words_of(&exercise.name))?, exercise))
            }))
            .collect();
        if more.is_empty() {
            // Stable: within each group, the library's order by name.
            found.sort_by_key(|(trails, _)| *trails);
        } else {
            found.sort_by(|(a_trails, a), (b_trails, b)| {
                (a_trails, &a.name, &a.id).cmp(&(b_trails, &b.name, &b.id))
            });
        }
        found.into_iter().map(|(_, exercise)| exercise).collect()
    }
}

impl ExerciseQuery {
    fn admits(&self, exercise: &LibraryExercise) -> bool {
        self.muscle.is_none_or(|muscle| {
            exercise.primary_muscles.contains(&muscle)
                || exercise.secondary_muscles.contains(&muscle)
        }) && self.equipment.is_none_or(|e| exercise.equipment == Some(e))
            && self.level.is_none_or(|l| exercise.level == l)
            && self.category.is_none_or(|c| exercise.category == c)
    }
}

/// Lower-cased words of letters and digits: "3/4 Sit-Up" is `3`, `4`, `sit`, `up`.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ExerciseId {
        text.parse().unwrap()
    }

    #[test]
    fn the_bundled_library_reads_whole() {
        let library = library();
        assert_eq!(library.len(), 873);
        let squat = library.get(&id("barbell-squat")).unwrap();
        assert_eq!(squat.name, "Barbell Squat");
        assert_eq!(squat.primary_muscles, [Muscle::Quadriceps]);
        assert_eq!(squat.equipment, Some(Equipment::Barbell));
        assert!(!squat.instructions.is_empty());
        assert!(library.get(&id("no-such-exercise")).is_none());
        assert_eq!(
            library.named(" barbell SQUAT").map(|e| e.id.as_str()),
            Some("barbell-squat")
        );
    }

    #[test]
    fn a_search_matches_word_beginnings_and_puts_leading_matches_first() {
        let library = library();
        let query = ExerciseQuery {
            text: Some("Bench pre".into()),
            ..ExerciseQuery::default()
        };
        let names: Vec<&str> = library
            .search(&query)
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert!(names.len() > 5, "{names:?}");
        assert!(names.iter().all(|n| {
            let n = n.to_lowercase();
            n.contains("bench") && n.contains("pre")
        }));
        let first_trailing = names
            .iter()
            .position(|n| !n.to_lowercase().starts_with("bench"))
            .unwrap();
        assert!(first_trailing > 0, "{names:?}");
        assert!(
            names[first_trailing..]
                .iter()
                .all(|n| !n.to_lowercase().starts_with("bench")),
            "{names:?}"
        );
        let none = ExerciseQuery {
            text: Some("bell bench".into()),
            ..ExerciseQuery::default()
        };
        assert!(library.search(&none).is_empty());
    }

    #[test]
    fn filters_narrow_a_search() {
        let library = library();
        let query = ExerciseQuery {
            muscle: Some(Muscle::Hamstrings),
            equipment: Some(Equipment::Kettlebells),
            level: Some(ExerciseLevel::Beginner),
            ..ExerciseQuery::default()
        };
        let found = library.search(&query);
        assert!(!found.is_empty());
        for exercise in found {
            assert!(
                exercise.primary_muscles.contains(&Muscle::Hamstrings)
                    || exercise.secondary_muscles.contains(&Muscle::Hamstrings)
            );
            assert_eq!(exercise.equipment, Some(Equipment::Kettlebells));
            assert_eq!(exercise.level, ExerciseLevel::Beginner);
        }
        assert_eq!(library.search(&ExerciseQuery::default()).len(), 873);
    }
}
