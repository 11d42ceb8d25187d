"""``manage.py detect FILE…``: print the scream events found in audio files."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from detection.audio import AudioError
from detection.engine import DEFAULT_HOP_S, Analysis, DetectorEngine, ModelError, get_engine, validate_hop


def clock(seconds: float) -> str:
    """``mm:ss.s`` (minutes keep counting past an hour)."""
    minutes, tenths = divmod(round(seconds * 10), 600)
    return f"{minutes:02d}:{tenths / 10:04.1f}"


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = "Analyse audio files (WAV, MP3, FLAC, OGG, M4A, WebM, ...) and print the scream events in each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="audio files to analyse")
        parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
        parser.add_argument(
            "--hop", type=float, default=DEFAULT_HOP_S, metavar="S", help="seconds between 1-s windows (default 0.5)"
        )
        parser.add_argument(
            "--threshold", type=probability, metavar="T", help="scream probability threshold (default: the model's)"
        )
        parser.add_argument("--model", metavar="PATH", help="ONNX model file (default: settings.DETECTION_MODEL_PATH)")

    def handle(self, *args, **options) -> None:
        try:
            validate_hop(options["hop"])
        except ValueError as exc:
            raise CommandError(f"--hop: {exc}") from exc
        try:
            engine = DetectorEngine(options["model"]) if options["model"] else get_engine()
        except ModelError as exc:
            raise CommandError(str(exc)) from exc
        results = []
        failures = 0
        for name in options["files"]:
            try:
                analysis = engine.analyze_file(Path(name), hop_s=options["hop"], threshold=options["threshold"])
            except AudioError as exc:
                failures += 1
                results.append({"file": name, "error": {"code": exc.code, "message": exc.message}})
                self.stderr.write(f"error: {name}: {exc.message}")
                continue
            except ValueError as exc:  # an invalid option: the same for every file
                raise CommandError(str(exc)) from exc
            results.append({"file": name, **analysis.to_dict(windows=False)})
            if not options["json"]:
                self.stdout.write(self.describe(name, analysis))
        if options["json"]:
            self.stdout.write(json.dumps({"files": results}, indent=2))
        if failures:
            raise CommandError(f"{failures} of {len(options['files'])} files could not be analysed.")

    def describe(self, name: str, analysis: Analysis) -> str:
        lines = [
            f"{name}: {clock(analysis.duration_s)} ({analysis.duration_s:.1f} s), "
            f"model {analysis.model_version}, threshold {analysis.threshold:.2f}"
        ]
        if not analysis.events:
            lines.append(f"  no scream detected (highest window score {analysis.max_score:.2f})")
        for event in analysis.events:
            lines.append(
                f"  scream {clock(event.start_s)}-{clock(event.end_s)}  "
                f"peak {event.peak_score:.2f}  mean {event.mean_score:.2f}"
            )
        return "\n".join(lines)
