"""Checks the commands make on their options before any slow work, so that a bad option is a one-line
``CommandError`` up front instead of a traceback after minutes of scoring or training.

Private (the leading underscore keeps Django from listing it as a command).
"""

import os
from pathlib import Path

from django.core.management.base import CommandError

from detection.dataset import SPLIT_FILE_LAYOUT, read_split_document


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def require_output_file(option: str, path: str | Path) -> None:
    """``path`` can be written as a file: not a folder, and in an existing, writable folder."""
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{option} {path} is a folder; name the file to write")
    folder = path.parent
    if not folder.exists():
        raise CommandError(f"{option} {path}: the folder {folder} does not exist")
    if not folder.is_dir():
        raise CommandError(f"{option} {path}: {folder} is not a folder")
    if not _writable(folder):
        raise CommandError(f"{option} {path}: the folder {folder} is not writable")


def require_output_folder(option: str, path: str | Path) -> None:
    """``path`` is a folder, or can be made one: no file in the way, and its nearest existing
    ancestor is a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CommandError(f"{option} {path} is a file, not a folder")
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise CommandError(f"{option} {path}: {existing} is a file, not a folder")
    if not _writable(existing):
        raise CommandError(f"{option} {path}: the folder {existing} is not writable")


def require_at_least(option: str, value: int | float | None, minimum: int) -> None:
    """A whole-number option (None: not given) is ``minimum`` or more."""
    if value is not None and not value >= minimum:
        raise CommandError(f"--{option} must be {minimum} or more, not {value}")


def require_split_file(path: str | Path) -> None:
    """``path`` is a readable split.json with a list of file names in each part (whether those files
    are in the data folder is ``detection.dataset.read_split``'s check)."""
    path = Path(path)
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise CommandError(f"--split-file {path} {problem}; expected {SPLIT_FILE_LAYOUT}")
    try:
        read_split_document(path)
    except (OSError, ValueError) as error:
        raise CommandError(f"--split-file {path} {error}") from None
