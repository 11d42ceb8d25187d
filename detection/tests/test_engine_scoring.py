"""DetectorEngine scores windows in batches and analyses recordings into events."""

import io
import json

import numpy as np
import pytest

from detection import features
from detection.audio import AudioError
from detection.engine import Analysis, DetectorEngine
from detection.tests.conftest import burst_signal, noise, tiny_probability, write_wav


@pytest.fixture(scope="module")
def engine(tiny_model):
    return DetectorEngine(tiny_model)


@pytest.fixture(scope="module")
def mixed_windows():
    rng = np.random.default_rng(3)
    signals = [noise(1.0, dbfs=float(level), seed=seed) for seed, level in enumerate(rng.uniform(-95, -10, 37))]
    return np.concatenate([features.window_features(signal, [0]) for signal in signals])


def test_scores_are_the_models_scream_probabilities(engine, mixed_windows):
    scores = engine.score_windows(mixed_windows)
    assert scores.dtype == np.float32 and scores.shape == (37,)
    np.testing.assert_allclose(scores, tiny_probability(mixed_windows), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 5, 16, 64])
def test_batching_gives_the_same_scores_as_batch_one(engine, mixed_windows, batch_size):
    one_at_a_time = np.array([engine.score_windows(window[None], batch_size=1)[0] for window in mixed_windows])
    np.testing.assert_allclose(engine.score_windows(mixed_windows, batch_size=batch_size), one_at_a_time, atol=1e-6)


def test_model_with_a_fixed_batch_dimension_is_fed_padded_batches(make_tiny_model, mixed_windows):
    fixed = DetectorEngine(make_tiny_model(batch=8))
    np.testing.assert_allclose(fixed.score_windows(mixed_windows), tiny_probability(mixed_windows), atol=1e-5)


def test_no_windows_gives_no_scores(engine):
    assert engine.score_windows(np.zeros((0, *features.FEATURE_SHAPE), np.float32)).shape == (0,)


def test_features_of_the_wrong_shape_are_refused(engine):
    with pytest.raises(ValueError, match="shape"):
        engine.score_windows(np.zeros((2, 1, 128, 51), np.float32))


def test_analyze_finds_the_loud_burst(engine):
    analysis = engine.analyze(burst_signal(6.0, [(2.0, 3.0)]))
    assert isinstance(analysis, Analysis)
    assert analysis.duration_s == pytest.approx(6.0)
    assert analysis.hop_s == pytest.approx(0.5)
    np.testing.assert_allclose(analysis.window_starts_s, np.arange(11) * 0.5)
    assert analysis.scores.shape == (11,)
    (event,) = analysis.events
    assert 1.0 <= event.start_s <= 2.0 and 3.0 <= event.end_s <= 4.0
    assert event.peak_score == pytest.approx(analysis.max_score)
    assert analysis.threshold <= event.mean_score <= event.peak_score
    assert analysis.model_version == "test-tiny-1"


def test_analyze_two_separate_bursts_and_custom_hop(engine):
    analysis = engine.analyze(burst_signal(10.0, [(1.0, 2.0), (7.0, 8.0)]), hop_s=0.25)
    assert analysis.hop_s == pytest.approx(0.25)
    assert [round(event.start_s) for event in analysis.events] == [1, 7]


def test_quiet_recording_has_no_events(engine):
    analysis = engine.analyze(noise(3.0, dbfs=-90))
    assert analysis.events == [] and analysis.max_score < 0.5


def test_threshold_argument_overrides_the_models(engine):
    signal = burst_signal(4.0, [(1.0, 2.0)])
    assert engine.analyze(signal, threshold=0.999999).events == []
    assert engine.analyze(signal, threshold=0.999999).threshold == pytest.approx(0.999999)


def test_short_clip_is_one_padded_window_and_event_clipped(engine):
    analysis = engine.analyze(noise(0.9, dbfs=-15), threshold=0.01)
    assert analysis.scores.shape == (1,)
    (event,) = analysis.events
    assert (event.start_s, event.end_s) == (0.0, pytest.approx(0.9))


def test_long_recording_is_scored_in_steps_like_one_pass(engine):
    signal = burst_signal(140.0, [(30.0, 31.0), (100.0, 102.0)])
    analysis = engine.analyze(signal, hop_s=0.5, batch_size=32)
    starts = features.window_starts(len(signal), hop_samples=8000)
    np.testing.assert_allclose(analysis.scores, tiny_probability(features.window_features(signal, starts)), atol=1e-5)
    assert [round(event.start_s) for event in analysis.events] == [30, 100]


@pytest.mark.parametrize("hop_s", [0, -0.5, 1.01, float("nan"), 1e-6])
def test_invalid_hop_is_refused(engine, hop_s):
    with pytest.raises(ValueError, match="hop_s"):
        engine.analyze(noise(2.0, dbfs=-20), hop_s=hop_s)


def test_hop_of_one_window_is_allowed(engine):
    assert engine.analyze(noise(3.0, dbfs=-20), hop_s=1.0).window_starts_s.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("threshold", [0.0, 1.0, -1])
def test_invalid_threshold_is_refused(engine, threshold):
    with pytest.raises(ValueError, match="threshold"):
        engine.analyze(noise(1.0, dbfs=-20), threshold=threshold)


def test_stereo_or_empty_samples_are_refused(engine):
    with pytest.raises(ValueError, match="mono"):
        engine.analyze(np.zeros((2, 16000), np.float32))
    with pytest.raises(ValueError, match="empty"):
        engine.analyze(np.zeros(0, np.float32))


def test_analyze_file_from_path_bytes_and_file_object(engine, tmp_path):
    path = write_wav(tmp_path / "burst.wav", burst_signal(4.0, [(1.0, 2.0)]))
    for source in (path, str(path), path.read_bytes(), io.BytesIO(path.read_bytes())):
        analysis = engine.analyze_file(source)
        assert analysis.duration_s == pytest.approx(4.0)
        assert len(analysis.events) == 1


def test_analyze_file_propagates_audio_errors(engine, tmp_path):
    path = write_wav(tmp_path / "long.wav", noise(5.0, dbfs=-20))
    with pytest.raises(AudioError) as error:
        engine.analyze_file(path, max_duration_s=2)
    assert error.value.code == "too_long"
    with pytest.raises(AudioError) as error:
        engine.analyze_file(b"")
    assert error.value.code == "empty"


def test_analyze_file_checks_the_hop_before_decoding(engine):
    with pytest.raises(ValueError, match="hop_s"):
        engine.analyze_file(b"", hop_s=2.0)


def test_to_dict_is_json_ready(engine):
    analysis = engine.analyze(burst_signal(3.0, [(1.0, 2.0)]))
    document = json.loads(json.dumps(analysis.to_dict()))
    assert set(document) >= {"duration_s", "hop_s", "window_s", "threshold", "model_version", "max_score", "events"}
    assert document["events"][0].keys() == {"start_s", "end_s", "peak_score", "mean_score"}
    assert len(document["windows"]["start_s"]) == len(document["windows"]["score"]) == 5
    assert "windows" not in analysis.to_dict(windows=False)
