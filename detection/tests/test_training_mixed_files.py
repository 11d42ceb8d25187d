"""Screams mixed into backgrounds as whole evaluation files: the SNR holds over the scream's span."""

import numpy as np
import pytest

pytest.importorskip("torch")

from detection.dataset import Record
from detection.training.augment import rms
from detection.training.scoring import mixed_scream_files
from detection.training.train import Clip


def _clip(file: str, label: int, category: str, samples: np.ndarray) -> Clip:
    record = Record(path=None, file=file, label=label, category=category, group=file)
    return Clip(record=record, samples=samples.astype(np.float32), crop_starts=np.zeros(1, np.int64))


def test_each_scream_is_mixed_at_each_snr_with_a_second_of_background_after():
    rng = np.random.default_rng(0)
    scream = _clip("scream/a.wav", 1, "pain_cry", 0.3 * np.sin(np.arange(8000) * 0.3))
    background = _clip("non_scream/rain.wav", 0, "water_wind_rain", 0.05 * rng.standard_normal(20000))
    files = mixed_scream_files([scream], [background], seed=1)
    assert [item.snr_db for item in files] == [0.0, 5.0, 10.0, 20.0]
    for item in files:
        assert item.label == 1 and item.category == "pain_cry" and item.background_file == "non_scream/rain.wav"
        assert len(item.samples) >= 8000 + 16000 + 8000
        assert np.isfinite(item.samples).all() and np.abs(item.samples).max() <= 1.0


def test_backgrounds_prefer_ambient_categories():
    rng = np.random.default_rng(0)
    scream = _clip("scream/a.wav", 1, "pain_cry", 0.3 * np.sin(np.arange(8000) * 0.3))
    speech_like = _clip("non_scream/ui.wav", 0, "game_ui_fx", 0.1 * rng.standard_normal(16000))
    street = _clip("non_scream/street.wav", 0, "ambience_street", 0.1 * rng.standard_normal(16000))
    files = mixed_scream_files([scream], [speech_like, street], seed=3)
    assert {item.background_file for item in files} == {"non_scream/street.wav"}


def test_mixing_level_matches_the_snr():
    rng = np.random.default_rng(0)
    scream = _clip("scream/a.wav", 1, "pain_cry", 0.3 * np.sin(np.arange(8000) * 0.3))
    background = _clip("non_scream/rain.wav", 0, "water_wind_rain", 0.05 * rng.standard_normal(64000))
    (item,) = mixed_scream_files([scream], [background], seed=1, snrs_db=(5.0,))
    # The first half second is background only (the scream starts 0.5-1.5 s in), 5 dB below the scream.
    noise_level = rms(item.samples[:8000])
    assert 20 * np.log10(rms(scream.samples) / noise_level) == pytest.approx(5.0, abs=1.0)
