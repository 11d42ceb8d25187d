// Alarm review: each microphone's incidents over a period by how operators resolved them, with the
// server's threshold advice (/api/v1/alarm-review/). Managers apply an advice with one click, which
// sets the sensor's threshold override (PATCH /api/v1/sensors/{id}/, logged on the Changes page).

import { api, config, el, fillTable, submitFiltersAsQuery, toast } from "./common.js";

const form = document.getElementById("filters");
const rows = document.getElementById("review-rows");
const summary = document.getElementById("review-summary");
const errorBanner = document.getElementById("review-error");
const query = new URLSearchParams(window.location.search);
const managedSites = new Set(config.sites.filter((site) => site.role === "manager").map((site) => site.id));

const level = (value) => (Math.round(value * 100) === value * 100 ? value.toFixed(2) : value.toFixed(3));

async function applyAdvice(row, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/sensors/${row.sensor.id}/`, {
      method: "PATCH",
      body: { threshold_override: row.advice.threshold },
    });
    toast(`${row.sensor.name}: threshold set to ${level(row.advice.threshold)}.`, "success");
    await load();
  } catch (error) {
    toast(error.message, "error");
    button.disabled = false;
  }
}

function adviceCell(row) {
  const advice = row.advice;
  const parts = [el("div", {}, advice.reason)];
  if (advice.threshold !== null && managedSites.has(row.site.id)) {
    const button = el("button.btn.btn-sm.btn-primary", { type: "button" }, `Set ${level(advice.threshold)}`);
    button.addEventListener("click", () => applyAdvice(row, button));
    parts.push(button);
  }
  return el("td.advice", {}, ...parts);
}

function renderRows(sensors) {
  if (!sensors.length) {
    rows.replaceChildren(el("tr.empty-row", {}, el("td", { colspan: 9 }, "No microphones at the sites you chose.")));
    return;
  }
  rows.replaceChildren(
    ...sensors.map((row) =>
      el(
        "tr",
        { dataset: { sensor: row.sensor.id } },
        el("td", {}, el("strong", {}, row.sensor.name), el("div.muted", {}, row.site.name)),
        el("td.mono", {}, level(row.threshold), row.threshold_source === "sensor" ? "" : el("span.muted", {}, ` (${row.threshold_source})`)),
        el("td.num", {}, row.incidents),
        el("td.num", {}, row.open),
        el("td.num", {}, row.resolved.confirmed_emergency),
        el("td.num", {}, row.resolved.test),
        el("td.num", {}, row.resolved.false_alarm),
        el("td.num", {}, row.resolved.other),
        adviceCell(row),
      ),
    ),
  );
}

async function load() {
  const params = { days: query.get("days") || "30", site: query.get("site") || "" };
  for (const [name, value] of Object.entries(params)) {
    const field = form.elements.namedItem(name);
    if (field && value) field.value = value;
  }
  await fillTable(rows, errorBanner, async () => {
    const data = await api("/api/v1/alarm-review/", { params });
    renderRows(data.sensors);
    const falseAlarms = data.sensors.reduce((total, row) => total + row.resolved.false_alarm, 0);
    const advised = data.sensors.filter((row) => row.advice.threshold !== null).length;
    const count = (number, noun) => `${number} ${noun}${number === 1 ? "" : "s"}`;
    summary.textContent = `${count(data.sensors.length, "microphone")}, ${count(falseAlarms, "false alarm")} in the period; ${advised} with a threshold to consider.`;
  });
}

submitFiltersAsQuery(form);
load();
