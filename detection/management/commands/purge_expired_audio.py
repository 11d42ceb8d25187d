"""``manage.py purge_expired_audio``: delete the audio past its site's retention now (the hourly task, by hand)."""

import argparse

from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.services import PURGE_LIMIT, recordings_purge_expired_audio


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


class Command(BaseCommand):
    help = (
        "Delete the audio older than each site's retention (AUDIO_RETENTION_DAYS unless the site sets its own): "
        "recordings with no detections go entirely; the others lose their audio and keep their detections, "
        "spectrograms and incidents. Audio of open incidents and confirmed emergencies is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="say what would be deleted; delete nothing")
        parser.add_argument(
            "--limit",
            type=positive_int,
            default=PURGE_LIMIT,
            help=f"at most this many recordings in this run (default {PURGE_LIMIT}, as the hourly task)",
        )

    def handle(self, *args, dry_run: bool, limit: int, **options) -> None:
        report = recordings_purge_expired_audio(limit=limit, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {report.recordings_deleted} recording(s) with no detections and the audio of "
            f"{report.audio_deleted} with detections; kept {report.held} held by open incidents or confirmed "
            "emergencies."
        )
        if report.failed:
            raise CommandError(
                f"{report.failed} recording(s) could not be deleted from storage (see the log); "
                "the next run tries again."
            )
