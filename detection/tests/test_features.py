"""Log-mel window features: shapes, values, chunking invariance, bounded gain, padding."""

import numpy as np
import pytest

from detection import features
from detection.features import (
    FEATURE_OFFSET_DB,
    FEATURE_SCALE_DB,
    FEATURE_SHAPE,
    MAX_BOOST_DB,
    MAX_CUT_DB,
    SAMPLE_RATE,
    TARGET_RMS_DBFS,
    WINDOW_SAMPLES,
    clip_features,
    window_features,
    window_gain_db,
    window_starts,
)
from detection.tests.conftest import noise


def tone(seconds: float, frequency: float = 1000.0, amplitude: float = 0.1) -> np.ndarray:
    time = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * time)).astype(np.float32)


def test_constants_describe_one_second_64_mel_51_frames():
    assert (SAMPLE_RATE, WINDOW_SAMPLES, FEATURE_SHAPE) == (16_000, 16_000, (1, 64, 51))


def test_window_starts_cover_the_signal():
    assert window_starts(100, hop_samples=8000) == [0]
    assert window_starts(WINDOW_SAMPLES, hop_samples=8000) == [0]
    assert window_starts(3 * WINDOW_SAMPLES, hop_samples=8000) == [0, 8000, 16000, 24000, 32000]
    # A tail shorter than a hop still gets a (zero-padded) window.
    assert window_starts(2 * WINDOW_SAMPLES + 100, hop_samples=16000) == [0, 16000, 32000]
    with pytest.raises(ValueError):
        window_starts(100, hop_samples=0)


def test_shape_and_dtype():
    signal = noise(3.0, dbfs=-20)
    starts = window_starts(len(signal), hop_samples=4000)
    result = window_features(signal, starts)
    assert result.shape == (len(starts), *FEATURE_SHAPE) and result.dtype == np.float32
    assert np.isfinite(result).all()


def test_values_are_roughly_unit_scale():
    result = window_features(noise(1.0, dbfs=-20), [0])
    assert result.min() > -3 and result.max() < 3
    # Normalised to the target loudness, the floor is far below: range is bounded by the affine map.
    floor = (10 * np.log10(features.POWER_FLOOR) - MAX_CUT_DB - FEATURE_OFFSET_DB) / FEATURE_SCALE_DB
    assert result.min() > floor


def test_tone_energy_sits_in_the_right_mel_band():
    low, high = window_features(tone(1.0, 300), [0])[0, 0], window_features(tone(1.0, 3000), [0])[0, 0]
    assert low.mean(axis=1).argmax() < high.mean(axis=1).argmax()


def test_chunked_features_equal_per_window_features():
    signal = noise(12.0, dbfs=-25, seed=4) * np.linspace(0.1, 1.0, 12 * SAMPLE_RATE, dtype=np.float32)
    starts = window_starts(len(signal), hop_samples=4000)  # 45 windows, several share an STFT
    together = window_features(signal, starts)
    one_by_one = np.concatenate([window_features(signal, [start]) for start in starts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)


def test_offsets_off_the_stft_grid_match_too():
    signal = noise(4.0, dbfs=-25, seed=5)
    starts = [0, 1234, 8000, 17777, 48000]
    np.testing.assert_allclose(
        window_features(signal, starts),
        np.concatenate([window_features(signal, [start]) for start in starts]),
        atol=1e-4,
    )


def test_more_windows_than_one_chunk():
    signal = noise(40.0, dbfs=-25, seed=6)
    starts = window_starts(len(signal), hop_samples=4000)  # > 64 windows: several chunks
    assert len(starts) > 64
    np.testing.assert_allclose(
        window_features(signal, starts)[60:70],
        np.concatenate([window_features(signal, [start]) for start in starts[60:70]]),
        atol=1e-4,
    )


def test_gain_brings_the_window_to_the_target_loudness():
    assert window_gain_db(tone(1.0, amplitude=10 ** (TARGET_RMS_DBFS / 20) * np.sqrt(2))) == pytest.approx(0, abs=0.05)
    assert window_gain_db(noise(1.0, dbfs=-30)) == pytest.approx(10, abs=0.1)
    assert window_gain_db(noise(1.0, dbfs=-5)) == pytest.approx(-15, abs=0.1)


def test_quiet_noise_is_boosted_no_more_than_max_boost():
    assert window_gain_db(noise(1.0, dbfs=-90)) == pytest.approx(MAX_BOOST_DB)
    assert window_gain_db(np.zeros(WINDOW_SAMPLES, np.float32)) == pytest.approx(MAX_BOOST_DB)
    quiet, loud = window_features(noise(1.0, dbfs=-90), [0]), window_features(noise(1.0, dbfs=-20), [0])
    # -90 dBFS noise boosted by 30 dB stays 40 dB (2 feature units) below the normalised loud noise.
    assert loud.mean() - quiet.mean() == pytest.approx((70 - MAX_BOOST_DB) / FEATURE_SCALE_DB, abs=0.05)


def test_loudness_is_normalised_within_bounds():
    np.testing.assert_allclose(
        window_features(noise(1.0, dbfs=-35), [0]), window_features(noise(1.0, dbfs=-10), [0]), atol=1e-3
    )


def test_short_clip_is_zero_padded():
    short = noise(0.3, dbfs=-20)
    padded = np.concatenate([short, np.zeros(WINDOW_SAMPLES - len(short), np.float32)])
    result = clip_features(short)
    assert result.shape == FEATURE_SHAPE
    # The gain is measured over the padded window, so padding equals explicit zeros.
    np.testing.assert_allclose(result, clip_features(padded), atol=1e-5)
    assert result[0, :, -10:].mean() < result[0, :, :10].mean() - 1  # the padded end is near the floor


def test_long_clip_is_trimmed_to_its_first_window():
    signal = noise(2.5, dbfs=-20)
    result = clip_features(signal)
    np.testing.assert_allclose(result, window_features(signal[:WINDOW_SAMPLES], [0])[0], atol=1e-6)
    # Trimmed means trimmed: the last frame sees zeros after the window, not the rest of the clip.
    np.testing.assert_allclose(result[..., :-1], window_features(signal, [0])[0][..., :-1], atol=1e-5)


def test_window_reaching_past_the_end_is_padded():
    signal = noise(1.5, dbfs=-20)
    tail = window_features(signal, [8000])[0]
    explicit = window_features(np.concatenate([signal, np.zeros(WINDOW_SAMPLES, np.float32)]), [8000])[0]
    np.testing.assert_allclose(tail, explicit, atol=1e-5)


def test_stereo_input_is_refused():
    with pytest.raises(ValueError, match="mono"):
        window_features(np.zeros((2, WINDOW_SAMPLES), np.float32), [0])
