"""The engine serves a ResNet34 exported by the training exporter, matching torch (slow: needs torch)."""

import numpy as np
import pytest

from detection import features
from detection.engine import DetectorEngine
from detection.tests.conftest import burst_signal, noise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def windows():
    signal = np.concatenate([burst_signal(4.0, [(1.0, 2.5)]), noise(3.0, dbfs=-30, seed=2)])
    return features.window_features(signal, features.window_starts(len(signal), hop_samples=4000))


def test_exported_model_matches_torch(resnet34_model, windows):
    import torch

    from detection.training.model import build_resnet34

    torch.manual_seed(0)  # the same seed the export used: the same random weights
    model = build_resnet34().eval()
    with torch.inference_mode():
        expected = torch.softmax(model(torch.from_numpy(windows)), dim=1)[:, 1].numpy()
    np.testing.assert_allclose(DetectorEngine(resnet34_model).score_windows(windows), expected, atol=1e-4)


def test_batches_give_the_scores_of_batch_one(resnet34_model, windows):
    engine = DetectorEngine(resnet34_model)
    one_by_one = np.array([engine.score_windows(window[None], batch_size=1)[0] for window in windows])
    np.testing.assert_allclose(engine.score_windows(windows, batch_size=16), one_by_one, atol=1e-5)


def test_analyze_runs_end_to_end(resnet34_model):
    analysis = DetectorEngine(resnet34_model).analyze(burst_signal(5.0, [(1.0, 2.0)]))
    assert analysis.model_version == "random-weights-test" and analysis.scores.shape == (9,)
    assert ((analysis.scores >= 0) & (analysis.scores <= 1)).all()
