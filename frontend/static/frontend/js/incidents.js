// Incidents in the browser: the workflow calls, the small shared views (badges, timers) and the
// inline forms for annotate / hold / resolve used by both the console feed and the incident page.

import {
  api,
  config,
  el,
  formatDuration,
  personName,
  PRIORITY_LABELS,
  RESOLUTION_LABELS,
  serverNow,
  STATUS_LABELS,
  toast,
} from "./common.js";

export const incidentPageUrl = (incident) => `/incidents/${incident.id}/`;

// Mirrors alerts.policy: used only until the server's per-user allowed_actions arrive (broadcasts
// carry none); the server enforces the rules either way.
const ACTION_FROM_STATUSES = {
  acknowledge: ["new", "on_hold"],
  assign: ["new", "acknowledged", "on_hold"],
  annotate: ["new", "acknowledged", "on_hold", "resolved"],
  hold: ["new", "acknowledged"],
  resolve: ["new", "acknowledged", "on_hold"],
  reopen: ["resolved"],
};
const ROLE_RANK = { viewer: 0, operator: 1, manager: 2 };

function roleAt(siteId) {
  const site = (config.sites || []).find((candidate) => candidate.id === siteId);
  return site?.role ?? null;
}

const ACTION_VERBS = {
  acknowledge: "acknowledge",
  assign: "assign",
  annotate: "add notes to",
  hold: "put on hold",
  resolve: "resolve",
  reopen: "reopen",
};

/** Why ``action`` is not offered on ``incident``, in words (for a key pressed anyway). */
export function refusalReason(incident, action) {
  const verb = ACTION_VERBS[action] || action;
  if ((ROLE_RANK[roleAt(incident.site?.id)] ?? -1) < ROLE_RANK.operator) {
    return `Only operators and managers of ${incident.site?.name || "its site"} can ${verb} incidents.`;
  }
  return `Incident #${incident.id} is ${(STATUS_LABELS[incident.status] || incident.status).toLowerCase()}: you cannot ${verb} it now.`;
}

/** Whether the user may act on incidents (operator or more) at any of their sites. */
export function canActAnywhere() {
  return (config.sites || []).some((site) => (ROLE_RANK[site.role] ?? -1) >= ROLE_RANK.operator);
}

export function can(incident, action) {
  if (Array.isArray(incident.allowed_actions)) return incident.allowed_actions.includes(action);
  const role = roleAt(incident.site?.id);
  return (ROLE_RANK[role] ?? -1) >= ROLE_RANK.operator && (ACTION_FROM_STATUSES[action] || []).includes(incident.status);
}

/** POST a workflow action; returns the updated incident (refetched if the answer is not one). */
export async function runAction(incident, action, body = {}) {
  const answer = await api(`/api/v1/incidents/${incident.id}/${action}/`, { method: "POST", body });
  if (answer && answer.id === incident.id && answer.status) return answer;
  return api(`/api/v1/incidents/${incident.id}/`);
}

export const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
const STATUS_RANK = { new: 0, on_hold: 1, acknowledged: 2, resolved: 3 };

/** Console order: open before resolved, new before handled, then most urgent, then newest. */
export function compareIncidents(a, b) {
  return (
    (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9) ||
    (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9) ||
    Date.parse(b.last_detection_at || b.opened_at) - Date.parse(a.last_detection_at || a.opened_at) ||
    b.id - a.id
  );
}

export function priorityBadge(priority) {
  return el(`span.prio-badge.prio-${priority}`, {}, PRIORITY_LABELS[priority] || priority);
}

export function statusChip(status) {
  return el(`span.status-chip.status-${status}`, {}, STATUS_LABELS[status] || status);
}

// --- The waiting timer -------------------------------------------------------------------------

/** How long the incident has waited for (or waited before) a person took it. */
export function waitingText(incident) {
  const opened = Date.parse(incident.opened_at);
  if (incident.status === "new") {
    const seconds = (serverNow() - opened) / 1000;
    return { text: `Waiting for ${formatDuration(seconds)}`, urgent: seconds >= 60 };
  }
  const ackAt = incident.acknowledged_at ? Date.parse(incident.acknowledged_at) : null;
  const waited = typeof incident.waited_s === "number" ? incident.waited_s : ackAt ? (ackAt - opened) / 1000 : null;
  if (incident.status === "resolved") {
    const label = RESOLUTION_LABELS[incident.resolution] || "Resolved";
    return { text: waited !== null ? `${label} · waited ${formatDuration(waited)}` : label, urgent: false };
  }
  return { text: waited !== null ? `Taken after ${formatDuration(waited)}` : "", urgent: false };
}

/** Keep every [data-waiting] element's text current, once a second. */
export function startWaitingTimers(lookup) {
  const tick = () => {
    for (const node of document.querySelectorAll("[data-waiting]")) {
      const incident = lookup(Number(node.dataset.waiting));
      if (!incident) continue;
      const { text, urgent } = waitingText(incident);
      if (node.textContent !== text) node.textContent = text;
      node.classList.toggle("urgent", urgent);
    }
  };
  tick();
  return setInterval(tick, 1000);
}

export function waitingNode(incident) {
  const { text, urgent } = waitingText(incident);
  return el(`span.waiting${urgent ? ".urgent" : ""}`, { dataset: { waiting: incident.id } }, text);
}

/** "Acknowledged by ana · assigned to ben": who holds the incident. */
export function ownershipText(incident) {
  const parts = [];
  const ackBy = personName(incident.acknowledged_by);
  const assignee = personName(incident.assignee);
  const resolvedBy = personName(incident.resolved_by);
  if (incident.status === "resolved" && resolvedBy) parts.push(`resolved by ${resolvedBy}`);
  else if (ackBy) parts.push(`acknowledged by ${ackBy}`);
  if (assignee) parts.push(`assigned to ${assignee}`);
  const text = parts.join(" · ");
  return text ? text[0].toUpperCase() + text.slice(1) : "";
}

// --- Inline forms ------------------------------------------------------------------------------

function formError(form, error) {
  form.querySelector(".form-error")?.remove();
  form.append(el("p.form-error", { role: "alert" }, error.message));
}

/**
 * An inline form for a text action (annotate / hold) or resolve. ``onDone(updated)`` gets the
 * updated incident; ``onCancel`` closes the form.
 */
export function actionForm(incident, action, { onDone, onCancel }) {
  const id = `${action}-${incident.id}-${Math.random().toString(36).slice(2, 7)}`;
  const controls = [];
  let focusTarget;
  if (action === "resolve") {
    const select = el(
      "select",
      { id: `${id}-resolution`, name: "resolution", required: true, "aria-label": "Resolution" },
      el("option", { value: "" }, "Resolution…"),
      ...Object.entries(RESOLUTION_LABELS).map(([value, label]) => el("option", { value }, label)),
    );
    const note = el("input", {
      type: "text",
      id: `${id}-note`,
      name: "note",
      placeholder: "Note (optional)",
      "aria-label": "Resolution note",
      maxlength: "5000", // as the API
    });
    controls.push(select, note);
    focusTarget = select;
  } else {
    const label = action === "hold" ? "Why is it on hold? (waiting on whom)" : "Note for the timeline";
    const text = el("textarea", {
      id: `${id}-text`,
      name: "text",
      rows: 2,
      required: true,
      placeholder: label,
      "aria-label": label,
      maxlength: "5000", // as the API
    });
    controls.push(text);
    focusTarget = text;
  }
  const submitLabel = { annotate: "Add note", hold: "Put on hold", resolve: "Resolve" }[action];
  const submit = el("button.btn.btn-primary.btn-sm", { type: "submit" }, submitLabel);
  const cancel = el("button.btn.btn-ghost.btn-sm", { type: "button", onclick: () => onCancel?.() }, "Cancel");
  const form = el("form.inline-form", { "aria-label": `${submitLabel}: incident ${incident.id}` }, ...controls, submit, cancel);
  form.dataset.form = action;
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel?.();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body =
      action === "resolve"
        ? { resolution: data.get("resolution"), note: data.get("note") || "" }
        : { text: (data.get("text") || "").trim() };
    if (action === "resolve" && !body.resolution) return formError(form, new Error("Pick a resolution."));
    if (action !== "resolve" && !body.text) return formError(form, new Error("Write a note first."));
    submit.disabled = true;
    try {
      const updated = await runAction(incident, action, body);
      toast(
        action === "resolve"
          ? `Incident #${incident.id} resolved: ${RESOLUTION_LABELS[body.resolution].toLowerCase()}.`
          : action === "hold"
            ? `Incident #${incident.id} on hold.`
            : `Note added to incident #${incident.id}.`,
        "ok",
      );
      onDone?.(updated);
    } catch (error) {
      submit.disabled = false;
      formError(form, error);
    }
  });
  queueMicrotask(() => focusTarget.focus());
  return form;
}

/** Run a one-click action (acknowledge, assign to me, reopen) with feedback. */
export async function quickAction(incident, action, onDone) {
  const body = action === "assign" ? { assignee: "me" } : {};
  try {
    const updated = await runAction(incident, action, body);
    const done = { acknowledge: "acknowledged", assign: "assigned to you", reopen: "reopened" }[action];
    toast(`Incident #${incident.id} ${done}.`, "ok", 3000);
    onDone?.(updated);
  } catch (error) {
    toast(`Incident #${incident.id}: ${error.message}`, "error", 8000);
    // Someone else may have won a race: show the incident as it is now.
    try {
      onDone?.(await api(`/api/v1/incidents/${incident.id}/`));
    } catch {
      /* the toast already says what went wrong */
    }
  }
}
