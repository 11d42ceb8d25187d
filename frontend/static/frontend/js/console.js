// The live console: the incident feed of the user's sites, kept current by the websocket, with
// sound and notifications for new incidents, quick actions, and the sensor status sidebar.

import { notifyIncident, playPriority, setupNotificationToggle, setupSoundToggle, toggleSound } from "./alerting.js";
import {
  api,
  apiAll,
  config,
  el,
  formatAgo,
  formatScore,
  PRIORITY_LABELS,
  registerShortcuts,
  toast,
} from "./common.js";
import {
  actionForm,
  can,
  canActAnywhere,
  compareIncidents,
  incidentPageUrl,
  ownershipText,
  PRIORITY_RANK,
  priorityBadge,
  quickAction,
  refusalReason,
  startWaitingTimers,
  statusChip,
  waitingNode,
} from "./incidents.js";
import { LiveConnection } from "./live.js";

const FEED_SIZE = 100;
const SENSOR_REFRESH_MS = 15000;
const CRITICAL_REMINDER_MS = 30000;

const feed = document.getElementById("feed");
const emptyState = document.getElementById("feed-empty");
const feedError = document.getElementById("feed-error");
const counts = document.querySelector(".feed-counts");
const showResolvedBox = document.getElementById("show-resolved");

const incidents = new Map(); // id -> incident JSON
let selectedId = null;
let loadGeneration = 0;
let loadedOnce = false;

// --- The feed ----------------------------------------------------------------------------------

function visibleIncidents() {
  return [...incidents.values()]
    .filter((incident) => showResolvedBox.checked || incident.status !== "resolved")
    .sort(compareIncidents);
}

function actionButton(incident, action, label, shortcut) {
  return el(
    "button.btn.btn-sm",
    {
      type: "button",
      dataset: { act: action },
      title: shortcut ? `${label} (${shortcut})` : label,
      "aria-keyshortcuts": shortcut || null,
    },
    label,
  );
}

function renderCard(incident) {
  const title = [incident.sensor?.name || "Unknown sensor"];
  const sub = [incident.site?.name, incident.sensor?.location].filter(Boolean);
  const actions = [];
  if (can(incident, "acknowledge")) {
    // Acknowledging a held incident resumes work on it.
    actions.push(actionButton(incident, "acknowledge", incident.status === "on_hold" ? "Resume" : "Acknowledge", "a"));
    actions.at(-1).classList.add("btn-primary");
  }
  if (can(incident, "assign") && incident.assignee?.id !== config.user.id) {
    actions.push(actionButton(incident, "assign", "Assign to me", "m"));
  }
  if (can(incident, "annotate")) actions.push(actionButton(incident, "annotate", "Add note…", "n"));
  if (can(incident, "resolve")) actions.push(actionButton(incident, "resolve", "Resolve…", "r"));
  if (can(incident, "reopen")) actions.push(actionButton(incident, "reopen", "Reopen"));
  const owner = ownershipText(incident);
  const titleId = `incident-${incident.id}-title`;
  return [
    el(
      "div.card-prio",
      {},
      priorityBadge(incident.priority),
      el("div.score", { title: "Peak scream probability" }, formatScore(incident.peak_score)),
      el("div.score-label", {}, "score"),
    ),
    el(
      "div.card-main",
      {},
      el(
        "div.card-title",
        { id: titleId },
        el("a", { href: incidentPageUrl(incident) }, ...title),
        el("span.card-id", {}, `#${incident.id}`),
      ),
      el(
        "div.card-sub",
        {},
        ...sub.flatMap((part, index) => [index ? el("span.sep", { "aria-hidden": "true" }, "·") : null, part]),
        incident.detection_count > 1 ? el("span.sep", { "aria-hidden": "true" }, "·") : null,
        incident.detection_count > 1 ? `${incident.detection_count} detections` : null,
      ),
    ),
    el("div.card-meta", {}, statusChip(incident.status), waitingNode(incident)),
    el(
      "div.card-actions",
      {},
      ...actions,
      el("span.spacer"),
      owner ? el("span.card-note", {}, owner) : null,
    ),
  ];
}

function cardFor(id) {
  return feed.querySelector(`.incident-card[data-id="${id}"]`);
}

/** Re-render the feed in order, reusing each card's node so open forms and focus survive. */
function renderFeed() {
  const list = visibleIncidents();
  const wanted = new Set(list.map((incident) => incident.id));
  for (const card of feed.querySelectorAll(".incident-card")) {
    if (!wanted.has(Number(card.dataset.id))) card.remove();
  }
  let previous = null;
  for (const incident of list) {
    let card = cardFor(incident.id);
    if (!card) {
      card = el("li.incident-card", {
        dataset: { id: incident.id },
        tabindex: "-1",
        "aria-labelledby": `incident-${incident.id}-title`,
      });
      card.append(el("div.card-form"));
    }
    const stamp = `${incident.updated_at}|${incident.status}|${JSON.stringify(incident.allowed_actions)}`;
    if (card.dataset.stamp !== stamp) {
      card.dataset.stamp = stamp;
      card.dataset.priority = incident.priority;
      card.dataset.status = incident.status;
      // Replace everything but the form slot, so a note being typed survives live updates.
      const formSlot = card.querySelector(".card-form");
      const hadFocus = card.contains(document.activeElement) && !formSlot.contains(document.activeElement);
      for (const part of [...card.children]) if (part !== formSlot) part.remove();
      formSlot.before(...renderCard(incident));
      if (hadFocus) card.focus({ preventScroll: true });
    }
    const expectedPosition = previous ? previous.nextElementSibling : feed.firstElementChild;
    if (expectedPosition !== card) {
      if (previous) previous.after(card);
      else feed.prepend(card);
    }
    previous = card;
  }
  if (selectedId !== null && !wanted.has(selectedId)) selectedId = null;
  if (selectedId === null && list.length) selectedId = list[0].id;
  for (const card of feed.querySelectorAll(".incident-card")) {
    card.classList.toggle("selected", Number(card.dataset.id) === selectedId);
  }
  // "All quiet" only when the list is known to be empty, never after a failed load.
  emptyState.hidden = list.length > 0 || !loadedOnce || !feedError.hidden;
  // "All quiet" must never be said to someone whose console cannot hear anything.
  const noSites = !(config.sites || []).length;
  document.getElementById("feed-empty-quiet").hidden = noSites;
  document.getElementById("feed-empty-no-sites").hidden = !noSites;
  renderCounts();
}

function renderCounts() {
  const all = [...incidents.values()];
  const fresh = all.filter((incident) => incident.status === "new").length;
  const open = all.filter((incident) => incident.status !== "resolved").length;
  counts.replaceChildren(
    el(`span.count-chip${fresh ? ".new" : ""}`, {}, `${fresh} new`),
    el("span.count-chip", {}, `${open} open`),
  );
  document.title = fresh ? `(${fresh}) Console · Outcry` : "Console · Outcry";
}

function upsert(incident) {
  const known = incidents.get(incident.id);
  // Broadcasts carry no per-user allowed_actions: keep ours until the refetch brings new ones.
  const merged = { ...incident };
  if (!("allowed_actions" in incident) && known?.status === incident.status && known.allowed_actions) {
    merged.allowed_actions = known.allowed_actions;
  }
  incidents.set(incident.id, merged);
  return merged;
}

async function loadFeed() {
  const generation = ++loadGeneration;
  feed.setAttribute("aria-busy", "true");
  try {
    // Every open incident (a few pages at most) and the latest resolved ones, for context.
    const [open, resolved] = await Promise.all([
      apiAll("/api/v1/incidents/", { status: "new,acknowledged,on_hold", page_size: FEED_SIZE }, 3),
      api("/api/v1/incidents/", { params: { status: "resolved", page_size: 20 } }),
    ]);
    if (generation !== loadGeneration) return;
    // After a reconnect, incidents raised while the socket was down still deserve their alert.
    const missed = loadedOnce ? open.filter((incident) => incident.status === "new" && !incidents.has(incident.id)) : [];
    incidents.clear();
    for (const incident of [...open, ...(resolved?.results || [])]) incidents.set(incident.id, incident);
    loadedOnce = true;
    queueMicrotask(() => missed.forEach(announce));
    feedError.hidden = true;
  } catch (error) {
    feedError.textContent = `Could not load incidents: ${error.message}`;
    feedError.hidden = false;
  } finally {
    feed.setAttribute("aria-busy", "false");
  }
  renderFeed();
}

/** The server's view of one incident (with this user's allowed_actions). */
const pendingRefetch = new Map();
function refetchSoon(id) {
  clearTimeout(pendingRefetch.get(id));
  pendingRefetch.set(
    id,
    setTimeout(async () => {
      pendingRefetch.delete(id);
      try {
        upsert(await api(`/api/v1/incidents/${id}/`));
        renderFeed();
      } catch {
        /* gone or not visible any more: the next full refresh settles it */
      }
    }, 150),
  );
}

function onLiveMessage(message) {
  if (message.type === "hello") {
    // The sites and roles of this connection: after a 4409 reconnect they may differ from the page's.
    config.sites = (message.sites || []).map((site) => ({
      ...(config.sites || []).find((known) => known.id === site.id),
      ...site,
    }));
    renderSensors(knownSensors); // site names of the sensor panel
    showActionShortcutHint();
    return;
  }
  if (message.type === "sensor.status" && message.sensor) {
    onSensorStatus(message.sensor);
    return;
  }
  if (message.type !== "incident.changed" || !message.incident) return;
  const known = incidents.get(message.incident.id);
  const isNew = !known && message.incident.status === "new";
  // A new detection can raise an unhandled incident's priority: that deserves the louder sound.
  const escalated =
    known && message.incident.status === "new" && PRIORITY_RANK[message.incident.priority] < PRIORITY_RANK[known.priority];
  const incident = upsert(message.incident);
  renderFeed();
  if (!("allowed_actions" in message.incident)) refetchSoon(incident.id);
  if (isNew) announce(incident);
  else if (escalated) playPriority(incident.priority);
}

function announce(incident) {
  const card = cardFor(incident.id);
  card?.classList.add("arrived");
  setTimeout(() => card?.classList.remove("arrived"), 1700);
  playPriority(incident.priority);
  notifyIncident(incident, () => select(incident.id, { focus: true }));
  const where = [incident.sensor?.name, incident.site?.name].filter(Boolean).join(", ");
  toast(`New ${PRIORITY_LABELS[incident.priority] || incident.priority} incident #${incident.id}: ${where}`, "error", 8000);
}

// Like an alarm panel: while a critical incident is still new, its siren sounds again every 30 s.
setInterval(() => {
  if ([...incidents.values()].some((incident) => incident.status === "new" && incident.priority === "critical")) {
    playPriority("critical");
  }
}, CRITICAL_REMINDER_MS);

// --- Actions -----------------------------------------------------------------------------------

function openForm(incident, action) {
  const card = cardFor(incident.id);
  const slot = card?.querySelector(".card-form");
  if (!slot) return;
  if (slot.firstElementChild?.dataset.form === action) {
    slot.querySelector("textarea, select, input")?.focus();
    return;
  }
  const close = () => {
    slot.replaceChildren();
    card.focus();
  };
  slot.replaceChildren(
    actionForm(incident, action, {
      onDone: (updated) => {
        slot.replaceChildren();
        upsert(updated);
        renderFeed();
        cardFor(updated.id)?.focus();
      },
      onCancel: close,
    }),
  );
}

function act(id, action) {
  const incident = incidents.get(id);
  if (!incident) return;
  if (!can(incident, action)) {
    toast(refusalReason(incident, action));
    return;
  }
  if (action === "annotate" || action === "resolve" || action === "hold") {
    openForm(incident, action);
    return;
  }
  quickAction(incident, action, (updated) => {
    upsert(updated);
    renderFeed();
  });
}

// A card reached with Tab is the selected one, so that the action keys act on what has the focus.
feed.addEventListener("focusin", (event) => {
  const card = event.target.closest(".incident-card");
  if (card && event.target === card && Number(card.dataset.id) !== selectedId) select(Number(card.dataset.id));
});

feed.addEventListener("click", (event) => {
  const card = event.target.closest(".incident-card");
  if (!card) return;
  const id = Number(card.dataset.id);
  const button = event.target.closest("button[data-act]");
  if (button) {
    act(id, button.dataset.act);
  }
  if (!event.target.closest(".card-form")) select(id);
});

// --- Selection and keyboard ------------------------------------------------------------------

function select(id, { focus = false } = {}) {
  selectedId = id;
  for (const card of feed.querySelectorAll(".incident-card")) {
    card.classList.toggle("selected", Number(card.dataset.id) === id);
  }
  const card = cardFor(id);
  if (card && focus) {
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
}

function move(step) {
  const ids = visibleIncidents().map((incident) => incident.id);
  if (!ids.length) return;
  const index = ids.indexOf(selectedId);
  const next = index === -1 ? 0 : Math.min(ids.length - 1, Math.max(0, index + step));
  select(ids[next], { focus: true });
}

const onSelected = (action) => () => selectedId !== null && act(selectedId, action);

registerShortcuts("Console", [
  { keys: ["j", "ArrowDown"], label: "Next incident", run: () => move(1) },
  { keys: ["k", "ArrowUp"], label: "Previous incident", run: () => move(-1) },
  { keys: ["a"], label: "Acknowledge the selected incident", run: onSelected("acknowledge") },
  { keys: ["m"], label: "Assign the selected incident to me", run: onSelected("assign") },
  { keys: ["n"], label: "Add a note", run: onSelected("annotate") },
  { keys: ["h"], label: "Put on hold", run: onSelected("hold") },
  { keys: ["r"], label: "Resolve (pick a resolution)", run: onSelected("resolve") },
  {
    keys: ["o", "Enter"],
    label: "Open the incident page",
    run: () => selectedId !== null && window.location.assign(incidentPageUrl({ id: selectedId })),
  },
  { keys: ["s"], label: "Sound on / off", run: toggleSound },
  {
    keys: ["x"],
    label: "Show / hide resolved incidents",
    run: () => {
      showResolvedBox.checked = !showResolvedBox.checked;
      showResolvedBox.dispatchEvent(new Event("change"));
    },
  },
]);

// The sidebar's hint names the action keys only to those who may act (viewers may not).
function showActionShortcutHint() {
  document.getElementById("action-shortcuts").hidden = !canActAnywhere();
}
showActionShortcutHint();

registerShortcuts("In a note or resolve form", [
  { keys: ["Ctrl+Enter"], label: "Submit" },
  { keys: ["Esc"], label: "Cancel" },
]);

showResolvedBox.checked = localStorage.getItem("outcry.showResolved") === "1";
showResolvedBox.addEventListener("change", () => {
  localStorage.setItem("outcry.showResolved", showResolvedBox.checked ? "1" : "0");
  renderFeed();
});

// --- Sensors -----------------------------------------------------------------------------------

const sensorsBox = document.getElementById("sensors");
const sensorsUpdated = document.getElementById("sensors-updated");

// File-drop sensors send recordings, never a stream: "offline" would be a false alarm for them.
const isQuietFileDrop = (sensor) => sensor.kind === "file_drop" && sensor.status === "offline";

function sensorState(sensor) {
  if (isQuietFileDrop(sensor)) return "file drop";
  if (sensor.status !== "offline") return sensor.status;
  if (!sensor.last_seen) return "never seen";
  return `offline ${formatAgo(sensor.last_seen).replace(" ago", "")}`;
}

// The last sensor list, patched live by sensor.status messages between full refreshes.
let knownSensors = [];

async function loadSensors() {
  try {
    knownSensors = await apiAll("/api/v1/sensors/", { page_size: 200 }, 5);
    renderSensors(knownSensors);
    sensorsUpdated.textContent = `updated ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  } catch (error) {
    sensorsUpdated.textContent = "stale";
    sensorsUpdated.title = error.message;
  }
}

function onSensorStatus(update) {
  const sensor = knownSensors.find((candidate) => candidate.id === update.id);
  if (!sensor) return;
  Object.assign(sensor, { status: update.status, last_seen: update.last_seen, level_dbfs: update.level_dbfs });
  renderSensors(knownSensors);
}

function renderSensors(sensors) {
  const siteNames = new Map((config.sites || []).map((site) => [site.id, site.name]));
  const bySite = new Map();
  for (const sensor of sensors) {
    const siteId = typeof sensor.site === "object" ? sensor.site.id : sensor.site;
    if (!bySite.has(siteId)) bySite.set(siteId, []);
    bySite.get(siteId).push(sensor);
  }
  const blocks = [];
  for (const [siteId, list] of bySite) {
    const offline = list.filter((sensor) => sensor.status === "offline" && !isQuietFileDrop(sensor)).length;
    blocks.push(
      el(
        "h3.sensor-site",
        {},
        siteNames.get(siteId) || `Site ${siteId}`,
        offline ? el("span.muted.small", {}, ` · ${offline} offline`) : null,
      ),
      el(
        "ul.sensor-list",
        {},
        ...list.map((sensor) =>
          el(
            "li.sensor",
            {
              dataset: { status: isQuietFileDrop(sensor) ? "file-drop" : sensor.status },
              title: [
                sensor.location,
                sensor.last_seen ? `last seen ${formatAgo(sensor.last_seen)}` : "never seen",
                sensor.level_dbfs != null ? `level ${Math.round(sensor.level_dbfs)} dBFS` : null,
              ]
                .filter(Boolean)
                .join(" · "),
            },
            el("span.dot", { "aria-hidden": "true" }),
            el("span.sensor-name", {}, sensor.name),
            el("span.sensor-state", {}, sensorState(sensor)),
          ),
        ),
      ),
    );
  }
  sensorsBox.replaceChildren(...(blocks.length ? blocks : [el("p.muted.small", {}, "No sensors on your sites.")]));
}

// --- Start ---------------------------------------------------------------------------------------

setupSoundToggle();
setupNotificationToggle();
startWaitingTimers((id) => incidents.get(id));
loadFeed();
loadSensors();
setInterval(loadSensors, SENSOR_REFRESH_MS);
const liveBanner = document.getElementById("live-lost");
function onLiveState(state, connectedBefore) {
  liveBanner.hidden = state === "live" || !connectedBefore;
}
// After a reconnect the user's sites may have changed (close code 4409): reload both lists.
const reloadAll = () => Promise.all([loadFeed(), loadSensors()]);
new LiveConnection({ onMessage: onLiveMessage, onReconnect: reloadAll, onState: onLiveState }).start();
