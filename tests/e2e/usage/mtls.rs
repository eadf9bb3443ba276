//! `mtls` credentials through the binary, against an HTTPS server on 127.0.0.1 that
//! requires a client certificate (Python's `ssl`, CERT_REQUIRED: `helpers/mtls_server.py`).
//! Certificates are made here with rcgen: a server CA, a client CA, and a client
//! certificate with its key.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use super::*;
use crate::helpers::python::PythonServer;

/// A CA of `name`.
pub(crate) fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a CA key")).expect("the CA")
}

/// A certificate for `names` (or a client, with none) signed by `issuer`, and its key.
pub(crate) fn leaf(
    common_name: &str,
    names: &[&str],
    issuer: &CertifiedIssuer<'static, KeyPair>,
    not_after: time::OffsetDateTime,
) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("valid names");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.not_after = not_after;
    let key = KeyPair::generate().expect("a key");
    let certificate = params.signed_by(&key, issuer).expect("the certificate");
    (certificate.pem(), key.serialize_pem())
}

/// The server, with a certificate of `server_ca`, requiring one of `client_ca` if given.
pub(super) fn mtls_server(
    server_ca: &CertifiedIssuer<'static, KeyPair>,
    client_ca: Option<&str>,
) -> (PythonServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let far = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let (cert, key) = leaf("mtls server", &["127.0.0.1"], server_ca, far);
    let write = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).expect(name);
        path
    };
    let mut args = vec![
        "--cert".into(),
        write("cert.pem", &cert),
        "--key".into(),
        write("key.pem", &key),
    ];
    if let Some(client_ca) = client_ca {
        args.extend(["--client-ca".into(), write("client-ca.pem", client_ca)]);
    }
    (PythonServer::start("mtls_server.py", &args, None), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_certificate_is_presented_to_a_server_that_requires_one() {
    let (server_ca, client_ca, other_ca) = (ca("server CA"), ca("client CA"), ca("other CA"));
    let (server, _dir) = mtls_server(&server_ca, Some(&client_ca.pem()));
    let origin = format!("https://127.0.0.1:{}", server.port);
    // The vault trusts the server's CA for every credential, so a call without a client
    // certificate gets as far as the server's refusal.
    let ca_file = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(ca_file.path(), server_ca.pem()).expect("written");
    let ca_path = ca_file.path().display().to_string();
    let mut vault = Vault {
        app: TestServer::start(&[
            ("RUST_LOG", "debug"),
            ("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true"),
            ("VAULT_PROXY_CA_FILE", &ca_path),
        ]),
        canaries: Vec::new(),
    };
    let not_after = (time::OffsetDateTime::now_utc() + time::Duration::days(20))
        .replace_nanosecond(0)
        .expect("whole seconds");
    let (certificate, key) = leaf("gateway-client", &[], &client_ca, not_after);
    // The key is secret: no line of it may come back or be logged.
    let first_key_lines = key_lines(&key);
    vault.canaries.extend(first_key_lines.iter().cloned());

    let body = |certificate: &str, key: &str, ca_bundle: Option<String>| {
        let mut body = json!({"name": "partner mtls", "type": "mtls", "certificate": certificate,
                              "privateKey": key, "allowedHosts": [origin]});
        if let Some(bundle) = ca_bundle {
            body["caBundle"] = json!(bundle);
        }
        body
    };
    // Pinned to the server's CA, which the vault trusts anyway; and a second pinned to
    // another CA, which the server's certificate does not chain to.
    let pinned = vault
        .create(&body(&certificate, &key, Some(server_ca.pem())))
        .await;
    let mispinned = vault
        .create(&body(&certificate, &key, Some(other_ca.pem())))
        .await;

    let shown = vault.get_json(&format!("/credentials/{pinned}")).await;
    assert!(
        shown["subject"]
            .as_str()
            .is_some_and(|s| s.contains("CN=gateway-client")),
        "{shown}"
    );
    assert!(
        shown["issuer"]
            .as_str()
            .is_some_and(|s| s.contains("CN=client CA")),
        "{shown}"
    );
    assert!(
        shown["serialNumber"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{shown}"
    );
    let rfc3339 = not_after
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formats");
    assert_eq!(shown["notAfter"], rfc3339.as_str(), "{shown}");
    assert_eq!(
        shown["expiresAt"],
        rfc3339.as_str(),
        "expiresAt is notAfter: {shown}"
    );
    assert!(shown.get("privateKey").is_none() && shown.get("certificate").is_none());

    let call = json!({"method": "GET", "url": format!("{origin}/partner/orders")});
    let used = vault.proxy(&pinned, &call).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert_eq!(used.json()["client"], "gateway-client", "{}", used.body);

    // A new certificate is read again and presented; restoring version 1 brings the first
    // one back, read again too.
    let (renewed, renewed_key) = leaf("gateway-client-2", &[], &client_ca, not_after);
    vault.canaries.extend(key_lines(&renewed_key));
    let patched = vault
        .patch(
            &pinned,
            &json!({"certificate": renewed, "privateKey": renewed_key}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert!(
        patched.json()["subject"]
            .as_str()
            .is_some_and(|s| s.contains("CN=gateway-client-2"))
    );
    let used = vault.proxy(&pinned, &call).await;
    assert_eq!(used.json()["client"], "gateway-client-2", "{}", used.body);
    let restored = vault
        .app
        .api
        .restore_version(&pinned, 1, &vault.app.token)
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    let shown = vault.get_json(&format!("/credentials/{pinned}")).await;
    assert!(
        shown["subject"]
            .as_str()
            .is_some_and(|s| s.ends_with("CN=gateway-client")),
        "{shown}"
    );
    let used = vault.proxy(&pinned, &call).await;
    assert_eq!(used.json()["client"], "gateway-client", "{}", used.body);

    // The same call without the certificate: the server refuses the handshake.
    let token = vault.secret("tok");
    let bearer = vault
        .create(
            &json!({"name": "no cert", "type": "bearer_token", "value": token,
                        "allowedHosts": [origin]}),
        )
        .await;
    let refused = vault.proxy(&bearer, &call).await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);
    // Pinned to a CA the server's certificate does not chain to: not sent.
    let refused = vault.proxy(&mispinned, &call).await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.body);

    // A certificate with another key, a certificate without its key, a bundle that is not
    // PEM: refused at create, naming the field.
    let (_, other_key) = leaf("someone else", &[], &client_ca, not_after);
    vault
        .canaries
        .push(other_key.lines().nth(1).expect("a key line").to_owned());
    let missing_key = json!({"name": "half", "type": "mtls", "certificate": certificate,
                             "allowedHosts": [origin]});
    for (body, field) in [
        (body(&certificate, &other_key, None), "privateKey"),
        (missing_key, "privateKey"),
        (
            body(&certificate, &key, Some("not pem".to_owned())),
            "caBundle",
        ),
        (
            body(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                &key,
                None,
            ),
            "certificate",
        ),
    ] {
        let reply = vault.call(Method::POST, "/credentials", Some(&body)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            reply.body
        );
        assert_eq!(reply.json()["field"], field, "{}", reply.body);
    }

    // An expiry set earlier than notAfter is kept.
    let earlier = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let mut early = body(&certificate, &key, None);
    early["expiresAt"] = json!(
        earlier
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    );
    let early = vault.create(&early).await;
    let shown = vault.get_json(&format!("/credentials/{early}")).await;
    assert_ne!(shown["expiresAt"], rfc3339.as_str(), "{shown}");
    vault.stop_and_check_logs(&first_key_lines);
}

/// `certificate` and `privateKey` as one PKCS#12 archive, made by `openssl pkcs12
/// -export` (the format client certificates are often handed over in).
pub(crate) fn pkcs12(certificate: &str, key: &str, chain: &str, password: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, pem) in [
        ("cert.pem", certificate),
        ("key.pem", key),
        ("chain.pem", chain),
    ] {
        std::fs::write(dir.path().join(name), pem).expect(name);
    }
    let output = std::process::Command::new("openssl")
        .args(["pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem"])
        .args(["-certfile", "chain.pem", "-out", "client.p12"])
        .args(["-passout", &format!("pass:{password}")])
        .current_dir(dir.path())
        .output()
        .expect("openssl runs (install it: the mtls tests make PKCS#12 archives with it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let archive = std::fs::read(dir.path().join("client.p12")).expect("the archive");
    base64::engine::general_purpose::STANDARD.encode(archive)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pkcs12_archive_is_opened_once_and_presented_as_its_certificate() {
    let (server_ca, client_ca) = (ca("server CA"), ca("client CA"));
    let (server, _dir) = mtls_server(&server_ca, Some(&client_ca.pem()));
    let origin = format!("https://127.0.0.1:{}", server.port);
    let mut vault = Vault::start(true);
    let far = time::OffsetDateTime::now_utc() + time::Duration::days(20);
    let (certificate, key) = leaf("p12-client", &[], &client_ca, far);
    let password = vault.secret("p12-password");
    let archive = pkcs12(&certificate, &key, &client_ca.pem(), &password);
    let mut canaries = key_lines(&key);
    // The archive holds the key: no part of it may come back or be logged either.
    canaries.extend(
        archive
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned()),
    );
    vault.canaries.extend(canaries.iter().cloned());

    let body = json!({"name": "from p12", "type": "mtls", "certificateFormat": "pkcs12",
                      "pkcs12": archive, "pkcs12Password": password,
                      "caBundle": server_ca.pem(), "allowedHosts": [origin]});
    let id = vault.create(&body).await;
    let shown = vault.get_json(&format!("/credentials/{id}")).await;
    assert_eq!(shown["certificateFormat"], "pkcs12", "{shown}");
    assert!(
        shown["subject"]
            .as_str()
            .is_some_and(|s| s.contains("CN=p12-client")),
        "{shown}"
    );
    let call = json!({"method": "GET", "url": format!("{origin}/p12")});
    let used = vault.proxy(&id, &call).await;
    assert_eq!(used.status, StatusCode::OK, "{}", used.body);
    assert_eq!(used.json()["client"], "p12-client", "{}", used.body);

    // The format follows the fields given: PEM values replace the archive's.
    let (renewed, renewed_key) = leaf("pem-client", &[], &client_ca, far);
    vault.canaries.extend(key_lines(&renewed_key));
    let patched = vault
        .patch(
            &id,
            &json!({"certificate": renewed, "privateKey": renewed_key}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.json()["certificateFormat"],
        "pem",
        "{}",
        patched.body
    );
    assert_eq!(vault.proxy(&id, &call).await.json()["client"], "pem-client");

    // A wrong password, an archive that is not one, and both formats at once: refused,
    // naming the field.
    let wrong = json!({"pkcs12Password": "not-the-password"});
    let not_archive = json!({"pkcs12": "AAAA", "pkcs12Password": password});
    let both = json!({"certificate": certificate});
    for (change, field) in [
        (wrong, "pkcs12Password"),
        (not_archive, "pkcs12"),
        (both, "certificate"),
    ] {
        let mut create = body.clone();
        create
            .as_object_mut()
            .expect("object")
            .extend(change.as_object().expect("object").clone());
        let reply = vault
            .call(Method::POST, "/credentials", Some(&create))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{change}: {}",
            reply.body
        );
        assert_eq!(reply.json()["field"], field, "{change}: {}", reply.body);
    }
    vault.stop_and_check_logs(&canaries);
}
