"""A real Outcry for end-to-end checks: the console's browser test and the alert-latency benchmark.

- ``scream_clip``: a WAV of a real dev-corpus scream mixed into real dev background audio.
- ``embedded_server`` / ``production_server``: migrate a fresh database, then run a real daphne
  (and, in production mode, a separate ``celery -A outcry worker``) as subprocesses.
- ``seed_operator``: an operator at a new site with sensors, and an API token, made in the
  server's database by a child process.
- ``ApiClient``: token-authenticated JSON and multipart uploads over plain HTTP (urllib);
  ``session_cookie``: signs in through /login/ like a browser, for the console websocket.
"""

import csv
import http.cookiejar
import json
import os
import secrets
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from outcry.tests.django_subprocess import clean_environment, run_manage, run_python, strong_secret_key
from outcry.tests.wiring_processes import celery_worker, daphne

# Debian's Chromium (never a downloaded one), with the flags this closed network needs.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEV_DATASET = Path(
    os.environ.get(
        "OUTCRY_DEV_DATASET", str(Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scream-dev")
    )
)
SAMPLE_RATE = 16_000
BACKGROUND_CATEGORIES = ("ambience_street", "ambience_misc", "crowd", "engine_vehicle", "footsteps")


def shipped_model_missing() -> str | None:
    """Why the end-to-end path cannot raise incidents here (None when it can)."""
    from django.conf import settings

    path = Path(settings.DETECTION_MODEL_PATH)
    if not path.is_file():
        return f"the detection model {path} does not exist yet (train and export it first)"
    return None


def dev_screams() -> list[Path]:
    folder = DEV_DATASET / "scream"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def dev_backgrounds() -> list[Path]:
    """Ambient non-scream clips of the dev corpus (street, rooms, crowds, engines, footsteps)."""
    metadata = DEV_DATASET / "metadata.csv"
    if not metadata.is_file():
        return []
    with metadata.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("label") == "non_scream"]
    chosen = [row for row in rows if row.get("category") in BACKGROUND_CATEGORIES]
    return [DEV_DATASET / row["file"] for row in chosen if (DEV_DATASET / row["file"]).is_file()]


def _decode(path: Path) -> np.ndarray:
    from detection.audio import decode_audio

    return decode_audio(path, sample_rate=SAMPLE_RATE, allow_silent=True).samples


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) + 1e-9


def scream_clip(
    scream: Path, background: Path | None = None, *, duration_s: float = 10.0, at_s: float = 3.0, snr_db: float = 10.0
) -> bytes:
    """``duration_s`` of ``background`` (looped; quiet noise without one) with ``scream`` at ``at_s``,
    the scream ``snr_db`` louder than the background, as 16-bit 16 kHz mono WAV bytes."""
    from detection.evidence import render_clip

    total = round(duration_s * SAMPLE_RATE)
    if background is not None:
        bed = _decode(background)
        bed = np.tile(bed, int(np.ceil(total / max(len(bed), 1))))[:total]
        bed = bed / _rms(bed) * 10 ** (-30 / 20)  # a room at -30 dBFS
    else:
        bed = np.random.default_rng(0).normal(0, 10 ** (-50 / 20), total)
    voice = _decode(scream)[: total - round(at_s * SAMPLE_RATE)]
    voice = voice / _rms(voice) * _rms(bed) * 10 ** (snr_db / 20)
    start = round(at_s * SAMPLE_RATE)
    mixed = bed.astype(np.float32)
    mixed[start : start + len(voice)] += voice.astype(np.float32)
    peak = float(np.max(np.abs(mixed)))
    if peak > 0.98:
        mixed *= 0.98 / peak
    return render_clip(mixed, SAMPLE_RATE)


def most_detectable_clip(*, duration_s: float = 10.0, candidates: int = 12) -> tuple[bytes, str, float]:
    """Of ``candidates`` dev screams (spread over the corpus), each mixed at 10 dB SNR into a dev
    background, the clip the model scores highest: (WAV bytes, description, max score).
    Raises LookupError when there are no dev screams or the model finds no scream in any."""
    from detection.engine import get_engine

    engine = get_engine()
    screams, backgrounds = dev_screams(), dev_backgrounds()
    if not screams:
        raise LookupError(f"no dev screams under {DEV_DATASET}")
    best: tuple[bytes, str, float] | None = None
    for number, scream in enumerate(screams[:: max(1, len(screams) // candidates)][:candidates]):
        background = backgrounds[number % len(backgrounds)] if backgrounds else None
        clip = scream_clip(scream, background, duration_s=duration_s, at_s=3.0, snr_db=10.0)
        analysis = engine.analyze_file(clip)
        if analysis.events and (best is None or analysis.max_score > best[2]):
            best = (clip, f"{scream.name} in {background.name if background else 'noise'}", analysis.max_score)
    if best is None:
        raise LookupError("the model finds no scream in any candidate clip")
    return best


# --- Servers --------------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    env: dict[str, str]

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def _migrate(env: dict[str, str]) -> None:
    result = run_manage("migrate", "--noinput", env=env, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


@contextmanager
def embedded_server(var_dir: Path, log_dir: Path, **overrides: str) -> Iterator[Server]:
    """Embedded mode (SQLite under ``var_dir``, tasks in the server's threads) on a free port."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = clean_environment(OUTCRY_VAR_DIR=str(var_dir), **overrides)
    _migrate(env)
    with daphne("outcry.asgi:application", env=env, log_path=log_dir / "daphne.log") as port:
        yield Server(f"http://127.0.0.1:{port}", env)


def production_environment(database_url: str, redis_url: str, var_dir: Path, **overrides: str) -> dict[str, str]:
    """Production mode over plain HTTP on localhost (no TLS redirect, cookies without Secure)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    return clean_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SECRET_KEY=strong_secret_key(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        OUTCRY_VAR_DIR=str(var_dir),
        DJANGO_DEBUG="true",  # serve the console's static files without collectstatic
        **overrides,
    )


@contextmanager
def production_server(env: dict[str, str], log_dir: Path) -> Iterator[Server]:
    """daphne + a separate Celery worker on PostgreSQL and Redis, as in production."""
    _migrate(env)
    with (
        celery_worker(env=env, log_path=log_dir / "celery.log", node_name=f"bench-{uuid.uuid4().hex[:6]}"),
        daphne("outcry.asgi:application", env=env, log_path=log_dir / "daphne.log") as port,
    ):
        yield Server(f"http://127.0.0.1:{port}", env)


_SEED = """
import json, django
django.setup()
from outcry.services import api_token_create
from outcry.models import User
from sites.models import Membership, Role, Sensor, Site
tag = {tag!r}
user = User.objects.create_user(username=f"op-{{tag}}", password={password!r}, email=f"op-{{tag}}@example.org")
site = Site.objects.create(name=f"E2E site {{tag}}", slug=f"e2e-{{tag}}")
Membership.objects.create(user=user, site=site, role=Role.OPERATOR)
sensors = [
    Sensor.objects.create(site=site, name=f"Mic {{number:03d}}", location=f"Hall {{number}}, east wall")
    for number in range(1, {sensors} + 1)
]
token, secret = api_token_create(user=user, name="e2e")
print(json.dumps({{"username": user.username, "site": site.pk, "sensors": [s.pk for s in sensors], "token": secret}}))
"""


def seed_operator(server: Server, *, sensors: int = 1) -> dict:
    """{username, password, site, sensors: [ids], token} of a new operator at a new site."""
    tag = secrets.token_hex(3)
    password = secrets.token_urlsafe(12)
    result = run_python(_SEED.format(tag=tag, password=password, sensors=sensors), env=server.env, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1]) | {"password": password}


_SEED_ADMIN = """
import django
django.setup()
from outcry.services import api_token_create
from outcry.models import User
admin = User.objects.create_superuser(username="admin-{tag}", password=None, email="admin-{tag}@example.org")
print(api_token_create(user=admin, name="e2e")[1])
"""


def seed_admin_token(server: Server) -> str:
    """The API token of a new platform administrator (no password: it cannot sign in to a page)."""
    result = run_python(_SEED_ADMIN.format(tag=secrets.token_hex(3)), env=server.env, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"seeding the admin failed:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]


def promote_to_manager(server: Server, person: dict, admin: "ApiClient | None" = None) -> "ApiClient":
    """Make ``seed_operator``'s person the manager of their site (through a platform admin); the admin's client."""
    admin = admin or ApiClient(server.base_url, seed_admin_token(server))
    (membership,) = admin.get(f"/api/v1/memberships/?site={person['site']}")["results"]
    admin.patch(f"/api/v1/memberships/{membership['id']}/", {"role": "manager"})
    return admin


# --- HTTP ----------------------------------------------------------------------------------------


class ApiClient:
    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _send(self, request: urllib.request.Request, timeout: float) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{request.method} {request.full_url}: {error.code} {error.read()[:500]!r}") from None

    def get(self, path: str, timeout: float = 30) -> dict:
        return self._send(urllib.request.Request(self.base_url + path, headers=self.headers), timeout)

    def post(self, path: str, body: dict | None = None, timeout: float = 30) -> dict:
        return self._send_json("POST", path, body, timeout)

    def patch(self, path: str, body: dict, timeout: float = 30) -> dict:
        return self._send_json("PATCH", path, body, timeout)

    def _send_json(self, method: str, path: str, body: dict | None, timeout: float) -> dict:
        data = json.dumps(body or {}).encode()
        headers = {**self.headers, "Content-Type": "application/json"}
        return self._send(
            urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method), timeout
        )

    def delete(self, path: str, timeout: float = 30) -> dict:
        return self._send(urllib.request.Request(self.base_url + path, headers=self.headers, method="DELETE"), timeout)

    def upload(self, sensor_id: int, audio: bytes, filename: str = "scream.wav", timeout: float = 60) -> dict:
        """POST /api/v1/recordings/ as multipart/form-data (file + sensor): the 202 body."""
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="sensor"\r\n\r\n{sensor_id}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: audio/wav\r\n\r\n".encode(),
            audio,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        headers = {**self.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        request = urllib.request.Request(
            self.base_url + "/api/v1/recordings/", data=b"".join(parts), headers=headers, method="POST"
        )
        return self._send(request, timeout)


def sign_in(page, base_url: str, username: str, password: str, next_path: str = "/") -> None:
    """Through the login page (a Playwright page) to ``next_path``."""
    page.goto(f"{base_url}/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}")


def sign_in_to_console(page, base_url: str, username: str, password: str) -> None:
    """Signed in on the console, once its websocket is live."""
    sign_in(page, base_url, username, password)
    page.wait_for_selector("#conn[data-state=live]", timeout=20_000)


def session_cookie(base_url: str, username: str, password: str) -> str:
    """Sign in through the login page (CSRF and all); the ``Cookie`` header value for the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(f"{base_url}/login/", data=form, headers={"Referer": f"{base_url}/login/"})
    opener.open(request, timeout=30).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"signing in as {username} failed")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
