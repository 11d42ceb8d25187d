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
    assert card.count("95 % bootstrap intervals (2000 resamples of the") == 2  # clean, clean + mixed
    assert metrics["models"]["int8"]["test"]["clean"]["intervals"]["units"] == split["test"]["groups"]


def test_cosine_schedule_mixup_and_weight_average_train_and_decay_the_learning_rate(tmp_path):
    out = _train_tiny(
        tmp_path, "--epochs", "2", "--patience", "5", "--schedule", "cosine", "--mixup", "0.4",
        "--hard-negative-weight", "3", "--ema", "0.9", "--weight-decay", "0.05", "--max-minutes", "2",
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
    assert metrics["config"]["weight_decay"] == 0.05 and "weight decay 0.05" in card


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--mixup", "-1", "--mixup must be"),
        ("--hard-negative-weight", "0", "--hard-negative-weight must be"),
        ("--ema", "1", "--ema must be"),
        ("--weight-decay", "-0.1", "--weight-decay must be"),
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


def test_refit_trains_on_train_and_val_to_the_validation_runs_best_epoch_with_its_thresholds(tmp_path):
    reference = _train_tiny(tmp_path, "--epochs", "3", "--patience", "5", "--schedule", "cosine", "--seed", "4")
    reference_metrics = json.loads((reference / "metrics.json").read_text())
    best_epoch = reference_metrics["training"]["best_epoch"]

    refit = tmp_path / "refit"
    call_command(
        "train_detector", "--data", str(tmp_path / "data"), "--out", str(refit), "--refit-from", str(reference),
        "--no-progress",
    )  # fmt: skip
    metrics = json.loads((refit / "metrics.json").read_text())
    assert metrics["training"]["epochs_run"] == best_epoch == metrics["config"]["stop_epoch"]
    assert not (refit / "best.pt").exists() and (refit / "final.pt").exists()
    # The recipe comes from the reference run, not from this command's defaults.
    assert metrics["config"]["seed"] == 4 and metrics["config"]["schedule"] == "cosine"
    assert metrics["config"]["windows_per_epoch"] == 32 and metrics["config"]["epochs"] == 3
    assert json.loads((refit / "split.json").read_text()) == json.loads((reference / "split.json").read_text())
    for quantization in ("fp32", "int8"):
        expected = reference_metrics["models"][quantization]["threshold"]
        assert metrics["models"][quantization]["threshold"] == pytest.approx(expected)
        assert metrics["models"][quantization]["val"] is None
    assert read_metadata(refit / "model_int8.onnx")["threshold"] == pytest.approx(
        reference_metrics["models"]["int8"]["threshold"]
    )
    assert metrics["refit_from"]["model_version"] == reference_metrics["model_version"]
    card = (refit / "MODEL_CARD.md").read_text()
    assert "Refit on train + val" in card and "no early stopping" in card

    # A warm-started second stage is refitted from the refit of the first stage.
    stage2 = tmp_path / "stage2"
    call_command(
        "train_detector", "--data", str(tmp_path / "data"), "--out", str(stage2), "--epoch-windows", "32",
        "--batch-size", "16", "--epochs", "1", "--init-from", str(reference / "best.pt"), "--no-progress",
    )  # fmt: skip
    refit2 = tmp_path / "refit2"
    call_command(
        "train_detector", "--data", str(tmp_path / "data"), "--out", str(refit2), "--refit-from", str(stage2),
        "--init-from", str(refit / "final.pt"), "--no-progress",
    )  # fmt: skip
    chained = json.loads((refit2 / "metrics.json").read_text())
    assert chained["config"]["init_checkpoint"] == str(refit / "final.pt")
    assert chained["refit_from"]["run_init_checkpoint"] == str(reference / "best.pt")
    assert f"this refit starts from `{refit / 'final.pt'}` instead" in (refit2 / "MODEL_CARD.md").read_text()


def test_refit_refuses_recipe_options_and_a_folder_that_is_not_a_run(tmp_path):
    from django.core.management.base import CommandError

    data = write_tiny_dataset(tmp_path / "data")
    with pytest.raises(CommandError, match=r"takes the recipe from .*drop --lr, --mixup"):
        call_command("train_detector", "--data", str(data), "--refit-from", str(tmp_path), "--lr", "1e-4",
                     "--mixup", "0.2")  # fmt: skip
    with pytest.raises(CommandError, match=r"is not a finished training run: .*metrics\.json is missing"):
        call_command("train_detector", "--data", str(data), "--refit-from", str(tmp_path), "--out",
                     str(tmp_path / "out"))  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_split_file_trains_and_scores_on_that_split_whatever_the_seed(tmp_path):
    from detection.dataset import read_records, split_records, write_split

    data = write_tiny_dataset(tmp_path / "data")
    records = read_records(data)
    assert split_records(records, seed=3) != split_records(records, seed=7)  # else the test proves nothing
    write_split(split_records(records, seed=3), tmp_path / "fixed.json", seed=3)

    out = _train_tiny(tmp_path, "--epochs", "1", "--seed", "7", "--split-file", str(tmp_path / "fixed.json"))

    written, fixed = json.loads((out / "split.json").read_text()), json.loads((tmp_path / "fixed.json").read_text())
    assert written == fixed  # seed 3's split (and its seed), not seed 7's
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["seed"] == 7 and metrics["split_file"] == str(tmp_path / "fixed.json")
    assert metrics["split"]["test"]["files"] == len(fixed["test"]["files"])
    assert metrics["mix_seeds"] == {"val": 7, "test": 8}
    card = (out / "MODEL_CARD.md").read_text()
    assert "The split was read from" in card and "--split test --mix-seed 8` makes the same mixtures" in card


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("not json", "is not a split file"),
        ("[]", "is not a split file: the top level is a JSON array"),
        ('{"train": {"files": []}}', "it has no 'val', 'test'"),
        ('{"train": {"files": ["scream/nope.wav"]}, "val": {"files": []}, "test": {"files": []}}',
         "not in the data folder"),
    ],
)  # fmt: skip
def test_split_file_that_does_not_fit_the_data_is_refused_and_nothing_is_written(tmp_path, content, message):
    from django.core.management.base import CommandError

    data = write_tiny_dataset(tmp_path / "data")
    split_file = tmp_path / "split.json"
    if content is not None:
        split_file.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("train_detector", "--data", str(data), "--out", str(tmp_path / "out"), "--split-file",
                     str(split_file))  # fmt: skip
    assert not (tmp_path / "out").exists()
    with pytest.raises(CommandError, match="drop --split-file"):
        call_command("train_detector", "--data", str(data), "--refit-from", str(tmp_path), "--split-file",
                     str(split_file))  # fmt: skip


def _fake_run(tmp_path, metrics: dict):
    """A run folder with a real split of the tiny set and the given metrics.json."""
    from detection.dataset import read_records, split_records, write_split

    data = write_tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    write_split(split_records(read_records(data), seed=1), run / "split.json", seed=1)
    (run / "metrics.json").write_text(json.dumps(metrics))
    return data, run


def _refit_metrics(**config) -> dict:
    overall = {"f1": 0.5, "roc_auc": 0.5, "precision": 0.5, "recall": 0.5}
    report = {part: {"overall": overall} for part in ("clean", "mixed", "all")}
    model = {"threshold": 0.5, "val": report, "test": report}
    return {
        "model_version": "scream-resnet34-x",
        "config": {"seed": 1, "epochs": 3, **config},
        "training": {"best_epoch": 2},
        "served": "int8",
        "models": {"int8": model, "fp32": model},
    }


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"model_version": "x"}, "lacks what a refit needs"),
        ({**_refit_metrics(), "training": {"best_epoch": 0}}, "never validated"),
        ({**_refit_metrics(), "refit_from": {"run": "runs/a"}}, "is itself a refit"),
        (
            _refit_metrics(schedule="cosine", init_checkpoint="runs/gone/best.pt"),
            "the warm start runs/gone/best.pt of .* is missing",
        ),
        (_refit_metrics(schedule="plateau"), r"not a finished training run: .*curves\.json is missing"),
    ],
)
def test_refit_refuses_a_run_it_cannot_refit_and_writes_nothing(tmp_path, metrics, message):
    from django.core.management.base import CommandError

    data, run = _fake_run(tmp_path, metrics)
    out = tmp_path / "out"
    with pytest.raises(CommandError, match=message):
        call_command("train_detector", "--data", str(data), "--refit-from", str(run), "--out", str(out))
    assert not out.exists()


def test_refit_of_a_plateau_run_replays_its_learning_rate_per_epoch(tmp_path):
    # The validation run dropped its rate twice; its best epoch was the third of four.
    metrics = _refit_metrics(schedule="plateau", epochs=4, windows_per_epoch=32, batch_size=16)
    metrics["training"]["best_epoch"] = 3
    data, run = _fake_run(tmp_path, metrics)
    rates = [1e-3, 3e-4, 9e-5, 2.7e-5]
    history = [{"epoch": epoch, "lr": lr} for epoch, lr in enumerate(rates, start=1)]
    (run / "curves.json").write_text(json.dumps({"history": history}))

    refit = tmp_path / "refit"
    call_command("train_detector", "--data", str(data), "--out", str(refit), "--refit-from", str(run), "--no-progress")
    history = json.loads((refit / "curves.json").read_text())["history"]
    assert [row["lr"] for row in history] == pytest.approx(rates[:3])
    card = (refit / "MODEL_CARD.md").read_text()
    assert "rates replayed epoch by epoch" in card and "stopped short" not in card
