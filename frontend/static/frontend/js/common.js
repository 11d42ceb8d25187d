// Shared by every page: page config, the REST client, formatting, toasts, theme, help and shortcuts.

export const config = JSON.parse(document.getElementById("page-config")?.textContent || "{}");

export const PRIORITIES = ["critical", "high", "medium", "low"];
export const PRIORITY_LABELS = { critical: "Critical", high: "High", medium: "Medium", low: "Low" };
export const STATUS_LABELS = { new: "New", acknowledged: "Acknowledged", on_hold: "On hold", resolved: "Resolved" };
export const RESOLUTION_LABELS = {
  confirmed_emergency: "Confirmed emergency",
  false_alarm: "False alarm",
  test: "Test",
  other: "Other",
};

// --- DOM ---------------------------------------------------------------------------------------

/** el("a.btn", {href: "/"}, "text", child…): a small element builder that never parses HTML. */
export function el(tagAndClasses, attributes = {}, ...children) {
  const [tag, ...classes] = tagAndClasses.split(".");
  const node = document.createElement(tag || "div");
  if (classes.length) node.className = classes.join(" ");
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// --- REST API ------------------------------------------------------------------------------------

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body?.error;
    super(detail?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = detail?.code;
    this.fields = detail?.fields;
  }
}

// Difference between the server's clock and this browser's (ms), from the Date header of answers,
// so "waiting for" timers are right even when the control-room PC's clock is off.
let serverClockOffsetMs = 0;
export const serverNow = () => Date.now() + serverClockOffsetMs;

export async function api(path, { method = "GET", body, params } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: { message: "The server cannot be reached. Check the network." } });
  }
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) serverClockOffsetMs = date + 500 - Date.now(); // Date has 1-s resolution
  if (response.status === 401) {
    // The session ended (signed out elsewhere, expired): back to the sign-in page, then here.
    window.location.assign(`/login/?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Every page of a paginated list (bounded, for small lists such as sensors). */
export async function apiAll(path, params = {}, maxPages = 10) {
  const results = [];
  let next = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(params)) next.searchParams.set(name, value);
  for (let page = 0; next && page < maxPages; page += 1) {
    const data = await api(next.pathname + next.search);
    results.push(...(Array.isArray(data) ? data : data.results || []));
    next = data?.next ? new URL(data.next, window.location.origin) : null;
  }
  return results;
}

// --- Formatting ----------------------------------------------------------------------------------

export function formatDuration(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export function formatDateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "—";
}

/** Today's times as a clock time, older ones with the date. */
export function formatWhen(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
}

export function formatAgo(iso) {
  if (!iso) return "never";
  const seconds = (serverNow() - Date.parse(iso)) / 1000;
  return seconds < 5 ? "just now" : `${formatDuration(seconds)} ago`;
}

export const formatScore = (score) => (typeof score === "number" ? `${Math.round(score * 100)}%` : "—");
export const personName = (person) => (person && typeof person === "object" ? person.username : person || null);

// --- Toasts --------------------------------------------------------------------------------------

export function toast(message, kind = "info", timeoutMs = 5000) {
  const box = document.querySelector(".toasts");
  if (!box) return;
  const node = el(`div.toast.${kind}`, { role: kind === "error" ? "alert" : null }, message);
  box.append(node);
  setTimeout(() => node.remove(), timeoutMs);
}

// --- Theme, user menu ----------------------------------------------------------------------------

function toggleTheme() {
  const next = document.documentElement.dataset.theme === "light" ? "dark" : "light";
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem("outcry.theme", next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

// --- Filtered, paginated tables (history, changes) --------------------------------------------

/** Submitting ``form`` reloads the page with its non-empty fields as the query string (shareable). */
export function submitFiltersAsQuery(form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
    window.location.search = params.toString();
  });
}

/** Run ``fill`` (which fetches and renders a table's rows); on failure, empty the rows and say why in the banner. */
export async function fillTable(rows, errorBanner, fill) {
  try {
    await fill();
    errorBanner.hidden = true;
  } catch (error) {
    errorBanner.textContent = error.message;
    errorBanner.hidden = false;
    rows.replaceChildren();
  } finally {
    rows.setAttribute("aria-busy", "false");
  }
}

/** Point a pager ``link`` at ``page`` of the current query, or disable it. */
export function setPageLink(link, query, page, enabled) {
  if (!enabled) {
    link.setAttribute("aria-disabled", "true");
    link.removeAttribute("href");
    return;
  }
  const params = new URLSearchParams(query);
  params.set("page", page);
  link.href = `?${params}`;
  link.removeAttribute("aria-disabled");
}

// --- Keyboard shortcuts and the help overlay -------------------------------------------------

const shortcutGroups = [];
const handlers = new Map();

/** Register shortcuts {keys: ["j"], label, run}; without run they are listed in the help only. */
export function registerShortcuts(group, shortcuts) {
  shortcutGroups.push({ group, shortcuts });
  for (const shortcut of shortcuts) {
    if (shortcut.run) for (const key of shortcut.keys) handlers.set(key, shortcut.run);
  }
}

function isTyping(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.closest("audio"))
  );
}

// Enter and Space on a link or button activate it: they are never shortcuts there.
function activatesItself(target, key) {
  return (
    (key === "Enter" || key === " ") &&
    target instanceof Element &&
    target.closest("a[href], button, summary, [role=button], [role=link]") !== null
  );
}

const helpDialog = document.getElementById("help-dialog");
const KEY_NAMES = { ArrowDown: "↓", ArrowUp: "↑", ArrowLeft: "←", ArrowRight: "→" };

function showHelp() {
  if (!helpDialog || helpDialog.open) return;
  const body = helpDialog.querySelector(".help-body");
  body.replaceChildren(
    ...shortcutGroups.flatMap(({ group, shortcuts }) => [
      el("h3", {}, group),
      el(
        "dl",
        {},
        ...shortcuts.flatMap((s) => [
          el("dt", {}, ...s.keys.flatMap((k, i) => [i ? " / " : null, el("kbd", {}, KEY_NAMES[k] || k)])),
          el("dd", {}, s.label),
        ]),
      ),
    ]),
  );
  helpDialog.showModal();
}

registerShortcuts("Everywhere", [
  { keys: ["?"], label: "Show this help", run: showHelp },
  { keys: ["g c"], label: "Go to the console", run: () => window.location.assign("/") },
  { keys: ["g h"], label: "Go to history", run: () => window.location.assign("/history/") },
  { keys: ["g u"], label: "Go to upload", run: () => window.location.assign("/upload/") },
]);

let pendingPrefix = null;
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || activatesItself(event.target, event.key) || helpDialog?.open) return;
  let key = event.key;
  if (pendingPrefix) {
    key = `${pendingPrefix} ${key}`;
    pendingPrefix = null;
  } else if (key === "g") {
    pendingPrefix = "g";
    setTimeout(() => (pendingPrefix = null), 1200);
    return;
  }
  const run = handlers.get(key);
  if (run) {
    event.preventDefault();
    run(event);
  }
});

document.addEventListener("click", (event) => {
  const action = event.target.closest("[data-action]")?.dataset.action;
  if (action === "help") showHelp();
  else if (action === "close-help") helpDialog?.close();
  else if (action === "theme") toggleTheme();
  // Close the user menu when clicking elsewhere.
  for (const menu of document.querySelectorAll("details.usermenu[open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    for (const menu of document.querySelectorAll("details.usermenu[open]")) menu.open = false;
  }
});
