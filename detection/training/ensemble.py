"""Ensembles: several exported detectors served as one ONNX graph that outputs the mean of their
probabilities, with the threshold chosen on validation by an ensemble of validation runs.

Why: on this small corpus two runs of one recipe that differ only in their seed differ by about 0.07
validation F1. Averaging members trained with different seeds cancels part of that seed noise, the
cheapest known way to make a small-data model generalise better, at the cost of running each member.

The procedure mirrors a refit (``pipeline.load_refit``): the *validation members* are runs trained on
the train part only; their ensemble is scored on validation, where the threshold is chosen. The
*members* (usually the refits of those runs on train + val) are merged with that threshold and scored
on test, which neither ensemble has seen.
"""

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import onnx
from onnx import compose, helper

from detection import evaluation, features
from detection.dataset import read_records
from detection.features import SAMPLE_RATE, window_features, window_starts
from detection.training import export
from detection.training.pipeline import (
    MAX_SHIPPED_BYTES,
    SHIPPED_MODEL,
    WEIGHTS_DIR,
    latency_ms,
    load_metrics,
    scored_files,
    scored_report,
    split_from_file,
)
from detection.training.scoring import HOP_S, VALIDATION_SNRS_DB, OnnxScorer, mixed_scream_files
from detection.training.train import load_clips

MAX_MEMBERS = 8
HOP_SAMPLES = round(HOP_S * SAMPLE_RATE)
ENSEMBLE_MODEL = "model_ensemble.onnx"
VALIDATION_ENSEMBLE_MODEL = "validation_ensemble.onnx"


class EnsembleError(ValueError):
    """The members cannot form an ensemble (missing, unreadable or incompatible models)."""


@dataclass
class Member:
    """One exported detector: its ONNX file, its metadata, and its model card when one is found."""

    path: Path
    metadata: dict
    card: str | None = None
    command: str | None = None
    seen_validation: bool = False  # a refit on train + val: it cannot choose a threshold on validation

    @property
    def version(self) -> str:
        return str(self.metadata.get("model_version", self.path.name))

    @cached_property
    def sha256(self) -> str:  # cached: a member is ~21 MB and its hash is asked for several times
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def load_member(location: Path) -> Member:
    """A member from a finished run folder (its served model) or from an ONNX file exported by Outcry."""
    command, seen_validation = None, False
    if location.is_dir():
        try:
            metrics = load_metrics(location)
            path = location / metrics["models"][metrics["served"]]["file"]
            seen_validation = bool(metrics.get("refit_from"))
        except FileNotFoundError as error:
            raise EnsembleError(f"{location} is not a finished training run: metrics.json is missing") from error
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise EnsembleError(f"{location}/metrics.json does not name its served model ({error!r})") from error
        command = metrics.get("command")
        card_path = location / "MODEL_CARD.md"
    else:
        path = location
        card_path = location.parent / "MODEL_CARD.md"
    if not path.is_file():
        raise EnsembleError(f"{path} does not exist")
    try:
        metadata = export.read_metadata(path)
    except Exception as error:  # onnx raises DecodeError, ValueError, OSError... for a non-model file
        raise EnsembleError(f"{path} is not an ONNX model ({error})") from error
    if not metadata:
        raise EnsembleError(f"{path} has no '{export.METADATA_KEY}' metadata: it was not exported by Outcry")
    if metadata.get("members"):
        raise EnsembleError(f"{path} is already an ensemble: name its members instead")
    # A refit's threshold was "chosen ... by the validation run ..." of it (pipeline.run_training).
    seen_validation = seen_validation or "by the validation run" in str(metadata.get("threshold_chosen_on", ""))
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else None
    return Member(path=path, metadata=metadata, card=card, command=command, seen_validation=seen_validation)


def _feature_constants(metadata: dict) -> dict:
    """The feature constants a model reads, wherever its metadata keeps them (as the engine reads them)."""
    merged = {**(metadata.get("features") or {}), **metadata}
    return {key: merged.get(key) for key in features.feature_constants()}


def _check_compatible(members: list[Member]) -> None:
    if not 2 <= len(members) <= MAX_MEMBERS:
        raise EnsembleError(f"an ensemble needs 2 to {MAX_MEMBERS} members, not {len(members)}")
    if len({member.sha256 for member in members}) < len(members):
        raise EnsembleError("the same model is named twice")
    first = members[0]
    for member in members[1:]:
        if _feature_constants(member.metadata) != _feature_constants(first.metadata):
            raise EnsembleError(
                f"{member.path} and {first.path} read different features: members must read the same windows"
            )
        if member.metadata.get("scream_index", 1) != first.metadata.get("scream_index", 1):
            raise EnsembleError(f"{member.path} and {first.path} put the scream probability at different indices")


def merge_members(members: list[Member], out_path: Path, *, metadata: dict) -> Path:
    """One graph: every member reads the same input; the output is the mean of their probabilities."""
    _check_compatible(members)
    loaded = [onnx.load(str(member.path)) for member in members]
    signatures = set()
    for member, model in zip(members, loaded, strict=True):
        initializers = {tensor.name for tensor in model.graph.initializer}
        inputs = [entry for entry in model.graph.input if entry.name not in initializers]
        if len(inputs) != 1 or len(model.graph.output) != 1:
            raise EnsembleError(f"{member.path} must have one input and one output to join an ensemble")
        if model.functions:
            raise EnsembleError(f"{member.path} uses local functions, which an ensemble cannot merge")
        signatures.add((inputs[0].name, model.graph.output[0].name))
    if len(signatures) > 1:
        raise EnsembleError("the members name their input or output differently: " + ", ".join(map(str, signatures)))
    input_name, output_name = signatures.pop()
    prefixed = [compose.add_prefix(model, f"member{index}/", rename_inputs=False) for index, model in enumerate(loaded)]
    opsets: dict[str, int] = {}
    for model in prefixed:
        for entry in model.opset_import:
            opsets[entry.domain] = max(opsets.get(entry.domain, 0), entry.version)
    if len({next(e.version for e in m.opset_import if e.domain in ("", "ai.onnx")) for m in prefixed}) > 1:
        raise EnsembleError("the members were exported with different ONNX opsets")
    member_outputs = [model.graph.output[0].name for model in prefixed]
    mean = helper.make_node("Mean", member_outputs, [output_name], name="ensemble/mean")
    graph = helper.make_graph(
        nodes=[node for model in prefixed for node in model.graph.node] + [mean],
        name="outcry_ensemble",
        inputs=[next(i for i in prefixed[0].graph.input if i.name == input_name)],
        outputs=[helper.make_tensor_value_info(output_name, onnx.TensorProto.FLOAT, ["batch", 2])],
        initializer=[tensor for model in prefixed for tensor in model.graph.initializer],
        value_info=[info for model in prefixed for info in model.graph.value_info]
        + [model.graph.output[0] for model in prefixed],
    )
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in sorted(opsets.items())],
        producer_name="outcry.ensemble",
    )
    merged.ir_version = max(model.ir_version for model in prefixed)
    helper.set_model_props(merged, {export.METADATA_KEY: json.dumps(metadata, sort_keys=True)})
    onnx.checker.check_model(merged)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(merged, str(out_path))
    return out_path


def ensemble_metadata(members: list[Member], *, model_version: str, threshold: float, threshold_chosen_on: str) -> dict:
    first = members[0].metadata
    quantizations = sorted({str(member.metadata.get("quantization")) for member in members})
    return {
        **{key: value for key, value in first.items() if key not in ("model_version", "threshold", "quantization")},
        "model_version": model_version,
        "threshold": float(threshold),
        "quantization": "+".join(quantizations),
        "threshold_chosen_on": threshold_chosen_on,
        "members": [{"model_version": member.version, "sha256": member.sha256} for member in members],
    }


@dataclass
class EnsembleOptions:
    data_dir: Path
    split_file: Path
    members: list[Path]
    validation_members: list[Path] | None  # None: the members themselves (trained on train only)
    out_dir: Path
    mix_seed: int = 1  # validation mixtures; test mixtures use mix_seed + 1, as a training run's do
    threads: int = 2
    ship: bool = False
    progress: bool = True
    command: str = ""


def _member_rows(members: list[Member], scored_by_member: list[dict], negatives: list, thresholds: list[float]) -> list:
    rows = []
    for member, scored, threshold in zip(members, scored_by_member, thresholds, strict=True):
        report = scored_report(scored, threshold, negatives)
        rows.append({"model_version": member.version, "threshold": threshold, "report": report})
    return rows


def build_ensemble(options: EnsembleOptions, log: Callable[[str], None] = print) -> dict:
    started = time.monotonic()
    members = [load_member(path) for path in options.members]
    validation_members = [load_member(path) for path in options.validation_members or options.members]
    seen = [str(member.path) for member in validation_members if member.seen_validation]
    if seen:
        raise EnsembleError(
            f"{', '.join(seen)} {'has' if len(seen) == 1 else 'have'} been trained on the validation part, so"
            " the threshold cannot be chosen there: name the validation runs with --validation-members"
        )
    if len(validation_members) != len(members):
        raise EnsembleError(
            f"{len(members)} members but {len(validation_members)} validation members: name the validation run"
            " of each member, in the same order"
        )
    _check_compatible(members)
    _check_compatible(validation_members)
    if members[0].metadata.get("features") != validation_members[0].metadata.get("features"):
        raise EnsembleError("the members and the validation members read different features")

    records = read_records(options.data_dir)
    split, _ = split_from_file(options.split_file, records)
    out_dir = options.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(options.split_file, out_dir / "split.json")
    clips = {name: load_clips(getattr(split, name), progress=options.progress) for name in ("val", "test")}
    mix_seeds = {"val": options.mix_seed, "test": options.mix_seed + 1}
    mixed = {
        name: mixed_scream_files(
            [c for c in clips[name] if c.record.label == 1],
            [c for c in clips[name] if c.record.label == 0],
            seed=mix_seeds[name],
        )
        for name in ("val", "test")
    }
    negatives = {name: [c for c in clips[name] if c.record.label == 0] for name in ("val", "test")}

    def score(path: Path, part: str) -> dict:
        return scored_files(OnnxScorer(str(path), threads=options.threads), clips[part], mixed[part])

    # Validation: the ensemble of the validation runs chooses the threshold, as a single run does.
    threshold_rule = "validation: max F1 over clean files + screams mixed at 0/5/10/20 dB (weight 1/4 each)"
    # Scored as the merged graph it is served as; its metadata gets the threshold once it is chosen.
    validation_path = merge_members(
        validation_members,
        out_dir / VALIDATION_ENSEMBLE_MODEL,
        metadata=ensemble_metadata(
            validation_members, model_version="validation-ensemble", threshold=0.5, threshold_chosen_on="not yet"
        ),
    )
    log(f"scoring validation files with the ensemble of {len(validation_members)} validation runs")
    val_scored = score(validation_path, "val")
    n_clean, n_mixed = val_scored["n_clean"], len(val_scored["labels"]) - val_scored["n_clean"]
    weights = [1.0] * n_clean + [1.0 / len(VALIDATION_SNRS_DB)] * n_mixed
    threshold = evaluation.choose_threshold(val_scored["labels"], val_scored["scores"], weights)
    val_report = scored_report(val_scored, threshold, negatives["val"])
    export.write_metadata(
        validation_path,
        ensemble_metadata(
            validation_members,
            model_version="validation-ensemble",
            threshold=threshold,
            threshold_chosen_on=threshold_rule,
        ),
    )
    val_member_rows = _member_rows(
        validation_members,
        [score(member.path, "val") for member in validation_members],
        negatives["val"],
        [float(member.metadata["threshold"]) for member in validation_members],
    )
    log(
        f"validation ensemble: threshold {threshold:.3f}; clean + mixed F1 {val_report['all']['overall']['f1']:.4f}"
        f" AUC {_auc(val_report['all'])}; members: "
        + ", ".join(f"F1 {row['report']['all']['overall']['f1']:.4f}" for row in val_member_rows)
    )

    # Test: the members (which may have seen validation) merged with that threshold.
    digest = hashlib.sha256("".join(member.sha256 for member in members).encode()).hexdigest()[:8]
    today = dt.datetime.now(dt.UTC)
    model_version = f"scream-resnet34x{len(members)}-{today:%Y%m%d}-{digest}"
    model_path = merge_members(
        members,
        out_dir / ENSEMBLE_MODEL,
        metadata=ensemble_metadata(
            members,
            model_version=model_version,
            threshold=threshold,
            threshold_chosen_on=f"{threshold_rule}, by the ensemble of the validation runs"
            f" {', '.join(member.version for member in validation_members)}",
        ),
    )
    check = mixed["test"][0].samples if mixed["test"] else clips["test"][0].samples
    merged_diff = _merge_difference(model_path, members, check)
    log(f"merged graph vs mean of its members: max |difference| {merged_diff:.2e}")
    log(f"scoring test files with the ensemble ({model_path.name}) and with each member")
    test_scored = score(model_path, "test")
    test_report = scored_report(test_scored, threshold, negatives["test"])
    test_member_rows = _member_rows(
        members,
        [score(member.path, "test") for member in members],
        negatives["test"],
        [float(member.metadata["threshold"]) for member in members],
    )
    evaluation.save_plots(test_report["all"], test_scored["labels"], test_scored["scores"], out_dir)
    window = _one_window(check)
    metrics = {
        "model_version": model_version,
        "date": today.isoformat(timespec="seconds"),
        "command": options.command,
        "data_dir": str(options.data_dir),
        "split_file": str(options.split_file),
        "mix_seeds": mix_seeds,
        "members": [_member_summary(member) for member in members],
        "validation_members": [_member_summary(member) for member in validation_members],
        "threshold": threshold,
        "threshold_chosen_on": threshold_rule,
        "merged_max_abs_diff_vs_members": merged_diff,
        "size_mb": model_path.stat().st_size / 1e6,
        "latency_1thread_batch1": latency_ms(model_path, window),
        "member_latency_1thread_batch1": latency_ms(members[0].path, window),
        "val": val_report,
        "val_members": val_member_rows,
        "test": test_report,
        "test_members": test_member_rows,
        "wall_s": time.monotonic() - started,
    }
    evaluation.write_json(metrics, out_dir / "metrics.json")
    for part in ("clean", "mixed"):
        log(evaluation.format_report(test_report[part], title=f"== test ({part}), ensemble =="))

    from detection.training.model_card import write_ensemble_card

    card = write_ensemble_card(
        out_dir / "MODEL_CARD.md", metrics=metrics, records=records, split=split, members=members
    )
    if options.ship and model_path.stat().st_size > MAX_SHIPPED_BYTES:
        log(f"not shipped: {model_path.name} is over {MAX_SHIPPED_BYTES // 2**20} MB")
    elif options.ship:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_path, WEIGHTS_DIR / SHIPPED_MODEL)
        shutil.copyfile(card, WEIGHTS_DIR / "MODEL_CARD.md")
        log(f"shipped the ensemble to {WEIGHTS_DIR / SHIPPED_MODEL}")
    log(f"ensemble folder: {out_dir} ({(time.monotonic() - started) / 60:.1f} min)")
    return metrics


def _auc(report: dict) -> str:
    value = report["overall"]["roc_auc"]
    return "n/a" if value is None else f"{value:.4f}"


def _member_summary(member: Member) -> dict:
    return {
        "model_version": member.version,
        "file": str(member.path),
        "sha256": member.sha256,
        "threshold": member.metadata.get("threshold"),
        "quantization": member.metadata.get("quantization"),
        "threshold_chosen_on": member.metadata.get("threshold_chosen_on"),
        "command": member.command,
        "seen_validation": member.seen_validation,
    }


def _one_window(samples: np.ndarray) -> np.ndarray:
    return window_features(samples, window_starts(len(samples), hop_samples=HOP_SAMPLES)[:1])


def _merge_difference(model_path: Path, members: list[Member], samples: np.ndarray) -> float:
    """How far the merged graph is from averaging its members' outputs (should be float rounding)."""
    windows = window_features(samples, window_starts(len(samples), hop_samples=HOP_SAMPLES))[:32]
    merged = OnnxScorer(str(model_path), threads=1).score_windows(windows)
    mean = np.mean([OnnxScorer(str(member.path), threads=1).score_windows(windows) for member in members], axis=0)
    return float(np.abs(merged - mean).max())
