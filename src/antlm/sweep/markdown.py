"""A sweep summary as Markdown: the headline (macro-average under every backend), the final dev
losses, and one full table per backend. Tables are drawn by :func:`antlm.eval.tables.markdown_table`
like every other antlm report."""

from __future__ import annotations

from antlm.eval.tables import MISSING, markdown_table
from antlm.sweep.spec import DECLARED
from antlm.sweep.stats import mean_sd
from antlm.sweep.summary import (
    OBJECTIVES,
    PARTS,
    ComparisonResult,
    SweepSummary,
    final_dev_losses,
    learning_curves,
)


def _cell(values: list[float], scale: float = 100.0) -> str:
    """Mean ± sd over seeds (two decimals: paired differences are often below a point)."""
    if not values:
        return MISSING
    mean, sd = mean_sd(values)
    return f"{mean * scale:.2f}" + (f" ± {sd * scale:.2f}" if sd is not None else "")


def _delta_text(summary: SweepSummary, arm: str, backend: str) -> str:
    if arm == summary.sweep.spec.baseline:
        return "baseline"
    delta = summary.delta(arm, backend, "macro")
    return delta.format() if delta else MISSING


def _headline(summary: SweepSummary) -> list[str]:
    """The macro-average under every backend side by side: the table a reader wants first,
    because an alternated model can rank differently under causal and MLM scoring."""
    header = ["arm", "schedule", "seeds"]
    for backend in summary.backends:
        header += [f"macro, {backend}", f"Δ {backend}"]
    rows = []
    for arm in summary.sweep.spec.arms:
        seeds = max((len(summary.values(arm, b, "macro")) for b in summary.backends), default=0)
        cells = [arm, f"`{summary.sweep.schedule(arm)}`", str(seeds)]
        for backend in summary.backends:
            cells += [_cell(list(summary.values(arm, backend, "macro").values())),
                      _delta_text(summary, arm, backend)]
        rows.append(cells)
    return ["### Macro-average under every backend", "", markdown_table(header, rows), ""]


def _estimate(result: ComparisonResult) -> str:
    if result.interval is None:
        return "no seed evaluated by both arms yet"
    if result.interval.low is None:
        return f"**{100 * result.interval.mean:+.2f}** points (one paired seed: no interval)"
    return (f"**{result.interval.format()}** points (95% t-interval over "
            f"{len(result.seeds)} paired seeds)")


def _backend_words(summary: SweepSummary, result: ComparisonResult) -> str:
    if result.backend == DECLARED:
        declared = summary.sweep.declared_backend
        return (f"each arm's own declared backend (`{result.arm}`: "
                f"`{declared(result.arm)}`, `{result.baseline}`: `{declared(result.baseline)}`)")
    return f"the `{result.backend}` backend"


def _primary_section(summary: SweepSummary) -> list[str]:
    """The declared endpoints first, each with its reading and the seeds it rests on: the
    answers a study was run for, computed the way its sweep file declared before any run."""
    results = summary.primaries()
    lines = []
    for number, result in enumerate(results, start=1):
        rows = [[str(seed), f"{100 * base:.2f}", f"{100 * mine:.2f}",
                 f"{100 * (mine - base):+.2f}"]
                for seed, base, mine in zip(result.seeds, result.baseline_values,
                                            result.arm_values, strict=True)]
        planned = summary.sweep.spec.seeds
        interim = []
        if len(result.seeds) < len(planned):
            interim = [(f"**Interim**: {len(result.seeds)} of the {len(planned)} planned seeds "
                        "are paired so far; the declared answer is the one over all of them."),
                       ""]
        which = f" {number} of {len(results)}" if len(results) > 1 else ""
        lines += [f"### Primary endpoint{which} (declared in the sweep file before any run)", "",
                  (f"`{result.arm}` − `{result.baseline}`, the mean of "
                   f"{', '.join(result.parts)} under {_backend_words(summary, result)}: "
                   f"{_estimate(result)}."), "", *interim,
                  f"Answer: {result.verdict}. Seeds: {result.seed_rule}.", "",
                  markdown_table(["seed", result.baseline, result.arm, "difference"], rows), ""]
    return lines


def _secondary_section(summary: SweepSummary) -> list[str]:
    """The declared secondary comparisons: described with their intervals, never read as
    answers (no margin, no verdict)."""
    results = summary.secondaries()
    if not results:
        return []
    rows = [[f"`{r.arm}` − `{r.baseline}`", _backend_words(summary, r).removeprefix("the "),
             ", ".join(r.parts), str(len(r.seeds)),
             MISSING if r.interval is None else r.interval.format()] for r in results]
    return ["### Secondary comparisons (paired by seed; described, not answers)", "",
            markdown_table(["comparison", "backend", "parts", "seeds", "difference, 95% CI"],
                           rows), ""]


def _final_dev_loss_table(summary: SweepSummary) -> list[str]:
    """Dev loss after the last epoch: at CPU scale the objectives' effects show here long
    before they show in the BabyLM scores, and with a far smaller spread over seeds."""
    final = final_dev_losses(summary)
    rows = []
    for arm in summary.sweep.spec.arms:
        losses = final.get(arm, {})
        seeds = max((len(v) for v in losses.values()), default=0)
        rows.append([arm, f"`{summary.sweep.schedule(arm)}`", str(seeds),
                     *(_cell(losses.get(o, []), scale=1.0) for o in OBJECTIVES)])
    header = ["arm", "schedule", "seeds", *(f"dev {o}" for o in OBJECTIVES)]
    return ["### Dev loss after the last epoch (nats, mean ± sd over seeds)", "",
            markdown_table(header, rows), ""]


def _backend_table(summary: SweepSummary, backend: str) -> list[str]:
    """Every part of every arm under one backend."""
    epochs = summary.sweep.total_epochs()
    header = ["arm", "schedule", "epochs", "seeds", "BLiMP-f", "supplement", "EWoK", "GLUE",
              "macro", "Δ macro"]
    rows = []
    for arm in summary.sweep.spec.arms:
        cells = [_cell(list(summary.values(arm, backend, p).values())) for p in (*PARTS, "macro")]
        seeds = len(summary.values(arm, backend, "macro"))
        rows.append([arm, f"`{summary.sweep.schedule(arm)}`", f"{epochs[arm]:g}", str(seeds),
                     *cells, _delta_text(summary, arm, backend)])
    return [f"### Backend `{backend}`", "", markdown_table(header, rows), ""]


def _learning_curve_table(summary: SweepSummary) -> list[str]:
    """Each arm's fast-set average at every milestone checkpoint: where along the words seen an
    objective's advantage appears (CLM early, MLM late, in the paper's account), if it does."""
    curves = summary.sweep.spec.learning_curves
    points = learning_curves(summary)
    if curves is None or not points:
        return []
    revisions = sorted({p.revision for p in points},
                       key=lambda name: min(p.words_seen for p in points if p.revision == name))
    by_key = {(p.arm, p.revision): p for p in points}
    rows = []
    for arm in summary.sweep.spec.arms:
        row = [arm, f"`{summary.sweep.schedule(arm)}`"]
        for revision in revisions:
            point = by_key.get((arm, revision))
            row.append(MISSING if point is None else f"{100 * point.mean:.2f}" + (
                f" ± {100 * point.sd:.2f}" if point.sd is not None else ""))
        rows.append(row)
    header = ["arm", "schedule", *revisions]
    title = (f"### Learning curves (backend `{curves.backend}`, the first {curves.max_pairs} "
             "pairs of every subtask; `main` is the final model)")
    return [title, "",
            markdown_table(header, rows), ""]


def render_markdown(summary: SweepSummary) -> str:
    spec = summary.sweep.spec
    evaluation = spec.evaluation
    glue = (f"GLUE: {', '.join(evaluation.glue_tasks)} fine-tuned on at most "
            f"{evaluation.glue_max_train_examples} examples, {evaluation.glue_epochs} epochs"
            if evaluation.glue_tasks else "GLUE: not run (macro-average over the zero-shot parts)")
    pairs = f"{evaluation.max_pairs} pairs per subtask" if evaluation.max_pairs else "all pairs"
    lines = [f"## Sweep `{spec.name}`", "",
             (f"Scores in %, mean ± sd over seeds {spec.seeds}; Δ = paired difference to "
              f"`{spec.baseline}` with its 95% t-interval over seeds. Suite "
              f"{evaluation.suite}; zero-shot: {pairs}. {glue}."), ""]
    lines += _primary_section(summary)
    lines += _secondary_section(summary)
    lines += _headline(summary)
    lines += _final_dev_loss_table(summary)
    lines += _learning_curve_table(summary)
    for backend in summary.backends:
        lines += _backend_table(summary, backend)
    return "\n".join(lines)
