"""The shipped model scores real held-out screams from scream-dev high and real non-screams low.

The clips were picked before the model was evaluated, from the test part of the split the shipped
model was trained with (seed 1): the model never saw them or anything from their source directories.
"""

from pathlib import Path

import pytest
from django.conf import settings

from detection.engine import EVALUATION_HOP_S, DetectorEngine

DATA = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "scream-dev"
SHIPPED = Path(settings.BASE_DIR) / "detection" / "weights" / "scream_resnet34.onnx"

SCREAMS = [
    "scream/ufoai-sound__sound_soldiers_maledeath04.ogg",
    "scream/nexuiz-data__sound_player_soldier_player_death1.ogg",
    "scream/nexuiz-data__sound_player_reptilian_player_pain50.ogg",
    "scream/ardentryst__ardentryst_Sounds_PYR_PYR_PAIN1.ogg",
    "scream/openarena-081-players__sound_player_sergei_death1.wav",
    "scream/caveexpress-data__caveexpress_sounds_player-pain1.ogg",
]
NON_SCREAMS = [
    "non_scream/nexuiz-data__sound_weather_rain_1.ogg",
    "non_scream/asterisk-core-sounds-es-wav__asterisk_sounds_es_MX_f_Allison_queue-thankyou.wav",
    "non_scream/warzone2100-data__sequenceaudio_p-id.ogg",
    "non_scream/supertux-data__supertux2_music_forest_ghostforest2__seg0000s.ogg",
    "non_scream/caveexpress-data__caveexpress_sounds_tile-waterfall.ogg",
    "non_scream/dopewars-data__dopewars_jet.wav",
]

pytestmark = [
    pytest.mark.skipif(not SHIPPED.is_file(), reason="no shipped model in detection/weights/"),
    pytest.mark.skipif(not DATA.is_dir(), reason="the scream-dev corpus is not on this machine"),
]


@pytest.fixture(scope="module")
def engine():
    return DetectorEngine(SHIPPED)


def _file_score(engine: DetectorEngine, file: str) -> float:
    return engine.analyze_file(DATA / file, hop_s=EVALUATION_HOP_S).max_score


def test_shipped_model_is_small_enough_to_commit():
    assert SHIPPED.stat().st_size <= 45 * 1024 * 1024


def test_shipped_model_scores_held_out_screams_high(engine):
    scores = {file: _file_score(engine, file) for file in SCREAMS}
    detected = [file for file, score in scores.items() if score >= engine.threshold]
    assert len(detected) >= len(SCREAMS) - 1, scores


def test_shipped_model_scores_held_out_non_screams_low(engine):
    scores = {file: _file_score(engine, file) for file in NON_SCREAMS}
    quiet = [file for file, score in scores.items() if score < engine.threshold]
    assert len(quiet) >= len(NON_SCREAMS) - 1, scores
