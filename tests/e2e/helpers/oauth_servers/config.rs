//! How the strict rotating server is configured, and what a test reads of it.

use super::*;

/// How a client authenticates at the token and revocation endpoints; each client is
/// registered with one, and the server refuses any other (as providers do with
/// `token_endpoint_auth_method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_secret_basic`: `Authorization: Basic` of the form-encoded id and secret.
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the form body.
    Post,
    /// `none`: a public client, only `client_id` in the body (PKCE is its proof).
    None,
}

/// A client registered with the [`RotatingTokenServer`].
#[derive(Clone, Debug)]
pub(crate) struct OAuthClient {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
    pub(crate) auth: ClientAuth,
    /// Compared exactly, as OAuth 2.1 requires.
    pub(crate) redirect_uris: Vec<String>,
}

impl OAuthClient {
    /// A confidential client authenticating with `auth` ([`ClientAuth::Basic`] or
    /// [`ClientAuth::Post`]).
    pub(crate) fn confidential(id: &str, secret: &str, auth: ClientAuth, redirect: &str) -> Self {
        assert_ne!(auth, ClientAuth::None, "a confidential client has a secret");
        Self {
            id: id.to_owned(),
            secret: Some(secret.to_owned()),
            auth,
            redirect_uris: vec![redirect.to_owned()],
        }
    }

    /// A public client ([`ClientAuth::None`]).
    pub(crate) fn public(id: &str, redirect: &str) -> Self {
        Self {
            id: id.to_owned(),
            secret: None,
            auth: ClientAuth::None,
            redirect_uris: vec![redirect.to_owned()],
        }
    }
}

/// How a [`RotatingTokenServer`] behaves.
#[derive(Clone, Debug)]
pub(crate) struct RotatingConfig {
    pub(crate) clients: Vec<OAuthClient>,
    /// How long an access token is accepted at `/resource` (`expires_in`, rounded up).
    pub(crate) access_token_lifetime: Duration,
    /// Some providers accept the immediately previous refresh token once more for a
    /// while after it was rotated (a response lost in flight); `None`: never. That retry
    /// gets new tokens, and the successor it had been rotated to is retired: the family
    /// keeps one usable refresh token, and the retired one coming back is reuse.
    pub(crate) refresh_grace: Option<Duration>,
    /// How long an authorization code may wait to be exchanged.
    pub(crate) code_lifetime: Duration,
}

impl RotatingConfig {
    /// No clients yet, no grace period, codes living 60 s.
    pub(crate) fn new(access_token_lifetime: Duration) -> Self {
        Self {
            clients: Vec::new(),
            access_token_lifetime,
            refresh_grace: None,
            code_lifetime: Duration::from_secs(60),
        }
    }

    pub(crate) fn client(mut self, client: OAuthClient) -> Self {
        self.clients.push(client);
        self
    }

    pub(crate) fn grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = Some(grace);
        self
    }
}

/// What the server has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Authorization codes issued by `/authorize`.
    pub(crate) authorizations: usize,
    /// Codes exchanged for tokens.
    pub(crate) code_exchanges: usize,
    /// Refreshes that issued tokens (those in a grace period included).
    pub(crate) refreshes: usize,
    /// Refreshes with the previous refresh token accepted in its grace period.
    pub(crate) grace_reuses: usize,
    /// Spent refresh tokens that came back: each revoked its token family.
    pub(crate) reuse_detections: usize,
    /// Spent authorization codes that came back: each revoked what the code had issued.
    pub(crate) code_replays: usize,
    /// `invalid_grant` answers from the token endpoint, whatever the grant.
    pub(crate) invalid_grants: usize,
    /// `invalid_client` answers from the token and revocation endpoints.
    pub(crate) invalid_clients: usize,
    /// `/resource` answers: 200 with a live access token, 401 otherwise.
    pub(crate) resource_ok: usize,
    pub(crate) resource_401s: usize,
    /// Accepted RFC 7009 revocation requests.
    pub(crate) revocations: usize,
}

/// One refresh that issued tokens.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefreshRecord {
    pub(crate) at: Instant,
    /// The token family (one per authorization).
    pub(crate) family: u64,
    /// Accepted with the previous refresh token, in its grace period.
    pub(crate) grace: bool,
}

/// What a token was, for the revocation record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Access,
    Refresh,
}

/// One accepted RFC 7009 revocation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Revocation {
    /// The client that asked.
    pub(crate) client_id: String,
    /// What the token was; `None`: unknown (answered 200 all the same, as RFC 7009 says).
    pub(crate) kind: Option<TokenKind>,
    pub(crate) token_type_hint: Option<String>,
}
