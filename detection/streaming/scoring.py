"""Scoring threads shared by every stream of the process, batching windows across streams.

Each stream hands over its due windows; a scoring thread takes whatever is queued (up to
``MAX_BATCH_WINDOWS`` windows, from any number of streams), featurises it and runs one batch
through the model. ONNX Runtime is about three times cheaper per window in batches of 16 than one
window at a time, which is what lets one machine score many streams in real time.
"""

import queue
import threading
from concurrent.futures import Future

import numpy as np
from django.conf import settings

from detection import features
from detection.streaming.session import WindowBatch

MAX_BATCH_WINDOWS = 32


class BatchScorer:
    def __init__(self, threads: int):
        self._jobs: queue.SimpleQueue[tuple[object, WindowBatch, Future]] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"outcry-stream-score-{number}", daemon=True)
            for number in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, engine, batch: WindowBatch) -> Future:
        """A future of the scream probabilities of ``batch``'s windows."""
        future: Future = Future()
        self._jobs.put((engine, batch, future))
        return future

    def _work(self) -> None:
        while True:
            jobs = [self._jobs.get()]
            windows = len(jobs[0][1].starts)
            while windows < MAX_BATCH_WINDOWS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                windows += len(job[1].starts)
            for engine, group in _by_engine(jobs).items():
                _score_group(engine, group)


def _by_engine(jobs: list) -> dict:
    groups: dict = {}
    for engine, batch, future in jobs:
        groups.setdefault(engine, []).append((batch, future))
    return groups


def _score_group(engine, group: list[tuple[WindowBatch, Future]]) -> None:
    live = [(batch, future) for batch, future in group if future.set_running_or_notify_cancel()]
    try:
        stacked = np.concatenate([features.window_features(batch.audio, batch.relative_starts) for batch, _ in live])
        scores = engine.score_windows(stacked, batch_size=MAX_BATCH_WINDOWS)
    except Exception as exc:  # every waiting stream learns about it; the thread lives on
        for _, future in live:
            future.set_exception(exc)
        return
    position = 0
    for batch, future in live:
        future.set_result(scores[position : position + len(batch.starts)])
        position += len(batch.starts)


_scorer: BatchScorer | None = None
_scorer_lock = threading.Lock()


def get_scorer() -> BatchScorer:
    """The process's scorer (``STREAM_SCORING_THREADS`` threads, default 2), started on first use."""
    global _scorer
    with _scorer_lock:
        if _scorer is None:
            _scorer = BatchScorer(getattr(settings, "STREAM_SCORING_THREADS", 2))
        return _scorer
