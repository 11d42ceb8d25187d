"""The wire protocol of ``/ws/sensors/stream/``: constants, close codes and the hello message.

The protocol itself is described for people in ``detection/streaming/__init__.py`` and served at
``/api/docs/streaming/``; this module is the one place the code reads it from.
"""

import json
from dataclasses import dataclass
from typing import Any

STREAM_PATH = "ws/sensors/stream/"

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 48_000
MAX_CHANNELS = 2
# Bytes per sample of each accepted format.
FORMATS = {"pcm_s16le": 2, "f32le": 4}
MAX_FRAME_S = 1.0
MAX_HELLO_BYTES = 4096

HELLO_TIMEOUT_S = 5.0
STATUS_INTERVAL_S = 1.0
KEY_RECHECK_S = 30.0
# A sensor may send faster than real time only in bursts: a token bucket refilled at
# FLOOD_RATE x real time holding FLOOD_BURST_S of audio (an agent flushing its 10-s offline buffer fits).
FLOOD_RATE = 2.0
FLOOD_BURST_S = 12.0


class CloseCode:
    """Close codes the server uses; the close reason says why in words."""

    BAD_MESSAGE = 4400  # malformed hello, unsupported rate/format/channels, bad frame
    UNAUTHORIZED = 4401  # wrong, revoked or disabled key (also when revoked while streaming)
    SITE_INACTIVE = 4403  # the sensor's site is paused or retired: it takes no audio; retry later
    HELLO_TIMEOUT = 4408  # no hello within HELLO_TIMEOUT_S
    REPLACED = 4409  # the same sensor connected again; the newer connection wins
    FRAME_TOO_BIG = 4413  # a binary frame longer than max_frame_bytes
    FLOOD = 4429  # audio arriving faster than FLOOD_RATE x real time, sustained
    UNAVAILABLE = 1011  # the server cannot score audio (no detection model)


class ProtocolError(Exception):
    """The stream must close with ``code`` and ``reason`` (a client broke the protocol, or may not stream now)."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Hello:
    sample_rate: int
    format: str
    channels: int
    agent: str
    key: str | None
    token: str | None

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one sample instant over all channels."""
        return FORMATS[self.format] * self.channels

    @property
    def max_frame_bytes(self) -> int:
        return int(self.sample_rate * MAX_FRAME_S) * self.bytes_per_frame


def parse_hello(text: str) -> Hello:
    """The hello message, validated; raises ``ProtocolError`` (4400) saying what is wrong."""
    if len(text) > MAX_HELLO_BYTES:
        raise ProtocolError(CloseCode.BAD_MESSAGE, "hello message too long")
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise ProtocolError(CloseCode.BAD_MESSAGE, "the first message must be a JSON hello") from None
    if not isinstance(message, dict) or message.get("type") != "hello":
        raise ProtocolError(CloseCode.BAD_MESSAGE, 'the first message must be {"type": "hello", ...}')
    key, token = message.get("key"), message.get("token")
    if not (isinstance(key, str) and key) and not (isinstance(token, str) and token):
        raise ProtocolError(CloseCode.UNAUTHORIZED, "hello carries no sensor key or stream token")
    sample_rate = message.get("sample_rate")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int):
        raise ProtocolError(CloseCode.BAD_MESSAGE, "sample_rate must be an integer (Hz)")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ProtocolError(
            CloseCode.BAD_MESSAGE, f"unsupported sample_rate {sample_rate}: use {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )
    audio_format = message.get("format", "pcm_s16le")
    if audio_format not in FORMATS:
        raise ProtocolError(
            CloseCode.BAD_MESSAGE, f"unsupported format {str(audio_format)[:40]!r}: use {' or '.join(FORMATS)}"
        )
    channels = message.get("channels", 1)
    if isinstance(channels, bool) or not isinstance(channels, int) or not 1 <= channels <= MAX_CHANNELS:
        raise ProtocolError(CloseCode.BAD_MESSAGE, f"channels must be 1 to {MAX_CHANNELS}")
    agent = message.get("agent", "")
    return Hello(
        sample_rate=sample_rate,
        format=audio_format,
        channels=channels,
        agent=str(agent)[:100],
        key=key if isinstance(key, str) and key else None,
        token=token if isinstance(token, str) and token else None,
    )


def ready_message(
    *, sensor: dict[str, Any], hop_s: float, window_s: float, max_frame_bytes: int, threshold: float
) -> dict[str, Any]:
    return {
        "type": "ready",
        "sensor": sensor,
        "window_s": window_s,
        "hop_s": hop_s,
        "max_frame_bytes": max_frame_bytes,
        "threshold": threshold,
    }
