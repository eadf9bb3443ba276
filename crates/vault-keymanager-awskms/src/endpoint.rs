//! Where a service's requests go: the configured URL, else the AWS SDKs' environment
//! variables (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`), else AWS's regional
//! endpoint.

use url::{Host, Url};
use vault_core::KeyManagerError;

use crate::credentials::{Env, var};

/// The endpoint of `service` (`kms`, `sts`) in `region`.
///
/// Plain `http` is refused except to a loopback address: an Encrypt request carries the
/// keyring and an STS request the web identity token, in the clear without TLS (SigV4
/// signs, it does not encrypt). Loopback covers test servers and a local proxy.
pub(crate) fn resolve(
    service: &str,
    configured: Option<&str>,
    region: &str,
    env: Env<'_>,
) -> Result<Url, KeyManagerError> {
    let specific = format!("AWS_ENDPOINT_URL_{}", service.to_ascii_uppercase());
    let (text, from) = match configured {
        Some(url) => (url.to_owned(), "the configured endpoint".to_owned()),
        None => match var(env, &specific) {
            Some(url) => (url, specific),
            None => match var(env, "AWS_ENDPOINT_URL") {
                Some(url) => (url, "AWS_ENDPOINT_URL".to_owned()),
                None => {
                    let suffix = if region.starts_with("cn-") {
                        "amazonaws.com.cn"
                    } else {
                        "amazonaws.com"
                    };
                    (
                        format!("https://{service}.{region}.{suffix}"),
                        "the region".to_owned(),
                    )
                }
            },
        },
    };
    let invalid = |why: &str| KeyManagerError::Backend(format!("{from} {text:?} {why}"));
    let url = Url::parse(&text).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(invalid("has a query, fragment or user name"));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => return Err(invalid("has no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(invalid(
            "is plain http to a non-loopback host: the keyring would cross the network \
             unencrypted (use https)",
        )),
        _ => Err(invalid("is neither http nor https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_with(
        configured: Option<&str>,
        vars: &[(&str, &str)],
    ) -> Result<Url, KeyManagerError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        resolve("kms", configured, "eu-central-1", &env)
    }

    #[test]
    fn precedence_configured_specific_generic_region() {
        let both = [
            ("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:5001"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5002"),
        ];
        let url = |c, v| resolve_with(c, v).expect("url").to_string();
        assert_eq!(
            url(Some("https://kms.example"), &both),
            "https://kms.example/"
        );
        assert_eq!(url(None, &both), "http://127.0.0.1:5001/");
        assert_eq!(url(None, &both[1..]), "http://127.0.0.1:5002/");
        assert_eq!(url(None, &[]), "https://kms.eu-central-1.amazonaws.com/");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://localhost:4566",
            "http://[::1]:5000",
            "http://127.0.0.2",
        ] {
            assert!(resolve_with(Some(ok), &[]).is_ok(), "{ok}");
        }
        for bad in [
            "http://kms.example",
            "http://10.0.0.1:4566",
            "ftp://127.0.0.1",
            "https://kms.example/?x=1",
            "https://user@kms.example",
            "not a url",
        ] {
            assert!(
                matches!(
                    resolve_with(Some(bad), &[]),
                    Err(KeyManagerError::Backend(_))
                ),
                "{bad}"
            );
        }
    }
}
