"""``manage.py train_detector --data DIR``: train, evaluate and export a scream detector."""

import datetime as dt
import math
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detection.management.commands._checks import require_at_least, require_output_folder, require_split_file

TRAIN_EXTRA_MISSING = "Training needs the train extra: pip install -e '.[train]'"
# What a refit reads from its validation run rather than from the command line.
REFIT_RECIPE_OPTIONS = (
    "seed",
    "split_file",
    "epochs",
    "patience",
    "batch_size",
    "epoch_windows",
    "lr",
    "weight_decay",
    "lr_patience",
    "schedule",
    "mixup",
    "hard_negative_weight",
    "ema",
)


def require_train_extra() -> None:
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as error:
        raise CommandError(TRAIN_EXTRA_MISSING) from error


def require_labelled_folder(data_dir: Path) -> None:
    if not (data_dir / "scream").is_dir() or not (data_dir / "non_scream").is_dir():
        raise CommandError(f"{data_dir} must contain the folders scream/ and non_scream/")


def _log(message: str) -> None:
    print(f"{dt.datetime.now(dt.UTC):%H:%M:%S} {message}", flush=True)


class Command(BaseCommand):
    help = (
        "Train the ResNet34 scream detector on a folder with scream/ and non_scream/ (and metadata.csv), "
        "evaluate it on a grouped held-out split and write a run folder with the exported ONNX model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data", required=True, type=Path, help="labelled folder (scream/, non_scream/)")
        parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/<date-time>)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--max-minutes", type=float, default=60.0, help="wall-clock budget of the training loop")
        parser.add_argument("--epochs", type=int, default=200)
        parser.add_argument("--patience", type=int, default=8, help="epochs without validation-loss improvement")
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--epoch-windows", type=int, default=2048, help="augmented training windows per epoch")
        parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
        parser.add_argument(
            "--weight-decay", type=float, default=1e-4, help="AdamW's decoupled weight decay (default 1e-4)"
        )
        parser.add_argument("--lr-patience", type=int, default=3, help="epochs before the learning rate drops")
        parser.add_argument(
            "--schedule",
            choices=("plateau", "cosine"),
            default="plateau",
            help="learning rate: drop on a validation plateau, or cosine decay over --epochs",
        )
        parser.add_argument("--mixup", type=float, default=0.0, help="mixup Beta(alpha, alpha); 0 = off")
        parser.add_argument(
            "--hard-negative-weight", type=float, default=2.0, help="sampling weight of speech/shouting/animals/..."
        )
        parser.add_argument(
            "--ema",
            type=float,
            default=0.0,
            help="keep and validate an exponential moving average of the weights"
            " with this decay per step (e.g. 0.998); 0 = off",
        )
        parser.add_argument("--init-from", type=Path, default=None, help="warm start from a run's best.pt")
        parser.add_argument(
            "--refit-from",
            type=Path,
            default=None,
            metavar="RUN",
            help="train on train + val with RUN's recipe, split and seed, up to RUN's best epoch, and use RUN's"
            " validation thresholds (RUN: a finished run folder); with --init-from, start from that checkpoint"
            " instead of RUN's warm start (to refit a warm-started run from the refit of its first stage)",
        )
        parser.add_argument(
            "--split-file",
            type=Path,
            default=None,
            help="train and score on the split in this split.json (e.g. detection/weights/split.json) instead of"
            " drawing one from --seed, so runs with other seeds are compared on the same held-out part",
        )
        parser.add_argument("--threads", type=int, default=2, help="torch and ONNX Runtime threads")
        parser.add_argument("--ship", action="store_true", help="copy the chosen model and card to detection/weights/")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs)")
        self._defaults = {name: parser.get_default(name) for name in REFIT_RECIPE_OPTIONS}

    def handle(self, *args, **options):
        # Idle OpenMP threads must sleep, not spin: on shared cores a spinning torch thread pool made
        # steps 5-10x slower (measured: 1.1 s vs 1-16 s a step at batch 32 under load). Only takes
        # effect if torch is not imported yet.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        require_train_extra()
        from detection.training.pipeline import RefitError, RunOptions, SplitFileError, command_line, run_training
        from detection.training.train import TrainConfig

        data_dir: Path = options["data"]
        require_labelled_folder(data_dir)
        if not 0 <= options["seed"] < 2**32:  # numpy's legacy seeding takes no more
            raise CommandError(f"--seed must be between 0 and 2**32 - 1, not {options['seed']}")
        for name in ("epochs", "patience", "batch_size", "epoch_windows", "threads"):
            require_at_least(name.replace("_", "-"), options[name], 1)
        require_at_least("lr-patience", options["lr_patience"], 0)
        if not (math.isfinite(options["lr"]) and options["lr"] > 0):
            raise CommandError(f"--lr must be a positive number, not {options['lr']}")
        if not options["max_minutes"] > 0:
            raise CommandError(f"--max-minutes must be positive, not {options['max_minutes']}")
        if not options["mixup"] >= 0:
            raise CommandError(f"--mixup must be 0 (off) or a positive Beta alpha, not {options['mixup']}")
        if not options["hard_negative_weight"] > 0:
            raise CommandError(f"--hard-negative-weight must be positive, not {options['hard_negative_weight']}")
        if not 0.0 <= options["weight_decay"] < 1.0:
            raise CommandError(f"--weight-decay must be between 0 and 1, not {options['weight_decay']}")
        if not 0.0 <= options["ema"] < 1.0:
            raise CommandError(f"--ema must be 0 (off) or a decay between 0 and 1, not {options['ema']}")
        if options["refit_from"] is not None:
            overridden = [
                f"--{name.replace('_', '-')}" for name in REFIT_RECIPE_OPTIONS if options[name] != self._defaults[name]
            ]
            if overridden:
                raise CommandError(
                    f"--refit-from takes the recipe from {options['refit_from']}; drop {', '.join(overridden)}"
                )
        if options["split_file"] is not None:
            require_split_file(options["split_file"])
        if options["init_from"] is not None and not options["init_from"].is_file():
            raise CommandError(f"--init-from {options['init_from']} is not a file (a run's best.pt)")
        if options["out"] is None:
            options["out"] = Path("runs") / dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        require_output_folder("--out", options["out"])
        config = TrainConfig(
            seed=options["seed"],
            epochs=options["epochs"],
            patience=options["patience"],
            batch_size=options["batch_size"],
            windows_per_epoch=options["epoch_windows"],
            max_minutes=options["max_minutes"],
            threads=options["threads"],
            learning_rate=options["lr"],
            weight_decay=options["weight_decay"],
            lr_patience=options["lr_patience"],
            schedule=options["schedule"],
            mixup_alpha=options["mixup"],
            hard_negative_weight=options["hard_negative_weight"],
            ema_decay=options["ema"],
            init_checkpoint=str(options["init_from"]) if options["init_from"] else None,
        )
        try:
            run_training(
                RunOptions(
                    data_dir=data_dir,
                    out_dir=options["out"],
                    config=config,
                    ship=options["ship"],
                    progress=not options["no_progress"],
                    command=command_line(),
                    refit_from=options["refit_from"],
                    split_file=options["split_file"],
                ),
                log=_log,
            )
        except (RefitError, SplitFileError) as error:
            raise CommandError(str(error)) from error
