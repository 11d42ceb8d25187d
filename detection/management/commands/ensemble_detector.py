"""``manage.py ensemble_detector``: serve several trained detectors as one model that averages them."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detection.management.commands._checks import require_at_least, require_output_folder, require_split_file
from detection.management.commands.train_detector import _log, require_labelled_folder, require_train_extra


class Command(BaseCommand):
    help = (
        "Merge trained detectors (run folders or exported ONNX files) into one ONNX model that outputs the mean of"
        " their scream probabilities; choose its threshold on validation and report it on the held-out test part."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, type=Path, help="labelled folder (scream/, non_scream/)")
        parser.add_argument(
            "--split-file", required=True, type=Path, help="the members' split.json (the parts they were trained on)"
        )
        parser.add_argument(
            "--members", required=True, nargs="+", type=Path, metavar="RUN_OR_ONNX", help="2 or more detectors"
        )
        parser.add_argument(
            "--validation-members",
            nargs="+",
            type=Path,
            metavar="RUN_OR_ONNX",
            help="the validation run of each member, in the same order, when the members are refits on train + val"
            " (default: the members themselves, which must then have been trained on the train part only)",
        )
        parser.add_argument(
            "--out", type=Path, default=None, help="ensemble folder (default runs/ensemble-<date-time>)"
        )
        parser.add_argument(
            "--mix-seed", type=int, default=1, help="validation mixtures; the test mixtures use this seed + 1"
        )
        parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
        parser.add_argument("--ship", action="store_true", help="copy the ensemble and its card to detection/weights/")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs)")

    def handle(self, *args, **options):
        require_train_extra()
        from detection.training.ensemble import EnsembleError, EnsembleOptions, build_ensemble
        from detection.training.pipeline import SplitFileError, command_line

        data_dir: Path = options["data"]
        require_labelled_folder(data_dir)
        require_split_file(options["split_file"])
        require_at_least("threads", options["threads"], 1)
        require_at_least("mix-seed", options["mix_seed"], 0)
        out_dir = options["out"] or Path("runs") / f"ensemble-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
        require_output_folder("--out", out_dir)
        try:
            build_ensemble(
                EnsembleOptions(
                    data_dir=data_dir,
                    split_file=options["split_file"],
                    members=options["members"],
                    validation_members=options["validation_members"],
                    out_dir=out_dir,
                    mix_seed=options["mix_seed"],
                    threads=options["threads"],
                    ship=options["ship"],
                    progress=not options["no_progress"],
                    command=command_line(),
                ),
                log=_log,
            )
        except (EnsembleError, SplitFileError) as error:
            raise CommandError(str(error)) from error
