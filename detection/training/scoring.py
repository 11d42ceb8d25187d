"""File-level scoring of exported ONNX models, and screams mixed into backgrounds as whole files.

A file's score is its highest window score: 1-s windows at a 0.25-s hop from ``window_features``,
as the serving engine slides them.
"""

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from detection.features import SAMPLE_RATE, window_features, window_starts
from detection.training.augment import loop_to, mix_at_snr

HOP_S = 0.25
# Backgrounds for mixed evaluation files: what a microphone hears around a scream.
BACKGROUND_CATEGORIES = frozenset(
    {
        "ambience_misc",
        "ambience_street",
        "water_wind_rain",
        "machinery",
        "work_machinery",
        "engine_vehicle",
        "crowd",
        "music",
        "music_instrument",
        "fire",
        "footsteps",
        "door_mechanical",
        "speech",
        "speech_radio_tv",
    }
)


class OnnxScorer:
    """Scream probabilities of feature windows with ONNX Runtime (CPU)."""

    def __init__(self, model_path: str, *, threads: int = 2, batch: int = 64):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.batch = batch

    def score_windows(self, features: np.ndarray) -> np.ndarray:
        scores = [
            self.session.run(None, {self.input_name: features[start : start + self.batch]})[0][:, 1]
            for start in range(0, len(features), self.batch)
        ]
        return np.concatenate(scores) if scores else np.zeros(0, np.float32)


def file_window_scores(scorer: OnnxScorer, samples_list: list[np.ndarray], *, hop_s: float = HOP_S) -> list[np.ndarray]:
    """Window scores of each file (1-s windows at ``hop_s``)."""
    hop = round(hop_s * SAMPLE_RATE)
    return [
        scorer.score_windows(window_features(samples, window_starts(len(samples), hop_samples=hop)))
        for samples in samples_list
    ]


# The SNRs at which validation and test screams are mixed into backgrounds (training and evaluate_detector).
VALIDATION_SNRS_DB = (0.0, 5.0, 10.0, 20.0)


@dataclass
class MixedFile:
    samples: np.ndarray
    label: int
    category: str
    snr_db: float
    scream_file: str
    background_file: str
    background_category: str


def mixed_scream_files(
    screams: list, backgrounds: list, *, seed: int, snrs_db: tuple[float, ...] = VALIDATION_SNRS_DB
) -> list[MixedFile]:
    """Each scream (a ``Clip``) mixed into a random background clip at each SNR, as a whole file: the
    background runs 1 s before and after the scream; the SNR is over the scream's span."""
    rng = np.random.default_rng([seed, 104729])
    pool = [clip for clip in backgrounds if clip.record.category in BACKGROUND_CATEGORIES] or list(backgrounds)
    files = []
    for clip in screams:
        for snr in snrs_db:
            background = pool[int(rng.integers(len(pool)))]
            lead = int(rng.uniform(0.5, 1.5) * SAMPLE_RATE)
            length = lead + len(clip.samples) + SAMPLE_RATE
            foreground = np.zeros(length, np.float32)
            foreground[lead : lead + len(clip.samples)] = clip.samples
            mixed = mix_at_snr(foreground, loop_to(background.samples, length, rng), snr)
            peak = float(np.max(np.abs(mixed)))
            if peak > 1.0:
                mixed = mixed / peak
            files.append(
                MixedFile(
                    samples=mixed.astype(np.float32),
                    label=1,
                    category=clip.record.category,
                    snr_db=snr,
                    scream_file=clip.record.file,
                    background_file=background.record.file,
                    background_category=background.record.category,
                )
            )
    return files
