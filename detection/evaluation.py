"""Scoring a detector's file-level outputs: metrics, threshold choice, breakdowns, plots.

No torch here: ``evaluate_detector`` runs on the serving install. The API:

- ``binary_metrics(labels, scores, threshold) -> dict``: accuracy, precision, recall, F1, ROC-AUC
  (None when only one class is present), confusion matrix ``[[tn, fp], [fn, tp]]`` and counts.
- ``choose_threshold(labels, scores, weights=None) -> float``: the threshold maximising (weighted)
  F1 (use it on validation scores that include screams mixed into noise, never on test).
- ``category_breakdown(labels, scores, categories, threshold) -> list[dict]``: per category, recall
  for scream categories and false-positive rate for non-scream ones.
- ``snr_breakdown(labels, scores, snr_db, threshold) -> list[dict]``: scream recall per SNR bucket.
- ``bootstrap_intervals(labels, scores, threshold, groups=None) -> dict``: 95 % percentile bootstrap
  intervals of those metrics, drawing whole source groups when given (seeded: same every time).
- ``evaluate_scores(labels=, scores=, threshold=, categories=None, snr_db=None, groups=None) -> dict``:
  all of the above in one JSON-serialisable report; ``format_report(report) -> str`` prints it as text.
- ``false_alarms_per_hour(window_scores, durations_s, threshold, hop_s) -> dict``: events (runs of
  windows over the threshold) per hour of negative audio.
- ``save_plots(report, labels, scores, out_dir)`` writes confusion.png, roc.png, pr.png;
  ``plot_training_curves(history, path)`` writes loss and accuracy per epoch.

Labels are 1 for scream, 0 otherwise; scores are scream probabilities (higher = more scream-like).
"""

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score, roc_curve

MAX_EXACT_SNRS = 6
SNR_BUCKETS_DB: tuple[tuple[float, float], ...] = (
    (-math.inf, 0.0),
    (0.0, 5.0),
    (5.0, 10.0),
    (10.0, 20.0),
    (20.0, math.inf),
)


def _arrays(labels: Sequence[int], scores: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    label_array = np.asarray(labels, dtype=np.int64)
    score_array = np.asarray(scores, dtype=np.float64)
    if label_array.shape != score_array.shape or label_array.ndim != 1:
        raise ValueError("labels and scores must be 1-D sequences of the same length")
    return label_array, score_array


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def binary_metrics(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict:
    """Metrics of the decisions ``score >= threshold``; ROC-AUC is threshold-free."""
    label_array, score_array = _arrays(labels, scores)
    predicted = score_array >= threshold
    positive = label_array == 1
    tp = int(np.sum(predicted & positive))
    fp = int(np.sum(predicted & ~positive))
    fn = int(np.sum(~predicted & positive))
    tn = int(np.sum(~predicted & ~positive))
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    both_classes = 0 < positive.sum() < positive.size
    return {
        "threshold": float(threshold),
        "count": int(label_array.size),
        "positives": int(positive.sum()),
        "negatives": int((~positive).sum()),
        "accuracy": _ratio(tp + tn, label_array.size),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "false_positive_rate": _ratio(fp, fp + tn),
        "roc_auc": float(roc_auc_score(label_array, score_array)) if both_classes else None,
        "confusion_matrix": [[tn, fp], [fn, tp]],
    }


def choose_threshold(labels: Sequence[int], scores: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """The threshold with the best (optionally sample-weighted) F1, halfway to the next lower score.

    Weights let several mixed versions of one scream count as one file, so that screams in noise
    inform the threshold without outnumbering the non-screams.
    """
    label_array, score_array = _arrays(labels, scores)
    if not 0 < label_array.sum() < label_array.size:
        raise ValueError("choosing a threshold needs both screams and non-screams")
    weight_array = np.ones_like(score_array) if weights is None else np.asarray(weights, dtype=np.float64)
    if weight_array.shape != score_array.shape:
        raise ValueError("weights must match scores")
    order = np.argsort(-score_array, kind="stable")
    sorted_scores = score_array[order]
    positive_weight = np.cumsum(weight_array[order] * (label_array[order] == 1))
    negative_weight = np.cumsum(weight_array[order] * (label_array[order] == 0))
    total_positive = positive_weight[-1]
    # Decisions change only between distinct scores: evaluate "score >= each distinct value".
    last_of_value = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    true_positive = positive_weight[last_of_value]
    false_positive = negative_weight[last_of_value]
    f1 = 2 * true_positive / np.maximum(true_positive + false_positive + total_positive, 1e-12)
    best = int(np.argmax(f1 >= f1.max() - 1e-12))  # the highest threshold among the best
    chosen = sorted_scores[last_of_value[best]]
    lower = sorted_scores[last_of_value[best] + 1] if last_of_value[best] + 1 < len(sorted_scores) else None
    # Halfway to the next lower score, so that the threshold is not balanced on one validation example.
    return float(chosen if lower is None else (chosen + lower) / 2.0)


def category_breakdown(
    labels: Sequence[int], scores: Sequence[float], categories: Sequence[str], threshold: float
) -> list[dict]:
    """Per category: files, and recall (scream categories) or false-positive rate (the others)."""
    label_array, score_array = _arrays(labels, scores)
    category_array = np.asarray(categories, dtype=object)
    rows = []
    for category in sorted(set(category_array.tolist())):
        mask = category_array == category
        predicted = score_array[mask] >= threshold
        is_scream = bool(label_array[mask].mean() >= 0.5)
        row = {"category": category, "label": int(is_scream), "files": int(mask.sum())}
        if is_scream:
            row["recall"] = float(predicted.mean())
        else:
            row["false_positive_rate"] = float(predicted.mean())
        row["mean_score"] = float(score_array[mask].mean())
        rows.append(row)
    return rows


def _bucket_name(low: float, high: float) -> str:
    if math.isinf(low):
        return f"< {high:g} dB"
    if math.isinf(high):
        return f">= {low:g} dB"
    return f"{low:g}-{high:g} dB"


def snr_breakdown(
    labels: Sequence[int], scores: Sequence[float], snr_db: Sequence[float | None], threshold: float
) -> list[dict]:
    """Scream recall per SNR: per value when the screams were mixed at a few fixed SNRs (at most
    ``MAX_EXACT_SNRS`` distinct values), else per ``SNR_BUCKETS_DB`` range. Files without snr_db are left out."""
    label_array, score_array = _arrays(labels, scores)
    snr_values = np.asarray([np.nan if value is None else float(value) for value in snr_db], dtype=np.float64)
    screams = (label_array == 1) & ~np.isnan(snr_values)
    distinct = np.unique(snr_values[screams])
    if len(distinct) <= MAX_EXACT_SNRS:
        buckets = [(f"{value:g} dB", screams & (snr_values == value)) for value in distinct]
    else:
        buckets = [
            (_bucket_name(low, high), screams & (snr_values >= low) & (snr_values < high))
            for low, high in SNR_BUCKETS_DB
        ]
    return [
        {"bucket": name, "screams": int(mask.sum()), "recall": float(np.mean(score_array[mask] >= threshold))}
        for name, mask in buckets
        if mask.any()
    ]


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_LEVEL = 0.95
INTERVAL_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def _weighted_roc_auc(positive: np.ndarray, score_index: np.ndarray, weights: np.ndarray, n_scores: int) -> float:
    """ROC-AUC with each file counted ``weights`` times (ties count half), from scores ranked as
    ``score_index`` (0 = lowest distinct score): a pair is ordered right when the scream scores higher."""
    positives = np.bincount(score_index, weights=weights * positive, minlength=n_scores)
    negatives = np.bincount(score_index, weights=weights * ~positive, minlength=n_scores)
    negatives_below = np.cumsum(negatives) - negatives
    pairs = positives.sum() * negatives.sum()
    return float(np.sum(positives * (negatives_below + 0.5 * negatives)) / pairs)


def bootstrap_intervals(
    labels: Sequence[int],
    scores: Sequence[float],
    threshold: float,
    groups: Sequence[str] | None = None,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = BOOTSTRAP_LEVEL,
    seed: int = 0,
) -> dict:
    """Percentile bootstrap intervals of accuracy, precision, recall, F1 and ROC-AUC.

    With ``groups`` (a file's source: one recording's segments, one voice set) whole groups are
    drawn with replacement, not files: files of one source succeed or fail together, so drawing
    them one by one would make the intervals too narrow. Seeded, so a report prints the same
    intervals every time. A resample without a scream or without a non-scream has no ROC-AUC and
    is left out of that interval only."""
    label_array, score_array = _arrays(labels, scores)
    if not 0.0 < level < 1.0 or resamples < 1:
        raise ValueError("level must lie between 0 and 1 and resamples must be 1 or more")
    if groups is None:
        groups = [str(index) for index in range(label_array.size)]
    if len(groups) != label_array.size:
        raise ValueError("groups must have one entry per file")
    group_names, group_index = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    n_groups = group_names.size
    positive = label_array == 1
    predicted = score_array >= threshold
    # Confusion counts per group: a resample's counts are its group multiplicities times these.
    per_group = np.stack(
        [
            np.bincount(group_index, weights=cell, minlength=n_groups)
            for cell in (predicted & positive, predicted & ~positive, ~predicted & positive, ~predicted & ~positive)
        ]
    )
    _, score_index = np.unique(score_array, return_inverse=True)
    n_scores = int(score_index.max()) + 1 if score_index.size else 0

    rng = np.random.default_rng(seed)
    multiplicities = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=resamples)
    tp, fp, fn, tn = (multiplicities @ per_group.T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    samples = {"accuracy": (tp + tn) / (tp + fp + fn + tn), "precision": precision, "recall": recall, "f1": f1}
    aucs = []
    for counts in multiplicities:
        weights = counts[group_index].astype(np.float64)
        if weights[positive].sum() > 0 and weights[~positive].sum() > 0:
            aucs.append(_weighted_roc_auc(positive, score_index, weights, n_scores))
    samples["roc_auc"] = np.asarray(aucs)

    tail = 100.0 * (1.0 - level) / 2.0
    intervals = {
        name: [float(np.percentile(values, tail)), float(np.percentile(values, 100.0 - tail))] if values.size else None
        for name, values in samples.items()
    }
    return {
        "level": level,
        "resamples": resamples,
        "unit": "source group" if n_groups < label_array.size else "file",
        "units": int(n_groups),
        **intervals,
    }


def evaluate_scores(
    *,
    labels: Sequence[int],
    scores: Sequence[float],
    threshold: float,
    categories: Sequence[str] | None = None,
    snr_db: Sequence[float | None] | None = None,
    groups: Sequence[str] | None = None,
) -> dict:
    """One JSON-serialisable report: overall metrics, per category and per SNR bucket when given, and
    bootstrap intervals of the overall metrics (resampling ``groups`` when given, else files)."""
    report = {"overall": binary_metrics(labels, scores, threshold)}
    report["intervals"] = bootstrap_intervals(labels, scores, threshold, groups)
    if categories is not None:
        report["per_category"] = category_breakdown(labels, scores, categories, threshold)
    if snr_db is not None and any(value is not None for value in snr_db):
        report["per_snr"] = snr_breakdown(labels, scores, snr_db, threshold)
    return report


def false_alarms_per_hour(window_scores: Sequence[np.ndarray], durations_s: Sequence[float], threshold: float) -> dict:
    """Alarm events on negative audio: each run of consecutive windows over the threshold is one event."""
    events = 0
    windows_over = 0
    for scores in window_scores:
        over = np.asarray(scores) >= threshold
        windows_over += int(over.sum())
        events += int(np.sum(over[1:] & ~over[:-1]) + (1 if over.size and over[0] else 0))
    hours = float(sum(durations_s)) / 3600.0
    return {
        "events": events,
        "windows_over_threshold": windows_over,
        "hours": hours,
        "per_hour": events / hours if hours else 0.0,
    }


def format_report(report: dict, *, title: str = "") -> str:
    """The report as a plain-text table."""
    overall = report["overall"]
    auc = overall["roc_auc"]
    lines = [title] if title else []
    lines += [
        f"files {overall['count']} (screams {overall['positives']}, non-screams {overall['negatives']})"
        f"  threshold {overall['threshold']:.3f}",
        f"accuracy  {overall['accuracy']:.4f}{_interval_text(report, 'accuracy')}",
        f"precision {overall['precision']:.4f}{_interval_text(report, 'precision')}",
        f"recall    {overall['recall']:.4f}{_interval_text(report, 'recall')}",
        f"F1        {overall['f1']:.4f}{_interval_text(report, 'f1')}",
        f"ROC-AUC   {auc:.4f}{_interval_text(report, 'roc_auc')}"
        if auc is not None
        else "ROC-AUC   n/a (one class only)",
        "confusion matrix (rows: true non-scream, scream; columns: predicted non-scream, scream)",
    ]
    (tn, fp), (fn, tp) = overall["confusion_matrix"]
    lines += [f"  {tn:6d} {fp:6d}", f"  {fn:6d} {tp:6d}"]
    if report.get("intervals"):
        lines.append(interval_sentence(report["intervals"]))
    if report.get("per_category"):
        lines.append(f"{'category':24s} {'files':>6s} {'recall':>8s} {'FP rate':>8s} {'mean score':>10s}")
        for row in report["per_category"]:
            recall = f"{row['recall']:.3f}" if "recall" in row else ""
            fpr = f"{row['false_positive_rate']:.3f}" if "false_positive_rate" in row else ""
            lines.append(f"{row['category']:24s} {row['files']:6d} {recall:>8s} {fpr:>8s} {row['mean_score']:10.3f}")
    if report.get("per_snr"):
        lines.append(f"{'SNR':12s} {'screams':>8s} {'recall':>8s}")
        for row in report["per_snr"]:
            lines.append(f"{row['bucket']:12s} {row['screams']:8d} {row['recall']:8.3f}")
    if report.get("false_alarms"):
        alarms = report["false_alarms"]
        lines.append(
            f"false alarms: {alarms['events']} events in {alarms['hours'] * 60:.1f} min of negative audio"
            f" = {alarms['per_hour']:.1f} per hour"
        )
    return "\n".join(lines)


def _interval_text(report: dict, name: str) -> str:
    bounds = (report.get("intervals") or {}).get(name)
    return f"  [{bounds[0]:.3f}, {bounds[1]:.3f}]" if bounds else ""


def interval_sentence(intervals: dict) -> str:
    """What the bracketed intervals are, in words."""
    return (
        f"[intervals]: {100 * intervals['level']:.0f} % bootstrap intervals, {intervals['resamples']} resamples"
        f" of the {intervals['units']} {intervals['unit']}s with replacement"
    )


def interval_summary(intervals: dict) -> str:
    """The intervals in one sentence (for model cards)."""
    names = {"accuracy": "accuracy", "precision": "precision", "recall": "recall", "f1": "F1", "roc_auc": "ROC-AUC"}
    bounds = ", ".join(
        f"{label} {intervals[name][0]:.3f}-{intervals[name][1]:.3f}"
        for name, label in names.items()
        if intervals.get(name)
    )
    return (
        f"{100 * intervals['level']:.0f} % bootstrap intervals ({intervals['resamples']} resamples of the"
        f" {intervals['units']} {intervals['unit']}s with replacement): {bounds}."
    )


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plots(report: dict, labels: Sequence[int], scores: Sequence[float], out_dir: str | Path) -> list[Path]:
    """confusion.png, roc.png and pr.png in ``out_dir``."""
    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    label_array, score_array = _arrays(labels, scores)
    paths = []

    matrix = np.asarray(report["overall"]["confusion_matrix"])
    figure, axes = plt.subplots(figsize=(4, 4))
    axes.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        axes.text(column, row, str(value), ha="center", va="center", color="black")
    axes.set_xticks([0, 1], ["non-scream", "scream"])
    axes.set_yticks([0, 1], ["non-scream", "scream"])
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(f"threshold {report['overall']['threshold']:.3f}")
    figure.tight_layout()
    paths.append(out_dir / "confusion.png")
    figure.savefig(paths[-1], dpi=100)
    plt.close(figure)

    if 0 < label_array.sum() < label_array.size:
        fpr, tpr, _ = roc_curve(label_array, score_array)
        figure, axes = plt.subplots(figsize=(4.5, 4))
        axes.plot(fpr, tpr, label=f"AUC {report['overall']['roc_auc']:.3f}")
        axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
        axes.set_xlabel("false-positive rate")
        axes.set_ylabel("true-positive rate (recall)")
        axes.legend(loc="lower right")
        figure.tight_layout()
        paths.append(out_dir / "roc.png")
        figure.savefig(paths[-1], dpi=100)
        plt.close(figure)

        precision, recall, _ = precision_recall_curve(label_array, score_array)
        figure, axes = plt.subplots(figsize=(4.5, 4))
        axes.plot(recall, precision)
        axes.set_xlabel("recall")
        axes.set_ylabel("precision")
        axes.set_ylim(0, 1.02)
        figure.tight_layout()
        paths.append(out_dir / "pr.png")
        figure.savefig(paths[-1], dpi=100)
        plt.close(figure)
    return paths


def plot_training_curves(history: list[dict], path: str | Path) -> Path:
    """Loss and accuracy per epoch (keys epoch, train_loss, train_accuracy and, when the run validated,
    val_loss, val_accuracy)."""
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for axis, key, label in zip(axes, ("loss", "accuracy"), ("cross-entropy", "window accuracy"), strict=True):
        axis.plot(epochs, [row[f"train_{key}"] for row in history], label="train")
        if all(f"val_{key}" in row for row in history):
            axis.plot(epochs, [row[f"val_{key}"] for row in history], label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.legend()
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def write_json(document: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(document, indent=2, default=float) + "\n", encoding="utf-8")
