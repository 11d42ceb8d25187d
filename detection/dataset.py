"""Labelled audio folders and their grouped, stratified train/validation/test split.

A labelled folder has ``scream/`` and ``non_scream/`` sub-folders and, optionally, a ``metadata.csv``
(columns ``file,label,category,source_package,source_path_in_package,...`` as in scream-dev). Each
file becomes a ``Record``. Its ``group`` says which files are related (segments of one recording,
one character's voice set, one archive directory): a split never puts one group on two sides, so
validation and test measure generalisation to unseen sources. Without metadata every file is its own
group and its category is its label.

This module needs no torch: ``evaluate_detector`` and the tests use it on the serving install.
"""

import csv
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

LABELS = {"non_scream": 0, "scream": 1}
AUDIO_SUFFIXES = {".wav", ".ogg", ".mp3", ".flac", ".m4a", ".webm", ".opus", ".aac"}
SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class Record:
    """One labelled file: ``label`` is 1 for a scream, 0 otherwise."""

    path: Path
    file: str  # path relative to the data folder, with forward slashes (the metadata key)
    label: int
    category: str
    group: str
    metadata: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Split:
    train: list[Record]
    val: list[Record]
    test: list[Record]

    def parts(self) -> dict[str, list[Record]]:
        return {"train": self.train, "val": self.val, "test": self.test}


def group_key(source_package: str, source_path_in_package: str) -> str:
    """Package plus the directory of the file inside it; ``ARCHIVE:MEMBER`` keeps the archive too."""
    archive, separator, member = source_path_in_package.partition(":")
    if separator:
        return f"{source_package}|{archive}:{PurePosixPath(member).parent}"
    return f"{source_package}|{PurePosixPath(source_path_in_package).parent}"


def read_records(data_dir: str | Path) -> list[Record]:
    """Every audio file under ``data_dir/scream`` and ``data_dir/non_scream``, sorted by file name."""
    data_dir = Path(data_dir)
    if not (data_dir / "scream").is_dir() or not (data_dir / "non_scream").is_dir():
        raise FileNotFoundError(f"{data_dir} needs the sub-folders scream/ and non_scream/")
    metadata: dict[str, dict[str, str]] = {}
    metadata_path = data_dir / "metadata.csv"
    if metadata_path.is_file():
        with metadata_path.open(newline="", encoding="utf-8") as handle:
            metadata = {row["file"]: row for row in csv.DictReader(handle)}

    records = []
    for label_name, label in LABELS.items():
        for path in sorted((data_dir / label_name).rglob("*")):
            if not path.is_file() or path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            file = path.relative_to(data_dir).as_posix()
            row = metadata.get(file, {})
            package = row.get("source_package", "")
            group = group_key(package, row.get("source_path_in_package", "")) if package else f"file|{file}"
            records.append(
                Record(
                    path=path,
                    file=file,
                    label=label,
                    category=row.get("category") or label_name,
                    group=group,
                    metadata=dict(row),
                )
            )
    return records


def split_records(
    records: list[Record], *, seed: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> Split:
    """Split into train/val/test, grouped (a group stays on one side) and stratified by label.

    Greedy: groups in a seeded random order, larger ones first; each goes to the part where it most
    reduces the squared distance of all parts' per-label counts from their targets (relative to each
    label's total, so the few screams weigh as much as the many non-screams). Deterministic for a seed.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError("fractions must be three non-negative numbers summing to 1")
    by_group: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_group[record.group].append(record)
    groups = sorted(by_group)
    random.Random(seed).shuffle(groups)
    groups.sort(key=lambda name: len(by_group[name]), reverse=True)  # stable: ties keep the shuffle

    label_totals = Counter(record.label for record in records)
    counts = [Counter() for _ in fractions]
    assigned: list[list[Record]] = [[] for _ in fractions]
    for name in groups:
        members = by_group[name]
        added = Counter(record.label for record in members)

        def cost(part: int, added: Counter = added) -> float:
            # Squared shortfall or excess against every part's target, relative to each label's total.
            total = 0.0
            for index, fraction in enumerate(fractions):
                for label, label_total in label_totals.items():
                    have = counts[index][label] + (added[label] if index == part else 0)
                    total += ((have - fraction * label_total) / label_total) ** 2
            return total

        best = min(range(len(fractions)), key=lambda part: (cost(part), -fractions[part]))
        counts[best].update(added)
        assigned[best].extend(members)

    def ordered(part: list[Record]) -> list[Record]:
        return sorted(part, key=lambda record: record.file)

    return Split(*(ordered(part) for part in assigned))


def write_split(split: Split, path: str | Path, *, seed: int | None = None) -> None:
    """Write the split as JSON: the file names of each part, with label and group counts."""
    document: dict = {"seed": seed}
    for name, part in split.parts().items():
        document[name] = {
            "files": [record.file for record in part],
            "screams": sum(record.label for record in part),
            "non_screams": sum(1 - record.label for record in part),
            "groups": len({record.group for record in part}),
        }
    Path(path).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


SPLIT_FILE_LAYOUT = (
    'a split.json as train_detector writes it: {"train": {"files": [...]}, "val": {"files": [...]},'
    ' "test": {"files": [...]}}, the files named relative to the data folder'
)
_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def read_split_document(path: str | Path) -> dict:
    """The parsed split.json, with a list of file names in each part; ``ValueError`` saying what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:  # not UTF-8 or not JSON
        raise ValueError(f"is not a split file ({error}); expected {SPLIT_FILE_LAYOUT}") from None
    if not isinstance(document, dict):
        problem = f"the top level is a JSON {_JSON_KINDS.get(type(document), 'value')}, not an object"
    elif missing := [name for name in SPLIT_NAMES if name not in document]:
        problem = f"it has no {', '.join(repr(name) for name in missing)}"
    else:
        problem = next(
            (
                f"{name!r} is not an object with a 'files' list of file names"
                for name in SPLIT_NAMES
                if not isinstance(document[name], dict)
                or not isinstance(document[name].get("files"), list)
                or not all(isinstance(file, str) for file in document[name]["files"])
            ),
            None,
        )
    if problem:
        raise ValueError(f"is not a split file: {problem}; expected {SPLIT_FILE_LAYOUT}")
    return document


def read_split(path: str | Path, records: list[Record]) -> Split:
    """The split written by ``write_split``, resolved against ``records`` (unknown files are an error)."""
    document = read_split_document(path)
    by_file = {record.file: record for record in records}
    missing = [file for name in SPLIT_NAMES for file in document[name]["files"] if file not in by_file]
    if missing:
        raise ValueError(f"{len(missing)} files of the split are not in the data folder, e.g. {missing[0]}")
    listed = Counter(file for name in SPLIT_NAMES for file in document[name]["files"])
    twice = sorted(file for file, count in listed.items() if count > 1)
    if twice:
        raise ValueError(f"{len(twice)} files sit in two parts of the split (or twice in one), e.g. {twice[0]}")
    return Split(*([by_file[file] for file in document[name]["files"]] for name in SPLIT_NAMES))
