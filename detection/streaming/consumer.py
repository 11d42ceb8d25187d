"""``SensorStreamConsumer``: the websocket a sensor streams its microphone to (protocol: see the package docstring).

Work split, and why: the consumer scores windows itself, on scoring threads shared by every stream
of the process, in embedded and production mode alike. Shipping every 0.5-s hop of raw audio
through Redis to a Celery worker would add a broker round trip (~140 ms measured) and
serialisation to every window for no gain: one ONNX window costs a few milliseconds and the web
process already holds the audio. Only what follows
a detection (the incident, the spectrogram) goes through ``outcry.tasking.enqueue``, i.e. to the
Celery workers in production and to the embedded pool otherwise, exactly like an upload's analysis.
Nothing here blocks the event loop: scoring runs on ``scoring.get_scorer()``'s threads (which batch
windows across streams), database and storage writes in ``sync_to_async(thread_sensitive=False)``.
"""

import asyncio
import json
import logging
import time
import weakref
from datetime import UTC, datetime

import numpy as np
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import DatabaseError

from detection import engine as detection_engine
from detection import features
from detection.engine import ModelError, validate_threshold
from detection.streaming import protocol, services
from detection.streaming.protocol import CloseCode, Hello, ProtocolError
from detection.streaming.scoring import get_scorer
from detection.streaming.session import HOP_S, StreamEvent, StreamSession, segment_audio
from detection.streaming.tokens import grant_from_stream_token
from sites.models import Sensor
from sites.services import sensor_from_key

logger = logging.getLogger(__name__)

KEEP_AUDIO_SEGMENT_S = 60.0


def sensor_group(sensor_id: int) -> str:
    return f"sensor.{sensor_id}.stream"


_warmed_engines: weakref.WeakSet = weakref.WeakSet()


def _authenticate(hello: Hello) -> tuple[Sensor, int | None, object]:
    """The sensor the hello authenticates as, the manager whose stream token it used (None: the
    sensor's key) and the engine to score with; ProtocolError = refused."""
    if hello.token:
        grant = grant_from_stream_token(hello.token)
        sensor, issuer_id = (grant.sensor, grant.issuer_id) if grant else (None, None)
    else:
        sensor, issuer_id = sensor_from_key(hello.key or ""), None
    if sensor is None:
        raise ProtocolError(CloseCode.UNAUTHORIZED, "invalid, revoked or disabled sensor key")
    refusal = services.site_inactive_refusal(sensor.site)
    if refusal is not None:  # before loading the model: a refused sensor costs nothing
        raise refusal
    engine = detection_engine.get_engine()
    if engine not in _warmed_engines:
        # The first STFT and the first inference are slow (caches, allocations): pay for them here,
        # not in the latency of this stream's first alert.
        silence = np.zeros(features.WINDOW_SAMPLES, np.float32)
        engine.score_windows(features.window_features(silence, [0]))
        _warmed_engines.add(engine)
    return sensor, issuer_id, engine


def _threshold(sensor: Sensor, engine) -> float:
    """The sensor's threshold (override, else its site's default), as uploads use; else the model's own."""
    try:
        return validate_threshold(sensor.effective_threshold)
    except (TypeError, ValueError):
        return engine.threshold


# How long a closing stream may take to score the windows it had received.
DRAIN_TIMEOUT_S = 10.0


class SensorStreamConsumer(AsyncWebsocketConsumer):
    hello_timeout_s = protocol.HELLO_TIMEOUT_S
    status_interval_s = protocol.STATUS_INTERVAL_S
    key_recheck_s = protocol.KEY_RECHECK_S

    async def connect(self) -> None:
        self.session: StreamSession | None = None
        self.sensor: Sensor | None = None
        self.connected_at = time.time()
        self._closing = False
        self._scoring: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._ticker: asyncio.Task | None = None
        await self.accept()
        self._hello_timer = asyncio.create_task(self._hello_deadline())

    async def disconnect(self, code: int) -> None:
        self._closing = True
        for task in (self._hello_timer, self._ticker):
            if task is not None:
                task.cancel()
        if self.sensor is not None:
            await self.channel_layer.group_discard(sensor_group(self.sensor.pk), self.channel_name)
        if self.session is not None:
            # Score what already arrived, so a scream just before a hang-up still alerts.
            self.session.end_of_stream()
            if self.session.pending and self._scoring is None:
                self._scoring = asyncio.create_task(self._score_pending())
            if self._scoring is not None:
                await asyncio.wait({self._scoring}, timeout=DRAIN_TIMEOUT_S)
            for event in self.session.completed_events(flush=True):
                self._spawn(self._persist_close(event))
            await self._keep_audio(force=True)
        if self._background:
            await asyncio.wait(self._background, timeout=30)

    async def refuse(self, code: int, reason: str) -> None:
        if not self._closing:
            self._closing = True
            logger.info("closing sensor stream %s: %s %s", self.sensor.pk if self.sensor else "-", code, reason)
            # The reason also travels as a message: daphne (and some proxies) drop a close's reason.
            await self.send(text_data=json.dumps({"type": "error", "code": code, "reason": reason}))
            await self.close(code=code, reason=reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closing:
            return
        try:
            if self.session is None:
                await self._receive_hello(text_data)
            elif bytes_data is not None:
                await self._receive_audio(bytes_data)
            else:
                await self._receive_control(text_data or "")
        except ProtocolError as exc:
            await self.refuse(exc.code, exc.reason)

    # --- hello -------------------------------------------------------------------------------------

    async def _hello_deadline(self) -> None:
        await asyncio.sleep(self.hello_timeout_s)
        if self.session is None:
            await self.refuse(CloseCode.HELLO_TIMEOUT, f"no hello within {self.hello_timeout_s:g} s")

    async def _receive_hello(self, text_data: str | None) -> None:
        if text_data is None:
            raise ProtocolError(CloseCode.BAD_MESSAGE, "send the hello message before any audio")
        self._hello_timer.cancel()  # the deadline is for saying hello; loading the model may take longer
        hello = protocol.parse_hello(text_data)
        try:
            self.sensor, self.token_issuer_id, self.engine = await sync_to_async(_authenticate, thread_sensitive=False)(
                hello
            )
        except ModelError as exc:
            logger.error("sensor stream refused: %s", exc)
            raise ProtocolError(CloseCode.UNAVAILABLE, "the server has no usable detection model") from exc
        self.hello = hello
        self.session = StreamSession(
            hello, threshold=_threshold(self.sensor, self.engine), keep_audio=self.sensor.site.keep_stream_audio
        )
        self._flood_tokens = protocol.FLOOD_BURST_S * hello.sample_rate
        self._flood_checked = time.monotonic()
        group = sensor_group(self.sensor.pk)
        await self.channel_layer.group_add(group, self.channel_name)
        await self.channel_layer.group_send(
            group, {"type": "stream.replace", "channel": self.channel_name, "connected_at": self.connected_at}
        )
        sensor = {"id": self.sensor.pk, "name": self.sensor.name, "site": self.sensor.site_id}
        await self.send_json(
            protocol.ready_message(
                sensor=sensor,
                hop_s=HOP_S,
                window_s=features.WINDOW_S,
                max_frame_bytes=hello.max_frame_bytes,
                threshold=self.session.threshold,
            )
        )
        self._ticker = asyncio.create_task(self._tick())

    async def stream_replace(self, event: dict) -> None:
        """Another connection of the same sensor said hello: the newer one wins."""
        if event["channel"] != self.channel_name and event["connected_at"] >= self.connected_at:
            await self.refuse(CloseCode.REPLACED, "replaced by a new connection")

    # --- audio -------------------------------------------------------------------------------------

    async def _receive_audio(self, frame: bytes) -> None:
        hello = self.hello
        if len(frame) > hello.max_frame_bytes:
            raise ProtocolError(
                CloseCode.FRAME_TOO_BIG, f"frame of {len(frame)} bytes; the limit is {hello.max_frame_bytes} (1 s)"
            )
        if len(frame) % hello.bytes_per_frame:
            raise ProtocolError(
                CloseCode.BAD_MESSAGE, f"frame of {len(frame)} bytes is not whole {hello.format} samples"
            )
        samples = len(frame) // hello.bytes_per_frame
        now = time.monotonic()
        self._flood_tokens = min(
            protocol.FLOOD_BURST_S * hello.sample_rate,
            self._flood_tokens + (now - self._flood_checked) * hello.sample_rate * protocol.FLOOD_RATE,
        )
        self._flood_checked = now
        self._flood_tokens -= samples
        if self._flood_tokens < 0:
            raise ProtocolError(CloseCode.FLOOD, f"audio arrives faster than {protocol.FLOOD_RATE:g}x real time")
        self.session.feed(frame)
        if self.session.pending and self._scoring is None:
            self._scoring = asyncio.create_task(self._score_pending())
        self._close_completed_events()

    async def _score_pending(self) -> None:
        scorer = get_scorer()
        session = self.session
        try:
            while (batch := session.take_batch()) is not None:
                scores = await asyncio.wrap_future(scorer.submit(self.engine, batch))
                for event in session.add_scores(batch.starts, scores):
                    event.persisted = self._spawn(self._persist_open(event))
                self._close_completed_events()
        except Exception:
            logger.exception("scoring failed on the stream of sensor %s", self.sensor.pk)
        finally:
            self._scoring = None

    def _close_completed_events(self) -> None:
        for event in self.session.completed_events():
            self._spawn(self._persist_close(event))

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _persist_open(self, event: StreamEvent) -> tuple[int, int] | None:
        audio = event.audio
        try:
            return await sync_to_async(services.stream_segment_open, thread_sensitive=False)(
                sensor_id=self.sensor.pk,
                samples=audio,
                recorded_at=datetime.fromtimestamp(event.segment_started_at, UTC),
                onset_s=event.offset_s(event.onset),
                end_s=min(event.offset_s(event.end), audio.size / features.SAMPLE_RATE),
                peak_score=event.peak_score,
                mean_score=event.mean_score,
                model_version=self.engine.model_version,
                source_sample_rate=self.hello.sample_rate,
            )
        except Exception:
            logger.exception("could not store the stream segment of sensor %s", self.sensor.pk)
            return None

    async def _persist_close(self, event: StreamEvent) -> None:
        stored = await event.persisted if event.persisted is not None else None
        if stored is None:
            return
        recording_id, detection_id = stored
        audio = segment_audio(event)
        try:
            await sync_to_async(services.stream_segment_close, thread_sensitive=False)(
                recording_id=recording_id,
                detection_id=detection_id,
                samples=audio,
                end_s=min(event.offset_s(event.end), audio.size / features.SAMPLE_RATE),
                peak_score=event.peak_score,
                mean_score=event.mean_score,
            )
        except Exception:
            logger.exception("could not complete stream segment %s of sensor %s", recording_id, self.sensor.pk)

    # --- control messages, status and health ------------------------------------------------------------

    async def _receive_control(self, text_data: str) -> None:
        try:
            message = json.loads(text_data)
        except json.JSONDecodeError:
            raise ProtocolError(CloseCode.BAD_MESSAGE, "text messages must be JSON") from None
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send_json({"type": "pong", "t": message.get("t"), "server_time": time.time()})
        # Other message types are ignored, so that newer clients keep working with this server.

    async def _tick(self) -> None:
        next_key_check = time.monotonic() + self.key_recheck_s
        while not self._closing:
            await asyncio.sleep(self.status_interval_s)
            level = self.session.take_level()
            await self.send_json({"type": "status", "level_dbfs": level, **self.session.status()})
            if level is not None:
                self._spawn(self._heartbeat(level))
            await self._keep_audio()
            if time.monotonic() >= next_key_check:
                next_key_check = time.monotonic() + self.key_recheck_s
                refusal = await sync_to_async(services.sensor_stream_refusal, thread_sensitive=False)(
                    sensor_id=self.sensor.pk, key_lookup_id=self.sensor.key_lookup_id, issuer_id=self.token_issuer_id
                )
                if refusal is not None:
                    await self.refuse(refusal.code, refusal.reason)

    async def _heartbeat(self, level: float) -> None:
        try:
            sensor = await sync_to_async(services.sensor_heartbeat, thread_sensitive=False)(
                sensor_id=self.sensor.pk, level_dbfs=level
            )
        except DatabaseError:  # the next second's heartbeat will try again
            logger.warning("could not record the heartbeat of sensor %s", self.sensor.pk, exc_info=True)
            return
        if sensor is not None:
            await self.channel_layer.group_send(
                services.site_sensors_group(sensor.site_id), services.sensor_status_message(sensor)
            )

    async def _keep_audio(self, *, force: bool = False) -> None:
        session = self.session
        if not session.keep_audio or not (force or session.kept_s >= KEEP_AUDIO_SEGMENT_S):
            return
        kept = session.take_kept_audio()
        if kept is None:
            return
        audio, started_at = kept
        try:
            await sync_to_async(services.stream_audio_keep, thread_sensitive=False)(
                sensor_id=self.sensor.pk,
                samples=audio,
                recorded_at=datetime.fromtimestamp(started_at, UTC),
                model_version=self.engine.model_version,
                source_sample_rate=self.hello.sample_rate,
            )
        except Exception:
            logger.exception("could not keep the continuous audio of sensor %s", self.sensor.pk)

    async def send_json(self, content: dict) -> None:
        if not self._closing:
            await self.send(text_data=json.dumps(content))
