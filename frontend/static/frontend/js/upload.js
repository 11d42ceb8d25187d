// Upload: send each chosen file with a progress bar (XMLHttpRequest reports upload progress; fetch
// does not), then follow each recording's analysis until it is done or failed.

import { api, apiAll, el, toast } from "./common.js";
import { incidentPageUrl, priorityBadge, statusChip } from "./incidents.js";

const POLL_MS = 1000;
const form = document.getElementById("upload-form");
const fileInput = document.getElementById("u-files");
const sensorSelect = document.getElementById("u-sensor");
const startButton = document.getElementById("upload-start");
const picked = document.getElementById("upload-picked");
const dropzone = document.getElementById("dropzone");
const list = document.getElementById("uploads");
const section = document.getElementById("uploads-section");

const STATE_LABELS = {
  waiting: "Waiting",
  uploading: "Uploading",
  queued: "Queued for analysis",
  processing: "Analysing",
  done: "Done",
  failed: "Failed",
};

function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function describePicked() {
  const files = [...fileInput.files];
  startButton.disabled = !files.length;
  picked.textContent = files.length
    ? `${files.length} file${files.length > 1 ? "s" : ""} · ${formatBytes(files.reduce((sum, f) => sum + f.size, 0))}`
    : "No files chosen";
}

class UploadItem {
  constructor(file, sensor) {
    this.file = file;
    this.sensor = sensor;
    this.progress = el("progress", { max: 100, value: 0, "aria-label": `Upload progress of ${file.name}` });
    this.state = el("span.upload-state", {}, STATE_LABELS.waiting);
    this.detail = el("div.upload-detail", {}, `${formatBytes(file.size)} · ${sensor.label}`);
    this.node = el(
      "li.upload-item",
      { dataset: { state: "waiting" } },
      el("span.upload-name", { title: file.name }, file.name),
      this.state,
      this.progress,
      this.detail,
    );
  }

  setState(state, label = STATE_LABELS[state]) {
    this.node.dataset.state = state;
    this.state.textContent = label;
  }

  /** POST the file; resolves with the recording JSON, rejects with a readable Error. */
  send() {
    this.setState("uploading", "Uploading 0%");
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", "/api/v1/recordings/");
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.setRequestHeader("Accept", "application/json");
      request.responseType = "json";
      request.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        const percent = Math.round((event.loaded / event.total) * 100);
        this.progress.value = percent;
        this.setState("uploading", `Uploading ${percent}%`);
      });
      request.addEventListener("load", () => {
        const body = request.response;
        if (request.status >= 200 && request.status < 300) resolve(body);
        else {
          const error = body?.error;
          const fields = error?.fields ? Object.values(error.fields).flat().join(" ") : "";
          reject(new Error([error?.message, fields].filter(Boolean).join(" ") || `The server answered ${request.status}.`));
        }
      });
      request.addEventListener("error", () => reject(new Error("The upload was interrupted: check the network.")));
      request.addEventListener("abort", () => reject(new Error("The upload was cancelled.")));
      const data = new FormData();
      data.append("file", this.file);
      data.append("sensor", this.sensor.id);
      request.send(data);
    });
  }

  async follow(recording) {
    this.progress.value = 100;
    let current = recording;
    for (;;) {
      this.setState(current.status);
      if (current.status === "done" || current.status === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        current = await api(`/api/v1/recordings/${recording.id}/`);
      } catch (error) {
        this.detail.replaceChildren(el("span.error", {}, `Lost track of the analysis: ${error.message}`));
        return;
      }
    }
    if (current.status === "failed") {
      this.setState("failed", "Analysis failed");
      this.detail.replaceChildren(el("span.error", {}, current.error || "The analysis failed without a message."));
      return;
    }
    await this.showOutcome(current);
  }

  async showOutcome(recording) {
    const duration = recording.duration_s ? ` · ${recording.duration_s.toFixed(1)} s of audio` : "";
    let detections = [];
    try {
      detections = await apiAll(`/api/v1/recordings/${recording.id}/detections/`);
    } catch {
      /* the incident list below is what matters */
    }
    // The incidents this recording's detections raised or joined: those of the sensor whose last
    // detection is at least as recent as the recording's first one.
    let incidents = [];
    const firstDetection = Math.min(...detections.map((detection) => Date.parse(detection.occurred_at)));
    if (detections.length) {
      try {
        const data = await api("/api/v1/incidents/", { params: { sensor: this.sensor.id, page_size: 10 } });
        incidents = (data.results || []).filter(
          (incident) => Date.parse(incident.last_detection_at) >= firstDetection - 1000,
        );
      } catch {
        /* shown as a link to the sensor's history instead */
      }
    }
    const found = detections.length
      ? `${detections.length} scream detection${detections.length > 1 ? "s" : ""}`
      : "No scream detected";
    if (detections.length) this.setState("detected", "Scream detected");
    else this.setState("done", "Done · no scream");
    const outcome = [
      incidents.length
        ? el(
            "ul",
            {},
            ...incidents.map((incident) =>
              el(
                "li",
                {},
                priorityBadge(incident.priority),
                " ",
                el("a", { href: incidentPageUrl(incident) }, `Incident #${incident.id}`),
                ` at ${incident.site?.name} — ${incident.sensor?.name} `,
                statusChip(incident.status),
              ),
            ),
          )
        : detections.length
          ? el("span", {}, " ", el("a", { href: `/history/?sensor=${this.sensor.id}` }, "See this sensor's incidents"))
          : null,
    ];
    this.detail.replaceChildren(`${found}${duration}.`, ...outcome.filter(Boolean));
  }
}

async function uploadAll(files) {
  const option = sensorSelect.selectedOptions[0];
  const sensor = { id: sensorSelect.value, label: option?.textContent.trim() || "" };
  section.hidden = false;
  const items = files.map((file) => new UploadItem(file, sensor));
  list.prepend(...items.map((item) => item.node));
  const follows = [];
  // One upload at a time keeps each progress bar meaningful; analyses run in parallel server-side.
  for (const item of items) {
    try {
      const recording = await item.send();
      follows.push(item.follow(recording));
    } catch (error) {
      item.setState("failed", "Refused");
      item.progress.value = 0;
      item.detail.replaceChildren(el("span.error", {}, error.message));
    }
  }
  await Promise.all(follows);
}

if (form) {
  fileInput.addEventListener("change", describePicked);
  for (const type of ["dragenter", "dragover"]) {
    dropzone.addEventListener(type, () => dropzone.classList.add("dragging"));
  }
  for (const type of ["dragleave", "drop"]) {
    dropzone.addEventListener(type, () => dropzone.classList.remove("dragging"));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...fileInput.files];
    if (!files.length) return;
    startButton.disabled = true;
    fileInput.value = "";
    describePicked();
    await uploadAll(files);
    toast(`${files.length} upload${files.length > 1 ? "s" : ""} finished.`, "ok");
  });
  describePicked();
}
