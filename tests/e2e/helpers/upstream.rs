//! An upstream for the end-to-end tests, on 127.0.0.1: records every request it gets and
//! plays an OAuth2 token endpoint (counting calls, slow or refusing on demand), a
//! redirector, an oversized response, a slow answer (5 s, for graceful-stop tests), and an
//! echo that records nothing (for long runs).

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

#[derive(Clone, Debug)]
pub(crate) struct Recorded {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Default)]
pub(crate) struct UpstreamState {
    pub(crate) requests: Mutex<Vec<Recorded>>,
    pub(crate) token_requests: Mutex<Vec<Recorded>>,
    pub(crate) token_calls: AtomicUsize,
    pub(crate) token_delay_ms: AtomicU64,
    pub(crate) token_refuses: AtomicBool,
}

pub(crate) struct Upstream {
    pub(crate) port: u16,
    pub(crate) state: Arc<UpstreamState>,
}

impl Upstream {
    pub(crate) fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub(crate) fn last(&self) -> Recorded {
        self.requests()
            .last()
            .cloned()
            .expect("the upstream got a request")
    }

    pub(crate) fn token_calls(&self) -> usize {
        self.state.token_calls.load(Ordering::SeqCst)
    }
}

fn record(req: &HttpRequest, body: &[u8]) -> Recorded {
    Recorded {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: Some(req.query_string().to_owned()).filter(|q| !q.is_empty()),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    }
}

async fn recorder(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<UpstreamState>,
) -> HttpResponse {
    state
        .requests
        .lock()
        .expect("lock")
        .push(record(&req, &body));
    let status = req
        .path()
        .strip_prefix("/status/")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
        .unwrap_or(actix_web::http::StatusCode::OK);
    HttpResponse::build(status)
        .insert_header(("x-upstream", "yes"))
        .body("upstream-ok")
}

async fn token_endpoint(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<UpstreamState>,
) -> HttpResponse {
    let n = state.token_calls.fetch_add(1, Ordering::SeqCst) + 1;
    state
        .token_requests
        .lock()
        .expect("lock")
        .push(record(&req, &body));
    let delay = state.token_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if state.token_refuses.load(Ordering::SeqCst) {
        // A careless endpoint that echoes what it got, secret included: the vault must
        // never pass this on.
        let echoed = String::from_utf8_lossy(&body).into_owned();
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        return HttpResponse::Unauthorized().json(json!({
            "error": "invalid_client",
            "error_description": format!("bad client: {echoed} {auth}"),
        }));
    }
    HttpResponse::Ok().json(json!({
        "access_token": format!("tok-{n}"),
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
}

/// `/echo`: answers with the credential-bearing headers it got, as JSON, and keeps nothing,
/// so a long run can check every use without the upstream's memory growing.
async fn echo(req: HttpRequest) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    HttpResponse::Ok().json(json!({
        "authorization": header("authorization"),
        "x-api-key": header("x-api-key"),
        "x-soak-secret": header("x-soak-secret"),
    }))
}

/// `/slow`: recorded on arrival, answered 5 s later.
async fn slow(req: HttpRequest, body: web::Bytes, state: web::Data<UpstreamState>) -> HttpResponse {
    state
        .requests
        .lock()
        .expect("lock")
        .push(record(&req, &body));
    tokio::time::sleep(Duration::from_secs(5)).await;
    HttpResponse::Ok().body("slow-ok")
}

pub(crate) async fn start_upstream() -> Upstream {
    let state = web::Data::new(UpstreamState::default());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let shared = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .route("/token", web::post().to(token_endpoint))
            .route("/echo", web::get().to(echo))
            .route("/slow", web::get().to(slow))
            .route(
                "/redirect-away",
                web::get().to(move || async move {
                    HttpResponse::Found()
                        .insert_header(("location", format!("http://localhost:{port}/record/away")))
                        .finish()
                }),
            )
            .route(
                "/redirect-same",
                web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("location", "/record/same"))
                        .finish()
                }),
            )
            .route(
                "/big",
                web::get().to(|| async { HttpResponse::Ok().body(vec![b'x'; 300_000]) }),
            )
            .default_service(web::to(recorder))
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    Upstream {
        port,
        state: state.into_inner(),
    }
}
