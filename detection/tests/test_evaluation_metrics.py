"""Evaluation metrics against hand-computed cases."""

import json

import numpy as np
import pytest

from detection.evaluation import (
    binary_metrics,
    category_breakdown,
    choose_threshold,
    evaluate_scores,
    false_alarms_per_hour,
    format_report,
    plot_training_curves,
    save_plots,
    snr_breakdown,
)

LABELS = [1, 1, 1, 0, 0, 0, 0, 0]
SCORES = [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.1, 0.05]


def test_binary_metrics_at_half():
    metrics = binary_metrics(LABELS, SCORES, 0.5)
    # tp 2 (0.9, 0.8), fn 1 (0.3), fp 1 (0.7), tn 4
    assert metrics["confusion_matrix"] == [[4, 1], [1, 2]]
    assert metrics["accuracy"] == pytest.approx(6 / 8)
    assert metrics["precision"] == pytest.approx(2 / 3)
    assert metrics["recall"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    assert metrics["false_positive_rate"] == pytest.approx(1 / 5)
    # pairs (scream, non-scream) ranked correctly: 0.9 and 0.8 beat all 5; 0.3 beats 4 of 5 -> 14/15
    assert metrics["roc_auc"] == pytest.approx(14 / 15)


def test_auc_is_none_with_one_class():
    assert binary_metrics([1, 1], [0.2, 0.9], 0.5)["roc_auc"] is None


def test_no_predicted_positives_gives_zero_precision_not_an_error():
    metrics = binary_metrics([1, 0], [0.1, 0.2], 0.9)
    assert metrics["precision"] == 0.0 and metrics["f1"] == 0.0


def test_choose_threshold_maximises_f1_and_sits_between_scores():
    threshold = choose_threshold(LABELS, SCORES)
    # Best F1: threshold in (0.3, 0.7] misses one scream, no false alarm... F1 = 0.8; at <= 0.3: 3 tp, 1 fp -> 6/7.
    assert binary_metrics(LABELS, SCORES, threshold)["f1"] == pytest.approx(6 / 7)
    assert 0.2 < threshold < 0.3


def test_choose_threshold_with_weights_counts_weighted_files():
    labels = [1, 1, 1, 1, 0, 0, 0]
    scores = [0.9, 0.4, 0.4, 0.4, 0.5, 0.5, 0.1]
    # Unweighted: catching the three 0.4 screams despite two false alarms is best (F1 0.8 vs 0.4).
    assert choose_threshold(labels, scores) == pytest.approx(0.25)
    # The three 0.4s as mixed copies of one scream (weight 1/4 each): F1 0.73 above 0.5 beats 0.64.
    assert choose_threshold(labels, scores, [1, 0.25, 0.25, 0.25, 1, 1, 1]) == pytest.approx(0.7)


def test_choose_threshold_needs_both_classes():
    with pytest.raises(ValueError):
        choose_threshold([1, 1], [0.1, 0.2])


def test_category_breakdown_gives_recall_and_false_positive_rate():
    categories = ["pain_cry", "pain_cry", "death_cry", "speech", "speech", "music", "music", "music"]
    rows = {row["category"]: row for row in category_breakdown(LABELS, SCORES, categories, 0.5)}
    assert rows["pain_cry"]["recall"] == 1.0
    assert rows["death_cry"]["recall"] == 0.0
    assert rows["speech"]["false_positive_rate"] == 0.5
    assert rows["music"]["false_positive_rate"] == 0.0


def test_snr_breakdown_per_fixed_snr():
    rows = snr_breakdown([1, 1, 1, 1, 0], [0.9, 0.2, 0.8, 0.6, 0.9], [0, 0, 5, 20, None], 0.5)
    assert rows == [
        {"bucket": "0 dB", "screams": 2, "recall": 0.5},
        {"bucket": "5 dB", "screams": 1, "recall": 1.0},
        {"bucket": "20 dB", "screams": 1, "recall": 1.0},
    ]


def test_snr_breakdown_buckets_continuous_snrs():
    snrs = [-2.0, 1.0, 3.0, 6.5, 7.0, 12.0, 25.0, None]
    labels = [1, 1, 1, 1, 1, 1, 1, 0]
    scores = [0.1, 0.9, 0.2, 0.8, 0.7, 0.9, 0.95, 0.9]
    rows = snr_breakdown(labels, scores, snrs, 0.5)
    assert rows == [
        {"bucket": "< 0 dB", "screams": 1, "recall": 0.0},
        {"bucket": "0-5 dB", "screams": 2, "recall": 0.5},
        {"bucket": "5-10 dB", "screams": 2, "recall": 1.0},
        {"bucket": "10-20 dB", "screams": 1, "recall": 1.0},
        {"bucket": ">= 20 dB", "screams": 1, "recall": 1.0},
    ]


def test_false_alarms_merge_consecutive_windows_into_one_event():
    windows = [np.array([0.1, 0.9, 0.95, 0.2, 0.8]), np.array([0.9])]
    alarms = false_alarms_per_hour(windows, [1800.0, 1800.0], 0.5)
    assert alarms["events"] == 3
    assert alarms["windows_over_threshold"] == 4
    assert alarms["per_hour"] == pytest.approx(3.0)


def test_report_is_json_and_prints(tmp_path):
    report = evaluate_scores(labels=LABELS, scores=SCORES, threshold=0.5, categories=["a"] * 3 + ["b"] * 5)
    json.dumps(report)
    text = format_report(report, title="test")
    assert "F1        0.6667" in text and "ROC-AUC   0.9333" in text
    paths = save_plots(report, LABELS, SCORES, tmp_path)
    assert {path.name for path in paths} == {"confusion.png", "roc.png", "pr.png"}
    history = [
        {"epoch": 1, "train_loss": 0.7, "val_loss": 0.6, "train_accuracy": 0.5, "val_accuracy": 0.6},
        {"epoch": 2, "train_loss": 0.5, "val_loss": 0.5, "train_accuracy": 0.7, "val_accuracy": 0.7},
    ]
    assert plot_training_curves(history, tmp_path / "curves.png").stat().st_size > 0
