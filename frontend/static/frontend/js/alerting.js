// Getting an operator's attention: a distinct tone per priority (WebAudio, no audio files) and
// browser notifications. Browsers allow both only after a user gesture, hence the two toggles.

import { formatScore, PRIORITY_LABELS } from "./common.js";

const SOUND_KEY = "outcry.sound";

// Each priority's pattern: [frequency Hz, start s, length s, waveform]. Higher priority = higher,
// faster, longer; critical is a two-tone siren that cannot be mistaken for the others.
const PATTERNS = {
  critical: [0, 0.18, 0.36, 0.54, 0.72, 0.9].map((t, i) => [i % 2 ? 740 : 1040, t, 0.17, "sawtooth"]),
  high: [0, 0.16, 0.32].map((t) => [880, t, 0.11, "square"]),
  medium: [
    [660, 0, 0.16, "triangle"],
    [660, 0.24, 0.16, "triangle"],
  ],
  low: [
    [523, 0, 0.22, "sine"],
    [784, 0.16, 0.34, "sine"],
  ],
};
const VOLUME = { critical: 0.22, high: 0.2, medium: 0.22, low: 0.25 };

let audioContext = null;
let soundWanted = false;

function storedSoundPreference() {
  try {
    return localStorage.getItem(SOUND_KEY) === "on";
  } catch {
    return false;
  }
}

function storeSoundPreference(on) {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    /* private mode */
  }
}

function ensureAudio() {
  audioContext ??= new (window.AudioContext || window.webkitAudioContext)();
  if (audioContext.state === "suspended") audioContext.resume();
  return audioContext;
}

export function soundIsOn() {
  return soundWanted && audioContext?.state === "running";
}

export function playPriority(priority) {
  if (!soundWanted || !audioContext) return;
  const context = ensureAudio();
  const now = context.currentTime + 0.02;
  const master = context.createGain();
  master.gain.value = VOLUME[priority] ?? 0.2;
  master.connect(context.destination);
  for (const [frequency, start, length, type] of PATTERNS[priority] || PATTERNS.low) {
    const oscillator = context.createOscillator();
    const envelope = context.createGain();
    oscillator.type = type;
    oscillator.frequency.value = frequency;
    // Short attack and release: no clicks.
    envelope.gain.setValueAtTime(0, now + start);
    envelope.gain.linearRampToValueAtTime(1, now + start + 0.012);
    envelope.gain.setValueAtTime(1, now + start + length - 0.03);
    envelope.gain.linearRampToValueAtTime(0, now + start + length);
    oscillator.connect(envelope).connect(master);
    oscillator.start(now + start);
    oscillator.stop(now + start + length + 0.02);
  }
}

function renderSoundToggle(button) {
  const running = audioContext?.state === "running";
  button.setAttribute("aria-pressed", String(soundWanted && running));
  if (!soundWanted) button.textContent = "Enable sound";
  else if (running) button.textContent = "Sound on";
  else button.textContent = "Sound: click to unlock";
  button.title = soundWanted ? "Sound alerts are on: click to mute (s)" : "Play a tone per priority (s)";
}

export function toggleSound() {
  const button = document.getElementById("sound-toggle");
  soundWanted = !soundWanted;
  storeSoundPreference(soundWanted);
  if (soundWanted) {
    ensureAudio();
    audioContext.resume().then(() => {
      renderSoundToggle(button);
      playPriority("low");
    });
  }
  renderSoundToggle(button);
}

export function setupSoundToggle() {
  const button = document.getElementById("sound-toggle");
  if (!button) return;
  soundWanted = storedSoundPreference();
  if (soundWanted) {
    // The preference survives a reload, but the browser still wants one gesture to start audio.
    const unlock = () => {
      ensureAudio()
        .resume()
        .then(() => renderSoundToggle(button));
    };
    document.addEventListener("pointerdown", unlock, { once: true, capture: true });
    document.addEventListener("keydown", unlock, { once: true, capture: true });
  }
  button.addEventListener("click", toggleSound);
  renderSoundToggle(button);
}

// --- Browser notifications ---------------------------------------------------------------------

export function setupNotificationToggle() {
  const button = document.getElementById("notify-toggle");
  if (!button || !("Notification" in window)) return;
  const render = () => {
    const permission = Notification.permission;
    button.hidden = permission === "granted";
    button.disabled = permission === "denied";
    button.textContent = permission === "denied" ? "Notifications blocked" : "Enable notifications";
    button.title =
      permission === "denied"
        ? "This browser blocks Outcry's notifications: allow them in the site settings."
        : "Show a desktop notification for every new incident";
  };
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    render();
  });
  render();
}

/** A desktop notification for a new incident; clicking it brings the console forward. */
export function notifyIncident(incident, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const priority = PRIORITY_LABELS[incident.priority] || incident.priority;
  const where = [incident.sensor?.name, incident.sensor?.location].filter(Boolean).join(" — ");
  const notification = new Notification(`${priority}: scream at ${incident.site?.name || "a site"}`, {
    body: `${where}\nScore ${formatScore(incident.peak_score)} · incident #${incident.id}`,
    tag: `outcry-incident-${incident.id}`,
    requireInteraction: incident.priority === "critical",
  });
  notification.addEventListener("click", () => {
    window.focus();
    onClick?.();
    notification.close();
  });
}
