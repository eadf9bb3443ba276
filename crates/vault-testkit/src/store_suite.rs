//! The store conformance suite: what every adapter of the storage ports must do.
//!
//! Each check is a plain `pub async fn` taking the store under test; it panics with a
//! message saying what went wrong. Every check creates its own organizations (with fresh
//! random ids), meta names and key ids, so checks never depend on each other or on running
//! in any order; the checks of the installation-wide key-rotation reads (`key_usage`,
//! `sealed_batch`) only assert about rows under key ids they made up themselves. The one
//! assumption: [`organizations_insert_and_count`] expects no other writer to insert
//! organizations into the same store while it runs, and the pruning checks no other
//! writer of old log entries (the macro gives every check a fresh store, so this holds
//! there).
//!
//! Run them all with [`store_conformance!`](crate::store_conformance), which expands to
//! one `#[tokio::test]` per check. The list of checks lives in that macro only.
//!
//! The checks live in one module per concern: `credentials`, `access_keys`, `logs`,
//! `versions` (a credential's history and the audit events of changes), `sealed` (key
//! rotation), `organizations` (and meta values), `retention` (log pruning and job
//! exclusion), `grants`, `connections` (OAuth2 connections and connect flows),
//! `audit_chain` (the audit log's hash chains, and the tamper checks with their own macro,
//! [`audit_tamper_conformance!`](crate::audit_tamper_conformance)), `webhooks`
//! (subscriptions) and `webhook_deliveries` (their deliveries and expiry reminders);
//! `fixtures` holds the test values and helpers they share, and `guarded` the [`Guarded`]
//! wrapper. All are re-exported here.

mod access_keys;
mod audit_chain;
mod connections;
mod credentials;
mod fixtures;
mod grants;
mod guarded;
mod logs;
mod organizations;
mod retention;
mod sealed;
mod versions;
mod webhook_deliveries;
mod webhooks;

pub use access_keys::{
    access_key_bindings_round_trip_and_are_written_once, access_key_round_trip,
    access_keys_list_paginates_per_organization, duplicate_access_key_conflicts,
    organization_key_usage_counts_only_that_organization, revoke_access_key_keeps_first_time,
    touch_access_key_records_last_use,
};
pub use audit_chain::{
    Tamper, a_cut_keeps_the_chain_verifiable, a_deleted_event_is_found, a_modified_event_is_found,
    a_truncated_tail_is_found_against_a_checkpoint_held_outside,
    an_event_moved_between_organizations_is_found,
    checkpoints_are_kept_once_and_listed_newest_first, concurrent_writes_make_one_gapless_chain,
    every_audit_write_extends_its_chain, sink_cursors_move_forward_only_per_sink_and_chain,
    swapped_events_are_found,
};
pub use connections::{
    a_write_under_a_lease_needs_its_holder, concurrent_takes_of_a_connect_state_have_one_winner,
    connect_states_are_taken_once, connection_round_trip, connections_are_isolated_by_organization,
    deleting_a_credential_deletes_its_connection_and_states,
    revoking_a_key_ends_the_connect_states_it_started, sample_connect_state, sample_connection,
    saving_a_connection_is_a_compare_and_set, take_lease_has_exactly_one_winner,
    take_lease_waits_for_the_lease_to_end,
};
pub use credentials::{
    concurrent_updates_lose_no_write, credential_round_trip, delete_then_get_is_not_found,
    duplicate_credential_id_conflicts, get_missing_credential_is_not_found, list_filters_by_expiry,
    list_filters_by_type, list_paginates_by_cursor, organizations_are_isolated,
    update_or_delete_missing_is_not_found, update_with_current_version_succeeds,
    update_with_stale_version_conflicts,
};
pub use fixtures::{
    new_organization, random_hash, sample_access_key, sample_allowed_hosts, sample_audit_event,
    sample_change_audit, sample_credential, sample_kind, sample_organization, sample_request_log,
    sample_sealed, sample_time, sample_version,
};
pub use grants::{
    budgets_count_every_window_or_none, concurrent_spends_never_pass_the_cap,
    delete_grant_removes_it_with_its_counts, deleting_a_credential_deletes_its_grants,
    grant_round_trip, grants_are_isolated_and_need_their_credential,
    revoking_a_key_ends_the_grants_it_made_or_was_given, sample_grant,
};
pub use guarded::Guarded;
pub use logs::{
    actor_subjects_round_trip, audit_event_round_trip, audit_events_filter_by_action_and_target,
    audit_events_list_newest_first_by_cursor, credential_usage_counts_per_hour_and_class,
    duplicate_audit_event_id_conflicts, duplicate_request_log_id_conflicts, request_log_round_trip,
    request_logs_are_isolated, request_logs_filter_by_credential,
    request_logs_list_newest_first_by_cursor, request_logs_outlive_their_credential,
};
pub use organizations::{
    keyring_racing_saves_have_one_winner, keyring_saves_are_a_compare_and_set,
    meta_first_insert_wins, meta_get_missing_is_none, meta_racing_inserts_have_one_winner,
    organization_exists_answers_per_id, organizations_insert_and_count,
    organizations_named_finds_each_of_a_name,
};
pub use retention::{
    exclusive_runs_one_batch_of_a_job_at_a_time, log_id_at,
    prune_log_deletes_only_entries_older_than_the_cutoff,
    prune_log_honours_the_batch_size_oldest_first,
};
pub use sealed::{
    connection_tokens_are_rewrapped_at_their_generation, key_usage_counts_rows_per_key_and_kind,
    replace_sealed_is_a_compare_and_set, sealed_batch_walks_each_kind_in_order,
};
pub use versions::{
    access_key_writes_record_their_audit_events, credential_writes_record_their_audit_events,
    delete_removes_versions_and_records_its_audit_event,
    delete_with_a_stale_version_conflicts_and_deletes_nothing,
    duplicate_version_number_conflicts_and_writes_nothing,
    refused_updates_write_no_version_or_audit_event, versions_are_isolated_by_organization,
    versions_keep_only_the_newest, versions_round_trip,
};
pub use webhook_deliveries::{
    concurrent_reminders_make_one_delivery, deliveries_list_newest_first_by_cursor,
    deliveries_round_trip_and_are_inserted_all_or_none,
    due_deliveries_honour_status_time_enabled_order_and_limit,
    prune_deliveries_deletes_only_old_settled_ones, record_attempt_updates_every_field,
    reminders_are_recorded_once,
};
pub use webhooks::{
    delete_webhook_takes_its_deliveries_and_reminders, sample_delivery, sample_webhook,
    update_webhook_replaces_fields, webhook_round_trip_and_isolation,
    webhook_secrets_are_rewrapped, webhooks_per_organization_are_capped,
    webhooks_wanting_returns_enabled_takers_of_every_organization,
};

/// Runs the whole store conformance suite against an adapter: expands to one
/// `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` per check, each on a fresh
/// store from `$factory`, an async expression (it is `.await`ed once per test).
///
/// The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) as a
/// dev-dependency. Invoke it once per module; the tests are named after the checks.
///
/// ```rust,ignore
/// vault_testkit::store_conformance!(vault_testkit::memory::MemoryStore::new_async());
/// ```
///
/// For an adapter whose backend may be missing where the tests run (a database server),
/// `skip_unless:` takes a factory returning `Option<S>`: on `None` each test returns early
/// (and passes), so the factory should say loudly why it gave no store.
///
/// ```rust,ignore
/// vault_testkit::store_conformance!(skip_unless: fresh_store_if_reachable());
/// ```
///
/// This is the one list of checks: a new check is a `pub async fn` in the module of its
/// concern, re-exported by [`store_suite`](crate::store_suite), plus one line here.
#[macro_export]
macro_rules! store_conformance {
    (skip_unless: $factory:expr) => {
        $crate::store_conformance!(@checks optional; $factory);
    };
    (@checks $mode:ident; $factory:expr) => {
        $crate::__store_conformance_tests! {
            $mode; $factory;
            credential_round_trip,
            get_missing_credential_is_not_found,
            duplicate_credential_id_conflicts,
            list_paginates_by_cursor,
            list_filters_by_type,
            list_filters_by_expiry,
            update_with_current_version_succeeds,
            update_with_stale_version_conflicts,
            update_or_delete_missing_is_not_found,
            delete_then_get_is_not_found,
            organizations_are_isolated,
            concurrent_updates_lose_no_write,
            access_key_round_trip,
            duplicate_access_key_conflicts,
            access_keys_list_paginates_per_organization,
            revoke_access_key_keeps_first_time,
            touch_access_key_records_last_use,
            request_log_round_trip,
            request_logs_list_newest_first_by_cursor,
            request_logs_filter_by_credential,
            credential_usage_counts_per_hour_and_class,
            request_logs_are_isolated,
            request_logs_outlive_their_credential,
            duplicate_request_log_id_conflicts,
            audit_event_round_trip,
            audit_events_list_newest_first_by_cursor,
            audit_events_filter_by_action_and_target,
            duplicate_audit_event_id_conflicts,
            actor_subjects_round_trip,
            organizations_insert_and_count,
            organization_exists_answers_per_id,
            organizations_named_finds_each_of_a_name,
            meta_get_missing_is_none,
            meta_first_insert_wins,
            meta_racing_inserts_have_one_winner,
            keyring_saves_are_a_compare_and_set,
            keyring_racing_saves_have_one_winner,
            credential_writes_record_their_audit_events,
            versions_round_trip,
            versions_keep_only_the_newest,
            refused_updates_write_no_version_or_audit_event,
            duplicate_version_number_conflicts_and_writes_nothing,
            delete_removes_versions_and_records_its_audit_event,
            delete_with_a_stale_version_conflicts_and_deletes_nothing,
            versions_are_isolated_by_organization,
            access_key_writes_record_their_audit_events,
            key_usage_counts_rows_per_key_and_kind,
            sealed_batch_walks_each_kind_in_order,
            replace_sealed_is_a_compare_and_set,
            access_key_bindings_round_trip_and_are_written_once,
            organization_key_usage_counts_only_that_organization,
            prune_log_deletes_only_entries_older_than_the_cutoff,
            prune_log_honours_the_batch_size_oldest_first,
            exclusive_runs_one_batch_of_a_job_at_a_time,
            grant_round_trip,
            grants_are_isolated_and_need_their_credential,
            delete_grant_removes_it_with_its_counts,
            deleting_a_credential_deletes_its_grants,
            revoking_a_key_ends_the_grants_it_made_or_was_given,
            budgets_count_every_window_or_none,
            concurrent_spends_never_pass_the_cap,
            connection_round_trip,
            connections_are_isolated_by_organization,
            saving_a_connection_is_a_compare_and_set,
            a_write_under_a_lease_needs_its_holder,
            take_lease_has_exactly_one_winner,
            take_lease_waits_for_the_lease_to_end,
            connect_states_are_taken_once,
            concurrent_takes_of_a_connect_state_have_one_winner,
            deleting_a_credential_deletes_its_connection_and_states,
            revoking_a_key_ends_the_connect_states_it_started,
            connection_tokens_are_rewrapped_at_their_generation,
            every_audit_write_extends_its_chain,
            concurrent_writes_make_one_gapless_chain,
            checkpoints_are_kept_once_and_listed_newest_first,
            a_cut_keeps_the_chain_verifiable,
            sink_cursors_move_forward_only_per_sink_and_chain,
            webhook_round_trip_and_isolation,
            webhooks_per_organization_are_capped,
            update_webhook_replaces_fields,
            delete_webhook_takes_its_deliveries_and_reminders,
            webhooks_wanting_returns_enabled_takers_of_every_organization,
            deliveries_round_trip_and_are_inserted_all_or_none,
            due_deliveries_honour_status_time_enabled_order_and_limit,
            record_attempt_updates_every_field,
            deliveries_list_newest_first_by_cursor,
            reminders_are_recorded_once,
            concurrent_reminders_make_one_delivery,
            prune_deliveries_deletes_only_old_settled_ones,
            webhook_secrets_are_rewrapped,
        }
    };
    ($factory:expr) => {
        $crate::store_conformance!(@checks always; $factory);
    };
}

/// Implementation detail of [`store_conformance!`](crate::store_conformance).
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_tests {
    (always; $factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let store = $factory.await;
                $crate::store_suite::$check(&store).await;
            }
        )+
    };
    (optional; $factory:expr; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let Some(store) = $factory.await else {
                    return;
                };
                $crate::store_suite::$check(&store).await;
            }
        )+
    };
}
