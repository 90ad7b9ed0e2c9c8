// A small program over the types openapi-typescript generates from /openapi.json
// (into ./schema.d.ts, beside this file, by crates/balancelife/tests/suite/clients.rs).
// It is only type-checked: if the document stops describing what a client needs,
// `tsc` fails.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type MealEntryInput = Schemas["MealEntryInput"];
type Summary = Schemas["Summary"];
type WorkoutPackage = Schemas["WorkoutPackage"];
type Exercise = Schemas["Exercise"];

// Only kcal is required of a meal's nutrition.
const coffee: MealEntryInput = {
  eaten_at: "2026-03-10T07:30:00Z",
  slot: "breakfast",
  name: "Coffee",
  quantity: 250,
  unit: "ml",
  kcal: 5,
};

// A client id may be any UUID, as crypto.randomUUID() makes it.
const withId: MealEntryInput = { ...coffee, id: crypto.randomUUID() };

// An exercise is one object: repetitions or a duration.
const squat: Exercise = { name: "Squat", sets: 3, reps: 10, rest_s: 60 };
const plank: Exercise = { name: "Plank", sets: 3, duration_s: 45, rest_s: 30 };

function describe(plan: WorkoutPackage): string {
  const first = plan.sessions[0]?.exercises[0];
  const dose = first?.reps !== undefined ? `${first.reps} reps` : `${first?.duration_s ?? 0} s`;
  return `${plan.name} (${plan.status}, v${plan.version}): ${first?.name ?? "-"} ${dose}`;
}

function balance(summary: Summary): string {
  const t = summary.totals;
  const unknown = t.meal_entries_without_macros > 0 ? " (some macros unknown)" : "";
  return `in ${t.kcal_in}, out ${t.kcal_out}, net ${t.net}, remaining ${t.remaining ?? "-"}${unknown}`;
}

// A time zone is a string; the list comes from GET /api/v1/time-zones.
type TimeZones = paths["/api/v1/time-zones"]["get"]["responses"][200]["content"]["application/json"];
const zones: TimeZones = { items: ["Europe/Berlin"] };
const berlin: Schemas["RegisterRequest"]["timezone"] = zones.items[0];

type Publish = paths["/api/v1/meal-packages/{id}/publish"]["post"];
const ifMatch: Publish["parameters"]["header"] = { "If-Match": '"3"' };

// A phone's sync: a change is an upsert with the thing and its ETag, or a tombstone;
// an offline edit goes back in a batch, conditional on that ETag.
type SyncChanges = Schemas["SyncChanges"];
function keep(copy: Map<string, unknown>, page: SyncChanges): string {
  for (const change of page.changes) {
    if (change.op === "delete") copy.delete(change.id);
    else copy.set(change.id, change.data);
  }
  return page.cursor;
}
// A weigh-in, with a girth by a name of the user's; the summary's rows carry the
// day's weight and its trend, either of which may be null.
const weighIn: Schemas["BodyMetricInput"] = {
  id: crypto.randomUUID(),
  measured_at: "2026-03-10T06:30:00Z",
  weight_kg: 72.4,
  measurements: { hips: 101.5 },
};
function weightLine(summary: Summary): string {
  const day = summary.days[0];
  const trend = day?.trend_kg ?? null;
  return `${day?.weight_kg ?? "-"} kg, trend ${trend === null ? "-" : trend.toFixed(1)}, ${summary.weekly_rate_kg ?? 0} kg/week`;
}

const batch: Schemas["BatchRequest"] = {
  id: crypto.randomUUID(),
  operations: [
    { method: "PATCH", path: `/api/v1/meal-entries/${crypto.randomUUID()}`, if_match: '"9f"', body: { kcal: 450 } },
    { method: "DELETE", path: `/api/v1/workout-entries/${crypto.randomUUID()}` },
  ],
};

// A session set by set, its energy left to the service; each exercise's records
// and next step, which may be null.
const session: Schemas["WorkoutEntryInput"] = {
  started_at: "2026-03-10T17:00:00Z",
  activity: "strength",
  title: "Legs",
  duration_s: 2700,
  sets: [{ exercise_id: "barbell-squat", reps: 5, weight_kg: 100 }, { exercise_id: "plank", duration_s: 60, done: false }],
};
const library: Exercise = { name: "Back squat", exercise_id: "barbell-squat", sets: 5, reps: 3, rest_s: 180 };
// An exercise an administrator adds, and a set that names it by its UUID.
const added: Schemas["CustomExerciseInput"] = {
  slug: "sandbag-squat-jump",
  name: "Sandbag Squat Jump",
  category: "plyometrics",
  level: "intermediate",
  primary_muscles: ["quadriceps", "glutes"],
};
function setOf(exercise: Schemas["CustomExercise"]): Schemas["LoggedSet"] {
  return { exercise_id: exercise.id, reps: 10 };
}
function nextStep(view: Schemas["ProgressView"]): string {
  return view.exercises
    .map((e) => `${e.name}: e1RM ${e.best_estimate?.one_rep_max_kg ?? "-"}, next ${e.next ? `${e.next.reps} × ${e.next.weight_kg} kg` : "-"}`)
    .join("; ");
}

export const used = [withId, squat, plank, describe, balance, berlin, ifMatch, keep, batch, weighIn, weightLine, session, library, added, setOf, nextStep];
