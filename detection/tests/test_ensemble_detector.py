"""``ensemble_detector``: members merged into one graph that outputs the mean of their probabilities,
its threshold chosen on validation by the validation members, and every way to get it wrong refused."""

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

pytest.importorskip("torch")
pytest.importorskip("onnx")

import onnx

from detection import evaluation, features
from detection.dataset import read_records, read_split, split_records, write_split
from detection.engine import DetectorEngine
from detection.tests.conftest import TINY_GAIN, build_tiny_model, tiny_probability
from detection.tests.training_fixtures import write_tiny_dataset
from detection.training import ensemble
from detection.training.export import read_metadata, write_metadata
from detection.training.scoring import mixed_scream_files
from detection.training.train import load_clips

SHIFT = 0.3  # the second tiny member's decision point, in mean feature units


def _shifted_member(path: Path, *, version: str, shift: float = SHIFT, **metadata) -> Path:
    """The tiny model with its decision point moved by ``shift``: a member that disagrees with the first."""
    build_tiny_model(path, metadata={"model_version": version, **metadata})
    model = onnx.load(str(path))
    bias = next(tensor for tensor in model.graph.initializer if tensor.name == "bias")
    bias.CopyFrom(
        onnx.numpy_helper.from_array(np.array([TINY_GAIN * shift, -TINY_GAIN * shift], np.float32), name="bias")
    )
    onnx.save(model, str(path))
    return path


def _shifted_probability(windows: np.ndarray, shift: float = SHIFT) -> np.ndarray:
    means = windows.reshape(len(windows), -1).mean(axis=1, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-2.0 * TINY_GAIN * (means - shift)))


def _refit_run(folder: Path, model: Path) -> Path:
    """A run folder as train_detector writes it for a refit on train + val (only what an ensemble reads)."""
    folder.mkdir()
    (folder / model.name).write_bytes(model.read_bytes())
    metrics = {"served": "int8", "models": {"int8": {"file": model.name}}, "refit_from": {"run": "runs/val"}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "MODEL_CARD.md").write_text("# Model card: refit\n\n## Training\n- Command: `train_detector`\n")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    data = write_tiny_dataset(root / "data")
    split_file = root / "split.json"
    write_split(split_records(read_records(data), seed=1), split_file, seed=1)
    first = build_tiny_model(root / "a.onnx", metadata={"model_version": "member-a", "threshold": 0.4})
    second = _shifted_member(root / "b.onnx", version="member-b", threshold=0.6)
    return {"root": root, "data": data, "split": split_file, "members": [first, second]}


def _ensemble(corpus, out: Path, *members: Path, extra: tuple[str, ...] = ()) -> Path:
    call_command(
        "ensemble_detector", "--data", str(corpus["data"]), "--split-file", str(corpus["split"]), "--out", str(out),
        "--members", *map(str, members or corpus["members"]), "--threads", "1", "--no-progress", *extra,
        stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def built(corpus):
    return _ensemble(corpus, corpus["root"] / "ensemble")


def test_the_merged_graph_outputs_the_mean_of_its_members(built):
    engine = DetectorEngine(built / ensemble.ENSEMBLE_MODEL)
    # Windows whose mean feature sweeps across both members' decision points, where they disagree.
    levels = np.linspace(-0.6, 0.9, 16, dtype=np.float32)
    windows = np.broadcast_to(levels[:, None, None, None], (16, *features.FEATURE_SHAPE)).copy()
    expected = (tiny_probability(windows) + _shifted_probability(windows)) / 2
    assert np.abs(tiny_probability(windows) - _shifted_probability(windows)).max() > 0.1
    np.testing.assert_allclose(engine.score_windows(windows), expected, atol=1e-5)


def test_the_threshold_is_the_validation_ensembles_best_and_the_run_folder_is_complete(built):
    assert {path.name for path in built.iterdir()} >= {
        ensemble.ENSEMBLE_MODEL, ensemble.VALIDATION_ENSEMBLE_MODEL, "metrics.json", "split.json", "MODEL_CARD.md",
        "confusion.png", "roc.png", "pr.png",
    }  # fmt: skip
    metrics = json.loads((built / "metrics.json").read_text())
    metadata = read_metadata(built / ensemble.ENSEMBLE_MODEL)
    assert (
        metadata["threshold"]
        == metrics["threshold"]
        == read_metadata(built / ensemble.VALIDATION_ENSEMBLE_MODEL)["threshold"]
    )
    assert [member["model_version"] for member in metadata["members"]] == ["member-a", "member-b"]
    assert metadata["model_version"].startswith("scream-resnet34x2-")
    # The members' own thresholds are theirs (0.4, 0.6): the ensemble's is chosen, not copied.
    assert [row["threshold"] for row in metrics["val_members"]] == [0.4, 0.6]
    validation = metrics["val"]["all"]["overall"]
    assert (
        validation["count"] == metrics["val"]["clean"]["overall"]["count"] + metrics["val"]["mixed"]["overall"]["count"]
    )
    assert metrics["merged_max_abs_diff_vs_members"] < 1e-5
    card = (built / "MODEL_CARD.md").read_text()
    assert f"Threshold **{metrics['threshold']:.3f}**" in card
    assert "| **ensemble** |" in card and "member-a" in card and "member-b" in card
    assert f"--split test --mix-seed {metrics['mix_seeds']['test']}" in card


def test_the_threshold_maximises_validation_f1_of_the_mean_of_the_members(built, corpus):
    """Recomputed with the members' oracles on the validation files and their mixtures, weighted as training does."""
    metrics = json.loads((built / "metrics.json").read_text())
    clips = load_clips(read_split(corpus["split"], read_records(corpus["data"])).val, progress=False)
    mixed = mixed_scream_files(
        [clip for clip in clips if clip.record.label == 1],
        [clip for clip in clips if clip.record.label == 0],
        seed=metrics["mix_seeds"]["val"],
    )

    def file_score(samples: np.ndarray) -> float:
        windows = features.window_features(samples, features.window_starts(len(samples), hop_samples=4000))
        return float(((tiny_probability(windows) + _shifted_probability(windows)) / 2).max())

    labels = [clip.record.label for clip in clips] + [1] * len(mixed)
    scores = [file_score(clip.samples) for clip in clips] + [file_score(item.samples) for item in mixed]
    weights = [1.0] * len(clips) + [0.25] * len(mixed)
    assert len(mixed) == 4 * sum(clip.record.label for clip in clips)
    assert metrics["threshold"] == pytest.approx(evaluation.choose_threshold(labels, scores, weights), abs=1e-3)
    assert metrics["val"]["all"]["overall"]["count"] == len(labels)


def test_ship_copies_the_ensemble_and_its_card(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(ensemble, "WEIGHTS_DIR", tmp_path / "weights")
    _ensemble(corpus, tmp_path / "out", extra=("--ship",))
    shipped = tmp_path / "weights" / "scream_resnet34.onnx"
    assert read_metadata(shipped)["members"]
    assert (tmp_path / "weights" / "MODEL_CARD.md").read_text().startswith("# Model card: scream-resnet34x2-")


def test_refits_need_their_validation_runs(corpus, tmp_path):
    refit = _refit_run(tmp_path / "refit", corpus["members"][1])
    with pytest.raises(CommandError, match="--validation-members"):
        _ensemble(corpus, tmp_path / "out", corpus["members"][0], refit)
    # With the validation runs named, the refit joins, and its card is carried into the ensemble's.
    out = _ensemble(
        corpus, tmp_path / "out2", corpus["members"][0], refit,
        extra=("--validation-members", *map(str, corpus["members"])),
    )  # fmt: skip
    card = (out / "MODEL_CARD.md").read_text()
    assert "chosen on validation by the ensemble of their validation runs" in card
    assert "### Model card: refit" in card  # the member's card, its headings moved down


@pytest.mark.parametrize(
    ("make_members", "message"),
    [
        (lambda c, tmp: [c["members"][0]], "2 to 8 members"),
        (lambda c, tmp: [c["members"][0], c["members"][0]], "named twice"),
        (lambda c, tmp: [c["members"][0], tmp / "missing.onnx"], "does not exist"),
        (lambda c, tmp: [c["members"][0], _text_file(tmp / "notes.onnx")], "not an ONNX model"),
        (
            lambda c, tmp: [c["members"][0], build_tiny_model(tmp / "plain.onnx", with_metadata=False)],
            "not exported by Outcry",
        ),
        (
            lambda c, tmp: [c["members"][0], _shifted_member(tmp / "hop.onnx", version="x", hop_length=160)],
            "read different features",
        ),
        (lambda c, tmp: [c["members"][0], tmp], "not a finished training run"),
    ],
    ids=["one", "twice", "missing", "not-onnx", "no-metadata", "other-features", "not-a-run"],
)
def test_bad_members_are_refused_by_name(corpus, tmp_path, make_members, message):
    with pytest.raises(CommandError, match=message):
        _ensemble(corpus, tmp_path / "out", *make_members(corpus, tmp_path))
    assert not (tmp_path / "out" / ensemble.ENSEMBLE_MODEL).exists()


def test_an_ensemble_is_not_a_member(built, corpus, tmp_path):
    with pytest.raises(CommandError, match="already an ensemble"):
        _ensemble(corpus, tmp_path / "out", corpus["members"][0], built / ensemble.ENSEMBLE_MODEL)


def test_validation_members_must_match_the_members_one_to_one(corpus, tmp_path):
    with pytest.raises(CommandError, match="2 members but 1 validation members"):
        _ensemble(corpus, tmp_path / "out", extra=("--validation-members", str(corpus["members"][0])))


def _text_file(path: Path) -> Path:
    path.write_text("not a model")
    return path


def test_members_from_different_opsets_are_refused(corpus, tmp_path):
    other = build_tiny_model(tmp_path / "opset.onnx", metadata={"model_version": "other-opset"})
    model = onnx.load(str(other))
    model.opset_import[0].version = 16
    onnx.save(model, str(other))
    write_metadata(other, read_metadata(other))
    with pytest.raises(CommandError, match="different ONNX opsets"):
        _ensemble(corpus, tmp_path / "out", corpus["members"][0], other)


def test_the_bench_compares_an_ensemble_with_as_many_torch_resnet34s(built, corpus):
    from detection.bench import ensemble_size

    assert ensemble_size(built / ensemble.ENSEMBLE_MODEL) == 2
    assert ensemble_size(corpus["members"][0]) == 1
