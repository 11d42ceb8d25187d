"""``train_detector`` and ``ensemble_detector`` refuse bad options with a one-line CommandError
before they load any audio (the training and the ensemble build are never reached)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("onnx")


@pytest.fixture
def data(tmp_path):
    root = tmp_path / "data"
    (root / "scream").mkdir(parents=True)
    (root / "non_scream").mkdir()
    return root


@pytest.fixture(autouse=True)
def nothing_runs(monkeypatch):
    def run(*args, **kwargs):
        raise AssertionError("the slow work started before the options were checked")

    monkeypatch.setattr("detection.training.pipeline.run_training", run)
    monkeypatch.setattr("detection.training.ensemble.build_ensemble", run)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--seed", "-5", "--seed must be between 0 and 2\\*\\*32 - 1, not -5"),
        ("--seed", str(2**32), "--seed must be between"),
        ("--epochs", "0", "--epochs must be 1 or more, not 0"),
        ("--patience", "0", "--patience must be 1 or more"),
        ("--batch-size", "0", "--batch-size must be 1 or more"),
        ("--epoch-windows", "-1", "--epoch-windows must be 1 or more"),
        ("--threads", "0", "--threads must be 1 or more"),
        ("--lr-patience", "-1", "--lr-patience must be 0 or more"),
        ("--lr", "0", "--lr must be a positive number"),
        ("--lr", "nan", "--lr must be a positive number"),
        ("--max-minutes", "0", "--max-minutes must be positive"),
        ("--mixup", "nan", "--mixup must be"),
        ("--hard-negative-weight", "nan", "--hard-negative-weight must be"),
        ("--init-from", "missing.pt", "--init-from .*missing.pt is not a file"),
        ("--out", "file.txt", "--out .*file.txt is a file, not a folder"),
        ("--out", "file.txt/run", "--out .*file.txt/run: .*file.txt is a file, not a folder"),
        ("--split-file", "split.json", "--split-file .*split.json is not a split file: the top level is a JSON array"),
    ],
)
def test_train_detector_refuses_bad_options_up_front(data, tmp_path, option, value, message):
    (tmp_path / "file.txt").write_text("in the way")
    (tmp_path / "split.json").write_text("[]")
    if option in ("--init-from", "--out", "--split-file"):
        value = str(tmp_path / value)
    with pytest.raises(CommandError, match=message):
        call_command("train_detector", "--data", str(data), option, value)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--mix-seed", "-5", "--mix-seed must be 0 or more, not -5"),
        ("--threads", "0", "--threads must be 1 or more, not 0"),
        ("--out", "file.txt", "--out .*file.txt is a file, not a folder"),
        ("--split-file", "missing.json", "--split-file .*missing.json does not exist; expected a split.json"),
        ("--split-file", "split.json", "--split-file .*split.json is not a split file: the top level is a JSON array"),
    ],
)
def test_ensemble_detector_refuses_bad_options_up_front(data, tmp_path, option, value, message):
    (tmp_path / "file.txt").write_text("in the way")
    (tmp_path / "split.json").write_text("[]")
    (tmp_path / "good.json").write_text('{"train": {"files": []}, "val": {"files": []}, "test": {"files": []}}')
    options = {"--split-file": str(tmp_path / "good.json"), "--members": ["a.onnx", "b.onnx"]}
    options[option] = str(tmp_path / value) if option in ("--out", "--split-file") else value
    arguments = [
        item for name, given in options.items() for item in (name, *([given] if isinstance(given, str) else given))
    ]
    with pytest.raises(CommandError, match=message):
        call_command("ensemble_detector", "--data", str(data), *arguments, stdout=StringIO())
