"""A tiny generated labelled folder: harmonic "scream-like" sweeps vs noise, written as WAV files."""

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16_000


def scream_like(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A loud harmonic tone with a wobbling fundamental of 500-900 Hz."""
    times = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    fundamental = rng.uniform(500, 900) + 300 * np.sin(2 * np.pi * rng.uniform(2, 6) * times)
    phase = 2 * np.pi * np.cumsum(fundamental) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.3 * tone * np.hanning(len(times))).astype(np.float32)


def write_tiny_dataset(root: Path, *, screams: int = 16, non_screams: int = 24, seed: int = 0) -> Path:
    """``root`` with scream/, non_scream/ and metadata.csv; screams come from 8 voice groups."""
    rng = np.random.default_rng(seed)
    (root / "scream").mkdir(parents=True, exist_ok=True)
    (root / "non_scream").mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(screams):
        file = f"scream/s{index}.wav"
        sf.write(root / file, scream_like(rng, rng.uniform(0.4, 1.6)), SAMPLE_RATE)
        group = index % 8
        rows.append(
            {
                "file": file,
                "label": "scream",
                "category": "pain_cry",
                "source_package": f"game{group}",
                "source_path_in_package": f"data.pk3:sound/player/voice{group}/pain{index}.wav",
            }
        )
    for index in range(non_screams):
        file = f"non_scream/n{index}.wav"
        noise = rng.standard_normal(int(rng.uniform(0.5, 3.0) * SAMPLE_RATE)) * rng.uniform(0.02, 0.2)
        sf.write(root / file, noise.astype(np.float32), SAMPLE_RATE)
        rows.append(
            {
                "file": file,
                "label": "non_scream",
                "category": "ambience_misc" if index % 2 else "speech",
                "source_package": f"sounds{index % 8}",
                "source_path_in_package": f"usr/share/sounds/n{index}.wav",
            }
        )
    with (root / "metadata.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return root
