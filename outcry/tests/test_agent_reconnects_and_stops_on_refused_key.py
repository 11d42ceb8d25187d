"""The edge agent against a scripted protocol server: it resends after a dropped connection with
the audio it buffered meanwhile, and stops for good (exit 3, clear message) when the key is refused."""

import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile
from websockets.asyncio.server import serve

from outcry import agent
from outcry.tests.django_subprocess import REPO_ROOT


def _wav(path, seconds: float) -> str:
    soundfile.write(str(path), np.zeros(round(seconds * 16000), np.float32), 16000, subtype="PCM_16")
    return str(path)


class ScriptedServer:
    """Answers hellos with ready; closes the first ``drop_first`` connections after a few frames.

    ``refuse_with`` (code, reason) refuses every hello, or only the first ``refuse_first`` when given.
    """

    def __init__(self, *, refuse_with: tuple[int, str] | None = None, refuse_first: int = 0, drop_first: int = 0):
        self.refuse_with = refuse_with
        self.refuse_first = refuse_first
        self.drop_first = drop_first
        self.connections = 0
        self.hellos: list[dict] = []
        self.received_bytes = 0

    async def handler(self, connection) -> None:
        self.connections += 1
        hello = json.loads(await connection.recv())
        self.hellos.append(hello)
        if self.refuse_with and (not self.refuse_first or self.connections <= self.refuse_first):
            await connection.close(*self.refuse_with)
            return
        await connection.send(json.dumps({"type": "ready", "sensor": {"id": 1, "name": "Test mic", "site": 1}}))
        frames = 0
        async for frame in connection:
            self.received_bytes += len(frame)
            frames += 1
            if frames == 3:
                await connection.send(json.dumps({"type": "status", "level_dbfs": -40.0, "scores": [0.1, 0.7]}))
            if self.connections <= self.drop_first and frames == 5:
                await connection.close(1011, "server restarting")
                return


async def _serve(server: ScriptedServer):
    return await serve(server.handler, "127.0.0.1", 0)


@pytest.mark.asyncio
async def test_agent_reconnects_and_delivers_what_it_buffered(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(agent, "BACKOFF_FIRST_S", 0.3)
    scripted = ScriptedServer(drop_first=1)
    async with await _serve(scripted) as server:
        port = server.sockets[0].getsockname()[1]
        args = agent.parse_args(
            ["--server", f"ws://127.0.0.1:{port}", "--key", "osk_a_b", "--file", _wav(tmp_path / "a.wav", 2.0)]
        )
        assert await asyncio.wait_for(agent.run_agent(args), timeout=20) == agent.EXIT_OK
    assert scripted.connections == 2
    assert scripted.hellos[0] == {
        "type": "hello",
        "key": "osk_a_b",
        "sample_rate": 16000,
        "format": "pcm_s16le",
        "channels": 1,
        "agent": agent.AGENT,
    }
    assert scripted.received_bytes == 2.0 * 16000 * 2  # nothing lost across the reconnect
    output = capsys.readouterr().out
    assert "connection closed (1011: server restarting)" in output
    assert "reconnecting in" in output
    assert "level  -40.0 dBFS | scream 0.70" in output


@pytest.mark.asyncio
async def test_agent_keeps_retrying_while_the_site_is_paused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(agent, "BACKOFF_FIRST_S", 0.2)
    paused = "the site 'Gym' is paused; it takes no audio until it is active again"
    scripted = ScriptedServer(refuse_with=(4403, paused), refuse_first=2)
    async with await _serve(scripted) as server:
        port = server.sockets[0].getsockname()[1]
        args = agent.parse_args(
            ["--server", f"ws://127.0.0.1:{port}", "--key", "osk_a_b", "--file", _wav(tmp_path / "a.wav", 1.0)]
        )
        assert await asyncio.wait_for(agent.run_agent(args), timeout=20) == agent.EXIT_OK
    assert scripted.connections == 3  # refused twice, then the site was active again
    assert scripted.received_bytes == 1.0 * 16000 * 2
    assert f"connection closed (4403: {paused})" in capsys.readouterr().out


def test_buffer_keeps_the_newest_audio_while_offline():
    buffer = agent.FrameBuffer(max_s=1.0, bytes_per_second=3200)
    for number in range(15):
        buffer.push(bytes([number]) * 320)  # 0.1 s frames
    assert buffer.size == 3200 and buffer.dropped_bytes == 5 * 320
    assert buffer.pop() == bytes([5]) * 320


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ws://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/sensors/stream/"),
        ("https://outcry.example.org/", "wss://outcry.example.org/ws/sensors/stream/"),
        ("wss://outcry.example.org/custom/path/", "wss://outcry.example.org/custom/path/"),
        ("localhost:8000", "ws://localhost:8000/ws/sensors/stream/"),
    ],
)
def test_server_addresses_become_the_stream_url(given, expected):
    assert agent.stream_url(given) == expected


@pytest.mark.asyncio
async def test_refused_key_exits_3_with_a_clear_message(tmp_path):
    scripted = ScriptedServer(refuse_with=(4401, "invalid, revoked or disabled sensor key"))
    async with await _serve(scripted) as server:
        port = server.sockets[0].getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "outcry.agent",
            "--server",
            f"ws://127.0.0.1:{port}",
            "--file",
            _wav(tmp_path / "a.wav", 1.0),
            cwd=REPO_ROOT,
            env={"OUTCRY_SENSOR_KEY": "osk_revoked_key", "PATH": "/usr/bin:/bin"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 3
    assert agent.KEY_REFUSED_MESSAGE in stderr.decode()
    assert scripted.connections == 1  # no retry with a refused key
    assert scripted.hellos[0]["key"] == "osk_revoked_key"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--server", "ws://localhost:8000", "--mic"], "OUTCRY_SENSOR_KEY"),
        (["--server", "ws://localhost:8000", "--key", "osk_1_x", "--mic", "--loop"], "--loop goes with --file"),
        (["--key", "osk_1_x", "--mic"], "the following arguments are required: --server"),
    ],
)
def test_bad_arguments_exit_1_not_2_which_means_a_refused_stream(monkeypatch, capsys, argv, message):
    monkeypatch.delenv(agent.KEY_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        agent.parse_args(argv)
    assert exit_info.value.code == agent.EXIT_USAGE == 1
    assert message in capsys.readouterr().err
