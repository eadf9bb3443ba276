//! The two decisions grants make, as pure functions the vault's use cases call: which
//! grant lets a principal send a request (or which rule refuses it), and whether a granter
//! may make a grant (never to themselves, never beyond their own rights, never outliving
//! them).

use time::OffsetDateTime;

use super::{BrokenRule, Budget, Grant, Grantee, Permission, ValidGrant};
use crate::ids::AccessKeyId;
use crate::validation::{FieldError, ValidationErrors};

/// The grantees a principal is: its access key, its identity-provider subject, and the
/// groups its token names.
#[must_use]
pub fn grantees_of(
    access_key: Option<AccessKeyId>,
    subject: Option<&str>,
    groups: &[String],
) -> Vec<Grantee> {
    access_key
        .map(Grantee::AccessKey)
        .into_iter()
        .chain(subject.map(|s| Grantee::Subject(s.to_owned())))
        .chain(groups.iter().map(|g| Grantee::Group(g.clone())))
        .collect()
}

/// Why no grant lets a request through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UseRefusal {
    /// The principal holds no live grant of the credential.
    NotGranted,
    /// It holds some, and each refuses this request; the rule named is the one the first
    /// of them broke.
    RequestNotGranted(BrokenRule),
}

/// The grant that lets one of `grantees` send `request` (method and normalized path) with
/// the credential: among `grants` (the credential's), the first by id that is theirs,
/// unexpired, and whose rules allow the request. A use naming no request (`None`) needs a
/// grant whose rules allow every request.
///
/// # Errors
/// [`UseRefusal::NotGranted`] when none of `grants` is theirs and live;
/// [`UseRefusal::RequestNotGranted`] when each of those refuses the request.
pub fn grant_for<'g>(
    grants: &'g [Grant],
    grantees: &[Grantee],
    request: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> Result<&'g Grant, UseRefusal> {
    let mut broken = None;
    for grant in grants {
        if !grantees.contains(&grant.grantee) || !grant.is_live(grants, now) {
            continue;
        }
        let checked = match request {
            Some((method, path)) => grant.rules.check(method, path),
            None => grant.rules.check_unnamed(),
        };
        match checked {
            Ok(()) => return Ok(grant),
            Err(rule) => {
                broken.get_or_insert(rule);
            }
        }
    }
    Err(broken.map_or(UseRefusal::NotGranted, UseRefusal::RequestNotGranted))
}

/// What lets a principal grant a credential.
#[derive(Clone, Copy, Debug)]
pub enum Authority<'a> {
    /// An organization-wide scope: any grant, `manage` included.
    Organization,
    /// A live `manage` grant of the credential: `use` grants within its own rules, budget
    /// and life.
    Manage(&'a Grant),
}

/// Checks that a granter who is `granter` (its grantees), with `authority`, and whose key
/// or token expires at `granter_expires_at`, may make `grant`; returns it with its expiry
/// set to the latest it may have when it gave none.
///
/// # Errors
/// Each way the grant goes beyond the granter, naming the field.
pub fn check_grant(
    authority: Authority<'_>,
    granter: &[Grantee],
    granter_expires_at: Option<OffsetDateTime>,
    mut grant: ValidGrant,
) -> Result<ValidGrant, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if granter.contains(&grant.grantee) {
        errors.add("principal", "names you: nobody grants to themselves");
    }
    let mut latest = granter_expires_at;
    if let Authority::Manage(manage) = authority {
        if grant.permission != Permission::Use {
            errors.add(
                "permission",
                "must be use: a manage grant lets you grant use only",
            );
        }
        if !grant.rules.within(&manage.rules) {
            errors.add(
                "methods",
                "and paths must stay within your own grant's methods and paths",
            );
        }
        if let Some(error) = budget_beyond(grant.budget.as_ref(), manage.budget.as_ref()) {
            errors.extend(ValidationErrors::single(error.field, error.message));
        }
        latest = earliest(latest, manage.expires_at);
    }
    match (grant.expires_at, latest) {
        (Some(at), Some(latest)) if at > latest => errors.add(
            "expiresAt",
            "must not be later than your own key, token or grant: a grant never outlives its granter",
        ),
        (None, latest) => grant.expires_at = latest,
        _ => {}
    }
    errors.finish(|| grant)
}

/// How `budget` goes beyond `cap`, if it does: a window `cap` limits that `budget` leaves
/// open or sets higher.
fn budget_beyond(budget: Option<&Budget>, cap: Option<&Budget>) -> Option<FieldError> {
    let cap = cap?;
    let given = budget
        .map(|b| b.caps().collect::<Vec<_>>())
        .unwrap_or_default();
    cap.caps().find_map(
        |(window, limit)| match given.iter().find(|(w, _)| *w == window) {
            Some((_, mine)) if *mine <= limit => None,
            _ => Some(FieldError::new(
                "budget",
                format!(
                    "must cap {} at {limit} or fewer, as your own grant does",
                    window.as_str()
                ),
            )),
        },
    )
}

fn earliest(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::grants::RequestRules;
    use crate::ids::{CredentialId, GrantId, OrganizationId};

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00:00 UTC);

    fn rules(methods: &[&str], paths: &[&str]) -> RequestRules {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        RequestRules::parse(&strings(methods), &strings(paths)).expect("valid rules")
    }

    fn grant(grantee: Grantee, rules: RequestRules) -> Grant {
        Grant {
            id: GrantId::new(),
            organization_id: OrganizationId::new(),
            credential_id: CredentialId::new(),
            grantee,
            permission: Permission::Use,
            rules,
            budget: None,
            expires_at: None,
            granted_by: None,
            created_at: NOW,
            parent: None,
            binding: None,
        }
    }

    fn subject(name: &str) -> Grantee {
        Grantee::Subject(name.to_owned())
    }

    #[test]
    fn a_principal_is_its_key_its_subject_and_its_groups() {
        let key = AccessKeyId::new();
        assert_eq!(
            grantees_of(Some(key), Some("alice"), &["ops".to_owned()]),
            [
                Grantee::AccessKey(key),
                subject("alice"),
                Grantee::Group("ops".to_owned())
            ]
        );
        assert!(grantees_of(None, None, &[]).is_empty());
    }

    #[test]
    fn the_first_live_grant_that_fits_the_request_lets_it_through() {
        let me = [subject("alice"), Grantee::Group("ops".to_owned())];
        let reads = grant(subject("alice"), rules(&["GET"], &["/v1/charges*"]));
        let writes = grant(Grantee::Group("ops".to_owned()), rules(&["POST"], &[]));
        let expired = Grant {
            expires_at: Some(NOW - Duration::seconds(1)),
            ..grant(subject("alice"), RequestRules::default())
        };
        let someone_else = grant(subject("bob"), RequestRules::default());
        let grants = [expired, someone_else, reads.clone(), writes.clone()];
        assert_eq!(
            grant_for(&grants, &me, Some(("GET", "/v1/charges/1")), NOW),
            Ok(&reads)
        );
        assert_eq!(
            grant_for(&grants, &me, Some(("POST", "/v1/refunds")), NOW),
            Ok(&writes)
        );
        assert_eq!(
            grant_for(&grants, &me, Some(("DELETE", "/v1/charges/1")), NOW),
            Err(UseRefusal::RequestNotGranted(BrokenRule::Method))
        );
        assert_eq!(
            grant_for(&grants[..3], &me, Some(("GET", "/v1/refunds")), NOW),
            Err(UseRefusal::RequestNotGranted(BrokenRule::Path))
        );
        assert_eq!(
            grant_for(&grants[..2], &me, Some(("GET", "/v1/charges")), NOW),
            Err(UseRefusal::NotGranted),
            "an expired grant and someone else's grant are no grant"
        );
        assert_eq!(
            grant_for(
                &grants[..3],
                &me,
                Some(("GET", "/v1/charges/..%2Fadmin")),
                NOW
            ),
            Err(UseRefusal::RequestNotGranted(BrokenRule::Path)),
            "an encoded slash could climb out of the pattern upstream"
        );
        assert_eq!(
            grant_for(&grants, &me, None, NOW),
            Err(UseRefusal::RequestNotGranted(BrokenRule::Method)),
            "a use naming no request needs a grant without rules"
        );
        // A grant made under a manage grant lives only while that one does.
        let manage = Grant {
            permission: Permission::Manage,
            ..grant(subject("bob"), RequestRules::default())
        };
        let child = Grant {
            parent: Some(manage.id),
            ..grant(subject("alice"), RequestRules::default())
        };
        let both = [manage.clone(), child.clone()];
        assert_eq!(grant_for(&both, &me, None, NOW), Ok(&child));
        let lapsed = Grant {
            expires_at: Some(NOW),
            ..manage
        };
        for orphaned in [vec![child.clone()], vec![lapsed, child]] {
            assert_eq!(
                grant_for(&orphaned, &me, None, NOW),
                Err(UseRefusal::NotGranted),
                "a grant whose manage grant is gone or expired"
            );
        }
        let open = grant(subject("alice"), RequestRules::default());
        assert_eq!(
            grant_for(std::slice::from_ref(&open), &me, None, NOW),
            Ok(&open)
        );
    }

    fn valid(grantee: Grantee, permission: Permission, rules: RequestRules) -> ValidGrant {
        ValidGrant {
            grantee,
            permission,
            rules,
            budget: None,
            expires_at: None,
        }
    }

    fn fields(errors: &ValidationErrors) -> Vec<&str> {
        errors.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn nobody_grants_to_themselves() {
        let me = [subject("alice")];
        let errors = check_grant(
            Authority::Organization,
            &me,
            None,
            valid(subject("alice"), Permission::Use, RequestRules::default()),
        )
        .expect_err("a self-grant");
        assert_eq!(fields(&errors), ["principal"]);
    }

    #[test]
    fn a_manager_grants_use_within_its_own_rules_budget_and_life() {
        let me = [subject("lead")];
        let manage = Grant {
            permission: Permission::Manage,
            budget: Some(Budget {
                per_minute: Some(100),
                ..Budget::default()
            }),
            expires_at: Some(NOW + Duration::days(7)),
            ..grant(subject("lead"), rules(&["GET", "POST"], &["/v1/*"]))
        };
        let within = ValidGrant {
            budget: Some(Budget {
                per_minute: Some(10),
                total: Some(1000),
                ..Budget::default()
            }),
            ..valid(
                subject("dev"),
                Permission::Use,
                rules(&["GET"], &["/v1/charges*"]),
            )
        };
        let made = check_grant(Authority::Manage(&manage), &me, None, within).expect("within");
        assert_eq!(
            made.expires_at, manage.expires_at,
            "no later than the manager's grant"
        );

        let beyond = ValidGrant {
            budget: Some(Budget {
                per_hour: Some(10),
                ..Budget::default()
            }),
            expires_at: Some(NOW + Duration::days(8)),
            ..valid(
                subject("dev"),
                Permission::Manage,
                rules(&["DELETE"], &["/v1/charges"]),
            )
        };
        let errors =
            check_grant(Authority::Manage(&manage), &me, None, beyond).expect_err("beyond");
        assert_eq!(
            fields(&errors),
            ["permission", "methods", "budget", "expiresAt"]
        );
        let open_ended = valid(subject("dev"), Permission::Use, rules(&["GET"], &["/v1/a"]));
        let errors =
            check_grant(Authority::Manage(&manage), &me, None, open_ended).expect_err("no cap");
        assert_eq!(
            fields(&errors),
            ["budget"],
            "the manager's per-minute cap is missing"
        );
    }

    #[test]
    fn a_grant_never_outlives_its_granter() {
        let me = [subject("admin")];
        let key_expires = NOW + Duration::days(1);
        let made = check_grant(
            Authority::Organization,
            &me,
            Some(key_expires),
            valid(subject("dev"), Permission::Manage, RequestRules::default()),
        )
        .expect("organization-wide");
        assert_eq!(made.expires_at, Some(key_expires));
        let later = ValidGrant {
            expires_at: Some(key_expires + Duration::seconds(1)),
            ..valid(subject("dev"), Permission::Use, RequestRules::default())
        };
        let errors =
            check_grant(Authority::Organization, &me, Some(key_expires), later).expect_err("later");
        assert_eq!(fields(&errors), ["expiresAt"]);
        let unlimited = check_grant(
            Authority::Organization,
            &me,
            None,
            valid(subject("dev"), Permission::Use, RequestRules::default()),
        )
        .expect("no expiry anywhere");
        assert_eq!(unlimited.expires_at, None);
    }
}
