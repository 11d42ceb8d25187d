"""DetectorEngine refuses models it cannot serve correctly, with a message that says why."""

import json

import pytest

from detection.engine import DetectorEngine, ModelError


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        DetectorEngine(tmp_path / "nowhere.onnx")


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all", b"\x08\x07\x12\x04junk" * 10])
def test_corrupt_model_file(tmp_path, content):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="could not be loaded"):
        DetectorEngine(path)


def test_model_without_outcry_metadata(make_tiny_model):
    with pytest.raises(ModelError, match="has no 'outcry' metadata"):
        DetectorEngine(make_tiny_model(with_metadata=False))


def test_unreadable_metadata(make_tiny_model):
    with pytest.raises(ModelError, match="unreadable"):
        DetectorEngine(make_tiny_model(raw_metadata="{not json"))


def test_model_built_for_other_features_names_the_difference(make_tiny_model):
    path = make_tiny_model(metadata={"n_mels": 128, "hop_length": 160})
    with pytest.raises(ModelError, match=r"built for other audio features \(hop_length 160 vs 320; n_mels 128 vs 64"):
        DetectorEngine(path)


def test_metadata_missing_a_feature_constant(make_tiny_model):
    with pytest.raises(ModelError, match="lacks metadata: fmax"):
        DetectorEngine(make_tiny_model(metadata={"fmax": None}))


def test_model_that_outputs_logits_is_refused(make_tiny_model):
    with pytest.raises(ModelError, match="outputs 'logits'"):
        DetectorEngine(make_tiny_model(metadata={"output": "logits"}))


@pytest.mark.parametrize("threshold", [0, 1.5, "high"])
def test_invalid_threshold_in_metadata(make_tiny_model, threshold):
    with pytest.raises(ModelError, match="invalid threshold"):
        DetectorEngine(make_tiny_model(metadata={"threshold": threshold}))


def test_graph_input_of_another_shape(make_tiny_model):
    with pytest.raises(ModelError, match="takes input"):
        DetectorEngine(make_tiny_model(n_mels=128))


def test_valid_model_exposes_version_and_threshold(make_tiny_model):
    engine = DetectorEngine(make_tiny_model(metadata={"model_version": "v7", "threshold": 0.42}))
    assert engine.model_version == "v7"
    assert engine.threshold == pytest.approx(0.42)
    assert engine.metadata["quantization"] == "none"


def test_explicit_threshold_overrides_the_models(make_tiny_model):
    assert DetectorEngine(make_tiny_model(), threshold=0.8).threshold == pytest.approx(0.8)


def test_feature_constants_may_be_nested_under_features(make_tiny_model):
    from detection.tests.conftest import model_metadata

    flat = model_metadata()
    constants = {key: flat.pop(key) for key in list(flat) if key not in {"model_version", "threshold", "output"}}
    nested = make_tiny_model(raw_metadata=json.dumps({**flat, "features": constants}))
    assert DetectorEngine(nested).model_version == "test-tiny-1"
    constants["n_mels"] = 128
    with pytest.raises(ModelError, match="n_mels 128 vs 64"):
        DetectorEngine(make_tiny_model("other.onnx", raw_metadata=json.dumps({**flat, "features": constants})))
