"""Evidence for a detection, for people: the audio around it and a picture of it.

- ``clip_bounds``: the span to keep, from ``CLIP_MARGIN_S`` before the detection to as long after,
  within the recording.
- ``render_clip``: WAV, PCM 16-bit, 16 kHz mono (plays in every browser, Safari included).
- ``render_spectrogram``: an 800 x 300 PNG (STFT in dB, time in seconds from the recording's
  start) with the detected span shaded.
"""

import io
import wave

import numpy as np

CLIP_MARGIN_S = 2.0
SPECTROGRAM_SIZE_PX = (800, 300)
_DPI = 100
_N_FFT = 512
_HOP = 128
DYNAMIC_RANGE_DB = 70.0


def clip_bounds(*, start_s: float, end_s: float, duration_s: float) -> tuple[float, float]:
    return max(0.0, start_s - CLIP_MARGIN_S), min(duration_s, end_s + CLIP_MARGIN_S)


def clip_samples(samples: np.ndarray, sample_rate: int, *, start_s: float, end_s: float) -> np.ndarray:
    return samples[round(start_s * sample_rate) : round(end_s * sample_rate)]


def render_clip(samples: np.ndarray, sample_rate: int) -> bytes:
    """``samples`` (mono float32 in [-1, 1]) as WAV PCM 16-bit bytes."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def render_spectrogram(
    samples: np.ndarray, sample_rate: int, *, offset_s: float, span: tuple[float, float], title: str = ""
) -> bytes:
    """A PNG spectrogram of ``samples`` (which start ``offset_s`` into the recording), ``span`` shaded."""
    # Imported here: matplotlib takes a second to import and only workers draw. Figure + the Agg
    # canvas directly, never pyplot: no global state, no display, safe in threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = SPECTROGRAM_SIZE_PX
    figure = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # Pad very short clips to one FFT frame so there is always something to draw.
    padded = samples if len(samples) >= _N_FFT else np.pad(samples, (0, _N_FFT - len(samples)))
    _, _, _, image = axes.specgram(
        padded.astype(np.float64) + 1e-9,  # the offset keeps log10 finite on digital silence
        NFFT=_N_FFT,
        Fs=sample_rate,
        noverlap=_N_FFT - _HOP,
        cmap="magma",
        xextent=(offset_s, offset_s + len(padded) / sample_rate),
    )
    loudest_db = float(np.nanmax(image.get_array()))
    image.set_clim(loudest_db - DYNAMIC_RANGE_DB, loudest_db)  # fixed range: quiet noise stays dark
    axes.axvspan(*span, color="#38bdf8", alpha=0.12)
    axes.axvspan(*span, ymin=0.95, ymax=1.0, color="#38bdf8", alpha=0.9, label="Detected scream")
    for edge in span:
        axes.axvline(edge, color="#38bdf8", linewidth=1.2)
    axes.set_xlabel("Time in recording (s)")
    axes.set_ylabel("Frequency (Hz)")
    axes.set_ylim(0, sample_rate / 2)
    if title:
        axes.set_title(title, fontsize=10)
    axes.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()
