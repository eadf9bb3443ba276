//! `HttpUpstream` against tiny HTTP/1.1 servers started on 127.0.0.1, port 0.
//!
//! The servers are hand-written on tokio so a test controls every byte: what arrived, what
//! goes back, and when (never, or a byte at a time). Every exchange is bounded by short
//! timeouts.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use vault_core::upstream::{
    OutgoingRequest, RequestPurpose, Upstream as _, UpstreamError, UpstreamResponse,
};
use vault_upstream::{HttpUpstream, UpstreamConfig};

/// Upper bound on any one exchange in these tests, beyond the upstream's own timeouts.
const TEST_BOUND: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// The test server

/// One request as it arrived.
#[derive(Clone, Debug)]
struct Seen {
    /// Request line and headers, exactly as received, without the blank line.
    head: String,
    body: Vec<u8>,
}

impl Seen {
    fn request_line(&self) -> &str {
        self.head.split("\r\n").next().expect("request line")
    }

    /// Header lines as (lower-case name, value), sorted.
    fn headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .head
            .split("\r\n")
            .skip(1)
            .map(|line| {
                let (name, value) = line.split_once(':').expect("header line");
                (name.to_ascii_lowercase(), value.trim().to_owned())
            })
            .collect();
        headers.sort();
        headers
    }
}

/// What the server does with a request.
enum Reply {
    /// Writes these bytes (a whole response) and waits for the next request.
    Bytes(Vec<u8>),
    /// Never answers.
    Hang,
    /// Writes these bytes, then one more byte every 50 ms, forever.
    Trickle(Vec<u8>),
}

type Responder = dyn Fn(&Seen, SocketAddr) -> Reply + Send + Sync;

struct TestServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    async fn start(responder: impl Fn(&Seen, SocketAddr) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let responder: Arc<Responder> = Arc::new(responder);
        let task = tokio::spawn({
            let seen = Arc::clone(&seen);
            let connections = Arc::clone(&connections);
            async move {
                let mut handlers = Vec::new();
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    handlers.push(AbortOnDrop(tokio::spawn(handle(
                        stream,
                        addr,
                        Arc::clone(&seen),
                        Arc::clone(&responder),
                    ))));
                }
            }
        });
        Self {
            addr,
            seen,
            connections,
            task,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Ends a connection handler when the server (its accept task) is aborted.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn handle(
    mut stream: TcpStream,
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    responder: Arc<Responder>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        seen.lock().expect("lock").push(request.clone());
        match responder(&request, addr) {
            Reply::Bytes(bytes) => {
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Reply::Hang => std::future::pending::<()>().await,
            Reply::Trickle(head) => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if stream.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Reads one request (headers, then a `Content-Length` body); `None` at end of stream.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let mut chunk = [0_u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("ASCII head");
    buffer.drain(..head_end + 4);
    let length = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, value)| {
            value.trim().parse::<usize>().expect("length")
        });
    while buffer.len() < length {
        let mut chunk = [0_u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer.drain(..length).collect();
    Some(Seen { head, body })
}

/// A complete response with a `Content-Length`.
fn response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut bytes = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    Reply::Bytes(bytes)
}

fn ok(body: &str) -> Reply {
    response("200 OK", &[("content-type", "text/plain")], body.as_bytes())
}

fn redirect_to(location: &str) -> Reply {
    response("302 Found", &[("location", location)], b"moved")
}

// ---------------------------------------------------------------------------------------
// The client side

fn config(allow_private_networks: bool) -> UpstreamConfig {
    UpstreamConfig {
        allow_private_networks,
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        max_response_bytes: 64 * 1024,
        max_redirects: 5,
        extra_roots: None,
    }
}

fn upstream_with(config: UpstreamConfig) -> HttpUpstream {
    HttpUpstream::new(config).expect("upstream")
}

/// Allows private networks: the test servers are on loopback.
fn loopback_upstream() -> HttpUpstream {
    upstream_with(config(true))
}

fn get(url: &str) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::GET,
        url: url.parse().expect("URL"),
        headers: HeaderMap::new(),
        body: Vec::new(),
        purpose: RequestPurpose::Proxy,
        tls: None,
    }
}

async fn send(
    upstream: &HttpUpstream,
    request: OutgoingRequest,
) -> Result<UpstreamResponse, UpstreamError> {
    tokio::time::timeout(TEST_BOUND, upstream.send(request))
        .await
        .expect("the upstream call outlived the test bound")
}

async fn send_ok(upstream: &HttpUpstream, request: OutgoingRequest) -> UpstreamResponse {
    send(upstream, request).await.expect("response")
}

async fn send_err(upstream: &HttpUpstream, request: OutgoingRequest) -> UpstreamError {
    match send(upstream, request).await {
        Ok(response) => panic!("expected an error, got {}", response.status),
        Err(error) => error,
    }
}

/// The error, its `Debug`, and each source's `Display` and `Debug`.
fn everything_printed(error: &UpstreamError) -> String {
    let mut out = format!("{error}\n{error:?}\n");
    let mut source: Option<&(dyn StdError + 'static)> = error.source();
    while let Some(cause) = source {
        out.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    out
}

// ---------------------------------------------------------------------------------------
// As sent, as received

#[tokio::test]
async fn the_request_arrives_exactly_as_sent() {
    let server = TestServer::start(|_, _| ok("fine")).await;
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_static("sk_test_123"));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert("accept", HeaderValue::from_static("application/json"));
    headers.append("x-multi", HeaderValue::from_static("one"));
    headers.append("x-multi", HeaderValue::from_static("two"));
    let body: Vec<u8> = vec![0, 159, 146, 150, b'{', b'}', 255];
    let request = OutgoingRequest {
        method: Method::POST,
        url: server
            .url("/v1/items/%7Bid%7D?api_key=k%20ey&b=2&a=1")
            .parse()
            .expect("URL"),
        headers,
        body: body.clone(),
        purpose: RequestPurpose::Proxy,
        tls: None,
    };

    let response = send_ok(&loopback_upstream(), request).await;
    assert_eq!(response.status, StatusCode::OK);

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!(
        seen.request_line(),
        "POST /v1/items/%7Bid%7D?api_key=k%20ey&b=2&a=1 HTTP/1.1"
    );
    let mut expected: Vec<(String, String)> = [
        ("accept", "application/json".to_owned()),
        ("content-length", body.len().to_string()),
        ("content-type", "application/octet-stream".to_owned()),
        ("host", server.addr.to_string()),
        ("x-api-key", "sk_test_123".to_owned()),
        ("x-multi", "one".to_owned()),
        ("x-multi", "two".to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    expected.sort();
    // Nothing added: no user-agent, no accept-encoding, no referer.
    assert_eq!(seen.headers(), expected);
    assert_eq!(seen.body, body);
}

#[tokio::test]
async fn reqwest_adds_only_accept_when_the_request_has_none() {
    let server = TestServer::start(|_, _| ok("fine")).await;
    send_ok(&loopback_upstream(), get(&server.url("/"))).await;
    let seen = server.seen();
    assert_eq!(seen[0].request_line(), "GET / HTTP/1.1");
    assert_eq!(
        seen[0].headers(),
        vec![
            ("accept".to_owned(), "*/*".to_owned()),
            ("host".to_owned(), server.addr.to_string()),
        ]
    );
    assert!(seen[0].body.is_empty());
}

#[tokio::test]
async fn status_headers_and_body_come_back_as_received() {
    // A gzip content-encoding over bytes that are not gzip: they must come back untouched.
    let body: Vec<u8> = vec![1, 2, 3, 0, 255, b'h', b'i'];
    let server = TestServer::start(move |_, _| {
        response(
            "418 I'm a teapot",
            &[
                ("content-type", "application/x-thing"),
                ("content-encoding", "gzip"),
                ("x-multi", "a"),
                ("x-multi", "b"),
                ("set-cookie", "session=1; HttpOnly"),
                ("connection", "keep-alive"),
            ],
            &[1, 2, 3, 0, 255, b'h', b'i'],
        )
    })
    .await;

    let response = send_ok(&loopback_upstream(), get(&server.url("/teapot"))).await;
    assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(response.body, body);
    let h = &response.headers;
    assert_eq!(h["content-type"], "application/x-thing");
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["set-cookie"], "session=1; HttpOnly");
    assert_eq!(h["connection"], "keep-alive");
    assert_eq!(h["content-length"], body.len().to_string().as_str());
    let multi: Vec<&HeaderValue> = h
        .get_all(HeaderName::from_static("x-multi"))
        .iter()
        .collect();
    assert_eq!(multi, ["a", "b"]);
    assert_eq!(h.len(), 7);
}

#[tokio::test]
async fn connections_are_pooled_across_requests_and_clones() {
    let server = TestServer::start(|_, _| ok("fine")).await;
    let upstream = loopback_upstream();
    let clone = upstream.clone();
    for _ in 0..3 {
        send_ok(&upstream, get(&server.url("/a"))).await;
        send_ok(&clone, get(&server.url("/b"))).await;
    }
    assert_eq!(server.seen().len(), 6);
    assert_eq!(
        server.connections(),
        1,
        "every request after the first reuses the connection"
    );
}

// ---------------------------------------------------------------------------------------
// Network rules

#[tokio::test]
async fn a_loopback_literal_is_refused_unless_private_networks_are_allowed() {
    let server = TestServer::start(|_, _| ok("fine")).await;
    let refused = upstream_with(config(false));
    for url in [
        server.url("/"),
        format!("http://0x7f.1:{}/", server.addr.port()),
        format!("http://2130706433:{}/", server.addr.port()),
        // Dual-stack sockets would deliver this one to the 127.0.0.1 listener.
        format!("http://[::ffff:127.0.0.1]:{}/", server.addr.port()),
    ] {
        let error = send_err(&refused, get(&url)).await;
        assert!(
            matches!(&error, UpstreamError::ForbiddenAddress { .. }),
            "{url}: {error:?}"
        );
        assert_eq!(error.code(), "forbidden-destination");
    }
    assert_eq!(server.connections(), 0, "nothing may reach the server");

    let response = send_ok(&loopback_upstream(), get(&server.url("/"))).await;
    assert_eq!(response.body, b"fine");
}

#[tokio::test]
async fn non_public_literals_are_refused_without_a_connection_attempt() {
    // A long connect timeout: a refusal that came from trying would show in the time taken.
    let upstream = upstream_with(UpstreamConfig {
        connect_timeout: Duration::from_secs(30),
        total_timeout: Duration::from_secs(30),
        ..UpstreamConfig::default()
    });
    for (url, host) in [
        ("http://10.0.0.1/", "10.0.0.1"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("https://[::1]:8443/", "[::1]"),
        ("http://[::ffff:127.0.0.1]/", "[::ffff:7f00:1]"),
        ("http://192.168.1.1:8080/", "192.168.1.1"),
        ("http://[fd00::1]/", "[fd00::1]"),
        ("http://0.0.0.0/", "0.0.0.0"),
    ] {
        let started = Instant::now();
        let error = send_err(&upstream, get(url)).await;
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{url} took a while"
        );
        match error {
            UpstreamError::ForbiddenAddress { host: named } => assert_eq!(named, host, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn localhost_is_refused_through_dns() {
    let server = TestServer::start(|_, _| ok("fine")).await;
    let url = format!("http://localhost:{}/", server.addr.port());

    // There is no name rule: `localhost` goes to the resolver like any name, which finds
    // only loopback answers and refuses it.
    match send_err(&upstream_with(config(false)), get(&url)).await {
        UpstreamError::ForbiddenAddress { host } => assert_eq!(host, "localhost"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.connections(), 0);

    // With private networks allowed, the same name resolves and connects: the refusal above
    // was the resolver's filter, not a failed lookup.
    let response = send_ok(&loopback_upstream(), get(&url)).await;
    assert_eq!(response.body, b"fine");
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_a_resolve_error() {
    let upstream = upstream_with(UpstreamConfig {
        total_timeout: Duration::from_secs(3),
        ..config(false)
    });
    match send_err(
        &upstream,
        get("http://no-such-host.invalid/x?api_key=canary"),
    )
    .await
    {
        UpstreamError::Resolve { host } => assert_eq!(host, "no-such-host.invalid"),
        // Where the system resolver is unreachable rather than answering NXDOMAIN.
        UpstreamError::Timeout { host } => assert_eq!(host, "no-such-host.invalid"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn only_http_and_https_are_sent() {
    for url in [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "ws://example.com/",
    ] {
        let error = send_err(&loopback_upstream(), get(url)).await;
        assert!(
            matches!(error, UpstreamError::Other { .. }),
            "{url}: {error:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Redirects

#[tokio::test]
async fn a_same_origin_redirect_is_followed() {
    let server = TestServer::start(|seen, addr| match seen.request_line() {
        "GET /start?api_key=k HTTP/1.1" => redirect_to("/middle"),
        "GET /middle HTTP/1.1" => redirect_to(&format!("http://{addr}/end")),
        _ => ok("arrived"),
    })
    .await;
    let response = send_ok(&loopback_upstream(), get(&server.url("/start?api_key=k"))).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, b"arrived");
    let lines: Vec<String> = server
        .seen()
        .iter()
        .map(|s| s.request_line().to_owned())
        .collect();
    assert_eq!(
        lines,
        [
            "GET /start?api_key=k HTTP/1.1",
            "GET /middle HTTP/1.1",
            "GET /end HTTP/1.1"
        ]
    );
    // No Referer repeating the first URL (and its key).
    assert!(
        server
            .seen()
            .iter()
            .all(|s| !s.head.to_ascii_lowercase().contains("referer"))
    );
}

#[tokio::test]
async fn redirects_past_the_limit_return_the_last_redirect() {
    let server = TestServer::start(|seen, _| {
        let n: usize = seen
            .request_line()
            .trim_start_matches("GET /r")
            .trim_end_matches(" HTTP/1.1")
            .parse()
            .expect("hop number");
        redirect_to(&format!("/r{}", n + 1))
    })
    .await;
    let upstream = upstream_with(UpstreamConfig {
        max_redirects: 2,
        ..config(true)
    });
    let response = send_ok(&upstream, get(&server.url("/r0"))).await;
    assert_eq!(response.status, StatusCode::FOUND);
    assert_eq!(response.headers["location"], "/r3");
    assert_eq!(
        server.seen().len(),
        3,
        "the original request and two redirects"
    );

    let none = upstream_with(UpstreamConfig {
        max_redirects: 0,
        ..config(true)
    });
    let response = send_ok(&none, get(&server.url("/r0"))).await;
    assert_eq!(response.headers["location"], "/r1");
}

#[tokio::test]
async fn a_redirect_to_another_host_port_or_scheme_is_returned_not_followed() {
    let other = TestServer::start(|_, _| ok("other")).await;
    let other_port = other.addr.port();
    let server = TestServer::start(move |seen, addr| match seen.request_line() {
        "GET /to-localhost HTTP/1.1" => {
            redirect_to(&format!("http://localhost:{}/landed", addr.port()))
        }
        "GET /to-other-port HTTP/1.1" => {
            redirect_to(&format!("http://127.0.0.1:{other_port}/landed"))
        }
        "GET /to-https HTTP/1.1" => redirect_to(&format!("https://{addr}/landed")),
        "GET /to-metadata HTTP/1.1" => redirect_to("http://169.254.169.254/latest/meta-data/"),
        _ => ok("landed"),
    })
    .await;

    for (path, location) in [
        (
            "/to-localhost",
            format!("http://localhost:{}/landed", server.addr.port()),
        ),
        (
            "/to-other-port",
            format!("http://127.0.0.1:{other_port}/landed"),
        ),
        ("/to-https", format!("https://{}/landed", server.addr)),
        (
            "/to-metadata",
            "http://169.254.169.254/latest/meta-data/".to_owned(),
        ),
    ] {
        let response = send_ok(&loopback_upstream(), get(&server.url(path))).await;
        assert_eq!(response.status, StatusCode::FOUND, "{path}");
        assert_eq!(response.headers["location"], location.as_str(), "{path}");
        assert_eq!(response.body, b"moved", "{path}");
    }
    assert_eq!(server.seen().len(), 4, "no request to /landed");
    assert_eq!(other.connections(), 0);
}

// ---------------------------------------------------------------------------------------
// Bounds

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(|_, _| Reply::Hang).await;
    let upstream = upstream_with(UpstreamConfig {
        total_timeout: Duration::from_millis(300),
        ..config(true)
    });
    let started = Instant::now();
    match send_err(&upstream, get(&server.url("/slow"))).await {
        UpstreamError::Timeout { host } => assert_eq!(host, "127.0.0.1"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_total_timeout_covers_the_body() {
    let server = TestServer::start(|_, _| {
        Reply::Trickle(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n".to_vec())
    })
    .await;
    let upstream = upstream_with(UpstreamConfig {
        total_timeout: Duration::from_millis(400),
        max_response_bytes: 1024 * 1024,
        ..config(true)
    });
    let started = Instant::now();
    let error = send_err(&upstream, get(&server.url("/drip"))).await;
    assert!(matches!(error, UpstreamError::Timeout { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn an_announced_oversized_body_is_refused() {
    let server = TestServer::start(|_, _| {
        Reply::Bytes(b"HTTP/1.1 200 OK\r\ncontent-length: 2000\r\n\r\n".to_vec())
    })
    .await;
    let upstream = upstream_with(UpstreamConfig {
        max_response_bytes: 1000,
        ..config(true)
    });
    // The body is never sent: the refusal comes from the header alone.
    match send_err(&upstream, get(&server.url("/big"))).await {
        UpstreamError::ResponseTooLarge { host, limit } => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(limit, 1000);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_streamed_oversized_body_is_cut_off() {
    // Chunked, no length announced, and it never ends: only the limit can stop the read.
    let server = TestServer::start(|_, _| {
        let mut bytes = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..8 {
            bytes.extend_from_slice(b"100\r\n");
            bytes.extend_from_slice(&[b'a'; 256]);
            bytes.extend_from_slice(b"\r\n");
        }
        Reply::Trickle(bytes)
    })
    .await;
    let upstream = upstream_with(UpstreamConfig {
        max_response_bytes: 1000,
        ..config(true)
    });
    let error = send_err(&upstream, get(&server.url("/stream"))).await;
    assert!(
        matches!(error, UpstreamError::ResponseTooLarge { limit: 1000, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read() {
    let server = TestServer::start(|_, _| {
        let mut bytes = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..4 {
            bytes.extend_from_slice(b"fa\r\n");
            bytes.extend_from_slice(&[b'b'; 250]);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
        Reply::Bytes(bytes)
    })
    .await;
    let upstream = upstream_with(UpstreamConfig {
        max_response_bytes: 1000,
        ..config(true)
    });
    let response = send_ok(&upstream, get(&server.url("/exact"))).await;
    assert_eq!(response.body, vec![b'b'; 1000]);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr").port()
    };
    match send_err(
        &loopback_upstream(),
        get(&format!("http://127.0.0.1:{port}/")),
    )
    .await
    {
        UpstreamError::Connect { host, .. } => assert_eq!(host, "127.0.0.1"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn zero_timeouts_are_refused_at_build_time() {
    let config = UpstreamConfig {
        connect_timeout: Duration::ZERO,
        ..UpstreamConfig::default()
    };
    assert!(HttpUpstream::new(config).is_err());
}

// ---------------------------------------------------------------------------------------
// Secrets in errors

#[tokio::test]
async fn errors_never_show_the_url_or_a_header_value() {
    const QUERY: &str = "canary-query-7c1e";
    const HEADER: &str = "canary-header-93fa";
    const PATH: &str = "canary-path-51d0";

    let refused_port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let hang = TestServer::start(|_, _| Reply::Hang).await;
    let big = TestServer::start(|_, _| {
        Reply::Bytes(b"HTTP/1.1 200 OK\r\ncontent-length: 999999999\r\n\r\n".to_vec())
    })
    .await;
    let garbage = TestServer::start(|_, _| Reply::Bytes(b"NOT HTTP AT ALL\r\n\r\n".to_vec())).await;
    // Answers a TLS ClientHello with plain text: the handshake fails.
    let not_tls = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let not_tls_addr = not_tls.local_addr().expect("addr");
    let _not_tls = AbortOnDrop(tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((mut stream, _)) = not_tls.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            open.push(stream);
        }
    }));

    let strict = upstream_with(UpstreamConfig {
        total_timeout: Duration::from_millis(300),
        ..config(false)
    });
    let open = upstream_with(UpstreamConfig {
        total_timeout: Duration::from_millis(300),
        max_response_bytes: 1000,
        ..config(true)
    });

    let target = |authority: String| format!("http://{authority}/{PATH}/x?api_key={QUERY}&y=1");
    let cases: Vec<(&HttpUpstream, String)> = vec![
        (&strict, target(format!("127.0.0.1:{refused_port}"))),
        (&strict, target(format!("localhost:{refused_port}"))),
        (&strict, target("169.254.169.254".to_owned())),
        (&strict, target("no-such-host.invalid".to_owned())),
        (&open, target(format!("127.0.0.1:{refused_port}"))),
        (&open, target(hang.addr.to_string())),
        (&open, target(big.addr.to_string())),
        (&open, target(garbage.addr.to_string())),
        (
            &open,
            format!("https://{not_tls_addr}/{PATH}?api_key={QUERY}"),
        ),
        (&open, format!("ftp://example.com/{PATH}?api_key={QUERY}")),
    ];
    let mut variants = Vec::new();
    for (upstream, url) in cases {
        let mut request = get(&url);
        request
            .headers
            .insert("x-api-key", HeaderValue::from_str(HEADER).expect("value"));
        request.headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {HEADER}")).expect("value"),
        );
        let error = send_err(upstream, request).await;
        let printed = everything_printed(&error);
        for canary in [QUERY, HEADER, PATH] {
            assert!(
                !printed.contains(canary),
                "{canary} leaked by {}:\n{printed}",
                error.code()
            );
        }
        variants.push(error.code());
    }
    // The cases cover every kind of failure, so every message above was looked at.
    for code in [
        "forbidden-destination",
        "upstream-unreachable",
        "upstream-timeout",
        "upstream-response-too-large",
        "upstream-failed",
    ] {
        assert!(
            variants.contains(&code),
            "no case produced {code}: {variants:?}"
        );
    }
}
