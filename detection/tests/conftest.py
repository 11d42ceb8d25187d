"""Model and audio fixtures for detection's tests.

``tiny_model``: a few-node ONNX graph built with the ``onnx`` helper API (no torch), with the same
interface and ``"outcry"`` metadata as the real exported model. Its scream probability is
``sigmoid(2 * TINY_GAIN * (mean(features) - TINY_CENTRE))``: loud broadband noise scores near 1,
near-silence near 0, so tests can place "screams" in a signal and know where events must appear.

``resnet34_model``: a randomly initialised torchvision ResNet34 exported like the shipped model
(skipped when torch or torchvision is missing; slow tests only).
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection import features

TINY_GAIN = 4.0
# Between the mean feature of near-silence (about -0.95) and of loud white noise (about +1.05).
TINY_CENTRE = 0.0


def model_metadata(**overrides: Any) -> dict[str, Any]:
    """The ``"outcry"`` metadata of a model matching ``detection.features``, with ``overrides``."""
    metadata = {
        "model_version": "test-tiny-1",
        "threshold": 0.5,
        "output": "probabilities",
        "quantization": "none",
        **features.feature_constants(),
    }
    metadata.update(overrides)
    return {key: value for key, value in metadata.items() if value is not None}


def build_tiny_model(
    path: Path,
    *,
    metadata: dict[str, Any] | None = None,
    raw_metadata: str | None = None,
    batch: int | str = "batch",
    n_mels: int = features.N_MELS,
    with_metadata: bool = True,
) -> Path:
    """Write the tiny scoring graph to ``path``; ``raw_metadata`` replaces the metadata's JSON text."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    weight = np.array([[-TINY_GAIN, TINY_GAIN]], dtype=np.float32)
    bias = np.array([TINY_GAIN * TINY_CENTRE, -TINY_GAIN * TINY_CENTRE], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["features"], ["mean"], axes=[1, 2, 3], keepdims=1),
            helper.make_node("Reshape", ["mean", "column"], ["mean_column"]),
            helper.make_node("MatMul", ["mean_column", "weight"], ["scaled"]),
            helper.make_node("Add", ["scaled", "bias"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "outcry_tiny",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, 1, n_mels, features.FRAMES_PER_WINDOW])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [batch, 2])],
        initializer=[
            helper.make_tensor("column", TensorProto.INT64, [2], [-1, 1]),
            helper.make_tensor("weight", TensorProto.FLOAT, weight.shape, weight.ravel()),
            helper.make_tensor("bias", TensorProto.FLOAT, bias.shape, bias),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    text = raw_metadata if raw_metadata is not None else json.dumps(model_metadata(**(metadata or {})))
    if with_metadata:
        helper.set_model_props(model, {"outcry": text})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def tiny_probability(window_features: np.ndarray) -> np.ndarray:
    """What the tiny model outputs for features of shape (n, *FEATURE_SHAPE): the test oracle."""
    means = window_features.reshape(len(window_features), -1).mean(axis=1, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-2.0 * TINY_GAIN * (means - TINY_CENTRE)))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny.onnx")


@pytest.fixture
def make_tiny_model(tmp_path) -> Callable[..., Path]:
    def make(name: str = "model.onnx", **options: Any) -> Path:
        return build_tiny_model(tmp_path / name, **options)

    return make


@pytest.fixture(scope="session")
def resnet34_model(tmp_path_factory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("torchvision")
    from detection.bench import export_random_resnet34

    return export_random_resnet34(tmp_path_factory.mktemp("resnet") / "resnet34.onnx")


def noise(seconds: float, *, dbfs: float, seed: int = 0) -> np.ndarray:
    """White noise at an RMS of ``dbfs``, float32 mono at the model's sample rate."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(round(seconds * features.SAMPLE_RATE))
    return (signal * 10 ** (dbfs / 20)).astype(np.float32)


def burst_signal(duration_s: float, bursts: list[tuple[float, float]], *, seed: int = 0) -> np.ndarray:
    """Near-silence (-90 dBFS noise) with loud noise (-15 dBFS) during each (start_s, end_s)."""
    samples = noise(duration_s, dbfs=-90, seed=seed)
    for start_s, end_s in bursts:
        start, end = round(start_s * features.SAMPLE_RATE), round(end_s * features.SAMPLE_RATE)
        samples[start:end] = noise((end - start) / features.SAMPLE_RATE, dbfs=-15, seed=seed + 1)
    return samples


def write_wav(path: Path, samples: np.ndarray, sample_rate: int = features.SAMPLE_RATE) -> Path:
    import soundfile

    soundfile.write(str(path), samples, sample_rate, subtype="PCM_16")
    return path


@pytest.fixture
def listener():
    """A TCP port that records every connection made to it (to prove nothing was fetched)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    connections = []

    def accept():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connections.append(connection.recv(200))
            connection.close()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], connections
    server.close()


def hls_playlist(*entries: str) -> bytes:
    """An HLS playlist naming ``entries`` as its segments."""
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:10"]
    for entry in entries:
        lines += ["#EXTINF:2.0,", entry]
    return ("\n".join([*lines, "#EXT-X-ENDLIST", ""])).encode()
