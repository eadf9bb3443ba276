use time::macros::datetime;

use super::*;

fn input(url: &str, events: &[&str]) -> WebhookInput {
    WebhookInput {
        url: Some(url.to_owned()),
        events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
        ..WebhookInput::default()
    }
}

fn fields_of(errors: &ValidationErrors) -> Vec<&str> {
    errors.errors().iter().map(|e| e.field.as_str()).collect()
}

#[test]
fn a_create_needs_an_https_url_and_known_events() {
    let fields = input(
        "https://hooks.example.com/vault",
        &["key.rotated", "credential.expiring", "key.rotated"],
    )
    .apply(None)
    .expect("valid");
    assert_eq!(
        fields.events,
        [EventType::CredentialExpiring, EventType::KeyRotated]
    );
    assert_eq!(fields.days_ahead, DEFAULT_DAYS_AHEAD);
    assert!(fields.enabled);

    let missing = WebhookInput::default().apply(None).expect_err("invalid");
    assert_eq!(fields_of(&missing), ["url", "events"]);
    for url in [
        "http://hooks.example.com/",
        "https://user:pw@hooks.example.com/",
        "https://hooks.example.com/#x",
        "ftp://hooks.example.com/",
        "hooks.example.com",
        "https://hooks.exa\nmple.com/",
    ] {
        let refused = input(url, &["key.rotated"]).apply(None).expect_err(url);
        assert_eq!(fields_of(&refused), ["url"], "{url}");
    }
    let unknown = input("https://h.example/", &["credential.deleted"])
        .apply(None)
        .expect_err("unknown event");
    assert_eq!(fields_of(&unknown), ["events"]);
    let none = input("https://h.example/", &[])
        .apply(None)
        .expect_err("empty");
    assert_eq!(fields_of(&none), ["events"]);
}

#[test]
fn days_ahead_are_checked_sorted_and_deduplicated() {
    let mut given = input("https://h.example/", &["credential.expiring"]);
    given.days_ahead = Some(vec![1, 14, 1, 90]);
    assert_eq!(given.apply(None).expect("valid").days_ahead, [90, 14, 1]);
    for bad in [vec![], vec![0], vec![366], vec![-1], vec![1, 2, 3, 4, 5, 6]] {
        given.days_ahead = Some(bad.clone());
        let refused = given.apply(None).expect_err("invalid");
        assert_eq!(fields_of(&refused), ["daysAhead"], "{bad:?}");
    }
}

#[test]
fn an_update_changes_only_what_it_names() {
    let base = input("https://h.example/a", &["key.rotated"])
        .apply(None)
        .expect("valid");
    let patch = WebhookInput {
        description: Patch::Value("  rotations  ".to_owned()),
        enabled: Some(false),
        ..WebhookInput::default()
    };
    let updated = patch.apply(Some(&base)).expect("valid");
    assert_eq!(updated.url, base.url);
    assert_eq!(updated.events, base.events);
    assert_eq!(updated.description.as_deref(), Some("rotations"));
    assert!(!updated.enabled);
    let cleared = WebhookInput {
        description: Patch::Null,
        ..WebhookInput::default()
    }
    .apply(Some(&updated))
    .expect("valid");
    assert_eq!(cleared.description, None);
    assert!(!cleared.enabled, "kept");
}

fn webhook() -> Webhook {
    let now = datetime!(2026-12-01 00:00 UTC);
    Webhook {
        id: WebhookId::new(),
        organization_id: OrganizationId::new(),
        url: Url::parse("https://h.example/").expect("url"),
        description: None,
        events: vec![EventType::KeyRotated],
        days_ahead: DEFAULT_DAYS_AHEAD.to_vec(),
        enabled: true,
        secret: crate::cipher::SealedBlob {
            key_id: crate::cipher::KeyId::new("k1"),
            bytes: vec![1, 2, 3],
        },
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn a_failing_delivery_follows_the_schedule_for_about_a_day_then_fails() {
    let start = datetime!(2026-12-01 00:00 UTC);
    let event = WebhookEvent::new(EventType::KeyRotated, start, serde_json::json!({}));
    let mut delivery = Delivery::new(&webhook(), &event);
    assert_eq!(delivery.next_attempt_at, Some(start));
    assert!(delivery.message_id.starts_with("msg_"));
    let failure = AttemptResult {
        response_status: Some(503),
        error: Some("the receiver answered 503".to_owned()),
    };
    let mut at = start;
    let mut attempts = 0;
    loop {
        let record = delivery.after_attempt(at, &failure);
        attempts += 1;
        assert_eq!(record.attempts, attempts);
        delivery.attempts = record.attempts;
        delivery.status = record.status;
        match record.next_attempt_at {
            Some(next) => {
                assert_eq!(record.status, DeliveryStatus::Pending);
                at = next;
            }
            None => break,
        }
    }
    assert_eq!(delivery.status, DeliveryStatus::Failed);
    assert_eq!(attempts, 8);
    let span = at - start;
    assert!(
        span > Duration::hours(23) && span <= Duration::hours(24),
        "{span}"
    );

    let replay = delivery.replay(at);
    assert_eq!(replay.message_id, delivery.message_id, "the same message");
    assert_eq!(replay.replay_of, Some(delivery.id));
    assert_eq!(
        (replay.status, replay.attempts),
        (DeliveryStatus::Pending, 0)
    );
}

#[test]
fn only_a_2xx_answer_is_a_success() {
    let event = WebhookEvent::new(
        EventType::KeyRotated,
        datetime!(2026-12-01 00:00 UTC),
        serde_json::json!({}),
    );
    let delivery = Delivery::new(&webhook(), &event);
    for (status, ok) in [
        (200, true),
        (204, true),
        (299, true),
        (301, false),
        (404, false),
        (500, false),
    ] {
        let result = AttemptResult {
            response_status: Some(status),
            error: None,
        };
        assert_eq!(result.succeeded(), ok, "{status}");
        let record = delivery.after_attempt(event.at, &result);
        assert_eq!(record.status == DeliveryStatus::Succeeded, ok);
    }
    let unreachable = AttemptResult {
        response_status: None,
        error: Some("unreachable".to_owned()),
    };
    assert!(!unreachable.succeeded());
}

#[test]
fn the_nearest_threshold_crossed_is_the_one_reminded() {
    let now = datetime!(2026-12-01 00:00 UTC);
    let days = [30, 7, 1];
    assert_eq!(
        crossed_threshold(&days, now + Duration::days(40), now),
        None
    );
    assert_eq!(
        crossed_threshold(&days, now + Duration::days(30), now),
        Some(30)
    );
    assert_eq!(
        crossed_threshold(&days, now + Duration::days(8), now),
        Some(30)
    );
    assert_eq!(
        crossed_threshold(&days, now + Duration::days(2), now),
        Some(7)
    );
    assert_eq!(
        crossed_threshold(&days, now + Duration::hours(3), now),
        Some(1)
    );
    assert_eq!(crossed_threshold(&days, now, now), Some(0));
    assert_eq!(
        crossed_threshold(&days, now - Duration::days(3), now),
        Some(0)
    );
}

#[test]
fn the_payload_has_the_standard_webhooks_shape() {
    let event = WebhookEvent::new(
        EventType::CredentialExpiring,
        datetime!(2026-12-01 10:20:30 UTC),
        serde_json::json!({"credentialId": "c"}),
    );
    assert_eq!(
        event.payload(),
        serde_json::json!({
            "type": "credential.expiring",
            "timestamp": "2026-12-01T10:20:30Z",
            "data": {"credentialId": "c"},
        })
    );
}

#[test]
fn event_types_round_trip() {
    for event_type in EventType::ALL {
        assert_eq!(event_type.as_str().parse::<EventType>(), Ok(event_type));
    }
    assert!("credential.create".parse::<EventType>().is_err());
}

#[test]
fn a_streak_of_refusals_is_reported_once_and_ended_by_another_answer() {
    let streaks = RefusalStreaks::default();
    let (a, b) = (
        crate::ids::CredentialId::new(),
        crate::ids::CredentialId::new(),
    );
    assert!(!streaks.record(a, 401));
    assert!(!streaks.record(b, 403));
    assert!(!streaks.record(a, 403));
    assert!(streaks.record(a, 401), "the third in a row");
    assert!(!streaks.record(a, 401), "once per streak");
    assert!(!streaks.record(a, 200));
    assert!(!streaks.record(a, 401));
    assert!(!streaks.record(a, 500), "another answer ends it");
    assert!(!streaks.record(a, 401));
    assert!(!streaks.record(a, 401));
    assert!(streaks.record(a, 401), "a new streak");
    assert!(!streaks.record(b, 403));
    assert!(streaks.record(b, 403), "counted per credential");
}
