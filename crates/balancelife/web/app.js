// BalanceLife web app: plain ES module, no build step, only the public JSON API.
// The session lives in an HttpOnly cookie this script cannot read; writes repeat
// the readable CSRF cookie (bl_csrf, or __Host-bl_csrf over HTTPS) in X-CSRF-Token.
// Pages are built with DOM calls, never from HTML strings, so no text from the API
// is ever run as markup.

const view = document.getElementById("view");
const message = document.getElementById("message");
const nav = document.getElementById("nav");
let me = null;
// Each render is numbered; a page whose data arrives after a newer render began is
// dropped, so a slow page never replaces the one the user went on to.
let renders = 0;

// ---- talking to the API -------------------------------------------------------

class ApiFailure extends Error {
  constructor(text, status) {
    super(text);
    this.status = status;
  }
}

function csrfToken() {
  const cookies = document.cookie.split("; ");
  for (const name of ["__Host-bl_csrf=", "bl_csrf="]) {
    const pair = cookies.find((c) => c.startsWith(name));
    if (pair) return pair.slice(name.length);
  }
  return "";
}

/** What went wrong, in words a person can act on. */
function describe(status, body) {
  if (status === 503) return "The service is unavailable right now. Please try again in a moment.";
  if (status === 429) return "Too many attempts. Please wait a minute and try again.";
  const code = body && body.error && body.error.code;
  if (status === 401 && code !== "invalid_credentials") return "Please sign in (again) to go on.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 412) return "Someone changed this in the meantime. It has been reloaded; please check and try again.";
  const text = body && body.error && body.error.message;
  if (text) return text.charAt(0).toUpperCase() + text.slice(1) + ".";
  return `The request failed (HTTP ${status}).`;
}

async function api(method, path, body, headers = {}) {
  return (await exchange(method, path, body, headers)).data;
}

/** An answer and its ETag, for a write that must not overwrite someone else's. */
async function tagged(path) {
  return exchange("GET", path);
}

/** How long one attempt may take before it is given up on (and a write tried
 *  again): past the service's own 20-second deadline, so a slow answer is waited for. */
const ATTEMPT_MS = 22000;
/** The pauses between a write's attempts while the service cannot be reached: a
 *  refused connection or a 502–504 is tried for about 15 seconds; an attempt that
 *  gets no answer at all is tried five times in all. */
const RETRY_PAUSES_MS = [1000, 2000, 4000, 8000];

/** A signal that aborts after `ms`, where browsers lack `AbortSignal.timeout`. */
function timeoutSignal(ms) {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

/** Writes under way: while any is, the page's buttons wait, so a write being
 *  retried is not sent a second time, as a new one, by an impatient click. */
let writesPending = 0;
function busy(on) {
  writesPending += on ? 1 : -1;
  const waiting = writesPending > 0;
  view.setAttribute("aria-busy", String(waiting));
  for (const button of view.querySelectorAll("button")) {
    if (waiting && !button.disabled) {
      button.disabled = true;
      button.dataset.heldByWrite = "yes";
    } else if (!waiting && button.dataset.heldByWrite) {
      button.disabled = false;
      delete button.dataset.heldByWrite;
    }
  }
}

/**
 * One request, and for a write, the same request again while the service cannot be
 * reached (no answer, a timeout, 502–504). Every write of this app can be sent twice
 * safely: entries, foods and recipes carry ids made here, a PUT or PATCH sets what
 * it sets, and applying a package day twice logs it once. A DELETE whose first
 * answer was lost finds nothing the second time, which is what it wanted.
 */
async function exchange(method, path, body, headers = {}) {
  const write = method !== "GET";
  // An import is long and heavy: a failure is shown, not sent again behind the user.
  const retried = write && !path.startsWith("/import");
  if (write) busy(true);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await exchangeOnce(method, path, body, headers);
        if (attempt > 0) say("");
        return answer;
      } catch (error) {
        if (attempt > 0 && method === "DELETE" && error.status === 404) return { data: null, tag: null };
        const unreachable = error instanceof ApiFailure && [0, 502, 503, 504].includes(error.status);
        // A read that met a connection the outage left dead is asked once more at
        // once, on a new one: the first request after a network comes back often
        // meets such a connection.
        if (!write && attempt === 0 && error instanceof ApiFailure && error.status === 0) continue;
        if (!retried || !unreachable || attempt >= RETRY_PAUSES_MS.length) throw error;
        // A little at random, so many pages that lost the service do not all come
        // back at the same instant.
        const pause = RETRY_PAUSES_MS[attempt] * (0.8 + Math.random() * 0.4);
        say(`The service cannot be reached; trying again in ${Math.round(pause / 1000)} s. Keep this page open: your change is sent as soon as it answers.`);
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  } finally {
    if (write) busy(false);
  }
}

async function exchangeOnce(method, path, body, headers) {
  const request = { method, headers: { ...headers }, credentials: "same-origin", signal: timeoutSignal(ATTEMPT_MS) };
  if (body !== undefined) {
    request.headers["Content-Type"] = "application/json";
    request.body = JSON.stringify(body);
  }
  if (method !== "GET") request.headers["X-CSRF-Token"] = csrfToken();
  let response;
  try {
    response = await fetch("/api/v1" + path, request);
  } catch {
    throw new ApiFailure("The service cannot be reached. Check your connection and try again.", 0);
  }
  if (response.status === 204) return { data: null, tag: null };
  const isJson = (response.headers.get("content-type") || "").includes("json");
  let data = null;
  try {
    data = isJson ? await response.json() : null;
  } catch {
    // The answer broke off (or timed out) on its way: as good as none.
    throw new ApiFailure("The service cannot be reached. Check your connection and try again.", 0);
  }
  if (!response.ok) throw new ApiFailure(describe(response.status, data), response.status);
  return { data, tag: response.headers.get("ETag") };
}

function say(text, ok = false) {
  message.className = ok ? "ok" : "";
  message.textContent = text;
}

/** Runs `action`, showing its failure in words; returns whether it succeeded. */
async function attempt(action) {
  try {
    await action();
    return true;
  } catch (error) {
    say(error instanceof ApiFailure ? error.message : "Something went wrong: " + error.message);
    if (error.status === 401 && me) {
      me = null;
      go("#/login");
    }
    return false;
  }
}

// ---- building pages ---------------------------------------------------------

function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const svgNs = "http://www.w3.org/2000/svg";
function s(tag, attributes = {}, ...children) {
  const node = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function field(label, input) {
  return h("label", {}, label, input);
}

function number(name, attributes = {}) {
  return h("input", { type: "number", name, step: "any", min: 0, ...attributes });
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function todayIn(timezone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone }).format(new Date());
}

/** The zone's offset from UTC at `moment`, in minutes. */
function offsetAt(moment, timezone) {
  const name = new Intl.DateTimeFormat("en-US", { timeZone: timezone, timeZoneName: "longOffset" })
    .formatToParts(moment)
    .find((part) => part.type === "timeZoneName").value;
  const match = /GMT([+-])(\d\d):(\d\d)/.exec(name);
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

/** The instant of a wall-clock time on `date` in `timezone`, as RFC 3339. The
 *  offset is taken twice: at the wall clock read as UTC, then at the instant that
 *  gives, so a time near a daylight-saving change lands on the right hour. */
function instant(date, time, timezone) {
  const wall = new Date(`${date}T${time}:00Z`).getTime();
  const first = wall - offsetAt(new Date(wall), timezone) * 60000;
  return new Date(wall - offsetAt(new Date(first), timezone) * 60000).toISOString();
}

function round(value) {
  return Math.round(value * 10) / 10;
}

// ---- routing ------------------------------------------------------------------

const pages = {
  "#/login": signIn,
  "#/signup": signUp,
  "#/today": today,
  "#/week": weekAndMonth,
  "#/body": body,
  "#/training": training,
  "#/foods": foods,
  "#/catalogue": catalogue,
  "#/profile": profile,
  "#/admin": admin,
};

/** The day the Today page shows; `null`: today in the user's time zone. */
let chosenDay = null;

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  const hash = pages[location.hash] ? location.hash : me ? "#/today" : "#/login";
  const open = hash === "#/login" || hash === "#/signup";
  if (!me && !open) return go("#/login");
  nav.hidden = !me;
  document.getElementById("nav-admin").hidden = !(me && me.role === "admin");
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === hash) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const mine = ++renders;
  const show = (title, ...content) => {
    if (mine !== renders) return;
    document.title = `${title} · BalanceLife`;
    view.replaceChildren(h("h1", {}, title), ...content);
  };
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  await attempt(() => pages[hash](show));
  if (mine === renders) view.focus();
}

window.addEventListener("hashchange", () => {
  say("");
  // Coming to a page anew starts on today; a write on a page keeps the day it shows.
  chosenDay = null;
  render();
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await attempt(() => api("DELETE", "/session"));
  me = null;
  chosenDay = null;
  go("#/login");
});

// ---- sign in and sign up ------------------------------------------------------

async function signIn(page) {
  const form = h("form", { class: "stack card", id: "sign-in" },
    field("E-mail", h("input", { type: "email", name: "email", autocomplete: "username", required: true })),
    field("Password", h("input", { type: "password", name: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await attempt(async () => {
      me = (await api("POST", "/session", formValues(form))).user;
      say("");
      go("#/today");
    });
  });
  page("Sign in", form, h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account"), "."));
}

async function signUp(page) {
  const zones = (await api("GET", "/time-zones")).items;
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const form = h("form", { class: "stack card", id: "sign-up" },
    field("Name", h("input", { name: "name", autocomplete: "name", required: true })),
    field("E-mail", h("input", { type: "email", name: "email", autocomplete: "email", required: true })),
    field("Password (at least 8 characters)", h("input", { type: "password", name: "password", autocomplete: "new-password", minlength: 8, required: true })),
    field("Time zone", h("select", { name: "timezone" }, zones.map((zone) => h("option", { value: zone, selected: zone === here }, zone)))),
    field("Daily energy target (kcal, optional)", number("daily_kcal_target", { min: 500, max: 10000 })),
    h("button", { type: "submit" }, "Create account"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = { name: values.name, email: values.email, password: values.password, timezone: values.timezone };
    if (values.daily_kcal_target) body.daily_kcal_target = Number(values.daily_kcal_target);
    await attempt(async () => {
      me = (await api("POST", "/session/register", body)).user;
      go("#/today");
    });
  });
  page("Create an account", form, h("p", {}, "Have an account? ", h("a", { href: "#/login" }, "Sign in"), "."));
}

// ---- today ----------------------------------------------------------------------

async function today(page) {
  // Held once shown, so that a meal logged just before midnight is not followed by
  // a page of the next, empty day.
  const day = chosenDay = chosenDay || todayIn(me.timezone);
  const [summary, meals, workouts, packages, favourites, recent] = await Promise.all([
    api("GET", `/summary?date=${day}`),
    api("GET", `/meal-entries?from=${day}&limit=100`),
    api("GET", `/workout-entries?from=${day}&limit=100`),
    api("GET", "/meal-packages?limit=100"),
    api("GET", "/foods/favourites"),
    api("GET", "/foods/recent"),
  ]);
  const picker = h("input", { type: "date", name: "day", value: day, id: "day" });
  picker.addEventListener("change", () => {
    chosenDay = picker.value || null;
    render();
  });
  page("Today",
    field("Day", picker),
    balance(summary.days[0]),
    h("div", { class: "grid two" },
      h("section", { class: "card", "aria-labelledby": "meals-title" },
        h("h2", { id: "meals-title" }, "Meals"),
        entryList(meals.items, "meal"),
        foodLogger(day, favourites, recent),
        mealForm(day),
        applyForm(day, packages.items)),
      h("section", { class: "card", "aria-labelledby": "workouts-title" },
        h("h2", { id: "workouts-title" }, "Workouts"),
        entryList(workouts.items, "workout"),
        workoutForm(day))),
  );
}

/** The day's balance: figures, and bars drawn against the targets. */
function balance(day) {
  const figure = (id, label, value, unit = "kcal") =>
    h("span", {}, `${label} `, h("b", { id }, value === null ? "–" : round(value)), ` ${unit}`);
  const rows = [
    ["Eaten", day.kcal_in, day.target, "var(--in)"],
    ["Burned", day.kcal_out, null, "var(--out)"],
    ["Protein (g)", day.protein_g, day.protein_g_target, "var(--accent)"],
    ["Carbs (g)", day.carbs_g, day.carbs_g_target, "var(--accent)"],
    ["Fat (g)", day.fat_g, day.fat_g_target, "var(--accent)"],
  ];
  // Narrow enough that its labels stay readable on a phone; the style sheet caps
  // its width on a desktop.
  const width = 360, labels = 78, figures = 82, track = width - labels - figures;
  const chart = s("svg", { viewBox: `0 0 ${width} ${rows.length * 30 + 6}`, role: "img", class: "bars",
    "aria-label": `Eaten ${round(day.kcal_in)} kcal, burned ${round(day.kcal_out)} kcal, net ${round(day.net)} kcal` });
  rows.forEach(([label, value, target, color], index) => {
    const scale = Math.max(value, target || 0, 1);
    const y = index * 30 + 6;
    chart.append(
      s("text", { x: 0, y: y + 13 }, label),
      s("rect", { x: labels, y, width: track, height: 18, fill: "#e9eef1", rx: 4 }),
      s("rect", { x: labels, y, width: Math.max((track * value) / scale, 0), height: 18, fill: color, rx: 4 }),
      s("text", { x: labels + track + 6, y: y + 13 }, target ? `${round(value)} / ${round(target)}` : `${round(value)}`),
    );
    if (target) {
      const x = labels + track * (target / scale);
      chart.append(s("line", { x1: x, x2: x, y1: y - 3, y2: y + 21, stroke: "#1d2327", "stroke-width": 2 }));
    }
  });
  const unknown = day.meal_entries_without_macros
    ? h("p", { class: "muted" }, `${day.meal_entries_without_macros} meal(s) without macros: the grams are a lower bound.`)
    : null;
  return h("section", { class: "card", id: "balance", "aria-labelledby": "balance-title" },
    h("h2", { id: "balance-title" }, "The day's balance"),
    h("div", { class: "figures" },
      figure("balance-in", "In", day.kcal_in),
      figure("balance-out", "Out", day.kcal_out),
      figure("balance-net", "Net", day.net),
      figure("balance-remaining", "Remaining", day.remaining)),
    chart, unknown);
}

function entryList(entries, kind) {
  if (!entries.length) return h("p", { class: "muted" }, `No ${kind}s logged on this day.`);
  return h("ul", { class: "entries" }, entries.map((entry) => entryRow(entry, kind)));
}

function entryRow(entry, kind) {
  const name = kind === "meal" ? entry.name : entry.title;
  const kcal = kind === "meal" ? entry.kcal : entry.kcal_burned;
  const path = `/${kind}-entries/${entry.id}`;
  const row = h("li", { "data-entry": entry.id },
    h("span", {}, h("strong", {}, name), " ", h("span", { class: "muted" }, `${round(kcal)} kcal`)),
    h("span", {},
      h("button", { type: "button", class: "plain", "aria-label": `Edit ${name}`, onclick: () => edit() }, "Edit"), " ",
      h("button", { type: "button", class: "danger", "aria-label": `Delete ${name}`, onclick: () => remove() }, "Delete")));
  async function remove() {
    if (await attempt(() => api("DELETE", path))) {
      say(`Deleted ${name}.`, true);
      render();
    }
  }
  function edit() {
    const nameField = kind === "meal" ? "name" : "title";
    const kcalField = kind === "meal" ? "kcal" : "kcal_burned";
    const form = h("form", { class: "inline" },
      field("Name", h("input", { name: "name", value: name, required: true })),
      field("kcal", number("kcal", { value: kcal, required: true })),
      h("button", { type: "submit" }, "Save"),
      h("button", { type: "button", class: "plain", onclick: () => render() }, "Cancel"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = formValues(form);
      const patch = { [nameField]: values.name, [kcalField]: Number(values.kcal) };
      if (await attempt(() => api("PATCH", path, patch))) render();
    });
    row.replaceChildren(form);
    form.querySelector("input").focus();
  }
  return row;
}

function nowTime() {
  return new Intl.DateTimeFormat("en-GB", { timeZone: me.timezone, hour: "2-digit", minute: "2-digit" }).format(new Date());
}

// ---- foods: search as you type, barcodes, portions ---------------------------------

/** What 100 g (or ml) of a food holds, as a short line. */
function per100(food) {
  const unit = food.basis === "per100_ml" ? "100 ml" : "100 g";
  const kcal = food.nutrients.energy_kcal;
  return kcal === undefined ? `energy unknown per ${unit}` : `${round(kcal)} kcal per ${unit}`;
}

function foodLabel(food) {
  const brand = food.brand ? ` (${food.brand})` : "";
  const kind = food.recipe ? " · recipe" : food.mine ? " · yours" : "";
  return `${food.name.text}${brand}${kind}`;
}

let pickers = 0;

/**
 * A search box that finds foods as the user types (debounced, the newest answer
 * only), usable by keyboard as an ARIA combobox: arrows move through the options,
 * Enter picks, Escape closes. With nothing typed it offers `quick` (favourites and
 * recent foods). Calls `onPick(food)`.
 */
function foodPicker({ id, label, quick = [], onPick, onEdit = null }) {
  const listId = `${id}-results`;
  const n = ++pickers;
  const input = h("input", { id, type: "search", role: "combobox", autocomplete: "off", maxlength: 200,
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    placeholder: "Type a food, e.g. rolled oats" });
  const list = h("ul", { id: listId, role: "listbox", class: "results", "aria-label": `${label}: results` });
  let shown = [];
  let active = -1;
  let asked = 0;
  let timer = null;

  function show(foods, note) {
    shown = foods;
    active = -1;
    input.removeAttribute("aria-activedescendant");
    list.replaceChildren(...foods.map((food, index) =>
      h("li", { role: "option", id: `food-option-${n}-${index}`, "data-food": food.id, "aria-selected": "false",
        onmousedown: (event) => event.preventDefault(), onclick: () => pick(index) },
        h("span", {}, foodLabel(food)), " ", h("span", { class: "muted" }, per100(food)))));
    if (note) list.append(h("li", { class: "muted", role: "presentation" }, note));
    input.setAttribute("aria-expanded", String(foods.length > 0));
  }
  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    if (!options.length) return;
    // Up from nothing chosen is the last option.
    active = index < 0 ? options.length - 1 : index % options.length;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", options[active].id);
    options[active].scrollIntoView({ block: "nearest" });
  }
  function pick(index) {
    const food = shown[index];
    if (!food) return;
    // An answer still on its way is for a search the user is done with.
    clearTimeout(timer);
    asked++;
    show([]);
    input.value = food.name.text;
    onPick(food);
  }
  async function search() {
    const text = input.value.trim();
    const mine = ++asked;
    if (!text) return show(quick, quick.length ? null : "Type to search.");
    try {
      const found = await api("GET", `/foods?q=${encodeURIComponent(text)}&limit=8`);
      if (mine === asked) show(found.items, found.items.length ? null : "Nothing found.");
    } catch (error) {
      if (mine === asked) show([], error.message);
    }
  }
  input.addEventListener("input", () => {
    // What is shown answers the words before this keystroke: Enter must not pick it.
    shown = [];
    if (onEdit) onEdit();
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("focus", () => { if (!input.value.trim()) search(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
    else if (event.key === "Enter") {
      // Never the enclosing form's submit: a recipe is not saved half made.
      event.preventDefault();
      if (shown.length) pick(active < 0 ? 0 : active);
    }
    else if (event.key === "Escape") show([]);
  });
  return { node: h("div", { class: "picker" }, field(label, input), list), input };
}

/** The Today page's "log from a food": find it (search, quick list or barcode),
 *  then say how much, by weight or by one of its servings. */
function foodLogger(day, favourites, recent) {
  const lastPortion = new Map(recent.map((r) => [r.food.id, r]));
  const seen = new Set();
  const quick = [...favourites, ...recent.map((r) => r.food)].filter((f) => !seen.has(f.id) && seen.add(f.id));
  const starred = new Set(favourites.map((f) => f.id));
  const portion = h("div", { id: "food-portion" });
  const picker = foodPicker({ id: "food-search", label: "Find a food", quick, onPick: choose });
  const barcode = h("input", { id: "food-barcode", inputmode: "numeric", maxlength: 13, pattern: "[0-9]{8}|[0-9]{12,13}",
    placeholder: "8, 12 or 13 digits", autocomplete: "off" });
  const lookUp = h("form", { class: "inline", id: "barcode-lookup", "aria-label": "Find a food by its barcode" },
    field("Barcode", barcode), h("button", { type: "submit", class: "plain" }, "Look up"));
  lookUp.addEventListener("submit", async (event) => {
    event.preventDefault();
    await attempt(async () => choose(await api("GET", `/foods/barcode/${encodeURIComponent(barcode.value.trim())}`)));
  });

  function choose(food) {
    say("");
    const last = lastPortion.get(food.id);
    const unitName = food.basis === "per100_ml" ? "ml" : "g";
    const unit = h("select", { name: "unit", id: "portion-unit" },
      h("option", { value: "" }, unitName),
      food.servings.map((serving) => h("option", { value: serving.label }, `${serving.label} (${round(serving.grams)} g)`)));
    const amount = number("amount", { id: "portion-amount", required: true, min: 0.001,
      value: last && last.last_unit !== "serving" ? last.last_quantity : 100 });
    const estimate = h("p", { id: "portion-kcal", class: "muted", "aria-live": "polite" });
    const update = () => {
      const serving = food.servings.find((s) => s.label === unit.value);
      const grams = Number(amount.value) * (serving ? serving.grams : 1);
      const kcal = food.nutrients.energy_kcal;
      estimate.textContent = kcal === undefined ? "Energy unknown: log it by hand below."
        : `${round(grams)} ${unitName}: about ${round((kcal * grams) / 100)} kcal`;
    };
    unit.addEventListener("change", () => {
      amount.value = unit.value ? 1 : 100;
      update();
    });
    amount.addEventListener("input", update);
    const star = h("button", { type: "button", class: "plain", id: "food-favourite", "aria-pressed": String(starred.has(food.id)) },
      starred.has(food.id) ? "★ Favourite" : "☆ Add to favourites");
    star.addEventListener("click", async () => {
      const on = !starred.has(food.id);
      if (await attempt(() => api(on ? "PUT" : "DELETE", `/foods/${food.id}/favourite`))) {
        if (on) starred.add(food.id); else starred.delete(food.id);
        star.setAttribute("aria-pressed", String(on));
        star.textContent = on ? "★ Favourite" : "☆ Add to favourites";
      }
    });
    const form = h("form", { class: "stack", id: "log-food", "aria-label": `Log ${food.name.text}` },
      h("p", {}, h("strong", {}, foodLabel(food)), " ", h("span", { class: "muted" }, per100(food)), " ", star),
      h("div", { class: "inline" },
        field("Amount", amount),
        field("Unit", unit),
        field("Meal", h("select", { name: "slot" }, ["breakfast", "lunch", "dinner", "snack"].map((slot) => h("option", { value: slot }, slot)))),
        field("Time", h("input", { type: "time", name: "time", value: nowTime(), required: true }))),
      estimate,
      h("p", { class: "muted" }, `${food.licence.attribution} (${food.licence.name})`),
      h("button", { type: "submit" }, "Log food"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const values = formValues(form);
      const count = Number(values.amount);
      const body = {
        id: crypto.randomUUID(),
        eaten_at: instant(day, values.time, me.timezone),
        slot: values.slot,
        food: values.unit ? { food_id: food.id, serving: { label: values.unit, count } } : { food_id: food.id, grams: count },
      };
      if (await attempt(() => api("POST", "/meal-entries", body))) {
        say(`Logged ${food.name.text}.`, true);
        render();
      }
    });
    update();
    portion.replaceChildren(form);
    amount.focus();
  }

  return h("section", { class: "stack", id: "food-logger", "aria-labelledby": "food-logger-title" },
    h("h2", { id: "food-logger-title" }, "Log from a food"),
    picker.node, lookUp, portion);
}

function mealForm(day) {
  const form = h("form", { class: "stack", id: "log-meal", "aria-label": "Log a meal by hand" },
    h("h2", {}, "Log a meal by hand"),
    field("Name", h("input", { name: "name", required: true, maxlength: 120 })),
    field("Meal", h("select", { name: "slot" }, ["breakfast", "lunch", "dinner", "snack"].map((slot) => h("option", { value: slot }, slot)))),
    field("Time", h("input", { type: "time", name: "time", value: nowTime(), required: true })),
    field("Energy (kcal)", number("kcal", { required: true, max: 20000 })),
    field("Protein (g, optional)", number("protein_g")),
    field("Carbs (g, optional)", number("carbs_g")),
    field("Fat (g, optional)", number("fat_g")),
    h("button", { type: "submit" }, "Log meal"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {
      id: crypto.randomUUID(),
      eaten_at: instant(day, values.time, me.timezone),
      slot: values.slot,
      name: values.name,
      quantity: 1,
      unit: "serving",
      kcal: Number(values.kcal),
    };
    for (const macro of ["protein_g", "carbs_g", "fat_g"]) {
      if (values[macro] !== "") body[macro] = Number(values[macro]);
    }
    if (await attempt(() => api("POST", "/meal-entries", body))) {
      say(`Logged ${values.name}.`, true);
      render();
    }
  });
  return form;
}

function applyForm(day, packages) {
  const form = h("form", { class: "inline", id: "apply-package", "aria-label": "Log a package day" },
    field("Meal package", h("select", { name: "package", required: true },
      packages.map((p) => h("option", { value: p.id }, `${p.name} (${p.duration_days} days)`)))),
    field("Package day", number("day", { min: 1, value: 1, required: true, step: 1 })),
    h("button", { type: "submit" }, "Log this day"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    await attempt(async () => {
      const applied = await api("POST", `/meal-packages/${values.package}/apply`, { date: day, day: Number(values.day) });
      say(applied.created ? `Logged ${applied.created} meal(s).` : "That day was logged already.", true);
      render();
    });
  });
  return form;
}

function workoutForm(day) {
  const activities = ["running", "walking", "cycling", "swimming", "rowing", "hiking", "strength", "hiit", "yoga", "pilates", "other"];
  const form = h("form", { class: "stack", id: "log-workout", "aria-label": "Log a workout by hand" },
    h("h2", {}, "Log a workout"),
    field("Title", h("input", { name: "title", required: true, maxlength: 120 })),
    field("Activity", h("select", { name: "activity" }, activities.map((a) => h("option", { value: a }, a)))),
    field("Time", h("input", { type: "time", name: "time", value: nowTime(), required: true })),
    field("Minutes", number("minutes", { min: 1, max: 1440, required: true, step: 1 })),
    field("Energy burned (kcal; empty: estimated)", number("kcal_burned", { max: 20000 })),
    h("button", { type: "submit" }, "Log workout"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const body = {
      id: crypto.randomUUID(),
      started_at: instant(day, values.time, me.timezone),
      activity: values.activity,
      title: values.title,
      duration_s: Number(values.minutes) * 60,
    };
    if (values.kcal_burned !== "") body.kcal_burned = Number(values.kcal_burned);
    if (await attempt(() => api("POST", "/workout-entries", body))) {
      say(`Logged ${values.title}.`, true);
      render();
    }
  });
  return form;
}

// ---- week and month -------------------------------------------------------------

let span = 7;

async function weekAndMonth(page) {
  const to = todayIn(me.timezone);
  const from = new Date(new Date(`${to}T00:00:00Z`).getTime() - (span - 1) * 86400000).toISOString().slice(0, 10);
  const summary = await api("GET", `/summary?from=${from}&to=${to}`);
  const choose = h("select", { name: "span", id: "span" },
    h("option", { value: 7, selected: span === 7 }, "Last 7 days"),
    h("option", { value: 30, selected: span === 30 }, "Last 30 days"));
  choose.addEventListener("change", () => {
    span = Number(choose.value);
    render();
  });
  const days = summary.days;
  const width = 640, height = 240, left = 40, bottom = 24;
  const top = Math.max(...days.map((d) => Math.max(d.kcal_in, d.kcal_out, d.target || 0)), 1);
  const slot = (width - left) / days.length;
  const y = (value) => height - bottom - ((height - bottom - 10) * value) / top;
  const chart = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", id: "summary-chart",
    "aria-label": `Energy eaten and burned per day from ${from} to ${to}` });
  chart.append(s("line", { x1: left, x2: width, y1: y(0), y2: y(0), stroke: "#56616b" }));
  days.forEach((d, i) => {
    const x = left + i * slot;
    const bar = Math.max(slot / 2 - 2, 1);
    chart.append(
      s("rect", { x, y: y(d.kcal_in), width: bar, height: y(0) - y(d.kcal_in), fill: "var(--in)" }),
      s("rect", { x: x + bar, y: y(d.kcal_out), width: bar, height: y(0) - y(d.kcal_out), fill: "var(--out)" }));
    if (d.target) chart.append(s("line", { x1: x, x2: x + slot, y1: y(d.target), y2: y(d.target), stroke: "#1d2327", "stroke-dasharray": "4 3" }));
    if (days.length <= 7 || i % 5 === 0) chart.append(s("text", { x, y: height - 6 }, d.date.slice(5)));
  });
  chart.append(s("text", { x: 0, y: 14 }, `${Math.round(top)}`), s("text", { x: 0, y: y(0) }, "0"));
  const table = h("table", {},
    h("caption", { class: "visually-hidden" }, "Daily figures"),
    h("thead", {}, h("tr", {}, ["Day", "In", "Out", "Net", "Target"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, days.map((d) => h("tr", {},
      h("th", { scope: "row" }, d.date), h("td", {}, round(d.kcal_in)), h("td", {}, round(d.kcal_out)),
      h("td", {}, round(d.net)), h("td", {}, d.target === null ? "–" : round(d.target))))));
  const t = summary.totals;
  page("Week and month",
    field("Period", choose),
    h("section", { class: "card" },
      h("p", { class: "figures" }, `In ${round(t.kcal_in)} kcal · Out ${round(t.kcal_out)} kcal · Net ${round(t.net)} kcal`),
      h("p", { class: "muted" }, "Blue: eaten. Orange: burned. Dashed: the daily target."),
      chart),
    h("section", { class: "card" }, table));
}

// ---- the body: weigh-ins, the trend, targets ----------------------------------------

/** Every item of a list, page after page (a phone's health platform may send many). */
async function everyPage(path) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** The day `days` before `date` (YYYY-MM-DD). */
function daysBefore(date, days) {
  return new Date(new Date(`${date}T00:00:00Z`).getTime() - days * 86400000).toISOString().slice(0, 10);
}

async function body(page) {
  const to = todayIn(me.timezone);
  const from = daysBefore(to, 89);
  const [summary, log, targets, suggestions] = await Promise.all([
    api("GET", `/summary?from=${from}&to=${to}`),
    everyPage(`/body-metrics?from=${daysBefore(to, 29)}&to=${to}&limit=100`),
    api("GET", "/targets"),
    api("GET", "/targets/suggestions"),
  ]);
  const rate = summary.weekly_rate_kg;
  const figures = h("p", { class: "figures", id: "trend-figures" },
    summary.trend_kg === null
      ? "No weigh-in yet: log one to start your trend."
      : `Trend ${summary.trend_kg.toFixed(1)} kg` +
        (rate === null ? " · a week of weigh-ins gives the weekly rate" : ` · ${rate > 0 ? "+" : ""}${rate.toFixed(2)} kg a week`));
  page("Body",
    h("div", { class: "grid two" },
      h("section", { class: "card" }, h("h2", {}, "Weight and trend"), figures, weightChart(summary.days, from, to),
        h("p", { class: "muted" }, "Dots: the day's weigh-ins. Line: the trend, which moves a tenth of the way to each day's weight.")),
      h("section", { class: "card" }, weighInForm(to))),
    h("div", { class: "grid two" },
      h("section", { class: "card" }, h("h2", {}, "Last 30 days"), bodyLog(log)),
      h("section", { class: "card", id: "targets" }, targetCard(targets, suggestions))));
}

/** The days' weights as dots and their trend as a line. */
function weightChart(days, from, to) {
  const shown = days.filter((d) => d.trend_kg !== null);
  const chart = s("svg", { viewBox: "0 0 640 240", role: "img", id: "weight-chart",
    "aria-label": `Weight and its trend from ${from} to ${to}` });
  if (!shown.length) return chart;
  const values = shown.flatMap((d) => [d.trend_kg, d.weight_kg ?? d.trend_kg]);
  const low = Math.floor(Math.min(...values) - 0.5), high = Math.ceil(Math.max(...values) + 0.5);
  const width = 640, height = 240, left = 40, bottom = 24;
  const x = (i) => left + ((width - left - 8) * i) / Math.max(days.length - 1, 1);
  const y = (kg) => height - bottom - ((height - bottom - 10) * (kg - low)) / (high - low);
  const at = (d) => days.indexOf(d);
  chart.append(
    s("polyline", { points: shown.map((d) => `${x(at(d))},${y(d.trend_kg)}`).join(" "),
      fill: "none", stroke: "var(--accent)", "stroke-width": 2 }),
    ...shown.filter((d) => d.weight_kg !== null).map((d) =>
      s("circle", { cx: x(at(d)), cy: y(d.weight_kg), r: 3, fill: "var(--in)" })),
    s("text", { x: 0, y: 14 }, `${high}`), s("text", { x: 0, y: y(low) }, `${low}`),
    s("text", { x: left, y: height - 6 }, days[0].date.slice(5)),
    s("text", { x: width - 44, y: height - 6 }, days[days.length - 1].date.slice(5)));
  return chart;
}

function weighInForm(day) {
  const form = h("form", { class: "stack", id: "log-weigh-in", "aria-label": "Log a weigh-in" },
    h("h2", {}, "Log a weigh-in"),
    field("Weight (kg)", number("weight_kg", { min: 20, max: 500, step: 0.1, required: true })),
    field("Body fat (%, optional)", number("body_fat_pct", { min: 1, max: 75, step: 0.1 })),
    field("Waist (cm, optional)", number("waist_cm", { min: 5, max: 300, step: 0.5 })),
    field("Time", h("input", { type: "time", name: "time", value: nowTime(), required: true })),
    h("button", { type: "submit" }, "Log weigh-in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const optional = (name) => (values[name] === "" ? undefined : Number(values[name]));
    const body = {
      measured_at: instant(day, values.time, me.timezone),
      weight_kg: Number(values.weight_kg),
      body_fat_pct: optional("body_fat_pct"),
      waist_cm: optional("waist_cm"),
    };
    if (await attempt(() => api("PUT", `/body-metrics/${crypto.randomUUID()}`, body))) {
      say(`Logged ${body.weight_kg} kg.`, true);
      render();
    }
  });
  return form;
}

function bodyLog(items) {
  if (!items.length) return h("p", { class: "muted" }, "Nothing measured in the last 30 days.");
  const when = (iso) => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short", timeZone: me.timezone }).format(new Date(iso));
  return h("ul", { class: "entries", id: "body-log" }, [...items].reverse().map((m) => {
    const parts = [m.weight_kg !== null && `${m.weight_kg} kg`, m.body_fat_pct !== null && `${m.body_fat_pct} % fat`,
      m.waist_cm !== null && `waist ${m.waist_cm} cm`,
      ...Object.entries(m.measurements).map(([name, cm]) => `${name} ${cm} cm`)].filter(Boolean);
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete the measurement of ${when(m.measured_at)}` }, "Delete");
    remove.addEventListener("click", async () => {
      if (await attempt(() => api("DELETE", `/body-metrics/${m.id}`))) render();
    });
    const source = m.source === "manual" ? "" : ` · from ${m.source === "healthkit" ? "Apple Health" : "Health Connect"}`;
    return h("li", {}, h("span", {}, h("b", {}, parts.join(" · ")), h("span", { class: "muted" }, ` ${when(m.measured_at)}${source}`)), remove);
  }));
}

/** Today's energy target and the two suggestions, each accepted only by its button. */
function targetCard(targets, suggestions) {
  const today = targets.today.daily_kcal_target;
  const offer = (name, label, suggestion) => {
    if (suggestion.daily_kcal_target === null) {
      return h("li", {}, h("span", {}, h("b", {}, label), h("span", { class: "muted" }, ` ${suggestion.unavailable}`)));
    }
    const accept = h("button", { type: "button", class: "plain", id: `accept-${name}` }, `Use ${suggestion.daily_kcal_target} kcal`);
    accept.addEventListener("click", async () => {
      const body = { daily_kcal_target: suggestion.daily_kcal_target, basis: name };
      if (await attempt(() => api("POST", "/targets", body))) {
        say(`Your target is ${suggestion.daily_kcal_target} kcal from today; past days keep theirs.`, true);
        render();
      }
    });
    return h("li", {}, h("span", {}, h("b", {}, `${label}: ${suggestion.daily_kcal_target} kcal`),
      h("span", { class: "muted" }, ` (burning about ${suggestion.expenditure_kcal} a day)`)), accept);
  };
  const rate = suggestions.weekly_rate_kg;
  return [
    h("h2", {}, "Energy target"),
    h("p", { class: "figures", id: "target-today" }, today === null ? "No target set." : `Today: ${today} kcal`),
    h("p", { class: "muted" }, `Suggestions for ${rate > 0 ? "+" : ""}${rate} kg a week; a new target holds from today, and past days keep theirs.`),
    h("ul", { class: "entries" },
      offer("computed", "From your body", suggestions.computed),
      offer("adaptive", "From your log", suggestions.adaptive)),
  ];
}

// ---- training: sessions set by set, records, volume ---------------------------------

async function training(page) {
  const to = todayIn(me.timezone);
  const [progress, volume, recent] = await Promise.all([
    api("GET", "/training/exercises"),
    api("GET", `/training/volume?from=${daysBefore(to, 27)}&to=${to}`),
    everyPage(`/workout-entries?from=${daysBefore(to, 13)}&to=${daysBefore(to, -7)}&limit=100`),
  ]);
  const planned = recent.filter((w) => w.sets.some((set) => set.done === false));
  page("Training",
    h("div", { class: "grid two" },
      h("section", { class: "card" }, sessionForm(to, null)),
      h("section", { class: "card" }, h("h2", {}, "Planned sessions"), plannedList(planned))),
    h("section", { class: "card" }, h("h2", {}, "Personal records"), recordTable(progress.exercises)),
    h("section", { class: "card" }, h("h2", {}, "Sets per muscle, by week"), volumeTable(volume.weeks)));
}

/** A session set by set: a new one, or `planned` (an entry) to fill in. */
function sessionForm(day, planned) {
  const blocks = h("div", { class: "stack", id: "session-exercises" });
  const found = h("div", { class: "stack", id: "exercise-results" });
  const search = h("input", { name: "exercise_search", type: "search", placeholder: "Squat, bench press…", maxlength: 200 });
  const find = h("button", { type: "button", id: "find-exercise" }, "Find");
  // Enter in the search finds exercises; it does not log the session half made.
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      find.click();
    }
  });
  find.addEventListener("click", () => attempt(async () => {
    const text = search.value.trim();
    if (!text) return;
    const page = await api("GET", `/exercises?q=${encodeURIComponent(text)}&limit=8`);
    found.replaceChildren(...(page.items.length ? page.items.map((exercise) => {
      const add = h("button", { type: "button", class: "link", "data-exercise-id": exercise.id }, exercise.name);
      add.addEventListener("click", () => {
        found.replaceChildren();
        search.value = "";
        addExercise(blocks, exercise.id, exercise.name, []);
      });
      return add;
    }) : [h("p", { class: "muted" }, "No exercise by that name.")]));
  }));
  const form = h("form", { class: "stack", id: "log-session", "aria-label": planned ? "Fill in a planned session" : "Log a session set by set" },
    h("h2", {}, planned ? `Fill in: ${planned.title}` : "Log a session"),
    field("Title", h("input", { name: "title", required: true, maxlength: 120, value: planned ? planned.title : "Strength" })),
    field("Time", h("input", { type: "time", name: "time", value: planned ? "" : nowTime(), required: !planned })),
    field("Minutes", number("minutes", { min: 1, max: 1440, required: true, step: 1,
      value: planned ? Math.round(planned.duration_s / 60) : 60 })),
    field("Energy burned (kcal; empty: estimated)", number("kcal_burned", { max: 20000,
      value: planned && !planned.kcal_estimated ? planned.kcal_burned : "" })),
    h("div", { class: "inline" }, field("Add an exercise", search), find),
    found, blocks,
    h("p", { class: "muted" }, "Left empty, the energy is estimated from the exercises and your weight that day."),
    h("button", { type: "submit" }, planned ? "Save session" : "Log session"));
  // Enter in a field moves on; only the button logs the session, never half made.
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
  });
  if (planned) {
    const byExercise = new Map();
    for (const set of planned.sets) {
      if (!byExercise.has(set.exercise_id)) byExercise.set(set.exercise_id, []);
      byExercise.get(set.exercise_id).push(set);
    }
    for (const [id, sets] of byExercise) addExercise(blocks, id, null, sets);
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const sets = [...blocks.querySelectorAll("tr[data-exercise]")].flatMap((row) => {
      const value = (name) => row.querySelector(`input[name=${name}]`).value;
      if (value("reps") === "" && value("duration_s") === "") return [];
      const set = { exercise_id: row.dataset.exercise };
      if (value("reps") !== "") set.reps = Number(value("reps"));
      if (value("duration_s") !== "") set.duration_s = Number(value("duration_s"));
      if (value("weight_kg") !== "") set.weight_kg = Number(value("weight_kg"));
      if (row.querySelector("input[name=warm_up]").checked) set.warm_up = true;
      if (!row.querySelector("input[name=done]").checked) set.done = false;
      return [set];
    });
    if (!sets.length) return say("Add an exercise and the reps or seconds of a set first.");
    const kcal = values.kcal_burned === "" ? null : Number(values.kcal_burned);
    const written = planned
      // Only what the page shows changes; the rest of the entry stays as it was.
      ? attempt(() => api("PATCH", `/workout-entries/${planned.id}`,
          { title: values.title, duration_s: Number(values.minutes) * 60, kcal_burned: kcal, sets }))
      : attempt(() => api("PUT", `/workout-entries/${crypto.randomUUID()}`, {
          started_at: instant(day, values.time, me.timezone),
          activity: "strength",
          title: values.title,
          duration_s: Number(values.minutes) * 60,
          ...(kcal === null ? {} : { kcal_burned: kcal }),
          sets,
        }));
    if (await written) {
      say(`Logged ${sets.filter((set) => set.done !== false).length} set(s).`, true);
      render();
    }
  });
  return form;
}

/** An exercise's block: its sets as rows, beside what the last session did. */
async function addExercise(blocks, id, name, sets) {
  const rows = h("tbody");
  const last = h("p", { class: "muted last-session" }, "Looking up your last session…");
  const row = (set = {}) => {
    const remove = h("button", { type: "button", class: "danger", "aria-label": "Remove this set" }, "×");
    // A planned set starts not done; one the user adds, done.
    const done = set.done !== false;
    const tr = h("tr", { "data-exercise": id },
      h("td", {}, number("reps", { min: 0, max: 1000, step: 1, value: set.reps ?? "", "aria-label": "Reps" })),
      h("td", {}, number("weight_kg", { min: 0, max: 1000, step: "any", value: set.weight_kg ?? "", "aria-label": "Weight (kg)" })),
      h("td", {}, number("duration_s", { min: 1, max: 86400, step: 1, value: set.duration_s ?? "", "aria-label": "Seconds" })),
      h("td", {}, h("input", { type: "checkbox", name: "warm_up", "aria-label": "Warm-up", ...(set.warm_up ? { checked: true } : {}) })),
      h("td", {}, h("input", { type: "checkbox", name: "done", "aria-label": "Done", ...(done ? { checked: true } : {}) })),
      h("td", {}, remove));
    remove.addEventListener("click", () => tr.remove());
    rows.append(tr);
  };
  const more = h("button", { type: "button", class: "add-set" }, "Add set");
  const title = h("h3", {}, name ?? id);
  const block = h("div", { class: "exercise", "data-exercise": id }, title, last,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Reps"), h("th", {}, "kg"), h("th", {}, "Seconds"),
      h("th", {}, "Warm-up"), h("th", {}, "Done"), h("th", {}, ""))), rows),
    more);
  blocks.append(block);
  more.addEventListener("click", () => row());
  let known = null;
  try {
    known = (await api("GET", `/training/exercises?exercise_id=${encodeURIComponent(id)}`)).exercises[0] ?? null;
    if (!name) title.textContent = known ? known.name : (await api("GET", `/exercises/${encodeURIComponent(id)}`)).name;
  } catch {
    last.textContent = "Your last session could not be read just now.";
    if (sets.length) for (const set of sets) row(set);
    else row();
    return;
  }
  if (known) {
    const amount = (set) => (set.reps !== null ? `${set.reps}` : set.duration_s !== null ? `${set.duration_s} s` : `${set.distance_km} km`);
    const done = known.last.sets.filter((set) => !set.warm_up)
      .map((set) => (set.weight_kg ? `${amount(set)} × ${set.weight_kg} kg` : amount(set)));
    const next = known.next ? ` · next: ${known.next.reps} × ${known.next.weight_kg} kg` : "";
    last.textContent = `Last time (${known.last.date}): ${done.join(", ")}${next}`;
  } else {
    last.textContent = "First time: no numbers to beat yet.";
  }
  // A planned session's sets; else the suggestion, else the last numbers.
  const start = sets.length ? sets
    : known && known.next ? known.last.sets.filter((set) => !set.warm_up).map(() => ({ reps: known.next.reps, weight_kg: known.next.weight_kg }))
    : known ? known.last.sets.filter((set) => !set.warm_up) : [{}];
  for (const set of start) row(set);
}

function plannedList(planned) {
  if (!planned.length) return h("p", { class: "muted" }, "None: apply a workout package's day to plan one.");
  return h("ul", { class: "entries", id: "planned-sessions" }, planned.map((w) => {
    const open = h("button", { type: "button" }, "Fill in");
    open.addEventListener("click", () => {
      const card = document.getElementById("log-session").parentElement;
      card.replaceChildren(sessionForm(w.local_date, w));
    });
    return h("li", {}, h("span", {}, h("b", {}, w.title), h("span", { class: "muted" }, ` ${w.local_date} · ${w.sets.length} sets`)), open);
  }));
}

function recordTable(exercises) {
  if (!exercises.length) return h("p", { class: "muted" }, "Log a session set by set to see your records.");
  return h("table", { id: "records" },
    h("thead", {}, h("tr", {}, h("th", {}, "Exercise"), h("th", {}, "Best e1RM"), h("th", {}, "Records"), h("th", {}, "Last"))),
    h("tbody", {}, exercises.map((e) => h("tr", {},
      h("td", {}, e.name),
      h("td", {}, e.best_estimate ? `${e.best_estimate.one_rep_max_kg} kg` : "–"),
      h("td", {}, e.records.map((r) => `${r.reps} × ${r.weight_kg} kg`).join(", ") || "–"),
      h("td", {}, e.last.date)))));
}

function volumeTable(weeks) {
  const muscles = [...new Set(weeks.flatMap((w) => Object.keys(w.muscles)))].sort();
  if (!muscles.length) return h("p", { class: "muted" }, "No working sets in the last four weeks.");
  return h("table", { id: "volume" },
    h("thead", {}, h("tr", {}, h("th", {}, "Muscle"), ...weeks.map((w) => h("th", {}, w.week_of.slice(5))))),
    h("tbody", {}, muscles.map((m) => h("tr", {}, h("td", {}, m.replace("_", " ")),
      ...weeks.map((w) => h("td", {}, w.muscles[m] ? String(w.muscles[m].sets) : "·"))))));
}

// ---- my foods and recipes ------------------------------------------------------------

async function foods(page) {
  const [mine, recipes] = await Promise.all([api("GET", "/foods/mine"), api("GET", "/recipes")]);
  page("My foods and recipes",
    h("div", { class: "grid two" },
      h("section", { class: "card", "aria-labelledby": "recipes-title" },
        h("h2", { id: "recipes-title" }, "Recipes"),
        shelf(recipes, "recipes", (food) => {
          const serving = food.recipe.per_serving.energy_kcal;
          return `${round(food.recipe.servings)} servings of ${round(food.recipe.serving_grams)} g` +
            (serving === undefined ? "" : `, ${round(serving)} kcal each`);
        }),
        recipeForm()),
      h("section", { class: "card", "aria-labelledby": "my-foods-title" },
        h("h2", { id: "my-foods-title" }, "My foods"),
        shelf(mine, "my-foods", per100),
        newFoodForm())));
}

/** A list of the user's own foods or recipes, each with a delete button. */
function shelf(foods, id, describe) {
  if (!foods.length) return h("p", { class: "muted", id }, "None yet.");
  return h("ul", { class: "entries", id }, foods.map((food) => {
    const path = food.recipe ? `/recipes/${food.id}` : `/foods/${food.id}`;
    const remove = async () => {
      if (await attempt(() => api("DELETE", path))) {
        say(`Deleted ${food.name.text}. Meals logged from it keep their numbers.`, true);
        render();
      }
    };
    return h("li", { "data-food": food.id },
      h("span", {}, h("strong", {}, food.name.text), " ", h("span", { class: "muted" }, describe(food))),
      h("button", { type: "button", class: "danger", "aria-label": `Delete ${food.name.text}`, onclick: remove }, "Delete"));
  }));
}

function newFoodForm() {
  const form = h("form", { class: "stack", id: "new-food", "aria-label": "Add a food of your own" },
    h("h2", {}, "Add a food"),
    field("Name", h("input", { name: "name", required: true, maxlength: 200 })),
    field("Brand (optional)", h("input", { name: "brand", maxlength: 200 })),
    field("Barcode (optional)", h("input", { name: "barcode", inputmode: "numeric", maxlength: 13, pattern: "[0-9]{8}|[0-9]{12,13}" })),
    h("p", { class: "muted" }, "Per 100 g, as the label says. Leave out what it does not say."),
    h("div", { class: "inline" },
      field("Energy (kcal)", number("energy_kcal", { max: 1000 })),
      field("Protein (g)", number("protein_g", { max: 100 })),
      field("Carbs (g)", number("carbs_g", { max: 100 })),
      field("Fat (g)", number("fat_g", { max: 100 }))),
    h("div", { class: "inline" },
      field("A serving (optional), e.g. 1 bar", h("input", { name: "serving", maxlength: 80 })),
      field("Its weight (g)", number("serving_grams", { max: 5000 }))),
    h("button", { type: "submit" }, "Add food"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const nutrients = {};
    for (const key of ["energy_kcal", "protein_g", "carbs_g", "fat_g"]) {
      if (values[key] !== "") nutrients[key] = Number(values[key]);
    }
    const body = { id: crypto.randomUUID(), name: { text: values.name }, nutrients };
    if (values.brand.trim()) body.brand = values.brand.trim();
    if (values.barcode.trim()) body.barcodes = [values.barcode.trim()];
    if (values.serving.trim() && values.serving_grams !== "") {
      body.servings = [{ label: values.serving.trim(), grams: Number(values.serving_grams) }];
    }
    if (await attempt(() => api("POST", "/foods", body))) {
      say(`Added ${values.name}.`, true);
      render();
    }
  });
  return form;
}

/** A recipe built from foods found as you type, each with its weight. */
function recipeForm() {
  const ingredients = [];
  const rows = h("ul", { class: "entries", id: "ingredients", "aria-label": "Ingredients" });
  let chosen = null;
  const grams = number("grams", { id: "ingredient-grams", min: 0.1, max: 50000, value: 100 });
  const picker = foodPicker({ id: "ingredient-search", label: "Ingredient", onPick: (food) => {
    chosen = food;
    grams.focus();
  }, onEdit: () => { chosen = null; } });
  const add = h("button", { type: "button", class: "plain", id: "add-ingredient" }, "Add ingredient");
  const drawRows = () => rows.replaceChildren(...ingredients.map((part, index) =>
    h("li", { "data-food": part.food.id },
      h("span", {}, `${part.food.name.text}: ${round(part.grams)} g`),
      h("button", { type: "button", class: "danger", "aria-label": `Remove ${part.food.name.text}`,
        onclick: () => { ingredients.splice(index, 1); drawRows(); } }, "Remove"))));
  // Enter in the weight adds the ingredient rather than saving the recipe half made.
  grams.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add.click();
    }
  });
  add.addEventListener("click", () => {
    if (!chosen) return say("Find an ingredient first.");
    if (!(Number(grams.value) > 0)) return say("Give the ingredient's weight in grams.");
    ingredients.push({ food: chosen, grams: Number(grams.value) });
    chosen = null;
    picker.input.value = "";
    say("");
    drawRows();
    picker.input.focus();
  });
  const form = h("form", { class: "stack", id: "new-recipe", "aria-label": "Make a recipe" },
    h("h2", {}, "Make a recipe"),
    field("Name", h("input", { name: "name", required: true, maxlength: 200 })),
    picker.node,
    h("div", { class: "inline" }, field("Weight (g)", grams), add),
    rows,
    h("div", { class: "inline" },
      field("Servings", number("servings", { min: 0.1, max: 1000, value: 1, required: true })),
      field("Cooked weight (g, optional)", number("cooked_grams", { min: 0.1, max: 50000 }))),
    h("button", { type: "submit" }, "Save recipe"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ingredients.length) return say("A recipe needs at least one ingredient.");
    const values = formValues(form);
    const body = {
      id: crypto.randomUUID(),
      name: { text: values.name },
      ingredients: ingredients.map((part) => ({ food_id: part.food.id, grams: part.grams })),
      servings: Number(values.servings),
    };
    if (values.cooked_grams !== "") body.cooked_grams = Number(values.cooked_grams);
    if (await attempt(() => api("POST", "/recipes", body))) {
      say(`Saved ${values.name}.`, true);
      render();
    }
  });
  return form;
}

// ---- catalogue ------------------------------------------------------------------

let catalogueKind = "meal";

async function catalogue(page) {
  const form = h("form", { class: "inline", id: "catalogue-filter", "aria-label": "Filter the catalogue" },
    field("Kind", h("select", { name: "kind" },
      h("option", { value: "meal", selected: catalogueKind === "meal" }, "Meal packages"),
      h("option", { value: "workout", selected: catalogueKind === "workout" }, "Workout packages"))),
    field("Tag", h("input", { name: "tag", placeholder: "e.g. vegetarian", pattern: "[a-z0-9-]*" })),
    field("Level", h("select", { name: "level" }, ["", "beginner", "intermediate", "advanced"].map((l) => h("option", { value: l }, l || "any")))),
    h("button", { type: "submit" }, "Show"));
  const results = h("div", { id: "catalogue-results" });
  async function show() {
    const values = formValues(form);
    catalogueKind = values.kind;
    const query = new URLSearchParams({ limit: "100" });
    if (values.tag) query.set("tag", values.tag);
    if (values.level && values.kind === "workout") query.set("level", values.level);
    const list = await api("GET", `/${values.kind}-packages?${query}`);
    results.replaceChildren(...(list.items.length
      ? list.items.map((p) => packageCard(p, values.kind))
      : [h("p", { class: "muted" }, "No package matches.")]));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(show);
  });
  page("Catalogue", form, results);
  await show();
}

function packageCard(p, kind) {
  const days = h("div", { hidden: true });
  const toggle = h("button", { type: "button", class: "plain", "aria-expanded": "false", "aria-label": `Show the days of ${p.name}` }, "Show days");
  toggle.addEventListener("click", () => {
    const open = days.hidden;
    days.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide days" : "Show days";
    if (open && !days.childElementCount) days.append(...(kind === "meal" ? mealDays(p) : workoutDays(p)));
  });
  const facts = kind === "meal"
    ? `${p.duration_days} days · about ${Math.round(p.daily_averages.kcal)} kcal a day`
    : `${p.level} · ${p.duration_weeks} weeks · ${p.sessions_per_week} sessions a week`;
  return h("article", { class: "card", "data-slug": p.slug },
    h("h2", {}, p.name),
    h("p", { class: "muted" }, facts),
    h("p", {}, p.description),
    h("p", {}, [...p.tags, ...(p.diet_tags || []), ...(p.equipment || [])].map((t) => h("span", { class: "tag" }, t))),
    toggle, days);
}

function mealDays(p) {
  const byDay = new Map();
  for (const item of p.items) byDay.set(item.day, [...(byDay.get(item.day) || []), item]);
  return [...byDay].map(([day, items]) => h("section", {},
    h("h3", {}, `Day ${day}`),
    h("ul", {}, items.map((i) => h("li", {}, `${i.slot}: ${i.name}, ${Math.round(i.kcal)} kcal`)))));
}

function workoutDays(p) {
  return p.sessions.map((session) => h("section", {},
    h("h3", {}, `Week ${session.week}, day ${session.day}: ${session.title}`),
    h("ul", {}, session.exercises.map((e) => h("li", {},
      `${e.name}: ${e.sets} × ${e.reps !== undefined && e.reps !== null ? `${e.reps} reps` : `${e.duration_s} s`}`)))));
}

// ---- profile ----------------------------------------------------------------------

async function profile(page) {
  const [user, zones, devices] = await Promise.all([
    api("GET", "/users/me"), api("GET", "/time-zones"), api("GET", "/devices")]);
  const target = (name, label) => field(label, number(name, { value: user[name] ?? "" }));
  const form = h("form", { class: "stack card", id: "profile-form", "aria-label": "Profile and targets" },
    field("Name", h("input", { name: "name", value: user.name, required: true })),
    field("Time zone", h("select", { name: "timezone" }, zones.items.map((z) => h("option", { value: z, selected: z === user.timezone }, z)))),
    target("daily_kcal_target", "Daily energy target (kcal)"),
    target("protein_g_target", "Protein target (g)"),
    target("carbs_g_target", "Carbs target (g)"),
    target("fat_g_target", "Fat target (g)"),
    h("button", { type: "submit" }, "Save profile"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const patch = { name: values.name, timezone: values.timezone };
    for (const name of ["daily_kcal_target", "protein_g_target", "carbs_g_target", "fat_g_target"]) {
      patch[name] = values[name] === "" ? null : Number(values[name]);
    }
    await attempt(async () => {
      me = await api("PATCH", "/users/me", patch);
      say("Profile saved.", true);
    });
  });
  const file = h("input", { type: "file", name: "file", accept: "application/json" });
  const importForm = h("form", { class: "inline", id: "import-form", "aria-label": "Import an export" },
    field("Export file (JSON)", file), h("button", { type: "submit" }, "Import"));
  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return say("Choose an export file first.");
    let document;
    try {
      document = JSON.parse(await file.files[0].text());
    } catch {
      return say("That file is not a BalanceLife export (it is not JSON).");
    }
    await attempt(async () => {
      const report = await api("POST", "/import", document);
      say(`Imported: ${report.created} new, ${report.unchanged} already there, ${report.conflicts} in conflict.`, true);
    });
  });
  page("Profile", form,
    deviceList(devices),
    h("section", { class: "card" },
      h("h2", {}, "Your data"),
      h("p", {}, h("a", { href: "/api/v1/export?format=json", download: "balancelife.json" }, "Export as JSON"),
        " · ", h("a", { href: "/api/v1/export?format=csv", download: "balancelife.csv" }, "Export as CSV")),
      importForm));
}

/** The devices signed in, each with a button that signs it out at once. */
function deviceList(devices) {
  const when = (iso) => new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  return h("section", { class: "card", "aria-labelledby": "devices-title" },
    h("h2", { id: "devices-title" }, "Signed-in devices"),
    h("ul", { class: "entries", id: "devices" }, devices.map((device) => {
      const label = device.current ? `${device.name} (this device)` : device.name;
      const signOut = async () => {
        if (await attempt(() => api("DELETE", `/devices/${device.id}`))) {
          if (device.current) {
            me = null;
            return go("#/login");
          }
          say(`Signed out ${device.name}.`, true);
          render();
        }
      };
      return h("li", { "data-device": device.id },
        h("span", {}, h("strong", {}, label), " ",
          h("span", { class: "muted" }, `${device.platform}, last seen ${when(device.last_seen_at)}`)),
        h("button", { type: "button", class: "danger", "aria-label": `Sign out ${device.name}`, onclick: signOut }, "Sign out"));
    })));
}

// ---- admin: the catalogue editor ------------------------------------------------------

let adminKind = "meal";

/** What the editor edits, by kind: where it lives, an example to start from, and
 * the fields of its content (what PUT takes). */
const adminKinds = {
  meal: {
    path: "meal-packages", label: "Meal packages", noun: "package",
    example: {
      slug: "new-plan", name: "New plan", description: "What the plan is for.", tags: ["balanced"], diet_tags: [],
      duration_days: 1,
      items: [{ day: 1, slot: "breakfast", name: "Oats with berries", portion_g: 300, kcal: 420, protein_g: 14, carbs_g: 68, fat_g: 9 }],
    },
    fields: ["slug", "name", "description", "tags", "diet_tags", "duration_days", "items"],
  },
  workout: {
    path: "workout-packages", label: "Workout packages", noun: "package",
    example: {
      slug: "new-program", name: "New program", description: "What the program is for.", level: "beginner",
      tags: ["strength"], equipment: [], duration_weeks: 1, sessions_per_week: 1, minutes_per_session: 30, kcal_per_session: 200,
      sessions: [{ week: 1, day: 1, title: "Full body", exercises: [{ name: "Squat", exercise_id: "barbell-squat", sets: 3, reps: 10, rest_s: 60 }] }],
    },
    fields: ["slug", "name", "description", "level", "tags", "equipment", "duration_weeks", "sessions_per_week", "minutes_per_session", "kcal_per_session", "sessions"],
  },
  exercise: {
    path: "custom-exercises", label: "Custom exercises", noun: "exercise",
    example: {
      slug: "new-exercise", name: "New exercise", category: "strength", level: "beginner", equipment: null,
      force: null, mechanic: null, primary_muscles: ["quadriceps"], secondary_muscles: [],
      instructions: ["The first step."],
    },
    fields: ["slug", "name", "category", "level", "equipment", "force", "mechanic", "primary_muscles", "secondary_muscles", "instructions"],
  },
};

async function admin(page) {
  if (me.role !== "admin") {
    page("Admin", h("p", {}, "This page is for administrators."));
    return;
  }
  const kindOf = adminKinds[adminKind];
  const list = await api("GET", `/${kindOf.path}?status=all&limit=100`);
  // Every write below is conditional on the package as this page shows it: its
  // ETag is read when an action is taken (one request, not one per package on every
  // visit) and used only if the package is still the revision listed, so an action
  // on a package another admin changed meanwhile is refused, not applied.
  const tagOf = async (p) => {
    const { data, tag } = await tagged(`/${kindOf.path}/${p.id}`);
    // The list shows every package's version and status (not its authorship, which
    // the public view of a published package leaves out).
    const same = ["version", "status"].every((field) => data[field] === p[field]);
    if (!same) throw new ApiFailure(`${p.name} was changed meanwhile: reload the page to see it as it is.`, 412);
    return tag;
  };
  const kind = h("select", { name: "kind", id: "admin-kind" },
    Object.entries(adminKinds).map(([value, { label }]) => h("option", { value, selected: adminKind === value }, label)));
  kind.addEventListener("change", () => {
    adminKind = kind.value;
    render();
  });
  const editor = h("textarea", { name: "package", id: "package-json", spellcheck: "false" });
  editor.value = JSON.stringify(kindOf.example, null, 2);
  let editing = null;
  const title = h("h2", { id: "editor-title" }, `New ${kindOf.noun} (saved as a draft)`);
  const save = h("button", { type: "submit" }, "Save");
  const form = h("form", { class: "stack card", id: "package-editor", "aria-labelledby": "editor-title" },
    title, field("Content (JSON)", editor), save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch (error) {
      return say("The content is not valid JSON: " + error.message);
    }
    await attempt(async () => {
      if (editing) {
        await api("PUT", `/${kindOf.path}/${editing.id}`, body, { "If-Match": await tagOf(editing) });
        say(`Saved ${body.name}.`, true);
      } else {
        await api("POST", `/${kindOf.path}`, body);
        say(`Created ${body.name} as a draft.`, true);
      }
      render();
    });
  });
  const rows = list.items.map((p) => {
    const act = (label, method, path) => h("button", { type: "button", class: "plain", "aria-label": `${label} ${p.name}`,
      onclick: () => attempt(async () => {
        await api(method, `/${kindOf.path}/${p.id}${path}`, undefined, { "If-Match": await tagOf(p) });
        say(`${label}: ${p.name}.`, true);
        render();
      }) }, label);
    return h("li", { "data-slug": p.slug },
      h("span", {}, h("strong", {}, p.name), " ", h("span", { class: "tag" }, p.status), h("span", { class: "muted" }, ` v${p.version} · ${p.slug}`)),
      h("span", {},
        h("button", { type: "button", class: "plain", "aria-label": `Edit ${p.name}`, onclick: () => {
          editing = p;
          editor.value = JSON.stringify(Object.fromEntries(kindOf.fields.map((f) => [f, p[f]])), null, 2);
          title.textContent = `Editing ${p.name} (version ${p.version})`;
          editor.focus();
        } }, "Edit"), " ",
        p.status === "published" ? act("Unpublish", "POST", "/unpublish") : act("Publish", "POST", "/publish"), " ",
        p.status === "archived" ? null : act("Archive", "POST", "/archive"), " ",
        // Only a draft that was never public may go for good; anything else is archived.
        p.status === "draft" && !p.first_published_at ? act("Delete", "DELETE", "") : null));
  });
  page("Admin: catalogue", field("Kind", kind),
    h("section", { class: "card" }, h("h2", {}, kindOf.label), h("ul", { class: "entries", id: "admin-packages" }, rows)),
    form);
}

// ---- start ----------------------------------------------------------------------------

(async () => {
  try {
    me = (await api("GET", "/session")).user;
  } catch {
    me = null;
  }
  render();
})();
