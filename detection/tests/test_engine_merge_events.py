"""merge_events turns per-window scores into scream events (a pure function)."""

import numpy as np
import pytest

from detection.engine import ScreamEvent, merge_events


def events(scores, *, hop_s=0.5, window_s=1.0, duration_s=None, threshold=0.5, **options):
    starts = np.arange(len(scores)) * hop_s
    duration_s = duration_s if duration_s is not None else float(starts[-1] + window_s)
    return merge_events(starts, scores, threshold=threshold, window_s=window_s, duration_s=duration_s, **options)


def test_no_window_over_threshold_gives_no_event():
    assert events([0.1, 0.2, 0.49]) == []


def test_one_window_spans_its_own_second():
    assert events([0.1, 0.9, 0.1, 0.1]) == [ScreamEvent(start_s=0.5, end_s=1.5, peak_score=0.9, mean_score=0.9)]


def test_threshold_is_inclusive():
    assert len(events([0.5], duration_s=1.0)) == 1


def test_consecutive_windows_merge_into_one_event_with_peak_and_mean():
    (event,) = events([0.1, 0.6, 0.8, 0.7, 0.1, 0.1])
    assert (event.start_s, event.end_s) == (0.5, 2.5)
    assert event.peak_score == pytest.approx(0.8)
    assert event.mean_score == pytest.approx(0.7)


def test_one_quiet_window_between_overlapping_windows_joins_them():
    # Windows at 0.5 and 1.5 s over threshold; their spans [0.5, 1.5) and [1.5, 2.5) touch: gap 0 < hop.
    (event,) = events([0.1, 0.9, 0.2, 0.7, 0.1])
    assert (event.start_s, event.end_s) == (0.5, 2.5)
    assert event.mean_score == pytest.approx(0.8)  # over the windows above the threshold


def test_a_gap_of_a_full_hop_separates_events():
    first, second = events([0.9, 0.1, 0.9], hop_s=1.0)
    assert (first.start_s, first.end_s) == (0.0, 1.0)
    assert (second.start_s, second.end_s) == (2.0, 3.0)


def test_gap_shorter_than_the_hop_joins_with_non_overlapping_windows():
    # Windows of 0.4 s every 0.5 s: spans [0, 0.4) and [1.0, 1.4) leave a 0.6 s gap (>= hop): two events;
    # with an explicit 0.75 s hop the same gap is shorter than a hop: one event.
    scores = [0.9, 0.1, 0.9]
    assert len(events(scores, window_s=0.4)) == 2
    starts = [0.0, 0.5, 1.0]
    joined = merge_events(starts, scores, threshold=0.5, window_s=0.4, duration_s=1.4, hop_s=0.75)
    assert [(event.start_s, event.end_s) for event in joined] == [(0.0, 1.4)]


def test_event_end_is_clipped_to_the_recording():
    (event,) = events([0.1, 0.1, 0.9], duration_s=1.3)
    assert (event.start_s, event.end_s) == (1.0, 1.3)


def test_short_recording_single_padded_window():
    (event,) = merge_events([0.0], [0.95], threshold=0.5, window_s=1.0, duration_s=0.4)
    assert (event.start_s, event.end_s) == (0.0, 0.4)


def test_scores_at_start_and_end_give_two_events():
    first, second = events([0.9, 0.9, 0.1, 0.1, 0.1, 0.8])
    assert (first.start_s, first.end_s) == (0.0, 1.5)
    assert (second.start_s, second.end_s, second.peak_score) == (2.5, 3.5, 0.8)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        merge_events([0.0, 0.5], [0.9], threshold=0.5, window_s=1.0, duration_s=2.0)
