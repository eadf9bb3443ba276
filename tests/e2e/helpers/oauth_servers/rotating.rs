//! The strict rotating token server.

use super::pkce::valid_verifier;
use super::*;

// ---------------------------------------------------------------------------------------
// The strict rotating server: state
// ---------------------------------------------------------------------------------------

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    issued: Instant,
    /// A code is spent by the first exchange that names it, successful or not, so a
    /// wrong verifier cannot be retried.
    spent: bool,
    /// The family its exchange started: revoked if the code comes back.
    family: Option<u64>,
}

struct Family {
    client_id: String,
    scope: String,
    revoked: bool,
    /// The one refresh token of the family that may be used now.
    live: String,
    /// The refresh token rotated into `live`: the one a grace period may accept again.
    previous: Option<String>,
}

struct AccessToken {
    family: u64,
    expires: Instant,
    revoked: bool,
}

#[derive(Clone, Copy)]
enum RefreshState {
    /// The family's current refresh token.
    Live,
    /// Used once (rotated) at `at`; `grace_spent` once its grace period was used.
    Rotated { at: Instant, grace_spent: bool },
    /// Never used, replaced by a grace-period refresh: it was the response lost in flight.
    Retired,
}

struct RefreshToken {
    family: u64,
    state: RefreshState,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Code>,
    families: HashMap<u64, Family>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    next_family: u64,
    counters: Counters,
    refreshes: Vec<RefreshRecord>,
    revocations: Vec<Revocation>,
    authorization_requests: Vec<Vec<(String, String)>>,
    /// Every code, access token and refresh token issued: what must never show up where
    /// a test looks.
    issued: Vec<String>,
    deny: bool,
    /// The next refresh that issues tokens is answered only after this long.
    stall_next_refresh: Option<Duration>,
    /// Set by the refresh that took the stall: its endpoint waits before answering.
    stall_now: Option<Duration>,
    stalled_refreshes: usize,
}

struct Shared {
    config: RotatingConfig,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("lock")
    }
}

/// An OAuth2 error answer (RFC 6749 §5.2).
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// `invalid_client` after an attempt with HTTP Basic answers with a challenge.
    basic_challenge: bool,
}

fn bad_request(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
        basic_challenge: false,
    }
}

fn invalid_grant(description: impl Into<String>) -> OAuthError {
    bad_request("invalid_grant", description)
}

fn invalid_client(basic: bool, description: impl Into<String>) -> OAuthError {
    OAuthError {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: description.into(),
        basic_challenge: basic,
    }
}

impl OAuthError {
    fn response(&self) -> HttpResponse {
        let mut answer = HttpResponse::build(self.status);
        answer
            .insert_header(("cache-control", "no-store"))
            .insert_header(("pragma", "no-cache"));
        if self.basic_challenge {
            answer.insert_header(("www-authenticate", "Basic realm=\"rotating\""));
        }
        answer.json(json!({"error": self.error, "error_description": self.description}))
    }
}

/// A form or query string as one value per name; a repeated name is malformed (RFC 6749
/// §3.1), and an empty value counts as absent.
fn single_valued(pairs: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(pairs).into_owned() {
        if value.is_empty() {
            continue;
        }
        if params.insert(name.clone(), value).is_some() {
            return Err(bad_request(
                "invalid_request",
                format!("{name} is repeated"),
            ));
        }
    }
    Ok(params)
}

/// Decodes one form-encoded component (the client id and secret in HTTP Basic are
/// form-encoded first: RFC 6749 §2.3.1).
fn form_decoded(component: &str) -> String {
    url::form_urlencoded::parse(format!("v={component}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn random_token(kind: &str) -> String {
    format!("{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// `Authorization: <scheme> <value>` with the scheme compared case-insensitively.
fn authorization<'r>(req: &'r HttpRequest, scheme: &str) -> Option<Result<&'r str, ()>> {
    let header = req.headers().get("authorization")?;
    let Ok(header) = header.to_str() else {
        return Some(Err(()));
    };
    match header.split_once(' ') {
        Some((s, value)) if s.eq_ignore_ascii_case(scheme) => Some(Ok(value.trim())),
        _ => Some(Err(())),
    }
}

impl Inner {
    /// The client a token or revocation request authenticates as, by the one method it
    /// is registered with.
    fn authenticate<'c>(
        config: &'c RotatingConfig,
        req: &HttpRequest,
        form: &HashMap<String, String>,
    ) -> Result<&'c OAuthClient, OAuthError> {
        let find = |id: &str, basic: bool| {
            config
                .clients
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| invalid_client(basic, "unknown client"))
        };
        let body_id = form.get("client_id").map(String::as_str);
        let body_secret = form.get("client_secret").map(String::as_str);
        let basic = authorization(req, "basic");
        let (client, secret, method, basic) = match (basic, body_secret) {
            (Some(_), Some(_)) => {
                return Err(bad_request(
                    "invalid_request",
                    "more than one client authentication method",
                ));
            }
            (Some(Err(())), None) => {
                return Err(invalid_client(true, "malformed Authorization header"));
            }
            (Some(Ok(credentials)), None) => {
                let decoded = STANDARD
                    .decode(credentials)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| invalid_client(true, "malformed Basic credentials"))?;
                let (id, secret) = decoded
                    .split_once(':')
                    .ok_or_else(|| invalid_client(true, "malformed Basic credentials"))?;
                let (id, secret) = (form_decoded(id), form_decoded(secret));
                if body_id.is_some_and(|body_id| body_id != id) {
                    return Err(invalid_client(true, "client_id differs from Basic"));
                }
                (find(&id, true)?, Some(secret), ClientAuth::Basic, true)
            }
            (None, secret) => {
                let id = body_id.ok_or_else(|| invalid_client(false, "no client_id"))?;
                let method = if secret.is_some() {
                    ClientAuth::Post
                } else {
                    ClientAuth::None
                };
                (find(id, false)?, secret.map(str::to_owned), method, false)
            }
        };
        if client.auth != method {
            return Err(invalid_client(
                basic,
                format!(
                    "the client authenticates with {:?}, not {method:?}",
                    client.auth
                ),
            ));
        }
        let matches = match (&client.secret, &secret) {
            (Some(expected), Some(got)) => same_secret(expected, got),
            (None, None) => true,
            _ => false,
        };
        if !matches {
            return Err(invalid_client(basic, "wrong client secret"));
        }
        Ok(client)
    }

    /// Issues an access token and a refresh token in `family`; the refresh token becomes
    /// the family's live one. Returns the token response body.
    fn issue(&mut self, config: &RotatingConfig, family: u64) -> Value {
        let access = random_token("rts-at");
        let refresh = random_token("rts-rt");
        let lifetime = config.access_token_lifetime;
        self.access.insert(
            access.clone(),
            AccessToken {
                family,
                expires: Instant::now() + lifetime,
                revoked: false,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                family,
                state: RefreshState::Live,
            },
        );
        self.issued.push(access.clone());
        self.issued.push(refresh.clone());
        let family = self.families.get_mut(&family).expect("the family exists");
        family.live = refresh.clone();
        let expires_in = lifetime.as_millis().div_ceil(1000);
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
            "scope": family.scope,
        })
    }

    /// Revokes every access and refresh token of `family`.
    fn revoke_family(&mut self, family: u64) {
        if let Some(f) = self.families.get_mut(&family) {
            f.revoked = true;
        }
    }

    fn token(
        &mut self,
        config: &RotatingConfig,
        req: &HttpRequest,
        body: &[u8],
    ) -> Result<Value, OAuthError> {
        let form_encoded = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_encoded {
            return Err(bad_request(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let form = single_valued(body)?;
        let client = Self::authenticate(config, req, &form)?;
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => self.exchange_code(config, client, &form),
            Some("refresh_token") => self.refresh(config, client, &form),
            Some(_) => Err(bad_request("unsupported_grant_type", "unsupported grant")),
            None => Err(bad_request("invalid_request", "no grant_type")),
        }
    }

    fn exchange_code(
        &mut self,
        config: &RotatingConfig,
        client: &OAuthClient,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let code = form
            .get("code")
            .ok_or_else(|| bad_request("invalid_request", "no code"))?;
        let Some(record) = self.codes.get_mut(code) else {
            return Err(invalid_grant("unknown code"));
        };
        if record.client_id != client.id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if record.spent {
            // RFC 6749 §4.1.2: a code used twice is refused, and what it issued revoked.
            let family = record.family;
            self.counters.code_replays += 1;
            if let Some(family) = family {
                self.revoke_family(family);
            }
            return Err(invalid_grant("the code was already used"));
        }
        record.spent = true;
        if record.issued.elapsed() > config.code_lifetime {
            return Err(invalid_grant("the code expired"));
        }
        if form.get("redirect_uri") != Some(&record.redirect_uri) {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization's",
            ));
        }
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| invalid_grant("no code_verifier (PKCE is required)"))?;
        if !valid_verifier(verifier) {
            return Err(bad_request(
                "invalid_request",
                "code_verifier is not 43-128 unreserved characters",
            ));
        }
        if !same_secret(&pkce_challenge(verifier), &record.challenge) {
            return Err(invalid_grant("code_verifier does not match the challenge"));
        }
        let family = self.next_family;
        self.next_family += 1;
        record.family = Some(family);
        let scope = record.scope.clone();
        self.families.insert(
            family,
            Family {
                client_id: client.id.clone(),
                scope,
                revoked: false,
                live: String::new(),
                previous: None,
            },
        );
        self.counters.code_exchanges += 1;
        Ok(self.issue(config, family))
    }

    fn refresh(
        &mut self,
        config: &RotatingConfig,
        client: &OAuthClient,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let presented = form
            .get("refresh_token")
            .ok_or_else(|| bad_request("invalid_request", "no refresh_token"))?;
        let Some(token) = self.refresh.get(presented) else {
            return Err(invalid_grant("unknown refresh token"));
        };
        let (family_id, state) = (token.family, token.state);
        let family = &self.families[&family_id];
        let (live, is_previous) = (
            family.live.clone(),
            family.previous.as_ref() == Some(presented),
        );
        if family.client_id != client.id {
            return Err(invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        if family.revoked {
            return Err(invalid_grant("the token family was revoked"));
        }
        if let Some(scope) = form.get("scope") {
            let granted: Vec<&str> = family.scope.split(' ').collect();
            if !scope.split(' ').all(|s| granted.contains(&s)) {
                return Err(bad_request("invalid_scope", "more scope than was granted"));
            }
        }
        let now = Instant::now();
        let in_grace = |at: Instant| {
            config
                .refresh_grace
                .is_some_and(|grace| now.duration_since(at) <= grace)
        };
        let grace = match state {
            RefreshState::Live => false,
            RefreshState::Rotated {
                at,
                grace_spent: false,
            } if in_grace(at) && is_previous => true,
            RefreshState::Rotated { .. } | RefreshState::Retired => {
                // Reuse: someone holds a token that was already rotated. The legitimate
                // client and the thief cannot be told apart, so the family goes.
                self.revoke_family(family_id);
                self.counters.reuse_detections += 1;
                return Err(invalid_grant(
                    "refresh token reuse: the token family is revoked",
                ));
            }
        };
        if grace {
            // The successor it was rotated to never arrived (or so the client says): that
            // one is retired, and this token cannot be used a third time.
            if let Some(lost) = self.refresh.get_mut(&live) {
                lost.state = RefreshState::Retired;
            }
            if let Some(RefreshToken {
                state: RefreshState::Rotated { grace_spent, .. },
                ..
            }) = self.refresh.get_mut(presented)
            {
                *grace_spent = true;
            }
            self.counters.grace_reuses += 1;
        } else {
            if let Some(token) = self.refresh.get_mut(presented) {
                token.state = RefreshState::Rotated {
                    at: now,
                    grace_spent: false,
                };
            }
            if let Some(family) = self.families.get_mut(&family_id) {
                family.previous = Some(presented.clone());
            }
        }
        self.counters.refreshes += 1;
        self.refreshes.push(RefreshRecord {
            at: now,
            family: family_id,
            grace,
        });
        if let Some(stall) = self.stall_next_refresh.take() {
            self.stall_now = Some(stall);
            self.stalled_refreshes += 1;
        }
        Ok(self.issue(config, family_id))
    }

    /// `GET /authorize`: an error that cannot be trusted to go back to the client (unknown
    /// client, unregistered redirect URI) is a 400 here; any other goes back to the
    /// redirect URI (RFC 6749 §4.1.2.1). The user consents at once, unless denying.
    fn authorize(&mut self, config: &RotatingConfig, query: &str) -> HttpResponse {
        let params = match single_valued(query.as_bytes()) {
            Ok(params) => params,
            Err(error) => return error.response(),
        };
        let Some(client) = params
            .get("client_id")
            .and_then(|id| config.clients.iter().find(|c| &c.id == id))
        else {
            return bad_request("invalid_request", "unknown client_id").response();
        };
        let Some(redirect_uri) = params
            .get("redirect_uri")
            .filter(|uri| client.redirect_uris.contains(uri))
        else {
            return bad_request("invalid_request", "redirect_uri is not registered").response();
        };
        self.authorization_requests.push(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        );
        let state = params.get("state");
        let back = |answer: &[(&str, &str)]| {
            let mut location = url::Url::parse(redirect_uri).expect("an absolute redirect URI");
            {
                let mut pairs = location.query_pairs_mut();
                for (name, value) in answer {
                    pairs.append_pair(name, value);
                }
                if let Some(state) = state {
                    pairs.append_pair("state", state);
                }
            }
            HttpResponse::Found()
                .insert_header(("location", location.as_str()))
                .finish()
        };
        let refuse = |error: &str, description: &str| {
            back(&[("error", error), ("error_description", description)])
        };
        if params.get("response_type").map(String::as_str) != Some("code") {
            return refuse("unsupported_response_type", "only response_type=code");
        }
        if state.is_none() {
            return refuse("invalid_request", "state is required");
        }
        if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
            return refuse("invalid_request", "PKCE with code_challenge_method=S256");
        }
        let Some(challenge) = params
            .get("code_challenge")
            .filter(|c| c.len() == 43 && URL_SAFE_NO_PAD.decode(c.as_bytes()).is_ok())
        else {
            return refuse("invalid_request", "code_challenge is not an S256 challenge");
        };
        if self.deny {
            return refuse("access_denied", "the user denied the request");
        }
        let code = random_token("rts-code");
        self.codes.insert(
            code.clone(),
            Code {
                client_id: client.id.clone(),
                redirect_uri: redirect_uri.clone(),
                challenge: challenge.clone(),
                scope: params.get("scope").cloned().unwrap_or_default(),
                issued: Instant::now(),
                spent: false,
                family: None,
            },
        );
        self.issued.push(code.clone());
        self.counters.authorizations += 1;
        back(&[("code", &code)])
    }

    /// `/resource`: 200 with a live access token, 401 otherwise (RFC 6750 §3).
    fn resource(&mut self, req: &HttpRequest) -> HttpResponse {
        let presented = match authorization(req, "bearer") {
            None => None,
            Some(Ok(token)) => Some(token),
            Some(Err(())) => Some(""),
        };
        let Some(presented) = presented else {
            self.counters.resource_401s += 1;
            return HttpResponse::Unauthorized()
                .insert_header(("www-authenticate", "Bearer realm=\"rotating\""))
                .finish();
        };
        let live = self.access.get(presented).and_then(|token| {
            let family = &self.families[&token.family];
            (!token.revoked && !family.revoked && Instant::now() < token.expires)
                .then(|| (family.client_id.clone(), family.scope.clone()))
        });
        let Some((client_id, scope)) = live else {
            self.counters.resource_401s += 1;
            return HttpResponse::Unauthorized()
                .insert_header((
                    "www-authenticate",
                    "Bearer realm=\"rotating\", error=\"invalid_token\"",
                ))
                .finish();
        };
        self.counters.resource_ok += 1;
        HttpResponse::Ok().json(json!({"client_id": client_id, "scope": scope}))
    }

    /// `POST /revoke` (RFC 7009): a refresh token takes its family with it (§2.1); an
    /// access token goes alone; an unknown token is answered 200 all the same.
    fn revoke(
        &mut self,
        config: &RotatingConfig,
        req: &HttpRequest,
        body: &[u8],
    ) -> Result<(), OAuthError> {
        let form = single_valued(body)?;
        let client = Self::authenticate(config, req, &form)?;
        let token = form
            .get("token")
            .ok_or_else(|| bad_request("invalid_request", "no token"))?;
        let found = if let Some(refresh) = self.refresh.get(token) {
            Some((TokenKind::Refresh, refresh.family))
        } else {
            self.access
                .get(token)
                .map(|access| (TokenKind::Access, access.family))
        };
        if let Some((_, family)) = found
            && self.families[&family].client_id != client.id
        {
            return Err(bad_request(
                "unauthorized_client",
                "the token was issued to another client",
            ));
        }
        match found {
            Some((TokenKind::Refresh, family)) => self.revoke_family(family),
            Some((TokenKind::Access, _)) => {
                if let Some(access) = self.access.get_mut(token) {
                    access.revoked = true;
                }
            }
            None => {}
        }
        self.counters.revocations += 1;
        self.revocations.push(Revocation {
            client_id: client.id.clone(),
            kind: found.map(|(kind, _)| kind),
            token_type_hint: form.get("token_type_hint").cloned(),
        });
        Ok(())
    }

    /// Counts an error answer by its code.
    fn count(&mut self, error: &OAuthError) {
        match error.error {
            "invalid_grant" => self.counters.invalid_grants += 1,
            "invalid_client" => self.counters.invalid_clients += 1,
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// The strict rotating server: HTTP
// ---------------------------------------------------------------------------------------

async fn authorize_endpoint(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.lock().authorize(&shared.config, req.query_string())
}

async fn token_endpoint(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let (answer, stall) = {
        let mut inner = shared.lock();
        let answer = match inner.token(&shared.config, &req, &body) {
            Ok(tokens) => HttpResponse::Ok()
                .insert_header(("cache-control", "no-store"))
                .insert_header(("pragma", "no-cache"))
                .json(tokens),
            Err(error) => {
                inner.count(&error);
                error.response()
            }
        };
        (answer, inner.stall_now.take())
    };
    // The tokens are issued and the refresh token rotated already: the answer is what a
    // client that dies meanwhile never gets.
    if let Some(stall) = stall {
        actix_web::rt::time::sleep(stall).await;
    }
    answer
}

async fn resource_endpoint(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.lock().resource(&req)
}

async fn revoke_endpoint(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let mut inner = shared.lock();
    match inner.revoke(&shared.config, &req, &body) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(error) => {
            inner.count(&error);
            error.response()
        }
    }
}

/// A strict OAuth2 authorization server on 127.0.0.1 for the tests (see the module's
/// documentation): `GET /authorize`, `POST /token` (grants `authorization_code` with PKCE
/// S256 and `refresh_token`, rotating), `GET /resource` (checks a bearer access token) and
/// `POST /revoke` (RFC 7009). Every answer is decided under one lock, so concurrent
/// refreshes with one token are judged as the provider would: one rotates, the other is
/// reuse (or, within a grace period, the one retry allowed).
pub(crate) struct RotatingTokenServer {
    port: u16,
    shared: Arc<Shared>,
}

impl RotatingTokenServer {
    /// Starts one on a port the system picks (in the current tokio runtime).
    pub(crate) async fn start(config: RotatingConfig) -> Self {
        let shared = Arc::new(Shared {
            config,
            inner: Mutex::new(Inner::default()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/authorize", web::get().to(authorize_endpoint))
                .route("/token", web::post().to(token_endpoint))
                .route("/resource", web::route().to(resource_endpoint))
                .route("/revoke", web::post().to(revoke_endpoint))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        Self { port, shared }
    }

    /// `http://127.0.0.1:<port>`, its issuer.
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub(crate) fn authorization_endpoint(&self) -> String {
        self.url("/authorize")
    }

    pub(crate) fn token_endpoint(&self) -> String {
        self.url("/token")
    }

    pub(crate) fn resource_url(&self) -> String {
        self.url("/resource")
    }

    pub(crate) fn revocation_endpoint(&self) -> String {
        self.url("/revoke")
    }

    pub(crate) fn counters(&self) -> Counters {
        self.shared.lock().counters
    }

    /// Every refresh that issued tokens, in order.
    pub(crate) fn refreshes(&self) -> Vec<RefreshRecord> {
        self.shared.lock().refreshes.clone()
    }

    pub(crate) fn revocations(&self) -> Vec<Revocation> {
        self.shared.lock().revocations.clone()
    }

    /// The query of every `/authorize` request from a known client to a registered
    /// redirect URI, as name-value pairs in order.
    pub(crate) fn authorization_requests(&self) -> Vec<Vec<(String, String)>> {
        self.shared.lock().authorization_requests.clone()
    }

    /// Every code, access token and refresh token it issued: none may show up in a
    /// response, a log or an error of the vault.
    pub(crate) fn issued_secrets(&self) -> Vec<String> {
        self.shared.lock().issued.clone()
    }

    /// The next refresh that issues tokens answers only after `delay`, its tokens issued
    /// and the refresh token it presented rotated before the wait: a client that dies
    /// meanwhile has lost the response in flight.
    pub(crate) fn stall_next_refresh(&self, delay: Duration) {
        self.shared.lock().stall_next_refresh = Some(delay);
    }

    /// How many refreshes [`Self::stall_next_refresh`] stalled: one is in flight (or
    /// was) once this counts it.
    pub(crate) fn stalled_refreshes(&self) -> usize {
        self.shared.lock().stalled_refreshes
    }

    /// From now on the user denies (`error=access_denied`), or consents again.
    pub(crate) fn deny_authorizations(&self, deny: bool) {
        self.shared.lock().deny = deny;
    }
}
