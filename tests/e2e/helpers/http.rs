//! Talking to a vault over HTTP: one client set-up, [`Api`] (a vault's address, with the
//! calls the tests make, each taking the access key to make it with) and [`Reply`] (a
//! response read whole, with the checks the tests make on it).

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Client, ClientBuilder, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use super::Id as _;

/// An HTTP client builder for the tests. reqwest is built (for the vault's upstream adapter)
/// with rustls and no built-in crypto provider, so the test process names one: ring, as the
/// vault itself uses.
pub(crate) fn http_client() -> ClientBuilder {
    let _already = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
}

/// The tests' client: every request bounded by `timeout` (a hang fails the test instead of
/// stalling it), and redirects not followed (the proxy hands them back; a test sees
/// responses as they came).
pub(crate) fn client_with_timeout(timeout: Duration) -> Client {
    http_client()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// [`client_with_timeout`] with 20 s.
pub(crate) fn client() -> Client {
    client_with_timeout(Duration::from_secs(20))
}

/// A vault's API at `base` (`http://127.0.0.1:<port>`), in process or the real binary.
/// Calls take the access key (or identity-provider token) to make them with, after the
/// path: `call(method, path, key, body)`; the typed ones name their resource first.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) client: Client,
}

impl Api {
    /// The API at `base`, through [`client`].
    pub(crate) fn new(base: &str) -> Self {
        Self::with_client(base, client())
    }

    pub(crate) fn with_client(base: &str, client: Client) -> Self {
        Self {
            base: base.to_owned(),
            client,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request without a key, for what the typed calls do not cover (other headers, raw
    /// bodies, no key at all); send it with [`Reply::send`].
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with `key`, and `body` as JSON.
    fn keyed(&self, method: Method, path: &str, key: &str, body: Option<&Value>) -> RequestBuilder {
        let request = self.request(method, path).bearer_auth(key);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    }

    /// `method path` with `key`, and `body` as JSON; `Err` is a transport failure.
    pub(crate) async fn try_call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> reqwest::Result<Reply> {
        Reply::try_send(self.keyed(method, path, key, body)).await
    }

    /// `method path` with `key`, and `body` as JSON; it must be answered.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
    ) -> Reply {
        self.try_call(method, path, key, body)
            .await
            .unwrap_or_else(|error| panic!("{path}: no answer: {error}"))
    }

    /// [`Api::call`] with an `If-Match` header.
    pub(crate) async fn call_if_match(
        &self,
        method: Method,
        path: &str,
        key: &str,
        if_match: &str,
        body: Option<&Value>,
    ) -> Reply {
        let request = self.keyed(method, path, key, body);
        Reply::send(request.header("if-match", if_match)).await
    }

    /// `method path` without a key (the probes, the document, refusals).
    pub(crate) async fn call_without_key(&self, method: Method, path: &str) -> Reply {
        Reply::send(self.request(method, path)).await
    }

    pub(crate) async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, key, None).await
    }

    /// `GET path`, which must answer 200; its JSON.
    pub(crate) async fn get_json(&self, path: &str, key: &str) -> Value {
        let reply = self.get(path, key).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.json()
    }

    /// Every item of a paged list, following `nextCursor` (`path` may have a query).
    pub(crate) async fn list_all(&self, path: &str, key: &str) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut page = format!("{path}{separator}limit=100");
            if let Some(cursor) = &cursor {
                page.push_str("&cursor=");
                page.push_str(cursor);
            }
            let page = self.get_json(&page, key).await;
            items.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// `POST /credentials`, which must answer 201; the created credential.
    pub(crate) async fn create_credential(&self, key: &str, body: &Value) -> Value {
        let reply = self
            .call(Method::POST, "/credentials", key, Some(body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create {body}: {}",
            reply.body
        );
        reply.json()
    }

    /// `PATCH /credentials/{id}`.
    pub(crate) async fn update_credential(&self, id: &str, key: &str, body: &Value) -> Reply {
        let path = format!("/credentials/{id}");
        self.call(Method::PATCH, &path, key, Some(body)).await
    }

    /// `DELETE /credentials/{id}`.
    pub(crate) async fn delete_credential(&self, id: &str, key: &str) -> Reply {
        let path = format!("/credentials/{id}");
        self.call(Method::DELETE, &path, key, None).await
    }

    /// `POST /credentials/{id}/proxy`: one use of the credential.
    pub(crate) async fn proxy(&self, id: &str, key: &str, call: &Value) -> Reply {
        let path = format!("/credentials/{id}/proxy");
        self.call(Method::POST, &path, key, Some(call)).await
    }

    /// `POST /credentials/{id}/versions/{version}/restore`.
    pub(crate) async fn restore_version(&self, id: &str, version: i64, key: &str) -> Reply {
        let path = format!("/credentials/{id}/versions/{version}/restore");
        self.call(Method::POST, &path, key, None).await
    }

    /// `POST /access-keys`.
    pub(crate) async fn create_access_key(&self, key: &str, body: &Value) -> Reply {
        self.call(Method::POST, "/access-keys", key, Some(body))
            .await
    }

    /// A new access key named `name` holding `scopes`, made with `key` (which must be
    /// allowed to: 201).
    pub(crate) async fn access_key(&self, key: &str, name: &str, scopes: &[&str]) -> AccessKey {
        let reply = self
            .create_access_key(key, &json!({"name": name, "scopes": scopes}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let body = reply.json();
        AccessKey {
            id: body.id(),
            secret: body["keySecret"].as_str().expect("key").to_owned(),
        }
    }

    /// `DELETE /access-keys/{id}`.
    pub(crate) async fn revoke_access_key(&self, id: &str, key: &str) -> Reply {
        let path = format!("/access-keys/{id}");
        self.call(Method::DELETE, &path, key, None).await
    }

    /// `POST /credentials/{id}/grants`.
    pub(crate) async fn create_grant(&self, id: &str, key: &str, body: &Value) -> Reply {
        let path = format!("/credentials/{id}/grants");
        self.call(Method::POST, &path, key, Some(body)).await
    }

    /// A grant of credential `id` made with `key` (which must be allowed to: 201); its id.
    pub(crate) async fn grant(&self, id: &str, key: &str, body: &Value) -> String {
        let reply = self.create_grant(id, key, body).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "grant {body}: {}",
            reply.body
        );
        reply.json().id()
    }

    /// `GET /admin/keys`, which must answer 200: the rows under each encryption key.
    pub(crate) async fn admin_keys(&self, key: &str) -> Value {
        self.get_json("/admin/keys", key).await
    }
}

/// An access key as `POST /access-keys` shows it once.
#[derive(Clone, Debug)]
pub(crate) struct AccessKey {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    /// Sends `request` and reads the response; `Err` is a transport failure.
    pub(crate) async fn try_send(request: RequestBuilder) -> reqwest::Result<Self> {
        Self::try_read(request.send().await?).await
    }

    /// Sends `request`, which must be answered, and reads the response.
    pub(crate) async fn send(request: RequestBuilder) -> Self {
        Self::try_send(request).await.expect("answered")
    }

    async fn try_read(response: reqwest::Response) -> reqwest::Result<Self> {
        Ok(Self {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await?,
        })
    }

    /// The body as JSON (a panic when it is not).
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    /// A header's value (a panic when it is missing or not visible ASCII).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ascii")
    }

    /// (status, problem code).
    pub(crate) fn problem(&self) -> (StatusCode, String) {
        (
            self.status,
            self.json()["code"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Checks a problem+json response: `status`, the content type, `code`, and the request
    /// id in the header and the body; returns the body.
    pub(crate) fn assert_problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), "application/problem+json");
        assert!(self.headers.contains_key("x-request-id"));
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status.as_u16(), "{body}");
        assert!(
            body["requestId"].as_str().is_some_and(|s| !s.is_empty()),
            "{body}"
        );
        body
    }

    /// Neither headers nor body carry any of `secrets`.
    pub(crate) fn reveals_none<S: AsRef<str>>(&self, secrets: &[S]) {
        let headers = format!("{:?}", self.headers);
        for secret in secrets {
            let secret = secret.as_ref();
            assert!(
                !self.body.contains(secret),
                "{secret} in body: {}",
                self.body
            );
            assert!(!headers.contains(secret), "{secret} in headers: {headers}");
        }
    }
}
