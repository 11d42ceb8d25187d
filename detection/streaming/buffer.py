"""Per-connection audio state: PCM decoding, a continuous resampler to 16 kHz, and a ring buffer.

Everything here is plain numpy and synchronous; the consumer calls it on the event loop with
frames of at most one second, which takes well under a millisecond.
"""

from math import gcd

import numpy as np
from scipy.signal import firwin, lfilter, lfilter_zi

from detection.features import SAMPLE_RATE

# Anti-aliasing before downsampling: linear-phase FIR, cut just under the new Nyquist (8 kHz).
_ANTIALIAS_TAPS = 63
_ANTIALIAS_CUTOFF_HZ = 0.47 * SAMPLE_RATE


def decode_pcm(frame: bytes, *, audio_format: str, channels: int) -> np.ndarray:
    """Mono float32 in [-1, 1] from interleaved little-endian PCM."""
    if audio_format == "pcm_s16le":
        samples = np.frombuffer(frame, dtype="<i2").astype(np.float32) / 32768.0
    else:
        samples = np.nan_to_num(np.frombuffer(frame, dtype="<f4").astype(np.float32), copy=False)
        np.clip(samples, -1.0, 1.0, out=samples)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


class StreamResampler:
    """Resamples consecutive chunks to 16 kHz as one continuous signal (no clicks at chunk edges).

    Downsampling low-passes first (FIR with carried state); the rate change is linear interpolation
    whose fractional position is carried from chunk to chunk.
    """

    def __init__(self, source_rate: int, target_rate: int = SAMPLE_RATE):
        self.source_rate = source_rate
        self.target_rate = target_rate
        divisor = gcd(source_rate, target_rate)
        self._step = (source_rate // divisor) / (target_rate // divisor)  # input samples per output sample
        self._filter = None
        if source_rate > target_rate:
            self._filter = firwin(_ANTIALIAS_TAPS, _ANTIALIAS_CUTOFF_HZ, fs=source_rate).astype(np.float64)
            self._filter_state = lfilter_zi(self._filter, [1.0]) * 0.0
        self._previous = 0.0  # last input sample of the previous chunk
        self._position = 1.0  # next output position, in samples of [previous, *chunk]

    def process(self, chunk: np.ndarray) -> np.ndarray:
        if self.source_rate == self.target_rate or chunk.size == 0:
            return chunk.astype(np.float32, copy=False)
        signal = chunk.astype(np.float64)
        if self._filter is not None:
            signal, self._filter_state = lfilter(self._filter, [1.0], signal, zi=self._filter_state)
        extended = np.concatenate(([self._previous], signal))
        last = len(extended) - 1
        count = int(np.floor((last - self._position) / self._step)) + 1 if self._position <= last else 0
        positions = self._position + self._step * np.arange(count)
        out = np.interp(positions, np.arange(len(extended)), extended).astype(np.float32)
        self._position = (self._position + self._step * count) - last
        self._previous = float(extended[-1])
        return out


class RingBuffer:
    """The last ``capacity`` samples of a stream, addressed by absolute sample index since it began."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._data = np.zeros(2 * capacity, dtype=np.float32)
        self._fill = 0
        self.start = 0  # absolute index of _data[0]

    @property
    def end(self) -> int:
        """Absolute index one past the newest sample (= samples received so far)."""
        return self.start + self._fill

    @property
    def oldest(self) -> int:
        return max(self.start, self.end - self.capacity)

    def append(self, samples: np.ndarray) -> None:
        if samples.size >= self.capacity:
            self.start = self.end + samples.size - self.capacity
            self._data[: self.capacity] = samples[-self.capacity :]
            self._fill = self.capacity
            return
        if self._fill + samples.size > len(self._data):
            keep = self.capacity - samples.size
            self._data[:keep] = self._data[self._fill - keep : self._fill]
            self.start += self._fill - keep
            self._fill = keep
        self._data[self._fill : self._fill + samples.size] = samples
        self._fill += samples.size

    def read(self, begin: int, stop: int) -> np.ndarray:
        """A copy of samples [begin, stop); the part older than the buffer or not yet received is absent."""
        begin, stop = max(begin, self.oldest), min(stop, self.end)
        if stop <= begin:
            return np.zeros(0, dtype=np.float32)
        return self._data[begin - self.start : stop - self.start].copy()


def level_dbfs(samples: np.ndarray, *, floor_db: float = -120.0) -> float:
    """RMS level in dB relative to full scale (a full-scale square wave is 0 dBFS)."""
    if samples.size == 0:
        return floor_db
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return round(max(20.0 * np.log10(max(rms, 1e-12)), floor_db), 1)
