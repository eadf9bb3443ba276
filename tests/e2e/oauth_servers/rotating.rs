//! The strict rotating server, checked with plain HTTP calls.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_rotates_on_every_refresh_and_a_reused_token_revokes_the_family() {
    let http = http();
    let server = rotating(RotatingConfig::new(Duration::from_secs(30))).await;
    let token_url = server.token_endpoint();

    // Authorize, exchange the code with the verifier: tokens that work.
    let (code, verifier) =
        authorize(&http, &server.authorization_endpoint(), "app", "read write").await;
    let first = exchange(&http, &token_url, APP, &code, &verifier).await;
    let (at1, rt1) = tokens(&first);
    assert_eq!(
        (
            first.json()["expires_in"].clone(),
            first.json()["scope"].clone()
        ),
        (json!(30), json!("read write"))
    );
    assert_eq!(resource(&http, &server, &at1).await, StatusCode::OK);
    let body = Reply::send(http.get(server.resource_url()).bearer_auth(&at1))
        .await
        .json();
    assert_eq!(body, json!({"client_id": "app", "scope": "read write"}));

    // Every refresh rotates: a new refresh token each time, and the new one works.
    let (at2, rt2) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    assert!(at2 != at1 && rt2 != rt1);
    assert_eq!(resource(&http, &server, &at2).await, StatusCode::OK);
    let (at3, rt3) = tokens(&refresh(&http, &token_url, APP, &rt2).await);
    assert_eq!(resource(&http, &server, &at3).await, StatusCode::OK);

    // Another authorization: another family, which the reuse below leaves alone.
    let (other_at, other_rt) = new_family(&http, &server).await;

    // The first refresh token comes back: reuse. Refused, and its whole family revoked:
    // every access token (live ones included) and the refresh token that was current.
    let reused = refresh(&http, &token_url, APP, &rt1).await;
    assert_oauth_error(&reused, StatusCode::BAD_REQUEST, "invalid_grant");
    for at in [&at1, &at2, &at3] {
        assert_eq!(resource(&http, &server, at).await, StatusCode::UNAUTHORIZED);
    }
    let revoked = refresh(&http, &token_url, APP, &rt3).await;
    assert_oauth_error(&revoked, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(resource(&http, &server, &other_at).await, StatusCode::OK);
    tokens(&refresh(&http, &token_url, APP, &other_rt).await);

    // No token at all, or another scheme: 401 too.
    let bare = Reply::send(http.get(server.resource_url())).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert!(bare.header("www-authenticate").starts_with("Bearer"));

    assert_eq!(
        server.counters(),
        Counters {
            authorizations: 2,
            code_exchanges: 2,
            refreshes: 3,
            reuse_detections: 1,
            invalid_grants: 2,
            resource_ok: 5,
            resource_401s: 4,
            ..Counters::default()
        }
    );
    let times = server.refreshes();
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(times[0].family, times[1].family);
    assert_ne!(times[1].family, times[2].family);
    assert!(times.iter().all(|r| !r.grace));
    let issued = server.issued_secrets();
    for secret in [&code, &at1, &rt1, &at3, &rt3, &other_rt] {
        assert!(issued.contains(secret));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_access_tokens_expire_after_their_lifetime() {
    let http = http();
    let server = rotating(RotatingConfig::new(Duration::from_millis(800))).await;
    let (code, verifier) = authorize(&http, &server.authorization_endpoint(), "app", "read").await;
    let reply = exchange(&http, &server.token_endpoint(), APP, &code, &verifier).await;
    assert_eq!(reply.json()["expires_in"], 1, "rounded up to whole seconds");
    let (at, rt) = tokens(&reply);
    assert_eq!(resource(&http, &server, &at).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        resource(&http, &server, &at).await,
        StatusCode::UNAUTHORIZED
    );
    // An expired access token is no reuse: a refresh gives a working one.
    let (fresh, _) = tokens(&refresh(&http, &server.token_endpoint(), APP, &rt).await);
    assert_eq!(resource(&http, &server, &fresh).await, StatusCode::OK);
    let counters = server.counters();
    assert_eq!(
        (
            counters.refreshes,
            counters.resource_401s,
            counters.reuse_detections
        ),
        (1, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_grace_period_accepts_the_previous_refresh_token_once() {
    let http = http();
    let grace = Duration::from_secs(2);
    let server = rotating(RotatingConfig::new(Duration::from_secs(30)).grace(grace)).await;
    let token_url = server.token_endpoint();
    let refused =
        |reply: Reply| assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant");

    // A: the response to rt1's refresh is lost; rt1 again, within the grace period, works
    // once, and what it gives works on. A third use of rt1 is reuse.
    let (_, rt1) = new_family(&http, &server).await;
    let (_, _lost) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    let (at3, rt3) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    assert_eq!(resource(&http, &server, &at3).await, StatusCode::OK);
    let (_, rt4) = tokens(&refresh(&http, &token_url, APP, &rt3).await);
    refused(refresh(&http, &token_url, APP, &rt1).await);
    refused(refresh(&http, &token_url, APP, &rt4).await);

    // B: after a grace-period retry, the successor that was lost is retired: it coming
    // back is reuse, and the family goes.
    let (_, rt1) = new_family(&http, &server).await;
    let (_, lost) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    let (at3, rt3) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    refused(refresh(&http, &token_url, APP, &lost).await);
    assert_eq!(
        resource(&http, &server, &at3).await,
        StatusCode::UNAUTHORIZED
    );
    refused(refresh(&http, &token_url, APP, &rt3).await);

    // C: only the immediately previous token has a grace period, not an older one.
    let (_, rt1) = new_family(&http, &server).await;
    let (_, rt2) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    let (_, rt3) = tokens(&refresh(&http, &token_url, APP, &rt2).await);
    refused(refresh(&http, &token_url, APP, &rt1).await);
    refused(refresh(&http, &token_url, APP, &rt3).await);

    // D: once the grace period is over, the previous token is reuse.
    let (_, rt1) = new_family(&http, &server).await;
    let (_, rt2) = tokens(&refresh(&http, &token_url, APP, &rt1).await);
    tokio::time::sleep(grace + Duration::from_millis(300)).await;
    refused(refresh(&http, &token_url, APP, &rt1).await);
    refused(refresh(&http, &token_url, APP, &rt2).await);

    let counters = server.counters();
    assert_eq!(
        (
            counters.refreshes,
            counters.grace_reuses,
            counters.reuse_detections,
            counters.invalid_grants
        ),
        (3 + 2 + 2 + 1, 2, 4, 8)
    );
    let graced: Vec<bool> = server.refreshes().iter().map(|r| r.grace).collect();
    assert_eq!(
        graced,
        [false, true, false, false, true, false, false, false]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_refuses_a_wrong_verifier_and_a_replayed_code() {
    let http = http();
    let server = rotating(RotatingConfig::new(Duration::from_secs(30))).await;
    let (authorize_url, token_url) = (server.authorization_endpoint(), server.token_endpoint());

    // A wrong verifier is refused, and spends the code: the right one cannot follow.
    let (code, verifier) = authorize(&http, &authorize_url, "app", "read").await;
    let wrong = exchange(&http, &token_url, APP, &code, &pkce_verifier()).await;
    assert_oauth_error(&wrong, StatusCode::BAD_REQUEST, "invalid_grant");
    let late = exchange(&http, &token_url, APP, &code, &verifier).await;
    assert_oauth_error(&late, StatusCode::BAD_REQUEST, "invalid_grant");

    // No verifier, a malformed one, another redirect URI: refused.
    let (code, _) = authorize(&http, &authorize_url, "app", "read").await;
    let without = post_form(
        &http,
        &token_url,
        APP,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_oauth_error(&without, StatusCode::BAD_REQUEST, "invalid_grant");
    let (code, _) = authorize(&http, &authorize_url, "app", "read").await;
    let short = exchange(&http, &token_url, APP, &code, "too-short").await;
    assert_oauth_error(&short, StatusCode::BAD_REQUEST, "invalid_request");
    let (code, verifier) = authorize(&http, &authorize_url, "app", "read").await;
    let elsewhere = post_form(
        &http,
        &token_url,
        APP,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_oauth_error(&elsewhere, StatusCode::BAD_REQUEST, "invalid_grant");

    // A code used twice is refused, and what it issued is revoked (RFC 6749 §4.1.2).
    let (code, verifier) = authorize(&http, &authorize_url, "app", "read").await;
    let (at, rt) = tokens(&exchange(&http, &token_url, APP, &code, &verifier).await);
    assert_eq!(resource(&http, &server, &at).await, StatusCode::OK);
    let replay = exchange(&http, &token_url, APP, &code, &verifier).await;
    assert_oauth_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        resource(&http, &server, &at).await,
        StatusCode::UNAUTHORIZED
    );
    let after = refresh(&http, &token_url, APP, &rt).await;
    assert_oauth_error(&after, StatusCode::BAD_REQUEST, "invalid_grant");

    // A made-up code, a repeated parameter, a JSON body, an unknown grant.
    let made_up = exchange(&http, &token_url, APP, "rts-code-made-up", &verifier).await;
    assert_oauth_error(&made_up, StatusCode::BAD_REQUEST, "invalid_grant");
    let repeated = post_form(
        &http,
        &token_url,
        APP,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("refresh_token", &rt),
        ],
    )
    .await;
    assert_oauth_error(&repeated, StatusCode::BAD_REQUEST, "invalid_request");
    let json_body = Reply::send(
        http.post(&token_url)
            .header(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("app:{SECRET}"))),
            )
            .json(&json!({"grant_type": "refresh_token", "refresh_token": rt})),
    )
    .await;
    assert_oauth_error(&json_body, StatusCode::BAD_REQUEST, "invalid_request");
    let password = post_form(&http, &token_url, APP, &[("grant_type", "password")]).await;
    assert_oauth_error(&password, StatusCode::BAD_REQUEST, "unsupported_grant_type");

    let counters = server.counters();
    assert_eq!(
        (
            counters.authorizations,
            counters.code_exchanges,
            counters.code_replays,
            counters.invalid_grants,
            counters.refreshes
        ),
        // The code spent by the wrong verifier, presented again, was a replay too (of a
        // code that had issued nothing).
        (5, 1, 2, 7, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_authorize_refuses_what_a_strict_provider_refuses() {
    let http = http();
    let server = rotating(RotatingConfig::new(Duration::from_secs(30))).await;
    let endpoint = server.authorization_endpoint();
    let challenge = pkce_challenge(&pkce_verifier());
    let good = authorization_query("app", "read", "st-1", &challenge);
    let with = |name: &str, value: Option<&'static str>| -> Vec<(String, String)> {
        let mut query: Vec<(String, String)> = good
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        if let Some(value) = value {
            query.push((name.to_owned(), value.to_owned()));
        }
        query
    };
    let back = |query: Vec<(String, String)>| {
        let http = http.clone();
        let endpoint = endpoint.clone();
        async move {
            let pairs: Vec<(&str, &str)> = query
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            redirected(&http, &endpoint, &pairs).await
        }
    };

    // Errors the client can be trusted with go back to it, with the state.
    for (query, error) in [
        (
            with("code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (with("code_challenge_method", None), "invalid_request"),
        (with("code_challenge", None), "invalid_request"),
        (
            with("code_challenge", Some("not-a-challenge")),
            "invalid_request",
        ),
        (
            with("response_type", Some("token")),
            "unsupported_response_type",
        ),
    ] {
        let answer = back(query.clone()).await;
        assert_eq!(
            answer.get("error").map(String::as_str),
            Some(error),
            "{query:?}"
        );
        assert_eq!(answer.get("state").map(String::as_str), Some("st-1"));
        assert!(!answer.contains_key("code"));
    }
    let answer = back(with("state", None)).await;
    assert_eq!(answer["error"], "invalid_request");

    // An unknown client or an unregistered redirect URI: no redirect at all.
    for (name, value) in [
        ("client_id", "stranger"),
        ("redirect_uri", "http://127.0.0.1:9/callback/other"),
    ] {
        let mut url = url::Url::parse(&endpoint).expect("url");
        url.query_pairs_mut()
            .extend_pairs(with(name, Some(value)).iter().map(|(n, v)| (n, v)));
        let reply = Reply::send(http.get(url.as_str())).await;
        assert_oauth_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
        assert!(!reply.headers.contains_key("location"));
    }

    // The user says no.
    server.deny_authorizations(true);
    let answer = back(with("scope", Some("read"))).await;
    assert_eq!(
        (answer["error"].as_str(), answer["state"].as_str()),
        ("access_denied", "st-1")
    );
    server.deny_authorizations(false);
    let answer = back(with("scope", Some("read"))).await;
    assert!(answer.contains_key("code"));

    // Nothing was issued but that last code; every request was recorded as sent.
    assert_eq!(server.counters().authorizations, 1);
    let recorded = server.authorization_requests();
    assert_eq!(recorded.len(), 8);
    assert!(
        recorded[7].contains(&("code_challenge".to_owned(), challenge.clone())),
        "{:?}",
        recorded[7]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_authenticates_clients_by_their_registered_method() {
    let http = http();
    // A client id with a colon: HTTP Basic carries it form-encoded (RFC 6749 §2.3.1).
    let server = RotatingTokenServer::start(
        RotatingConfig::new(Duration::from_secs(30))
            .client(OAuthClient::confidential(
                "app:basic",
                "s-basic",
                ClientAuth::Basic,
                REDIRECT,
            ))
            .client(OAuthClient::confidential(
                "app-post",
                "s-post",
                ClientAuth::Post,
                REDIRECT,
            ))
            .client(OAuthClient::public("app-public", REDIRECT)),
    )
    .await;
    let (authorize_url, token_url) = (server.authorization_endpoint(), server.token_endpoint());

    // Each client, by its own method, through the whole flow.
    let mut refresh_tokens = Vec::new();
    for who in [
        As::Basic("app:basic", "s-basic"),
        As::Post("app-post", "s-post"),
        As::Public("app-public"),
    ] {
        let id = match who {
            As::Basic(id, _) | As::Post(id, _) | As::Public(id) => id,
        };
        let (code, verifier) = authorize(&http, &authorize_url, id, "read").await;
        let (at, rt) = tokens(&exchange(&http, &token_url, who, &code, &verifier).await);
        assert_eq!(
            resource(&http, &server, &at).await,
            StatusCode::OK,
            "{who:?}"
        );
        let (_, rt) = tokens(&refresh(&http, &token_url, who, &rt).await);
        refresh_tokens.push(rt);
    }

    // Any other method, a wrong secret, or two methods at once: refused, and the tokens
    // are untouched by the refusals.
    let rt_basic = &refresh_tokens[0];
    let rt_post = &refresh_tokens[1];
    let rt_public = &refresh_tokens[2];
    let refusals: [(As<'_>, &String, StatusCode, &str); 6] = [
        (
            As::Post("app:basic", "s-basic"),
            rt_basic,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            As::Basic("app:basic", "wrong"),
            rt_basic,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            As::Basic("app-post", "s-post"),
            rt_post,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            As::Public("app-post"),
            rt_post,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            As::Post("app-public", "made-up"),
            rt_public,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            As::Post("stranger", "s"),
            rt_public,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (who, rt, status, error) in refusals {
        let reply = refresh(&http, &token_url, who, rt).await;
        assert_oauth_error(&reply, status, error);
        if matches!(who, As::Basic(..)) {
            assert!(reply.header("www-authenticate").starts_with("Basic"));
        }
    }
    let both = post_form(
        &http,
        &token_url,
        As::Basic("app:basic", "s-basic"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt_basic),
            ("client_secret", "s-basic"),
        ],
    )
    .await;
    assert_oauth_error(&both, StatusCode::BAD_REQUEST, "invalid_request");

    // Another client's refresh token is no grant of this one's.
    let borrowed = refresh(&http, &token_url, As::Public("app-public"), rt_post).await;
    assert_oauth_error(&borrowed, StatusCode::BAD_REQUEST, "invalid_grant");

    // The refused requests rotated nothing.
    for (who, rt) in [
        (As::Basic("app:basic", "s-basic"), rt_basic),
        (As::Post("app-post", "s-post"), rt_post),
        (As::Public("app-public"), rt_public),
    ] {
        tokens(&refresh(&http, &token_url, who, rt).await);
    }
    let counters = server.counters();
    assert_eq!(
        (
            counters.invalid_clients,
            counters.invalid_grants,
            counters.reuse_detections,
            counters.refreshes
        ),
        (6, 1, 0, 6)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_server_revocation_follows_rfc_7009() {
    let http = http();
    let server = rotating(RotatingConfig::new(Duration::from_secs(30))).await;
    let (revoke_url, token_url) = (server.revocation_endpoint(), server.token_endpoint());
    let revoke = |token: String, hint: Option<&'static str>| {
        let (http, revoke_url) = (http.clone(), revoke_url.clone());
        async move {
            let mut params = vec![("token", token.as_str())];
            params.extend(hint.map(|hint| ("token_type_hint", hint)));
            post_form(&http, &revoke_url, APP, &params).await
        }
    };

    // An access token goes alone: the family refreshes on.
    let (at, rt) = new_family(&http, &server).await;
    assert_eq!(
        revoke(at.clone(), Some("access_token")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        resource(&http, &server, &at).await,
        StatusCode::UNAUTHORIZED
    );
    let (at2, rt2) = tokens(&refresh(&http, &token_url, APP, &rt).await);
    assert_eq!(resource(&http, &server, &at2).await, StatusCode::OK);

    // A refresh token takes its whole family (RFC 7009 §2.1).
    assert_eq!(revoke(rt2.clone(), None).await.status, StatusCode::OK);
    assert_eq!(
        resource(&http, &server, &at2).await,
        StatusCode::UNAUTHORIZED
    );
    let after = refresh(&http, &token_url, APP, &rt2).await;
    assert_oauth_error(&after, StatusCode::BAD_REQUEST, "invalid_grant");

    // An unknown token is answered 200 all the same; a wrong secret is refused.
    assert_eq!(
        revoke("unknown".to_owned(), None).await.status,
        StatusCode::OK
    );
    let (_, rt3) = new_family(&http, &server).await;
    let wrong = post_form(
        &http,
        &revoke_url,
        As::Basic("app", "wrong"),
        &[("token", &rt3)],
    )
    .await;
    assert_oauth_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_client");
    tokens(&refresh(&http, &token_url, APP, &rt3).await);

    let kinds: Vec<(Option<TokenKind>, Option<String>)> = server
        .revocations()
        .into_iter()
        .map(|r| {
            assert_eq!(r.client_id, "app");
            (r.kind, r.token_type_hint)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (Some(TokenKind::Access), Some("access_token".to_owned())),
            (Some(TokenKind::Refresh), None),
            (None, None),
        ]
    );
    assert_eq!(server.counters().revocations, 3);
}
