//! The metric families and the text exposition.
//!
//! Every label value is a `&'static str` taken from a fixed set in this crate (or from
//! [`UpstreamError::code`](vault_core::upstream::UpstreamError::code)), or a status code
//! number. The label structs' field types are what keep request paths, credential names,
//! secrets and key bytes out: there is no way to put a runtime `String` into a label here.

use std::fmt;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The media type of [`Metrics::encode`]'s output (OpenMetrics text, which Prometheus
/// scrapes natively), for the `Content-Type` of a `/metrics` response.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The methods that get their own `method` label; any other is counted as `other`, so a
/// client inventing methods cannot grow the number of series.
const METHODS: [&str; 7] = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"];

/// Store calls: 50 µs (an in-memory or cached SQLite read) doubling up to ~6.6 s (a
/// PostgreSQL call waiting on a lock or a pool), 18 buckets.
fn store_buckets() -> Histogram {
    Histogram::new(exponential_buckets(50e-6, 2.0, 18))
}

/// HTTP requests: 100 µs (a health check) doubling up to ~13 s (a proxied call near the
/// upstream timeout), 18 buckets.
fn http_buckets() -> Histogram {
    Histogram::new(exponential_buckets(100e-6, 2.0, 18))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

/// Labels of the store and cipher families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProxyLabels {
    upstream_status: UpstreamStatus,
}

/// What a proxied call got: the upstream's status code, or why there was none.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum UpstreamStatus {
    /// The upstream answered with this status.
    Status(u16),
    /// No answer; an [`UpstreamError`](vault_core::upstream::UpstreamError) code.
    Error(&'static str),
}

impl EncodeLabelValue for UpstreamStatus {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), fmt::Error> {
        match self {
            Self::Status(status) => EncodeLabelValue::encode(status, encoder),
            Self::Error(code) => EncodeLabelValue::encode(code, encoder),
        }
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The vault's metrics: one registry (every name prefixed `vault_`) and the families the
/// HTTP layer and the metered ports record into. Build one with [`Metrics::new`], share
/// it as an `Arc<Metrics>` between the decorators and the HTTP layer, and serve
/// [`Metrics::encode`] with [`CONTENT_TYPE`].
///
/// | family | type | labels |
/// |---|---|---|
/// | `vault_http_requests_total` | counter | `method`, `route`, `status` |
/// | `vault_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
/// | `vault_store_operation_duration_seconds` | histogram | `operation`, `outcome` |
/// | `vault_cipher_operations_total` | counter | `operation`, `outcome` |
/// | `vault_oauth2_token_fetches_total` | counter | `outcome` |
/// | `vault_proxy_requests_total` | counter | `upstream_status` |
/// | `vault_key_manager_reachable` | gauge | `kind` |
/// | `vault_audit_sink_lag_events` | gauge | `sink` |
/// | `vault_audit_sink_failures_total` | counter | `sink` |
///
/// No label ever carries a secret, a key, a credential name or a raw request path: every
/// label value is a static string from a fixed set, or a status code number.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily<HttpLabels>,
    store_duration: HistogramFamily<OperationLabels>,
    cipher_operations: Family<OperationLabels, Counter>,
    token_fetches: Family<OutcomeLabels, Counter>,
    proxy_requests: Family<ProxyLabels, Counter>,
    key_manager_reachable: Family<KindLabels, Gauge>,
    audit_sink_lag: Family<SinkLabels, Gauge>,
    audit_sink_failures: Family<SinkLabels, Counter>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The registry's own Debug dumps every series; that is what `encode` is for.
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered and no series yet.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vault");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration = HistogramFamily::<HttpLabels>::new_with_constructor(http_buckets);
        let store_duration =
            HistogramFamily::<OperationLabels>::new_with_constructor(store_buckets);
        let cipher_operations = Family::<OperationLabels, Counter>::default();
        let token_fetches = Family::<OutcomeLabels, Counter>::default();
        let proxy_requests = Family::<ProxyLabels, Counter>::default();
        let key_manager_reachable = Family::<KindLabels, Gauge>::default();
        let audit_sink_lag = Family::<SinkLabels, Gauge>::default();
        let audit_sink_failures = Family::<SinkLabels, Counter>::default();

        // Counters are registered without `_total` and histograms without the unit: the
        // encoder appends both.
        registry.register(
            "http_requests",
            "HTTP requests handled, by method, route pattern and status",
            http_requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to handle an HTTP request, by method, route pattern and status",
            Unit::Seconds,
            http_duration.clone(),
        );
        registry.register_with_unit(
            "store_operation_duration",
            "Time of a store call, by port method and outcome",
            Unit::Seconds,
            store_duration.clone(),
        );
        registry.register(
            "cipher_operations",
            "Cipher calls, by operation and outcome",
            cipher_operations.clone(),
        );
        registry.register(
            "oauth2_token_fetches",
            "OAuth2 token requests, by outcome (ok, the token endpoint's status class, or \
             the upstream error code)",
            token_fetches.clone(),
        );
        registry.register(
            "proxy_requests",
            "Proxied requests, by the upstream's status code or the upstream error code",
            proxy_requests.clone(),
        );

        registry.register(
            "key_manager_reachable",
            "Whether the key manager (by kind) answered and its key was usable at the \
             server's last check (1 or 0). A restart fails while it is 0",
            key_manager_reachable.clone(),
        );
        registry.register(
            "audit_sink_lag_events",
            "Audit events written but not yet delivered to an audit sink (by sink), as of \
             its last delivery attempt: the backlog a sink that is down leaves in the database",
            audit_sink_lag.clone(),
        );
        registry.register(
            "audit_sink_failures",
            "Failed deliveries of a batch of audit events to an audit sink (by sink); each is \
             retried with backoff",
            audit_sink_failures.clone(),
        );

        Self {
            registry,
            http_requests,
            http_duration,
            store_duration,
            cipher_operations,
            token_fetches,
            proxy_requests,
            key_manager_reachable,
            audit_sink_lag,
            audit_sink_failures,
        }
    }

    /// Records one handled HTTP request.
    ///
    /// `route` MUST be the matched route *pattern* (`/credentials/{id}`), or `unmatched`
    /// when no route matched, never the request's path: a path carries ids, and arbitrary
    /// paths would create one series each. `method` is kept only when it is one of GET,
    /// POST, PATCH, PUT, DELETE, HEAD and OPTIONS (case-sensitive, as HTTP methods are);
    /// any other is recorded as `other`.
    pub fn observe_http(&self, method: &str, route: &'static str, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            method: method_label(method),
            route,
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Records one store call.
    pub(crate) fn observe_store(
        &self,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Duration,
    ) {
        self.store_duration
            .get_or_create(&OperationLabels { operation, outcome })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one cipher call.
    pub(crate) fn count_cipher(&self, operation: &'static str, outcome: &'static str) {
        self.cipher_operations
            .get_or_create(&OperationLabels { operation, outcome })
            .inc();
    }

    /// Counts one OAuth2 token request.
    pub(crate) fn count_token_fetch(&self, outcome: &'static str) {
        self.token_fetches
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts one proxied request.
    pub(crate) fn count_proxy(&self, upstream_status: UpstreamStatus) {
        self.proxy_requests
            .get_or_create(&ProxyLabels { upstream_status })
            .inc();
    }

    /// Records the last check of the key manager of `kind` (`static`, `transit`, ...).
    pub fn set_key_manager_reachable(&self, kind: &'static str, reachable: bool) {
        self.key_manager_reachable
            .get_or_create(&KindLabels { kind })
            .set(i64::from(reachable));
    }

    /// Records how many audit events audit sink `sink` (`file`, `syslog`) has yet to
    /// deliver.
    pub fn set_audit_sink_lag(&self, sink: &'static str, events: u64) {
        self.audit_sink_lag
            .get_or_create(&SinkLabels { sink })
            .set(i64::try_from(events).unwrap_or(i64::MAX));
    }

    /// Counts one failed delivery to audit sink `sink`.
    pub fn count_audit_sink_failure(&self, sink: &'static str) {
        self.audit_sink_failures
            .get_or_create(&SinkLabels { sink })
            .inc();
    }

    /// Every family in the OpenMetrics text format (ending in `# EOF`), to be served with
    /// [`CONTENT_TYPE`].
    #[must_use]
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail, and no label encoder of ours returns an error.
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            unreachable!("encoding metrics into a String failed");
        }
        out
    }
}

/// The `method` label: the method itself when it is a common one, `other` otherwise.
fn method_label(method: &str) -> &'static str {
    METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("OPTIONS"), "OPTIONS");
        assert_eq!(method_label("get"), "other");
        assert_eq!(method_label("PROPFIND"), "other");
        assert_eq!(method_label("GET /secret"), "other");
    }

    #[test]
    fn families_appear_with_their_first_series() {
        // prometheus-client writes no descriptor for a family without series.
        let metrics = Metrics::new();
        assert_eq!(metrics.encode(), "# EOF\n");

        metrics.observe_http("GET", "/health", 200, Duration::from_micros(80));
        metrics.observe_store("get_meta", "ok", Duration::from_micros(80));
        metrics.count_cipher("seal", "ok");
        metrics.count_token_fetch("ok");
        metrics.count_proxy(UpstreamStatus::Status(200));
        metrics.set_key_manager_reachable("transit", false);
        let text = metrics.encode();
        for family in [
            "# TYPE vault_http_requests counter",
            "# TYPE vault_http_request_duration_seconds histogram",
            "# UNIT vault_http_request_duration_seconds seconds",
            "# TYPE vault_store_operation_duration_seconds histogram",
            "# UNIT vault_store_operation_duration_seconds seconds",
            "# TYPE vault_cipher_operations counter",
            "# TYPE vault_oauth2_token_fetches counter",
            "# TYPE vault_proxy_requests counter",
            "# TYPE vault_key_manager_reachable gauge",
            "vault_key_manager_reachable{kind=\"transit\"} 0",
        ] {
            assert!(text.contains(family), "{family} missing from:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn http_requests_are_counted_and_timed_by_route_pattern() {
        let metrics = Metrics::new();
        metrics.observe_http("GET", "/credentials/{id}", 200, Duration::from_micros(300));
        metrics.observe_http("GET", "/credentials/{id}", 200, Duration::from_millis(2));
        metrics.observe_http("BREW", "unmatched", 404, Duration::from_micros(50));
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"vault_http_requests_total{method="GET",route="/credentials/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"vault_http_requests_total{method="other",route="unmatched",status="404"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"vault_http_request_duration_seconds_count{method="GET",route="/credentials/{id}",status="200"} 2"#
            ),
            "{text}"
        );
        // 300 µs falls in the 400 µs bucket, 2 ms in the 3.2 ms one.
        assert!(
            text.contains(
                r#"vault_http_request_duration_seconds_bucket{le="0.0004",method="GET",route="/credentials/{id}",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(!text.contains("BREW"), "{text}");
    }

    #[test]
    fn proxy_labels_are_a_status_or_an_error_code() {
        let metrics = Metrics::new();
        metrics.count_proxy(UpstreamStatus::Status(503));
        metrics.count_proxy(UpstreamStatus::Error("upstream-timeout"));
        let text = metrics.encode();
        assert!(
            text.contains(r#"vault_proxy_requests_total{upstream_status="503"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"vault_proxy_requests_total{upstream_status="upstream-timeout"} 1"#),
            "{text}"
        );
    }
}
