"""The ``antlm`` command. Argument parsing only: every sub-command calls a function of
:mod:`antlm.api` and prints what it returns (through a ``render_*`` function where the text is a
table), so ``antlm eval`` and ``antlm.evaluate`` can never disagree. What this module may
import is checked (``tests/test_cli.py``)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import MISSING, Field, fields
from typing import Any, Literal, NoReturn, get_args, get_origin, get_type_hints

from antlm import api
from antlm.config import FinetuneConfig
from antlm.errors import BUG_EXIT, USAGE_EXIT, AntlmError, environment_error_message
from antlm.eval.settings import PRECISIONS
from antlm.options import (
    BATCH_SIZE,
    DEVICES,
    JOBS,
    MAX_PAIRS,
    SCALED_EPOCHS,
    STEPS_PER_EPOCH,
    STOP_AFTER_EPOCHS,
)

DATA_DIR_OPTION = "data directory (default: $ANTLM_DATA_DIR, else ./data)"
COMPS_DIR_OPTION = ("the folder of COMPS's comps_*.jsonl files (default: "
                    "evaluation_data/full_eval/comps under the data directory; absent: COMPS is "
                    "reported missing, the other tasks are scored)")

Handler = Callable[[argparse.Namespace], int | None]
SCORING = api.EvaluationSettings()  # `antlm eval`'s defaults are the API's


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default: the defaults encode the BabyLM recipe, so
    ``--help`` must show them. An option whose help already states its default, or whose default
    is "not given" (None, False), is left as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or "default" in text
                or action.default in (None, False, "", [], argparse.SUPPRESS)):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose sub-commands (at any depth) use :class:`_DefaultsFormatter`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- train
def _cmd_train(args: argparse.Namespace) -> None:
    if args.devices and args.devices > 1:  # the same command line again, under torchrun
        from antlm.train.launch import launch_devices

        sys.exit(launch_devices(args.devices, sys.argv[1:]))
    run = api.pretrain(args.config, args.out, overrides=args.set, data_dir=args.data_dir,
                       resume=args.resume, stop_after_epochs=args.stop_after_epochs,
                       progress=not args.no_progress)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one line, not one per process
        state = api.run_state(run)
        done = "finished" if state.finished else f"stopped at step {state.step} (resumable)"
        print(f"antlm: run {run} {done}")


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model under a schedule")
    p.add_argument("config", nargs="?", help="run config YAML, or a preset name such as demo (antlm presets); omit "
                        "with --resume --out RUN")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set train.schedule=2_CLM+2_MLM")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--out", help="run directory (default: runs/NAME)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--stop-after-epochs", type=STOP_AFTER_EPOCHS.parse, default=None,
                   help="checkpoint and stop after this many more epochs (resume later; "
                        "default: train to the end)")
    p.add_argument("--devices", type=DEVICES.parse, default=None,
                   help="train on N local processes/GPUs via torchrun (DDP; default: one process)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_train)


# ---------------------------------------------------------------------------- tokenizer
def _cmd_tokenizer_train(args: argparse.Namespace) -> None:
    trained = api.train_tokenizer(args.config, args.out, overrides=args.set,
                                  data_dir=args.data_dir, force=args.force)
    print(f"antlm: {trained} -> {args.out}")


def _add_tokenizer(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokenizer", help="tokenizer tools")
    tsub = p.add_subparsers(dest="tokenizer_command", required=True)
    t = tsub.add_parser("train", help="train (or reuse from cache) the tokenizer of a config")
    t.add_argument("config", help="run config YAML, or a preset name (antlm presets)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value")
    t.add_argument("--data-dir", help=DATA_DIR_OPTION)
    t.add_argument("--out", default="tokenizer.json", help="where the tokenizer goes")
    t.add_argument("--force", action="store_true", help="replace --out if it exists")
    t.set_defaults(handler=_cmd_tokenizer_train)


# ---------------------------------------------------------------------------- schedule
def _cmd_schedule_show(args: argparse.Namespace) -> None:
    print(api.show_schedule(args.spec, epochs=args.epochs, words_per_epoch=args.words_per_epoch,
                            steps_per_epoch=args.steps_per_epoch, config=args.config,
                            overrides=args.set, data_dir=args.data_dir))


def _add_schedule(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="schedule language tools")
    ssub = p.add_subparsers(dest="schedule_command", required=True)
    s = ssub.add_parser("show", help="print the plan of a schedule, or of a run config")
    s.add_argument("spec", nargs="?", help="e.g. '4_CLM+16_MLM+4_CLM' or '(2_CLM+2_MLM)*6'")
    s.add_argument("--epochs", type=SCALED_EPOCHS.parse, default=None,
                   help="scale the schedule's proportions to this many epochs")
    s.add_argument("--words-per-epoch", default=None,
                   help="the corpus's words (e.g. 10M): adds the words seen per phase")
    s.add_argument("--steps-per-epoch", type=STEPS_PER_EPOCH.parse, default=None,
                   help="adds each phase's steps")
    s.add_argument("--config", help="a run config: its plan as training places it, with the "
                   "exact words seen (reads and tokenizes the corpus, cached)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="with --config: override a config value")
    s.add_argument("--data-dir", help="with --config: " + DATA_DIR_OPTION)
    s.set_defaults(handler=_cmd_schedule_show)


# ---------------------------------------------------------------------------- eval / report
def _cmd_eval(args: argparse.Namespace) -> None:
    from antlm.eval.aoa import render_aoa
    from antlm.eval.curves import render_curve

    settings = api.EvaluationSettings(
        backend=args.backend, batch_size=args.batch_size, max_pairs=args.max_pairs,
        precision=args.precision, device=args.device, progress=not args.no_progress,
        trust_remote_code=args.trust_remote_code, out=args.out,
        save_predictions=args.save_predictions, comps_dir=args.comps_dir)
    if args.checkpoints:
        learned = api.evaluate_checkpoints(args.path, args.tasks, suite=args.suite,
                                           data_dir=args.data_dir, aoa=not args.no_aoa,
                                           settings=settings)
        print(render_curve(learned.curve, learned.name, target="terminal"))
        for path in learned.files:
            print(f"antlm: wrote {path}")
        if learned.aoa is not None:
            print(render_aoa(learned.aoa, learned.name, target="terminal"))
        return
    done = api.evaluation(args.path, args.tasks, suite=args.suite, data_dir=args.data_dir,
                          settings=settings)
    print(f"antlm: results in {done.results_path}", file=sys.stderr)
    print(done.render(detail=args.detail))


def _cmd_report(args: argparse.Namespace) -> None:
    if args.sweep:
        _print_sweep_report(api.report_sweep(args.sweep, args.out, args.interim))
        return
    text = api.report(args.run_dirs, args.suite, detail=args.detail, out=args.out)
    print(text if args.out is None else f"antlm: wrote {args.out}")


def _print_sweep_report(report: api.SweepReport) -> None:
    for path in report.files:
        print(f"antlm: wrote {path}")
    print(report.markdown)


def _add_suite(parser: argparse.ArgumentParser) -> None:
    from antlm.eval.suites import DEFAULT_SUITE, SUITES

    parser.add_argument("--suite", choices=list(SUITES), default=None,
                        help=f"the official pipeline whose conventions apply (default: "
                             f"{DEFAULT_SUITE}; see docs/EVALUATION.md)")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="zero-shot BabyLM evaluation (BLiMP, supplement, EWoK) of a "
                                    "run or a Hugging Face model folder")
    p.add_argument("path", metavar="PATH",
                   help="a run directory, or a Hugging Face model folder (causal LMs through "
                        "AutoModelForCausalLM, masked LMs through AutoModelForMaskedLM); with "
                        "--checkpoints, a run or a git repository of revisions (chck_* "
                        "branches, as `antlm export --checkpoints` writes it)")
    p.add_argument("--tasks", default=None,
                   help="comma-separated: blimp_filtered, blimp, blimp_supplement, ewok, "
                        "entity_tracking(_fast), comps (--comps-dir), wug_adj, wug_past (Spearman's rho with human "
                        "choices), reading (surprisal in regressions on reading times; all its "
                        "words, whatever --max-pairs), the official fast sets blimp_fast, "
                        "supplement_fast, ewok_fast, and the word_order diagnostic (BLiMP "
                        "sentences vs. their words shuffled); default blimp_filtered,"
                        "blimp_supplement,ewok, with --checkpoints blimp_fast,supplement_fast,"
                        "ewok_fast")
    p.add_argument("--backend", default=SCORING.backend,
                   help="auto (the model's own list), all, declared (the headline's alone), or "
                        "a list of causal, mlm, mntp, fused, mlm_word_l2r; one backend named "
                        "alone is also the headline, otherwise the headline is the declared one")
    _add_suite(p)
    p.add_argument("--out", help="Hugging Face folder or repository of revisions only: where "
                                 "its results.json (and learning curve) go (default: "
                                 "results/NAME)")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="run a model folder's own modelling code (needed for LTG-BERT "
                        "checkpoints; antlm's own exports are recognised without it)")
    p.add_argument("--save-predictions", action="store_true",
                   help="write every pair's scores to predictions/SUITE/TASK.jsonl beside "
                        "results.json")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--comps-dir", default=None, help=COMPS_DIR_OPTION)
    p.add_argument("--batch-size", type=BATCH_SIZE.parse, default=SCORING.batch_size,
                   help="model rows per forward pass")
    p.add_argument("--max-pairs", type=MAX_PAIRS.parse, default=None,
                   help="score only the first N pairs of each subtask (quick runs; default: all)")
    p.add_argument("--precision", choices=PRECISIONS, default=SCORING.precision,
                   help="of the scoring forward passes")
    p.add_argument("--device", default=SCORING.device, help="auto, cpu, cuda, cuda:N")
    p.add_argument("--detail", action="store_true", help="list every subtask in the table")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--checkpoints", action="store_true",
                   help="learning curve: score every milestone checkpoint (of a run, or the "
                        "chck_* branches of a repository) with the declared backend (--backend "
                        "overrides) on the official fast sets, and the age of acquisition of "
                        "words over the checkpoints")
    p.add_argument("--no-aoa", action="store_true",
                   help="with --checkpoints: the learning curve alone, no age of acquisition")
    p.set_defaults(handler=_cmd_eval)

    r = sub.add_parser("report", help="results table of a run (or an evaluated model folder's "
                                      "results directory), or several side by side")
    r.add_argument("run_dirs", nargs="*", metavar="DIR", help="runs or results directories")
    r.add_argument("--sweep", metavar="ROOT/NAME",
                   help="summarise a sweep directory: mean ± sd per arm, deltas, plots")
    r.add_argument("--out", help="with --sweep: where to write the summary (default NAME/summary); "
                                 "with DIRs: a file for the report, Markdown if it ends in .md, "
                                 "else plain text (default: print it as plain text)")
    r.add_argument("--interim", action="store_true",
                   help="with --sweep: show a sweep that declares its primary endpoint before "
                        "all its planned seeds are in (marked interim)")
    r.add_argument("--detail", action="store_true", help="list every subtask (one run)")
    _add_suite(r)
    r.set_defaults(handler=_cmd_report)


# ---------------------------------------------------------------------------- sweep
def _cmd_sweep(args: argparse.Namespace) -> None:
    if args.status:
        print(api.sweep_status(args.sweep, args.root))
        return
    report = api.sweep(args.sweep, args.root, data_dir=args.data_dir, jobs=args.jobs,
                       arms=args.arms, train_only=args.train_only)
    if report is not None and report.pending is not None:  # other processes still run some
        print(f"antlm sweep: no report yet: {report.pending}")
    elif report is not None:
        _print_sweep_report(report)


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="train and evaluate a grid of runs (resumable)")
    p.add_argument("sweep", help="sweep YAML, e.g. configs/sweeps/babyllama-tiny.yaml, or a "
                                 "preset name (antlm presets)")
    p.add_argument("--root", default="runs", help="runs go to ROOT/NAME/ARM/seedS")
    p.add_argument("--jobs", type=JOBS.parse, default=1, help="runs trained at once")
    p.add_argument("--arms", help="only these arms (comma-separated)")
    p.add_argument("--train-only", action="store_true",
                   help="train (or resume) every run, evaluate none; rerun without it to evaluate")
    p.add_argument("--status", action="store_true",
                   help="run nothing: list each run's stage (done, training, interrupted, "
                        "pending) and the time left, without showing any score")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.set_defaults(handler=_cmd_sweep)


# ---------------------------------------------------------------------------- finetune / macro
def _cmd_finetune(args: argparse.Namespace) -> None:
    config = FinetuneConfig(**{f.name: getattr(args, f.name) for f in fields(FinetuneConfig)})
    api.finetune(args.run_dir, [*args.task, args.tasks], data_dir=args.data_dir, config=config,
                 device=args.device, progress=not args.no_progress)
    # every result recorded so far, not just this call's
    print(api.macro(args.run_dir, args.suite))


def _cmd_macro(args: argparse.Namespace) -> None:
    print(api.macro(args.run_dir, args.suite, backend=args.backend))


def _cmd_submission(args: argparse.Namespace) -> None:
    report = api.submission(
        args.run_dir, args.out, track=args.track, backend=args.backend, suite=args.suite,
        data_dir=args.data_dir, batch_size=args.batch_size,
        glue_max_train_examples=args.glue_max_train_examples, glue_epochs=args.glue_epochs,
        device=args.device, progress=not args.no_progress, force=args.force,
        workshop_only=args.workshop_only, comps_dir=args.comps_dir)
    print(report.render())


def _add_submission(sub: argparse._SubParsersAction) -> None:
    from antlm.eval.submission import OFFICIAL_BACKENDS, TRACK_REVISIONS

    p = sub.add_parser("submission", help="a run's BabyLM leaderboard submission: every "
                                          "predictions.json in the official layout, and the "
                                          "collated file (resumable)")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--out", required=True,
                   help="the submission folder (rerun into the same folder to resume)")
    p.add_argument("--track", choices=list(TRACK_REVISIONS), default="strict-small",
                   help="which revisions the fast sets are scored at (default: strict-small)")
    p.add_argument("--backend", choices=list(OFFICIAL_BACKENDS), default=None,
                   help="default: the run's declared backend")
    p.add_argument("--batch-size", type=BATCH_SIZE.parse, default=64, help="pairs per batch")
    p.add_argument("--glue-max-train-examples", type=int, default=None,
                   help="fine-tune on a seeded N-example subset (a quick check, not the recipe)")
    p.add_argument("--glue-epochs", type=int, default=None,
                   help="at most this many fine-tuning epochs (default: the recipe's)")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    p.add_argument("--comps-dir", default=None, help=COMPS_DIR_OPTION)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--force", action="store_true",
                   help="write into a folder that holds other files")
    p.add_argument("--workshop-only", action="store_true",
                   help="a paper submitted to the workshop only, not to the challenge: exempt "
                        "from the track's limits (10 epochs, the track's corpus size)")
    _add_suite(p)
    p.set_defaults(handler=_cmd_submission)


def _add_finetune(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("finetune", help="GLUE fine-tuning (the BabyLM recipe) of a run")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("--task", action="append", default=[],
                   help="a GLUE task (repeatable): boolq, cola, mnli, mrpc, multirc, qnli, qqp, "
                        "rte, sst2, wsc")
    p.add_argument("--tasks", default="", help="comma-separated tasks, e.g. rte,mrpc,wsc")
    p.add_argument("--data-dir", help=DATA_DIR_OPTION)
    hints = get_type_hints(FinetuneConfig)
    for field in fields(FinetuneConfig):  # the recipe's flags: one place to change them
        _add_field(p, field, hints[field.name])
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    _add_suite(p)
    p.set_defaults(handler=_cmd_finetune)

    m = sub.add_parser("macro", help="BabyLM macro-average (BLiMP, supplement, EWoK, GLUE)")
    m.add_argument("run_dir", metavar="DIR", help="a run or results directory")
    m.add_argument("--backend", default=None,
                   help="zero-shot backend to read (default: the declared one)")
    _add_suite(m)
    m.set_defaults(handler=_cmd_macro)


def _add_field(parser: argparse.ArgumentParser, field: Field, hint: Any) -> None:
    """``--NAME`` for a config dataclass's field: its default, its help (the field's
    ``metadata["help"]``), its type (``int | None`` -> int; a range's ``parse`` where
    ``metadata["option"]`` names one) and, for a ``Literal``, its choices."""
    names = [a for a in get_args(hint) if a is not type(None)] or [hint]
    kind = names[0] if len(names) == 1 else hint
    option = field.metadata.get("option")
    choices = list(get_args(kind)) if get_origin(kind) is Literal else None
    parse = option.parse if option is not None else None if choices else kind
    default = None if field.default is MISSING else field.default
    parser.add_argument(f"--{field.name.replace('_', '-')}", type=parse, choices=choices,
                        default=default, help=field.metadata.get("help"))


# ---------------------------------------------------------------------------- export
def _cmd_export(args: argparse.Namespace) -> None:
    if args.checkpoints:
        branches, publish = api.export_checkpoints(args.run_dir, args.out_dir,
                                                   attention=args.attention, force=args.force)
        print(f"antlm: exported {args.run_dir} -> {args.out_dir}, a git repository with the "
              f"final model on main and {len(branches) - 1} checkpoint branches: "
              f"{' '.join(branches[1:])}\nantlm: {publish}")
        return
    out = api.export_hf(args.run_dir, args.out_dir, attention=args.attention, force=args.force)
    print(f"antlm: exported {args.run_dir} -> {out} (Hugging Face format)")


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a run's model as a Hugging Face folder (causal and "
                                      "masked-LM views, tokenizer, config, model card)")
    p.add_argument("run_dir", help="a trained run directory")
    p.add_argument("out_dir", help="the Hugging Face folder to write")
    p.add_argument("--attention", choices=["causal", "bidirectional"], default="bidirectional",
                   help="LTG-BERT only: the attention of AutoModel and the sequence classifier "
                        "(the masked- and causal-LM classes always attend bidirectionally and "
                        "causally)")
    p.add_argument("--checkpoints", action="store_true",
                   help="write OUT as a git repository: the final model on main, one branch per "
                        "milestone checkpoint (chck_1M, ...), ready to push to the Hugging Face Hub")
    p.add_argument("--force", action="store_true",
                   help="write into OUT_DIR although it holds files (never into a run directory)")
    p.set_defaults(handler=_cmd_export)


# ---------------------------------------------------------------------------- plot / presets
def _cmd_plot(args: argparse.Namespace) -> None:
    print(f"antlm: wrote {api.plot(args.run_dirs, args.out)}")


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="PNG of the dev loss of both objectives against words seen, "
                                    "phases shaded, runs overlaid")
    p.add_argument("run_dirs", nargs="+", metavar="RUN", help="one or more run directories")
    p.add_argument("--out", help="the PNG to write (default: RUN/dev_loss.png for one run, "
                                 "./dev_loss.png for several)")
    p.set_defaults(handler=_cmd_plot)


def _cmd_presets(args: argparse.Namespace) -> None:
    if args.write:
        written = api.write_presets(args.write)
        print(f"antlm: wrote {len(written)} preset files to {args.write} (existing ones kept)")
        return
    root, names = api.presets()
    print(f"presets in {root} (give a run preset's name where a config path goes, "
          "e.g. `antlm train demo`):")
    for kind, listed in names.items():
        print(f"  {kind}: {' '.join(listed)}")


def _add_presets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the packaged model, run and sweep presets, or copy "
                                       "them out to edit")
    p.add_argument("--write", metavar="DIR", help="copy every preset to DIR/{runs,models,sweeps}")
    p.set_defaults(handler=_cmd_presets)


# ---------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    from antlm import __version__

    parser = _Parser(
        prog="antlm", description="Alternating causal / masked LM pretraining (AntLM). "
        "Every command takes --help; the data directory is --data-dir, else $ANTLM_DATA_DIR, "
        "else ./data."
    )
    parser.add_argument("--version", action="version", version=f"antlm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_tokenizer, _add_schedule, _add_eval, _add_sweep,
                _add_finetune, _add_submission, _add_export, _add_plot, _add_presets):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run one command under the error contract of :mod:`antlm.errors`: a user's mistake is one
    ``antlm: error:`` paragraph and exit code 2; an internal error keeps its traceback and asks
    for a bug report."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except AntlmError as exc:
        _fail(str(exc))
    except OSError as exc:
        message = environment_error_message(exc)
        if message is None:
            _report_bug()
        _fail(message)
    except KeyboardInterrupt:
        print("antlm: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception:  # noqa: BLE001 -- anything else is a bug: traceback and a request
        _report_bug()


def _fail(message: str) -> NoReturn:
    print(f"antlm: error: {message}", file=sys.stderr)
    sys.exit(USAGE_EXIT)


def _report_bug() -> NoReturn:
    """The traceback of the exception being handled, and what to do with it."""
    traceback.print_exc()
    print("antlm: internal error: this is a bug in antlm, not a problem with your input; please "
          "report it with the command you ran and the traceback above", file=sys.stderr)
    sys.exit(BUG_EXIT)


if __name__ == "__main__":
    main()
