"""Export for serving: torch -> ONNX (fp32, dynamic batch), static int8 QDQ quantisation calibrated
on real windows, and the ``outcry`` metadata the engine checks before it trusts a model.

The graph's input is ``features`` (N, 1, 64, 51) from ``detection.features.window_features``; its
output is ``probabilities`` (N, 2), softmax over (non-scream, scream).
"""

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from detection import features
from detection.training.model import SCREAM_INDEX, WithProbabilities

INPUT_NAME = "features"
OUTPUT_NAME = "probabilities"
METADATA_KEY = "outcry"
OPSET = 18


def model_metadata(*, model_version: str, threshold: float, quantization: str, extra: dict | None = None) -> dict:
    return {
        "model_version": model_version,
        "threshold": float(threshold),
        "quantization": quantization,
        "input": INPUT_NAME,
        "input_shape": ["batch", *features.FEATURE_SHAPE],
        "output": "probabilities",
        "output_name": OUTPUT_NAME,
        "scream_index": SCREAM_INDEX,
        "features": features.feature_constants(),
        **(extra or {}),
    }


def export_onnx(model: nn.Module, path: str | Path) -> Path:
    """Export ``model`` (logits) as an ONNX graph of softmax probabilities with a dynamic batch axis."""
    path = Path(path)
    wrapped = WithProbabilities(model).cpu().eval()
    example = torch.zeros(2, *features.FEATURE_SHAPE, dtype=torch.float32)
    torch.onnx.export(
        wrapped,
        (example,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes={INPUT_NAME: {0: torch.export.Dim("batch", min=1, max=65536)}},
        opset_version=OPSET,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    return path


class _WindowReader(CalibrationDataReader):
    def __init__(self, windows: np.ndarray, batch: int = 16):
        self._batches = iter([windows[start : start + batch] for start in range(0, len(windows), batch)])

    def get_next(self):
        batch = next(self._batches, None)
        return None if batch is None else {INPUT_NAME: batch.astype(np.float32)}


def quantize_int8(
    fp32_path: str | Path, int8_path: str | Path, calibration_windows: np.ndarray, *, reduce_range: bool = False
) -> Path:
    """Static int8 QDQ quantisation, per-channel weights, calibrated (min/max) on real windows."""
    int8_path = Path(int8_path)
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(int8_path),
            _WindowReader(calibration_windows),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            reduce_range=reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
    return int8_path


def write_metadata(path: str | Path, metadata: dict) -> None:
    """Store ``metadata`` as JSON under the ``outcry`` key of the model's metadata_props."""
    model = onnx.load(str(path))
    kept = [prop for prop in model.metadata_props if prop.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata, sort_keys=True))
    onnx.save(model, str(path))


def read_metadata(path: str | Path) -> dict:
    model = onnx.load(str(path), load_external_data=False)
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return json.loads(prop.value)
    return {}
