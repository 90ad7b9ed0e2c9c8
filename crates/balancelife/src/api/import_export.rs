//! `GET /export?format=json|csv` and `POST /import`: all of a user's own data out,
//! and a JSON export back in.
//!
//! Exports are streamed page by page from the store, so a long history never sits in
//! memory. CSV is one table with a `kind` column (`profile`, `meal`, `workout`,
//! `body_metric`): one file that opens anywhere, rather than a zip of four. Import takes the JSON export,
//! checks every entry before writing any (so a bad file writes nothing), and is
//! idempotent on entry ids (so an interrupted import is finished by sending it again).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::Instrument;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, Ref, RefOr};
use utoipa::{IntoParams, ToSchema};

use crate::api::account::auth::AuthUser;
use crate::api::account::user_view::UserView;
use crate::api::entries::body_metrics::{BodyMetricInput, BodyMetricView};
use crate::api::entries::meals::{MealEntryInput, MealEntryView};
use crate::api::entries::workouts::{WorkoutEntryInput, WorkoutEntryView};
use crate::api::entries::{EntryResource, check_occurred_at, check_package, follow_up_quietly};
use crate::api::http::error::{ApiError, ApiResult};
use crate::api::http::extract::{ValidQuery, from_json_value, is_json, parse_json};
use crate::api::http::state::SharedState;
use crate::domain::{
    BodyMetricData, ClientId, Entry, EntryData, EntryPosition, MealData, Notes, User, WorkoutData,
    now,
};
use crate::exercise_book::ExerciseBook;
use crate::store::{DateRange, PageLimit, PageRequest, Written};
use crate::telemetry::ErrorChain;

/// The largest import accepted; everything else keeps the 64 KiB limit.
/// About 5,000 entries: enough for years of logging, and written well within the
/// request deadline.
pub const IMPORT_LIMIT_BYTES: usize = 2 * 1024 * 1024;
const FORMAT: &str = "balancelife-export";
const VERSION: u32 = 1;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (the default) or `csv`.
    #[param(inline)]
    format: Option<ExportFormat>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Json,
    Csv,
}

/// Every day an entry can be on (entries are validated to 2000 onwards).
fn everything() -> DateRange {
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
    let to = NaiveDate::from_ymd_opt(2200, 1, 1).expect("a valid date");
    DateRange::new(from, to).expect("from is before to")
}

/// What `GET /export?format=json` streams, and `POST /import` takes back. Only for
/// the OpenAPI document: the export is written piece by piece, not from this type.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ExportDocument {
    #[schema(example = "balancelife-export")]
    format: String,
    #[schema(example = 1)]
    version: u32,
    exported_at: chrono::DateTime<chrono::Utc>,
    profile: UserView,
    meal_entries: Vec<MealEntryView>,
    workout_entries: Vec<WorkoutEntryView>,
    body_metrics: Vec<BodyMetricView>,
}

/// All of the signed-in user's own data.
///
/// The profile, meal and workout entries, and body measurements.
#[utoipa::path(
    get,
    path = "/api/v1/export",
    tag = "data",
    security(("bearer" = [])),
    params(ExportQuery),
    responses((status = 200, description = "The export, streamed",
        content(
            (ExportDocument = "application/json"),
            (String = "text/csv"),
        ),
        headers(("content-disposition" = String, description = "A file name to save as"))))
)]
pub async fn export(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    ValidQuery(query): ValidQuery<ExportQuery>,
) -> Response {
    let format = query.format.unwrap_or(ExportFormat::Json);
    // A few chunks in flight at most: the writer waits for the client.
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let writer = Writer { sender };
    tokio::spawn(
        async move {
            let result = match format {
                ExportFormat::Json => write_json(&state, &user, &writer).await,
                ExportFormat::Csv => write_csv(&state, &user, &writer).await,
            };
            if let Err(error) = result {
                tracing::warn!(error = %ErrorChain(&error), "export stopped early");
                let _ = writer
                    .sender
                    .send(Err(std::io::Error::other("export failed")))
                    .await;
            }
        }
        // In the request's span, so that what it logs carries the request id.
        .instrument(tracing::Span::current()),
    );
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let (content_type, extension) = match format {
        ExportFormat::Json => ("application/json", "json"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"balancelife-export.{extension}\""
    )) {
        headers.insert(CONTENT_DISPOSITION, disposition);
    }
    (headers, Body::from_stream(stream)).into_response()
}

struct Writer {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error("the client went away")]
    ClientGone,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

impl Writer {
    async fn send(&self, chunk: Vec<u8>) -> Result<(), ExportError> {
        self.sender
            .send(Ok(Bytes::from(chunk)))
            .await
            .map_err(|_| ExportError::ClientGone)
    }
}

/// The first page of all of a user's entries.
fn first_page() -> Option<PageRequest<EntryPosition>> {
    Some(PageRequest::first(PageLimit::LARGEST))
}

/// One page of the user's entries of one kind, oldest first, and the request for the
/// next page if there is one.
async fn page_of<E: EntryResource>(
    state: &SharedState,
    user: &User,
    page: PageRequest<EntryPosition>,
) -> Result<(Vec<Entry<E>>, Option<PageRequest<EntryPosition>>), ExportError> {
    let limit = page.limit;
    let found = E::entries(state.store.as_ref())
        .list(user.id, everything(), page)
        .await?;
    let next = found.next.map(|after| PageRequest {
        limit,
        after: Some(after),
    });
    Ok((found.items, next))
}

/// Sends every page of the user's entries of kind `E`, each as `encode` makes it.
async fn send_pages<E: EntryResource>(
    state: &SharedState,
    user: &User,
    out: &Writer,
    mut encode: impl FnMut(Vec<Entry<E>>) -> Result<Vec<u8>, ExportError>,
) -> Result<(), ExportError> {
    let mut page = first_page();
    while let Some(request) = page.take() {
        let (entries, next) = page_of::<E>(state, user, request).await?;
        out.send(encode(entries)?).await?;
        page = next;
    }
    Ok(())
}

async fn write_json(state: &SharedState, user: &User, out: &Writer) -> Result<(), ExportError> {
    // The document's first members; its two arrays follow page by page.
    let head = format!(
        "{{\"format\":{},\"version\":{},\"exported_at\":{},\"profile\":{}",
        serde_json::to_string(FORMAT)?,
        serde_json::to_string(&VERSION)?,
        serde_json::to_string(&now())?,
        serde_json::to_string(&UserView::from(user))?,
    );
    out.send(head.into_bytes()).await?;
    json_array::<MealData>(state, user, out, "meal_entries").await?;
    json_array::<WorkoutData>(state, user, out, "workout_entries").await?;
    json_array::<BodyMetricData>(state, user, out, "body_metrics").await?;
    out.send(b"}\n".to_vec()).await
}

async fn json_array<E: EntryResource>(
    state: &SharedState,
    user: &User,
    out: &Writer,
    name: &str,
) -> Result<(), ExportError> {
    out.send(format!(",\"{name}\":[").into_bytes()).await?;
    let mut first = true;
    send_pages::<E>(state, user, out, |entries| {
        let mut chunk = Vec::new();
        for entry in entries {
            if !std::mem::take(&mut first) {
                chunk.push(b',');
            }
            serde_json::to_writer(&mut chunk, &E::view(entry))?;
        }
        Ok(chunk)
    })
    .await?;
    out.send(b"]".to_vec()).await
}

/// One line of the CSV export: the profile, a meal, a workout, one set of a
/// workout (after it, under its id) or a body measurement. The field names are the
/// header; a field a line has no value for is an empty cell.
#[derive(Serialize, Default)]
struct CsvRow {
    kind: &'static str,
    id: String,
    local_date: String,
    at: String,
    slot_or_activity: String,
    name: String,
    quantity: String,
    unit: String,
    kcal: String,
    protein_g: String,
    carbs_g: String,
    fat_g: String,
    fiber_g: String,
    sugar_g: String,
    sodium_mg: String,
    duration_s: String,
    effort: String,
    distance_km: String,
    avg_heart_rate: String,
    /// A set's: the exercise's id, its repetitions and effort (the load is in
    /// `weight_kg`), whether it was a warm-up and whether it was done.
    exercise_id: String,
    reps: String,
    rpe: String,
    warm_up: String,
    done: String,
    source: String,
    package_id: String,
    package_version: String,
    food_id: String,
    food_version: String,
    food_grams: String,
    weight_kg: String,
    body_fat_pct: String,
    waist_cm: String,
    /// Named girths as `name=cm`, separated by `;`.
    measurements: String,
    notes: String,
    email: String,
    timezone: String,
    daily_kcal_target: String,
    created_at: String,
}

/// `rows` as CSV, under the header when `with_header`.
fn csv_chunk(rows: &[CsvRow], with_header: bool) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(with_header)
        .from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    writer
        .into_inner()
        .map_err(|e| ExportError::Csv(e.into_error().into()))
}

async fn write_csv(state: &SharedState, user: &User, out: &Writer) -> Result<(), ExportError> {
    let profile = CsvRow {
        kind: "profile",
        id: user.id.to_string(),
        name: text_cell(user.name.as_str()),
        email: text_cell(user.email.as_str()),
        timezone: user.timezone.to_string(),
        daily_kcal_target: opt(user
            .profile
            .targets_on(user.timezone.local_date(chrono::Utc::now()))
            .daily_kcal_target
            .map(|t| t.get())),
        created_at: user.created_at.to_rfc3339(),
        ..CsvRow::default()
    };
    out.send(csv_chunk(&[profile], true)?).await?;
    send_pages::<MealData>(state, user, out, |entries| {
        csv_chunk(&entries.iter().map(meal_row).collect::<Vec<_>>(), false)
    })
    .await?;
    // Every exercise a set may name, for the sets' rows to show its name.
    let book = ExerciseBook::every_custom(state.store.as_ref()).await?;
    send_pages::<WorkoutData>(state, user, out, |entries| {
        let rows: Vec<CsvRow> = entries
            .iter()
            .flat_map(|entry| std::iter::once(workout_row(entry)).chain(set_rows(entry, &book)))
            .collect();
        csv_chunk(&rows, false)
    })
    .await?;
    send_pages::<BodyMetricData>(state, user, out, |entries| {
        csv_chunk(
            &entries.iter().map(body_metric_row).collect::<Vec<_>>(),
            false,
        )
    })
    .await
}

/// Text a user wrote, made safe to open in a spreadsheet (CSV injection, CWE-1236):
/// a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return would be
/// read as a formula, so it gets a leading `'`, as OWASP recommends. Only the CSV,
/// which is for people, is changed; the JSON export stays exact.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn label<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The cells every kind of entry fills: what it is, when, its notes.
fn entry_row<D: EntryData>(kind: &'static str, entry: &Entry<D>, notes: Option<&Notes>) -> CsvRow {
    CsvRow {
        kind,
        id: entry.id.to_string(),
        local_date: entry.local_date.to_string(),
        at: entry.data.occurred_at().to_rfc3339(),
        notes: notes.map_or_else(String::new, |n| text_cell(n.as_str())),
        created_at: entry.created_at.to_rfc3339(),
        ..CsvRow::default()
    }
}

fn meal_row(entry: &Entry<MealData>) -> CsvRow {
    let d = &entry.data;
    let n = &d.nutrition;
    CsvRow {
        slot_or_activity: label(&d.slot),
        name: text_cell(d.name.as_str()),
        quantity: d.quantity.get().to_string(),
        unit: label(&d.unit),
        kcal: n.kcal.get().to_string(),
        // An unknown macro is an empty cell, as the optional columns are: never a 0.
        protein_g: opt(n.protein_g.map(|v| v.get())),
        carbs_g: opt(n.carbs_g.map(|v| v.get())),
        fat_g: opt(n.fat_g.map(|v| v.get())),
        fiber_g: opt(n.fiber_g.map(|v| v.get())),
        sugar_g: opt(n.sugar_g.map(|v| v.get())),
        sodium_mg: opt(n.sodium_mg.map(|v| v.get())),
        source: label(&d.source),
        package_id: opt(d.package.map(|p| p.package_id)),
        package_version: opt(d.package.map(|p| p.package_version.get())),
        food_id: opt(d.food.map(|f| f.food_id)),
        food_version: opt(d.food.map(|f| f.food_version.get())),
        food_grams: opt(d.food.and_then(|f| f.grams).map(|g| g.get())),
        ..entry_row("meal", entry, d.notes.as_ref())
    }
}

fn workout_row(entry: &Entry<WorkoutData>) -> CsvRow {
    let d = &entry.data;
    CsvRow {
        slot_or_activity: label(&d.activity),
        name: text_cell(d.title.as_str()),
        kcal: d.kcal_burned.get().to_string(),
        duration_s: d.duration_s.get().to_string(),
        effort: opt(d.effort.map(|e| e.get())),
        distance_km: opt(d.distance_km.map(|v| v.get())),
        avg_heart_rate: opt(d.avg_heart_rate.map(|v| v.get())),
        package_id: opt(d.package.map(|p| p.package_id)),
        package_version: opt(d.package.map(|p| p.package_version.get())),
        ..entry_row("workout", entry, d.notes.as_ref())
    }
}

/// A row for each set of a workout, in the order done, under the workout's id.
fn set_rows<'a>(
    entry: &'a Entry<WorkoutData>,
    book: &'a ExerciseBook,
) -> impl Iterator<Item = CsvRow> + 'a {
    entry.data.sets.iter().map(move |set| CsvRow {
        kind: "set",
        id: entry.id.to_string(),
        local_date: entry.local_date.to_string(),
        at: entry.data.started_at.to_rfc3339(),
        name: book
            .get(&set.exercise_id)
            .map_or_else(String::new, |exercise| text_cell(&exercise.name)),
        exercise_id: set.exercise_id.to_string(),
        reps: opt(set.reps.map(|r| r.get())),
        weight_kg: opt(set.weight_kg.map(f64::from)),
        rpe: opt(set.rpe.map(f64::from)),
        duration_s: opt(set.duration_s.map(|d| d.get())),
        distance_km: opt(set.distance_km.map(|d| d.get())),
        warm_up: set.warm_up.to_string(),
        done: set.done.to_string(),
        ..CsvRow::default()
    })
}

fn body_metric_row(entry: &Entry<BodyMetricData>) -> CsvRow {
    let d = &entry.data;
    let measurements: Vec<String> = d
        .measurements
        .iter()
        .map(|(name, cm)| format!("{name}={}", cm.get()))
        .collect();
    CsvRow {
        weight_kg: opt(d.weight_kg.map(|v| v.get())),
        body_fat_pct: opt(d.body_fat_pct.map(|v| v.get())),
        waist_cm: opt(d.waist_cm.map(|v| v.get())),
        measurements: measurements.join(";"),
        source: label(&d.source),
        ..entry_row("body_metric", entry, d.notes.as_ref())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportFile {
    format: String,
    /// A number, so that `1.0` is read as the `1` it is.
    version: serde_json::Number,
    #[serde(default, rename = "exported_at")]
    _exported_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Informational: an import never changes the account. Checked for operators
    /// all the same (see `refuse_operators`).
    #[serde(default)]
    profile: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    meal_entries: Vec<serde_json::Value>,
    #[serde(default)]
    workout_entries: Vec<serde_json::Value>,
    #[serde(default)]
    body_metrics: Vec<serde_json::Value>,
}

/// The body of `POST /import`, for the OpenAPI document: an export file, whose entries
/// must carry their `id`s. `user_id`, `created_at` and `updated_at` may be present
/// and are not taken from the file; `local_date` is kept when the entry's time can
/// fall on that day, and worked out again otherwise.
pub struct ImportDocument;

impl utoipa::PartialSchema for ImportDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(
                "A JSON export (`GET /export`) to take back. Entries need their `id`.",
            ))
            .property(
                "format",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([FORMAT])),
            )
            .required("format")
            .property(
                "version",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([VERSION])),
            )
            .required("version")
            .property("exported_at", nullable(KnownFormat::DateTime))
            .property(
                "profile",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
                    .description(Some("As exported; read past, never applied.")),
            )
            .property(
                "meal_entries",
                ArrayBuilder::new().items(imported::<MealEntryInput>("A meal entry")),
            )
            .property(
                "workout_entries",
                ArrayBuilder::new().items(imported::<WorkoutEntryInput>("A workout entry")),
            )
            .property(
                "body_metrics",
                ArrayBuilder::new().items(imported::<BodyMetricInput>("A body measurement")),
            )
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
            .into()
    }
}

impl ToSchema for ImportDocument {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // What the inlined entry schemas refer to.
        <MealEntryInput as ToSchema>::schemas(schemas);
        <WorkoutEntryInput as ToSchema>::schemas(schemas);
        <BodyMetricInput as ToSchema>::schemas(schemas);
        schemas.push((
            ClientId::name().into(),
            <ClientId as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// A string of `format`, or `null`.
fn nullable(format: KnownFormat) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .format(Some(SchemaFormat::KnownFormat(format)))
        .into()
}

/// An entry's input schema as an import takes it: `id` required (and not null), and
/// the fields the store manages allowed (see `StoreManaged`).
fn imported<Input: ToSchema>(what: &str) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = Input::schema() else {
        panic!("{} is not an inline object schema", Input::name());
    };
    object.description = Some(format!("{what} as exported, with its `id`."));
    let managed = [
        ("user_id", nullable(KnownFormat::Uuid)),
        ("local_date", nullable(KnownFormat::Date)),
        ("created_at", nullable(KnownFormat::DateTime)),
        ("updated_at", nullable(KnownFormat::DateTime)),
    ];
    for (field, schema) in managed {
        object.properties.insert(field.to_owned(), schema);
    }
    object.properties.insert(
        "id".to_owned(),
        Ref::from_schema_name(ClientId::name()).into(),
    );
    object.required.push("id".to_owned());
    object.into()
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ImportReport {
    created: usize,
    unchanged: usize,
    /// Ids already used with other content, or by someone else: left as they are.
    conflicts: usize,
    /// Rows of another app's file that could not be taken, by reason (`no_energy`,
    /// `unknown_unit`, `value_out_of_range`, …); always empty for BalanceLife's own
    /// export, which is refused whole if an entry is wrong.
    pub(super) skipped: std::collections::BTreeMap<String, usize>,
}

/// Takes a JSON export back.
///
/// At most 2 MiB. Every entry is checked before any is written; entries already
/// there are left alone, so sending a file twice is safe.
#[utoipa::path(
    post,
    path = "/api/v1/import",
    tag = "data",
    security(("bearer" = [])),
    request_body(content = ImportDocument, content_type = "application/json"),
    responses((status = 200, description = "What the import did", body = ImportReport))
)]
pub async fn import(
    State(state): State<SharedState>,
    AuthUser(user): AuthUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    if !is_json(&headers) {
        return Err(ApiError::unsupported_media_type());
    }
    let body = body.map_err(|_| ApiError::payload_too_large(IMPORT_LIMIT_BYTES))?;
    let file: ExportFile = parse_json(&body)?;
    if let Some(profile) = &file.profile {
        refuse_operators(profile, "profile")?;
    }
    if file.format != FORMAT || file.version.as_f64() != Some(f64::from(VERSION)) {
        return Err(ApiError::invalid(
            "format",
            format!("must be a \"{FORMAT}\" file of version {VERSION}"),
        ));
    }
    // Check everything first, so a bad entry leaves nothing half-imported.
    let meals = prepare::<MealData>(&state, &user, &file.meal_entries, "meal_entries").await?;
    let workouts =
        prepare::<WorkoutData>(&state, &user, &file.workout_entries, "workout_entries").await?;
    let metrics =
        prepare::<BodyMetricData>(&state, &user, &file.body_metrics, "body_metrics").await?;
    let weighs = metrics
        .iter()
        .any(|metric| BodyMetricData::follows_up(None, Some(&metric.data)));
    let mut report = ImportReport::default();
    write::<MealData>(&state, meals, &mut report).await?;
    write::<WorkoutData>(&state, workouts, &mut report).await?;
    write::<BodyMetricData>(&state, metrics, &mut report).await?;
    if weighs {
        follow_up_quietly::<BodyMetricData>(&state, user.id).await;
    }
    Ok(Json(report))
}

async fn prepare<E: EntryResource>(
    state: &SharedState,
    user: &User,
    values: &[serde_json::Value],
    name: &str,
) -> ApiResult<Vec<Entry<E>>> {
    let mut entries = Vec::with_capacity(values.len());
    let mut packages_found = std::collections::HashSet::new();
    for (index, value) in values.iter().enumerate() {
        let at = format!("{name}[{index}]");
        let mut object = value
            .as_object()
            .cloned()
            .ok_or_else(|| ApiError::invalid(at.clone(), "must be an object"))?;
        // What the store manages is checked like the rest, then not taken from the
        // file (but for a plausible `local_date`).
        let managed: serde_json::Map<_, _> = StoreManaged::FIELDS
            .iter()
            .filter_map(|&field| Some((field.to_owned(), object.remove(field)?)))
            .collect();
        let managed: StoreManaged = from_json_value(managed.into()).map_err(|e| e.within(&at))?;
        let input: E::Input = from_json_value(object.into()).map_err(|e| e.within(&at))?;
        let (id, mut data) = E::resolve(state.store.as_ref(), user, input)
            .await
            .map_err(|e| e.within(&at))?;
        let id =
            id.ok_or_else(|| ApiError::invalid(format!("{at}.id"), "is required in an import"))?;
        check_occurred_at::<E>(data.occurred_at()).map_err(|e| e.within(&at))?;
        // Each package once, however many entries name it.
        let package = data
            .package()
            .map(|p| (p.package_id, p.package_version.get()));
        if let Some(package) = package.filter(|p| !packages_found.contains(p)) {
            check_package::<E>(state, &data)
                .await
                .map_err(|e| e.within(&at))?;
            packages_found.insert(package);
        }
        let local_date = kept_local_date(managed.local_date, &data)
            .unwrap_or_else(|| user.timezone.local_date(data.occurred_at()));
        E::complete(state.store.as_ref(), user, local_date, &mut data)
            .await
            .map_err(|e| e.within(&at))?;
        let stamp = now();
        entries.push(Entry {
            id: id.get(),
            user_id: user.id,
            local_date,
            data,
            created_at: stamp,
            updated_at: stamp,
        });
    }
    Ok(entries)
}

/// The exported calendar day, if it is one the entry's time can fall on in some time
/// zone (±14 h): entries keep the day they were logged on.
fn kept_local_date<D: EntryData>(date: Option<NaiveDate>, data: &D) -> Option<NaiveDate> {
    let date = date?;
    let utc_date = data.occurred_at().date_naive();
    ((date - utc_date).num_days().abs() <= 1).then_some(date)
}

/// The fields of an exported entry that the store manages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreManaged {
    #[serde(default, rename = "user_id")]
    _user_id: Option<uuid::Uuid>,
    #[serde(default)]
    local_date: Option<NaiveDate>,
    #[serde(default, rename = "created_at")]
    _created_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, rename = "updated_at")]
    _updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl StoreManaged {
    const FIELDS: [&str; 4] = ["user_id", "local_date", "created_at", "updated_at"];
}

/// The profile is read past, not used; still, no key in it may look like a query
/// operator, as nowhere else in a request may.
fn refuse_operators(
    object: &serde_json::Map<String, serde_json::Value>,
    at: &str,
) -> ApiResult<()> {
    for (key, value) in object {
        let path = format!("{at}.{key}");
        if key.starts_with('$') {
            return Err(ApiError::invalid(path, "is not a known field"));
        }
        match value {
            serde_json::Value::Object(inner) => refuse_operators(inner, &path)?,
            serde_json::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    if let serde_json::Value::Object(inner) = item {
                        refuse_operators(inner, &format!("{path}[{index}]"))?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) async fn write<E: EntryResource>(
    state: &SharedState,
    entries: Vec<Entry<E>>,
    report: &mut ImportReport,
) -> ApiResult<()> {
    let store = E::entries(state.store.as_ref());
    for entry in entries {
        match store.create(entry).await {
            Ok(Written::Created(_)) => report.created += 1,
            Ok(_) => report.unchanged += 1,
            Err(crate::store::StoreError::Conflict(_) | crate::store::StoreError::NotFound) => {
                report.conflicts += 1
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod csv_safety {
    use super::text_cell;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_leading_quote() {
        for risky in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(risky), format!("'{risky}"));
        }
        for plain in ["Lentil soup", "1-2 eggs", "", "'quoted"] {
            assert_eq!(text_cell(plain), plain);
        }
    }
}
