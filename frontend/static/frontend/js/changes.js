// Configuration changes: the change log of the sites the user manages, newest first, filtered by
// site and kind of object, paginated. Reads /api/v1/config-changes/ (managers and admins only).

import { api, el, fillTable, formatDateTime, registerShortcuts, setPageLink, submitFiltersAsQuery } from "./common.js";

const PAGE_SIZE = 50;
const ACTION_LABELS = {
  created: "Created",
  changed: "Changed",
  deleted: "Deleted",
  key_issued: "New key issued for",
  key_revoked: "Key revoked for",
  secret_rotated: "New secret for",
};
const form = document.getElementById("filters");
const rows = document.getElementById("changes-rows");
const summary = document.getElementById("changes-summary");
const errorBanner = document.getElementById("changes-error");
const previousLink = document.getElementById("page-prev");
const nextLink = document.getElementById("page-next");

const query = new URLSearchParams(window.location.search);
const pageNumber = Math.max(1, Number.parseInt(query.get("page") || "1", 10) || 1);

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function changeList(changes) {
  const entries = Object.entries(changes || {});
  if (!entries.length) return "";
  return el(
    "ul.change-list",
    {},
    ...entries.map(([field, [before, after]]) =>
      el("li", {}, el("code", {}, field), `: ${shown(before)} → ${shown(after)}`),
    ),
  );
}

function renderRows(changes) {
  if (!changes.length) {
    rows.replaceChildren(
      el("tr.empty-row", {}, el("td", { colspan: 5 }, "No changes match, or you manage no site (only managers see this log).")),
    );
    return;
  }
  rows.replaceChildren(
    ...changes.map((change) =>
      el(
        "tr",
        {},
        el("td.mono", {}, formatDateTime(change.created_at)),
        el("td", {}, change.site_name || "—"),
        el("td", {}, change.actor_name || el("span.muted", {}, "system")),
        el("td", {}, `${ACTION_LABELS[change.action] || change.action} ${change.object_type} `, el("strong", {}, change.object_repr)),
        el("td", {}, changeList(change.changes)),
      ),
    ),
  );
}

async function load() {
  const filters = {};
  for (const name of ["site", "object_type"]) {
    if (query.get(name)) filters[name] = query.get(name);
    const field = form.elements.namedItem(name);
    if (field && query.get(name)) field.value = query.get(name);
  }
  await fillTable(rows, errorBanner, async () => {
    const data = await api("/api/v1/config-changes/", { params: { ...filters, page: pageNumber, page_size: PAGE_SIZE } });
    renderRows(data.results || []);
    const first = data.count ? (pageNumber - 1) * PAGE_SIZE + 1 : 0;
    const last = Math.min(data.count, pageNumber * PAGE_SIZE);
    summary.textContent = data.count ? `${first}–${last} of ${data.count} changes` : "";
    setPageLink(previousLink, query, pageNumber - 1, Boolean(data.previous));
    setPageLink(nextLink, query, pageNumber + 1, Boolean(data.next));
  });
}

submitFiltersAsQuery(form);
registerShortcuts("Changes", [
  { keys: ["ArrowLeft"], label: "Newer page", run: () => previousLink.href && previousLink.click() },
  { keys: ["ArrowRight"], label: "Older page", run: () => nextLink.href && nextLink.click() },
]);
load();
