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


def _train_tiny(tmp_path, *options: str):
    """A run on the tiny generated set (two steps of 16 windows an epoch); returns its folder."""
    data = write_tiny_dataset(tmp_path / "data")
    out = tmp_path / "run"
    call_command(
        "train_detector", "--data", str(data), "--out", str(out), "--epoch-windows", "32", "--batch-size", "16",
        "--no-progress", *options,
    )  # fmt: skip
    return out


def test_training_smoke_run_writes_the_run_folder(tmp_path):
    out = _train_tiny(tmp_path, "--epochs", "1", "--max-minutes", "1")
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


def test_cosine_schedule_mixup_and_weight_average_train_and_decay_the_learning_rate(tmp_path):
    out = _train_tiny(
        tmp_path, "--epochs", "2", "--patience", "5", "--schedule", "cosine", "--mixup", "0.4",
        "--hard-negative-weight", "3", "--ema", "0.9", "--max-minutes", "2",
    )  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    history = json.loads((out / "curves.json").read_text())["history"]
    assert metrics["training"]["epochs_run"] == 2
    assert metrics["config"]["schedule"] == "cosine" and metrics["config"]["mixup_alpha"] == 0.4
    # Epoch 1 warms up to the full rate; by the end of epoch 2 (the last) it has decayed to 1 %.
    rates = [row["lr"] for row in history]
    assert rates[0] == pytest.approx(1e-3) and rates[1] == pytest.approx(1e-5)
    card = (out / "MODEL_CARD.md").read_text()
    assert "cosine decay" in card and "mixup" in card and "oversampled 3x" in card and "moving average" in card
    assert metrics["config"]["ema_decay"] == 0.9


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--mixup", "-1", "--mixup must be"),
        ("--hard-negative-weight", "0", "--hard-negative-weight must be"),
        ("--ema", "1", "--ema must be"),
    ],
)
def test_train_detector_refuses_bad_options(tmp_path, option, value, message):
    from django.core.management.base import CommandError

    pytest.importorskip("torch")
    data = write_tiny_dataset(tmp_path / "data")
    with pytest.raises(CommandError, match=message):
        call_command("train_detector", "--data", str(data), option, value)


def test_train_detector_refuses_a_folder_without_label_folders(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="scream/ and non_scream/"):
        call_command("train_detector", "--data", str(tmp_path))
