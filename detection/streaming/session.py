"""The synchronous heart of one stream: audio in, windows to score out, scores in, events out.

``StreamSession`` knows nothing of websockets, threads or the database, so it is tested directly:

- ``feed(frame)`` decodes and resamples a PCM frame into the ring buffer and queues every window
  that is now complete (window + the feature's right-hand context). The queue is bounded: when
  scoring falls behind, the oldest windows are dropped and counted.
- ``take_batch()`` hands out the queued windows with a copy of the audio they need.
- ``add_scores()`` merges windows over the threshold into events (consecutive windows, at most
  ``MAX_EVENT_S``) and returns ``EventOpened`` at once, so the alert does not wait for the end.
- ``completed_events()`` returns events whose post-roll has arrived: they are ready to be closed.
"""

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from detection import features
from detection.streaming.buffer import RingBuffer, StreamResampler, decode_pcm, level_dbfs
from detection.streaming.protocol import Hello

SAMPLE_RATE = features.SAMPLE_RATE
HOP_S = 0.5
RING_S = 10.0
MAX_PENDING_WINDOWS = 16  # 8 s of hops: beyond this, scoring is behind and the oldest are dropped
MAX_BATCH = 16
PRE_ROLL_S = 3.0
POST_ROLL_S = 2.0
MAX_EVENT_S = 10.0
LATEST_SCORES = 20
# A window's feature reads half an FFT past its end (detection.features): wait for it.
_CONTEXT = features.N_FFT // 2


@dataclass(frozen=True)
class WindowBatch:
    starts: list[int]  # absolute sample indices (16 kHz) of the windows' starts
    audio: np.ndarray  # samples [audio_start, ...) covering the windows and their context
    audio_start: int

    @property
    def relative_starts(self) -> list[int]:
        return [start - self.audio_start for start in self.starts]


@dataclass(eq=False)  # identity: two events are never "equal"
class StreamEvent:
    """Consecutive windows over the threshold, with its own copy of the audio from the pre-roll on."""

    onset: int  # absolute start of the first window over the threshold
    segment_start: int  # absolute index of audio[0]
    segment_started_at: float  # wall-clock time (epoch seconds) of audio[0]
    last_above: int  # absolute start of the latest window over the threshold
    scores: list[float] = field(default_factory=list)
    chunks: list[np.ndarray] = field(default_factory=list)
    captured_until: int = 0  # absolute index one past the newest captured sample
    ended: bool = False
    persisted: object = None  # the consumer's handle on the stored segment (a future)

    @property
    def end(self) -> int:
        return self.last_above + features.WINDOW_SAMPLES

    @property
    def audio(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)

    def offset_s(self, absolute: int) -> float:
        return (absolute - self.segment_start) / SAMPLE_RATE

    @property
    def peak_score(self) -> float:
        return max(self.scores)

    @property
    def mean_score(self) -> float:
        return float(np.mean(self.scores))


class StreamSession:
    def __init__(
        self,
        hello: Hello,
        *,
        threshold: float,
        hop_s: float = HOP_S,
        max_pending: int = MAX_PENDING_WINDOWS,
        keep_audio: bool = False,
    ):
        self.hello = hello
        self.threshold = threshold
        self.hop = round(hop_s * SAMPLE_RATE)
        self.max_pending = max_pending
        self.resampler = StreamResampler(hello.sample_rate)
        self.ring = RingBuffer(round(RING_S * SAMPLE_RATE))
        self.pending: deque[int] = deque()
        self.next_window = 0
        self.ended = False
        self.dropped_windows = 0
        self.windows_scored = 0
        self.latest_scores: deque[float] = deque(maxlen=LATEST_SCORES)
        self.open_event: StreamEvent | None = None
        self.closing: list[StreamEvent] = []
        self.last_frame_at = time.time()
        self._level_chunks: list[np.ndarray] = []
        self.keep_audio = keep_audio
        self.kept: list[np.ndarray] = []
        self.kept_start = 0

    # --- audio in ----------------------------------------------------------------------------------

    def feed(self, frame: bytes) -> int:
        """Add one PCM frame; returns the number of 16-kHz samples it became."""
        samples = self.resampler.process(
            decode_pcm(frame, audio_format=self.hello.format, channels=self.hello.channels)
        )
        self.last_frame_at = time.time()
        if samples.size == 0:
            return 0
        self.ring.append(samples)
        self._level_chunks.append(samples)
        if self.keep_audio:
            self.kept.append(samples)
        for event in (self.open_event, *self.closing):
            if event is not None and not (event.ended and event.captured_until >= event.end + _post_roll()):
                event.chunks.append(samples)
                event.captured_until = self.ring.end
        while self.next_window + features.WINDOW_SAMPLES + _CONTEXT <= self.ring.end:
            self.pending.append(self.next_window)
            self.next_window += self.hop
        while len(self.pending) > self.max_pending:
            self.pending.popleft()
            self.dropped_windows += 1
        return samples.size

    def end_of_stream(self) -> None:
        """The sensor stopped sending: queue the windows that cover its last audio, zero-padded.

        Without them a scream in the final second before a hang-up (a device smashed or unplugged)
        would never be scored.
        """
        if self.ended:
            return
        self.ended = True
        real_end = self.ring.end
        covered_until = self.next_window - self.hop + features.WINDOW_SAMPLES if self.next_window else 0
        if covered_until >= real_end:
            return  # the last queued window already reaches the end
        self.ring.append(np.zeros(features.WINDOW_SAMPLES + _CONTEXT, dtype=np.float32))
        while covered_until < real_end:
            self.pending.append(self.next_window)
            covered_until = self.next_window + features.WINDOW_SAMPLES
            self.next_window += self.hop

    def wall_time_of(self, absolute: int) -> float:
        """Epoch seconds when sample ``absolute`` was captured (estimated from the newest frame)."""
        return self.last_frame_at - (self.ring.end - absolute) / SAMPLE_RATE

    def take_level(self) -> float | None:
        """dBFS of the audio since the last call; None when nothing arrived."""
        if not self._level_chunks:
            return None
        level = level_dbfs(np.concatenate(self._level_chunks))
        self._level_chunks = []
        return level

    def take_kept_audio(self) -> tuple[np.ndarray, float] | None:
        """Continuous audio kept since the last call (``keep_audio`` only) and its start's wall time."""
        if not self.kept:
            return None
        audio = np.concatenate(self.kept)
        started_at = self.wall_time_of(self.kept_start)
        self.kept = []
        self.kept_start += audio.size
        return audio, started_at

    @property
    def kept_s(self) -> float:
        return sum(chunk.size for chunk in self.kept) / SAMPLE_RATE

    # --- windows out, scores in ----------------------------------------------------------------------

    def take_batch(self, max_windows: int = MAX_BATCH) -> WindowBatch | None:
        if not self.pending:
            return None
        starts = [self.pending.popleft() for _ in range(min(max_windows, len(self.pending)))]
        audio_start = max(starts[0] - _CONTEXT, self.ring.oldest)
        audio = self.ring.read(audio_start, starts[-1] + features.WINDOW_SAMPLES + _CONTEXT)
        return WindowBatch(starts=starts, audio=audio, audio_start=audio_start)

    def add_scores(self, starts: list[int], scores: np.ndarray) -> list[StreamEvent]:
        """Record scores of windows (in stream order); returns the events that opened."""
        opened = []
        for start, score in zip(starts, scores, strict=True):
            score = float(score)
            self.windows_scored += 1
            self.latest_scores.append(round(score, 3))
            event = self.open_event
            if score >= self.threshold:
                if event is not None and start - event.last_above <= self.hop and start - event.onset < _max_event():
                    event.last_above = start
                    event.scores.append(score)
                    continue
                self._end_open_event()
                opened.append(self._open(start, score))
            else:
                self._end_open_event()
        return opened

    def _open(self, start: int, score: float) -> StreamEvent:
        segment_start = max(start - round(PRE_ROLL_S * SAMPLE_RATE), self.ring.oldest)
        audio = self.ring.read(segment_start, self.ring.end)
        event = StreamEvent(
            onset=start,
            segment_start=segment_start,
            segment_started_at=self.wall_time_of(segment_start),
            last_above=start,
            scores=[score],
            chunks=[audio],
            captured_until=segment_start + audio.size,
        )
        self.open_event = event
        return event

    def _end_open_event(self) -> None:
        if self.open_event is not None:
            self.open_event.ended = True
            self.closing.append(self.open_event)
            self.open_event = None

    def completed_events(self, *, flush: bool = False) -> list[StreamEvent]:
        """Ended events whose post-roll has arrived (all events, the open one too, when ``flush``)."""
        if flush:
            self._end_open_event()
        done = [event for event in self.closing if flush or event.captured_until >= event.end + _post_roll()]
        self.closing = [event for event in self.closing if event not in done]
        return done

    def status(self) -> dict:
        return {
            "dropped_windows": self.dropped_windows,
            "windows_scored": self.windows_scored,
            "pending_windows": len(self.pending),
            "scores": list(self.latest_scores),
        }


def _post_roll() -> int:
    return round(POST_ROLL_S * SAMPLE_RATE)


def _max_event() -> int:
    return round(MAX_EVENT_S * SAMPLE_RATE)


def segment_audio(event: StreamEvent) -> np.ndarray:
    """The event's audio from its pre-roll to the end of its post-roll (or as far as it arrived)."""
    return event.audio[: event.end + _post_roll() - event.segment_start]
