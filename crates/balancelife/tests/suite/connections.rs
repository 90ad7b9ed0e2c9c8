//! What the server does with connections, over real sockets: an HTTP/2 connection
//! with no stream open is closed after the idle time however its client answers
//! pings, connections past `MAX_CONNECTIONS` are refused at once while the open ones
//! keep working, and an answer the client takes none of is cut off.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use balancelife::config::Settings;

use crate::support::RunningServer;

/// Longer than anything below may take on a loaded machine, so a test that would
/// hang fails instead.
const PATIENCE: Duration = Duration::from_secs(20);

/// A real HTTP/2 client over cleartext (h2c, prior knowledge), as `curl
/// --http2-prior-knowledge` speaks it: hyper's client, which answers every PING.
#[tokio::test]
async fn an_idle_http2_connection_is_closed_though_its_client_answers_pings() {
    let mut settings = Settings::default();
    settings.http.header_timeout = Duration::from_millis(500);
    let server = RunningServer::start(settings).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("an HTTP/2 handshake");
    let connection = tokio::spawn(connection);

    let request = hyper::Request::get(format!("http://{}/livez", server.addr))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    // The server pings every half second meanwhile, and the client answers.
    let closed = tokio::time::timeout(PATIENCE, connection).await;
    let closed_idle = server.counter("balancelife_connections_closed_idle").await;
    server.stop().await;

    assert_eq!(status, hyper::StatusCode::OK);
    let ended = closed.expect("the idle connection is still open");
    assert!(matches!(ended, Ok(Ok(()))), "closed gracefully: {ended:?}");
    assert_eq!(closed_idle, 1, "counted as closed for being idle");
}

/// A connection that has been served one request over HTTP/1.1 and stays open.
async fn kept_alive(addr: std::net::SocketAddr) -> TcpStream {
    let mut connection = TcpStream::connect(addr).await.unwrap();
    assert_eq!(get_livez(&mut connection).await, Some(200));
    connection
}

/// `GET /livez` on `connection`: the status, or `None` if the server hung up.
async fn get_livez(connection: &mut TcpStream) -> Option<u16> {
    let request = b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n";
    if connection.write_all(request).await.is_err() {
        return None;
    }
    let mut head = [0_u8; 1024];
    let read = tokio::time::timeout(PATIENCE, connection.read(&mut head))
        .await
        .expect("an answer or a hang-up, promptly");
    match read {
        Ok(read) if read > 0 => {
            let text = String::from_utf8_lossy(&head[..read]).into_owned();
            text.split(' ').nth(1).and_then(|code| code.parse().ok())
        }
        _ => None,
    }
}

#[tokio::test]
async fn connections_past_the_cap_are_refused_at_once_while_open_ones_keep_working() {
    let mut settings = Settings::default();
    settings.http.max_connections = 3;
    let server = RunningServer::start(settings).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(kept_alive(server.addr).await);
    }

    let mut past_the_cap = TcpStream::connect(server.addr).await.unwrap();
    let refused = get_livez(&mut past_the_cap).await;
    let still_served = get_livez(&mut open[0]).await;
    // One of the three hangs up: a new connection is served again.
    drop(open.pop());
    let mut served_again = None;
    for _ in 0..100 {
        let mut connection = TcpStream::connect(server.addr).await.unwrap();
        served_again = get_livez(&mut connection).await;
        if served_again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(open);
    let counted_refused = server.counter("balancelife_connections_refused").await;
    server.stop().await;

    assert_eq!(refused, None, "served past the cap");
    assert!(counted_refused >= 1, "refusals counted: {counted_refused}");
    assert_eq!(
        still_served,
        Some(200),
        "an open connection is still served"
    );
    assert_eq!(served_again, Some(200), "served once below the cap again");
}

/// A user with an export of about 9.5 MB: more than the kernel's send buffer (at
/// most 4 MiB here, `net.ipv4.tcp_wmem`) and hyper's hold together, so that a
/// client reading nothing stops the server writing.
async fn user_with_a_large_export(base: &str) -> String {
    let client = reqwest::Client::new();
    let body = json!({"email": "exporter@example.com", "password": "a long enough password", "name": "Exporter"});
    let session: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T12:00:00Z").unwrap();
    for batch in 0..5 {
        let entries: Vec<_> = (0..4000)
            .map(|n| {
                let at = start + chrono::Duration::minutes(i64::from(batch * 4000 + n));
                let mut entry = crate::support::TestApp::meal_body(&at.to_rfc3339());
                entry["id"] = json!(uuid::Uuid::now_v7());
                entry
            })
            .collect();
        let file = json!({"format": "balancelife-export", "version": 1, "meal_entries": entries});
        let imported = client
            .post(format!("{base}/api/v1/import"))
            .bearer_auth(&token)
            .json(&file)
            .send()
            .await
            .unwrap();
        assert_eq!(imported.status(), reqwest::StatusCode::OK);
    }
    token
}

/// How long a server producing an export may take to fill the buffers between it
/// and a client that reads nothing, on a loaded machine, before it must say it cut
/// that client off.
const STALL_PATIENCE: Duration = Duration::from_secs(120);

/// Waits until the server has dropped `stalled_before + 1` connections as stalled;
/// false if it has not after `STALL_PATIENCE`.
async fn dropped_as_stalled(server: &RunningServer, stalled_before: u64) -> bool {
    let deadline = Instant::now() + STALL_PATIENCE;
    while Instant::now() < deadline {
        if server
            .counter("balancelife_connections_dropped_stalled")
            .await
            > stalled_before
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test]
async fn an_export_the_client_takes_none_of_is_cut_off() {
    let mut settings = Settings::default();
    settings.http.send_timeout = Duration::from_secs(1);
    let server = RunningServer::start(settings).await;
    let token = user_with_a_large_export(&format!("http://{}", server.addr)).await;
    let whole = reqwest::Client::new()
        .get(format!("http://{}/api/v1/export", server.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(whole.len() > 9_000_000, "{} bytes", whole.len());

    // A small receive buffer, so the kernel takes little on the client's behalf.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut connection = socket.connect(server.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n"
    );
    connection.write_all(request.as_bytes()).await.unwrap();
    // Reading nothing until the server says it cut this client off: however slowly
    // a loaded machine produces the export, the buffers fill in the end. (A fixed
    // wait could end while the server is still producing, and reading then would
    // take the whole export from a server that never had to wait.)
    let cut_off = dropped_as_stalled(&server, 0).await;
    // ... then everything there is: the server hung up, so this ends.
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, connection.read_to_end(&mut received)).await;
    server.stop().await;

    assert!(
        cut_off,
        "the server did not cut off a client that read nothing for {STALL_PATIENCE:?}"
    );
    assert!(read.is_ok(), "the connection is still open");
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(
        received.len() < whole.len() && !text.ends_with("\r\n0\r\n\r\n"),
        "the whole export arrived ({} bytes) though the server says it cut the client off",
        received.len(),
    );
}

/// The same over HTTP/2, where a client that reads nothing stops granting the
/// stream flow-control window rather than stopping the socket.
#[tokio::test]
async fn an_http2_export_the_client_takes_none_of_is_cut_off() {
    let mut settings = Settings::default();
    settings.http.send_timeout = Duration::from_secs(1);
    let server = RunningServer::start(settings).await;
    let token = user_with_a_large_export(&format!("http://{}", server.addr)).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    // HTTP/2's initial window (64 KiB): far less than the export.
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .handshake(TokioIo::new(tcp))
        .await
        .expect("an HTTP/2 handshake");
    let connection = tokio::spawn(connection);

    let request = hyper::Request::get(format!("http://{}/api/v1/export", server.addr))
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    // The answer's body is never read: its window is never given back. The server
    // cuts it off once the window is spent, however long producing that takes.
    let ended = tokio::time::timeout(STALL_PATIENCE, connection).await;
    let status = response.status();
    drop(response);
    let dropped_stalled = server
        .counter("balancelife_connections_dropped_stalled")
        .await;
    server.stop().await;

    assert_eq!(status, hyper::StatusCode::OK);
    assert!(ended.is_ok(), "the connection is still open");
    assert_eq!(dropped_stalled, 1, "counted as dropped for stalling");
}
