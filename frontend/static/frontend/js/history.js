// History: every incident of the user's sites, filtered and paginated; CSV export of the same set.
// The filters live in this page's query string (shareable links); dates are the browser's days.

import {
  api,
  config,
  el,
  formatDateTime,
  formatDuration,
  formatScore,
  registerShortcuts,
  RESOLUTION_LABELS,
  setPageLink,
  submitFiltersAsQuery,
} from "./common.js";
import { incidentPageUrl, priorityBadge, statusChip } from "./incidents.js";

const PAGE_SIZE = 50;
const form = document.getElementById("filters");
const rows = document.getElementById("history-rows");
const summary = document.getElementById("history-summary");
const errorBanner = document.getElementById("history-error");
const exportLink = document.getElementById("export-csv");
const previousLink = document.getElementById("page-prev");
const nextLink = document.getElementById("page-next");
const siteSelect = document.getElementById("f-site");
const sensorSelect = document.getElementById("f-sensor");

const query = new URLSearchParams(window.location.search);
const pageNumber = Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);

/** The local midnight starting the day ``value`` (YYYY-MM-DD) names, or null when it names no real day. */
function localMidnight(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(2000, 0, 1); // then the day itself: new Date(y, …) reads years 0–99 as 1900–1999
  date.setFullYear(year, month - 1, day);
  // new Date() rolls 2026-13-45 or 2026-02-30 over into a later day: such a value is not a date.
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return null;
  return date;
}

/**
 * The API's filters for this page's query string (date inputs become local-midnight instants),
 * and the reasons a From or To value in it (a hand-made link's) cannot be read as a day.
 */
function apiFilters() {
  const filters = {};
  const problems = [];
  for (const name of ["site", "sensor", "status", "priority"]) {
    if (query.get(name)) filters[name] = query.get(name);
  }
  for (const name of ["from", "to"]) {
    const value = query.get(name);
    if (!value) continue;
    const day = localMidnight(value);
    if (!day) {
      problems.push(`"${value}" is not a date (${name}): use YYYY-MM-DD.`);
    } else if (name === "from") {
      filters.opened_after = day.toISOString();
    } else {
      day.setDate(day.getDate() + 1);
      filters.opened_before = day.toISOString();
    }
  }
  return { filters, problems };
}

function fillForm() {
  for (const name of ["site", "status", "priority", "from", "to"]) {
    const field = form.elements.namedItem(name);
    const value = query.get(name);
    if (!field || !value) continue;
    if (field.tagName === "SELECT" && ![...field.options].some((option) => option.value === value)) {
      field.append(el("option", { value }, value.split(",").join(", "))); // a hand-made link's combination
    }
    field.value = value;
  }
  fillSensors();
  if (query.get("sensor")) sensorSelect.value = query.get("sensor");
}

function fillSensors() {
  const site = Number(siteSelect.value) || null;
  const siteNames = new Map((config.sites || []).map((s) => [s.id, s.name]));
  const current = sensorSelect.value;
  sensorSelect.replaceChildren(
    el("option", { value: "" }, "All sensors"),
    ...(config.sensors || [])
      .filter((sensor) => !site || sensor.site === site)
      .map((sensor) =>
        el("option", { value: sensor.id }, site ? sensor.name : `${siteNames.get(sensor.site) || ""} — ${sensor.name}`),
      ),
  );
  if ([...sensorSelect.options].some((option) => option.value === current)) sensorSelect.value = current;
}

siteSelect.addEventListener("change", fillSensors);

submitFiltersAsQuery(form);

function renderRows(incidents) {
  if (!incidents.length) {
    rows.replaceChildren(el("tr.empty-row", {}, el("td", { colspan: 9 }, "No incidents match these filters.")));
    return;
  }
  rows.replaceChildren(
    ...incidents.map((incident) =>
      el(
        "tr",
        {},
        el("td", {}, el("a", { href: incidentPageUrl(incident) }, `#${incident.id}`)),
        el("td", {}, priorityBadge(incident.priority)),
        el("td.mono", {}, formatDateTime(incident.opened_at)),
        el("td", {}, incident.site?.name || "—"),
        el("td", { title: incident.sensor?.location || "" }, incident.sensor?.name || "—"),
        el("td.num", {}, formatScore(incident.peak_score)),
        el("td", {}, statusChip(incident.status)),
        el("td.mono", {}, typeof incident.waited_s === "number" ? formatDuration(incident.waited_s) : "—"),
        el("td", {}, RESOLUTION_LABELS[incident.resolution] || ""),
      ),
    ),
  );
}

async function load() {
  const { filters, problems } = apiFilters();
  if (problems.length) {
    // Listing the incidents without the filter asked for would answer another question: say why instead.
    errorBanner.textContent = problems.join(" ");
    errorBanner.hidden = false;
    exportLink.removeAttribute("href");
    exportLink.setAttribute("aria-disabled", "true");
    rows.replaceChildren();
    rows.setAttribute("aria-busy", "false");
    return;
  }
  if (query.get("from") && query.get("to") && query.get("from") > query.get("to")) {
    errorBanner.textContent = "The From date is after the To date, so no incident can match: swap them.";
    errorBanner.hidden = false;
  }
  const exportUrl = new URL("/api/v1/incidents/export.csv", window.location.origin);
  for (const [name, value] of Object.entries(filters)) exportUrl.searchParams.set(name, value);
  exportLink.href = exportUrl.pathname + exportUrl.search;
  try {
    const data = await api("/api/v1/incidents/", { params: { ...filters, page: pageNumber, page_size: PAGE_SIZE } });
    renderRows(data.results || []);
    const pages = Math.max(1, Math.ceil(data.count / PAGE_SIZE));
    const first = data.count ? (pageNumber - 1) * PAGE_SIZE + 1 : 0;
    const last = Math.min(data.count, pageNumber * PAGE_SIZE);
    summary.textContent = data.count
      ? `${first}–${last} of ${data.count} incidents · page ${pageNumber} of ${pages}`
      : "0 incidents";
    setPageLink(previousLink, query, pageNumber - 1, Boolean(data.previous));
    setPageLink(nextLink, query, pageNumber + 1, Boolean(data.next));
  } catch (error) {
    errorBanner.textContent =
      error.status === 404 && pageNumber > 1 ? "That page is past the end of the results." : error.message;
    errorBanner.hidden = false;
    rows.replaceChildren();
  } finally {
    rows.setAttribute("aria-busy", "false");
  }
}

registerShortcuts("History", [
  { keys: ["f"], label: "Focus the filters", run: () => siteSelect.focus() },
  { keys: ["ArrowLeft"], label: "Newer page", run: () => previousLink.href && previousLink.click() },
  { keys: ["ArrowRight"], label: "Older page", run: () => nextLink.href && nextLink.click() },
]);

fillForm();
load();
