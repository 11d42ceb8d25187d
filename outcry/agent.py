"""The Outcry edge agent: stream a microphone or an audio file to an Outcry server as a sensor.

    python -m outcry.agent --server wss://outcry.example.org --key osk_... --mic
    python -m outcry.agent --server ws://127.0.0.1:8000 --file scream.wav --loop   # key from OUTCRY_SENSOR_KEY

It speaks the sensor streaming protocol (``/ws/sensors/stream/``, documented in the README and at
``/api/v1/streaming/protocol/``): a hello with the sensor key, then 100-ms frames of 16-bit PCM in
real time. It needs only ``websockets`` and ``numpy``, plus ``av`` (PyAV) for ``--file`` and
``sounddevice`` for ``--mic`` — no Django, so this one file runs on a Raspberry Pi.

While the server cannot be reached the agent keeps capturing into a buffer of the last
``--buffer-s`` seconds (older audio is dropped), reconnects with exponential backoff and jitter,
and sends the buffered audio first. Exit status: 0 when a file (without ``--loop``) has been sent,
1 for a bad argument or an unreadable source, 2 when the server refused the stream as malformed,
3 when it refused the key, 4 when another connection of the same sensor took over.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np

AGENT = "outcry-agent/0.1"
STREAM_PATH = "/ws/sensors/stream/"
FILE_SAMPLE_RATE = 16_000
FRAME_S = 0.1
KEY_ENV = "OUTCRY_SENSOR_KEY"

EXIT_OK, EXIT_USAGE, EXIT_PROTOCOL, EXIT_KEY_REFUSED, EXIT_REPLACED = 0, 1, 2, 3, 4
CLOSE_BAD_MESSAGE, CLOSE_UNAUTHORIZED, CLOSE_REPLACED, CLOSE_FRAME_TOO_BIG = 4400, 4401, 4409, 4413
KEY_REFUSED_MESSAGE = "The server refused this sensor key (revoked or wrong). Rotate it in Outcry and try again."

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0


class AgentStop(Exception):
    """Stop for good with ``exit_code``; ``str()`` says why."""

    def __init__(self, exit_code: int, message: str):
        super().__init__(message)
        self.exit_code = exit_code


# --- audio sources --------------------------------------------------------------------------------------


def decode_file(path: str) -> np.ndarray:
    """The file's audio as mono 16-bit PCM at 16 kHz (PyAV decodes WAV, FLAC, MP3, OGG, M4A, WebM...)."""
    try:
        import av
    except ImportError:
        raise AgentStop(EXIT_USAGE, "--file needs PyAV: pip install av") from None
    try:
        with av.open(path) as container:
            if not container.streams.audio:
                raise AgentStop(EXIT_USAGE, f"{path} has no audio track")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=FILE_SAMPLE_RATE)
            chunks = []
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except (OSError, av.error.FFmpegError) as exc:
        raise AgentStop(EXIT_USAGE, f"cannot read {path}: {exc}") from exc
    samples = np.concatenate(chunks).astype("<i2") if chunks else np.zeros(0, "<i2")
    if samples.size == 0:
        raise AgentStop(EXIT_USAGE, f"{path} contains no audio")
    return samples


async def file_frames(path: str, *, loop_forever: bool, push: Callable[[bytes], None]) -> None:
    """Push the file's audio in real time, frame by frame (again and again with ``loop_forever``)."""
    samples = decode_file(path)
    step = round(FILE_SAMPLE_RATE * FRAME_S)
    started = time.monotonic()
    sent_s = 0.0
    while True:
        for first in range(0, samples.size, step):
            frame = samples[first : first + step]
            push(frame.tobytes())
            sent_s += frame.size / FILE_SAMPLE_RATE
            await asyncio.sleep(max(0.0, started + sent_s - time.monotonic()))
        if not loop_forever:
            return


async def mic_frames(*, device: int | None, sample_rate: int | None, push: Callable[[bytes], None]) -> None:
    """Push microphone audio (mono 16-bit) as it is captured; runs until cancelled."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise AgentStop(
            EXIT_USAGE, f"--mic needs the sounddevice package and PortAudio (pip install sounddevice): {exc}"
        ) from None
    loop = asyncio.get_running_loop()
    rate = sample_rate or int(sounddevice.query_devices(device, "input")["default_samplerate"])

    def captured(indata, _frames, _time, _status) -> None:
        loop.call_soon_threadsafe(push, bytes(indata))

    try:
        stream = sounddevice.RawInputStream(
            samplerate=rate,
            device=device,
            channels=1,
            dtype="int16",
            blocksize=round(rate * FRAME_S),
            callback=captured,
        )
    except Exception as exc:  # PortAudioError and friends: no such device, unsupported rate
        raise AgentStop(EXIT_USAGE, f"cannot open the microphone: {exc}") from exc
    with stream:
        await asyncio.Event().wait()


# --- the stream ---------------------------------------------------------------------------------------


class FrameBuffer:
    """Frames waiting to be sent: at most ``max_s`` seconds; beyond that the oldest are dropped."""

    def __init__(self, *, max_s: float, bytes_per_second: int):
        self.max_bytes = int(max_s * bytes_per_second)
        self.frames: deque[bytes] = deque()
        self.size = 0
        self.dropped_bytes = 0
        self.ready = asyncio.Event()
        self.finished = False

    def push(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.size += len(frame)
        while self.size > self.max_bytes:
            oldest = self.frames.popleft()
            self.size -= len(oldest)
            self.dropped_bytes += len(oldest)
        self.ready.set()

    def pop(self) -> bytes | None:
        if not self.frames:
            self.ready.clear()
            return None
        frame = self.frames.popleft()
        self.size -= len(frame)
        return frame

    def unpop(self, frame: bytes) -> None:
        """Put back a frame that could not be sent."""
        self.frames.appendleft(frame)
        self.size += len(frame)

    def finish(self) -> None:
        self.finished = True
        self.ready.set()


def stream_url(server: str) -> str:
    """``ws(s)://host[:port]`` (or a full URL) -> the stream endpoint's URL; http(s) is accepted too."""
    parts = urlsplit(server if "://" in server else f"ws://{server}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise AgentStop(EXIT_USAGE, f"--server must look like ws://host:port or wss://host (got {server!r})")
    path = parts.path if parts.path not in ("", "/") else STREAM_PATH
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def origin_of(url: str) -> str:
    """The Origin header a browser on the server's own pages would send (the server checks it)."""
    parts = urlsplit(url)
    return urlunsplit(({"ws": "http", "wss": "https"}[parts.scheme], parts.netloc, "", "", ""))


def format_status(message: dict) -> str:
    level = message.get("level_dbfs")
    scores = message.get("scores") or []
    latest = " ".join(f"{score:.2f}" for score in scores[-6:])
    line = f"level {level:6.1f} dBFS" if isinstance(level, int | float) else "level   --   dBFS"
    line += f" | scream {max(scores[-6:], default=0.0):.2f} [{latest}]"
    if message.get("dropped_windows"):
        line += f" | server dropped {message['dropped_windows']} windows"
    return line


@dataclass
class Agent:
    url: str
    key: str
    sample_rate: int
    buffer: FrameBuffer
    quiet: bool = False
    print_line: Callable[[str], None] = print
    # The reason of the close that follows, sent as an "error" message: daphne and some proxies
    # deliver a close without its reason.
    server_reason: str = ""

    def say(self, text: str) -> None:
        self.print_line(f"[{time.strftime('%H:%M:%S')}] {text}")

    async def run(self) -> int:
        """Connect, stream, reconnect with backoff; returns the exit status once the source is done."""
        import websockets

        attempt = 0
        while True:
            self.server_reason = ""
            try:
                async with websockets.connect(
                    self.url, origin=origin_of(self.url), compression=None, open_timeout=10, max_size=2**20
                ) as connection:
                    await self._hello(connection)
                    attempt = 0
                    if await self._stream(connection):
                        return EXIT_OK
            except AgentStop:
                raise
            except websockets.exceptions.ConnectionClosed as exc:
                reason = (exc.rcvd.reason if exc.rcvd else "") or self.server_reason
                self._closed(exc.rcvd.code if exc.rcvd else None, reason)
            except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake) as exc:
                self.say(f"cannot reach {self.url}: {exc}")
            if self.buffer.finished and not self.buffer.frames:
                return EXIT_OK
            attempt += 1
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            self.say(
                f"reconnecting in {delay:.1f} s (buffering up to {self.buffer.max_bytes // (2 * self.sample_rate)} s)"
            )
            await asyncio.sleep(delay)

    def _closed(self, code: int | None, reason: str) -> None:
        if code == CLOSE_UNAUTHORIZED:
            raise AgentStop(EXIT_KEY_REFUSED, KEY_REFUSED_MESSAGE)
        if code == CLOSE_REPLACED:
            raise AgentStop(EXIT_REPLACED, "Another connection of this sensor took over (is a second agent running?).")
        if code in (CLOSE_BAD_MESSAGE, CLOSE_FRAME_TOO_BIG):
            raise AgentStop(EXIT_PROTOCOL, f"The server refused the stream ({code}): {reason}")
        self.say(f"connection closed ({code or 'no code'}{': ' + reason if reason else ''})")

    async def _hello(self, connection) -> None:
        hello = {
            "type": "hello",
            "key": self.key,
            "sample_rate": self.sample_rate,
            "format": "pcm_s16le",
            "channels": 1,
            "agent": AGENT,
        }
        await connection.send(json.dumps(hello))
        reply = json.loads(await asyncio.wait_for(connection.recv(), timeout=15))
        while reply.get("type") == "error":  # a refusal: the close follows (recv raises ConnectionClosed)
            self.server_reason = str(reply.get("reason") or "")
            reply = json.loads(await asyncio.wait_for(connection.recv(), timeout=15))
        if reply.get("type") != "ready":
            raise AgentStop(EXIT_PROTOCOL, f"unexpected reply to hello: {reply}")
        sensor = reply.get("sensor", {})
        self.say(f"streaming as sensor '{sensor.get('name')}' (id {sensor.get('id')}) to {self.url}")

    async def _stream(self, connection) -> bool:
        """Send frames until the source is done (True) or the connection drops (raises)."""
        receiver = asyncio.create_task(self._receive(connection))
        try:
            while True:
                frame = self.buffer.pop()
                if frame is None:
                    if self.buffer.finished:
                        await connection.close()
                        return True
                    waiter = asyncio.create_task(self.buffer.ready.wait())
                    done, _pending = await asyncio.wait({waiter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                    if receiver in done:
                        waiter.cancel()
                        receiver.result()  # raises ConnectionClosed with the server's code
                        raise ConnectionError("the server closed the connection")
                    continue
                try:
                    await connection.send(frame)
                except Exception:
                    self.buffer.unpop(frame)
                    raise
        finally:
            receiver.cancel()

    async def _receive(self, connection) -> None:
        async for text in connection:
            if isinstance(text, bytes):
                continue
            message = json.loads(text)
            if message.get("type") == "error":
                self.server_reason = str(message.get("reason") or "")
            elif message.get("type") == "status" and not self.quiet:
                self.say(format_status(message))


# --- command line ------------------------------------------------------------------------------------------


class _ArgumentParser(argparse.ArgumentParser):
    """Bad arguments exit with EXIT_USAGE (1), not argparse's 2, which here means a refused stream."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _ArgumentParser(
        prog="outcry-agent", description="Stream a microphone or an audio file to Outcry as a sensor."
    )
    parser.add_argument("--server", required=True, help="ws://host:port (local) or wss://host (everywhere else)")
    parser.add_argument("--key", default=os.environ.get(KEY_ENV), help=f"the sensor key osk_... (default: ${KEY_ENV})")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="an audio file to stream at real-time pace")
    source.add_argument("--mic", action="store_true", help="stream the microphone (needs sounddevice)")
    parser.add_argument("--loop", action="store_true", help="with --file: start over at the end, forever")
    parser.add_argument("--device", type=int, default=None, help="with --mic: input device number (default: system)")
    parser.add_argument("--sample-rate", type=int, default=None, help="with --mic: capture rate (default: device's)")
    parser.add_argument("--buffer-s", type=float, default=10.0, help="audio kept while offline (default 10 s)")
    parser.add_argument("--quiet", action="store_true", help="do not print the status line every second")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error(f"give the sensor key with --key or the {KEY_ENV} environment variable")
    if args.loop and not args.file:
        parser.error("--loop goes with --file")
    return args


async def run_agent(args: argparse.Namespace) -> int:
    url = stream_url(args.server)
    sample_rate = FILE_SAMPLE_RATE if args.file else (args.sample_rate or 0)
    if args.mic and not sample_rate:
        try:
            import sounddevice

            sample_rate = int(sounddevice.query_devices(args.device, "input")["default_samplerate"])
        except Exception as exc:
            raise AgentStop(EXIT_USAGE, f"--mic needs sounddevice and a microphone: {exc}") from None
    buffer = FrameBuffer(max_s=args.buffer_s, bytes_per_second=2 * sample_rate)
    if args.file:
        source = file_frames(args.file, loop_forever=args.loop, push=buffer.push)
    else:
        source = mic_frames(device=args.device, sample_rate=sample_rate, push=buffer.push)
    agent = Agent(url=url, key=args.key.strip(), sample_rate=sample_rate, buffer=buffer, quiet=args.quiet)

    async def capture() -> None:
        await source
        buffer.finish()

    capturing = asyncio.create_task(capture())
    streaming = asyncio.create_task(agent.run())
    try:
        done, _pending = await asyncio.wait({capturing, streaming}, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # a source or the stream failed for good: raise its AgentStop
        return await streaming
    finally:
        for task in (capturing, streaming):
            task.cancel()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run_agent(args))
    except AgentStop as stop:
        print(f"outcry-agent: {stop}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
