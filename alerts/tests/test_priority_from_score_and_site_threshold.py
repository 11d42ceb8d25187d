import pytest

from alerts.policy import priority_for_score


@pytest.mark.parametrize(
    ("score", "threshold", "priority"),
    [
        (0.99, 0.5, "critical"),
        (0.95, 0.5, "critical"),
        (0.949, 0.5, "high"),
        (0.85, 0.5, "high"),
        (0.84, 0.5, "medium"),
        (0.60, 0.5, "medium"),
        (0.59, 0.5, "low"),
        (0.50, 0.5, "low"),
        (0.90, 0.9, "high"),  # a strict site: just over its threshold is still high by score
        (0.35, 0.3, "low"),
    ],
)
def test_priority_follows_the_documented_cut_offs(score, threshold, priority):
    assert priority_for_score(score=score, threshold=threshold) == priority
