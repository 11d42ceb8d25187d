"""``train_detector`` on a tiny generated set finishes in seconds and writes a complete run folder."""

import json

import pytest
from django.core.management import call_command

pytest.importorskip("torch")
pytest.importorskip("torchvision")

from detection.tests.training_fixtures import write_tiny_dataset
from detection.training.export import read_metadata

pytestmark = pytest.mark.slow

RUN_FILES = {
    "metrics.json",
    "split.json",
    "confusion.png",
    "roc.png",
    "pr.png",
    "curves.png",
    "curves.json",
    "model_fp32.onnx",
    "model_int8.onnx",
    "MODEL_CARD.md",
}


def test_training_smoke_run_writes_the_run_folder(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    out = tmp_path / "run"
    call_command(
        "train_detector",
        "--data", str(data),
        "--out", str(out),
        "--epochs", "1",
        "--epoch-windows", "32",
        "--batch-size", "16",
        "--max-minutes", "1",
        "--no-progress",
    )  # fmt: skip
    assert {path.name for path in out.iterdir()} >= RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["training"]["epochs_run"] == 1
    assert metrics["served"] in {"int8", "fp32"}
    assert 0.0 <= metrics["models"]["int8"]["threshold"] <= 1.0
    assert metrics["export_max_abs_diff_vs_torch"] < 1e-4
    split = json.loads((out / "split.json").read_text())
    assert split["train"]["screams"] > 0 and split["test"]["screams"] > 0
    metadata = read_metadata(out / "model_int8.onnx")
    assert metadata["quantization"] == "int8"
    assert metadata["model_version"].startswith("scream-resnet34-")
    card = (out / "MODEL_CARD.md").read_text()
    assert "Held-out test metrics" in card and "threshold" in card.lower()


def test_train_detector_refuses_a_folder_without_label_folders(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scream/ and non_scream/"):
        call_command("train_detector", "--data", str(tmp_path))
