"""Embedded wiring, end to end: with nothing configured, a real daphne process runs the task on its
thread pool, and the task's broadcast crosses from that thread to the server's event loop (the
in-memory channel layer, reached through outcry.asgi.RecordServerLoop) to every websocket client
in the group.
"""

import json
import uuid

import pytest
from websockets.sync.client import connect

from outcry.tests.django_subprocess import clean_environment
from outcry.tests.wiring_processes import daphne

pytestmark = pytest.mark.slow


@pytest.fixture
def server_port(tmp_path):
    env = clean_environment(OUTCRY_VAR_DIR=str(tmp_path / "var"))
    with daphne("outcry.tests.wiring_asgi:application", env=env, log_path=tmp_path / "daphne.log") as port:
        yield port


def test_task_thread_broadcast_reaches_every_websocket_client_in_the_group(server_port):
    group = f"wiring-{uuid.uuid4().hex}"
    url = f"ws://127.0.0.1:{server_port}/ws/wiring-probe/{group}/"

    with connect(url, open_timeout=10) as sender, connect(url, open_timeout=10) as listener:
        assert json.loads(sender.recv(timeout=10)) == {"joined": group, "server_loop_registered": True}
        assert json.loads(listener.recv(timeout=10)) == {"joined": group, "server_loop_registered": True}

        sender.send('{"n": 1}')

        assert sender.recv(timeout=10) == '{"received": {"n": 1}}'
        assert listener.recv(timeout=10) == '{"received": {"n": 1}}'
