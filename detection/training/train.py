"""The training loop: balanced, augmented 1-s windows sampled on the fly; early stopping on a fixed
validation set that looks like the field (clean clips and screams mixed into held-out backgrounds).

Every batch is drawn from ``numpy.random.default_rng([seed, epoch, step])`` (plus a checksum of the
starting checkpoint's path when warm-started), so a run is reproducible from its seed (up to
floating-point non-determinism).
"""

import math
import signal
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn
from tqdm import tqdm

from detection.audio import AudioError, decode_audio
from detection.dataset import Record
from detection.features import WINDOW_SAMPLES, window_features
from detection.training.augment import (
    CONTEXT_SAMPLES,
    SEGMENT_SAMPLES,
    WindowAugmenter,
    energetic_starts,
    loop_to,
    mix_at_snr,
    mixup,
    place,
    spec_augment,
)
from detection.training.model import build_resnet34
from detection.training.scoring import VALIDATION_SNRS_DB

HARD_NEGATIVE_CATEGORIES = frozenset(
    {"shouted_speech", "speech", "music_vocals", "laughter", "crowd", "cough", "vocal_other", "animal"}
)


@dataclass
class TrainConfig:
    seed: int = 1
    epochs: int = 200
    patience: int = 8
    batch_size: int = 32
    windows_per_epoch: int = 2048
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    max_minutes: float = 60.0
    threads: int = 2
    scream_share: float = 0.5
    lr_patience: int = 3  # epochs without improvement before the learning rate drops to 30 % (plateau)
    # "plateau": drop on a validation-loss plateau; "cosine": one warm-up epoch, then a cosine decay
    # over ``epochs`` (a fixed budget, so set ``epochs`` to what ``max_minutes`` allows).
    schedule: str = "plateau"
    mixup_alpha: float = 0.0  # 0 = no mixup
    hard_negative_weight: float = 2.0  # sampling weight of HARD_NEGATIVE_CATEGORIES among non-screams
    # Validate and keep an exponential moving average of the weights (and BatchNorm statistics) instead
    # of the raw weights: on this small, noisy data the raw weights swing from epoch to epoch.
    ema_decay: float = 0.0  # per step; 0 = off
    init_checkpoint: str | None = None  # warm start: weights of an earlier run's best.pt
    # Stop after this epoch (0 = run to ``epochs``); the schedule still spans ``epochs``. A refit on
    # train + val stops where its validation run's best checkpoint was.
    stop_epoch: int = 0
    # The learning rate of each epoch, replayed instead of ``schedule``: a refit of a plateau run has
    # no validation loss to follow, so it repeats the drops its validation run made.
    epoch_learning_rates: list[float] | None = None


@dataclass
class TrainResult:
    checkpoint: Path
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    epochs_run: int = 0
    wall_s: float = 0.0
    stopped_because: str = ""


@dataclass
class Clip:
    record: Record
    samples: np.ndarray
    crop_starts: np.ndarray  # energetic 1-s crops (screams) or None-equivalent empty for negatives


def load_clips(records: list[Record], *, progress: bool = True) -> list[Clip]:
    """Decode every file once (16 kHz mono float32); files that cannot be decoded are skipped."""
    clips = []
    for record in tqdm(records, desc="decoding", unit="file", disable=not progress):
        try:
            samples = decode_audio(record.path, allow_silent=True).samples
        except AudioError as error:
            tqdm.write(f"skipping {record.file}: {error}")
            continue
        starts = energetic_starts(samples, WINDOW_SAMPLES) if record.label == 1 else np.zeros(0, np.int64)
        clips.append(Clip(record=record, samples=samples, crop_starts=starts))
    return clips


class BatchSampler:
    """Balanced batches of augmented training windows (features and labels)."""

    def __init__(self, clips: list[Clip], config: TrainConfig):
        self.screams = [clip for clip in clips if clip.record.label == 1]
        self.negatives = [clip for clip in clips if clip.record.label == 0]
        if not self.screams or not self.negatives:
            raise ValueError("the training split needs both screams and non-screams")
        weights = np.array(
            [
                config.hard_negative_weight if clip.record.category in HARD_NEGATIVE_CATEGORIES else 1.0
                for clip in self.negatives
            ]
        )
        self.negative_probabilities = weights / weights.sum()
        self.augmenter = WindowAugmenter([clip.samples for clip in self.negatives])
        self.config = config

    def batch(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        size = self.config.batch_size
        n_screams = round(size * self.config.scream_share)
        labels = np.array([1] * n_screams + [0] * (size - n_screams), dtype=np.int64)
        rng.shuffle(labels)
        segments = []
        for label in labels:
            if label == 1:
                clip = self.screams[int(rng.integers(len(self.screams)))]
            else:
                clip = self.negatives[int(rng.choice(len(self.negatives), p=self.negative_probabilities))]
            segments.append(self.augmenter.segment(clip.samples, rng, label=int(label), crop_starts=clip.crop_starts))
        features = segment_features(segments)
        return spec_augment(features, rng), labels


def segment_features(segments: list[np.ndarray]) -> np.ndarray:
    """Features of the window inside each segment (window plus FFT context each side)."""
    return np.concatenate([window_features(segment, [CONTEXT_SAMPLES]) for segment in segments])


def clean_segments(clip: Clip, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    samples = clip.samples
    if clip.record.label == 1 and len(samples) > WINDOW_SAMPLES:
        padded = np.concatenate([np.zeros(CONTEXT_SAMPLES, np.float32), samples, np.zeros(CONTEXT_SAMPLES, np.float32)])
        starts = rng.choice(clip.crop_starts, size=min(count, len(clip.crop_starts)), replace=False)
        return [padded[start : start + SEGMENT_SAMPLES] for start in sorted(starts)]
    if clip.record.label == 1:
        segment = np.zeros(SEGMENT_SAMPLES, np.float32)
        segment[CONTEXT_SAMPLES : CONTEXT_SAMPLES + WINDOW_SAMPLES] = place(samples, WINDOW_SAMPLES, rng)
        return [segment]
    n = 1 if len(samples) <= SEGMENT_SAMPLES else min(count, math.ceil(len(samples) / SEGMENT_SAMPLES))
    return [place(samples, SEGMENT_SAMPLES, rng) for _ in range(n)]


def _scream_window(clip: Clip, rng: np.random.Generator) -> np.ndarray:
    segment = np.zeros(SEGMENT_SAMPLES, np.float32)
    if len(clip.samples) > WINDOW_SAMPLES:
        start = int(rng.choice(clip.crop_starts))
        segment[CONTEXT_SAMPLES : CONTEXT_SAMPLES + WINDOW_SAMPLES] = clip.samples[start : start + WINDOW_SAMPLES]
    else:
        segment[CONTEXT_SAMPLES : CONTEXT_SAMPLES + WINDOW_SAMPLES] = place(clip.samples, WINDOW_SAMPLES, rng)
    return segment


def build_validation_set(clips: list[Clip], *, seed: int) -> dict[str, np.ndarray]:
    """Fixed validation windows: clean clips (up to 2 per file), every scream mixed into a random
    validation background at each of ``VALIDATION_SNRS_DB``, and every non-scream mixed with another."""
    rng = np.random.default_rng([seed, 7919])
    screams = [clip for clip in clips if clip.record.label == 1]
    negatives = [clip for clip in clips if clip.record.label == 0]
    segments, labels, kinds = [], [], []
    for clip in clips:
        for segment in clean_segments(clip, rng, 2):
            segments.append(segment)
            labels.append(clip.record.label)
            kinds.append("clean")
    if negatives:
        for clip in screams:
            for snr in VALIDATION_SNRS_DB:
                background = loop_to(negatives[int(rng.integers(len(negatives)))].samples, SEGMENT_SAMPLES, rng)
                segments.append(mix_at_snr(_scream_window(clip, rng), background, snr))
                labels.append(1)
                kinds.append(f"mixed_{snr:g}dB")
        for clip in negatives:
            other = negatives[int(rng.integers(len(negatives)))]
            foreground = place(clip.samples, SEGMENT_SAMPLES, rng)
            background = loop_to(other.samples, SEGMENT_SAMPLES, rng)
            segments.append(mix_at_snr(foreground, background, float(rng.uniform(0.0, 20.0))))
            labels.append(0)
            kinds.append("mixed_negative")
    segments = [np.clip(segment, -1.0, 1.0) for segment in segments]
    return {
        "features": segment_features(segments),
        "labels": np.asarray(labels, dtype=np.int64),
        "kinds": np.asarray(kinds),
    }


def predict_probabilities(model: nn.Module, features: np.ndarray, device: torch.device, batch: int = 128) -> np.ndarray:
    """Scream probabilities of ``features`` (N, 1, mels, frames)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch):
            logits = model(torch.from_numpy(features[start : start + batch]).to(device))
            out.append(torch.softmax(logits, dim=1)[:, 1].cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _epoch_line(row: dict, *, improved: bool) -> str:
    line = f"epoch {row['epoch']:3d}  train loss {row['train_loss']:.4f} acc {row['train_accuracy']:.3f} | "
    if "val_loss" in row:
        extras = " ".join(f"{key[4:]}={row[key]:.3f}" for key in row if key.startswith("val_recall"))
        line += (
            f"val loss {row['val_loss']:.4f} acc {row['val_accuracy']:.3f} auc {row['val_auc']:.4f} "
            f"auc_mixed {row.get('val_auc_mixed', float('nan')):.4f} {extras} | "
        )
    return line + f"lr {row['lr']:.1e} {row['epoch_s']:.0f}s{' *best*' if improved else ''}"


def _validate(model: nn.Module, validation: dict[str, np.ndarray], device: torch.device, criterion) -> dict:
    probabilities = predict_probabilities(model, validation["features"], device)
    labels = validation["labels"]
    clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)
    loss = float(-np.mean(labels * np.log(clipped) + (1 - labels) * np.log(1 - clipped)))
    mixed = np.char.startswith(validation["kinds"].astype(str), "mixed")
    row = {
        "val_loss": loss,
        "val_accuracy": float(np.mean((probabilities >= 0.5) == labels)),
        "val_auc": float(roc_auc_score(labels, probabilities)),
    }
    if 0 < labels[mixed].sum() < mixed.sum():
        row["val_auc_mixed"] = float(roc_auc_score(labels[mixed], probabilities[mixed]))
    for snr in VALIDATION_SNRS_DB:
        mask = validation["kinds"] == f"mixed_{snr:g}dB"
        if mask.any():
            row[f"val_recall_{snr:g}dB"] = float(np.mean(probabilities[mask] >= 0.5))
    return row


def _weight_average(model: nn.Module, decay: float):
    if not decay:
        return None
    if not 0.0 < decay < 1.0:
        raise ValueError(f"the weight-average decay must be between 0 and 1, not {decay}")
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay), use_buffers=True
    )


def _schedulers(optimizer, config: TrainConfig, steps_per_epoch: int):
    """(plateau scheduler stepped per epoch, or None; per-step scheduler, or None)."""
    if config.epoch_learning_rates:
        return None, None  # set at the start of each epoch
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.3, patience=config.lr_patience), None
    if config.schedule != "cosine":
        raise ValueError(f"unknown learning-rate schedule {config.schedule!r} (plateau or cosine)")
    warmup = steps_per_epoch
    total = max(config.epochs * steps_per_epoch, warmup + 1)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / (total - warmup))
        return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress))

    return None, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(
    train_clips: list[Clip],
    val_clips: list[Clip],
    config: TrainConfig,
    out_dir: Path,
    *,
    progress: bool = True,
    log: Callable[[str], None] = tqdm.write,
) -> TrainResult:
    """Train until early stopping, ``config.epochs`` or ``config.max_minutes``; keep the best checkpoint
    (lowest validation loss) in ``out_dir/best.pt``. SIGTERM/SIGINT stop after the current step.

    With no validation clips (a refit on train + val) there is nothing to stop on: it trains to
    ``config.stop_epoch`` (or ``config.epochs``) and keeps the last weights in ``out_dir/final.pt``."""
    seed_everything(config.seed)
    torch.set_num_threads(config.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sampler = BatchSampler(train_clips, config)
    validation = build_validation_set(val_clips, seed=config.seed) if val_clips else None
    last_epoch = config.stop_epoch or config.epochs
    if not 1 <= last_epoch <= config.epochs:
        raise ValueError(f"stop_epoch {config.stop_epoch} is outside 1..{config.epochs}")
    if config.epoch_learning_rates and len(config.epoch_learning_rates) < last_epoch:
        raise ValueError(f"{len(config.epoch_learning_rates)} epoch learning rates for {last_epoch} epochs")
    if validation is None:
        log(f"no validation part: training {last_epoch} epochs and keeping the last weights; device {device}")
    else:
        log(
            f"validation windows: {len(validation['labels'])} ({int(validation['labels'].sum())} scream);"
            f" device {device}; {config.windows_per_epoch} training windows per epoch"
        )

    model = build_resnet34()
    if config.init_checkpoint:
        model.load_state_dict(torch.load(config.init_checkpoint, map_location="cpu")["model"])
        log(f"warm start from {config.init_checkpoint}")
    model = model.to(device)
    averaged = _weight_average(model, config.ema_decay)
    evaluated = averaged.module if averaged is not None else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, config.windows_per_epoch // config.batch_size)
    plateau, step_scheduler = _schedulers(optimizer, config, steps_per_epoch)
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    result = TrainResult(checkpoint=out_dir / ("best.pt" if validation is not None else "final.pt"))
    best_loss = math.inf
    stale_epochs = 0
    started = time.monotonic()
    deadline = started + config.max_minutes * 60.0
    stop_requested = []

    def request_stop(signum, _frame):
        stop_requested.append(signum)

    previous_handlers = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for epoch in range(1, last_epoch + 1):
            model.train()
            epoch_started = time.monotonic()
            if config.epoch_learning_rates:
                for group in optimizer.param_groups:
                    group["lr"] = config.epoch_learning_rates[epoch - 1]
            losses, correct, seen = [], 0, 0
            bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}", unit="step", disable=not progress, leave=False)
            for step in bar:
                # A warm-started run draws other batches than the run it starts from.
                key = [config.seed, epoch, step]
                if config.init_checkpoint:
                    key.append(zlib.crc32(str(config.init_checkpoint).encode()))
                rng = np.random.default_rng(key)
                features, labels = sampler.batch(rng)
                targets = torch.from_numpy(labels).to(device)
                if config.mixup_alpha > 0:
                    features, soft_targets = mixup(features, labels, rng, alpha=config.mixup_alpha)
                    loss_targets = torch.from_numpy(soft_targets).to(device)
                else:
                    loss_targets = targets
                inputs = torch.from_numpy(features).to(device)
                optimizer.zero_grad(set_to_none=True)
                logits = model(inputs)
                loss = criterion(logits, loss_targets)
                loss.backward()
                optimizer.step()
                if step_scheduler is not None:
                    step_scheduler.step()
                if averaged is not None:
                    averaged.update_parameters(model)
                losses.append(loss.item())
                correct += int((logits.argmax(1) == targets).sum())
                seen += len(labels)
                bar.set_postfix(loss=f"{np.mean(losses):.3f}")
                if stop_requested or time.monotonic() > deadline:
                    break
            row = {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                "train_accuracy": correct / max(seen, 1),
                "lr": optimizer.param_groups[0]["lr"],
            }
            if validation is not None:
                row.update(_validate(evaluated, validation, device, criterion))
            row["epoch_s"] = time.monotonic() - epoch_started
            row["elapsed_s"] = time.monotonic() - started
            result.history.append(row)
            result.epochs_run = epoch
            if validation is None:
                improved = True  # nothing to compare with: the last weights are the model
            else:
                if plateau is not None:
                    plateau.step(row["val_loss"])
                improved = row["val_loss"] < best_loss - 1e-4
                stale_epochs = 0 if improved else stale_epochs + 1
                if improved:
                    best_loss = row["val_loss"]
            if improved:
                result.best_epoch = epoch
                torch.save(
                    {"model": evaluated.state_dict(), "epoch": epoch, "val_loss": row.get("val_loss")},
                    result.checkpoint,
                )
            log(_epoch_line(row, improved=improved and validation is not None))
            if stop_requested:
                result.stopped_because = "stopped by signal"
                break
            if stale_epochs >= config.patience:
                result.stopped_because = f"early stopping: no validation-loss improvement in {config.patience} epochs"
                break
            if time.monotonic() + row["epoch_s"] > deadline:
                result.stopped_because = f"time budget of {config.max_minutes:g} min reached"
                break
        else:
            result.stopped_because = (
                f"{last_epoch} epochs done" if last_epoch == config.epochs else f"stopped at epoch {last_epoch} as set"
            )
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    result.wall_s = time.monotonic() - started
    log(f"training stopped after {result.epochs_run} epochs ({result.stopped_because}); best epoch {result.best_epoch}")
    return result
