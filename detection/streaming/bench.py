"""Live-stream benchmark: onset-to-alert latency, and how many real-time sensors one machine sustains.

    python -m detection.streaming.bench [--trials 10] [--steps 10,20,30,50,70,100,130] [--step-s 6]

Writes ``bench-results/streaming.json`` and prints a summary. Everything runs against a real server
(daphne, in a child process, embedded mode; production mode too when ``DATABASE_URL`` and
``REDIS_URL`` are set, with a separate Celery worker) on a fresh database:

- **Onset to alert**: a simulated sensor streams background in 100-ms frames at real-time pace,
  then a scream; the time from sending the frame holding the scream's onset to the
  ``incident.changed`` message on an operator's console websocket. Each trial uses its own sensor
  (a new incident, not one joined within the cooldown). This needs the shipped model: without it
  the trials use the tiny test model on loud noise bursts and are marked ``pipeline_only`` (the
  windowing, storage, signal and broadcast path is the same; the model's own cost is not).
- **Capacity**: 10, 20, 30, 50, 70... simulated sensors stream background at real-time pace for
  ``--step-s`` seconds each; per step the windows the server dropped, the scoring backlog at the
  end, and the server's CPU. A step is sustained when nothing was dropped and every sensor's backlog
  is at most two windows (one second). Capacity sensors have a 0.9999 threshold: with a random
  model they would otherwise "detect" constantly; scoring cost does not depend on the threshold.
  The model is the shipped one, else a random-weight fp32 ResNet34 (needs torch; int8 is faster),
  else the tiny test model (then capacity measures everything but the network).
"""

import argparse
import asyncio
import functools
import http.cookiejar
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
FRAME_S = 0.1
WINDOW_DUE_SAMPLES = 16_000 + 512  # a window is scored once its feature's right context arrived
HOP_SAMPLES = 8_000
REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "bench-results" / "streaming.json"
DEV_DATASET = Path(os.environ.get("OUTCRY_DEV_DATASET", str(REPO_ROOT.parent / "shared" / "datasets" / "scream-dev")))
PASSWORD = "bench-password-not-secret"

_SEED = """
import json, django
django.setup()
from outcry.models import User
from sites.models import Role
from sites.services import membership_create, sensor_create, site_create
site = site_create(name="Bench site {tag}", slug="bench-{tag}")
user = User.objects.create_user("bench-{tag}", "bench@example.org", {password!r})
membership_create(user=user, site=site, role=Role.OPERATOR)
def make(prefix, count, **fields):
    return [sensor_create(site=site, name=f"{{prefix}} {{n:03d}}", **fields)[1] for n in range(count)]
latency = make("Latency", {latency})
capacity = make("Capacity", {capacity}, threshold_override=0.9999)
print(json.dumps({{"username": user.username, "latency": latency, "capacity": capacity}}))
"""


def _say(message: str) -> None:
    print(f"[streaming bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- audio ----------------------------------------------------------------------------------------------


def _noise(seconds: float, dbfs: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * SAMPLE_RATE)) * 10 ** (dbfs / 20)).astype(np.float32)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) + 1e-9


@functools.cache
def _dev_screams(model_path: str, count: int = 5) -> tuple[tuple[np.ndarray, str], ...]:
    """The ``count`` dev-corpus screams (1-6 s) the model scores highest as files, best first.

    Onset-to-alert measures the live path, not the model's recall: screams the model misses as a
    file would only measure its misses.
    """
    from detection.audio import AudioError, decode_audio
    from detection.engine import DetectorEngine

    folder = DEV_DATASET / "scream"
    if not folder.is_dir():
        return ()
    engine = DetectorEngine(model_path)
    scored = []
    for path in sorted(folder.iterdir())[:60]:
        try:
            samples = decode_audio(path).samples
        except AudioError:
            continue
        if 1.0 <= len(samples) / SAMPLE_RATE <= 6.0:
            scored.append((engine.analyze(samples).max_score, samples, path.name))
    scored.sort(key=lambda item: -item[0])
    return tuple((samples, name) for score, samples, name in scored[:count] if score >= engine.threshold)


def _onset(samples: np.ndarray) -> int:
    """The first 10-ms frame louder than a tenth of the loudest one: where the scream starts."""
    frame = SAMPLE_RATE // 100
    energies = np.array([_rms(samples[i : i + frame]) for i in range(0, len(samples) - frame, frame)])
    return int(np.argmax(energies >= 0.1 * energies.max())) * frame


@dataclass
class TrialAudio:
    samples: np.ndarray
    onset: int  # sample index of the scream's onset
    description: str


def trial_audio(*, model_path: str | None, seed: int) -> TrialAudio:
    """4 s of room background, the scream (15 dB above it), 3 s more background.

    For the tiny model the "room" is near-silence (-90 dBFS) and the "scream" loud noise: any
    louder background is normalised up into what it calls a scream.
    """
    screams = _dev_screams(model_path) if model_path else ()
    if not screams:
        bed_before, bed_after = _noise(4.0, -90, seed), _noise(3.0, -90, seed + 1)
        burst = _noise(2.0, -15, seed + 2)
        return TrialAudio(np.concatenate([bed_before, burst, bed_after]), len(bed_before), "noise burst (-15 dBFS)")
    bed_before, bed_after = _noise(4.0, -40, seed), _noise(3.0, -40, seed + 1)
    voice, name = screams[seed % len(screams)]
    voice = voice / _rms(voice) * 10 ** ((-40 + 15) / 20)
    voice = voice + _noise(len(voice) / SAMPLE_RATE, -40, seed + 3)
    samples = np.clip(np.concatenate([bed_before, voice, bed_after]), -1, 1).astype(np.float32)
    return TrialAudio(samples, len(bed_before) + _onset(voice), f"dev screams ({name}, ...) +15 dB over -40 dBFS noise")


def _frames(samples: np.ndarray) -> list[bytes]:
    step = round(SAMPLE_RATE * FRAME_S)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    return [pcm[i : i + step].tobytes() for i in range(0, len(pcm), step)]


# --- models ---------------------------------------------------------------------------------------------


def choose_models(workdir: Path) -> dict:
    """{"latency": (path, label, pipeline_only), "capacity": (path, label)}."""
    from django.conf import settings

    shipped = Path(settings.DETECTION_MODEL_PATH)
    if shipped.is_file():
        return {"latency": (shipped, "shipped", False), "capacity": (shipped, "shipped")}
    from detection.tests.conftest import build_tiny_model

    tiny = build_tiny_model(workdir / "tiny.onnx")
    capacity: tuple[Path, str] = (tiny, "tiny test model (no network: an upper bound)")
    try:
        import torch  # noqa: F401
        import torchvision  # noqa: F401

        from detection.bench import export_random_resnet34

        _say("no shipped model: exporting a random-weight ResNet34 (fp32) for the capacity ramp")
        capacity = (export_random_resnet34(workdir / "resnet34-random.onnx"), "random-weight ResNet34, fp32")
    except Exception as exc:  # torch missing or the export failed: capacity without the network
        _say(f"no ResNet34 for the capacity ramp ({exc}); using the tiny model")
    return {"latency": (tiny, "tiny test model on noise bursts", True), "capacity": capacity}


# --- the server -----------------------------------------------------------------------------------------


@dataclass
class Server:
    port: int
    pid: int
    env: dict
    keys: dict = field(default_factory=dict)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(workdir: Path, *, model: Path, mode: str, production: dict, latency_sensors: int, capacity_sensors: int):
    from outcry.tests.django_subprocess import clean_environment, run_manage, run_python, strong_secret_key
    from outcry.tests.wiring_processes import _answers_healthz, celery_worker, free_port, running

    var = workdir / f"var-{mode}"
    var.mkdir(parents=True, exist_ok=True)
    overrides = {"OUTCRY_VAR_DIR": str(var), "DETECTION_MODEL_PATH": str(model), "LOG_LEVEL": "WARNING"}
    if mode == "production":
        overrides |= {
            "DATABASE_URL": production["DATABASE_URL"],
            "REDIS_URL": production["REDIS_URL"],
            "DJANGO_SECRET_KEY": strong_secret_key(),
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_HSTS_SECONDS": "0",
            "DJANGO_DEBUG": "true",  # the login page's static files without collectstatic
        }
    env = clean_environment(**overrides)
    migrated = run_manage("migrate", "--noinput", env=env, timeout=300)
    if migrated.returncode != 0:
        raise RuntimeError(f"migrate failed: {migrated.stderr[-2000:]}")
    seed = _SEED.format(tag=secrets.token_hex(4), password=PASSWORD, latency=latency_sensors, capacity=capacity_sensors)
    seeded = run_python(seed, env)
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding failed: {seeded.stderr[-2000:]}")
    keys = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "outcry.asgi:application"]
    with ExitStack() as stack:
        if mode == "production":
            stack.enter_context(celery_worker(env=env, log_path=workdir / "worker.log", node_name="bench"))
        process = stack.enter_context(
            running(
                command,
                env=env,
                log_path=workdir / f"daphne-{mode}.log",
                is_ready=lambda: _answers_healthz(port),
                name="daphne",
            )
        )
        yield Server(port=port, pid=process.pid, env=env, keys=keys)


def session_cookie(server: Server) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server.http}/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    credentials = {"username": server.keys["username"], "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    body = urllib.parse.urlencode(credentials)
    request = urllib.request.Request(f"{server.http}/login/", data=body.encode(), headers={"Referer": server.http})
    opener.open(request, timeout=30).read()
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


# --- the simulated sensors --------------------------------------------------------------------------------


def _connect(server: Server, path: str, **options):
    import websockets

    return websockets.connect(
        f"{server.ws}{path}", origin=server.http, compression=None, open_timeout=30, max_size=2**20, **options
    )


class SimulatedSensor:
    """Streams audio in 100-ms frames at real-time pace; keeps the server's latest status."""

    def __init__(self, server: Server, key: str):
        self.server = server
        self.key = key
        self.status: dict = {}
        self.sent_samples = 0
        self.sensor_id: int | None = None
        self.onset_sent_at: float | None = None

    async def stream(self, audio: np.ndarray, *, onset: int | None = None, start_at: float | None = None) -> None:
        async with _connect(self.server, "/ws/sensors/stream/") as connection:
            hello = {"type": "hello", "key": self.key, "sample_rate": SAMPLE_RATE, "format": "pcm_s16le"}
            await connection.send(json.dumps(hello | {"channels": 1, "agent": "outcry-bench/1"}))
            ready = json.loads(await connection.recv())
            if ready.get("type") != "ready":  # a refusal: {"type": "error", "code", "reason"}
                raise RuntimeError(f"the server refused the bench's stream: {ready}")
            self.sensor_id = ready["sensor"]["id"]
            receiver = asyncio.create_task(self._receive(connection))
            started = start_at or time.monotonic()
            step = round(SAMPLE_RATE * FRAME_S)
            for number, frame in enumerate(_frames(audio)):
                await asyncio.sleep(max(0.0, started + number * FRAME_S - time.monotonic()))
                await connection.send(frame)
                if onset is not None and self.onset_sent_at is None and number * step <= onset < (number + 1) * step:
                    self.onset_sent_at = time.monotonic()
                self.sent_samples += len(frame) // 2
            await asyncio.sleep(1.5)  # the last windows' scores and one more status
            receiver.cancel()

    async def _receive(self, connection) -> None:
        async for text in connection:
            message = json.loads(text)
            if message.get("type") == "status":
                self.status = message

    @property
    def windows_due(self) -> int:
        return (
            0 if self.sent_samples < WINDOW_DUE_SAMPLES else 1 + (self.sent_samples - WINDOW_DUE_SAMPLES) // HOP_SAMPLES
        )


async def latency_trials(server: Server, *, trials: int, scream_model: str | None, concurrency: int = 3) -> dict:
    cookie = session_cookie(server)
    alerts: dict[int, float] = {}
    audio_description = ""
    async with _connect(server, "/ws/console/", additional_headers={"Cookie": cookie}) as console:
        console_closed: list[str] = []

        async def listen() -> None:
            try:
                async for text in console:
                    message = json.loads(text)
                    if message.get("type") == "incident.changed":
                        alerts.setdefault(message["incident"]["sensor"]["id"], time.monotonic())
            except Exception as exc:  # the console's connection died: later alerts cannot arrive
                console_closed.append(repr(exc))
            else:
                console_closed.append("closed by the server")

        listener = asyncio.create_task(listen())
        sensors = [SimulatedSensor(server, key) for key in server.keys["latency"][:trials]]
        for first in range(0, len(sensors), concurrency):
            batch = sensors[first : first + concurrency]
            audios = [trial_audio(model_path=scream_model, seed=first + n) for n in range(len(batch))]
            audio_description = audios[0].description
            start = time.monotonic() + 0.2
            await asyncio.gather(
                *(
                    sensor.stream(audio.samples, onset=audio.onset, start_at=start + 0.05 * n)
                    for n, (sensor, audio) in enumerate(zip(batch, audios, strict=True))
                )
            )
            await asyncio.sleep(1.0)
            _say(f"latency trials {first + len(batch)}/{len(sensors)}")
        deadline = time.monotonic() + 5.0  # late alerts still count (as long ones)
        while time.monotonic() < deadline and any(sensor.sensor_id not in alerts for sensor in sensors):
            await asyncio.sleep(0.1)
        listener.cancel()
    latencies = sorted(
        alerts[sensor.sensor_id] - sensor.onset_sent_at
        for sensor in sensors
        if sensor.sensor_id in alerts and sensor.onset_sent_at is not None
    )
    return {
        "trials": len(sensors),
        "alerted": len(latencies),
        "audio": audio_description,
        "p50_s": _percentile(latencies, 50),
        "p95_s": _percentile(latencies, 95),
        "max_s": round(max(latencies), 3) if latencies else None,
        "latencies_s": [round(value, 3) for value in latencies],
        "console_connection_lost": console_closed[:1] or None,
    }


def _percentile(values: list[float], percent: float) -> float | None:
    return round(float(np.percentile(values, percent)), 3) if values else None


async def capacity_step(server: Server, count: int, *, seconds: float) -> dict:
    keys = server.keys["capacity"][:count]
    sensors = [SimulatedSensor(server, key) for key in keys]
    audio = _noise(seconds, -40, count)
    cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
    start = time.monotonic() + 0.5
    results = await asyncio.gather(
        *(sensor.stream(audio, start_at=start + (n % 10) * 0.01) for n, sensor in enumerate(sensors)),
        return_exceptions=True,
    )
    cpu_seconds = server.cpu_seconds() - cpu_before
    cpu = cpu_seconds / (time.monotonic() - wall_before)
    failures = [repr(result) for result in results if isinstance(result, BaseException)]
    dropped = sum(sensor.status.get("dropped_windows", 0) for sensor in sensors)
    scored = sum(sensor.status.get("windows_scored", 0) for sensor in sensors)
    elapsed = time.monotonic() - wall_before
    backlog = [sensor.windows_due - sensor.status.get("windows_scored", 0) for sensor in sensors if sensor.status]
    sustained = not failures and dropped == 0 and len(backlog) == count and max(backlog, default=0) <= 2
    return {
        "sensors": count,
        "seconds": seconds,
        "sustained": sustained,
        "dropped_windows": dropped,
        "max_backlog_windows": max(backlog, default=None),
        "mean_backlog_windows": round(float(np.mean(backlog)), 2) if backlog else None,
        "server_cpu_cores": round(cpu, 2),
        # Server CPU per scored window, everything included (network, resampling, features, model,
        # heartbeats): on a shared machine the server may get less CPU than it needs, so this is the
        # figure to extrapolate from: an idle machine with N cores sustains about
        # N / (2 windows/s x cpu_s_per_window) sensors.
        "server_cpu_ms_per_window": round(1000 * cpu_seconds / scored, 2) if scored else None,
        "estimated_sensors_on_idle_cores": (
            int((os.cpu_count() or 1) / (2 * cpu_seconds / scored)) if scored and cpu_seconds else None
        ),
        "elapsed_s": round(elapsed, 1),
        "connection_failures": failures[:3],
    }


async def run_mode(server: Server, *, trials: int, scream_model: str | None, steps: list[int], step_s: float) -> dict:
    result: dict = {}
    if trials:
        _say(f"onset-to-alert: {trials} trials")
        result["onset_to_alert"] = await latency_trials(server, trials=trials, scream_model=scream_model)
    ramp = []
    for count in steps:
        _say(f"capacity: {count} sensors for {step_s:g} s")
        row = await capacity_step(server, count, seconds=step_s)
        _say(f"  sustained={row['sustained']} dropped={row['dropped_windows']} backlog={row['max_backlog_windows']}")
        ramp.append(row)
        if not row["sustained"]:
            break
        await asyncio.sleep(2.0)
    sustained = [row["sensors"] for row in ramp if row["sustained"]]
    result["capacity"] = {"ramp": ramp, "max_sustained_sensors": max(sustained, default=0)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--steps", default="10,20,30,50,70,100,130")
    parser.add_argument("--step-s", type=float, default=6.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs and data (path on stderr)")
    parser.add_argument("--modes", default="", help="embedded,production (default: production too when configured)")
    args = parser.parse_args(argv)
    # The servers get the production configuration; this process only reads settings (the model's
    # path), so it sets Django up in embedded mode whatever the environment says.
    production = {name: os.environ.pop(name, "") for name in ("DATABASE_URL", "REDIS_URL")}
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outcry.settings")
    import django

    django.setup()
    steps = [int(step) for step in args.steps.split(",") if step]
    began = time.monotonic()
    document: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
        "targets": {"onset_to_alert_p95_s": 1.5, "sensors_in_real_time": 50},
        "parameters": {"trials": args.trials, "steps": steps, "step_s": args.step_s, "frame_s": FRAME_S},
        "modes": {},
    }
    configured = bool(production["DATABASE_URL"] and production["REDIS_URL"])
    modes = args.modes.split(",") if args.modes else ["embedded"] + (["production"] if configured else [])
    with ExitStack() as cleanup:
        workdir = tempfile.mkdtemp(prefix="outcry-stream-bench-")
        if args.keep:
            _say(f"keeping logs and data in {workdir}")
        else:
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        models = choose_models(Path(workdir))
        latency_model, latency_label, pipeline_only = models["latency"]
        capacity_model, capacity_label = models["capacity"]
        document["models"] = {"onset_to_alert": latency_label, "capacity": capacity_label}
        document["pipeline_only"] = pipeline_only
        for mode in modes:
            _say(f"== {mode} mode")
            mode_result: dict = {}
            same_model = latency_model == capacity_model
            with serve(
                Path(workdir),
                model=latency_model,
                mode=mode,
                production=production,
                latency_sensors=args.trials,
                capacity_sensors=max(steps) if same_model else 0,
            ) as server:
                mode_result = asyncio.run(
                    run_mode(
                        server,
                        trials=args.trials,
                        scream_model=None if pipeline_only else str(latency_model),
                        steps=steps if same_model else [],
                        step_s=args.step_s,
                    )
                )
            if not same_model:
                with serve(
                    Path(workdir),
                    model=capacity_model,
                    mode=mode,
                    production=production,
                    latency_sensors=0,
                    capacity_sensors=max(steps),
                ) as server:
                    mode_result["capacity"] = asyncio.run(
                        run_mode(server, trials=0, scream_model=None, steps=steps, step_s=args.step_s)
                    )["capacity"]
            document["modes"][mode] = mode_result
    if "production" not in modes:
        document["modes"]["production"] = {"skipped": "set DATABASE_URL and REDIS_URL to measure production mode"}
    document["note"] = (
        "Measured on a shared 2-core VM (see load_average: other jobs compete for the cores); "
        "server_cpu_ms_per_window and estimated_sensors_on_idle_cores say what an idle machine would sustain."
    )
    document["elapsed_s"] = round(time.monotonic() - began, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
