"""Without the train extra, the training commands say how to install it instead of crashing."""

import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.parametrize("missing", ["torch", "onnx"])
@pytest.mark.parametrize(
    "command", [("train_detector",), ("ensemble_detector", "--split-file", "s.json", "--members", "a", "b")]
)
def test_training_commands_without_the_train_extra_ask_for_it(tmp_path, monkeypatch, command, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # makes ``import <missing>`` raise ImportError
    with pytest.raises(CommandError, match=r"pip install -e '\.\[train\]'"):
        call_command(*command, "--data", str(tmp_path))
