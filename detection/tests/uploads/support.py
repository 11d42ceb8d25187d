"""Helpers for the recording tests: audio generated at test time, and a fake engine.

Audio is a tone with a little noise, written as WAV with soundfile. ``FakeEngine`` stands in for
the ONNX model: it reports the events a test asks for.
"""

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile

from detection.engine import Analysis, ScreamEvent
from detection.features import SAMPLE_RATE

FAKE_MODEL_VERSION = "fake-model-1"


def tone_wav(seconds: float = 6.0, *, sample_rate: int = 44_100, channels: int = 1, seed: int = 0) -> bytes:
    """A 440 Hz tone with noise, PCM 16-bit WAV bytes."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    mono = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.02 * rng.standard_normal(t.size)
    samples = np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono
    buffer = io.BytesIO()
    soundfile.write(buffer, samples.astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def nan_wav() -> bytes:
    """A well-formed float WAV whose samples are NaN: decodes, but the audio data is corrupt."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.full(SAMPLE_RATE, np.nan, np.float32), SAMPLE_RATE, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def silent_wav(seconds: float = 2.0) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(round(seconds * SAMPLE_RATE), np.float32), SAMPLE_RATE, format="WAV")
    return buffer.getvalue()


def audio_upload(data: bytes | None = None, name: str = "front door.wav", content_type: str = "audio/wav"):
    return SimpleUploadedFile(name, tone_wav() if data is None else data, content_type=content_type)


def stored_files(media_root: Path) -> list[Path]:
    root = Path(media_root)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@dataclass
class FakeEngine:
    """Reports ``events`` for any audio; counts its calls; raises ``error`` when set."""

    events: list[ScreamEvent] = field(default_factory=list)
    model_version: str = FAKE_MODEL_VERSION
    error: Exception | None = None
    calls: int = 0

    def analyze(self, samples, *, hop_s: float = 0.5, threshold: float | None = None, **_) -> Analysis:
        self.calls += 1
        if self.error is not None:
            raise self.error
        duration_s = len(samples) / SAMPLE_RATE
        starts = np.arange(0.0, max(duration_s - 1.0, 0.0) + 1e-9, hop_s)
        return Analysis(
            duration_s=duration_s,
            hop_s=hop_s,
            window_starts_s=starts,
            scores=np.zeros(starts.size, np.float32),
            events=list(self.events),
            threshold=threshold or 0.5,
            model_version=self.model_version,
        )
