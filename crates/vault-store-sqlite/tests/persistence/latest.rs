//! The latest migrations' schema (webhooks, then export and import): part of
//! `an_initial_schema_with_data_upgrades_and_reverts`.

use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::{AUDIT_EVENTS, AUDIT_INDEXES, CHAIN_SCHEMA, EMBEDDED, WEBHOOK_TABLES, count};

/// Part of `an_initial_schema_with_data_upgrades_and_reverts`: the export migration names
/// its two actions, and its down.sql drops their events and nothing else, leaving the rest
/// of the audit log (chain columns and indexes included) as it was.
pub(super) fn exports_are_named_and_revert(conn: &mut SqliteConnection) {
    conn.batch_execute(
        "INSERT INTO audit_events (id, organization_id, action, outcome, at) VALUES \
             (randomblob(16), NULL, 'credential.export', 'success', 0), \
             (randomblob(16), NULL, 'credential.import', 'failure', 0);",
    )
    .expect("the events of an export and an import");
    let events = count(conn, AUDIT_EVENTS);
    conn.revert_last_migration(EMBEDDED)
        .expect("the export migration reverts");
    assert_eq!(
        count(conn, AUDIT_EVENTS),
        events - 2,
        "the events of the export actions go, and no other"
    );
    assert!(
        diesel::sql_query(
            "INSERT INTO audit_events (id, organization_id, action, outcome, at) \
             VALUES (randomblob(16), NULL, 'credential.export', 'success', 0)"
        )
        .execute(conn)
        .is_err(),
        "an action the schema before cannot name was stored"
    );
    assert_eq!(count(conn, AUDIT_INDEXES), 3);
    assert_eq!(
        count(conn, CHAIN_SCHEMA),
        8,
        "the rebuilt log kept its chains"
    );
}

/// Part of `an_initial_schema_with_data_upgrades_and_reverts`, on its file with one
/// organization: the webhooks migration's constraints and cascade, then its down.sql, which
/// drops its tables and the events of its actions, and leaves the rest of the audit log
/// (chain columns and indexes included) as it was.
pub(super) fn webhooks_refuse_what_they_cannot_name_and_revert(conn: &mut SqliteConnection) {
    assert_eq!(count(conn, WEBHOOK_TABLES), 3);
    conn.batch_execute(
        "INSERT INTO webhooks (id, organization_id, url, events, days_ahead, enabled, sealed, \
             key_id, created_at, updated_at) \
         SELECT randomblob(16), id, 'https://x', 'key.rotated', '7', 1, x'00', 'k', 0, 0 \
         FROM organizations; \
         INSERT INTO webhook_deliveries (id, webhook_id, organization_id, message_id, \
             event_type, payload, status, attempts, created_at) \
         SELECT randomblob(16), id, organization_id, 'msg_1', 'key.rotated', '{}', 'pending', \
             0, 0 FROM webhooks; \
         INSERT INTO webhook_reminders (webhook_id, subject_kind, subject_id, expires_at, \
             days_ahead, created_at) \
         SELECT id, 'credential', randomblob(16), 0, 7, 0 FROM webhooks; \
         INSERT INTO audit_events (id, organization_id, action, outcome, at) \
         VALUES (randomblob(16), NULL, 'webhook.create', 'success', 0);",
    )
    .expect("a subscription with a delivery and a reminder, and an event of its creation");
    for (refused, what) in [
        (
            "UPDATE webhooks SET enabled = 2",
            "an enabled flag that is no boolean",
        ),
        (
            "UPDATE webhooks SET events = ''",
            "a subscription to no event",
        ),
        (
            "UPDATE webhooks SET sealed = NULL",
            "a subscription without its secret",
        ),
        (
            "UPDATE webhook_deliveries SET status = 'lost'",
            "an unknown delivery status",
        ),
        (
            "UPDATE webhook_deliveries SET attempts = -1",
            "a negative number of attempts",
        ),
        (
            "UPDATE webhook_deliveries SET webhook_id = randomblob(16)",
            "a delivery of no subscription",
        ),
        (
            "UPDATE webhook_reminders SET subject_kind = 'grant'",
            "a reminder of an unknown kind of subject",
        ),
        (
            "UPDATE webhook_reminders SET days_ahead = 366",
            "a reminder further ahead than any threshold",
        ),
        (
            "INSERT INTO webhook_reminders \
             SELECT webhook_id, subject_kind, subject_id, expires_at, days_ahead, 1 \
             FROM webhook_reminders",
            "a reminder recorded twice",
        ),
    ] {
        assert!(
            diesel::sql_query(refused).execute(conn).is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute("DELETE FROM webhooks")
        .expect("a subscription goes, with its deliveries and reminders");
    assert_eq!(
        count(
            conn,
            "SELECT (SELECT count(*) FROM webhook_deliveries) \
                 + (SELECT count(*) FROM webhook_reminders) AS count"
        ),
        0,
        "a subscription's deliveries and reminders outlived it"
    );
    let events = count(conn, AUDIT_EVENTS);
    conn.revert_last_migration(EMBEDDED)
        .expect("the webhooks migration reverts");
    assert_eq!(count(conn, WEBHOOK_TABLES), 0);
    assert_eq!(
        count(conn, AUDIT_EVENTS),
        events - 1,
        "the event of a webhook action goes, and no other"
    );
    assert_eq!(count(conn, AUDIT_INDEXES), 3);
    assert_eq!(
        count(conn, CHAIN_SCHEMA),
        8,
        "the rebuilt log kept its chains"
    );
}
