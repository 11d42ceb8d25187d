"""Reactions to model signals (connected in DetectionConfig.ready).

Stored files follow their rows: when a recording or detection is deleted, directly or by a
cascade from its sensor or site, its files are deleted once the deletion commits (never for a
deletion that rolls back).
"""

import logging

from django.core.files.storage import default_storage
from django.db import transaction

from detection.models import Detection, Recording

logger = logging.getLogger(__name__)


def delete_stored_files(names: list[str]) -> None:
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete stored file %s", name, exc_info=True)


def delete_files_of_deleted_row(sender, instance: Recording | Detection, **kwargs) -> None:
    if isinstance(instance, Recording):
        names = [instance.file.name]
    else:
        names = [instance.evidence_clip.name, instance.spectrogram.name]
    transaction.on_commit(lambda: delete_stored_files(names))
