"""A whole training run: split, train, export, quantise, choose the threshold on validation, report
on the held-out test part, write the run folder (and ship the model when asked)."""

import datetime as dt
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from detection import evaluation
from detection.dataset import Split, read_records, read_split, split_records, write_split
from detection.features import SAMPLE_RATE, window_features
from detection.training import export
from detection.training.augment import CONTEXT_SAMPLES
from detection.training.model import WithProbabilities, build_resnet34
from detection.training.scoring import HOP_S, OnnxScorer, file_window_scores, mixed_scream_files
from detection.training.train import VALIDATION_SNRS_DB, Clip, TrainConfig, clean_segments, load_clips, train

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
SHIPPED_MODEL = "scream_resnet34.onnx"
INT8_MAX_F1_DROP = 0.005
MAX_SHIPPED_BYTES = 45 * 2**20  # what the repository accepts for detection/weights/
CALIBRATION_WINDOWS = 500


@dataclass
class RunOptions:
    data_dir: Path
    out_dir: Path
    config: TrainConfig
    ship: bool = False
    progress: bool = True
    command: str = ""
    # A finished run whose recipe, split, stopping epoch and thresholds a refit on train + val reuses.
    refit_from: Path | None = None
    # A split.json to train and score on instead of drawing one from the seed (to compare seeds fairly).
    split_file: Path | None = None


class RefitError(ValueError):
    """The run named by --refit-from cannot be refitted (missing files, no best epoch, other data)."""


class SplitFileError(ValueError):
    """The file named by --split-file is not a split of this data folder."""


def split_from_file(path: Path, records: list) -> tuple[Split, int | None]:
    """The split written in ``path`` for ``records`` and the seed it was drawn with."""
    try:
        return read_split(path, records), json.loads(path.read_text(encoding="utf-8")).get("seed")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise SplitFileError(f"{path}: not a split of this data folder ({error})") from error


@dataclass
class Refit:
    """What a refit on train + val takes from its validation run, which chose all of it on validation."""

    run_dir: Path
    split: Split
    config: TrainConfig
    thresholds: dict[str, float]  # per quantisation, as chosen on validation by the run
    summary: dict  # for metrics.json and the model card


def load_refit(
    run_dir: Path, records: list, *, threads: int, max_minutes: float, init_checkpoint: str | None = None
) -> Refit:
    """Read a finished run for a refit: same recipe and split, stopped at the run's best epoch.

    ``init_checkpoint`` replaces the run's warm start: a run warm-started from an earlier stage is
    refitted from the refit of that stage, so that every stage has seen the validation part."""
    try:
        reference = load_metrics(run_dir)
        split = read_split(run_dir / "split.json", records)
    except FileNotFoundError as error:
        raise RefitError(f"{run_dir} is not a finished training run: {error.filename} is missing") from error
    except (KeyError, json.JSONDecodeError) as error:
        raise RefitError(f"{run_dir}: unreadable metrics.json or split.json ({error!r})") from error
    except ValueError as error:
        raise RefitError(f"{run_dir}/split.json does not match this data folder: {error}") from error
    if reference.get("refit_from"):
        raise RefitError(f"{run_dir} is itself a refit: name the validation run it came from")
    try:
        refit = _refit_of(run_dir, reference, split)
    except FileNotFoundError as error:
        raise RefitError(f"{run_dir} is not a finished training run: {error.filename} is missing") from error
    except (KeyError, TypeError, ValueError) as error:
        raise RefitError(f"{run_dir}/metrics.json lacks what a refit needs ({error!r})") from error
    refit.config = replace(refit.config, threads=threads, max_minutes=max_minutes)
    if init_checkpoint:
        refit.config = replace(refit.config, init_checkpoint=init_checkpoint)
    if refit.config.init_checkpoint and not Path(refit.config.init_checkpoint).is_file():
        raise RefitError(
            f"the warm start {refit.config.init_checkpoint} of {run_dir} is missing; give one with --init-from"
        )
    refit.summary["init_checkpoint"] = refit.config.init_checkpoint
    return refit


def _refit_of(run_dir: Path, reference: dict, split: Split) -> Refit:
    recipe = {key: value for key, value in reference["config"].items() if key in TrainConfig.__dataclass_fields__}
    best_epoch = int(reference["training"]["best_epoch"])
    if best_epoch < 1:
        raise ValueError("the run has no best epoch: it never validated")
    served = reference["served"]
    summary = {
        "run": str(run_dir),
        "run_init_checkpoint": recipe.get("init_checkpoint"),
        "model_version": reference["model_version"],
        "best_epoch": best_epoch,
        "served": served,
        "thresholds": {name: float(entry["threshold"]) for name, entry in reference["models"].items()},
        "val": {part: reference["models"][served]["val"][part]["overall"] for part in ("clean", "mixed", "all")},
        "test": {part: reference["models"][served]["test"][part]["overall"] for part in ("clean", "all")},
    }
    config = replace(TrainConfig(**recipe), stop_epoch=best_epoch)
    if config.schedule == "plateau" and not config.epoch_learning_rates:
        # The run dropped its rate when its validation loss stalled; the refit replays those drops.
        history = json.loads((run_dir / "curves.json").read_text(encoding="utf-8"))["history"]
        config.epoch_learning_rates = [float(row["lr"]) for row in history[:best_epoch]]
        if len(config.epoch_learning_rates) < best_epoch:
            raise ValueError(f"curves.json has {len(history)} epochs, fewer than the best epoch {best_epoch}")
    return Refit(run_dir=run_dir, split=split, config=config, thresholds=summary["thresholds"], summary=summary)


def scored_files(scorer: OnnxScorer, clips: list[Clip], mixed: list) -> dict:
    """Window and file scores of the clean clips and of the mixed files, with labels and metadata."""
    clean_windows = file_window_scores(scorer, [clip.samples for clip in clips])
    mixed_windows = file_window_scores(scorer, [item.samples for item in mixed])
    group_of = {clip.record.file: clip.record.group for clip in clips}
    return {
        "labels": [clip.record.label for clip in clips] + [item.label for item in mixed],
        # a mixture belongs to its scream's source group (bootstrap intervals draw whole groups)
        "groups": [clip.record.group for clip in clips] + [group_of[item.scream_file] for item in mixed],
        "scores": [float(windows.max()) for windows in clean_windows + mixed_windows],
        "categories": [clip.record.category for clip in clips] + [item.category for item in mixed],
        "snr_db": [None] * len(clips) + [item.snr_db for item in mixed],
        "n_clean": len(clips),
        "clean_windows": clean_windows,
    }


def _subset(scored: dict, part: str) -> dict:
    cut = scored["n_clean"]
    picked = slice(0, cut) if part == "clean" else slice(cut, None) if part == "mixed" else slice(None)
    return {key: scored[key][picked] for key in ("labels", "scores", "categories", "snr_db", "groups")}


def scored_report(scored: dict, threshold: float, negative_clips: list[Clip]) -> dict:
    reports = {}
    for part in ("clean", "mixed", "all"):
        subset = _subset(scored, part)
        if not subset["labels"]:
            continue
        reports[part] = evaluation.evaluate_scores(
            labels=subset["labels"],
            scores=subset["scores"],
            threshold=threshold,
            categories=subset["categories"],
            snr_db=subset["snr_db"] if part != "clean" else None,
            groups=subset["groups"],
        )
    negative_windows = [
        windows for windows, label in zip(scored["clean_windows"], scored["labels"], strict=False) if label == 0
    ]
    reports["clean"]["false_alarms"] = evaluation.false_alarms_per_hour(
        negative_windows, [len(clip.samples) / SAMPLE_RATE for clip in negative_clips], threshold
    )
    return reports


def latency_ms(model_path: Path, window: np.ndarray, runs: int = 40) -> dict:
    scorer = OnnxScorer(str(model_path), threads=1, batch=1)
    for _ in range(5):
        scorer.score_windows(window)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        scorer.score_windows(window)
        timings.append((time.perf_counter() - started) * 1000.0)
    return {"p50_ms": float(np.percentile(timings, 50)), "p95_ms": float(np.percentile(timings, 95))}


def _calibration_windows(clips: list[Clip], seed: int, count: int = CALIBRATION_WINDOWS) -> np.ndarray:
    """Real training windows: every scream's and a random sample of non-screams' clean windows."""
    rng = np.random.default_rng([seed, 31337])
    segments = []
    order = rng.permutation(len(clips))
    for index in order:
        segments.extend(clean_segments(clips[index], rng, 2))
        if len(segments) >= count:
            break
    return np.concatenate([window_features(segment, [CONTEXT_SAMPLES]) for segment in segments[:count]])


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def short_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def run_training(options: RunOptions, log: Callable[[str], None] = print) -> dict:
    config = options.config
    out_dir = options.out_dir
    started = time.monotonic()

    records = read_records(options.data_dir)
    refit = None
    if options.refit_from is not None:
        refit = load_refit(
            options.refit_from,
            records,
            threads=config.threads,
            max_minutes=config.max_minutes,
            init_checkpoint=config.init_checkpoint,
        )
        split, config = refit.split, refit.config
        split_seed = json.loads((refit.run_dir / "split.json").read_text(encoding="utf-8")).get("seed")
        log(
            f"refit on train + val of {refit.run_dir}: its recipe and split, {config.stop_epoch} epochs (its best),"
            f" its validation thresholds {', '.join(f'{k} {v:.3f}' for k, v in refit.thresholds.items())}"
        )
    elif options.split_file is not None:
        split, split_seed = split_from_file(options.split_file, records)
        log(f"split read from {options.split_file} (drawn with seed {split_seed}), not from seed {config.seed}")
    else:
        split, split_seed = split_records(records, seed=config.seed), config.seed
    out_dir.mkdir(parents=True, exist_ok=True)
    write_split(split, out_dir / "split.json", seed=split_seed)
    for name, part in split.parts().items():
        log(f"{name}: {len(part)} files, {sum(r.label for r in part)} screams, {len({r.group for r in part})} groups")

    clips = {name: load_clips(part, progress=options.progress) for name, part in split.parts().items()}
    if refit is not None:
        fit_clips, monitor_clips = clips["train"] + clips["val"], []
    else:
        fit_clips, monitor_clips = clips["train"], clips["val"]
    result = train(fit_clips, monitor_clips, config, out_dir, progress=options.progress, log=log)
    if refit is not None and result.epochs_run < config.stop_epoch:
        log(
            f"warning: the refit stopped after {result.epochs_run} of {config.stop_epoch} epochs"
            f" ({result.stopped_because}): it is not the validated recipe"
        )
    evaluation.write_json({"history": result.history}, out_dir / "curves.json")
    evaluation.plot_training_curves(result.history, out_dir / "curves.png")

    model = build_resnet34()
    model.load_state_dict(torch.load(result.checkpoint, map_location="cpu")["model"])
    model.eval()
    fp32_path = export.export_onnx(model, out_dir / "model_fp32.onnx")
    calibration = _calibration_windows(fit_clips, config.seed)
    log(f"exported {fp32_path.name}; quantising to int8 (calibration: {len(calibration)} real windows)")
    int8_path = export.quantize_int8(fp32_path, out_dir / "model_int8.onnx", calibration)

    check = calibration[:16]
    with torch.no_grad():
        torch_probabilities = WithProbabilities(model)(torch.from_numpy(check)).numpy()
    onnx_probabilities = OnnxScorer(str(fp32_path), threads=config.threads).session.run(None, {"features": check})[0]
    export_max_diff = float(np.abs(torch_probabilities - onnx_probabilities).max())
    log(f"exported ONNX vs torch: max |difference| of probabilities {export_max_diff:.2e}")

    # evaluate_detector --mix-seed makes the same mixtures from these seeds (written in metrics and card).
    mix_seeds = {"val": config.seed, "test": config.seed + 1}
    val_mixed = mixed_scream_files(
        [c for c in clips["val"] if c.record.label == 1],
        [c for c in clips["val"] if c.record.label == 0],
        seed=mix_seeds["val"],
    )
    test_mixed = mixed_scream_files(
        [c for c in clips["test"] if c.record.label == 1],
        [c for c in clips["test"] if c.record.label == 0],
        seed=mix_seeds["test"],
    )
    test_negatives = [c for c in clips["test"] if c.record.label == 0]
    val_negatives = [c for c in clips["val"] if c.record.label == 0]

    def evaluate_model(quantization: str, path: Path) -> dict:
        scorer = OnnxScorer(str(path), threads=config.threads)
        if refit is not None:
            # The model has seen the validation part: the threshold is the validation run's.
            log(f"scoring test files with the {quantization} model ({path.name})")
            threshold, val_report = refit.thresholds[quantization], None
        else:
            log(f"scoring validation and test files with the {quantization} model ({path.name})")
            val_scored = scored_files(scorer, clips["val"], val_mixed)
            # Each validation scream appears clean once and mixed at every SNR: the mixed copies share one
            # file's weight, so screams in noise shape the threshold without outnumbering the non-screams.
            n_clean, n_mixed = val_scored["n_clean"], len(val_scored["labels"]) - val_scored["n_clean"]
            weights = [1.0] * n_clean + [1.0 / len(VALIDATION_SNRS_DB)] * n_mixed
            threshold = evaluation.choose_threshold(val_scored["labels"], val_scored["scores"], weights)
            val_report = scored_report(val_scored, threshold, val_negatives)
        test_scored = scored_files(scorer, clips["test"], test_mixed)
        entry = {
            "path": path,
            "threshold": threshold,
            "val": val_report,
            "test": scored_report(test_scored, threshold, test_negatives),
            "test_scored": test_scored,
            "latency_1thread_batch1": latency_ms(path, calibration[:1]),
        }
        clean = entry["test"]["clean"]["overall"]
        log(
            f"{quantization}: threshold {threshold:.3f} ({'the validation run' if refit else 'max F1 on validation'}"
            " clean + mixed); test clean F1"
            f" {clean['f1']:.4f} AUC {_number(clean['roc_auc'])};"
            f" test all F1 {entry['test']['all']['overall']['f1']:.4f}"
        )
        return entry

    def f1_drop(models: dict) -> float:
        return models["fp32"]["test"]["all"]["overall"]["f1"] - models["int8"]["test"]["all"]["overall"]["f1"]

    models = {"fp32": evaluate_model("fp32", fp32_path), "int8": evaluate_model("int8", int8_path)}
    if f1_drop(models) > INT8_MAX_F1_DROP:
        # 8-bit activations times 8-bit weights can saturate on AVX2 without VNNI: 7-bit weights avoid it.
        log(f"int8 loses {100 * f1_drop(models):.2f} F1 points; quantising again with reduce_range")
        export.quantize_int8(fp32_path, int8_path, calibration, reduce_range=True)
        retry = evaluate_model("int8", int8_path)
        if retry["test"]["all"]["overall"]["f1"] >= models["int8"]["test"]["all"]["overall"]["f1"]:
            models["int8"] = retry
        else:
            export.quantize_int8(fp32_path, int8_path, calibration)
    drop = f1_drop(models)
    chosen = "int8" if drop <= INT8_MAX_F1_DROP else "fp32"
    if chosen == "fp32":
        log(
            f"int8 loses {100 * drop:.2f} F1 points (> {100 * INT8_MAX_F1_DROP:.1f}): fp32 is the model to serve;"
            " at 85 MB it is over the 45 MB limit for the repository"
        )
    chosen_model = models[chosen]
    today = dt.datetime.now(dt.UTC)
    model_version = f"scream-resnet34-{today:%Y%m%d}-{short_hash(result.checkpoint)}"
    for quantization, entry in models.items():
        export.write_metadata(
            entry["path"],
            export.model_metadata(
                model_version=model_version,
                threshold=entry["threshold"],
                quantization=quantization,
                extra={
                    "window_hop_s": HOP_S,
                    "threshold_chosen_on": (
                        "validation: max F1 over clean files + screams mixed at 0/5/10/20 dB (weight 1/4 each)"
                        + (f", by the validation run {refit.summary['model_version']} of this refit" if refit else "")
                    ),
                },
            ),
        )

    test_scored = chosen_model["test_scored"]
    all_report = chosen_model["test"]["all"]
    evaluation.save_plots(all_report, test_scored["labels"], test_scored["scores"], out_dir)

    metrics = {
        "model_version": model_version,
        "date": today.isoformat(timespec="seconds"),
        "command": options.command,
        "data_dir": str(options.data_dir),
        "config": asdict(config),
        "split": {name: {"files": len(p), "screams": sum(r.label for r in p)} for name, p in split.parts().items()},
        "split_file": str(options.split_file) if options.split_file else None,
        "mix_seeds": mix_seeds,
        "training": {
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "stopped_because": result.stopped_because,
            "train_wall_s": result.wall_s,
        },
        "refit_from": refit.summary if refit else None,
        "export_max_abs_diff_vs_torch": export_max_diff,
        "int8_f1_drop_on_test": drop,
        "served": chosen,
        "models": {
            quantization: {
                "file": entry["path"].name,
                "size_mb": entry["path"].stat().st_size / 1e6,
                "threshold": entry["threshold"],
                "latency_1thread_batch1": entry["latency_1thread_batch1"],
                "val": entry["val"],
                "test": entry["test"],
            }
            for quantization, entry in models.items()
        },
        "wall_s": time.monotonic() - started,
    }
    evaluation.write_json(metrics, out_dir / "metrics.json")
    for part in ("clean", "mixed"):
        log(evaluation.format_report(chosen_model["test"][part], title=f"== test ({part}), {chosen} =="))

    from detection.training.model_card import write_model_card

    card = write_model_card(out_dir / "MODEL_CARD.md", metrics=metrics, records=records, split=split)
    if options.ship and chosen_model["path"].stat().st_size > MAX_SHIPPED_BYTES:
        log(f"not shipped: {chosen_model['path'].name} is over {MAX_SHIPPED_BYTES // 2**20} MB")
    elif options.ship:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen_model["path"], WEIGHTS_DIR / SHIPPED_MODEL)
        shutil.copyfile(card, WEIGHTS_DIR / "MODEL_CARD.md")
        log(f"shipped {chosen} model to {WEIGHTS_DIR / SHIPPED_MODEL}")
    log(f"run folder: {out_dir} ({(time.monotonic() - started) / 60:.1f} min)")
    return metrics


def command_line() -> str:
    return " ".join(["python", *sys.argv])


def load_metrics(out_dir: Path) -> dict:
    return json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
