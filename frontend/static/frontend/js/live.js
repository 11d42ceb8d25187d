// The console websocket: connects, keeps alive, reconnects with backoff, and shows its state.

const PING_INTERVAL_MS = 25000;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
const UNAUTHENTICATED = 4401; // close code of /ws/console/ for a visitor without a session
const ACCESS_CHANGED = 4409; // the user's sites or roles changed: reconnect at once for the new set

/**
 * new LiveConnection({onMessage, onReconnect, onState}).start()
 * onReconnect runs after every successful connection but the first: the page refetches whatever it
 * shows, because messages sent while it was disconnected are lost.
 */
export class LiveConnection {
  constructor({ onMessage, onReconnect, onState, indicator = document.getElementById("conn") }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.onReconnect = onReconnect;
    this.indicator = indicator;
    this.attempt = 0;
    this.connectedOnce = false;
    this.socket = null;
    this.pingTimer = null;
    this.retryTimer = null;
    this.countdownTimer = null;
    this.sites = [];
  }

  start() {
    this.connect();
    window.addEventListener("online", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.isOpen()) this.retryNow();
    });
    this.indicator?.addEventListener("click", () => this.retryNow());
    return this;
  }

  isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  retryNow() {
    if (this.isOpen() || this.socket?.readyState === WebSocket.CONNECTING) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    clearInterval(this.countdownTimer);
    this.show("connecting", this.connectedOnce ? "Reconnecting…" : "Connecting…");
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/console/`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const wasReconnect = this.connectedOnce;
      this.attempt = 0;
      this.connectedOnce = true;
      this.show("live", "Live");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
      if (wasReconnect) this.onReconnect?.();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "hello") this.sites = message.sites || [];
      this.onMessage?.(message);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket) return;
      if (event.code === UNAUTHENTICATED) {
        // Signed out (here or elsewhere) or the session expired: sign in again, then come back.
        window.location.assign(`/login/?next=${encodeURIComponent(window.location.pathname)}`);
        return;
      }
      if (event.code === ACCESS_CHANGED) {
        this.connect(); // onReconnect then refetches what the page shows, under the new access
        return;
      }
      this.scheduleRetry();
    });
  }

  send(message) {
    if (this.isOpen()) this.socket.send(JSON.stringify(message));
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    const label = "Offline";
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      this.show(this.attempt > 2 ? "offline" : "reconnecting", `${label} · retry in ${seconds}s`);
    };
    tick();
    clearInterval(this.countdownTimer);
    this.countdownTimer = setInterval(tick, 1000);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  show(state, label) {
    this.onState?.(state, this.connectedOnce);
    if (!this.indicator) return;
    const changed = this.indicator.dataset.state !== state;
    this.indicator.dataset.state = state;
    this.indicator.querySelector(".conn-label").textContent = label;
    this.indicator.title =
      state === "live" ? "Live updates connected" : "Live updates disconnected: press to retry now";
    // Screen readers hear the state when it changes, not the countdown every second.
    const announcer = document.getElementById("conn-announce");
    if (changed && announcer) {
      announcer.textContent =
        state === "live" ? "Live updates connected." : state === "connecting" ? "" : "Live updates disconnected.";
    }
  }
}
