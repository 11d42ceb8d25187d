"""``manage.py detect``: events per file as text or JSON; bad files are one-line errors, exit non-zero."""

import json
import os
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from detection.management.commands.detect import clock
from detection.tests.conftest import burst_signal, noise, write_wav
from outcry.tests.django_subprocess import clean_environment, run_manage


@pytest.fixture
def recordings(tmp_path):
    scream = write_wav(tmp_path / "scream.wav", burst_signal(5.0, [(2.0, 3.0)]))
    quiet = write_wav(tmp_path / "quiet.wav", noise(2.0, dbfs=-90))
    empty = tmp_path / "file.xyz"
    empty.write_bytes(b"")
    return scream, quiet, empty


def detect(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("detect", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def test_prints_events_with_times_and_scores(recordings, tiny_model):
    scream, quiet, _ = recordings
    out, err, error = detect(scream, quiet, "--model", tiny_model)
    assert error is None and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{scream}: 00:05.0 (5.0 s), model test-tiny-1, threshold 0.50"
    assert lines[1].startswith("  scream 00:02.0-00:03.0  peak 1.00  mean ")
    assert lines[2].startswith(f"{quiet}: 00:02.0 (2.0 s)")
    assert lines[3].startswith("  no scream detected")


def test_json_document(recordings, tiny_model):
    scream, quiet, _ = recordings
    out, _, error = detect(scream, quiet, "--model", tiny_model, "--json", "--hop", "0.25")
    assert error is None
    files = json.loads(out)["files"]
    assert [entry["file"] for entry in files] == [str(scream), str(quiet)]
    assert files[0]["hop_s"] == 0.25 and files[0]["model_version"] == "test-tiny-1"
    (event,) = files[0]["events"]
    assert 1.5 <= event["start_s"] <= 2.0 and 3.0 <= event["end_s"] <= 3.5
    assert files[1]["events"] == []


def test_bad_file_is_one_line_error_and_others_still_run(recordings, tiny_model):
    scream, _, empty = recordings
    out, err, error = detect(empty, scream, "--model", tiny_model)
    assert err.strip() == f"error: {empty}: The file is empty."
    assert "scream 00:02.0" in out
    assert isinstance(error, CommandError) and "1 of 2 files" in str(error)


def test_bad_file_in_json_mode_is_listed_with_its_code(recordings, tiny_model):
    _, quiet, empty = recordings
    out, _, error = detect(quiet, empty, "--json", "--model", tiny_model)
    assert error is not None
    assert json.loads(out)["files"][1] == {
        "file": str(empty),
        "error": {"code": "empty", "message": "The file is empty."},
    }


def test_threshold_option(recordings, tiny_model):
    out, _, _ = detect(recordings[0], "--model", tiny_model, "--threshold", "0.25")
    assert "threshold 0.25" in out


@pytest.mark.parametrize("option", [["--threshold", "1.5"], ["--hop", "0"], ["--hop", "2"]])
def test_invalid_options_are_command_errors(recordings, tiny_model, option):
    with pytest.raises(CommandError):
        call_command("detect", str(recordings[0]), "--model", str(tiny_model), *option, stdout=StringIO())


def test_unusable_model_is_a_command_error(recordings, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("detect", str(recordings[0]), "--model", str(tmp_path / "none.onnx"), stdout=StringIO())


def test_uses_the_configured_model_by_default(recordings, tiny_model, settings):
    from detection import engine

    settings.DETECTION_MODEL_PATH = str(tiny_model)
    engine._cached_engine = None
    out, _, error = detect(recordings[0])
    assert error is None and "model test-tiny-1" in out


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00.0"), (5.04, "00:05.0"), (59.96, "01:00.0"), (754.5, "12:34.5")]
)
def test_clock_format(seconds, text):
    assert clock(seconds) == text


def test_command_line_exit_status_and_no_traceback(recordings, tiny_model):
    scream, _, empty = recordings
    result = run_manage("detect", str(scream), str(empty), "--model", str(tiny_model), env=clean_environment())
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"error: {empty}: The file is empty." in result.stderr
    assert "scream 00:02.0" in result.stdout
    assert result.stderr.strip().endswith("CommandError: 1 of 2 files could not be analysed.")


@pytest.mark.parametrize("hop", ["-1", "0", "2", "nan"])
def test_invalid_hop_is_refused_by_its_option_name(recordings, tiny_model, hop):
    _, _, error = detect(recordings[0], "--model", tiny_model, "--hop", hop)
    assert isinstance(error, CommandError) and str(error).startswith("--hop: hop_s must be > 0 and <= 1")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_file_is_not_a_regular_file(recordings, tiny_model):
    out, err, error = detect("/dev/null", recordings[0], "--model", tiny_model)
    assert err.strip() == "error: /dev/null: This is not a regular file, so not an audio file."
    assert "scream 00:02.0" in out and "1 of 2 files" in str(error)
