//! The web console: one HTML page, a script and a style sheet, all embedded in the binary
//! and served without an access key. The page asks for an access key, keeps it in
//! `sessionStorage` only and calls the REST API with it; nothing is loaded from any other
//! host (the Content-Security-Policy forbids it).

use actix_web::HttpResponse;
use actix_web::http::header;

const INDEX_HTML: &str = include_str!("console/index.html");
const APP_JS: &str = include_str!("console/app.js");
const APP_CSS: &str = include_str!("console/app.css");

/// Only this origin's script, styles and API; no frames, no forms posting anywhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str, cache: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

/// `GET /`: the console's page.
#[utoipa::path(
    get,
    path = "/",
    operation_id = "consoleIndex",
    summary = "The web console's page",
    tag = "console",
    security(()),
    responses((status = 200, description = "The web console's HTML page", content_type = "text/html", body = String))
)]
pub(crate) async fn index() -> HttpResponse {
    page()
}

fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX_HTML, "no-store")
}

/// `GET /console/app.js`: the console's script.
#[utoipa::path(
    get,
    path = "/console/app.js",
    operation_id = "consoleScript",
    summary = "The web console's script",
    tag = "console",
    security(()),
    responses((status = 200, description = "The web console's script", content_type = "text/javascript", body = String))
)]
pub(crate) async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS, "no-cache")
}

/// `GET /console/app.css`: the console's style sheet.
#[utoipa::path(
    get,
    path = "/console/app.css",
    operation_id = "consoleStyles",
    summary = "The web console's styles",
    tag = "console",
    security(()),
    responses((status = 200, description = "The web console's style sheet", content_type = "text/css", body = String))
)]
pub(crate) async fn styles() -> HttpResponse {
    asset("text/css; charset=utf-8", APP_CSS, "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assets_reference_no_other_host() {
        // Strict on purpose: not even a `//` comment, so no scheme-relative URL slips by.
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("app.js", APP_JS),
            ("app.css", APP_CSS),
        ] {
            for needle in ["http://", "https://", "//"] {
                assert!(!text.contains(needle), "{name} contains {needle:?}");
            }
        }
    }

    #[test]
    fn the_page_loads_exactly_the_console_script_and_styles() {
        assert_eq!(
            INDEX_HTML.matches("<script").count(),
            1,
            "one script element"
        );
        assert!(INDEX_HTML.contains(r#"<script src="/console/app.js" defer></script>"#));
        // The style sheet, and an empty icon so the browser asks for no /favicon.ico.
        assert_eq!(INDEX_HTML.matches("<link").count(), 2, "two link elements");
        assert!(INDEX_HTML.contains(r#"<link rel="icon" href="data:,">"#));
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="/console/app.css">"#));
        assert!(!INDEX_HTML.contains("<style"), "no inline styles");
        assert!(!INDEX_HTML.contains(" style="), "no style attributes");
        // No event-handler attributes (` onclick=`): every handler is in app.js.
        for (at, _) in INDEX_HTML.match_indices(" on") {
            let name: String = INDEX_HTML[at + 1..]
                .chars()
                .take_while(char::is_ascii_lowercase)
                .collect();
            assert!(
                !INDEX_HTML[at + 1 + name.len()..].starts_with('='),
                "an event-handler attribute {name}"
            );
        }
    }

    #[test]
    fn the_script_never_writes_html() {
        for needle in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!APP_JS.contains(needle), "app.js uses {needle}");
        }
    }

    #[test]
    fn the_assets_carry_the_security_headers() {
        for response in [
            page(),
            asset("text/css; charset=utf-8", APP_CSS, "no-cache"),
        ] {
            assert_eq!(response.status(), 200);
            let headers = response.headers();
            assert_eq!(
                headers
                    .get(header::CONTENT_SECURITY_POLICY)
                    .expect("the header"),
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(
                headers
                    .get(header::X_CONTENT_TYPE_OPTIONS)
                    .expect("the header"),
                "nosniff"
            );
            assert_eq!(
                headers.get(header::REFERRER_POLICY).expect("the header"),
                "no-referrer"
            );
            assert_eq!(
                headers.get(header::X_FRAME_OPTIONS).expect("the header"),
                "DENY"
            );
        }
        let page = page();
        assert_eq!(
            page.headers()
                .get(header::CACHE_CONTROL)
                .expect("the header"),
            "no-store"
        );
        assert_eq!(
            page.headers()
                .get(header::CONTENT_TYPE)
                .expect("the header"),
            "text/html; charset=utf-8"
        );
    }
}
