//! The floor of the stack: a bare axum server answering one static body (the bytes
//! of the package the HTTP rows read), with nothing between the socket and the
//! answer. It runs as a child of this binary (`--floor <file>`), as the service
//! does, so the CPU time each spends is its own and both are measured alike.

use std::path::Path;

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;

/// Serves the bytes of `body_file` at `/` on a free loopback port, announced on
/// stderr as the service announces its own.
pub async fn serve(body_file: &Path) -> anyhow::Result<()> {
    let body = Bytes::from(std::fs::read(body_file)?);
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    eprintln!(
        "{}",
        serde_json::json!({"message": "listening", "addr": addr.to_string()})
    );
    axum::serve(listener, app).await?;
    Ok(())
}
