"""Helpers for the live-stream tests: the protocol's messages, audio, a communicator, a slow engine."""

import asyncio
import json
import threading
import time

import numpy as np
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from detection.routing import websocket_urlpatterns

PATH = "/ws/sensors/stream/"


def hello(key: str | None = None, **fields) -> dict:
    message = {"type": "hello", "sample_rate": 16000, "format": "pcm_s16le", "channels": 1, "agent": "test/1"}
    if key is not None:
        message["key"] = key
    return message | fields


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def frames(samples: np.ndarray, *, sample_rate: int = 16000, frame_s: float = 0.1) -> list[bytes]:
    step = round(sample_rate * frame_s)
    return [pcm16(samples[i : i + step]) for i in range(0, len(samples), step)]


def quiet(seconds: float, *, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    return noise_at(seconds, dbfs=-90, sample_rate=sample_rate, seed=seed)


def loud(seconds: float, *, sample_rate: int = 16000, seed: int = 1) -> np.ndarray:
    return noise_at(seconds, dbfs=-15, sample_rate=sample_rate, seed=seed)


def noise_at(seconds: float, *, dbfs: float, sample_rate: int = 16000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * sample_rate)) * 10 ** (dbfs / 20)).astype(np.float32)


def open_stream() -> WebsocketCommunicator:
    return WebsocketCommunicator(URLRouter(websocket_urlpatterns), PATH)


async def send_hello(message: dict) -> WebsocketCommunicator:
    communicator = open_stream()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data=json.dumps(message))
    return communicator


async def connect_and_hello(message: dict) -> tuple[WebsocketCommunicator, dict]:
    """Connect, send ``message`` as the hello; returns the communicator and the server's first reply."""
    communicator = open_stream()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data=json.dumps(message))
    return communicator, await communicator.receive_output(timeout=10)


async def expect_close(communicator: WebsocketCommunicator, code: int, timeout: float = 5) -> str:
    """Wait for the server to close with ``code`` (skipping status messages); returns the reason,
    after checking that an ``error`` message with the same code and reason came just before it."""
    deadline = time.monotonic() + timeout
    error = None
    while True:
        output = await communicator.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        if output["type"] == "websocket.close":
            assert output.get("code") == code, output
            assert error == {"type": "error", "code": code, "reason": output.get("reason", "")}, (error, output)
            return output.get("reason", "")
        message = json.loads(output["text"])
        error = message if message["type"] == "error" else None


async def receive_json_of_type(communicator: WebsocketCommunicator, kind: str, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        output = await communicator.receive_output(timeout=max(0.01, deadline - time.monotonic()))
        assert output["type"] == "websocket.send", output
        message = json.loads(output["text"])
        if message["type"] == kind:
            return message


async def send_audio(communicator: WebsocketCommunicator, samples: np.ndarray, **options) -> None:
    for frame in frames(samples, **options):
        await communicator.send_to(bytes_data=frame)
        await asyncio.sleep(0)


class SlowEngine:
    """Wraps an engine; every scoring call takes ``delay_s`` longer (blocking its thread, like a slow CPU)."""

    def __init__(self, engine, delay_s: float):
        self.engine = engine
        self.delay_s = delay_s
        self.started = 0
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def score_windows(self, windows, **options):
        with self.lock:
            self.started += 1
        time.sleep(self.delay_s)
        with self.lock:
            self.batches.append(len(windows))
        return self.engine.score_windows(windows, **options)
