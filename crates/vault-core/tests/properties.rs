//! Properties of the domain's parsers: they never panic, and accept exactly what they
//! document.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use vault_core::access_key::{AccessToken, TOKEN_PREFIX};
use vault_core::credential::{CredentialName, MAX_NAME_CHARS};
use vault_core::duration::parse_iso8601_duration;
use vault_core::input::NewCredential;
use vault_core::{AllowedHosts, CredentialFields, CredentialType, Patch};

const NOW: OffsetDateTime = datetime!(2026-01-01 00:00:00 UTC);

/// Strings that often sit near the name's limits: printable runs, control characters and
/// surrounding whitespace.
fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \t]{0,2}[a-zA-Zé😀 ]{0,205}[ \n]{0,2}",
        "[a-z]{0,100}[\u{0}-\u{1f}\u{7f}\u{85}]?[a-z]{0,100}",
        // Right at the limit: 198 to 202 characters, multi-byte ones included.
        proptest::collection::vec(prop_oneof![Just('a'), Just('é'), Just('😀')], 198..=202)
            .prop_map(|chars| chars.into_iter().collect()),
    ]
}

/// A bearer-token credential whose only variable field is `expiresAt`.
fn with_expiry(raw: String) -> CredentialFields {
    CredentialFields {
        name: Some("n".to_owned()),
        expires_at: Patch::Value(raw),
        ..CredentialFields::default()
    }
    .with("value", Some(secrecy::SecretString::from("v")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn name_accepts_exactly_1_to_200_chars_without_controls(raw in name_like()) {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        let expected =
            (1..=MAX_NAME_CHARS).contains(&chars) && !trimmed.chars().any(char::is_control);
        match CredentialName::parse(&raw) {
            Ok(name) => {
                prop_assert!(expected, "accepted {raw:?}");
                prop_assert_eq!(name.as_str(), trimmed);
            }
            Err(_) => prop_assert!(!expected, "refused {raw:?}"),
        }
    }

    #[test]
    fn token_parse_accepts_only_itself(raw in prop_oneof![
        any::<String>(),
        "vlt_[0-9A-Za-z]{46}",
        "vlt_[0-9A-Za-z]{40,52}",
    ]) {
        if let Ok(token) = AccessToken::parse(&raw) {
            prop_assert_eq!(token.expose(), raw.as_str());
        }
    }

    #[test]
    fn generated_tokens_parse_and_any_changed_char_is_refused(
        random in proptest::collection::vec(any::<u8>(), 48..96),
        at in any::<prop::sample::Index>(),
        replacement in any::<char>(),
    ) {
        let Some(token) = AccessToken::from_random(&random) else {
            // Too many bytes >= 248 to draw 40 characters: not a token.
            return Ok(());
        };
        let text = token.expose().to_owned();
        prop_assert!(text.starts_with(TOKEN_PREFIX));
        let parsed = AccessToken::parse(&text).unwrap();
        prop_assert_eq!(parsed.expose(), text.as_str());

        let chars: Vec<char> = text.chars().collect();
        let at = at.index(chars.len());
        prop_assume!(chars[at] != replacement);
        let mut changed = chars;
        changed[at] = replacement;
        let changed: String = changed.into_iter().collect();
        prop_assert!(AccessToken::parse(&changed).is_err(), "accepted {changed:?}");
    }

    #[test]
    fn allowed_hosts_never_panic_and_entries_reparse(raw in proptest::collection::vec(
        prop_oneof![
            any::<String>(),
            "(https?://)?[a-z0-9.-]{1,20}(:[0-9]{1,6})?/?",
            "(https?://)?\\[[0-9a-f:]{2,12}\\](:[0-9]{1,5})?",
        ],
        0..4,
    )) {
        if let Ok(hosts) = AllowedHosts::parse(&raw) {
            prop_assert!(hosts.entries().len() <= raw.len());
            // What is stored and shown parses back to the same entry.
            let shown: Vec<String> = hosts.entries().iter().map(ToString::to_string).collect();
            prop_assert_eq!(AllowedHosts::parse(&shown).unwrap(), hosts);
        }
    }

    #[test]
    fn durations_never_panic_and_stay_within_ten_years(raw in prop_oneof![
        any::<String>(),
        "P([0-9]{1,20}[WD])*(T([0-9]{1,20}[HMS])*)?",
    ]) {
        if let Ok(d) = parse_iso8601_duration("expiringWithin", &raw) {
            prop_assert!(d >= time::Duration::ZERO);
            prop_assert!(d <= time::Duration::days(3653));
        }
    }

    #[test]
    fn days_parse_to_days(days in 0i64..=3653) {
        let d = parse_iso8601_duration("expiringWithin", &format!("P{days}D")).unwrap();
        prop_assert_eq!(d, time::Duration::days(days));
    }

    #[test]
    fn expiry_never_panics_and_is_in_the_future(raw in prop_oneof![
        any::<String>(),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?(Z|[+-][0-2][0-9]:[0-5][0-9])",
    ]) {
        let fields = with_expiry(raw);
        if let Ok(credential) = NewCredential::validate(CredentialType::BearerToken, &fields, NOW) {
            prop_assert!(credential.expires_at.unwrap() > NOW);
        }
    }

    #[test]
    fn future_timestamps_are_accepted(seconds in 1i64..=10 * 366 * 86_400) {
        let at = NOW + time::Duration::seconds(seconds);
        let fields = with_expiry(at.format(&Rfc3339).unwrap());
        let credential =
            NewCredential::validate(CredentialType::BearerToken, &fields, NOW).unwrap();
        prop_assert_eq!(credential.expires_at, Some(at));
    }
}
