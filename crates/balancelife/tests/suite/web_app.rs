//! The web app in a real browser: headless Chromium driven over WebDriver
//! (`chromedriver`, from Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs). One chromedriver serves the whole binary; each test
//! has its own browser session and its own service on the memory store.
//!
//! Screenshots of every page at phone and desktop width go to
//! `target/screenshots/` for review.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use balancelife_testkit::servers::spawn_tied;

use crate::support::RunningServer;

/// How long a page may take to show what a step waits for: three browsers run beside
/// the rest of the suite on two cores.
const PATIENCE: Duration = Duration::from_secs(30);

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 800);
const ADA: (&str, &str) = ("ada@balancelife.example", "demo-password-ada");
const COACH: (&str, &str) = ("coach@balancelife.example", "demo-password-coach");

/// A path given by `variable`, or `default`, which must exist.
fn installed(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} is not installed: run scripts/test, which installs it, or apt-get install \
         chromium chromium-driver (or set {variable} to its path)",
        path.display()
    );
    path
}

/// The chromedriver of this test binary. Statics are never dropped, so it is spawned
/// tied to this process: the kernel ends it when the test binary ends.
struct Driver {
    _child: Child,
    url: String,
}

static DRIVER: LazyLock<Driver> = LazyLock::new(|| {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(installed("CHROMEDRIVER", "/usr/bin/chromedriver"));
    command
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = spawn_tied(command, "chromedriver").expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        _child: child,
        url: format!("http://127.0.0.1:{port}"),
    }
});

/// A fresh service on the memory store (sample data and demo accounts) and a browser.
async fn browser() -> (RunningServer, Client, String) {
    let server = RunningServer::start(balancelife::config::Settings::default()).await;
    let chromium = installed("CHROMIUM", "/usr/bin/chromium");
    let mut capabilities = serde_json::Map::new();
    // What the page logs to the console is kept, for `console_errors`.
    capabilities.insert("goog:loggingPrefs".to_owned(), json!({"browser": "ALL"}));
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,800"],
        }),
    );
    // chromedriver speaks plain HTTP on loopback: no TLS client needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&DRIVER.url)
        .await
        .expect("a browser session");
    let base = format!("http://{}", server.addr);
    (server, client, base)
}

/// Chromedriver's console log of the page (`goog:loggingPrefs`), as Selenium asks
/// for it: every entry since the last time it was asked.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_owned()),
        )
    }
}

/// The errors the page has logged to the browser's console since last asked.
async fn console_errors(client: &Client) -> Vec<Value> {
    let log = client
        .issue_cmd(BrowserLog)
        .await
        .expect("the browser's log");
    log.as_array()
        .expect("a list of log entries")
        .iter()
        .filter(|entry| entry["level"] == "SEVERE")
        .cloned()
        .collect()
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css} did not appear: {error}"))
}

/// Waits until the text of `css` satisfies `check`, and returns it.
async fn text_until(
    client: &Client,
    css: &str,
    what: &str,
    check: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}: {css} reads {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kcal_in(client: &Client) -> f64 {
    let text = text_until(client, "#balance-in", "the day's balance", |t| {
        t.parse::<f64>().is_ok()
    })
    .await;
    text.parse().unwrap()
}

async fn wait_kcal_in(client: &Client, expected: f64, what: &str) {
    let expected = (expected * 10.0).round() / 10.0;
    text_until(client, "#balance-in", what, |t| {
        t.parse::<f64>().is_ok_and(|v| (v - expected).abs() < 0.05)
    })
    .await;
}

async fn fill(client: &Client, css: &str, value: &str) {
    let input = wait_for(client, css).await;
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

async fn click(client: &Client, css: &str) {
    wait_for(client, css).await.click().await.unwrap();
}

async fn sign_in(client: &Client, base: &str, (email, password): (&str, &str)) {
    client.goto(&format!("{base}/#/login")).await.unwrap();
    fill(client, "#sign-in input[name=email]", email).await;
    fill(client, "#sign-in input[name=password]", password).await;
    click(client, "#sign-in button[type=submit]").await;
    wait_for(client, "#nav:not([hidden])").await;
}

async fn sign_out(client: &Client) {
    click(client, "#sign-out").await;
    wait_for(client, "#sign-in").await;
}

async fn go(client: &Client, base: &str, page: &str, ready: &str) {
    client.goto(&format!("{base}/#/{page}")).await.unwrap();
    wait_for(client, ready).await;
}

/// Chooses the option of `select` whose text starts with `text`, as a user would.
async fn choose(client: &Client, select: &str, text: &str) {
    let chosen = client
        .execute(
            "const select = document.querySelector(arguments[0]);
             const option = [...select.options].find(o => o.text.startsWith(arguments[1]));
             if (!option) return false;
             select.value = option.value;
             return true;",
            vec![json!(select), json!(text)],
        )
        .await
        .unwrap();
    assert_eq!(chosen, Value::Bool(true), "no option {text} in {select}");
}

/// The kcal of day `day` of the first published meal package, as the API has it.
async fn day_kcal(base: &str, slug_or_first: Option<&str>, day: u64) -> f64 {
    let list: Value = reqwest::get(format!("{base}/api/v1/meal-packages?limit=100"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let packages = list["items"].as_array().unwrap();
    let package = match slug_or_first {
        Some(slug) => packages.iter().find(|p| p["slug"] == slug).unwrap(),
        None => &packages[0],
    };
    package["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["day"] == day)
        .map(|item| item["kcal"].as_f64().unwrap())
        .sum()
}

#[tokio::test]
async fn the_demo_user_logs_a_day_and_sees_the_balance_follow() {
    let (server, client, base) = browser().await;

    // A wrong password is said in words.
    client.goto(&format!("{base}/#/login")).await.unwrap();
    fill(&client, "#sign-in input[name=email]", ADA.0).await;
    fill(&client, "#sign-in input[name=password]", "not the password").await;
    click(&client, "#sign-in button[type=submit]").await;
    text_until(&client, "#message", "the refusal", |t| {
        t.contains("password is wrong")
    })
    .await;

    sign_in(&client, &base, ADA).await;
    let before = kcal_in(&client).await;

    fill(&client, "#log-meal input[name=name]", "Browser soup").await;
    fill(&client, "#log-meal input[name=kcal]", "321").await;
    click(&client, "#log-meal button[type=submit]").await;
    wait_kcal_in(&client, before + 321.0, "after a meal by hand").await;

    let package_day = day_kcal(&base, None, 1).await;
    assert!(package_day > 0.0);
    click(&client, "#apply-package button[type=submit]").await;
    wait_kcal_in(&client, before + 321.0 + package_day, "after a package day").await;

    click(&client, "button[aria-label='Delete Browser soup']").await;
    wait_kcal_in(&client, before + package_day, "after deleting the meal").await;

    // The session cookie is out of the page's reach.
    let cookies = client
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    let cookies = cookies.as_str().unwrap();
    assert!(cookies.contains("bl_csrf="), "{cookies}");
    assert!(
        !cookies.contains("bl_session"),
        "the session cookie is readable: {cookies}"
    );

    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_admin_drafts_a_package_users_see_only_once_it_is_published() {
    let (server, client, base) = browser().await;
    let slug = format!(
        "browser-plan-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let package = json!({
        "slug": slug, "name": "Browser plan", "description": "Made in the browser.",
        "tags": ["browser"], "diet_tags": [], "duration_days": 1,
        "items": [{"day": 1, "slot": "lunch", "name": "Browser bowl", "portion_g": 350,
            "kcal": 456, "protein_g": 30, "carbs_g": 50, "fat_g": 12}],
    });

    sign_in(&client, &base, COACH).await;
    go(&client, &base, "admin", "#package-json").await;
    client
        .execute(
            "document.getElementById('package-json').value = arguments[0];",
            vec![json!(serde_json::to_string_pretty(&package).unwrap())],
        )
        .await
        .unwrap();
    click(&client, "#package-editor button[type=submit]").await;
    let row = format!("#admin-packages li[data-slug='{slug}']");
    text_until(&client, &row, "the new draft", |t| t.contains("draft")).await;
    sign_out(&client).await;

    sign_in(&client, &base, ADA).await;
    go(&client, &base, "catalogue", "#catalogue-results article").await;
    let card = format!("article[data-slug='{slug}']");
    assert!(
        client.find(Locator::Css(&card)).await.is_err(),
        "a draft is shown"
    );
    sign_out(&client).await;

    sign_in(&client, &base, COACH).await;
    go(&client, &base, "admin", &row).await;
    click(&client, "button[aria-label='Publish Browser plan']").await;
    text_until(&client, &row, "the publication", |t| {
        t.contains("published")
    })
    .await;
    sign_out(&client).await;

    sign_in(&client, &base, ADA).await;
    go(&client, &base, "catalogue", &card).await;
    go(&client, &base, "today", "#apply-package").await;
    let before = kcal_in(&client).await;
    choose(
        &client,
        "#apply-package select[name=package]",
        "Browser plan",
    )
    .await;
    click(&client, "#apply-package button[type=submit]").await;
    wait_kcal_in(&client, before + 456.0, "after applying the new package").await;
    sign_out(&client).await;

    // Once public, the package is listed as the public sees it (no authorship), and
    // an admin's action on it is still conditional on the revision listed.
    sign_in(&client, &base, COACH).await;
    go(&client, &base, "admin", &row).await;
    click(&client, "button[aria-label='Archive Browser plan']").await;
    text_until(&client, &row, "the archiving", |t| t.contains("archived")).await;

    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn every_page_is_captured_at_phone_and_desktop_width() {
    let (server, client, base) = browser().await;
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&directory).unwrap();
    let pages = [
        ("login", "#sign-in", None),
        ("signup", "#sign-up", None),
        ("today", "#balance svg", Some(ADA)),
        ("week", "#summary-chart", Some(ADA)),
        ("body", "#weight-chart", Some(ADA)),
        ("training", "#log-session", Some(ADA)),
        ("foods", "#new-recipe", Some(ADA)),
        ("catalogue", "#catalogue-results article", Some(ADA)),
        ("profile", "#profile-form", Some(ADA)),
        ("admin", "#admin-packages li", Some(COACH)),
    ];
    let mut signed_in = None;
    for (page, ready, account) in pages {
        if account != signed_in {
            if signed_in.is_some() {
                sign_out(&client).await;
            }
            if let Some(account) = account {
                sign_in(&client, &base, account).await;
            }
            signed_in = account;
        }
        for (width, height) in [PHONE, DESKTOP] {
            client.set_window_size(width, height).await.unwrap();
            go(&client, &base, page, ready).await;
            let overflow = client
                .execute(
                    "return document.documentElement.scrollWidth - window.innerWidth;",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                overflow.as_i64().unwrap_or(1) <= 0,
                "{page} scrolls sideways at {width}px by {overflow}"
            );
            let png = client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "{page}: not a PNG");
            std::fs::write(directory.join(format!("{page}-{width}x{height}.png")), png).unwrap();
        }
    }
    client.close().await.unwrap();
    server.stop().await;
}

/// Opening the app and signing in logs nothing to the console: asking whether a
/// session is open is not an error, and the page has an icon.
#[tokio::test]
async fn opening_the_app_and_signing_in_logs_no_console_error() {
    let (server, client, base) = browser().await;
    client.goto(&format!("{base}/")).await.unwrap();
    fill(&client, "#sign-in input[name=email]", ADA.0).await;
    fill(&client, "#sign-in input[name=password]", ADA.1).await;
    click(&client, "#sign-in button[type=submit]").await;
    wait_for(&client, "#nav:not([hidden])").await;
    let errors = console_errors(&client).await;
    let icon = reqwest::get(format!("{base}/favicon.ico")).await.unwrap();
    client.close().await.unwrap();
    server.stop().await;

    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert_eq!(icon.status(), reqwest::StatusCode::OK);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

/// A token for the API as `account`, to read what the page should show.
async fn api_token(base: &str, account: (&str, &str)) -> String {
    api_sign_in(base, account, json!({"name": "Test", "platform": "other"})).await
}

/// Signs `account` in through the API as `device`; the access token.
async fn api_sign_in(base: &str, (email, password): (&str, &str), device: Value) -> String {
    let session: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password, "device": device}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().expect("signed in").to_owned()
}

async fn api_get(base: &str, token: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/api/v1{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits for an option of the list `list` whose text starts with `name`, and
/// returns its CSS selector.
async fn option_named(client: &Client, list: &str, name: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let id = client
            .execute(
                "const option = [...document.querySelectorAll(arguments[0] + ' [role=option]')]
                    .find(o => o.textContent.startsWith(arguments[1]));
                 return option ? option.id : null;",
                vec![json!(list), json!(name)],
            )
            .await
            .unwrap();
        if let Some(id) = id.as_str() {
            return format!("#{id}");
        }
        assert!(Instant::now() < deadline, "no option {name} in {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const ARROW_DOWN: &str = "\u{E015}";
const ENTER: &str = "\u{E007}";

#[tokio::test]
async fn a_user_finds_oats_with_a_typo_and_logs_60_g() {
    let (server, client, base) = browser().await;
    let token = api_token(&base, ADA).await;
    let found = api_get(&base, &token, "/foods?q=oats%20rolled%20old%20fashioned").await;
    let oats = &found["items"][0];
    assert_eq!(
        oats["name"]["text"], "Oats, whole grain, rolled, old fashioned",
        "{found}"
    );
    let expected = (oats["nutrients"]["energy_kcal"].as_f64().unwrap() * 0.6 * 10.0).round() / 10.0;

    sign_in(&client, &base, ADA).await;
    let before = kcal_in(&client).await;
    // "rolld": one letter short, forgiven in a word of five letters or more.
    fill(&client, "#food-search", "rolld oats").await;
    let option = option_named(&client, "#food-search-results", "Oats, whole grain, rolled").await;
    // By keyboard: down to the first result, Enter to take it.
    let first = client
        .execute(
            "return document.querySelector('#food-search-results [role=option]').id;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        format!("#{}", first.as_str().unwrap()),
        option,
        "the oats come first"
    );
    let search = wait_for(&client, "#food-search").await;
    search.send_keys(ARROW_DOWN).await.unwrap();
    search.send_keys(ENTER).await.unwrap();
    fill(&client, "#portion-amount", "60").await;
    text_until(&client, "#portion-kcal", "the estimate", |t| {
        t.starts_with("60 g")
    })
    .await;
    click(&client, "#log-food button[type=submit]").await;

    wait_kcal_in(&client, before + expected, "after 60 g of oats").await;
    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_user_makes_a_recipe_of_three_foods_and_logs_one_serving() {
    let (server, client, base) = browser().await;
    sign_in(&client, &base, ADA).await;
    go(&client, &base, "foods", "#new-recipe").await;
    fill(&client, "#new-recipe input[name=name]", "Browser porridge").await;
    let parts = [
        ("rolled oats", "Oats, whole grain, rolled", "80"),
        ("bananas raw", "Bananas, raw", "120"),
        ("milk whole", "Milk, whole", "250"),
    ];
    for (count, (query, name, grams)) in parts.into_iter().enumerate() {
        fill(&client, "#ingredient-search", query).await;
        let option = option_named(&client, "#ingredient-search-results", name).await;
        click(&client, &option).await;
        fill(&client, "#ingredient-grams", grams).await;
        click(&client, "#add-ingredient").await;
        text_until(&client, "#ingredients", "the ingredient list", |t| {
            t.matches("Remove").count() == count + 1
        })
        .await;
    }
    fill(&client, "#new-recipe input[name=servings]", "2").await;
    click(&client, "#new-recipe button[type=submit]").await;
    text_until(&client, "#recipes", "the saved recipe", |t| {
        t.contains("Browser porridge")
    })
    .await;
    let token = api_token(&base, ADA).await;
    let recipes = api_get(&base, &token, "/recipes").await;
    let recipe = &recipes[0];
    assert_eq!(recipe["recipe"]["ingredients"].as_array().unwrap().len(), 3);
    let one_serving = recipe["recipe"]["per_serving"]["energy_kcal"]
        .as_f64()
        .unwrap();

    go(&client, &base, "today", "#food-search").await;
    let before = kcal_in(&client).await;
    fill(&client, "#food-search", "browser porridge").await;
    let option = option_named(&client, "#food-search-results", "Browser porridge").await;
    click(&client, &option).await;
    wait_for(&client, "#log-food").await;
    choose(&client, "#portion-unit", "1 serving").await;
    fill(&client, "#portion-amount", "1").await;
    click(&client, "#log-food button[type=submit]").await;

    wait_kcal_in(
        &client,
        before + one_serving,
        "after one serving of the recipe",
    )
    .await;
    client.close().await.unwrap();
    server.stop().await;
}

/// A weigh-in logged on the body page starts the trend and moves the profile's
/// weight; a suggested target is taken only when its button is pressed, from
/// today on.
#[tokio::test]
async fn a_user_logs_a_weigh_in_sees_the_trend_and_accepts_a_suggested_target() {
    let (server, client, base) = browser().await;
    sign_in(&client, &base, ADA).await;
    go(&client, &base, "body", "#log-weigh-in").await;
    text_until(&client, "#trend-figures", "no trend yet", |t| {
        t.contains("No weigh-in yet")
    })
    .await;
    fill(&client, "#log-weigh-in input[name=weight_kg]", "64.2").await;
    click(&client, "#log-weigh-in button[type=submit]").await;
    text_until(&client, "#trend-figures", "the trend", |t| {
        t.contains("Trend 64.2 kg")
    })
    .await;
    text_until(&client, "#body-log", "the body log", |t| {
        t.contains("64.2 kg")
    })
    .await;
    wait_for(&client, "#weight-chart circle").await;
    let token = api_token(&base, ADA).await;
    let me = api_get(&base, &token, "/users/me").await;
    assert_eq!(
        me["weight_kg"],
        json!(64.2),
        "the profile follows the weigh-in"
    );

    let before = api_get(&base, &token, "/targets").await;
    assert_eq!(before["today"]["daily_kcal_target"], json!(1900.0));
    let suggested = api_get(&base, &token, "/targets/suggestions").await;
    let kcal = suggested["computed"]["daily_kcal_target"]
        .as_f64()
        .expect("Ada's profile is complete: a computed suggestion");
    click(&client, "#accept-computed").await;
    text_until(&client, "#target-today", "the accepted target", |t| {
        t.contains(&format!("{kcal} kcal"))
    })
    .await;
    let after = api_get(&base, &token, "/targets").await;
    assert_eq!(after["today"]["daily_kcal_target"], json!(kcal));
    let plans = after["plans"].as_array().unwrap();
    assert_eq!(plans.last().unwrap()["basis"], json!("computed"));
    assert_eq!(
        plans[0]["daily_kcal_target"],
        json!(1900.0),
        "past days keep theirs"
    );
    client.close().await.unwrap();
    server.stop().await;
}

/// Logs a set-by-set session's `sets` (reps, kg) of the barbell squat.
async fn log_squats(client: &Client, sets: &[(&str, &str)]) {
    log_sets(
        client,
        "barbell squat",
        "#exercise-results button[data-exercise-id=barbell-squat]",
        sets,
    )
    .await;
}

/// Searches the library for `query` on the Training page, adds the exercise of the
/// `result` button and fills in `sets` (reps, kg).
async fn log_sets(client: &Client, query: &str, result: &str, sets: &[(&str, &str)]) {
    fill(client, "#log-session input[name=exercise_search]", query).await;
    click(client, "#find-exercise").await;
    click(client, result).await;
    wait_for(client, "#session-exercises .exercise tbody tr").await;
    for (index, (reps, kg)) in sets.iter().enumerate() {
        let row = format!("#session-exercises tbody tr:nth-child({})", index + 1);
        if client.find(Locator::Css(&row)).await.is_err() {
            click(client, "#session-exercises .add-set").await;
        }
        fill(client, &format!("{row} input[name=reps]"), reps).await;
        fill(client, &format!("{row} input[name=weight_kg]"), kg).await;
    }
}

#[tokio::test]
async fn a_user_logs_a_session_set_by_set_and_sees_the_last_numbers_and_records() {
    let (server, client, base) = browser().await;
    sign_in(&client, &base, ADA).await;
    go(&client, &base, "training", "#log-session").await;
    log_squats(&client, &[("5", "60"), ("5", "60")]).await;
    text_until(
        &client,
        "#session-exercises .last-session",
        "a first time",
        |t| t.contains("First time"),
    )
    .await;
    click(&client, "#log-session button[type=submit]").await;
    text_until(&client, "#records", "the records", |t| {
        t.contains("Barbell Squat") && t.contains("5 × 60 kg") && t.contains("70 kg")
    })
    .await;

    // The next session shows the last one's numbers beside the exercise.
    log_squats(&client, &[]).await;
    text_until(
        &client,
        "#session-exercises .last-session",
        "the last session",
        |t| t.contains("5 × 60 kg, 5 × 60 kg"),
    )
    .await;
    let token = api_token(&base, ADA).await;
    let progress = api_get(
        &base,
        &token,
        "/training/exercises?exercise_id=barbell-squat",
    )
    .await;
    let squat = &progress["exercises"][0];
    assert_eq!(
        squat["best_estimate"]["one_rep_max_kg"],
        json!(70.0),
        "60 × (1 + 5/30)"
    );
    assert_eq!(squat["last"]["sets"].as_array().unwrap().len(), 2);
    let (workouts, kcal) = {
        let today = squat["last"]["date"].as_str().unwrap().to_owned();
        let list = api_get(&base, &token, &format!("/workout-entries?from={today}")).await;
        let logged = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| !w["sets"].as_array().unwrap().is_empty())
            .cloned()
            .unwrap();
        (logged.clone(), logged["kcal_burned"].clone())
    };
    assert_eq!(workouts["kcal_estimated"], json!(true));
    // Strength 3.5 MET × Ada's 71.5 kg × an hour.
    assert_eq!(kcal, json!(250.3));
    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_admin_adds_an_exercise_that_a_user_then_logs_set_by_set() {
    let (server, client, base) = browser().await;
    let slug = format!(
        "browser-press-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let exercise = json!({
        "slug": slug, "name": "Browser Landmine Press", "category": "strength",
        "level": "beginner", "equipment": "barbell", "primary_muscles": ["shoulders"],
        "secondary_muscles": ["triceps"], "instructions": ["Press the bar up and forward."],
    });

    sign_in(&client, &base, COACH).await;
    go(&client, &base, "admin", "#package-json").await;
    choose(&client, "#admin-kind", "Custom exercises").await;
    client
        .execute(
            "document.getElementById('admin-kind').dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
    text_until(&client, "#editor-title", "the exercise editor", |t| {
        t.contains("New exercise")
    })
    .await;
    client
        .execute(
            "document.getElementById('package-json').value = arguments[0];",
            vec![json!(serde_json::to_string_pretty(&exercise).unwrap())],
        )
        .await
        .unwrap();
    click(&client, "#package-editor button[type=submit]").await;
    let row = format!("#admin-packages li[data-slug='{slug}']");
    text_until(&client, &row, "the new draft", |t| t.contains("draft")).await;
    click(
        &client,
        "button[aria-label='Publish Browser Landmine Press']",
    )
    .await;
    text_until(&client, &row, "the publication", |t| {
        t.contains("published")
    })
    .await;
    sign_out(&client).await;

    // A user finds it beside the bundled exercises and logs it like one of them.
    sign_in(&client, &base, ADA).await;
    go(&client, &base, "training", "#log-session").await;
    log_sets(
        &client,
        "browser landmine",
        "#exercise-results button[data-exercise-id]",
        &[("8", "20")],
    )
    .await;
    click(&client, "#log-session button[type=submit]").await;
    text_until(&client, "#records", "the records", |t| {
        t.contains("Browser Landmine Press") && t.contains("8 × 20 kg")
    })
    .await;
    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_user_signs_a_lost_phone_out_from_the_profile_page() {
    let (server, client, base) = browser().await;
    let phone_token = api_sign_in(
        &base,
        ADA,
        json!({"name": "Ada's phone", "platform": "android"}),
    )
    .await;

    sign_in(&client, &base, ADA).await;
    go(&client, &base, "profile", "#devices li").await;
    text_until(&client, "#devices", "the device list", |t| {
        t.contains("Ada's phone") && t.contains("Web browser (this device)")
    })
    .await;
    click(&client, "button[aria-label=\"Sign out Ada's phone\"]").await;
    text_until(&client, "#devices", "the list without the phone", |t| {
        !t.contains("Ada's phone") && t.contains("Web browser (this device)")
    })
    .await;

    let refused = reqwest::Client::new()
        .get(format!("{base}/api/v1/users/me"))
        .bearer_auth(&phone_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    client.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_meal_logged_through_a_short_outage_lands_once() {
    let (server, client, _) = browser().await;
    // The browser reaches the service through a proxy that can cut the link.
    let proxy = balancelife_testkit::proxy::TcpProxy::start(server.addr);
    let base = format!("http://{}", proxy.addr());
    sign_in(&client, &base, ADA).await;
    let before = kcal_in(&client).await;

    // The link is down for a few seconds when the meal is logged, and its request
    // is lost on the way; once the link is back, the meal is logged, once.
    proxy.partition();
    fill(&client, "#log-meal input[name=name]", "Outage soup").await;
    fill(&client, "#log-meal input[name=kcal]", "321").await;
    click(&client, "#log-meal button[type=submit]").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.heal();
    wait_kcal_in(&client, before + 321.0, "after the link came back").await;

    // The service takes a meal but its answer is lost: the app asks again, and the
    // meal's own id makes the second ask find the first meal, not log another.
    proxy.swallow_reply_to("Lost answer soup");
    fill(&client, "#log-meal input[name=name]", "Lost answer soup").await;
    fill(&client, "#log-meal input[name=kcal]", "100").await;
    click(&client, "#log-meal button[type=submit]").await;
    // No answer comes: past its wait the app says so and asks again.
    text_until(&client, "#message", "the retry notice", |t| {
        t.contains("cannot be reached")
    })
    .await;
    wait_kcal_in(&client, before + 421.0, "after the answer was lost").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        (kcal_in(&client).await - (before + 421.0)).abs() < 0.05,
        "logged once"
    );
    client.close().await.unwrap();
    server.stop().await;
}
