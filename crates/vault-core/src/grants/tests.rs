use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-12-07 10:20:30 UTC);

fn fields_named(errors: &ValidationErrors) -> Vec<&str> {
    errors.errors().iter().map(|e| e.field.as_str()).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn grantees_are_written_and_read_back_as_kind_and_name() {
    let key = AccessKeyId::new();
    for grantee in [
        Grantee::AccessKey(key),
        Grantee::Subject("auth0|alice".to_owned()),
        Grantee::Group("payments:ops".to_owned()),
    ] {
        let written = grantee.to_string();
        assert_eq!(written.parse::<Grantee>().expect(&written), grantee);
        let json = serde_json::to_value(&grantee).expect("json");
        assert_eq!(json, written);
        assert_eq!(
            serde_json::from_value::<Grantee>(json).expect("back"),
            grantee
        );
    }
    for bad in [
        "",
        "alice",
        "key:not-a-uuid",
        "user:alice",
        "subject:",
        "group:a\nb",
        &format!("subject:{}", "x".repeat(256)),
    ] {
        let error = bad.parse::<Grantee>().expect_err(bad);
        assert_eq!(error.field, "principal", "{bad}");
    }
}

#[test]
fn path_patterns_are_exact_or_a_prefix_and_never_climb() {
    let exact = PathPattern::parse("/v1/charges").expect("exact");
    assert!(exact.matches("/v1/charges"));
    assert!(!exact.matches("/v1/charges/ch_1"));
    assert!(!exact.matches("/v1/chargesx"));
    let prefix = PathPattern::parse("/v1/charges*").expect("prefix");
    assert!(prefix.matches("/v1/charges"));
    assert!(prefix.matches("/v1/charges/ch_1"));
    assert!(!prefix.matches("/v1/refunds"));
    for bad in [
        "v1/charges",
        "/v1/*/charges",
        "*",
        "/v1/charges?limit=1",
        "/v1/charges#x",
        "/v1/ charges",
        "/v1/../admin*",
        "/v1/%2E%2e/admin",
        "/./v1",
    ] {
        let error = PathPattern::parse(bad).expect_err(bad);
        assert_eq!(error.field, "paths", "{bad}");
    }
    assert!(PathPattern::parse(&format!("/{}", "a".repeat(MAX_PATH_PATTERN_BYTES))).is_err());
}

#[test]
fn rules_name_the_one_a_request_breaks() {
    let rules = RequestRules::parse(&strings(&["GET", "POST"]), &strings(&["/v1/charges*"]))
        .expect("valid");
    assert_eq!(rules.check("GET", "/v1/charges/ch_1"), Ok(()));
    assert_eq!(
        rules.check("DELETE", "/v1/charges/ch_1"),
        Err(BrokenRule::Method)
    );
    assert_eq!(rules.check("GET", "/v1/refunds"), Err(BrokenRule::Path));
    assert_eq!(BrokenRule::Path.field(), "paths");
    let open = RequestRules::default();
    assert_eq!(open.check("PATCH", "/anything"), Ok(()));

    let errors = RequestRules::parse(&strings(&["get", "G T", ""]), &strings(&["nope"]))
        .expect_err("invalid");
    assert_eq!(
        fields_named(&errors),
        ["methods", "methods", "methods", "paths"]
    );
    let many: Vec<String> = (0..=MAX_PATH_PATTERNS).map(|i| format!("/p{i}")).collect();
    let errors = RequestRules::parse(&[], &many).expect_err("too many");
    assert_eq!(fields_named(&errors), ["paths"]);
}

#[test]
fn narrower_rules_are_within_wider_ones_and_not_the_reverse() {
    let rules = |methods: &[&str], paths: &[&str]| {
        RequestRules::parse(&strings(methods), &strings(paths)).expect("valid")
    };
    let wide = rules(&["GET", "POST"], &["/v1/*"]);
    assert!(rules(&["GET"], &["/v1/charges*"]).within(&wide));
    assert!(rules(&["GET"], &["/v1/charges"]).within(&wide));
    assert!(!rules(&["DELETE"], &["/v1/charges"]).within(&wide));
    assert!(!rules(&["GET"], &["/v2/charges"]).within(&wide));
    assert!(
        !rules(&[], &["/v1/charges"]).within(&wide),
        "any method is wider"
    );
    assert!(!rules(&["GET"], &[]).within(&wide), "any path is wider");
    assert!(
        wide.within(&RequestRules::default()),
        "no rules allow everything"
    );
    assert!(!rules(&["GET"], &["/v1*"]).within(&rules(&["GET"], &["/v1/*"])));
}

#[test]
fn budgets_cap_at_least_one_window_with_positive_whole_numbers() {
    let caps = |minute, hour, day, total| {
        [
            (Window::Minute, minute),
            (Window::Hour, hour),
            (Window::Day, day),
            (Window::Total, total),
        ]
    };
    let budget = Budget::parse(caps(Some(10), None, Some(1000), Some(5000))).expect("valid");
    assert_eq!(
        budget.caps().collect::<Vec<_>>(),
        [
            (Window::Minute, 10),
            (Window::Day, 1000),
            (Window::Total, 5000)
        ]
    );
    let errors = Budget::parse(caps(Some(0), Some(-1), None, Some(i64::MAX))).expect_err("bad");
    assert_eq!(
        fields_named(&errors),
        ["budget.perMinute", "budget.perHour", "budget.total"]
    );
    let errors = Budget::parse(caps(None, None, None, None)).expect_err("empty");
    assert_eq!(fields_named(&errors), ["budget"]);
}

#[test]
fn windows_start_on_their_boundary_and_say_when_they_end() {
    assert_eq!(Window::Minute.start(NOW), NOW.unix_timestamp() - 30);
    assert_eq!(Window::Minute.retry_after(NOW), Some(30));
    assert_eq!(Window::Hour.retry_after(NOW), Some(3_600 - 20 * 60 - 30));
    assert_eq!(
        Window::Day.retry_after(NOW),
        Some(86_400 - (10 * 3_600 + 20 * 60 + 30))
    );
    assert_eq!(Window::Total.start(NOW), 0);
    assert_eq!(Window::Total.retry_after(NOW), None);
}

#[test]
fn a_grant_input_is_checked_field_by_field() {
    let key = AccessKeyId::new();
    let input = GrantInput {
        principal: Some(format!("key:{key}")),
        permission: None,
        methods: strings(&["GET"]),
        paths: strings(&["/v1/charges*"]),
        budget: Some([
            (Window::Minute, Some(50)),
            (Window::Hour, None),
            (Window::Day, None),
            (Window::Total, None),
        ]),
        expires_at: Some("2027-01-01T00:00:00Z".to_owned()),
    };
    let valid = input.validate(NOW).expect("valid");
    assert_eq!(valid.grantee, Grantee::AccessKey(key));
    assert_eq!(valid.permission, Permission::Use, "use by default");
    assert_eq!(valid.budget.and_then(|b| b.per_minute), Some(50));
    assert!(valid.expires_at.is_some());

    let bad = GrantInput {
        principal: Some("someone".to_owned()),
        permission: Some("own".to_owned()),
        methods: strings(&["FETCH!"]),
        paths: strings(&["charges"]),
        budget: Some([
            (Window::Minute, Some(0)),
            (Window::Hour, None),
            (Window::Day, None),
            (Window::Total, None),
        ]),
        expires_at: Some("2020-01-01T00:00:00Z".to_owned()),
    };
    let errors = bad.validate(NOW).expect_err("invalid");
    assert_eq!(
        fields_named(&errors),
        [
            "principal",
            "permission",
            "methods",
            "paths",
            "budget.perMinute",
            "expiresAt"
        ]
    );
    let errors = GrantInput::default()
        .validate(NOW)
        .expect_err("no principal");
    assert_eq!(fields_named(&errors), ["principal"]);
}

#[test]
fn the_binding_message_changes_with_every_field_that_grants_something() {
    let at = datetime!(2026-12-07 12:00 UTC);
    let grant = Grant {
        id: GrantId::new(),
        organization_id: OrganizationId::new(),
        credential_id: CredentialId::new(),
        grantee: Grantee::Subject("alice".to_owned()),
        permission: Permission::Use,
        rules: RequestRules::parse(&strings(&["GET"]), &strings(&["/v1/charges*"])).expect("rules"),
        budget: Some(Budget {
            per_minute: Some(5),
            ..Budget::default()
        }),
        expires_at: Some(at),
        granted_by: Some(AccessKeyId::new()),
        created_at: at,
        parent: None,
        binding: None,
    };
    let base = binding_message(&grant);
    let changed = [
        Grant {
            id: GrantId::new(),
            ..grant.clone()
        },
        Grant {
            organization_id: OrganizationId::new(),
            ..grant.clone()
        },
        Grant {
            credential_id: CredentialId::new(),
            ..grant.clone()
        },
        Grant {
            grantee: Grantee::Group("alice".to_owned()),
            ..grant.clone()
        },
        Grant {
            permission: Permission::Manage,
            ..grant.clone()
        },
        Grant {
            rules: RequestRules::default(),
            ..grant.clone()
        },
        Grant {
            rules: RequestRules::parse(&strings(&["GET"]), &strings(&["/v1/charges"]))
                .expect("rules"),
            ..grant.clone()
        },
        Grant {
            budget: None,
            ..grant.clone()
        },
        Grant {
            budget: Some(Budget {
                per_minute: Some(6),
                ..Budget::default()
            }),
            ..grant.clone()
        },
        Grant {
            budget: Some(Budget {
                per_hour: Some(5),
                ..Budget::default()
            }),
            ..grant.clone()
        },
        Grant {
            expires_at: None,
            ..grant.clone()
        },
        Grant {
            expires_at: Some(at + time::Duration::microseconds(1)),
            ..grant.clone()
        },
        Grant {
            granted_by: None,
            ..grant.clone()
        },
        Grant {
            parent: Some(GrantId::new()),
            ..grant.clone()
        },
    ];
    for other in &changed {
        assert_ne!(binding_message(other), base, "{other:?}");
    }
    // What grants nothing may change: when it was made, and the binding itself.
    let unbound = Grant {
        created_at: at + time::Duration::days(1),
        binding: Some(GrantBinding([1; 32])),
        ..grant.clone()
    };
    assert_eq!(binding_message(&unbound), base);
    assert!(!format!("{:?}", GrantBinding([0xab; 32])).contains("ab"));
}
