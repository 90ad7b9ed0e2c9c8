//! Devices and their tokens: signing in opens a device, its refresh token renews
//! its access once per token, a token used twice signs the device out, and a
//! device signed out is refused at once here and within a second elsewhere.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use balancelife_testkit::servers::redis;

use crate::support::{Cached, TestApp, TestUser, eventually};

const PASSWORD: &str = "a long enough password";

/// Signs `user` in again as `device`; the whole answer.
async fn sign_in_as(app: &TestApp, user: &TestUser, name: &str, platform: &str) -> Value {
    let signed_in = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": PASSWORD,
                "device": {"name": name, "platform": platform}}),
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    signed_in.body
}

async fn refresh(app: &TestApp, token: &Value) -> crate::support::TestResponse {
    app.post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": token}),
    )
    .await
}

fn token(session: &Value) -> String {
    session["token"].as_str().unwrap().to_owned()
}

on_every_store!(
    a_refresh_token_renews_once_and_its_reuse_signs_the_device_out,
    a_device_signed_out_is_refused_at_once,
);

#[tokio::test]
async fn signing_in_opens_a_device_listed_with_the_current_one_marked() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("traveller", json!({})).await;

    let phone = sign_in_as(&app, &user, "Ada's phone", "android").await;

    assert_eq!(
        phone["expires_in"],
        json!(900),
        "a short-lived access token"
    );
    assert!(phone["refresh_token"].as_str().unwrap().starts_with("rt1."));
    let listed = app.get("/api/v1/devices", Some(&token(&phone))).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let devices: Vec<(&Value, &Value, &Value)> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|device| (&device["name"], &device["platform"], &device["current"]))
        .collect();
    assert_eq!(
        devices,
        [
            (&json!("Ada's phone"), &json!("android"), &json!(true)),
            (&json!("API client"), &json!("other"), &json!(false)),
        ],
        "the latest seen first; signing up was a device too"
    );
    let bad = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": user.email, "password": PASSWORD,
                "device": {"name": "", "platform": "android"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_field(), "device.name");
}

async fn a_refresh_token_renews_once_and_its_reuse_signs_the_device_out(app: TestApp) {
    let user = app.register("renewer", json!({})).await;
    let phone = sign_in_as(&app, &user, "phone", "ios").await;

    let second = refresh(&app, &phone["refresh_token"]).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body["device_id"], phone["device_id"]);
    assert_ne!(second.body["refresh_token"], phone["refresh_token"]);
    assert_eq!(second.body["user"]["email"], json!(user.email));
    let me = app
        .get("/api/v1/users/me", Some(&token(&second.body)))
        .await;
    assert_eq!(me.status, StatusCode::OK);

    // The first again, at once: a retry whose answer was lost gets the current
    // tokens again, and no one is signed out.
    let raced = refresh(&app, &phone["refresh_token"]).await;
    assert_eq!(raced.status, StatusCode::OK, "{}", raced.body);
    assert_eq!(raced.body["refresh_token"], second.body["refresh_token"]);
    let still = app
        .get("/api/v1/users/me", Some(&token(&second.body)))
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "the device is still signed in"
    );

    // Renewing again within a second is refused: a loop of renewals must leave
    // room for a sign-out.
    let too_soon = refresh(&app, &second.body["refresh_token"]).await;
    assert_eq!(too_soon.status, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // Renewed once more; then the first, two generations back, is a copy's use.
    let third = refresh(&app, &second.body["refresh_token"]).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.body);
    let stolen = refresh(&app, &phone["refresh_token"]).await;
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED);

    for access in [token(&phone), token(&second.body), token(&third.body)] {
        let refused = app.get("/api/v1/users/me", Some(&access)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "the whole chain is void"
        );
    }
    let latest = refresh(&app, &third.body["refresh_token"]).await;
    assert_eq!(latest.status, StatusCode::UNAUTHORIZED);
    let elsewhere = app.get("/api/v1/users/me", Some(&user.token)).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::OK,
        "the user's other devices stay"
    );
}

async fn a_device_signed_out_is_refused_at_once(app: TestApp) {
    let user = app.register("cautious", json!({})).await;
    let laptop = sign_in_as(&app, &user, "laptop", "desktop").await;
    let lost = sign_in_as(&app, &user, "lost phone", "android").await;

    let path = format!("/api/v1/devices/{}", lost["device_id"].as_str().unwrap());
    let signed_out = app.delete(&path, Some(&token(&laptop))).await;
    assert_eq!(
        signed_out.status,
        StatusCode::NO_CONTENT,
        "{}",
        signed_out.body
    );
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&lost)))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &lost["refresh_token"]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.delete(&path, Some(&token(&laptop))).await.status,
        StatusCode::NOT_FOUND,
        "gone already"
    );

    // Signing out with a bearer token signs out its own device.
    let out = app.delete("/api/v1/session", Some(&token(&laptop))).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&token(&laptop)))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let stranger = app.register("stranger", json!({})).await;
    let theirs = format!("/api/v1/devices/{}", user_device(&app, &user).await);
    assert_eq!(
        app.delete(&theirs, Some(&stranger.token)).await.status,
        StatusCode::NOT_FOUND,
        "another user's device is not the caller's to sign out"
    );
}

/// The device `user`'s token (from signing up) was issued to.
async fn user_device(app: &TestApp, user: &TestUser) -> String {
    let listed = app.get("/api/v1/devices", Some(&user.token)).await;
    listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|device| device["current"] == json!(true))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_device_signed_out_through_one_instance_is_refused_by_another_within_a_second() {
    let cached = Cached::on(&redis::SHARED).await;
    let other = cached.second_process().await;
    cached.l1_ready().await;
    other.l1_ready().await;
    let (first, second) = (
        TestApp::cached(cached.store.clone()),
        TestApp::cached(other.store.clone()),
    );
    let user = first.register("roamer", json!({})).await;
    let phone = sign_in_as(&first, &user, "phone", "android").await;
    // The other instance knows the user and the phone, in its in-process tier.
    for _ in 0..3 {
        let read = second.get("/api/v1/users/me", Some(&token(&phone))).await;
        assert_eq!(read.status, StatusCode::OK);
    }

    let path = format!("/api/v1/devices/{}", phone["device_id"].as_str().unwrap());
    let signed_out = first.delete(&path, Some(&user.token)).await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);

    let waited = eventually(
        "the other instance refuses the phone",
        Duration::from_secs(1),
        || {
            let (second, phone) = (&second, &phone);
            async move {
                second
                    .get("/api/v1/users/me", Some(&token(phone)))
                    .await
                    .status
                    == StatusCode::UNAUTHORIZED
            }
        },
    )
    .await;
    println!("refused by the other instance after {waited:?}");
}

#[tokio::test]
async fn the_web_apps_sign_out_voids_its_session_token() {
    let app = crate::support::Backend::Memory.app().await;
    let user = app.register("browser", json!({})).await;
    let opened = app
        .post(
            "/api/v1/session",
            None,
            json!({"email": user.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    let devices = app.get("/api/v1/devices", Some(&user.token)).await;
    assert!(
        devices
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|device| device["platform"] == "web" && device["name"] == "Web browser"),
        "{}",
        devices.body
    );
    let web = devices
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|device| device["platform"] == "web")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = app
        .delete(&format!("/api/v1/devices/{web}"), Some(&user.token))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let left = app.get("/api/v1/devices", Some(&user.token)).await;
    assert_eq!(left.body.as_array().unwrap().len(), 1, "{}", left.body);
}
