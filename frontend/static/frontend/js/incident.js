// One incident: evidence (audio clip, spectrogram), details, every action, the live timeline.

import { setupNotificationToggle, setupSoundToggle, toggleSound } from "./alerting.js";
import {
  api,
  apiAll,
  config,
  el,
  formatDateTime,
  formatDuration,
  formatScore,
  personName,
  PRIORITY_LABELS,
  registerShortcuts,
  RESOLUTION_LABELS,
  STATUS_LABELS,
  toast,
} from "./common.js";
import {
  actionForm,
  can,
  ownershipText,
  priorityBadge,
  quickAction,
  refusalReason,
  startWaitingTimers,
  statusChip,
  waitingNode,
} from "./incidents.js";
import { LiveConnection } from "./live.js";

const incidentId = config.incident_id;
const page = document.getElementById("incident");
const errorBanner = document.getElementById("incident-error");
const head = document.getElementById("incident-head");
const evidenceBox = document.getElementById("evidence");
const factsBox = document.getElementById("facts");
const actionsBox = document.getElementById("actions");
const timelineBox = document.getElementById("timeline");

let incident = null;
let openFormAction = null;

const EVENT_LABELS = {
  opened: "Incident opened",
  detection_added: "Another detection joined",
  detection_rescored: "The scream went on",
  acknowledged: "Acknowledged",
  assigned: "Assigned",
  note: "Note",
  held: "Put on hold",
  resolved: "Resolved",
  reopened: "Reopened",
  escalated: "Escalated",
  notified: "Notified",
};

function eventLabel(event) {
  if (event.kind === "assigned" && event.data && event.data.assignee === null) return "Unassigned";
  return EVENT_LABELS[event.kind] || event.kind;
}

// --- Rendering ---------------------------------------------------------------------------------

function renderHead() {
  const where = [incident.site?.name, incident.sensor?.location].filter(Boolean).join(" · ");
  head.replaceChildren(
    priorityBadge(incident.priority),
    el("h1", {}, `Scream at ${incident.sensor?.name || "unknown sensor"} `, el("span.card-id", {}, `#${incident.id}`)),
    statusChip(incident.status),
    waitingNode(incident),
    el("p.sub", {}, where, ownershipText(incident) ? ` — ${ownershipText(incident)}` : ""),
  );
  document.title = `#${incident.id} ${PRIORITY_LABELS[incident.priority]} · ${STATUS_LABELS[incident.status]} · Outcry`;
}

function renderEvidence() {
  const evidence = incident.evidence;
  if (!evidence) {
    evidenceBox.replaceChildren(el("p.muted", {}, "No evidence for this incident yet."));
    return;
  }
  const span = `${evidence.start_s?.toFixed(1)}–${evidence.end_s?.toFixed(1)} s`;
  const key = `${evidence.clip_url}|${evidence.spectrogram_url}|${evidence.complete}`;
  if (evidenceBox.dataset.key === key) return; // keep the player (and its position) as it is
  evidenceBox.dataset.key = key;
  evidenceBox.replaceChildren(
    evidence.spectrogram_url
      ? el("img.spectrogram", {
          src: evidence.spectrogram_url,
          alt: `Spectrogram of the detected sound (${span} of recording ${evidence.recording_id}), the detected span marked`,
        })
      : el("p.muted", {}, "The spectrogram is being drawn…"),
    evidence.clip_url
      ? el("audio", { controls: true, preload: "auto", src: evidence.clip_url, "aria-label": "Evidence audio clip" })
      : el(
          "p.muted",
          {},
          evidence.audio_deleted_at
            ? `The audio was deleted on ${formatDateTime(evidence.audio_deleted_at)} under the site's audio retention policy.`
            : "The audio clip is being extracted…",
        ),
    el(
      "p.evidence-caption.muted",
      {},
      `Peak detection at ${span} of recording #${evidence.recording_id}. `,
      evidence.complete ? null : "Still being completed: the whole scream's clip and spectrogram follow. ",
      evidence.clip_url ? el("a", { href: evidence.clip_url, download: `incident-${incident.id}.wav` }, "Download clip") : null,
    ),
  );
}

function fact(term, ...description) {
  return [el("dt", {}, term), el("dd", {}, ...description)];
}

function renderFacts() {
  const rows = [
    ...fact("Score", el("span.big-score", {}, formatScore(incident.peak_score))),
    ...fact("Priority", priorityBadge(incident.priority)),
    ...fact("Site", incident.site?.name || "—"),
    ...fact("Sensor", [incident.sensor?.name, incident.sensor?.location].filter(Boolean).join(" — ") || "—"),
    ...fact("Detections", String(incident.detection_count ?? "—")),
    ...fact("Opened", formatDateTime(incident.opened_at)),
    ...fact("Last detection", formatDateTime(incident.last_detection_at)),
  ];
  if (incident.status !== "new" && typeof incident.waited_s === "number") {
    rows.push(...fact("Waited", formatDuration(incident.waited_s)));
  }
  if (incident.acknowledged_at) {
    rows.push(
      ...fact("Acknowledged", `${formatDateTime(incident.acknowledged_at)} by ${personName(incident.acknowledged_by) || "—"}`),
    );
  }
  rows.push(...fact("Assignee", personName(incident.assignee) || "nobody"));
  if (incident.status === "resolved") {
    rows.push(
      ...fact("Resolved", `${formatDateTime(incident.resolved_at)} by ${personName(incident.resolved_by) || "—"}`),
      ...fact("Resolution", RESOLUTION_LABELS[incident.resolution] || incident.resolution || "—"),
    );
    if (incident.resolution_note) rows.push(...fact("Resolution note", incident.resolution_note));
  }
  if (incident.escalation_level) rows.push(...fact("Escalated", `level ${incident.escalation_level}`));
  factsBox.replaceChildren(...rows);
}

function button(action, label, shortcut, primary = false) {
  return el(
    `button.btn${primary ? ".btn-primary" : ""}`,
    { type: "button", dataset: { act: action }, title: shortcut ? `${label} (${shortcut})` : label, "aria-keyshortcuts": shortcut },
    label,
  );
}

function renderActions() {
  const quick = [];
  if (can(incident, "acknowledge")) {
    quick.push(button("acknowledge", incident.status === "on_hold" ? "Resume (acknowledge)" : "Acknowledge", "a", true));
  }
  if (can(incident, "assign") && incident.assignee?.id !== config.user.id) quick.push(button("assign", "Assign to me", "m"));
  if (can(incident, "reopen")) quick.push(button("reopen", "Reopen", null, true));
  const forms = [];
  if (can(incident, "resolve")) forms.push(button("resolve", "Resolve…", "r"));
  if (can(incident, "hold")) forms.push(button("hold", "Put on hold…", "h"));
  if (can(incident, "annotate")) forms.push(button("annotate", "Add note…", "n"));
  const groups = [];
  if (quick.length) groups.push(el("div.action-group", {}, el("div.action-row", {}, ...quick)));
  if (forms.length) groups.push(el("div.action-group", {}, el("div.action-row", {}, ...forms), el("div.form-slot")));
  if (!groups.length) {
    groups.push(el("p.muted", {}, "You can read this incident; acting on it needs the operator role at its site."));
  }
  // Keep a form being filled in across live updates.
  const openForm = actionsBox.querySelector(".form-slot")?.firstElementChild;
  actionsBox.replaceChildren(...groups);
  if (openForm && can(incident, openFormAction)) actionsBox.querySelector(".form-slot")?.append(openForm);
  else openFormAction = null;
}

function renderTimeline(events) {
  timelineBox.replaceChildren(
    ...events.map((event) => {
      const who = personName(event.actor) || "Outcry";
      const change =
        event.from_status && event.to_status && event.from_status !== event.to_status
          ? ` (${STATUS_LABELS[event.from_status] || event.from_status} → ${STATUS_LABELS[event.to_status] || event.to_status})`
          : "";
      return el(
        "li",
        { dataset: { kind: event.kind } },
        el("div.when", {}, formatDateTime(event.created_at)),
        el("div.what", {}, `${eventLabel(event)}${change}`, el("span.muted", {}, ` · ${who}`)),
        event.text ? el("div.text", {}, event.text) : null,
      );
    }),
  );
  if (!events.length) timelineBox.replaceChildren(el("li", {}, el("span.muted", {}, "No events yet.")));
}

function render() {
  page.setAttribute("aria-busy", "false");
  renderHead();
  renderEvidence();
  renderFacts();
  renderActions();
  watchPendingEvidence();
}

// A live stream's incident arrives while the scream is still being recorded: its clip and
// spectrogram are replaced by the whole scream's once it has ended (with new URLs). No incident
// event says so, so while the evidence is incomplete, ask again, less and less often.
const EVIDENCE_RECHECK_MS = [2000, 3000, 5000, 8000, 15000];
const EVIDENCE_RECHECK_FOR_MS = 5 * 60 * 1000;
let evidenceRecheck = null;

function evidencePending() {
  return incident?.evidence ? !incident.evidence.complete : false;
}

function watchPendingEvidence() {
  if (!evidencePending()) {
    clearTimeout(evidenceRecheck?.timer);
    evidenceRecheck = null;
    return;
  }
  if (evidenceRecheck?.timer) return; // already scheduled
  evidenceRecheck ??= { attempt: 0, since: Date.now() };
  if (Date.now() - evidenceRecheck.since > EVIDENCE_RECHECK_FOR_MS) return; // gave up: a reload still works
  const delay = EVIDENCE_RECHECK_MS[Math.min(evidenceRecheck.attempt, EVIDENCE_RECHECK_MS.length - 1)];
  evidenceRecheck.attempt += 1;
  evidenceRecheck.timer = setTimeout(() => {
    evidenceRecheck.timer = null;
    reload(); // the timeline too: completing the scream may have raised the priority
  }, delay);
}

// --- Data --------------------------------------------------------------------------------------

async function loadIncident() {
  try {
    incident = await api(`/api/v1/incidents/${incidentId}/`);
    errorBanner.hidden = true;
    page.querySelector(".incident-grid").hidden = false;
    render();
  } catch (error) {
    errorBanner.textContent =
      error.status === 404 ? "This incident does not exist, or it belongs to a site you cannot see." : error.message;
    errorBanner.hidden = false;
    head.querySelector("p")?.remove();
    // Empty evidence, timeline and action panels under the banner would suggest there is something to see.
    if (error.status === 404) page.querySelector(".incident-grid").hidden = true;
  }
}

async function loadTimeline() {
  try {
    renderTimeline(await apiAll(`/api/v1/incidents/${incidentId}/events/`, { page_size: 200 }));
  } catch {
    /* the incident's own error banner explains */
  }
}

function reload() {
  loadIncident();
  loadTimeline();
}

// --- Actions -----------------------------------------------------------------------------------

function act(action) {
  if (!incident) return;
  if (!can(incident, action)) {
    toast(refusalReason(incident, action));
    return;
  }
  if (["annotate", "hold", "resolve"].includes(action)) {
    const slot = actionsBox.querySelector(".form-slot");
    if (!slot) return;
    openFormAction = action;
    slot.replaceChildren(
      actionForm(incident, action, {
        onDone: (updated) => {
          slot.replaceChildren();
          openFormAction = null;
          incident = updated;
          render();
          loadTimeline();
        },
        onCancel: () => {
          slot.replaceChildren();
          openFormAction = null;
        },
      }),
    );
    return;
  }
  quickAction(incident, action, (updated) => {
    incident = updated;
    render();
    loadTimeline();
  });
}

actionsBox.addEventListener("click", (event) => {
  const target = event.target.closest("button[data-act]");
  if (target) act(target.dataset.act);
});

registerShortcuts("Incident", [
  { keys: ["a"], label: "Acknowledge", run: () => act("acknowledge") },
  { keys: ["m"], label: "Assign to me", run: () => act("assign") },
  { keys: ["n"], label: "Add a note", run: () => act("annotate") },
  { keys: ["h"], label: "Put on hold", run: () => act("hold") },
  { keys: ["r"], label: "Resolve", run: () => act("resolve") },
  {
    keys: ["p"],
    label: "Play / pause the evidence clip",
    run: () => {
      const audio = evidenceBox.querySelector("audio");
      if (audio) audio.paused ? audio.play() : audio.pause();
    },
  },
  { keys: ["s"], label: "Sound on / off", run: toggleSound },
  { keys: ["u"], label: "Back to the console", run: () => window.location.assign("/") },
]);

// --- Live --------------------------------------------------------------------------------------

function onLiveMessage(message) {
  if (message.type !== "incident.changed" || message.incident?.id !== incidentId) return;
  const keep = incident?.status === message.incident.status ? incident?.allowed_actions : undefined;
  incident = { allowed_actions: keep, ...message.incident };
  render();
  loadTimeline();
  if (!("allowed_actions" in message.incident)) loadIncident(); // this user's actions for the new state
}

setupSoundToggle();
setupNotificationToggle();
startWaitingTimers(() => incident);
reload();
new LiveConnection({ onMessage: onLiveMessage, onReconnect: reload }).start();
