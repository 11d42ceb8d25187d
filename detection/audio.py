"""Decoding any audio file to mono float32 at the model's sample rate.

PyAV brings its own FFmpeg, so WAV, MP3, FLAC, OGG (Vorbis, Opus), M4A (AAC) and WebM/Opus decode on
a machine without an ffmpeg binary. Every failure a user can cause raises ``AudioError`` with a
message meant for that user; nothing else escapes.
"""

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from detection.features import SAMPLE_RATE

# Quieter than this everywhere (-80 dBFS peak) is digital silence: nothing to analyse.
SILENCE_PEAK = 1e-4


class AudioError(ValueError):
    """Audio that cannot be analysed; ``code`` is stable for APIs, ``str()`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # mono float32 in [-1, 1] at ``sample_rate``
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    container: str
    codec: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


AudioSource = str | os.PathLike | bytes | BinaryIO


def _to_mono(frame: av.AudioFrame) -> np.ndarray:
    """The frame's planar channels averaged into one float32 channel."""
    planes = frame.to_ndarray()
    return planes[0].copy() if planes.shape[0] == 1 else planes.mean(axis=0, dtype=np.float32)


# Demuxers Outcry reads (FFmpeg names; a demuxer matches when one of its names is listed). Playlist
# and reference formats (HLS, concat, ...) would make FFmpeg fetch the URLs or files an uploaded
# playlist names: a request from the server to anywhere (SSRF) or another file's audio.
ALLOWED_DEMUXERS = "wav,w64,aiff,caf,mp3,flac,ogg,mov,mp4,m4a,matroska,webm,aac"
_OPEN_OPTIONS = {"format_whitelist": ALLOWED_DEMUXERS, "protocol_whitelist": "file"}
# What a decoded container is stored and served as (first matching demuxer name wins).
_CONTAINER_FILE_TYPES = {
    "wav": (".wav", "audio/wav"),
    "w64": (".w64", "audio/x-w64"),
    "aiff": (".aiff", "audio/aiff"),
    "caf": (".caf", "audio/x-caf"),
    "mp3": (".mp3", "audio/mpeg"),
    "flac": (".flac", "audio/flac"),
    "ogg": (".ogg", "audio/ogg"),
    "mp4": (".m4a", "audio/mp4"),
    "webm": (".webm", "audio/webm"),
    "aac": (".aac", "audio/aac"),
}


def container_file_type(container: str) -> tuple[str, str]:
    """(file suffix, content type) for an FFmpeg demuxer name such as ``mov,mp4,m4a,3gp,3g2,mj2``;
    the uploader's own name and type are never trusted for either."""
    for name in container.split(","):
        if name in _CONTAINER_FILE_TYPES:
            return _CONTAINER_FILE_TYPES[name]
    return "", "application/octet-stream"


@dataclass(frozen=True)
class AudioInfo:
    """What ``inspect_audio`` learns without keeping the samples."""

    duration_s: float
    source_sample_rate: int
    source_channels: int
    container: str
    codec: str


def decode_audio(
    source: AudioSource,
    *,
    sample_rate: int = SAMPLE_RATE,
    max_duration_s: float | None = None,
    allow_silent: bool = False,
) -> DecodedAudio:
    """Decode ``source`` (a path, bytes or a binary file object) to mono float32 at ``sample_rate``."""
    chunks: list[np.ndarray] = []
    info = _decode(source, sample_rate, max_duration_s, allow_silent, keep=chunks.append)
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    np.clip(samples, -1.0, 1.0, out=samples)
    return DecodedAudio(
        samples=samples,
        sample_rate=sample_rate,
        source_sample_rate=info.source_sample_rate,
        source_channels=info.source_channels,
        container=info.container,
        codec=info.codec,
    )


def inspect_audio(source: AudioSource, *, max_duration_s: float | None = None, allow_silent: bool = False) -> AudioInfo:
    """Every check ``decode_audio`` makes (the same errors), without keeping the decoded samples:
    memory stays at one frame whatever the length (an upload is checked in the request and
    decoded in full by the worker)."""
    return _decode(source, SAMPLE_RATE, max_duration_s, allow_silent, keep=None)


def _open(source: AudioSource) -> av.container.InputContainer:
    if isinstance(source, bytes):
        if not source:
            raise AudioError("empty", "The file is empty.")
        source = io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            raise AudioError("not_found", "This is a folder, not an audio file.")
        if not path.exists():
            raise AudioError("not_found", "The file does not exist.")
        if not path.is_file():  # a device, pipe or socket: nothing to open as a recording
            raise AudioError("not_audio", "This is not a regular file, so not an audio file.")
        if path.stat().st_size == 0:
            raise AudioError("empty", "The file is empty.")
    else:
        position = source.tell()
        if not source.read(1):
            raise AudioError("empty", "The file is empty.")
        source.seek(position)
    try:
        return av.open(source, mode="r", metadata_errors="ignore", container_options=_OPEN_OPTIONS)
    except av.error.EOFError as exc:
        raise AudioError("corrupt", "The file ends too early: it is truncated or corrupt.") from exc
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError("not_audio", "This is not an audio file Outcry can read (or it is corrupt).") from exc


def _decode(
    source: AudioSource,
    sample_rate: int,
    max_duration_s: float | None,
    allow_silent: bool,
    keep: Callable[[np.ndarray], None] | None,
) -> AudioInfo:
    """Decode to mono float32 at ``sample_rate``, chunk by chunk, handing each chunk to ``keep``;
    raises AudioError for anything that cannot be analysed."""
    container = _open(source)
    with container:
        if not container.streams.audio:
            raise AudioError("not_audio", "The file has no audio track.")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        source_rate = stream.rate or stream.codec_context.sample_rate or 0
        source_channels = stream.codec_context.channels or 0
        if max_duration_s is not None and container.duration and container.duration / av.time_base > max_duration_s + 1:
            raise AudioError(
                "too_long",
                f"The recording lasts {container.duration / av.time_base:.0f} s; the limit is {max_duration_s:.0f} s.",
            )
        max_samples = int((max_duration_s + 1) * sample_rate) if max_duration_s is not None else None
        # Keep the source's channels and average them here: FFmpeg's own downmix to mono adds the
        # channels at -3 dB each, which makes stereo 3 dB louder than the same sound in mono (and clips).
        resampler = av.AudioResampler(format="fltp", rate=sample_rate)
        total = 0
        peak = 0.0
        finite = True
        packet_bytes = 0

        def take(chunk: np.ndarray) -> None:
            nonlocal total, peak, finite
            total += len(chunk)
            if chunk.size:
                finite = finite and bool(np.isfinite(chunk).all())
                peak = max(peak, float(np.max(np.abs(chunk))))
            if keep is not None:
                keep(chunk)

        try:
            for packet in container.demux(stream):
                packet_bytes += packet.size
                for frame in packet.decode():
                    frame.pts = None  # let the resampler count; some files have broken timestamps
                    for out in resampler.resample(frame):
                        take(_to_mono(out))
                if max_samples is not None and total > max_samples:
                    raise AudioError("too_long", f"The recording is longer than the limit of {max_duration_s:.0f} s.")
        except av.error.FFmpegError as exc:
            if not total:
                raise AudioError("corrupt", "The audio data is corrupt and could not be decoded.") from exc
            # A truncated tail (a cut-off upload, a damaged last packet): keep what decoded.
        for out in resampler.resample(None):
            take(_to_mono(out))
        if not total and (packet_bytes or container.duration):
            # Audio was declared or demuxed but none decoded: a valid header over damaged data.
            raise AudioError("corrupt", "The audio data is corrupt and could not be decoded.")
        codec = stream.codec_context.name or "unknown"
        container_name = container.format.name or "unknown"

    if total == 0:
        raise AudioError("empty", "The file contains no audio samples.")
    if max_duration_s is not None and total / sample_rate > max_duration_s:
        raise AudioError(
            "too_long",
            f"The recording lasts {total / sample_rate:.0f} s; the limit is {max_duration_s:.0f} s.",
        )
    if not finite:
        raise AudioError("corrupt", "The audio data is corrupt (invalid sample values).")
    if not allow_silent and min(peak, 1.0) < SILENCE_PEAK:
        raise AudioError("silent", "The recording is silent (no signal above -80 dBFS).")
    return AudioInfo(
        duration_s=total / sample_rate,
        source_sample_rate=int(source_rate),
        source_channels=int(source_channels),
        container=container_name,
        codec=codec,
    )
