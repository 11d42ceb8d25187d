"""``manage.py evaluate_detector``: the report on a tiny labelled folder scored by the tiny model."""

import csv
import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from detection.dataset import read_records, split_records, write_split
from detection.tests.conftest import burst_signal, noise, write_wav

# (file, category, snr_db, loud burst?) -- the tiny model scores loud bursts as screams.
FILES = [
    ("scream/pain_1.wav", "pain_cry", "", True),
    ("scream/pain_2.wav", "pain_cry", "5", True),
    ("scream/fall_1.wav", "falling_scream", "15", False),  # a miss
    ("non_scream/speech_1.wav", "speech", "", False),
    ("non_scream/speech_2.wav", "speech", "", False),
    ("non_scream/gunshot_1.wav", "gunshot_explosion", "", True),  # a false alarm
]


@pytest.fixture
def data_dir(tmp_path):
    root = tmp_path / "data"
    for index, (name, _, _, loud) in enumerate(FILES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        signal = burst_signal(2.0, [(0.5, 1.5)], seed=index) if loud else noise(2.0, dbfs=-90, seed=index)
        write_wav(root / name, signal)
    (root / "non_scream" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with (root / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label", "category", "source_package", "source_path_in_package", "snr_db"])
        for index, (name, category, snr_db, _) in enumerate(FILES):
            writer.writerow([name, name.split("/")[0], category, f"package{index}", f"dir/{index}.wav", snr_db])
    return root


def evaluate(*args):
    out, err = StringIO(), StringIO()
    call_command("evaluate_detector", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_report_metrics_categories_snr_and_failures(data_dir, tiny_model, tmp_path):
    out, err = evaluate("--data", data_dir, "--model", tiny_model, "--json", tmp_path / "report.json")
    assert "7 files, 6 scored, 1 failed" in out
    assert "not analysed (listed on stderr, left out of the metrics): 1 files" in out
    assert "threshold 0.500" in out
    assert "accuracy  0.6667" in out and "precision 0.6667" in out and "recall    0.6667" in out
    assert "ROC-AUC   " in out and "confusion matrix" in out
    assert "pain_cry" in out and "gunshot_explosion" in out
    assert "SNR" in out
    assert "error: non_scream/broken.wav:" in err

    document = json.loads((tmp_path / "report.json").read_text())
    assert document["hop_s"] == 0.25 and document["threshold"] == 0.5
    assert document["report"]["overall"]["confusion_matrix"] == [[2, 1], [1, 2]]
    assert [failure["file"] for failure in document["failed"]] == ["non_scream/broken.wav"]
    assert len(document["scores"]) == 6
    assert [row["screams"] for row in document["report"]["per_snr"]] == [1, 1]  # 5 dB and 15 dB


def test_threshold_option_changes_the_decisions(data_dir, tiny_model):
    out, _ = evaluate("--data", data_dir, "--model", tiny_model, "--threshold", "0.9999999")
    assert "threshold 1.000" in out and "recall    0.0000" in out


def test_folder_without_metadata_has_no_category_table(data_dir, tiny_model):
    (data_dir / "metadata.csv").unlink()
    out, _ = evaluate("--data", data_dir, "--model", tiny_model)
    assert "accuracy" in out and "category" not in out and "SNR" not in out


def test_split_file_selects_one_part(data_dir, tiny_model, tmp_path):
    split = split_records(read_records(data_dir), seed=1, fractions=(0.0, 0.0, 1.0))
    write_split(split, tmp_path / "split.json", seed=1)
    out, _ = evaluate("--data", data_dir, "--model", tiny_model, "--split-file", tmp_path / "split.json")
    assert f"split test of {tmp_path / 'split.json'}: {len(split.test)} files" in out


def test_plots_are_written(data_dir, tiny_model, tmp_path):
    evaluate("--data", data_dir, "--model", tiny_model, "--plots", tmp_path / "plots")
    assert sorted(path.name for path in (tmp_path / "plots").iterdir()) == ["confusion.png", "pr.png", "roc.png"]


def test_missing_folder_layout_is_a_command_error(tmp_path, tiny_model):
    with pytest.raises(CommandError, match="scream/ and non_scream/"):
        evaluate("--data", tmp_path, "--model", tiny_model)


def test_split_without_split_file_is_a_command_error(data_dir, tiny_model):
    with pytest.raises(CommandError, match="--split-file"):
        evaluate("--data", data_dir, "--model", tiny_model, "--split", "val")


def test_unusable_model_is_a_command_error(data_dir, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        evaluate("--data", data_dir, "--model", tmp_path / "missing.onnx")


def test_silent_files_are_scored_not_failed(data_dir, tiny_model):
    write_wav(data_dir / "non_scream" / "silence.wav", np.zeros(16000, np.float32))
    out, err = evaluate("--data", data_dir, "--model", tiny_model)
    assert "8 files, 7 scored, 1 failed" in out and "silence.wav" not in err


def test_mix_seed_also_scores_every_scream_mixed_at_four_snrs_reproducibly(data_dir, tiny_model, tmp_path):
    out, _ = evaluate(
        "--data", data_dir, "--model", tiny_model, "--mix-seed", 5, "--json", tmp_path / "a.json"
    )  # fmt: skip
    evaluate("--data", data_dir, "--model", tiny_model, "--mix-seed", 5, "--json", tmp_path / "b.json")

    assert "(mix seed 5): 12 files, recall" in out and "clean + mixed files:" in out
    first, again = (json.loads((tmp_path / name).read_text()) for name in ("a.json", "b.json"))
    assert first["mix_seed"] == 5
    mixed, both = first["mixed_report"]["mixed"], first["mixed_report"]["all"]
    assert mixed["overall"]["count"] == 12  # 3 screams x 0, 5, 10, 20 dB
    assert [row["screams"] for row in mixed["per_snr"]] == [3, 3, 3, 3]
    assert both["overall"]["count"] == 6 + 12 and both["overall"]["negatives"] == 3
    assert first["mixed_report"] == again["mixed_report"]
    # The tiny model hears the loud bursts of two screams through noise; the quiet one stays missed.
    assert 0 < mixed["overall"]["recall"] < 1


def test_mix_seed_needs_screams_and_backgrounds(data_dir, tiny_model):
    for path in (data_dir / "non_scream").iterdir():
        path.unlink()
    with pytest.raises(CommandError, match="--mix-seed needs screams and non-screams"):
        evaluate("--data", data_dir, "--model", tiny_model, "--mix-seed", 1)


def test_without_mix_seed_nothing_is_mixed(data_dir, tiny_model, tmp_path):
    out, _ = evaluate("--data", data_dir, "--model", tiny_model, "--json", tmp_path / "r.json")
    assert "mixed" not in out
    assert json.loads((tmp_path / "r.json").read_text())["mixed_report"] is None
