"""get_engine(): one engine per process, built lazily from settings, safe under concurrent first use."""

import threading
from unittest import mock

import pytest

from detection import engine as engine_module
from detection.engine import DetectorEngine, ModelError, get_engine


@pytest.fixture(autouse=True)
def _fresh_singleton(monkeypatch):
    monkeypatch.setattr(engine_module, "_cached_engine", None)


def test_engine_is_built_once_from_settings(settings, tiny_model):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    settings.DETECTION_THRESHOLD = 0.0
    first = get_engine()
    assert first is get_engine()
    assert first.model_path == tiny_model and first.intra_op_threads == 1
    assert first.threshold == pytest.approx(0.5)  # the model's own


def test_threshold_setting_overrides_the_models(settings, tiny_model):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    settings.DETECTION_THRESHOLD = 0.7
    assert get_engine().threshold == pytest.approx(0.7)


def test_changed_settings_give_a_new_engine(settings, tiny_model, make_tiny_model):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    first = get_engine()
    settings.DETECTION_MODEL_PATH = str(make_tiny_model(metadata={"model_version": "other"}))
    assert get_engine() is not first and get_engine().model_version == "other"


def test_missing_model_raises_model_error(settings, tmp_path):
    settings.DETECTION_MODEL_PATH = str(tmp_path / "absent.onnx")
    with pytest.raises(ModelError, match="DETECTION_MODEL_PATH"):
        get_engine()


def test_concurrent_first_calls_build_exactly_one_engine(settings, tiny_model):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    built = []
    real_init = DetectorEngine.__init__

    def slow_init(self, *args, **kwargs):
        built.append(self)
        threading.Event().wait(0.05)  # widen the race window
        real_init(self, *args, **kwargs)

    barrier = threading.Barrier(8)
    results = []

    def call():
        barrier.wait()
        results.append(get_engine())

    with mock.patch.object(DetectorEngine, "__init__", slow_init):
        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(built) == 1
    assert len(results) == 8 and all(result is results[0] for result in results)


def test_one_engine_scores_from_many_threads(settings, tiny_model):
    from detection.tests.conftest import burst_signal

    settings.DETECTION_MODEL_PATH = str(tiny_model)
    signal = burst_signal(4.0, [(1.0, 2.0)])
    expected = get_engine().analyze(signal).scores
    outcomes = []

    def analyse():
        outcomes.append(get_engine().analyze(signal).scores)

    threads = [threading.Thread(target=analyse) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 4
    for scores in outcomes:
        assert scores.tolist() == expected.tolist()


@pytest.mark.parametrize(("threads", "threshold"), [(0, 0.0), (1, 1.5)])
def test_invalid_settings_raise_model_error(settings, tiny_model, threads, threshold):
    settings.DETECTION_MODEL_PATH = str(tiny_model)
    settings.DETECTION_INTRA_OP_THREADS = threads
    settings.DETECTION_THRESHOLD = threshold
    with pytest.raises(ModelError, match="Invalid detection settings"):
        get_engine()
