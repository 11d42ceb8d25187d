"""Without the train extra, ``train_detector`` says how to install it instead of crashing."""

import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_train_detector_without_torch_asks_for_the_train_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes ``import torch`` raise ImportError
    with pytest.raises(CommandError, match=r"pip install -e '\.\[train\]'"):
        call_command("train_detector", "--data", str(tmp_path))
