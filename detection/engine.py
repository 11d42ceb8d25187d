"""The inference engine: audio in, scream probabilities and merged scream events out.

Serving code (the Celery analysis task, the live-stream consumer, the ``detect`` command) calls
this module and nothing below it. It needs ONNX Runtime and numpy only, never torch.

The Python API (keep it stable; the task and the stream consumer depend on it)::

    from detection.engine import get_engine

    engine = get_engine()  # one per process, built lazily from settings, thread-safe
    analysis = engine.analyze_file(path_or_fileobj_or_bytes, max_duration_s=600)  # raises AudioError
    analysis = engine.analyze(samples)  # mono float32 at features.SAMPLE_RATE (16 kHz)
    analysis.events  # [ScreamEvent(start_s, end_s, peak_score, mean_score), ...]
    analysis.scores, analysis.window_starts_s, analysis.max_score, analysis.to_dict()
    probabilities = engine.score_windows(features)  # features: (n, *features.FEATURE_SHAPE) float32

- ``get_engine()`` reads ``DETECTION_MODEL_PATH``, ``DETECTION_INTRA_OP_THREADS`` (one intra-op
  thread per worker process by default) and ``DETECTION_THRESHOLD`` (> 0 overrides the threshold
  stored in the model). It raises ``ModelError`` when the model is missing, corrupt, or was built
  for other audio features than ``detection.features`` computes.
- A window is ``features.WINDOW_S`` (1 s) long; windows start every ``hop_s`` (default
  ``DEFAULT_HOP_S``); the last one is zero-padded so the whole recording is covered.
- A window is a scream when its probability is >= the threshold. Runs of such windows become one
  event from the first window's start to the last window's end (clipped to the recording); events
  closer than one hop join. An event's peak and mean are over the windows above the threshold in it.
- A whole file's score (``evaluate_detector``, the model card) is ``analysis.max_score`` with
  ``hop_s=EVALUATION_HOP_S`` (0.25 s); its default threshold is the engine's ``threshold``.
- ``ScreamEvent`` and ``Analysis`` are frozen dataclasses; ``Analysis.to_dict()`` is JSON-ready.

The model is an ONNX file whose ``metadata_props`` hold ``"outcry"``: a JSON object with
``model_version``, ``threshold``, ``output`` (``"probabilities"``: the graph's output is
``[batch, 2]`` softmax, index 1 = scream), ``quantization`` and the feature constants it was
trained with (top-level or in a ``"features"`` object; ``EXPECTED_FEATURE_CONSTANTS`` names them);
they are checked against ``detection.features`` when the model loads.
"""

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from django.conf import settings

from detection import features
from detection.audio import AudioSource, decode_audio

DEFAULT_HOP_S = 0.5
# A whole file's score is its highest window score, with windows every EVALUATION_HOP_S: what
# evaluate_detector (and the model card's figures) use. Finer than DEFAULT_HOP_S so that a short
# scream is not split between two windows.
EVALUATION_HOP_S = 0.25
DEFAULT_BATCH_SIZE = 16
METADATA_KEY = "outcry"
SCREAM_INDEX = 1
# Windows featurised and scored per step of analyze(): bounds memory on hour-long recordings.
_WINDOWS_PER_STEP = 256

# Metadata key -> the value detection.features computes with; a model trained on anything else is refused.
EXPECTED_FEATURE_CONSTANTS: dict[str, float] = features.feature_constants()


class ModelError(RuntimeError):
    """The detection model cannot be used; ``str()`` says why and what to do, for people."""


@dataclass(frozen=True)
class ScreamEvent:
    start_s: float
    end_s: float
    peak_score: float
    mean_score: float

    def to_dict(self) -> dict[str, float]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "peak_score": self.peak_score,
            "mean_score": self.mean_score,
        }


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class Analysis:
    duration_s: float
    hop_s: float
    window_starts_s: np.ndarray
    scores: np.ndarray  # scream probability per window, aligned with window_starts_s
    events: list[ScreamEvent]
    threshold: float
    model_version: str

    @property
    def max_score(self) -> float:
        return float(self.scores.max()) if self.scores.size else 0.0

    def to_dict(self, *, windows: bool = True) -> dict[str, Any]:
        document: dict[str, Any] = {
            "duration_s": self.duration_s,
            "hop_s": self.hop_s,
            "window_s": features.WINDOW_S,
            "threshold": self.threshold,
            "model_version": self.model_version,
            "max_score": self.max_score,
            "events": [event.to_dict() for event in self.events],
        }
        if windows:
            document["windows"] = {
                "start_s": [float(start) for start in self.window_starts_s],
                "score": [float(score) for score in self.scores],
            }
        return document


def merge_events(
    starts_s: Sequence[float] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    threshold: float,
    window_s: float,
    duration_s: float,
    hop_s: float | None = None,
) -> list[ScreamEvent]:
    """Scream events from per-window scores (windows sorted by start, ``score >= threshold`` counts).

    An event runs from the start of its first window to the end of its last, clipped to
    ``duration_s``. Two events whose gap is shorter than one hop (``hop_s``; by default the smallest
    step between window starts) are one event.
    """
    starts = np.asarray(starts_s, dtype=np.float64)
    probabilities = np.asarray(scores, dtype=np.float64)
    if starts.shape != probabilities.shape or starts.ndim != 1:
        raise ValueError("starts_s and scores must be 1-D and of the same length")
    if hop_s is None:
        steps = np.diff(starts)
        steps = steps[steps > 0]
        hop_s = float(steps.min()) if steps.size else window_s
    events: list[ScreamEvent] = []
    current: list[int] = []  # indices of the above-threshold windows of the open event
    current_end = 0.0
    for index in np.flatnonzero(probabilities >= threshold):
        start = float(starts[index])
        if current and start - current_end >= hop_s:
            events.append(_event(starts, probabilities, current, current_end))
            current = []
        current.append(int(index))
        current_end = min(start + window_s, duration_s)
    if current:
        events.append(_event(starts, probabilities, current, current_end))
    return events


def _event(starts: np.ndarray, probabilities: np.ndarray, indices: list[int], end_s: float) -> ScreamEvent:
    window_scores = probabilities[indices]
    start_s = float(starts[indices[0]])
    return ScreamEvent(
        start_s=start_s,
        end_s=max(end_s, start_s),
        peak_score=float(window_scores.max()),
        mean_score=float(window_scores.mean()),
    )


def read_model_metadata(session: ort.InferenceSession, model_path: Path) -> dict[str, Any]:
    """The model's ``"outcry"`` metadata, checked against what this code computes."""
    raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if raw is None:
        raise ModelError(
            f"The detection model at {model_path} has no '{METADATA_KEY}' metadata: it was not exported by "
            "Outcry's training command, so its features and threshold are unknown."
        )
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ModelError(f"The detection model at {model_path} has unreadable '{METADATA_KEY}' metadata.") from exc
    if not isinstance(metadata, dict):
        raise ModelError(f"The detection model at {model_path} has unreadable '{METADATA_KEY}' metadata.")
    if isinstance(metadata.get("features"), dict):  # the constants may also sit in a "features" object
        metadata = {**metadata["features"], **metadata}

    required = ("model_version", "threshold", "output", *EXPECTED_FEATURE_CONSTANTS)
    missing = [key for key in required if key not in metadata]
    if missing:
        raise ModelError(f"The detection model at {model_path} lacks metadata: {', '.join(missing)}.")
    mismatched = []
    for key, expected in EXPECTED_FEATURE_CONSTANTS.items():
        value = metadata[key]
        if not isinstance(value, int | float) or not math.isclose(float(value), float(expected), abs_tol=1e-6):
            mismatched.append(f"{key} {value} vs {_number(expected)}")
    if mismatched:
        raise ModelError(
            f"The detection model at {model_path} was built for other audio features ({'; '.join(mismatched)}, "
            "model vs this code); retrain it with this version of Outcry or use a matching model."
        )
    if metadata["output"] != "probabilities":
        raise ModelError(
            f"The detection model at {model_path} outputs {metadata['output']!r}; Outcry needs 'probabilities'."
        )
    threshold = metadata["threshold"]
    if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
        raise ModelError(f"The detection model at {model_path} has an invalid threshold: {threshold!r}.")
    return metadata


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class DetectorEngine:
    """One loaded model: scores feature windows and analyses recordings. Safe to share between threads."""

    def __init__(self, model_path: str | Path, *, intra_op_threads: int = 1, threshold: float | None = None):
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ModelError(
                f"The detection model file {self.model_path} does not exist. Train one with "
                "`python manage.py train_detector --data DIR` or point DETECTION_MODEL_PATH at a model."
            )
        if intra_op_threads < 1:
            raise ValueError("intra_op_threads must be at least 1")
        if threshold is not None and not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads fight for the shared cores: batch-1 latency turns bimodal on these VMs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own exception types, all meaning "cannot load this file"
            raise ModelError(
                f"The detection model at {self.model_path} could not be loaded (not a valid ONNX model?): {exc}"
            ) from exc
        self.metadata = read_model_metadata(self._session, self.model_path)
        self._check_graph()
        self.intra_op_threads = intra_op_threads
        self._threshold = float(threshold) if threshold is not None else float(self.metadata["threshold"])

    def _check_graph(self) -> None:
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f"The detection model at {self.model_path} must have one input and one output.")
        shape = inputs[0].shape
        fixed = [dim if isinstance(dim, int) else None for dim in shape]
        if len(shape) != 4 or any(
            dim is not None and dim != want for dim, want in zip(fixed[1:], features.FEATURE_SHAPE, strict=True)
        ):
            raise ModelError(
                f"The detection model at {self.model_path} takes input {shape}; "
                f"Outcry's features are [batch, {', '.join(map(str, features.FEATURE_SHAPE))}]."
            )
        self._input_name = inputs[0].name
        self._output_name = outputs[0].name
        # A model exported with a fixed batch dimension is fed exactly that many windows at a time.
        self._fixed_batch = fixed[0] if fixed[0] and fixed[0] > 0 else None

    @property
    def model_version(self) -> str:
        return str(self.metadata["model_version"])

    @property
    def threshold(self) -> float:
        return self._threshold

    def score_windows(self, windows: np.ndarray, *, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """Scream probability (float32, shape ``(n,)``) of each feature window, shape ``(n, *FEATURE_SHAPE)``."""
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim != 4 or windows.shape[1:] != features.FEATURE_SHAPE:
            raise ValueError(f"features must have shape (n, {', '.join(map(str, features.FEATURE_SHAPE))})")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        batch_size = self._fixed_batch or batch_size
        scores = np.empty(len(windows), dtype=np.float32)
        for first in range(0, len(windows), batch_size):
            batch = windows[first : first + batch_size]
            count = len(batch)
            if self._fixed_batch and count < self._fixed_batch:
                batch = np.concatenate([batch, np.zeros((self._fixed_batch - count, *batch.shape[1:]), np.float32)])
            probabilities = self._session.run([self._output_name], {self._input_name: np.ascontiguousarray(batch)})[0]
            scores[first : first + count] = probabilities[:count, SCREAM_INDEX]
        return scores

    def analyze(
        self,
        samples: np.ndarray,
        *,
        hop_s: float = DEFAULT_HOP_S,
        threshold: float | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> Analysis:
        """Slide 1-s windows every ``hop_s`` over mono ``samples`` at 16 kHz; score them; merge events."""
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError("samples must be mono (1-D) at detection.features.SAMPLE_RATE")
        if samples.size == 0:
            raise ValueError("samples is empty")
        hop_samples = validate_hop(hop_s)
        threshold = self._threshold if threshold is None else validate_threshold(threshold)
        starts = features.window_starts(len(samples), hop_samples=hop_samples)
        scores = np.empty(len(starts), dtype=np.float32)
        for first in range(0, len(starts), _WINDOWS_PER_STEP):
            chunk = starts[first : first + _WINDOWS_PER_STEP]
            windows = features.window_features(samples, chunk)
            scores[first : first + len(chunk)] = self.score_windows(windows, batch_size=batch_size)
        starts_s = np.asarray(starts, dtype=np.float64) / features.SAMPLE_RATE
        duration_s = len(samples) / features.SAMPLE_RATE
        return Analysis(
            duration_s=duration_s,
            hop_s=hop_samples / features.SAMPLE_RATE,
            window_starts_s=starts_s,
            scores=scores,
            events=merge_events(
                starts_s,
                scores,
                threshold=threshold,
                window_s=features.WINDOW_S,
                duration_s=duration_s,
                hop_s=hop_samples / features.SAMPLE_RATE,
            ),
            threshold=threshold,
            model_version=self.model_version,
        )

    def analyze_file(
        self,
        source: AudioSource,
        *,
        hop_s: float = DEFAULT_HOP_S,
        threshold: float | None = None,
        max_duration_s: float | None = None,
    ) -> Analysis:
        """Decode ``source`` (path, bytes or binary file object) and analyse it; raises ``AudioError``."""
        validate_hop(hop_s)
        if threshold is not None:
            validate_threshold(threshold)
        decoded = decode_audio(source, max_duration_s=max_duration_s)
        return self.analyze(decoded.samples, hop_s=hop_s, threshold=threshold)


def validate_hop(hop_s: float) -> int:
    """``hop_s`` in samples; a hop must be positive and at most one window."""
    if not isinstance(hop_s, int | float) or not math.isfinite(hop_s) or hop_s <= 0 or hop_s > features.WINDOW_S:
        raise ValueError(f"hop_s must be > 0 and <= {features.WINDOW_S} s (got {hop_s!r})")
    hop_samples = round(hop_s * features.SAMPLE_RATE)
    if hop_samples < 1:
        raise ValueError(f"hop_s is shorter than one sample (got {hop_s!r})")
    return hop_samples


def validate_threshold(threshold: float) -> float:
    if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (got {threshold!r})")
    return float(threshold)


# (settings the engine was built from, the engine): one tuple, so readers never see a torn pair.
_cached_engine: tuple[tuple[str, int, float], DetectorEngine] | None = None
_engine_lock = threading.Lock()


def get_engine() -> DetectorEngine:
    """The process-wide engine for the configured model, loaded on first use (thread-safe).

    It is rebuilt only when the settings it was built from change (tests override them).
    """
    global _cached_engine
    config = (
        str(settings.DETECTION_MODEL_PATH),
        int(settings.DETECTION_INTRA_OP_THREADS),
        float(settings.DETECTION_THRESHOLD),
    )
    cached = _cached_engine
    if cached is not None and cached[0] == config:
        return cached[1]
    with _engine_lock:
        cached = _cached_engine
        if cached is None or cached[0] != config:
            path, threads, threshold = config
            if threads < 1 or threshold >= 1.0:
                raise ModelError(
                    "Invalid detection settings: DETECTION_INTRA_OP_THREADS must be >= 1 and DETECTION_THRESHOLD "
                    f"below 1 (0 = the model's threshold); got {threads} and {threshold}."
                )
            features.use_single_blas_thread()
            engine = DetectorEngine(path, intra_op_threads=threads, threshold=threshold if threshold > 0 else None)
            cached = _cached_engine = (config, engine)
        return cached[1]
