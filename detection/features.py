"""Preprocessing and log-mel features: the one function training and serving both call.

A window is ``WINDOW_SAMPLES`` of mono audio at ``SAMPLE_RATE``. Its feature is a log-mel
spectrogram of ``N_MELS`` x ``FRAMES_PER_WINDOW``, computed from the window plus half an FFT of
context each side (zeros outside the signal), so a window's feature does not depend on how a long
signal is cut into chunks: a file, a stream and a training clip give the same numbers.

Normalisation is a per-window gain towards ``TARGET_RMS_DBFS``, bounded to ``MAX_BOOST_DB`` so that
room noise is not blown up into something loud. Because a gain is an offset in the log domain, it is
applied to the log-mel values, which lets a whole file share one STFT.
"""

from collections.abc import Sequence
from functools import cache

import librosa
import numpy as np

SAMPLE_RATE = 16_000
WINDOW_S = 1.0
WINDOW_SAMPLES = int(SAMPLE_RATE * WINDOW_S)
N_FFT = 1024
WIN_LENGTH = 640  # 40 ms
HOP_LENGTH = 320  # 20 ms
N_MELS = 64
FMIN_HZ = 50.0
FMAX_HZ = 8000.0
FRAMES_PER_WINDOW = 1 + WINDOW_SAMPLES // HOP_LENGTH  # 51
FEATURE_SHAPE = (1, N_MELS, FRAMES_PER_WINDOW)

TARGET_RMS_DBFS = -20.0
MAX_BOOST_DB = 30.0
MAX_CUT_DB = 40.0
POWER_FLOOR = 1e-10
# Affine map of normalised dB values to roughly unit scale for the network.
FEATURE_OFFSET_DB = -30.0
FEATURE_SCALE_DB = 20.0
# Windows are grouped into chunks that share one STFT; bounds memory on hour-long files.
_CHUNK_WINDOWS = 64


@cache
def _mel_basis() -> np.ndarray:
    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN_HZ, fmax=FMAX_HZ).astype(
        np.float32
    )


@cache
def _stft_window() -> np.ndarray:
    return librosa.filters.get_window("hann", WIN_LENGTH, fftbins=True).astype(np.float32)


def window_starts(n_samples: int, *, hop_samples: int) -> list[int]:
    """Start offsets of the windows covering ``n_samples`` (at least one; the last may be padded)."""
    if hop_samples <= 0:
        raise ValueError("hop_samples must be positive")
    if n_samples <= WINDOW_SAMPLES:
        return [0]
    starts = list(range(0, n_samples - WINDOW_SAMPLES + 1, hop_samples))
    if starts[-1] + WINDOW_SAMPLES < n_samples:
        starts.append(starts[-1] + hop_samples)  # cover the tail (padded with zeros)
    return starts


def window_gain_db(window: np.ndarray) -> float:
    """The gain that brings ``window`` to the target loudness, within the allowed boost and cut."""
    rms = float(np.sqrt(np.mean(np.square(window, dtype=np.float64)))) if window.size else 0.0
    rms_dbfs = 20.0 * np.log10(max(rms, 1e-12))
    return float(np.clip(TARGET_RMS_DBFS - rms_dbfs, -MAX_CUT_DB, MAX_BOOST_DB))


def _segment(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    """samples[start:stop] with zeros wherever the range falls outside the signal."""
    out = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(samples))
    if hi > lo:
        out[lo - start : hi - start] = samples[lo:hi]
    return out


def _log_mel_db(segment: np.ndarray) -> np.ndarray:
    spectrum = librosa.stft(
        segment, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH, window=_stft_window(), center=False
    )
    power = np.square(np.abs(spectrum), dtype=np.float32)
    mel = _mel_basis() @ power
    return 10.0 * np.log10(np.maximum(mel, POWER_FLOOR))


def window_features(samples: np.ndarray, starts: Sequence[int]) -> np.ndarray:
    """Features of the windows beginning at ``starts``: float32 of shape (len(starts), *FEATURE_SHAPE)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError("samples must be mono (1-D)")
    features = np.empty((len(starts), *FEATURE_SHAPE), dtype=np.float32)
    half = N_FFT // 2
    index = 0
    while index < len(starts):
        # A chunk: consecutive windows whose offsets differ by whole STFT hops share one STFT.
        first = starts[index]
        end = index + 1
        while end < len(starts) and end - index < _CHUNK_WINDOWS and (starts[end] - first) % HOP_LENGTH == 0:
            end += 1
        last = starts[end - 1]
        segment = _segment(samples, first - half, last + WINDOW_SAMPLES + half)
        log_mel = _log_mel_db(segment)
        for position in range(index, end):
            offset = (starts[position] - first) // HOP_LENGTH
            gain = window_gain_db(_segment(samples, starts[position], starts[position] + WINDOW_SAMPLES))
            window_db = log_mel[:, offset : offset + FRAMES_PER_WINDOW] + gain
            features[position, 0] = (window_db - FEATURE_OFFSET_DB) / FEATURE_SCALE_DB
        index = end
    return features


def clip_features(samples: np.ndarray) -> np.ndarray:
    """Features of one fixed-length window from a clip: trimmed to, or zero-padded up to, one window."""
    return window_features(samples[:WINDOW_SAMPLES], [0])[0]


def feature_constants() -> dict[str, float]:
    """The settings a model's features were computed with; stored in the exported model so that
    the engine can refuse a model trained on other features."""
    return {
        "sample_rate": SAMPLE_RATE,
        "window_samples": WINDOW_SAMPLES,
        "n_fft": N_FFT,
        "win_length": WIN_LENGTH,
        "hop_length": HOP_LENGTH,
        "n_mels": N_MELS,
        "fmin": FMIN_HZ,
        "fmax": FMAX_HZ,
        "target_rms_dbfs": TARGET_RMS_DBFS,
        "max_boost_db": MAX_BOOST_DB,
        "max_cut_db": MAX_CUT_DB,
        "feature_offset_db": FEATURE_OFFSET_DB,
        "feature_scale_db": FEATURE_SCALE_DB,
    }


def use_single_blas_thread() -> None:
    """One BLAS thread for the whole serving process.

    A window's features end in a small matrix product; multithreaded OpenBLAS makes each one wait
    for its threads (measured 7 ms instead of 0.3 ms per window on a busy 2-core machine). The
    parallelism that pays is across windows, streams and worker processes.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
