//! A full disk: SQLite on a 16 MiB tmpfs of the server's own, in a user and mount
//! namespace. Writes and uses fail cleanly with 503 and change nothing, reads go on, and the
//! same process takes writes again once space comes back.

use super::*;

/// Mounts a tmpfs of `size` on `$CHAOS_VOLUME` in new user and mount namespaces (as root of
/// the user namespace, mapped to whoever we are), then runs `script`'s rest. The mount
/// exists only for that process and dies with it.
fn in_own_volume(dir: &Path, volume: &Path, size: &str, script: &str) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CHAOS_VOLUME", volume)
        .stdin(Stdio::null())
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(format!(
            r#"mount -t tmpfs -o size={size} tmpfs "$CHAOS_VOLUME" && {script}"#
        ));
    cmd
}

/// Whether this machine lets us mount a tmpfs in a user namespace; skips loudly (or fails
/// under `CI`) when it does not.
fn tmpfs_possible(dir: &Path) -> bool {
    let volume = dir.join("probe");
    std::fs::create_dir(&volume).expect("a directory");
    let probe = in_own_volume(dir, &volume, "1m", r#"touch "$CHAOS_VOLUME/x""#).output();
    let why = match probe {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        Err(error) => format!("unshare: {error}"),
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI: the full-disk test needs `unshare --user --map-root-user --mount` and tmpfs: {why}"
    );
    eprintln!(
        "\n*** SKIPPED: cannot mount a tmpfs in a user namespace ({why}); the full-disk test \
         did not run ***\n"
    );
    false
}

/// Writes zeros to `path` until the volume is full; returns how many bytes fitted.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("the filler opens");
    let mut written = 0u64;
    for chunk in [1 << 20, 1 << 12, 1] {
        let zeros = vec![0u8; chunk];
        loop {
            // Bounded: a volume bigger than ours means the filler is not on it.
            assert!(written < 64 << 20, "the filler is not on the 16 MiB volume");
            match file.write_all(&zeros).and_then(|()| file.flush()) {
                Ok(()) => written += chunk as u64,
                Err(error) if error.kind() == std::io::ErrorKind::StorageFull => break,
                Err(error) => panic!("filling the volume: {error}"),
            }
        }
    }
    // What the last failed write_all may have got in.
    file.metadata().expect("metadata").len()
}

/// A clean refusal: 503 problem+json `store-unavailable` with `Retry-After`.
fn assert_unavailable(what: &str, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} on a full disk: {}",
        reply.body
    );
    let body = reply.json();
    assert_eq!(body["code"], "store-unavailable", "{what}: {body}");
    assert_eq!(
        reply
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    assert!(
        reply.headers.contains_key("retry-after"),
        "{what}: no Retry-After"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_cleanly_and_reads_go_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    if !tmpfs_possible(dir.path()) {
        return;
    }
    let volume = dir.path().join("volume");
    std::fs::create_dir(&volume).expect("a directory");
    let token_file = dir.path().join("token");
    let key = new_key();
    let mut cmd = in_own_volume(
        dir.path(),
        &volume,
        "16m",
        r#""$0" bootstrap --org acme > "$CHAOS_TOKEN" && exec "$0""#,
    );
    cmd.arg(BIN)
        .env("CHAOS_TOKEN", &token_file)
        .env("VAULT_BIND", "127.0.0.1:0")
        .env("ENCRYPTION_KEY", &key)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/vault.db", volume.display()),
        )
        .env("VAULT_PROXY_ALLOW_PRIVATE_NETWORKS", "true");
    let mut server = Server::start(cmd);
    let token = std::fs::read_to_string(&token_file)
        .expect("the bootstrap printed a key")
        .trim()
        .to_owned();
    let token = token.as_str();
    let api = bounded_api(&server);
    let pid = server.child.id();
    let upstream = start_upstream().await;

    // Before: 12 credentials, a third of them with a second version.
    let writer = Burst::new(&api, token, &upstream);
    let mut ledger = Ledger::new(0);
    for i in 0..12u32 {
        let name = ledger.fresh("disk");
        let value = ledger.fresh("sk_disk_secret");
        let create = Op::Create {
            name: name.clone(),
            value,
        };
        perform(&writer, &mut ledger, create)
            .await
            .expect("created");
        if i.is_multiple_of(3) {
            let value = ledger.fresh("sk_disk_secret");
            let patch = Op::Patch { name, value };
            perform(&writer, &mut ledger, patch).await.expect("updated");
        }
    }
    // And one whose use starts with a token request, which carries its client secret.
    let created = api
        .create_credential(
            token,
            &json!({"name": "disk-oauth2", "type": "oauth2", "clientId": "c",
                    "clientSecret": "disk-client-secret", "tokenUrl": upstream.url("/token"),
                    "allowedHosts": [upstream.origin()]}),
        )
        .await;
    let oauth2_id = created.id();
    let before = list_all(&api, token).await;
    assert_eq!(before.len(), 13);

    // Fill the server's volume, seen through its own mount namespace.
    let filler = Path::new("/proc")
        .join(pid.to_string())
        .join("root")
        .join(volume.strip_prefix("/").expect("absolute"))
        .join("filler");
    let filled = fill(&filler);
    assert!(
        std::fs::metadata(volume.join("filler")).is_err(),
        "the filler is on the server's own volume, not in our view of the directory"
    );

    let some = ledger.live.values().next().expect("a credential").clone();
    let requests_before = upstream.requests().len();
    // Several times each: a refusal must not wedge or kill the server.
    for attempt in 0..3 {
        let create = json!({"name": format!("refused-{attempt}"), "type": "api_key",
                            "value": "sk_refused_0123456789", "allowedHosts": [upstream.origin()]});
        let reply = api
            .call(Method::POST, "/credentials", token, Some(&create))
            .await;
        assert_unavailable("a create", &reply);
        let value = json!({"value": format!("sk_refused_{attempt}_0123456789")});
        let reply = api.update_credential(&some.id, token, &value).await;
        assert_unavailable("a new secret value", &reply);
        let description = json!({"description": "refused"});
        let reply = api.update_credential(&some.id, token, &description).await;
        assert_unavailable("a new description", &reply);
        let reply = api.delete_credential(&some.id, token).await;
        assert_unavailable("a delete", &reply);
        // A use cannot be audited, so it is refused before anything is sent.
        let call = json!({"method": "GET", "url": upstream.url("/record/full")});
        let reply = api.proxy(&some.id, token, &call).await;
        assert_unavailable("a credential use", &reply);
        assert_eq!(
            upstream.requests().len(),
            requests_before,
            "an unaudited use reached the upstream"
        );
        let reply = api.proxy(&oauth2_id, token, &call).await;
        assert_unavailable("an OAuth2 credential use", &reply);
        assert_eq!(
            upstream.token_calls(),
            0,
            "an unaudited use sent its client secret to the token endpoint"
        );

        // Reads go on, and show nothing of the refused writes.
        assert_eq!(list_all(&api, token).await, before);
        for (name, known) in &ledger.live {
            let read = api.get(&format!("/credentials/{}", known.id), token).await;
            assert_eq!(read.status, StatusCode::OK, "{name}: {}", read.body);
            assert_eq!(read.json(), before[name], "{name} unchanged");
            let versions = format!("/credentials/{}/versions", known.id);
            let read = api.get(&versions, token).await;
            assert_eq!(
                read.status,
                StatusCode::OK,
                "{name}'s versions: {}",
                read.body
            );
        }
        let health = Reply::send(api.request(Method::GET, "/healthz")).await;
        assert_eq!(health.status, StatusCode::OK);
    }
    let ready = Reply::send(api.request(Method::GET, "/readyz"))
        .await
        .status;
    assert!(
        server.child.try_wait().expect("poll").is_none(),
        "the server is still running"
    );

    // Space again: the same process takes writes, and everything from before is intact.
    std::fs::remove_file(&filler).expect("the filler goes");
    for i in 0..3 {
        let value = ledger.fresh("sk_disk_secret");
        let patch = Op::Patch {
            name: ledger.live.keys().nth(i).expect("live").clone(),
            value,
        };
        perform(&writer, &mut ledger, patch)
            .await
            .expect("updated once space is back");
    }
    takes_writes(&api, token, &upstream).await;
    // The OAuth2 credential is not the ledger's: it goes before the reconciliation.
    let deleted = api.delete_credential(&oauth2_id, token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let found = reconcile(&api, token, &upstream, std::slice::from_mut(&mut ledger)).await;
    assert_eq!(found.checked, 12);
    server.stop();
    eprintln!(
        "chaos (full disk): {filled} bytes filled the volume; /readyz answered {ready} while full"
    );
}
