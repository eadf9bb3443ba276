//! The checks of the latest migrations' schemas (audit chains, sink cursors, webhooks,
//! export and import),
//! each ending with its down.sql: parts of
//! `the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly`.

use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};

use super::{
    AUDIT_CHAIN_DOWN, AUDIT_SINK_CURSORS_DOWN, EXPORT_DOWN, TABLE_COUNT, TABLES, WEBHOOKS_DOWN,
    count,
};

const AUDIT_CHAIN_COLUMNS: &str = "SELECT count(*) AS count FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name = 'audit_events' \
       AND column_name IN ('digest', 'chain_seq', 'previous_hash', 'chain_hash')";
const AUDIT_CHAIN_TRIGGER: &str =
    "SELECT count(*) AS count FROM pg_trigger WHERE tgname = 'vault_audit_chain'";

/// Part of `the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly`: the export
/// migration names its two actions, and its down.sql refuses them again.
pub(super) async fn exports_are_named_and_revert(conn: &mut AsyncPgConnection) {
    // Rolled back: a chained event left behind would shift the chain checks that follow.
    let event = |action: &str| {
        format!(
            "BEGIN; \
             INSERT INTO audit_events (id, organization_id, action, outcome, at, digest) \
             VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', '{action}', \
                 'success', now(), sha256('e')); \
             ROLLBACK"
        )
    };
    for action in ["credential.export", "credential.import"] {
        conn.batch_execute(&event(action))
            .await
            .unwrap_or_else(|e| panic!("an event of {action}: {e}"));
    }
    conn.batch_execute(EXPORT_DOWN)
        .await
        .expect("the export migration's down.sql runs");
    let refused = conn.batch_execute(&event("credential.export")).await;
    conn.batch_execute("ROLLBACK").await.ok();
    assert!(
        refused.is_err(),
        "an action the schema before cannot name was stored"
    );
}

/// Part of `the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly`: the audit-sink-cursor
/// migration's constraints, then its down.sql, which drops its table only.
pub(super) async fn audit_sink_cursors_refuse_what_they_cannot_name_and_revert(
    conn: &mut AsyncPgConnection,
) {
    let cursor = |sink: &str, seq: i64| {
        format!(
            "INSERT INTO audit_sink_cursors (sink, chain_key, seq) \
             VALUES ('{sink}', '00000000-0000-0000-0000-000000000000', {seq})"
        )
    };
    conn.batch_execute(&cursor("siem", 1))
        .await
        .expect("a cursor of the installation's chain");
    let long = "s".repeat(101);
    for (refused, what) in [
        (cursor("", 1), "a cursor of a sink without a name"),
        (cursor(&long, 1), "a sink name of 101 characters"),
        (cursor("archive", 0), "a cursor at number 0"),
        (
            cursor("siem", 2),
            "a second cursor of one sink in one chain",
        ),
        (
            "INSERT INTO audit_sink_cursors (sink, chain_key, seq) VALUES ('siem', NULL, 1)"
                .to_owned(),
            "a cursor of no chain",
        ),
    ] {
        assert!(
            conn.batch_execute(&refused).await.is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute(&cursor(&"s".repeat(100), 1))
        .await
        .expect("a sink name of 100 characters");
    conn.batch_execute(AUDIT_SINK_CURSORS_DOWN)
        .await
        .expect("the audit-sink-cursor migration's down.sql runs");
    assert_eq!(
        count(conn, TABLES).await,
        TABLE_COUNT - 4,
        "the cursors' table is gone, and no other"
    );
}

/// Part of `the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly`, on its database
/// with one organization (…01): the webhooks migration's constraints and cascade, then its
/// down.sql, which drops its tables and no other, and the audit actions it added.
pub(super) async fn webhooks_refuse_what_they_cannot_name_and_revert(conn: &mut AsyncPgConnection) {
    conn.batch_execute(
        "INSERT INTO webhooks (id, organization_id, url, events, days_ahead, enabled, sealed, \
             key_id, created_at, updated_at) \
         VALUES ('00000000-0000-7000-8000-0000000000a1', \
             '00000000-0000-7000-8000-000000000001', 'https://x', 'key.rotated', '7', true, \
             '\\x00', 'k', now(), now()); \
         INSERT INTO webhook_deliveries (id, webhook_id, organization_id, message_id, \
             event_type, payload, status, attempts, created_at) \
         VALUES (gen_random_uuid(), '00000000-0000-7000-8000-0000000000a1', \
             '00000000-0000-7000-8000-000000000001', 'msg_1', 'key.rotated', '{}', 'pending', \
             0, now()); \
         INSERT INTO webhook_reminders (webhook_id, subject_kind, subject_id, expires_at, \
             days_ahead, created_at) \
         VALUES ('00000000-0000-7000-8000-0000000000a1', 'credential', gen_random_uuid(), \
             now(), 7, now())",
    )
    .await
    .expect("a subscription with a delivery and a reminder");
    // Rolled back: a chained event left behind would shift the chain checks that follow.
    let webhook_event = "BEGIN; \
         INSERT INTO audit_events (id, organization_id, action, outcome, at, digest) \
         VALUES (gen_random_uuid(), '00000000-0000-7000-8000-000000000001', 'webhook.create', \
             'success', now(), sha256('w')); \
         ROLLBACK";
    conn.batch_execute(webhook_event)
        .await
        .expect("an event of a webhook action");
    for (refused, what) in [
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
            "UPDATE webhook_deliveries SET webhook_id = gen_random_uuid()",
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
             SELECT webhook_id, subject_kind, subject_id, expires_at, days_ahead, now() \
             FROM webhook_reminders",
            "a reminder recorded twice",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute("DELETE FROM webhooks")
        .await
        .expect("a subscription goes, with its deliveries and reminders");
    assert_eq!(
        count(
            conn,
            "SELECT (SELECT count(*) FROM webhook_deliveries) \
                 + (SELECT count(*) FROM webhook_reminders) AS count"
        )
        .await,
        0,
        "a subscription's deliveries and reminders outlived it"
    );
    conn.batch_execute(WEBHOOKS_DOWN)
        .await
        .expect("the webhooks migration's down.sql runs");
    assert_eq!(
        count(conn, TABLES).await,
        TABLE_COUNT - 3,
        "the webhooks' tables are gone, and no other"
    );
    assert!(
        conn.batch_execute(webhook_event).await.is_err(),
        "an event of a webhook action was stored after the down.sql"
    );
    conn.batch_execute("ROLLBACK")
        .await
        .expect("the refused event's transaction ends");
}

/// Part of `the_schema_cascades_only_to_webhook_rows_and_reverts_cleanly`, on its database with one
/// organization (…01): the audit-chain migration's trigger and constraints, then its
/// down.sql, which leaves the events and the schema as they were before it.
pub(super) async fn audit_chains_are_linked_by_the_database_and_revert(
    conn: &mut AsyncPgConnection,
) {
    let event = |organization: &str, digest: &str| {
        format!(
            "INSERT INTO audit_events (id, organization_id, action, outcome, at, digest) \
             VALUES (gen_random_uuid(), {organization}, 'credential.use', 'success', now(), \
             {digest})"
        )
    };
    let org = "'00000000-0000-7000-8000-000000000001'";
    for (digest, what) in [("NULL", "no digest"), ("'\\x00'", "a 1-byte digest")] {
        assert!(
            conn.batch_execute(&event(org, digest)).await.is_err(),
            "an event with {what} was stored"
        );
    }
    for (organization, digest) in [
        (org, "sha256('a')"),
        ("NULL", "sha256('b')"),
        (org, "sha256('c')"),
        ("NULL", "sha256('d')"),
    ] {
        conn.batch_execute(&event(organization, digest))
            .await
            .expect("an event with a digest");
    }
    // The organization's chain and the installation's, each numbered from 1, the first
    // event after 32 zero bytes and the second after the first.
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS count FROM audit_events AS e \
             JOIN audit_events AS first ON first.organization_id IS NOT DISTINCT FROM \
                 e.organization_id AND first.chain_seq = 1 \
             WHERE e.chain_seq = 2 AND e.previous_hash = first.chain_hash \
               AND first.previous_hash = decode(repeat('00', 32), 'hex')"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS count FROM audit_chain_heads \
             JOIN audit_events ON chain_hash = hash AND chain_seq = seq"
        )
        .await,
        2,
        "each chain's head record is its last event"
    );
    for (refused, what) in [
        (
            "UPDATE audit_events SET chain_seq = 1 WHERE organization_id IS NOT NULL",
            "two events of an organization's chain with one number",
        ),
        (
            "UPDATE audit_events SET chain_seq = 1 WHERE organization_id IS NULL",
            "two events of the installation's chain with one number",
        ),
        (
            "UPDATE audit_events SET chain_hash = NULL WHERE chain_seq = 2",
            "half a link",
        ),
        (
            "UPDATE audit_chain_heads SET hash = '\\x00'",
            "a head with a short hash",
        ),
        (
            "INSERT INTO audit_checkpoints VALUES (gen_random_uuid(), 1, sha256('a'), now(), \
             'daily', 'k', '\\x00')",
            "a checkpoint of an unknown kind",
        ),
    ] {
        assert!(
            conn.batch_execute(refused).await.is_err(),
            "{what} was stored"
        );
    }
    conn.batch_execute(AUDIT_CHAIN_DOWN)
        .await
        .expect("the audit-chain migration's down.sql runs");
    assert_eq!(count(conn, AUDIT_CHAIN_COLUMNS).await, 0);
    assert_eq!(count(conn, AUDIT_CHAIN_TRIGGER).await, 0);
    assert_eq!(count(conn, TABLES).await, 7, "the chains' tables are gone");
    assert_eq!(
        count(conn, "SELECT count(*) AS count FROM audit_events").await,
        4,
        "the events stay"
    );
    conn.batch_execute("DELETE FROM audit_events")
        .await
        .expect("the events go, so the organization can go later");
}
