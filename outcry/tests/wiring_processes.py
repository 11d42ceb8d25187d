"""Start real server processes (daphne, celery worker) for the wiring tests, and always stop them."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from outcry.tests.django_subprocess import REPO_ROOT

START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def running(
    command: list[str], *, env: dict[str, str], log_path: Path, is_ready: Callable[[], bool], name: str
) -> Iterator[subprocess.Popen]:
    """Run ``command`` in its own process group until the block exits; wait until ``is_ready()``."""
    env = {**env, "PYTHONUNBUFFERED": "1"}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not is_ready():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{_tail(log_path)}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {START_TIMEOUT_S}s:\n{_tail(log_path)}")
                time.sleep(0.2)
            yield process
        finally:
            _stop(process)


def _answers_healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def daphne(application: str, *, env: dict[str, str], log_path: Path) -> Iterator[int]:
    """Serve ``application`` with a real daphne on a free port; yields the port."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]
    with running(command, env=env, log_path=log_path, is_ready=lambda: _answers_healthz(port), name="daphne"):
        yield port


@contextmanager
def celery_worker(*, env: dict[str, str], log_path: Path, node_name: str) -> Iterator[subprocess.Popen]:
    """A real ``celery -A outcry worker`` (solo pool) on the broker configured by ``env``."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "outcry",
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        f"{node_name}@%h",
    ]

    def is_ready() -> bool:
        return " ready." in log_path.read_text(errors="replace")

    with running(command, env=env, log_path=log_path, is_ready=is_ready, name="celery worker") as process:
        yield process
