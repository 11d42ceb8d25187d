// The browser microphone as a sensor: capture (AudioWorklet, 16 kHz PCM), stream it over
// /ws/sensors/stream/ with a short-lived token from the API, show level, scores and alerts.
// Protocol: /api/v1/streaming/protocol/.

import { api, ApiError, el, toast } from "./common.js";
import { LiveConnection } from "./live.js";

const TARGET_RATE = 16000;
const FRAME_MS = 100;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const MAX_BUFFERED_FRAMES = 50; // 5 s kept while reconnecting; older audio is dropped
const FINAL_CLOSES = {
  4401: "The server refused this stream (the sensor's key was revoked or rotated, the sensor disabled, or you no longer manage its site).",
  4409: "Another connection took over this sensor (another tab or device is streaming as it).",
  4400: "The server refused the audio format.",
  4413: "The server refused an oversized frame.",
};

const root = document.querySelector(".microphone");
const form = document.getElementById("mic-form");
const sensorSelect = document.getElementById("mic-sensor");
const startButton = document.getElementById("mic-start");
const stopButton = document.getElementById("mic-stop");
const stateLabel = document.getElementById("mic-state");
const meter = document.getElementById("mic-meter");
const meterFill = document.getElementById("mic-meter-fill");
const levelText = document.getElementById("mic-level");
const scoreText = document.getElementById("mic-score");
const canvas = document.getElementById("mic-scores");
const detail = document.getElementById("mic-detail");
const alertsList = document.getElementById("mic-alerts");
const alertsEmpty = document.getElementById("mic-alerts-empty");

const preferred = sensorSelect.querySelector("option[data-preferred]");
if (preferred) sensorSelect.value = preferred.value;

function showState(state, text) {
  stateLabel.dataset.state = state;
  stateLabel.textContent = text;
}

function showLevel(dbfs) {
  const clamped = Math.max(-90, Math.min(0, dbfs));
  meterFill.style.width = `${((clamped + 90) / 90) * 100}%`;
  meter.setAttribute("aria-valuenow", clamped.toFixed(0));
  levelText.textContent = `${dbfs <= -90 ? "≤ -90" : dbfs.toFixed(1)} dBFS`;
}

function drawScores(scores, threshold) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const style = getComputedStyle(document.documentElement);
  context.clearRect(0, 0, width, height);
  const barWidth = width / Math.max(scores.length, 20);
  scores.forEach((score, index) => {
    context.fillStyle = score >= threshold ? style.getPropertyValue("--critical") : style.getPropertyValue("--accent");
    const barHeight = Math.max(1, score * height);
    context.fillRect(index * barWidth + 1, height - barHeight, barWidth - 2, barHeight);
  });
  context.strokeStyle = style.getPropertyValue("--text-faint");
  context.setLineDash([4, 4]);
  context.beginPath();
  context.moveTo(0, height - threshold * height);
  context.lineTo(width, height - threshold * height);
  context.stroke();
}

class MicrophoneStream {
  constructor(sensorId) {
    this.sensorId = sensorId;
    this.stopped = false;
    this.attempt = 0;
    this.pending = [];
    this.socket = null;
    this.ready = false;
    this.retryTimer = null;
  }

  async start() {
    showState("connecting", "Asking for the microphone…");
    this.media = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(root.dataset.workletUrl);
    const source = this.context.createMediaStreamSource(this.media);
    // Two 2nd-order low-passes (a 4th-order filter) below the new Nyquist frequency, then downsampling.
    const lowPasses = [0, 1].map(() => new BiquadFilterNode(this.context, { type: "lowpass", frequency: 7200 }));
    this.worklet = new AudioWorkletNode(this.context, "outcry-pcm-downsampler", {
      processorOptions: { targetRate: TARGET_RATE, frameMs: FRAME_MS },
    });
    const mute = new GainNode(this.context, { gain: 0 }); // keeps the graph pulled without playing anything
    source.connect(lowPasses[0]).connect(lowPasses[1]).connect(this.worklet).connect(mute).connect(this.context.destination);
    this.worklet.port.onmessage = (event) => this.onFrame(event.data);
    await this.context.resume();
    detail.textContent = `Capturing at ${this.context.sampleRate} Hz, sending ${TARGET_RATE} Hz.`;
    await this.connect();
  }

  onFrame({ pcm, rms }) {
    showLevel(20 * Math.log10(Math.max(rms, 1e-9)));
    if (this.ready && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(pcm);
    } else {
      this.pending.push(pcm);
      if (this.pending.length > MAX_BUFFERED_FRAMES) this.pending.shift();
    }
  }

  async connect() {
    if (this.stopped) return;
    showState("connecting", this.attempt ? "Reconnecting…" : "Connecting…");
    let token;
    try {
      token = (await api(`/api/v1/sensors/${this.sensorId}/stream-token/`, { method: "POST" })).token;
    } catch (error) {
      if (error instanceof ApiError && [403, 404, 409].includes(error.status)) {
        this.fail(error.message);
        return;
      }
      this.scheduleRetry(error.message);
      return;
    }
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/sensors/stream/`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.ready = false;
    socket.addEventListener("open", () => {
      socket.send(
        JSON.stringify({
          type: "hello",
          token,
          sample_rate: TARGET_RATE,
          format: "pcm_s16le",
          channels: 1,
          agent: "outcry-browser/1",
        }),
      );
    });
    socket.addEventListener("message", (event) => this.onMessage(socket, event));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.ready = false;
      if (this.stopped) return;
      // daphne sends closes without their reason: it came just before, as an "error" message.
      const reason = event.reason || this.serverReason;
      this.serverReason = "";
      if (FINAL_CLOSES[event.code]) {
        this.fail(`${FINAL_CLOSES[event.code]}${reason ? ` (${reason})` : ""}`);
        return;
      }
      this.scheduleRetry(reason || `connection closed (${event.code})`);
    });
  }

  onMessage(socket, event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "error") {
      this.serverReason = message.reason || "";
    } else if (message.type === "ready") {
      this.ready = true;
      this.attempt = 0;
      this.threshold = message.threshold ?? 0.5;
      showState("live", `Listening as “${message.sensor.name}”`);
      for (const pcm of this.pending.splice(0)) socket.send(pcm);
    } else if (message.type === "status") {
      const scores = message.scores || [];
      drawScores(scores, this.threshold ?? 0.5);
      const latest = scores.length ? scores[scores.length - 1] : null;
      scoreText.textContent = latest === null ? "—" : `${Math.round(latest * 100)}%`;
      detail.textContent =
        `Server level ${message.level_dbfs ?? "—"} dBFS · ${message.windows_scored} windows scored` +
        (message.dropped_windows ? ` · ${message.dropped_windows} dropped (server busy)` : "");
    }
  }

  scheduleRetry(why) {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    showState("connecting", `Disconnected (${why}); retrying in ${Math.ceil(delay / 1000)} s`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  fail(why) {
    showState("error", why);
    toast(why, "error");
    stop();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.worklet?.port.postMessage("stop");
    this.media?.getTracks().forEach((track) => track.stop());
    this.context?.close();
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000, "stopped");
  }
}

let current = null;

function stop() {
  current?.stop();
  current = null;
  startButton.disabled = false;
  stopButton.disabled = true;
  sensorSelect.disabled = false;
  if (stateLabel.dataset.state !== "error") showState("idle", "Not listening");
  showLevel(-90);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (current) return;
  startButton.disabled = true;
  stopButton.disabled = false;
  sensorSelect.disabled = true;
  current = new MicrophoneStream(Number(sensorSelect.value));
  try {
    await current.start();
  } catch (error) {
    const why =
      error?.name === "NotAllowedError"
        ? "Microphone access was denied. Allow it in the browser's site settings."
        : `The microphone could not be started: ${error?.message || error}`;
    current?.fail(why);
  }
});
stopButton.addEventListener("click", stop);
window.addEventListener("pagehide", () => current?.stop());

// Alerts: the console websocket carries every incident change of the user's sites.
new LiveConnection({
  indicator: null,
  onMessage: (message) => {
    if (message.type !== "incident.changed") return;
    const incident = message.incident;
    if (incident?.sensor?.id !== Number(sensorSelect.value)) return;
    if (alertsList.querySelector(`[data-incident="${incident.id}"]`)) return;
    alertsEmpty.hidden = true;
    alertsList.prepend(
      el(
        "li.mic-alert",
        { dataset: { incident: String(incident.id) } },
        el("a", { href: `/incidents/${incident.id}/` }, `Incident #${incident.id}`),
        ` — scream probability ${Math.round((incident.peak_score || 0) * 100)}% · ${incident.status}`,
      ),
    );
  },
}).start();
showLevel(-90);
