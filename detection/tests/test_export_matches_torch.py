"""The exported ONNX model (fp32 and int8) gives the torch model's probabilities, with its metadata."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
ort = pytest.importorskip("onnxruntime")

from detection.features import FEATURE_SHAPE  # noqa: E402
from detection.training import export  # noqa: E402
from detection.training.model import WithProbabilities, build_resnet34  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = build_resnet34().eval()
    path = export.export_onnx(model, tmp_path_factory.mktemp("export") / "model.onnx")
    return model, path


def test_onnx_probabilities_match_torch_for_any_batch_size(exported):
    model, path = exported
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 3, 17):
        features = np.random.default_rng(batch).standard_normal((batch, *FEATURE_SHAPE)).astype(np.float32)
        with torch.no_grad():
            expected = WithProbabilities(model)(torch.from_numpy(features)).numpy()
        (probabilities,) = session.run(None, {export.INPUT_NAME: features})
        assert probabilities.shape == (batch, 2)
        np.testing.assert_allclose(probabilities, expected, atol=1e-4)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_int8_model_is_close_to_fp32_and_smaller(exported, tmp_path):
    _, path = exported
    calibration = np.random.default_rng(0).standard_normal((32, *FEATURE_SHAPE)).astype(np.float32)
    int8_path = export.quantize_int8(path, tmp_path / "int8.onnx", calibration)
    assert int8_path.stat().st_size < 0.3 * path.stat().st_size
    fp32 = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    (expected,) = fp32.run(None, {export.INPUT_NAME: calibration})
    (probabilities,) = int8.run(None, {export.INPUT_NAME: calibration})
    assert np.abs(probabilities - expected).max() < 0.1


def test_metadata_is_stored_under_outcry(exported, tmp_path):
    _, path = exported
    metadata = export.model_metadata(
        model_version="scream-resnet34-20261124-abcdef12", threshold=0.42, quantization="fp32"
    )
    export.write_metadata(path, metadata)
    stored = export.read_metadata(path)
    assert stored["threshold"] == 0.42
    assert stored["output"] == "probabilities"
    assert stored["features"]["n_mels"] == FEATURE_SHAPE[1]
    assert stored["features"]["sample_rate"] == 16_000
