"""Labelled folders become records; the split is grouped by source, stratified and reproducible."""

import csv
import random
from collections import Counter

import pytest

from detection.dataset import Record, group_key, read_records, read_split, split_records, write_split
from detection.tests.training_fixtures import write_tiny_dataset


def _records(groups: int = 30, seed: int = 0) -> list[Record]:
    """Like the corpus: scream voice sets, non-scream directories and a few mixed groups, of varied size."""
    rng = random.Random(seed)
    records = []
    for group in range(groups):
        kind = group % 4  # 0: screams, 1-2: non-screams, 3: both
        screams = rng.randint(1, 6) if kind in (0, 3) else 0
        negatives = rng.randint(1, 12) if kind != 0 else 0
        for index in range(screams):
            records.append(
                Record(path=None, file=f"scream/g{group}_{index}.wav", label=1, category="pain_cry", group=f"g{group}")
            )
        for index in range(negatives):
            records.append(
                Record(
                    path=None, file=f"non_scream/g{group}_{index}.wav", label=0, category="speech", group=f"g{group}"
                )
            )
    return records


def test_group_key_is_package_and_directory():
    assert group_key("openarena-081-players", "usr/share/oa/sound/player/grism/pain25_1.ogg") == (
        "openarena-081-players|usr/share/oa/sound/player/grism"
    )


def test_group_key_of_archive_member_keeps_archive_and_member_directory():
    key = group_key("nexuiz-data", "usr/share/nexuiz/data.pk3:sound/player/soldier/pain.ogg")
    assert key == "nexuiz-data|usr/share/nexuiz/data.pk3:sound/player/soldier"
    assert key != group_key("nexuiz-data", "usr/share/nexuiz/data.pk3:sound/player/pyria/pain.ogg")


def test_read_records_uses_metadata(tmp_path):
    write_tiny_dataset(tmp_path, screams=4, non_screams=4)
    records = read_records(tmp_path)
    assert len(records) == 8
    scream = next(record for record in records if record.label == 1)
    assert scream.category == "pain_cry"
    assert scream.group.startswith("game")
    assert scream.path.is_file()


def test_without_metadata_every_file_is_its_own_group(tmp_path):
    write_tiny_dataset(tmp_path, screams=3, non_screams=3)
    (tmp_path / "metadata.csv").unlink()
    records = read_records(tmp_path)
    assert len({record.group for record in records}) == len(records)
    assert {record.category for record in records} == {"scream", "non_scream"}


def test_missing_label_folder_is_an_error(tmp_path):
    (tmp_path / "scream").mkdir()
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path)


def test_split_never_puts_a_group_on_two_sides():
    split = split_records(_records(), seed=3)
    sides = [{record.group for record in part} for part in split.parts().values()]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert sum(len(part) for part in split.parts().values()) == len(_records())


def test_split_is_stratified_by_label():
    records = _records(groups=60)
    split = split_records(records, seed=1)
    total = Counter(record.label for record in records)
    for part, fraction in zip(split.parts().values(), (0.7, 0.15, 0.15), strict=True):
        counts = Counter(record.label for record in part)
        for label in (0, 1):
            assert counts[label] == pytest.approx(fraction * total[label], abs=0.05 * total[label])


def test_split_is_deterministic_from_the_seed():
    records = _records(groups=60)
    first, again, other = (split_records(records, seed=seed) for seed in (5, 5, 6))
    assert first == again
    assert first != other


def test_split_json_round_trip(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    records = read_records(tmp_path / "data")
    split = split_records(records, seed=2)
    write_split(split, tmp_path / "split.json", seed=2)
    assert read_split(tmp_path / "split.json", records) == split


def test_read_split_refuses_unknown_files(tmp_path):
    write_tiny_dataset(tmp_path / "data")
    records = read_records(tmp_path / "data")
    write_split(split_records(records, seed=2), tmp_path / "split.json")
    with pytest.raises(ValueError, match="not in the data folder"):
        read_split(tmp_path / "split.json", records[1:])


def test_read_split_refuses_a_file_in_two_parts(tmp_path):
    import json

    write_tiny_dataset(tmp_path / "data")
    records = read_records(tmp_path / "data")
    write_split(split_records(records, seed=2), tmp_path / "split.json")
    document = json.loads((tmp_path / "split.json").read_text())
    document["train"]["files"].append(document["test"]["files"][0])  # a test file leaked into training
    (tmp_path / "split.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="sit in two parts"):
        read_split(tmp_path / "split.json", records)


def test_tiny_fixture_metadata_is_readable(tmp_path):
    write_tiny_dataset(tmp_path)
    with (tmp_path / "metadata.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 40
