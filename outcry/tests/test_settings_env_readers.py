"""The typed environment readers behind outcry/settings.py."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from outcry.env import env_bool, env_float, env_int, env_list, env_str

NAME = "OUTCRY_TEST_VARIABLE"


@pytest.fixture
def setenv(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    return lambda value: monkeypatch.setenv(NAME, value)


def test_unset_variables_read_as_their_defaults(setenv):
    assert env_str(NAME) == ""
    assert env_str(NAME, "fallback") == "fallback"
    assert env_bool(NAME) is False
    assert env_bool(NAME, True) is True
    assert env_int(NAME, 7) == 7
    assert env_float(NAME, 0.5) == 0.5
    assert env_list(NAME) == []
    assert env_list(NAME, ["a"]) == ["a"]


def test_str_is_read_verbatim(setenv):
    setenv(" spaced value ")
    assert env_str(NAME, "fallback") == " spaced value "


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " true "])
def test_bool_true_spellings(setenv, raw):
    setenv(raw)
    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "off", ""])
def test_bool_false_spellings(setenv, raw):
    setenv(raw)
    assert env_bool(NAME, True) is False


def test_bool_rejects_anything_else(setenv):
    setenv("maybe")
    with pytest.raises(ImproperlyConfigured, match=f"{NAME}='maybe' is not a boolean"):
        env_bool(NAME)


def test_int_parses_and_empty_means_default(setenv):
    setenv("42")
    assert env_int(NAME, 1) == 42
    setenv("  ")
    assert env_int(NAME, 1) == 1


def test_int_rejects_non_integers(setenv):
    setenv("4.2")
    with pytest.raises(ImproperlyConfigured, match="is not an integer"):
        env_int(NAME, 1)


def test_float_parses_and_empty_means_default(setenv):
    setenv("0.25")
    assert env_float(NAME, 1.0) == 0.25
    setenv("")
    assert env_float(NAME, 1.0) == 1.0


def test_float_rejects_non_numbers(setenv):
    setenv("half")
    with pytest.raises(ImproperlyConfigured, match="is not a number"):
        env_float(NAME, 1.0)


def test_list_splits_on_commas_and_drops_blanks(setenv):
    setenv(" outcry.example.org, ,api.example.org ,")
    assert env_list(NAME, ["ignored"]) == ["outcry.example.org", "api.example.org"]


def test_list_set_but_empty_is_empty_not_default(setenv):
    setenv("")
    assert env_list(NAME, ["default"]) == []


def test_default_list_is_copied(setenv):
    default = ["a"]
    env_list(NAME, default).append("b")
    assert default == ["a"]
