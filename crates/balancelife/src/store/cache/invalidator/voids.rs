//! What one MongoDB change voids in the cache, for the change-stream invalidator:
//! the same keys its writer voids (`keys::voids`), told from the change's
//! document and, where MongoDB keeps them, its pre- and post-images.
//!
//! Without images a change names its document alone: an entry's replacement or
//! update (whose document is looked up when the event is read) names its owner but
//! not the day it left, so everything the owner has cached goes; a user's change
//! names the user but not an e-mail they had (a read by e-mail checks the record it
//! finds against the user's own, which goes); an entry's deletion names only its id,
//! so nobody: the note its writer inserted in the same transaction
//! (`entry_deletions`, see `mongo::DeletionNotes`) names its owner and day.

use bson::{Bson, Document};
use chrono::NaiveDate;
use mongodb::change_stream::event::{ChangeStreamEvent, OperationType};
use uuid::Uuid;

use crate::domain::{CustomExercise, Email, EntryKind, MealPackage, StatusFilter, WorkoutPackage};
use crate::store::cache::invalidator::images::Images;
use crate::store::cache::keys::Invalidation;
use crate::store::cache::keys::{package_noun, voids};
use crate::store::mongo::collections::{
    BODY_METRICS, CUSTOM_EXERCISES, ENTRY_DELETIONS, MEAL_ENTRIES, MEAL_PACKAGES, USERS,
    WORKOUT_ENTRIES, WORKOUT_PACKAGES,
};

/// What one change voids.
#[derive(Debug, PartialEq, Eq)]
pub enum Voided {
    /// These keys: exactly what the change touched, or all its owner has cached.
    Keys(Vec<Invalidation>),
    /// Nothing the change names: an entry deleted where MongoDB keeps no
    /// pre-images, whose event carries its id alone (its writer's note of the
    /// deletion, a change of its own, names its owner and day).
    Nobody,
    /// What it touched cannot be told, although images are kept (one expired, or
    /// was turned on after the change): the whole cache must go.
    Unknown,
}

pub fn voided(event: &ChangeStreamEvent<Document>, images: &Images) -> Voided {
    let Some(collection) = event.ns.as_ref().and_then(|ns| ns.coll.as_deref()) else {
        return Voided::Unknown;
    };
    let id = event
        .document_key
        .as_ref()
        .and_then(|key| uuid_in(key, "_id"));
    let before = event.full_document_before_change.as_ref();
    let after = event.full_document.as_ref();
    let deleted = event.operation_type == OperationType::Delete;
    let package = |noun: &str| match id {
        // Every listing: the id is all an event is sure to carry.
        Some(id) => Voided::Keys(voids::package_written(noun, id, &StatusFilter::EVERY)),
        None => Voided::Unknown,
    };
    match collection {
        USERS => {
            let Some(id) = id else {
                return Voided::Unknown;
            };
            let emails: Vec<Email> = [before, after]
                .into_iter()
                .flatten()
                .filter_map(|user| user.get_str("email").ok()?.parse().ok())
                .collect();
            let emails: Vec<&Email> = emails.iter().collect();
            Voided::Keys(if deleted {
                voids::user_deleted(id, &emails)
            } else {
                voids::user_written(id, &emails)
            })
        }
        ENTRY_DELETIONS => match (&event.operation_type, after) {
            (OperationType::Insert, Some(note)) => noted_deletion(note),
            // A note expiring changes nothing cached.
            _ => Voided::Keys(Vec::new()),
        },
        MEAL_PACKAGES => package(&package_noun::<MealPackage>()),
        WORKOUT_PACKAGES => package(&package_noun::<WorkoutPackage>()),
        CUSTOM_EXERCISES => package(&package_noun::<CustomExercise>()),
        MEAL_ENTRIES | WORKOUT_ENTRIES | BODY_METRICS => {
            let kind = match collection {
                MEAL_ENTRIES => EntryKind::Meal,
                WORKOUT_ENTRIES => EntryKind::Workout,
                _ => EntryKind::BodyMetric,
            }
            .as_str();
            // The day it was on and the day it is on, where the change tells both.
            let complete = (event.operation_type == OperationType::Insert || before.is_some())
                && (deleted || after.is_some());
            let days = complete
                .then(|| entry_days(kind, [before, after]))
                .flatten();
            if let Some(changes) = days {
                return Voided::Keys(changes);
            }
            let owner = [before, after]
                .into_iter()
                .flatten()
                .find_map(|entry| uuid_in(entry, "user_id"));
            match owner {
                Some(owner) => Voided::Keys(vec![voids::everything_of_user(owner)]),
                None if images.kept_for(collection) => Voided::Unknown,
                None => Voided::Nobody,
            }
        }
        _ => Voided::Keys(Vec::new()),
    }
}

/// What a note of an entry's deletion voids: the lists and sums of the day the
/// entry was on, of its owner. A note that does not say (not one this service
/// wrote) voids the whole cache.
fn noted_deletion(note: &Document) -> Voided {
    let kind = note.get_str("kind").ok().filter(|kind| {
        [EntryKind::Meal, EntryKind::Workout, EntryKind::BodyMetric]
            .map(EntryKind::as_str)
            .contains(kind)
    });
    kind.and_then(|kind| entry_days(kind, [Some(note)]))
        .map_or(Voided::Unknown, Voided::Keys)
}

/// The lists and sums of the days `entries` are on, by owner; `None` when one of
/// them does not say its owner or day.
fn entry_days<'a>(
    kind: &str,
    entries: impl IntoIterator<Item = Option<&'a Document>>,
) -> Option<Vec<Invalidation>> {
    let mut by_user: Vec<(Uuid, Vec<NaiveDate>)> = Vec::new();
    for entry in entries.into_iter().flatten() {
        let user = uuid_in(entry, "user_id")?;
        let day: NaiveDate = entry.get_str("local_date").ok()?.parse().ok()?;
        match by_user.iter_mut().find(|(owner, _)| *owner == user) {
            Some((_, days)) => days.push(day),
            None => by_user.push((user, vec![day])),
        }
    }
    Some(
        by_user
            .iter()
            .map(|(user, days)| voids::entry_days(kind, *user, days))
            .collect(),
    )
}

fn uuid_in(document: &Document, field: &str) -> Option<Uuid> {
    match document.get(field)? {
        Bson::Binary(binary) => Uuid::from_slice(&binary.bytes).ok(),
        Bson::String(text) => text.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;
    use crate::store::cache::keys::Scope;

    const ENTRIES: &str = "meal_entries";

    /// A change of a meal entry of `owner`, as the stream delivers it.
    fn event(
        operation: &str,
        before: Option<&str>,
        after: Option<&str>,
        owner: Uuid,
    ) -> ChangeStreamEvent<Document> {
        let entry = |day: &str| {
            doc! { "_id": bson::Uuid::from(Uuid::nil()), "user_id": bson::Uuid::from(owner), "local_date": day }
        };
        let mut event = doc! {
            "_id": { "_data": "00" },
            "operationType": operation,
            "ns": { "db": "balancelife", "coll": ENTRIES },
            "documentKey": { "_id": bson::Uuid::from(Uuid::nil()) },
        };
        if let Some(day) = before {
            event.insert("fullDocumentBeforeChange", entry(day));
        }
        if let Some(day) = after {
            event.insert("fullDocument", entry(day));
        }
        bson::from_document(event).expect("a change event")
    }

    #[test]
    fn an_entry_moved_with_both_images_voids_its_old_and_new_day() {
        let owner = Uuid::now_v7();
        let moved = event("replace", Some("2026-06-01"), Some("2026-06-02"), owner);
        let days = [date("2026-06-01"), date("2026-06-02")];
        assert_eq!(
            voided(&moved, &Images::kept_except(&[])),
            Voided::Keys(vec![voids::entry_days("meal", owner, &days)])
        );
    }

    #[test]
    fn without_images_an_entry_changed_voids_everything_of_its_owner_and_one_deleted_nobody() {
        let owner = Uuid::now_v7();
        let images = Images::kept_except(&[ENTRIES]);
        let everything = Voided::Keys(vec![Invalidation::flush(Scope::user(owner))]);
        let replaced = event("replace", None, Some("2026-06-02"), owner);
        let updated = event("update", None, Some("2026-06-02"), owner);
        assert_eq!(voided(&replaced, &images), everything);
        assert_eq!(voided(&updated, &images), everything);
        let inserted = event("insert", None, Some("2026-06-02"), owner);
        let day = [date("2026-06-02")];
        assert_eq!(
            voided(&inserted, &images),
            Voided::Keys(vec![voids::entry_days("meal", owner, &day)])
        );
        assert_eq!(
            voided(&event("delete", None, None, owner), &images),
            Voided::Nobody
        );
    }

    #[test]
    fn a_note_of_an_entry_deletion_voids_the_day_it_was_on_of_its_owner() {
        let owner = Uuid::now_v7();
        let note = doc! {
            "_id": bson::oid::ObjectId::new(),
            "kind": "workout",
            "user_id": bson::Uuid::from(owner),
            "local_date": "2026-06-01",
            "deleted_at": bson::DateTime::now(),
        };
        let event = |operation: &str, note: Option<Document>| {
            let mut event = doc! {
                "_id": { "_data": "00" },
                "operationType": operation,
                "ns": { "db": "balancelife", "coll": ENTRY_DELETIONS },
                "documentKey": { "_id": bson::oid::ObjectId::new() },
            };
            if let Some(note) = note {
                event.insert("fullDocument", note);
            }
            bson::from_document::<ChangeStreamEvent<Document>>(event).expect("a change event")
        };
        let images = Images::kept_except(&[ENTRIES, "workout_entries"]);
        let day = [date("2026-06-01")];

        assert_eq!(
            voided(&event("insert", Some(note.clone())), &images),
            Voided::Keys(vec![voids::entry_days("workout", owner, &day)])
        );
        assert_eq!(
            voided(&event("delete", None), &images),
            Voided::Keys(vec![])
        );
        let mut foreign = note;
        foreign.insert("kind", "sleep");
        assert_eq!(
            voided(&event("insert", Some(foreign)), &images),
            Voided::Unknown
        );
    }

    #[test]
    fn where_images_are_kept_a_change_that_names_nobody_is_unknown() {
        let deleted = event("delete", None, None, Uuid::now_v7());
        assert_eq!(
            voided(&deleted, &Images::kept_except(&["users"])),
            Voided::Unknown
        );
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }
}
