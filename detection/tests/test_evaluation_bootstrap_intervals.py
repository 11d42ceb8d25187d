"""Bootstrap intervals of the evaluation metrics: right AUC under resampling weights, seeded, and
grouped so that related files are drawn together."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from detection.evaluation import (
    _weighted_roc_auc,
    binary_metrics,
    bootstrap_intervals,
    evaluate_scores,
    format_report,
    interval_summary,
)

rng = np.random.default_rng(7)
LABELS = rng.integers(0, 2, 240)
SCORES = np.clip(rng.normal(0.35 + 0.3 * LABELS, 0.2), 0.0, 1.0).round(2)  # rounded: many ties


def test_weighted_auc_equals_sklearns_with_sample_weights_ties_included():
    weights = rng.integers(0, 4, LABELS.size).astype(float)
    _, ranks = np.unique(SCORES, return_inverse=True)
    ours = _weighted_roc_auc(LABELS == 1, ranks, weights, int(ranks.max()) + 1)
    assert ours == pytest.approx(roc_auc_score(LABELS, SCORES, sample_weight=weights), abs=1e-12)


def test_intervals_hold_the_point_estimate_and_are_the_same_every_time():
    first = bootstrap_intervals(LABELS, SCORES, 0.5)
    point = binary_metrics(LABELS, SCORES, 0.5)
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        low, high = first[name]
        assert low < point[name] < high, name
    assert bootstrap_intervals(LABELS, SCORES, 0.5) == first
    assert first["unit"] == "file" and first["units"] == LABELS.size and first["resamples"] == 2000


def test_drawing_whole_groups_widens_intervals_when_a_groups_files_agree():
    # 40 sources of 6 files each that score alike: 40 independent pieces of evidence, not 240.
    labels = np.repeat(LABELS[:40], 6)
    scores = np.repeat(SCORES[:40], 6)
    groups = np.repeat([f"source-{index}" for index in range(40)], 6)

    by_file = bootstrap_intervals(labels, scores, 0.5)
    by_group = bootstrap_intervals(labels, scores, 0.5, groups)

    assert by_group["unit"] == "source group" and by_group["units"] == 40
    for name in ("f1", "roc_auc"):
        assert by_group[name][1] - by_group[name][0] > 1.8 * (by_file[name][1] - by_file[name][0]), name


def test_one_class_has_no_auc_interval_and_bad_arguments_are_refused():
    assert bootstrap_intervals([1, 1, 1], [0.9, 0.8, 0.2], 0.5)["roc_auc"] is None
    with pytest.raises(ValueError, match="one entry per file"):
        bootstrap_intervals([1, 0], [0.9, 0.1], 0.5, ["a"])
    with pytest.raises(ValueError, match="level"):
        bootstrap_intervals([1, 0], [0.9, 0.1], 0.5, level=1.0)


def test_reports_print_and_summarise_the_intervals():
    groups = [f"g{index % 30}" for index in range(LABELS.size)]
    report = evaluate_scores(labels=LABELS, scores=SCORES, threshold=0.5, groups=groups)
    low, high = report["intervals"]["f1"]

    text = format_report(report)
    summary = interval_summary(report["intervals"])

    assert f"[{low:.3f}, {high:.3f}]" in text
    assert "95 % bootstrap intervals, 2000 resamples of the 30 source groups with replacement" in text
    assert f"F1 {low:.3f}-{high:.3f}" in summary and summary.startswith("95 % bootstrap intervals (2000 resamples")
