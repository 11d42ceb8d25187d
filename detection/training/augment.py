"""Waveform augmentation for training windows (numpy/scipy only, driven by a numpy Generator).

A training example is a 1-s window plus half an FFT of real context each side (``SEGMENT_SAMPLES``),
so its feature is computed exactly as in serving. The pipeline: crop or place the source clip,
change speed and pitch by resampling, reverberate with a synthetic room, colour with microphone or
phone-band EQ (screams too: most 8/11 kHz files in the corpus are speech, and a band-limited scream
must stay a scream), mix with a background at a random SNR (for both classes, so a background never
means "scream"), and set a random level.
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import signal

from detection.features import N_FFT, SAMPLE_RATE, WINDOW_SAMPLES

CONTEXT_SAMPLES = N_FFT // 2
SEGMENT_SAMPLES = WINDOW_SAMPLES + 2 * CONTEXT_SAMPLES
LOWPASS_CUTOFFS_HZ = (3400.0, 4000.0, 5500.0, 8000.0)  # 8, 8-ish, 11 and 16 kHz recordings
# Screams in the corpus are short game cries; a long one is cropped where it is loud.
ENERGETIC_CROP_RATIO = 0.5


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0


def energetic_starts(samples: np.ndarray, length: int, *, hop: int = 800) -> np.ndarray:
    """Starts of ``length``-sample crops whose RMS is at least half the loudest crop's."""
    if len(samples) <= length:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, len(samples) - length + 1, hop)
    cumulative = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    energies = (cumulative[starts + length] - cumulative[starts]) / length
    levels = np.sqrt(np.maximum(energies, 0.0))
    return starts[levels >= ENERGETIC_CROP_RATIO * levels.max()]


def place(clip: np.ndarray, length: int, rng: np.random.Generator, starts: np.ndarray | None = None) -> np.ndarray:
    """``length`` samples: a crop of a longer clip (at one of ``starts`` if given), or a shorter clip
    placed at a random offset in silence."""
    out = np.zeros(length, dtype=np.float32)
    if len(clip) >= length:
        if starts is not None and len(starts):
            start = int(rng.choice(starts))
            start = min(start + int(rng.integers(-length // 8, length // 8 + 1)), len(clip) - length)
            start = max(start, 0)
        else:
            start = int(rng.integers(0, len(clip) - length + 1))
        out[:] = clip[start : start + length]
    else:
        offset = int(rng.integers(0, length - len(clip) + 1))
        out[offset : offset + len(clip)] = clip
    return out


def loop_to(clip: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``length``-sample stretch of ``clip`` repeated as often as needed (for backgrounds)."""
    if len(clip) == 0:
        return np.zeros(length, dtype=np.float32)
    repeats = int(np.ceil((length + len(clip)) / len(clip)))
    tiled = np.tile(clip, repeats)
    start = int(rng.integers(0, len(clip)))
    return tiled[start : start + length].astype(np.float32, copy=False)


def change_speed(samples: np.ndarray, factor: float) -> np.ndarray:
    """Play ``factor`` times faster (pitch up by the same ratio) by polyphase resampling."""
    ratio = Fraction(1.0 / factor).limit_denominator(64)
    if ratio == 1:
        return samples
    return signal.resample_poly(samples, ratio.numerator, ratio.denominator).astype(np.float32)


def random_speed_factor(rng: np.random.Generator) -> float:
    """0.8-1.25x speed, which also covers about +-4 semitones of pitch."""
    return float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))


def room_impulse_response(rng: np.random.Generator, *, rt60_s: float | None = None) -> np.ndarray:
    """Exponentially decaying noise with a direct path: a synthetic room, RT60 0.1-1.0 s."""
    rt60_s = rt60_s if rt60_s is not None else float(rng.uniform(0.1, 1.0))
    length = int(min(rt60_s, 1.0) * SAMPLE_RATE)
    times = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * np.exp(-6.9 * times / rt60_s)
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0  # the first reflections arrive after the direct sound
    tail = signal.sosfilt(signal.butter(2, float(rng.uniform(2000, 7500)), fs=SAMPLE_RATE, output="sos"), tail)
    tail /= np.sqrt(np.sum(tail**2)) + 1e-12
    response = tail * float(rng.uniform(0.3, 1.5))
    response[0] += 1.0
    return response.astype(np.float32)


def reverberate(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    wet = signal.fftconvolve(samples, room_impulse_response(rng))[: len(samples)]
    mix = float(rng.uniform(0.3, 1.0))
    out = mix * wet + (1.0 - mix) * samples
    return (out * (rms(samples) / (rms(out) + 1e-12))).astype(np.float32)


def _biquad(kind: str, frequency: float, gain_db: float, q: float) -> np.ndarray:
    """RBJ cookbook peaking / shelving biquad as one second-order section."""
    amplitude = 10.0 ** (gain_db / 40.0)
    omega = 2.0 * np.pi * frequency / SAMPLE_RATE
    alpha = np.sin(omega) / (2.0 * q)
    cos = np.cos(omega)
    if kind == "peak":
        b = [1 + alpha * amplitude, -2 * cos, 1 - alpha * amplitude]
        a = [1 + alpha / amplitude, -2 * cos, 1 - alpha / amplitude]
    else:
        sign = 1.0 if kind == "low_shelf" else -1.0
        root = 2.0 * np.sqrt(amplitude) * alpha
        b = [
            amplitude * ((amplitude + 1) - sign * (amplitude - 1) * cos + root),
            sign * 2 * amplitude * ((amplitude - 1) - sign * (amplitude + 1) * cos),
            amplitude * ((amplitude + 1) - sign * (amplitude - 1) * cos - root),
        ]
        a = [
            (amplitude + 1) + sign * (amplitude - 1) * cos + root,
            -sign * 2 * ((amplitude - 1) + sign * (amplitude + 1) * cos),
            (amplitude + 1) + sign * (amplitude - 1) * cos - root,
        ]
    return np.concatenate([np.asarray(b) / a[0], np.asarray(a) / a[0]])[None, :]


def microphone_eq(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One to three random shelves and peaks of +-10 dB: the colour of a cheap microphone or speaker."""
    sections = []
    for _ in range(int(rng.integers(1, 4))):
        kind = str(rng.choice(["peak", "low_shelf", "high_shelf"]))
        frequency = float(np.exp(rng.uniform(np.log(100.0), np.log(6000.0))))
        sections.append(_biquad(kind, frequency, float(rng.uniform(-10.0, 10.0)), float(rng.uniform(0.5, 2.0))))
    return signal.sosfilt(np.concatenate(sections), samples).astype(np.float32)


def band_limit(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Telephone band (300-3400 Hz) or a low-pass like a low sample rate's Nyquist."""
    if rng.random() < 0.25:
        sos = signal.butter(4, [300.0, 3400.0], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    else:
        cutoff = float(rng.choice(LOWPASS_CUTOFFS_HZ)) * float(rng.uniform(0.9, 1.0))
        sos = signal.butter(8, min(cutoff, 7800.0), fs=SAMPLE_RATE, output="sos")
    return signal.sosfilt(sos, samples).astype(np.float32)


def coloured_noise(length: int, rng: np.random.Generator, colour: str | None = None) -> np.ndarray:
    """White, pink or brown noise at unit RMS."""
    colour = colour or str(rng.choice(["white", "pink", "brown"]))
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.maximum(np.fft.rfftfreq(length, 1.0 / SAMPLE_RATE), 20.0)
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[colour]
    noise = np.fft.irfft(spectrum / frequencies**exponent, n=length)
    return (noise / (rms(noise) + 1e-12)).astype(np.float32)


def mix_at_snr(foreground: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """``foreground`` plus ``background`` scaled so that their RMS ratio is ``snr_db``.

    The foreground's RMS is taken over its non-silent span (where a placed short clip actually is),
    the background's over the same span.
    """
    active = np.flatnonzero(np.abs(foreground) > 1e-6)
    if active.size == 0:
        return (foreground + background).astype(np.float32)
    span = slice(active[0], active[-1] + 1)
    background_level = rms(background[span])
    if background_level < 1e-9:
        return (foreground + background).astype(np.float32)
    scale = rms(foreground[span]) / background_level / 10.0 ** (snr_db / 20.0)
    return (foreground + scale * background).astype(np.float32)


def random_snr_db(rng: np.random.Generator) -> float:
    """Mostly 0-20 dB, sometimes -5-0 dB."""
    return float(rng.uniform(-5.0, 0.0) if rng.random() < 0.15 else rng.uniform(0.0, 20.0))


@dataclass
class AugmentConfig:
    speed_probability: float = 0.7
    reverb_probability: float = 0.4
    eq_probability: float = 0.5
    band_limit_probability: float = 0.3
    background_probability: float = 0.75
    noise_background_share: float = 0.35  # the rest are real non-scream clips
    second_background_probability: float = 0.15
    noise_only_negative_probability: float = 0.05


class WindowAugmenter:
    """Makes augmented ``SEGMENT_SAMPLES`` segments from decoded clips.

    ``backgrounds`` are real non-scream clips (from the TRAIN split only) mixed under both classes.
    """

    def __init__(self, backgrounds: list[np.ndarray], config: AugmentConfig | None = None):
        self.backgrounds = [clip for clip in backgrounds if len(clip) > 0]
        self.config = config or AugmentConfig()

    def background(self, rng: np.random.Generator, length: int = SEGMENT_SAMPLES) -> np.ndarray:
        if not self.backgrounds or rng.random() < self.config.noise_background_share:
            noise = coloured_noise(length, rng)
        else:
            noise = loop_to(self.backgrounds[int(rng.integers(len(self.backgrounds)))], length, rng)
        if rng.random() < 0.3:
            noise = microphone_eq(noise, rng)
        return noise

    def segment(
        self, clip: np.ndarray, rng: np.random.Generator, *, label: int, crop_starts: np.ndarray | None = None
    ) -> np.ndarray:
        """One augmented segment (window plus FFT context) from ``clip``; ``label`` 1 is a scream."""
        config = self.config
        if label == 0 and rng.random() < config.noise_only_negative_probability:
            return self._finish(self.background(rng), rng)
        factor = random_speed_factor(rng) if rng.random() < config.speed_probability else 1.0
        # Crop enough source for the speed change, then resample to about one segment.
        source_length = int(np.ceil(SEGMENT_SAMPLES * factor)) + 16
        if len(clip) > source_length:
            starts = None
            if crop_starts is not None:
                starts = crop_starts + (WINDOW_SAMPLES - source_length) // 2
                starts = np.clip(starts, 0, len(clip) - source_length)
            clip = place(clip, source_length, rng, starts)
        if factor != 1.0:
            clip = change_speed(clip, factor)
        if label == 1 and len(clip) < SEGMENT_SAMPLES:
            # A short scream lies wholly inside the 1-s window, not in the FFT context around it.
            window = place(clip[:WINDOW_SAMPLES], WINDOW_SAMPLES, rng)
            segment = np.zeros(SEGMENT_SAMPLES, dtype=np.float32)
            segment[CONTEXT_SAMPLES : CONTEXT_SAMPLES + WINDOW_SAMPLES] = window
        else:
            segment = place(clip, SEGMENT_SAMPLES, rng)
        if rng.random() < config.reverb_probability:
            segment = reverberate(segment, rng)
        if rng.random() < config.eq_probability:
            segment = microphone_eq(segment, rng)
        if rng.random() < config.band_limit_probability:
            segment = band_limit(segment, rng)
        if rng.random() < config.background_probability:
            segment = mix_at_snr(segment, self.background(rng), random_snr_db(rng))
            if rng.random() < config.second_background_probability:
                segment = mix_at_snr(segment, self.background(rng), float(rng.uniform(5.0, 25.0)))
        return self._finish(segment, rng)

    @staticmethod
    def _finish(segment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random level: peak between -45 and -1 dBFS."""
        peak = float(np.max(np.abs(segment)))
        if peak < 1e-9:
            return segment.astype(np.float32)
        target = 10.0 ** (rng.uniform(-45.0, -1.0) / 20.0)
        return np.clip(segment * (target / peak), -1.0, 1.0).astype(np.float32)


def spec_augment(
    features: np.ndarray,
    rng: np.random.Generator,
    *,
    freq_masks: int = 2,
    max_bins: int = 8,
    time_masks: int = 2,
    max_frames: int = 6,
) -> np.ndarray:
    """SpecAugment on a batch (N, 1, mels, frames): masked bands and frames set to each example's mean."""
    out = features.copy()
    _, _, n_mels, n_frames = out.shape
    for example in out:
        fill = float(example.mean())
        for _ in range(freq_masks):
            width = int(rng.integers(0, max_bins + 1))
            start = int(rng.integers(0, n_mels - width + 1))
            example[0, start : start + width, :] = fill
        for _ in range(time_masks):
            width = int(rng.integers(0, max_frames + 1))
            start = int(rng.integers(0, n_frames - width + 1))
            example[0, :, start : start + width] = fill
    return out


def mixup(
    features: np.ndarray, labels: np.ndarray, rng: np.random.Generator, *, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mixup (Zhang et al. 2018) inside a batch: each example blended with a shuffled partner by a
    weight drawn from Beta(alpha, alpha); targets become the same blend of the two one-hot labels.
    Returns the mixed features and (N, 2) class probabilities."""
    one_hot = np.eye(2, dtype=np.float32)[labels]
    weights = rng.beta(alpha, alpha, size=len(labels)).astype(np.float32)
    # The larger share stays with the example itself, so a batch keeps its class balance.
    weights = np.maximum(weights, 1.0 - weights)
    partners = rng.permutation(len(labels))
    mixed = weights[:, None, None, None] * features + (1.0 - weights[:, None, None, None]) * features[partners]
    targets = weights[:, None] * one_hot + (1.0 - weights[:, None]) * one_hot[partners]
    return mixed.astype(np.float32), targets.astype(np.float32)
