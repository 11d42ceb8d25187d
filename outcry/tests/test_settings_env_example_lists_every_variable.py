"""deploy/env.example documents every environment variable the code reads through outcry.env."""

import re

from outcry.tests.django_subprocess import REPO_ROOT

READ = re.compile(r"""env_(?:str|int|bool|float|list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
VARIABLE = re.compile(r"#? ?([A-Z][A-Z0-9_]*)=")
APPS = ("outcry", "sites", "detection", "alerts", "frontend")


def _variables_read() -> set[str]:
    names: set[str] = set()
    for app in APPS:
        for source in (REPO_ROOT / app).rglob("*.py"):
            if "tests" not in source.relative_to(REPO_ROOT).parts:
                names.update(READ.findall(source.read_text()))
    return names


def _variables_documented() -> dict[str, str]:
    """{name: the comment line above it}."""
    lines = (REPO_ROOT / "deploy" / "env.example").read_text().splitlines()
    documented = {}
    for number, line in enumerate(lines):
        match = re.match(VARIABLE, line)
        if match:
            documented[match.group(1)] = lines[number - 1] if number else ""
    return documented


def test_every_variable_read_is_in_env_example():
    missing = _variables_read() - set(_variables_documented())

    assert not missing, f"add to deploy/env.example: {sorted(missing)}"


def test_every_documented_variable_is_read_and_explained():
    documented = _variables_documented()

    assert set(documented) <= _variables_read(), "deploy/env.example names variables nothing reads"
    unexplained = [
        name for name, comment in documented.items() if not comment.startswith("# ") or re.match(VARIABLE, comment)
    ]
    assert not unexplained, f"give these a one-line explanation above them: {unexplained}"


def test_settings_read_variables_through_the_typed_helpers():
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "S3_BUCKET"} <= _variables_read()
