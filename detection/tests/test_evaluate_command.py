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


@pytest.fixture
def nothing_scored(monkeypatch):
    """Bad options must be refused before the first file is decoded."""

    def scored(*args, **kwargs):
        raise AssertionError("a file was scored before the options were checked")

    monkeypatch.setattr("detection.management.commands.evaluate_detector.decode_audio", scored)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--json", "missing/out.json", r"--json .*missing/out.json: the folder .*missing does not exist"),
        ("--json", "file.txt/out.json", r"--json .*file.txt/out.json: .*file.txt is not a folder"),
        ("--json", ".", r"--json .* is a folder; name the file to write"),
        ("--plots", "file.txt", r"--plots .*file.txt is a file, not a folder"),
        ("--plots", "file.txt/plots", r"--plots .*file.txt/plots: .*file.txt is a file, not a folder"),
        ("--mix-seed", "-5", "--mix-seed must be 0 or more, not -5"),
        ("--threads", "0", "--threads must be 1 or more, not 0"),
    ],
)
def test_bad_options_are_refused_before_scoring(data_dir, tiny_model, tmp_path, nothing_scored, option, value, message):
    (tmp_path / "file.txt").write_text("in the way")
    if value not in ("-5", "0"):
        value = tmp_path / value
    with pytest.raises(CommandError, match=message):
        evaluate("--data", data_dir, "--model", tiny_model, option, value)


def test_unwritable_output_folders_are_refused_before_scoring(
    data_dir, tiny_model, tmp_path, nothing_scored, monkeypatch
):
    monkeypatch.setattr("detection.management.commands._checks._writable", lambda folder: False)
    with pytest.raises(CommandError, match="is not writable"):
        evaluate("--data", data_dir, "--model", tiny_model, "--json", tmp_path / "out.json")
    with pytest.raises(CommandError, match="is not writable"):
        evaluate("--data", data_dir, "--model", tiny_model, "--plots", tmp_path / "plots" / "new")


def test_plots_folder_is_made_with_its_parents(data_dir, tiny_model, tmp_path):
    evaluate("--data", data_dir, "--model", tiny_model, "--plots", tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b" / "confusion.png").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("not json", r"is not a split file \(Expecting value"),
        (b"\xff\xfe\x00binary", "is not a split file"),
        ('["scream/pain_1.wav"]', "the top level is a JSON array, not an object"),
        ('{"train": {"files": []}}', "it has no 'val', 'test'"),
        ('{"train": ["scream/pain_1.wav"], "val": {"files": []}, "test": {"files": []}}', "'train' is not an object"),
        ('{"train": {"files": [[1]]}, "val": {"files": []}, "test": {"files": []}}', "'train' is not an object"),
    ],
    ids=["missing", "not-json", "not-utf8", "list", "no-parts", "part-is-a-list", "files-not-names"],
)
def test_bad_split_files_are_refused_by_name(data_dir, tiny_model, tmp_path, nothing_scored, content, message):
    split_file = tmp_path / "split.json"
    if isinstance(content, bytes):
        split_file.write_bytes(content)
    elif content is not None:
        split_file.write_text(content)
    with pytest.raises(CommandError) as caught:
        evaluate("--data", data_dir, "--model", tiny_model, "--split-file", split_file)
    assert f"--split-file {split_file}" in str(caught.value)
    assert '{"train": {"files": [...]}, "val": {"files": [...]}, "test": {"files": [...]}}' in str(caught.value)
    assert caught.match(message)


def test_split_file_of_other_files_names_the_file(data_dir, tiny_model, tmp_path, nothing_scored):
    split_file = tmp_path / "split.json"
    split_file.write_text('{"train": {"files": ["scream/nope.wav"]}, "val": {"files": []}, "test": {"files": []}}')
    with pytest.raises(CommandError, match=rf"--split-file {split_file}: 1 files of the split are not in the data"):
        evaluate("--data", data_dir, "--model", tiny_model, "--split-file", split_file)
