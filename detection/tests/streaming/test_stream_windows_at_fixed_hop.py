"""Frames of any size and rate become 1-s windows every 0.5 s of 16-kHz audio, in order, none missed."""

import numpy as np
import pytest

from detection import features
from detection.streaming.protocol import Hello
from detection.streaming.session import StreamSession


def _session(sample_rate: int = 16000, audio_format: str = "pcm_s16le", channels: int = 1, **options):
    hello = Hello(sample_rate=sample_rate, format=audio_format, channels=channels, agent="", key="k", token=None)
    return StreamSession(hello, threshold=0.5, **options)


def _pcm(seconds: float, sample_rate: int, audio_format: str = "pcm_s16le", channels: int = 1) -> bytes:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    interleaved = np.repeat(mono, channels)
    if audio_format == "f32le":
        return interleaved.astype("<f4").tobytes()
    return (interleaved * 32767).astype("<i2").tobytes()


def _feed_in_odd_pieces(session: StreamSession, data: bytes, bytes_per_sample: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    position = 0
    while position < len(data):
        size = int(rng.integers(1, 3000)) * bytes_per_sample
        session.feed(data[position : position + size])
        position += size


@pytest.mark.parametrize(
    ("sample_rate", "audio_format", "channels"),
    [(16000, "pcm_s16le", 1), (48000, "pcm_s16le", 1), (8000, "pcm_s16le", 1), (44100, "f32le", 2)],
)
def test_odd_frames_at_any_rate_give_windows_every_half_second(sample_rate, audio_format, channels):
    session = _session(sample_rate, audio_format, channels, max_pending=1000)
    bytes_per_sample = (2 if audio_format == "pcm_s16le" else 4) * channels
    _feed_in_odd_pieces(session, _pcm(5.0, sample_rate, audio_format, channels), bytes_per_sample)

    # 5 s of audio: ~80000 samples at 16 kHz; windows start every 8000 and need 16000 + 512 after their start.
    assert abs(session.ring.end - 80000) <= 2
    assert list(session.pending) == [0, 8000, 16000, 24000, 32000, 40000, 48000, 56000]
    assert session.dropped_windows == 0


def test_resampled_audio_keeps_its_pitch_and_level():
    session = _session(48000)
    _feed_in_odd_pieces(session, _pcm(2.0, 48000), 2)
    audio = session.ring.read(8000, 24000)
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * features.SAMPLE_RATE / audio.size - 440) < 2
    assert abs(np.sqrt(np.mean(audio**2)) - 0.5 / np.sqrt(2)) < 0.01


def test_batches_carry_the_audio_their_windows_need():
    session = _session(max_pending=1000)
    session.feed(_pcm(3.0, 16000))
    batch = session.take_batch(max_windows=2)
    assert batch.starts == [0, 8000]
    assert batch.audio_start == 0
    assert batch.audio.size == 8000 + features.WINDOW_SAMPLES + features.N_FFT // 2
    windows = features.window_features(batch.audio, batch.relative_starts)
    whole = features.window_features(session.ring.read(0, session.ring.end), [0, 8000])
    np.testing.assert_allclose(windows, whole, atol=1e-5)


def test_a_slow_scorer_drops_the_oldest_windows_and_counts_them():
    session = _session(max_pending=4)
    session.feed(_pcm(6.0, 16000))  # 10 windows due, room for 4
    assert session.dropped_windows == 6
    assert list(session.pending) == [48000, 56000, 64000, 72000]
    assert session.status()["dropped_windows"] == 6


def test_windows_over_the_threshold_merge_into_one_event_with_pre_roll():
    session = _session(max_pending=1000)
    session.feed(_pcm(9.0, 16000))
    batch = session.take_batch(max_windows=100)
    scores = [0.9 if 8 <= i <= 10 else 0.1 for i in range(len(batch.starts))]  # windows at 4.0, 4.5, 5.0 s
    opened = session.add_scores(batch.starts, np.array(scores))
    assert len(opened) == 1
    event = opened[0]
    assert event.onset == 64000 and event.segment_start == 64000 - 48000  # 3 s of pre-roll
    assert event.end == 80000 + 16000
    assert event.peak_score == pytest.approx(0.9)
    # 9 s of audio arrived: the event ended at 6 s and its 2 s of post-roll are in.
    done = session.completed_events()
    assert done == [event]


@pytest.mark.parametrize("seconds", [0.4, 1.0, 1.74, 3.2])
def test_end_of_stream_queues_windows_that_cover_the_last_audio(seconds):
    session = _session(max_pending=1000)
    session.feed(_pcm(seconds, 16000))
    real_end = session.ring.end
    starts = list(session.pending)

    session.end_of_stream()

    tail = list(session.pending)[len(starts) :]
    every = starts + tail
    assert every == [i * session.hop for i in range(len(every))]  # still every hop, none missed
    assert every[-1] + features.WINDOW_SAMPLES >= real_end  # the last audio is in a window
    assert not tail or tail[0] < real_end  # no window of padding alone
    session.end_of_stream()
    assert list(session.pending) == every  # a second call adds nothing
