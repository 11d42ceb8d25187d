"""``manage.py evaluate_detector --data DIR``: score every file of a labelled folder and print the report.

A file's score is its highest window score, windows every ``engine.EVALUATION_HOP_S`` (0.25 s);
near-silent files are scored like any other (only undecodable ones are left out and listed);
the threshold is the engine's (the model's, or ``DETECTION_THRESHOLD`` when set) unless
``--threshold`` says otherwise. The metrics come from ``detection.evaluation``, the same code the
training command reports with, so the figures match the model card's.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from detection import evaluation
from detection.audio import AudioError, decode_audio
from detection.dataset import SPLIT_NAMES, read_records, read_split
from detection.engine import EVALUATION_HOP_S, DetectorEngine, ModelError, get_engine
from detection.management.commands._checks import (
    require_at_least,
    require_output_file,
    require_output_folder,
    require_split_file,
)
from detection.management.commands.detect import probability
from detection.training.scoring import mixed_scream_files


@dataclass
class DecodedFile:
    """A file's record and decoded samples, in the shape ``mixed_scream_files`` takes (like a training clip)."""

    record: object
    samples: np.ndarray


def decibels(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


class Command(BaseCommand):
    help = "Score every file of a folder with scream/ and non_scream/ (and metadata.csv) and print the metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", required=True, metavar="DIR", help="folder with scream/ and non_scream/")
        parser.add_argument("--model", metavar="PATH", help="ONNX model file (default: settings.DETECTION_MODEL_PATH)")
        parser.add_argument("--json", metavar="OUT", help="also write the report, per-file scores and failures here")
        parser.add_argument("--threshold", type=probability, metavar="T", help="default: the model's threshold")
        parser.add_argument("--split-file", metavar="SPLIT_JSON", help="a training run's split.json")
        parser.add_argument("--split", choices=SPLIT_NAMES, help="which part of --split-file (default test)")
        parser.add_argument("--plots", metavar="DIR", help="write confusion.png, roc.png and pr.png here")
        parser.add_argument(
            "--mix-seed",
            type=int,
            metavar="N",
            help="also score every scream mixed into a background of the same files at 0, 5, 10 and 20 dB SNR,"
            " as training reports its figures; N picks the mixtures (a run's test figures use its --seed + 1)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            metavar="N",
            help="ONNX Runtime intra-op threads (default DETECTION_INTRA_OP_THREADS)",
        )

    def handle(self, *args, **options) -> None:
        self.check_options(options)
        records = self.select_records(options)
        engine = self.load_engine(options)
        threshold = options["threshold"] or engine.threshold

        scored, failures, decoded = [], [], []
        negative_window_scores, negative_durations = [], []
        for record in tqdm(records, desc="scoring", unit="file", file=sys.stderr, mininterval=0.5):
            try:
                # Near-silent clips are valid examples (the training pipeline keeps them too): score them.
                samples = decode_audio(record.path, allow_silent=True).samples
            except AudioError as exc:
                failures.append({"file": record.file, "code": exc.code, "message": exc.message})
                continue
            analysis = engine.analyze(samples, hop_s=EVALUATION_HOP_S, threshold=threshold)
            scored.append((record, analysis.max_score))
            if options["mix_seed"] is not None:
                decoded.append(DecodedFile(record, samples))
            if record.label == 0:
                negative_window_scores.append(analysis.scores)
                negative_durations.append(analysis.duration_s)
        for failure in failures:
            self.stderr.write(f"error: {failure['file']}: {failure['message']}")
        if not scored:
            raise CommandError(f"None of the {len(records)} files could be analysed.")

        labels = [record.label for record, _ in scored]
        scores = [score for _, score in scored]
        has_categories = any(record.metadata.get("category") for record, _ in scored)
        snr_db = [decibels(record.metadata.get("snr_db", "")) for record, _ in scored]
        report = evaluation.evaluate_scores(
            labels=labels,
            scores=scores,
            threshold=threshold,
            categories=[record.category for record, _ in scored] if has_categories else None,
            snr_db=snr_db if any(value is not None for value in snr_db) else None,
            groups=[record.group for record, _ in scored],
        )
        if negative_durations:
            report["false_alarms"] = evaluation.false_alarms_per_hour(
                negative_window_scores, negative_durations, threshold
            )

        part = f", split {options['split']} of {options['split_file']}" if options["split_file"] else ""
        self.stdout.write(
            f"model {engine.model_version} ({engine.model_path}), file score = highest window score "
            f"(1-s windows every {EVALUATION_HOP_S} s)\n"
            f"data {options['data']}{part}: {len(records)} files, {len(scored)} scored, {len(failures)} failed"
        )
        self.stdout.write(evaluation.format_report(report))

        mixed_report = None
        if options["mix_seed"] is not None:
            mixed_report = self.mixed_report(decoded, engine, threshold, options["mix_seed"], labels, scores)
            mixed = mixed_report["mixed"]["overall"]
            self.stdout.write(
                f"\nscreams mixed into backgrounds of these files at 0, 5, 10 and 20 dB (mix seed"
                f" {options['mix_seed']}): {mixed['count']} files, recall {mixed['recall']:.4f}"
            )
            self.stdout.write(evaluation.format_report(mixed_report["all"], title="clean + mixed files:"))

        if options["plots"]:
            paths = evaluation.save_plots(report, labels, scores, options["plots"])
            self.stdout.write("plots: " + ", ".join(str(path) for path in paths))
        if options["json"]:
            evaluation.write_json(
                {
                    "model_path": str(engine.model_path),
                    "model_version": engine.model_version,
                    "data": str(options["data"]),
                    "split_file": options["split_file"],
                    "split": options["split"] if options["split_file"] else None,
                    "hop_s": EVALUATION_HOP_S,
                    "threshold": threshold,
                    "files": len(records),
                    "failed": failures,
                    "report": report,
                    "mix_seed": options["mix_seed"],
                    "mixed_report": mixed_report,
                    "scores": [
                        {"file": record.file, "label": record.label, "category": record.category, "score": score}
                        for record, score in scored
                    ],
                },
                options["json"],
            )
            self.stdout.write(f"report: {options['json']}")
        if failures:
            self.stdout.write(f"not analysed (listed on stderr, left out of the metrics): {len(failures)} files")

    def mixed_report(
        self, decoded: list, engine: DetectorEngine, threshold: float, seed: int, labels: list, scores: list
    ) -> dict:
        """Reports of the mixed files alone (recall per SNR) and of clean + mixed files together."""
        screams = [item for item in decoded if item.record.label == 1]
        backgrounds = [item for item in decoded if item.record.label == 0]
        if not screams or not backgrounds:
            raise CommandError("--mix-seed needs screams and non-screams among the files to mix them.")
        mixed = mixed_scream_files(screams, backgrounds, seed=seed)
        mixed_scores = [
            engine.analyze(item.samples, hop_s=EVALUATION_HOP_S, threshold=threshold).max_score
            for item in tqdm(mixed, desc="mixed", unit="file", file=sys.stderr, mininterval=0.5)
        ]
        snr_db = [item.snr_db for item in mixed]
        # A mixture belongs to its scream's source group: its four SNRs are drawn together.
        group_of = {item.record.file: item.record.group for item in decoded}
        clean_groups = [group_of[item.record.file] for item in decoded]
        mixed_groups = [group_of[item.scream_file] for item in mixed]
        return {
            "mixed": evaluation.evaluate_scores(
                labels=[1] * len(mixed), scores=mixed_scores, threshold=threshold, snr_db=snr_db, groups=mixed_groups
            ),
            "all": evaluation.evaluate_scores(
                labels=list(labels) + [1] * len(mixed),
                scores=list(scores) + mixed_scores,
                threshold=threshold,
                snr_db=[None] * len(labels) + snr_db,
                groups=clean_groups + mixed_groups,
            ),
        }

    def check_options(self, options: dict) -> None:
        """What would otherwise fail only after every file was scored (or with a traceback)."""
        require_at_least("mix-seed", options["mix_seed"], 0)
        require_at_least("threads", options["threads"], 1)
        if options["json"]:
            require_output_file("--json", options["json"])
        if options["plots"]:
            require_output_folder("--plots", options["plots"])
        if options["split_file"]:
            require_split_file(options["split_file"])

    def select_records(self, options: dict) -> list:
        if options["split"] and not options["split_file"]:
            raise CommandError("--split needs --split-file (a training run's split.json).")
        try:
            records = read_records(options["data"])
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        if options["split_file"]:
            try:
                split = read_split(options["split_file"], records)
            except ValueError as exc:
                raise CommandError(f"--split-file {options['split_file']}: {exc}") from exc
            records = split.parts()[options["split"] or "test"]
            options["split"] = options["split"] or "test"
        if not records:
            raise CommandError(f"No audio files under {Path(options['data']) / 'scream'} or non_scream/.")
        return records

    def load_engine(self, options: dict) -> DetectorEngine:
        try:
            if options["model"] or options["threads"]:
                return DetectorEngine(
                    options["model"] or settings.DETECTION_MODEL_PATH,
                    intra_op_threads=options["threads"] or settings.DETECTION_INTRA_OP_THREADS,
                    threshold=None
                    if options["model"] or settings.DETECTION_THRESHOLD <= 0
                    else settings.DETECTION_THRESHOLD,
                )
            return get_engine()
        except (ModelError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
