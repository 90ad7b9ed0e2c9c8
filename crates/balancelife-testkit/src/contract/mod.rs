//! The Store contract: every case is written once, in `cases`, and run against each
//! backend by `contract_tests!(factory)`, where the factory is an async fn returning a
//! fresh, empty `Arc<dyn Store>`. Any crate with a store can run the same suite.

pub mod cases;
pub mod foods;
pub mod sync_feed;

use std::any::Any;
use std::sync::Arc;

use balancelife::store::Store;

/// A store for one test, and what must live exactly as long as it: a test database
/// dropped afterwards, a server. Factories may return this or a bare store.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub keep: Vec<Box<dyn Any + Send + Sync>>,
}

impl TestStore {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            keep: Vec::new(),
        }
    }

    /// Keeps `guard` alive as long as the store.
    pub fn keeping(mut self, guard: impl Any + Send + Sync) -> Self {
        self.keep.push(Box::new(guard));
        self
    }
}

impl From<Arc<dyn Store>> for TestStore {
    fn from(store: Arc<dyn Store>) -> Self {
        Self::new(store)
    }
}

/// Expands to one `#[tokio::test]` per contract case, for the store that `$make` (an
/// async fn returning a `TestStore` or an `Arc<dyn Store>`) builds. The calling crate
/// needs `tokio` with its `macros` feature.
#[macro_export]
macro_rules! contract_tests {
    ($make:ident) => {
        $crate::contract_tests!(@store $make;
            a_created_user_can_be_read_by_id_and_by_email,
            emails_are_unique_whatever_their_case,
            a_taken_user_id_conflicts,
            updating_a_user_changes_what_is_read_back,
            updating_to_an_email_someone_else_has_conflicts,
            an_update_from_a_stale_read_conflicts,
            updating_or_deleting_a_missing_user_is_not_found,
            deleting_a_user_deletes_their_entries_and_no_one_elses,
            packages_are_listed_in_slug_order_across_pages,
            packages_can_be_filtered_by_tag_and_level,
            each_status_is_listed_only_when_asked,
            a_package_is_replaced_only_over_the_revision_read,
            a_package_is_deleted_only_at_the_revision_read,
            upserting_a_package_is_idempotent,
            a_slug_held_by_another_package_conflicts,
            custom_exercises_are_kept_whole_and_revised_like_packages,
            kept_answers_are_read_back_by_user_and_kind_until_the_user_is_deleted,
            a_missing_package_is_not_found,
        );
        mod meal_entries {
            $crate::contract_tests!(@entries $make, $crate::reexport::MealData);
            $crate::contract_tests!(@generic $make, $crate::reexport::MealData;
                entries_name_the_package_they_were_logged_from,
            );
        }
        mod workout_entries {
            $crate::contract_tests!(@entries $make, $crate::reexport::WorkoutData);
            $crate::contract_tests!(@generic $make, $crate::reexport::WorkoutData;
                entries_name_the_package_they_were_logged_from,
            );
        }
        mod body_metrics {
            $crate::contract_tests!(@entries $make, $crate::reexport::BodyMetricData);
        }
        mod sync_feed {
            $crate::contract_tests!(@sync_feed $make;
                the_sync_feed_lists_each_things_latest_change_in_commit_order_with_tombstones,
                paging_the_sync_feed_while_others_write_misses_nothing_and_repeats_nothing,
            );
        }
        mod foods {
            $crate::contract_tests!(@foods $make;
                a_created_food_reads_back_and_creating_it_again_is_idempotent,
                a_barcode_finds_the_viewers_own_food_first_then_the_admins_then_usdas,
                a_food_is_replaced_and_deleted_only_at_the_revision_read,
                importing_twice_changes_nothing_and_a_changed_row_is_a_new_version,
                an_import_takes_only_public_foods_with_a_source_id,
                the_feed_of_changes_holds_each_foods_latest_state_and_its_deletion,
                deleting_a_user_deletes_their_foods_and_no_one_elses,
                a_users_own_foods_and_recipes_are_listed_by_name_and_read_back_whole,
                a_users_favourite_foods_are_kept_in_order,
            );
        }
    };
    (@entries $make:ident, $kind:ty) => {
        $crate::contract_tests!(@generic $make, $kind;
            creating_an_entry_is_idempotent_on_its_id,
            an_id_owned_by_another_user_is_not_found_on_create_and_put,
            put_creates_then_replaces_keeping_created_at,
            putting_many_answers_each_as_its_own_put_would,
            entries_of_other_users_are_invisible,
            listing_returns_the_date_range_in_order_across_pages,
            a_cursor_from_before_the_range_starts_the_page_at_the_range,
            updating_an_entry_can_move_it_to_another_day,
            an_entry_update_from_a_stale_read_conflicts,
            a_deleted_entry_is_gone,
            a_deletion_from_a_stale_read_conflicts_and_deletes_nothing,
            entries_for_a_missing_user_are_refused,
            concurrent_creates_with_one_id_store_one_entry,
            day_sums_add_up_each_days_entries_and_follow_every_write,
            day_sums_equal_a_recount_after_concurrent_random_writes,
        );
    };
    (@store $make:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let under_test: $crate::contract::TestStore = $make().await.into();
                $crate::contract::cases::$case(under_test.store.clone()).await;
            }
        )*
    };
    (@foods $make:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let under_test: $crate::contract::TestStore = super::$make().await.into();
                $crate::contract::foods::$case(under_test.store.clone()).await;
            }
        )*
    };
    (@sync_feed $make:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let under_test: $crate::contract::TestStore = super::$make().await.into();
                $crate::contract::sync_feed::$case(under_test.store.clone()).await;
            }
        )*
    };
    (@generic $make:ident, $kind:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let under_test: $crate::contract::TestStore = super::$make().await.into();
                $crate::contract::cases::$case::<$kind>(under_test.store.clone()).await;
            }
        )*
    };
}
