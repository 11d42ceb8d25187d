"""MODEL_CARD.md of a training run, written from its metrics."""

from collections import Counter
from pathlib import Path

from detection import evaluation
from detection.dataset import Record, Split
from detection.training.augment import AugmentConfig


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _schedule(config: dict) -> str:
    if config.get("epoch_learning_rates"):
        return "the validation run's reduce-on-plateau rates replayed epoch by epoch"
    if config.get("schedule") == "cosine":
        return f"one warm-up epoch then cosine decay to 1 % over {config['epochs']} epochs"
    return "reduce-on-plateau"


def _metrics_rows(report: dict) -> list[str]:
    overall = report["overall"]
    (tn, fp), (fn, tp) = overall["confusion_matrix"]
    return [
        "| files | screams | accuracy | precision | recall | F1 | ROC-AUC | TN / FP / FN / TP |",
        "|---|---|---|---|---|---|---|---|",
        f"| {overall['count']} | {overall['positives']} | {overall['accuracy']:.4f} | {overall['precision']:.4f} | "
        f"{overall['recall']:.4f} | {overall['f1']:.4f} | {_number(overall['roc_auc'])} | "
        f"{tn} / {fp} / {fn} / {tp} |",
        *(["", evaluation.interval_summary(report["intervals"])] if report.get("intervals") else []),
    ]


def _refit_lines(refit: dict, training: dict) -> list[str]:
    """How a refit on train + val was made, and its validation run's figures to compare with."""
    lines = [
        f"**Refit on train + val.** This model was trained on the train and validation parts together, with the"
        f" recipe, split and seed of the validation run `{refit['run']}` ({refit['model_version']}), for"
        f" {refit['best_epoch']} epochs: the epoch at which that run's validation loss was lowest. Its last"
        " weights are the model, and its thresholds are the ones that run chose on validation: every choice was made"
        " on validation by a model that had not seen it, and the test part stays unseen by both.",
    ]
    if training["epochs_run"] < refit["best_epoch"]:
        lines.append(
            f"**It stopped short, after {training['epochs_run']} epochs ({training['stopped_because']}): it is not"
            " the validated recipe.**"
        )
    if refit.get("run_init_checkpoint"):
        replaced = refit["init_checkpoint"] != refit["run_init_checkpoint"]
        lines.append(
            f"That run was warm-started from `{refit['run_init_checkpoint']}`; this refit starts from"
            f" `{refit['init_checkpoint']}`{' instead' if replaced else ''}."
        )
    lines += [
        "",
        f"The validation run ({refit['served']}, at its threshold {refit['thresholds'][refit['served']]:.3f}), for"
        " comparison with the test figures below:",
        "",
        "| validation run on | F1 | ROC-AUC | precision | recall |",
        "|---|---|---|---|---|",
    ]
    for part, name in (("val", "validation"), ("test", "test")):
        for subset in ("clean", "all"):
            row = refit[part][subset]
            label = f"{name}, {'clean' if subset == 'clean' else 'clean + mixed'}"
            lines.append(
                f"| {label} | {row['f1']:.4f} | {_number(row['roc_auc'])} | {row['precision']:.4f} |"
                f" {row['recall']:.4f} |"
            )
    return lines


def _mix_seed_sentence(metrics: dict) -> str:
    seed = (metrics.get("mix_seeds") or {}).get("test")
    if seed is None:
        return ""
    return (
        f" `evaluate_detector --split-file split.json --split test --mix-seed {seed}` makes the same mixtures"
        " and reproduces this table and the clean + mixed one."
    )


def _data_and_split_lines(metrics: dict, records: list[Record], split: Split) -> list[str]:
    labels = Counter(record.label for record in records)
    packages = Counter(record.metadata.get("source_package", "") for record in records)
    licences = Counter()
    for record in records:
        for licence in (record.metadata.get("license") or "unknown").split(";"):
            licences[licence.strip()] += 1
    lines = [
        "## Data",
        f"- Corpus: `{metrics['data_dir']}` — {len(records)} files, {labels[1]} screams, {labels[0]} non-screams,"
        f" from {len(packages)} source packages (game data, sound themes, speech prompts; Debian and PyPI).",
        "- Licences (files per licence term): "
        + ", ".join(f"{name} ({count})" for name, count in licences.most_common(8))
        + "; files keep the licence of their package (see the corpus README).",
        "",
        "## Split (grouped by source, stratified by label)",
        "Group = source package + directory inside it (archive + member directory for `ARCHIVE:MEMBER`), so"
        " segments of one file and one character's voice set never sit on two sides.",
        "",
        "| part | files | screams | non-screams | groups |",
        "|---|---|---|---|---|",
    ]
    for name, part in split.parts().items():
        screams = sum(record.label for record in part)
        lines.append(f"| {name} | {len(part)} | {screams} | {len(part) - screams} | {len({r.group for r in part})} |")
    if metrics.get("split_file"):
        lines += [
            "",
            f"The split was read from `{metrics['split_file']}` rather than drawn from this run's seed, so this"
            " run is scored on the same held-out part as the runs it is compared with.",
        ]
    return lines


def _held_out_lines(test: dict, metrics: dict, *, threshold: float, chosen_by: str) -> list[str]:
    """The held-out test sections: clean files, screams mixed into backgrounds, per category, false alarms."""
    lines = [
        "## Held-out test metrics (file level: a file's score is its highest 1-s window score, 0.25-s hop)",
        f"Threshold **{threshold:.3f}**: the F1-maximising threshold on the validation part (clean files plus"
        " every validation scream mixed into a validation background at 0, 5, 10 and 20 dB, the four mixed copies of"
        f" a scream weighing one file together){chosen_by}, never on test.",
        "",
        "### Clean test files",
        *_metrics_rows(test["clean"]),
        "",
        "### Test screams mixed into test backgrounds",
        "Every test scream mixed into a random test background (ambience, weather, machinery, vehicles, crowd,"
        " music, speech) at exactly 0, 5, 10 and 20 dB SNR (RMS over the scream's span), as whole files with 0.5-1.5 s"
        " of background before and 1 s after the scream; a bucket a-b holds the files mixed at a dB."
        + _mix_seed_sentence(metrics),
        "",
        "| SNR | screams | recall |",
        "|---|---|---|",
    ]
    for row in test["mixed"].get("per_snr", []):
        lines.append(f"| {row['bucket']} | {row['screams']} | {row['recall']:.3f} |")
    lines += ["", "### Clean + mixed test files", *_metrics_rows(test["all"]), "", "### Per category (clean test)"]
    lines += ["| category | files | recall (screams) | false-positive rate (non-screams) |", "|---|---|---|---|"]
    for row in test["clean"]["per_category"]:
        lines.append(
            f"| {row['category']} | {row['files']} | {_percent(row.get('recall')) if 'recall' in row else ''} | "
            f"{_percent(row.get('false_positive_rate')) if 'false_positive_rate' in row else ''} |"
        )
    alarms = test["clean"]["false_alarms"]
    lines += [
        "",
        f"False alarms on the clean test non-screams: {alarms['events']} events in {alarms['hours'] * 60:.1f} min ="
        f" {alarms['per_hour']:.1f} per hour (runs of windows over the threshold count once). These negatives are"
        " mostly hard cases (speech, shouting, game sound effects), not ordinary background.",
    ]
    return lines


def write_model_card(path: Path, *, metrics: dict, records: list[Record], split: Split) -> Path:
    served = metrics["served"]
    model = metrics["models"][served]
    test = model["test"]
    training = metrics["training"]
    config = metrics["config"]
    labels = Counter(record.label for record in records)
    lines = [
        f"# Model card: {metrics['model_version']}",
        "",
        f"Scream detector: torchvision ResNet34 from scratch (1-channel 7x7 first convolution, 2 classes) on"
        f" 1-s log-mel windows (64 mels x 51 frames, `detection.features.window_features`). Served with ONNX Runtime"
        f" as **{served}**; the graph outputs softmax probabilities (N, 2), index 1 = scream."
        f" Trained {metrics['date']}.",
        "",
        *_data_and_split_lines(metrics, records, split),
    ]
    refit = metrics.get("refit_from")
    if refit:
        lines += ["", *_refit_lines(refit, training)]
    augment = AugmentConfig()
    lines += [
        "",
        "## Training",
        f"- Command: `{metrics['command']}` (seed {config['seed']})"
        + (
            f"; warm-started from the best checkpoint of an earlier run (`{config['init_checkpoint']}`)."
            if config.get("init_checkpoint")
            else "."
        ),
        f"- {training['epochs_run']} epochs of {config['windows_per_epoch']} windows (batch {config['batch_size']},"
        f" ~50 % screams per batch, hard negatives oversampled {config.get('hard_negative_weight', 2.0):g}x);"
        f" best epoch {training['best_epoch']};"
        f" stopped: {training['stopped_because']}; training wall time {training['train_wall_s'] / 60:.1f} min"
        " on 2 CPU cores.",
        f"- AdamW lr {config['learning_rate']:g}, weight decay {config['weight_decay']:g}, {_schedule(config)};"
        f" cross-entropy with label smoothing {config['label_smoothing']:g};"
        + (
            f" weights (and BatchNorm statistics) averaged as an exponential moving average, decay"
            f" {config['ema_decay']:g} per step, and the average is what is validated and exported;"
            if config.get("ema_decay")
            else ""
        )
        + (
            " no early stopping (see the refit above)."
            if refit
            else f" early stopping on validation loss (patience {config['patience']})."
        ),
        "- Augmentation (waveform, both classes): crop around the loud part of long screams or random placement of"
        f" short clips in the window; speed/pitch 0.8-1.25x by resampling (p={augment.speed_probability});"
        f" synthetic-room reverberation RT60 0.1-1.0 s (p={augment.reverb_probability}); microphone EQ shelves/peaks"
        f" (p={augment.eq_probability}); phone band 300-3400 Hz or low-pass 3.4/4/5.5/8 kHz"
        f" (p={augment.band_limit_probability}, screams too); background mixing at 0-20 dB SNR (15 % at -5-0 dB,"
        f" p={augment.background_probability}) with training-split non-screams or white/pink/brown noise; random"
        " level; SpecAugment (2 frequency masks <= 8 bins, 2 time masks <= 6 frames)"
        + (
            f"; mixup of log-mel features inside each batch, Beta(alpha, alpha) with alpha {config['mixup_alpha']:g}."
            if config.get("mixup_alpha")
            else "."
        ),
        "- Validation (every epoch, fixed"
        + (", in the validation run" if refit else "")
        + "): clean validation windows, every validation scream mixed into validation"
        " backgrounds at 0/5/10/20 dB, and validation non-screams mixed with each other.",
        "",
        *_held_out_lines(
            test,
            metrics,
            threshold=model["threshold"],
            chosen_by=", chosen by the validation run (this model has seen the validation part)" if refit else "",
        ),
        "",
        "## Quantisation check",
        "| model | size | threshold | test clean F1 | test clean AUC | test all F1 | latency p50 (1 thread, batch 1) |",
        "|---|---|---|---|---|---|---|",
    ]
    for quantization, entry in metrics["models"].items():
        lines.append(
            f"| {quantization} | {entry['size_mb']:.1f} MB | {entry['threshold']:.3f} |"
            f" {entry['test']['clean']['overall']['f1']:.4f} |"
            f" {_number(entry['test']['clean']['overall']['roc_auc'])} |"
            f" {entry['test']['all']['overall']['f1']:.4f} | {entry['latency_1thread_batch1']['p50_ms']:.1f} ms |"
        )
    lines += [
        "",
        f"int8 (static QDQ, per-channel, calibrated on 500 real training windows) loses"
        f" {100 * metrics['int8_f1_drop_on_test']:.2f} F1 points on the test part (clean + mixed); the rule is to serve"
        f" int8 when it loses at most 0.5 point. Served: **{served}**. Exported ONNX vs torch:"
        f" max |difference| {metrics['export_max_abs_diff_vs_torch']:.1e}.",
        "",
        *_limitations_lines(labels[1], split),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _limitations_lines(screams: int, split: Split) -> list[str]:
    return [
        "## Limitations",
        f"- Small data: {screams} screams, almost all game-character pain/death cries (many from a few games), so"
        " real-world screams (children, crowds, distant, through walls) are under-represented; the test part has only"
        f" {sum(record.label for record in split.test)} screams, so every figure has a wide confidence interval"
        " (one file = 2-3 points of recall).",
        "- Mixed-noise figures use synthetic mixtures with backgrounds from the same corpus, not recordings of"
        " screams in real rooms.",
        "- Negatives are game sounds, speech prompts and music; ordinary hours of room/street audio were not"
        " available, so false alarms per hour are measured on a short, hard set.",
        "- 1-s windows: a scream shorter than ~0.2 s or one heavily masked by louder sound may be missed.",
        "",
    ]


def _figures(report: dict) -> str:
    """Clean F1 / AUC | clean + mixed F1 / AUC, as table cells."""
    clean, both = report["clean"]["overall"], report["all"]["overall"]
    return f"{clean['f1']:.3f} / {_number(clean['roc_auc'], 3)} | {both['f1']:.3f} / {_number(both['roc_auc'], 3)}"


def _snr_recalls(report: dict) -> str:
    return " / ".join(f"{row['recall']:.2f}" for row in report["mixed"].get("per_snr", []))


def _demoted(card: str) -> str:
    """A member's own card, its headings one level down, to sit inside the ensemble's card."""
    return "\n".join("##" + line if line.startswith("#") else line for line in card.splitlines())


def write_ensemble_card(path: Path, *, metrics: dict, records: list[Record], split: Split, members: list) -> Path:
    """MODEL_CARD.md of an ensemble (``detection.training.ensemble``), with its members' own cards appended."""
    labels = Counter(record.label for record in records)
    own_validation = not any(member["seen_validation"] for member in metrics["members"])
    lines = [
        f"# Model card: {metrics['model_version']}",
        "",
        f"Scream detector: an ensemble of {len(members)} torchvision ResNet34s trained from scratch with different"
        " seeds (1-channel 7x7 first convolution, 2 classes), on 1-s log-mel windows (64 mels x 51 frames,"
        " `detection.features.window_features`). One ONNX graph runs the members side by side on the same windows"
        " and outputs the mean of their softmax probabilities (N, 2), index 1 = scream; served with ONNX Runtime as"
        f" **{metrics['members'][0]['quantization']}**. Built {metrics['date']} with"
        f" `{metrics['command']}`.",
        "",
        "Why an ensemble: two runs of one recipe that differ only in their seed differ by about 0.07 F1 on"
        " validation here; averaging them cancels part of that seed noise.",
        "",
        "## Members",
        "| member | model version | sha256 | its own threshold | trained with |",
        "|---|---|---|---|---|",
    ]
    for index, member in enumerate(metrics["members"], start=1):
        lines.append(
            f"| {index} | {member['model_version']} | {member['sha256'][:12]} | {member['threshold']:.3f} |"
            f" `{member['command'] or 'see its card below'}` |"
        )
    lines += ["", *_data_and_split_lines(metrics, records, split), ""]
    val_rows = [("**ensemble**", metrics["val"])] + [
        (row["model_version"], row["report"]) for row in metrics["val_members"]
    ]
    lines += [
        "## Threshold, chosen on validation",
        (
            "The members were trained on the train part only, and their ensemble chose the threshold on validation."
            if own_validation
            else "The members have seen the validation part (refits on train + val), so the threshold was chosen"
            " on validation by the ensemble of their validation runs ("
            + ", ".join(m["model_version"] for m in metrics["validation_members"])
            + "), trained on the train part only."
        ),
        "",
        "| on validation | threshold | clean F1 / AUC | clean + mixed F1 / AUC | recall 0 / 5 / 10 / 20 dB |",
        "|---|---|---|---|---|",
    ]
    thresholds = [metrics["threshold"]] + [row["threshold"] for row in metrics["val_members"]]
    for (name, report), threshold in zip(val_rows, thresholds, strict=True):
        lines.append(f"| {name} | {threshold:.3f} | {_figures(report)} | {_snr_recalls(report)} |")
    lines += [
        "",
        *_held_out_lines(
            metrics["test"],
            metrics,
            threshold=metrics["threshold"],
            chosen_by=", chosen by the ensemble of the validation runs" if not own_validation else "",
        ),
        "",
        "### The ensemble and its members on test (each member at its own threshold)",
        "| on test | threshold | clean F1 / AUC | clean + mixed F1 / AUC | recall 0 / 5 / 10 / 20 dB |"
        " false alarms / h |",
        "|---|---|---|---|---|---|",
    ]
    test_rows = [("**ensemble**", metrics["threshold"], metrics["test"])] + [
        (row["model_version"], row["threshold"], row["report"]) for row in metrics["test_members"]
    ]
    for name, threshold, report in test_rows:
        lines.append(
            f"| {name} | {threshold:.3f} | {_figures(report)} | {_snr_recalls(report)} |"
            f" {report['clean']['false_alarms']['per_hour']:.0f} |"
        )
    latency, single = metrics["latency_1thread_batch1"], metrics["member_latency_1thread_batch1"]
    lines += [
        "",
        "The test tables of this card come back with"
        f" `python manage.py evaluate_detector --data {metrics['data_dir']} --split-file {metrics['split_file']}"
        f" --split test --mix-seed {metrics['mix_seeds']['test']}` (the shipped model is the ensemble).",
        "",
        "## Size and speed",
        f"- {metrics['size_mb']:.1f} MB (the members' weights side by side).",
        f"- One window, batch 1, one thread: p50 {latency['p50_ms']:.1f} ms, p95 {latency['p95_ms']:.1f} ms"
        f" (one member alone: p50 {single['p50_ms']:.1f} ms). `make bench` measures the served model.",
        f"- The merged graph against the mean of its members' outputs: max |difference|"
        f" {metrics['merged_max_abs_diff_vs_members']:.1e}.",
        "",
        *_limitations_lines(labels[1], split),
    ]
    for index, member in enumerate(members, start=1):
        lines += ["", f"## Member {index}: its own card", ""]
        lines.append(_demoted(member.card) if member.card else "(no model card was found beside this member)")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
