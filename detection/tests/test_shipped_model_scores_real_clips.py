"""The shipped model scores real held-out screams from scream-dev high and real non-screams low.

The clips were picked before the model was evaluated, from the test part of the split the shipped
model was trained with (seed 1): the model never saw them or anything from their source directories.
"""

from pathlib import Path

import pytest
from django.conf import settings

from detection import evaluation
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


def _card_row(card: str, heading: str) -> list[str]:
    """The cells of the metrics row under ``heading`` in the model card."""
    section = card.split(f"### {heading}\n", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith("| ") and line[2].isdigit())
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.mark.slow
def test_evaluate_detector_reproduces_the_model_cards_test_figures(tmp_path):
    """The card's clean and clean + mixed test rows, recomputed with evaluate_detector from its own command."""
    import json
    import re
    from io import StringIO

    from django.core.management import call_command

    card = (SHIPPED.parent / "MODEL_CARD.md").read_text()
    mix_seed = re.search(r"evaluate_detector --data \S+ --split-file (\S+) --split test --mix-seed (\d+)", card)
    assert mix_seed, "the card says how to reproduce its test figures"
    split_file = Path(settings.BASE_DIR) / mix_seed[1]
    call_command(
        "evaluate_detector", "--data", str(DATA), "--model", str(SHIPPED), "--split-file", str(split_file),
        "--mix-seed", mix_seed[2], "--json", str(tmp_path / "report.json"), stdout=StringIO(), stderr=StringIO(),
    )  # fmt: skip
    document = json.loads((tmp_path / "report.json").read_text())

    for heading, report in [
        ("Clean test files", document["report"]),
        ("Clean + mixed test files", document["mixed_report"]["all"]),
    ]:
        overall = report["overall"]
        assert evaluation.interval_summary(report["intervals"]) in card.split(f"### {heading}\n", 1)[1], heading
        files, screams, *figures, confusion = _card_row(card, heading)
        assert (overall["count"], overall["positives"]) == (int(files), int(screams)), heading
        names = ("accuracy", "precision", "recall", "f1", "roc_auc")
        assert [f"{overall[name]:.4f}" for name in names] == figures, heading
        (tn, fp), (fn, tp) = overall["confusion_matrix"]
        assert f"{tn} / {fp} / {fn} / {tp}" == confusion, heading
