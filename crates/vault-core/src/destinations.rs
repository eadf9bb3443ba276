//! Which changes widen where a credential's secret may go.
//!
//! A key that may change a credential but not read it must not be able to send its secret
//! somewhere new: that would be reading it with extra steps. So a change that *adds* a
//! destination takes effect only when the same request re-enters the secret values (the
//! new destination then receives the caller's own secret, not the stored one), or when the
//! principal holds [`Scope::CredentialsRoute`](crate::access_key::Scope). Narrowing stays
//! free. The same rule guards restoring a version sealed before the destinations widened.

use crate::ca_bundle::CaBundle;
use crate::credential::Credential;

/// What authorised a change that added destinations; the audit event records it as its
/// reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteAuthority {
    /// The request re-entered the secret values.
    SecretReentered,
    /// The principal holds `credentials:route`.
    RouteScope,
}

impl RouteAuthority {
    /// The reason recorded on the (successful) audit event of the change.
    #[must_use]
    pub const fn audit_reason(self) -> &'static str {
        match self {
            Self::SecretReentered => "destinations-added:secret-reentered",
            Self::RouteScope => "destinations-added:credentials-route",
        }
    }
}

/// The fields through which a change from `current` to `next` adds a place the secret, or
/// a token minted from it, could be sent: an `allowedHosts` entry no current entry covers,
/// a `caBundle` trusting a root the current one did not (whoever holds that root's key can
/// pose as an allowed host), or a field of the type that names a destination (an OAuth2
/// `tokenUrl` or `audience`, a JWT `aud` claim). Empty when the change adds none.
#[must_use]
pub fn widened_fields(current: &Credential, next: &Credential) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let old = &current.allowed_hosts;
    if next
        .allowed_hosts
        .entries()
        .iter()
        .any(|new| !old.entries().iter().any(|entry| entry.covers(new)))
    {
        fields.push("allowedHosts");
    }
    if !CaBundle::narrows(current.ca_bundle.as_ref(), next.ca_bundle.as_ref()) {
        fields.push("caBundle");
    }
    fields.extend(next.kind.widened_fields(&current.kind));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::CredentialKind;
    use crate::credential::{
        CredentialName, JwtAlgorithm, JwtClaims, JwtConfig, OAuth2ClientAuth, OAuth2Config,
        Placement,
    };
    use crate::egress::AllowedHosts;
    use crate::ids::{CredentialId, OrganizationId};

    /// What a change of `current` to `kind` and `hosts` widens.
    fn widened(
        current: &Credential,
        kind: &CredentialKind,
        hosts: &AllowedHosts,
    ) -> Vec<&'static str> {
        let next = Credential {
            kind: kind.clone(),
            allowed_hosts: hosts.clone(),
            ..current.clone()
        };
        widened_fields(current, &next)
    }

    fn hosts(entries: &[&str]) -> AllowedHosts {
        let raw: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        AllowedHosts::parse(&raw).expect("valid hosts")
    }

    fn credential(kind: CredentialKind, allowed: &[&str]) -> Credential {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        Credential {
            id: CredentialId::new(),
            organization_id: OrganizationId::new(),
            name: CredentialName::parse("c").expect("name"),
            description: None,
            kind,
            allowed_hosts: hosts(allowed),
            ca_bundle: None,
            secret_hints: std::collections::BTreeMap::new(),
            expires_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn oauth2(token_url: &str, audience: Option<&str>) -> CredentialKind {
        CredentialKind::OAuth2(OAuth2Config {
            client_id: "id".into(),
            token_url: token_url.into(),
            scopes: vec![],
            client_auth: OAuth2ClientAuth::Basic,
            audience: audience.map(str::to_owned),
            ..<OAuth2Config as crate::credential_types::TypeRules>::example()
        })
    }

    #[test]
    fn a_new_host_widens_and_a_covered_or_removed_one_does_not() {
        let bearer = CredentialKind::BearerToken(crate::credential_types::bearer_token::Config {});
        let current = credential(bearer.clone(), &["api.example.com", "http://10.0.0.1:80"]);
        let same = |h: &[&str]| widened(&current, &bearer, &hosts(h));
        assert!(same(&["api.example.com"]).is_empty(), "removing is free");
        assert!(
            same(&["api.example.com:8443"]).is_empty(),
            "a port of a covered host"
        );
        assert!(same(&[]).is_empty());
        assert_eq!(same(&["evil.example"]), ["allowedHosts"]);
        // Another scheme or another port of a port-bound entry is somewhere else.
        assert_eq!(same(&["http://api.example.com:80"]), ["allowedHosts"]);
        assert_eq!(same(&["http://10.0.0.1:81"]), ["allowedHosts"]);
        assert_eq!(
            same(&["10.0.0.1:80"]),
            ["allowedHosts"],
            "https is not http"
        );
    }

    #[test]
    fn a_token_endpoint_or_audience_change_widens() {
        let current = credential(oauth2("https://a.example/token", Some("x")), &["a.example"]);
        let h = hosts(&["a.example"]);
        let check = |kind: CredentialKind| widened(&current, &kind, &h);
        assert!(check(oauth2("https://a.example/token", Some("x"))).is_empty());
        assert!(check(oauth2("https://a.example/token", None)).is_empty());
        assert_eq!(
            check(oauth2("https://a.example/t2", Some("x"))),
            ["tokenUrl"]
        );
        assert_eq!(
            check(oauth2("https://a.example/token", Some("y"))),
            ["audience"]
        );
    }

    #[test]
    fn a_jwt_audience_change_widens() {
        let jwt = |aud: Option<&str>| {
            CredentialKind::Jwt(JwtConfig {
                algorithm: JwtAlgorithm::HS256,
                claims: JwtClaims {
                    aud: aud.map(str::to_owned),
                    ..JwtClaims::default()
                },
                ttl_seconds: 60,
                placement: Placement::jwt_default(),
                key_id: None,
            })
        };
        let current = credential(jwt(Some("svc")), &[]);
        let none = hosts(&[]);
        assert!(widened(&current, &jwt(Some("svc")), &none).is_empty());
        assert!(widened(&current, &jwt(None), &none).is_empty());
        assert_eq!(widened(&current, &jwt(Some("other")), &none), ["claims"]);
    }

    #[test]
    fn pinning_other_roots_widens_and_dropping_some_does_not() {
        let bearer = CredentialKind::BearerToken(crate::credential_types::bearer_token::Config {});
        let pem = |bodies: &[&str]| {
            let blocks: Vec<String> = bodies
                .iter()
                .map(|b| format!("-----BEGIN CERTIFICATE-----\n{b}\n-----END CERTIFICATE-----"))
                .collect();
            Some(CaBundle::parse(&blocks.join("\n")).expect("a bundle"))
        };
        let current = Credential {
            ca_bundle: pem(&["AA==", "AB=="]),
            ..credential(bearer, &["api.example.com"])
        };
        let with = |ca_bundle| {
            let next = Credential {
                ca_bundle,
                ..current.clone()
            };
            widened_fields(&current, &next)
        };
        assert!(with(pem(&["AB=="])).is_empty());
        assert_eq!(with(pem(&["AB==", "AC=="])), ["caBundle"]);
        assert_eq!(with(None), ["caBundle"], "every public root again");
    }
}
