"""The serving path (engine, decoding, features) never imports torch or torchvision."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import django
django.setup()
import detection.engine, detection.audio, detection.features, detection.dataset
from detection.management.commands import detect, evaluate_detector
leaked = sorted(name for name in ("torch", "torchvision", "onnx") if name in sys.modules)
assert not leaked, leaked
"""


def test_serving_modules_do_not_import_torch():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="outcry.settings")
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
