"""Waveform augmentations keep the segment's length and produce finite audio."""

import numpy as np
import pytest

pytest.importorskip("scipy")

from detection.features import FEATURE_SHAPE, WINDOW_SAMPLES, window_features
from detection.training import augment
from detection.training.augment import CONTEXT_SAMPLES, SEGMENT_SAMPLES, WindowAugmenter


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _tone(seconds: float) -> np.ndarray:
    times = np.arange(int(seconds * 16_000)) / 16_000
    return (0.5 * np.sin(2 * np.pi * 700 * times)).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.2, 0.9, 1.0, 3.5])
@pytest.mark.parametrize("label", [0, 1])
def test_segments_have_fixed_length_and_finite_values(rng, seconds, label):
    clip = _tone(seconds)
    augmenter = WindowAugmenter([np.random.default_rng(1).standard_normal(8000).astype(np.float32)])
    starts = augment.energetic_starts(clip, WINDOW_SAMPLES)
    for _ in range(20):
        segment = augmenter.segment(clip, rng, label=label, crop_starts=starts)
        assert segment.shape == (SEGMENT_SAMPLES,)
        assert segment.dtype == np.float32
        assert np.isfinite(segment).all()
        assert np.abs(segment).max() <= 1.0
    features = window_features(segment, [CONTEXT_SAMPLES])
    assert features.shape == (1, *FEATURE_SHAPE) and np.isfinite(features).all()


def test_short_scream_stays_inside_the_window(rng):
    clip = _tone(0.5)
    augmenter = WindowAugmenter(
        [],
        augment.AugmentConfig(
            background_probability=0.0, reverb_probability=0.0, eq_probability=0.0, band_limit_probability=0.0
        ),
    )
    for _ in range(10):
        segment = augmenter.segment(clip, rng, label=1)
        assert np.abs(segment[:CONTEXT_SAMPLES]).max() == 0.0
        assert np.abs(segment[-CONTEXT_SAMPLES:]).max() == 0.0


def test_energetic_crops_skip_quiet_parts():
    clip = np.concatenate([np.full(48_000, 1e-4, np.float32), _tone(1.5), np.full(48_000, 1e-4, np.float32)])
    starts = augment.energetic_starts(clip, WINDOW_SAMPLES)
    # RMS at least half the loudest crop's: a crop holding at least a quarter second of the tone.
    assert starts.min() >= 48_000 - 3 * WINDOW_SAMPLES // 4
    assert starts.max() <= 48_000 + 24_000 - WINDOW_SAMPLES // 4


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0, 20.0])
def test_mix_at_snr_sets_the_ratio_over_the_foreground_span(rng, snr_db):
    foreground = np.zeros(32_000, np.float32)
    foreground[8_000:16_000] = _tone(0.5)
    background = rng.standard_normal(32_000).astype(np.float32)
    mixed = augment.mix_at_snr(foreground, background, snr_db)
    added = (mixed - foreground)[8_000:16_000]
    measured = 20 * np.log10(augment.rms(foreground[8_000:16_000]) / augment.rms(added))
    assert measured == pytest.approx(snr_db, abs=0.01)


@pytest.mark.parametrize(
    "transform",
    [
        lambda x, rng: augment.change_speed(x, 1.25),
        lambda x, rng: augment.change_speed(x, 0.8),
        augment.reverberate,
        augment.microphone_eq,
        augment.band_limit,
    ],
)
def test_transforms_give_finite_audio(rng, transform):
    out = transform(_tone(1.0), rng)
    assert out.ndim == 1 and len(out) > 0 and np.isfinite(out).all()


def test_band_limit_removes_high_frequencies(rng):
    noise = rng.standard_normal(16_000).astype(np.float32)
    for _ in range(5):
        limited = augment.band_limit(noise, rng)
        spectrum = np.abs(np.fft.rfft(limited)) ** 2
        assert spectrum[7_800:].sum() < 0.05 * spectrum.sum()


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
def test_coloured_noise_has_unit_rms(rng, colour):
    assert augment.rms(augment.coloured_noise(16_000, rng, colour)) == pytest.approx(1.0, rel=1e-3)


def test_spec_augment_masks_without_changing_shape(rng):
    features = rng.standard_normal((4, *FEATURE_SHAPE)).astype(np.float32)
    masked = augment.spec_augment(features, rng)
    assert masked.shape == features.shape
    assert np.isfinite(masked).all()
    assert not np.shares_memory(masked, features)


def test_mixup_blends_features_and_targets_by_the_same_weight(rng):
    features = rng.standard_normal((16, *FEATURE_SHAPE)).astype(np.float32)
    labels = np.array([0, 1] * 8)
    mixed, targets = augment.mixup(features, labels, rng, alpha=0.4)
    assert mixed.shape == features.shape and mixed.dtype == np.float32
    assert targets.shape == (16, 2) and np.allclose(targets.sum(axis=1), 1.0)
    # Each example keeps the larger share of itself, so its own class keeps at least half the target.
    assert (targets[np.arange(16), labels] >= 0.5 - 1e-6).all()
    # The blend weight of each example explains its features from itself and exactly one partner.
    for index in range(16):
        own_weight = targets[index, labels[index]] if targets[index].max() < 1 else None
        if own_weight is None:
            continue
        residual = mixed[index] - own_weight * features[index]
        partner_share = 1.0 - own_weight
        matches = [
            other
            for other in range(16)
            if labels[other] != labels[index] and np.allclose(residual, partner_share * features[other], atol=1e-5)
        ]
        assert len(matches) == 1
    assert not np.allclose(mixed, features)
