//! The upstream `make bench` proxies to: answers every request at once with a small JSON
//! body, so what the benchmark measures is the vault, not the upstream; `POST /token`, an
//! OAuth2 token endpoint's answer (for the `private_key_jwt` run, whose token is cached).
//! One worker, as a fast local upstream would be; the vault and the load generator share
//! the other core.
//!
//! `cargo run --release --example bench_upstream -- 127.0.0.1:9000`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    HttpServer::new(|| {
        App::new()
            .route(
                "/token",
                web::post().to(|| async {
                    HttpResponse::Ok().content_type("application/json").body(
                        r#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}"#,
                    )
                }),
            )
            .default_service(web::to(|| async {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(r#"{"ok":true,"object":"charge","amount":4200}"#)
            }))
    })
    .workers(1)
    .bind(address)?
    .run()
    .await
}
