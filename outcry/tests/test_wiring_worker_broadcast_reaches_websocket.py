"""Production wiring, end to end: a task dispatched with OUTCRY_TASK_RUNNER=celery goes through the
Redis broker to a real ``celery worker`` process, which broadcasts on the channels-redis layer to a
websocket client of the ASGI application served by a real daphne process.
"""

import json
import os
import uuid

import pytest
from websockets.sync.client import connect

from outcry import tasking
from outcry.celery import app as celery_app
from outcry.tasks import broadcast_ping
from outcry.tests.wiring_processes import celery_worker, daphne

pytestmark = [pytest.mark.services, pytest.mark.slow]

RECEIVE_TIMEOUT_S = 30


@pytest.fixture
def production_env(settings):
    settings.OUTCRY_TASK_RUNNER = "celery"
    return {**os.environ, "OUTCRY_TASK_RUNNER": "celery"}


@pytest.fixture
def worker(production_env, tmp_path):
    celery_app.control.purge()  # leftovers of earlier runs on this broker database
    log_path = tmp_path / "worker.log"
    with celery_worker(env=production_env, log_path=log_path, node_name=f"wiring-{uuid.uuid4().hex[:8]}"):
        yield log_path


@pytest.fixture
def server_port(production_env, tmp_path):
    with daphne("outcry.tests.wiring_asgi:application", env=production_env, log_path=tmp_path / "daphne.log") as port:
        yield port


def test_worker_broadcast_reaches_a_websocket_client(worker, server_port):
    group = f"wiring-{uuid.uuid4().hex}"
    url = f"ws://127.0.0.1:{server_port}/ws/wiring-probe/{group}/"

    with connect(url, open_timeout=10) as websocket:
        assert json.loads(websocket.recv(timeout=10)) == {"joined": group, "server_loop_registered": True}

        # Dispatched by the web process, as an upload view does.
        websocket.send('{"from": "web process"}')
        assert websocket.recv(timeout=RECEIVE_TIMEOUT_S) == '{"received": {"from": "web process"}}'

        # Dispatched from here, through the same helper and runner.
        tasking.dispatch(broadcast_ping, group, {"from": "test process"})
        assert websocket.recv(timeout=RECEIVE_TIMEOUT_S) == '{"received": {"from": "test process"}}'

    worker_log = worker.read_text()
    assert worker_log.count("Task outcry.tasks.broadcast_ping[") >= 2 * 2  # received + succeeded, twice
    assert worker_log.count("succeeded") >= 2
