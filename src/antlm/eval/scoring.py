"""Zero-shot scoring backends: how much a model likes a text, as a sum of token log-probabilities.

Backends (Salazar et al. 2020 for PLL; Charpentier & Samuel 2024 for MNTP / fused):

* ``causal``: ``sum_j log p(x_j | x_<j)`` under causal attention, read at position ``j-1``;
* ``mlm``: pseudo-log-likelihood, ``sum_j log p(x_j | x_\\j)``: token ``j`` is replaced by the
  mask token, attention is bidirectional, and the prediction is read at ``j`` itself;
* ``mntp``: as ``mlm`` but read at ``j-1``, for models trained with shifted (MNTP) targets;
* ``fused``: ``causal + mntp``;
* ``mlm_word_l2r``: PLL-word-l2r (Kauf & Ivanova 2023): as ``mlm``, but the pieces of the same
  word to the right of token ``j`` are masked too. Plain PLL scores a word split into several
  subwords too high (each piece is easy to guess from the others), which biases minimal pairs
  whose two sentences split differently into subwords.

``fused`` is derived from the other two, so the model only ever runs the three *primitive*
backends, each at most once per text.

Tokenisation. A text is ``(context, target)``; only the target's tokens are scored. Context and
target are encoded separately (the target with the separator the suite's :class:`Framing` puts
in front of it, ``" "`` after a context) and concatenated, then framed as the suite says: with
the tokenizer's own special tokens (``tokenizer.frame``: ``<s> ...`` for BPE, ``[CLS] ... [SEP]``
for WordPiece; babylm2025, and babylm2024's masked backends), or bare with one prefix token
before a context-less target (babylm2024's causal backend, as lm-evaluation-harness does).
For both antlm tokenizers this gives exactly the tokens of the whole text encoded at once:
byte-level BPE and BERT pre-tokenisation both split at that space, and BPE's prefix space makes
``encode(" " + t) == encode(t)`` when there is no context. Encoding separately is what tells us
where the target starts without character offsets. A scored token read at ``j - 1`` (causal,
mntp) needs a token before it: when nothing precedes the target (a tokenizer that frames with
no prefix), its first token is not scored, as the 2025 pipeline's ``dataset.py`` does.

Speed (figures: docs/PERFORMANCE.md). Identical texts are run once. Texts are packed into
batches of about ``batch_size`` rows (one row per text for ``causal``; one row per masked copy,
all copies of a text in the same batch, for the masked backends), right-padded with a padding
mask, and only the read positions go through the output head. Two optional fast paths of the
model contract cut the FLOPs further, each with a plain fallback for a model without it:

* ``positions`` (masked backends): each masked copy is read at one position, so the model runs
  its last layer's query, output projection and feed-forward there alone;
* ``tree`` (causal): texts in lexicographic order are packed into prefix trees
  (:mod:`antlm.eval.prefix_trees`), so a prefix shared by several texts runs once.

On CPU, batches are scored side by side by one single-threaded worker per torch thread.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from antlm.config import SCORING_BACKENDS, ConfigError, RunConfig
from antlm.eval.prefix_trees import PackedTrees, pack_trees
from antlm.eval.settings import check_precision
from antlm.eval.suites import SUITES, Framing, Suite
from antlm.eval.tasks import MinimalPair, TaskDataError
from antlm.models.attention import ATTENTION_KINDS, TokenTree
from antlm.models.contract import ScoringTokenizer, has_fast_path
from antlm.progress import progress_bar
from antlm.rundir import RunDeclaration

__all__ = [
    "BACKENDS",
    "BACKEND_VIEWS",
    "EncodedTexts",
    "applicable_backends",
    "auto_backends",
    "check_fits",
    "declare_backend",
    "declared_backend",
    "encode_texts",
    "primitives_for",
    "readable",
    "resolve_backends",
    "score_pairs",
    "text_log_probs",
]

BACKENDS: tuple[str, ...] = SCORING_BACKENDS
PRIMITIVES: tuple[str, ...] = ("causal", "mlm", "mntp", "mlm_word_l2r")
# What ``--backend auto`` runs for an alternated model: every backend of the paper's family;
# mlm_word_l2r costs as much as mlm again and is asked for by name (or ``all``). mntp (and fused,
# which adds it to causal) reads the prediction one position early, so it is scored only for a
# model trained with shifted MLM targets: for ``mlm_target: same`` it scores a task never trained.
# Rows of a prefix-tree batch hold this many tokens (or the batch's longest text): room for a
# few texts, while dense attention over the row stays a few percent of a layer's cost.
TREE_WIDTH = 64
# Where the log-prob of token j is read: j - shift.
_READ_SHIFT = {"causal": 1, "mlm": 0, "mntp": 1, "mlm_word_l2r": 0}
# The attention views (antlm.models.contract) each backend runs the model under.
BACKEND_VIEWS: dict[str, frozenset[str]] = {
    "causal": frozenset({"causal"}),
    "mlm": frozenset({"bidirectional"}),
    "mntp": frozenset({"bidirectional"}),
    "mlm_word_l2r": frozenset({"bidirectional"}),
    "fused": frozenset({"causal", "bidirectional"}),
}
# The 2025 pipeline's framing: the default wherever no suite is named.
_DEFAULT_FRAMING = SUITES["babylm2025"].causal


@dataclass(frozen=True)
class EncodedTexts:
    """Framed token ids of many texts, plus the half-open span ``[start, end)`` to score.

    ``word_end[i][j]`` is the (exclusive) end of the target word that token ``j`` belongs to,
    ``j + 1`` outside the target: ``mlm_word_l2r`` masks ``[j, word_end[i][j])``."""

    ids: list[list[int]]
    start: np.ndarray  # int64 [N]
    end: np.ndarray  # int64 [N]
    lengths: np.ndarray  # int64 [N], len(ids[i])
    word_end: list[np.ndarray]  # int64 [len(ids[i])] each

    def __len__(self) -> int:
        return len(self.ids)


def _frame_prefix_len(tokenizer: ScoringTokenizer) -> int:
    # frame() only wraps its input; a sentinel id shows how many tokens it puts in front.
    return tokenizer.frame([-1]).index(-1)


def _special_id(tokenizer: ScoringTokenizer, roles: Sequence[str], purpose: str) -> int:
    """The first of the tokenizer's ``roles`` ids (e.g. bos, eos, pad) that exists."""
    for role in roles:
        value = getattr(tokenizer, f"{role}_id")
        if value is not None:
            return value
    raise ConfigError(f"{purpose} needs a {' or '.join(roles)} token; the tokenizer has none")


def encode_texts(
    tokenizer: ScoringTokenizer, contexts: Sequence[str], targets: Sequence[str],
    framing: Framing = _DEFAULT_FRAMING,
) -> EncodedTexts:
    """Tokenise ``(context, target)`` texts once under ``framing`` (see the module docstring)."""
    if len(contexts) != len(targets):
        raise ValueError(f"{len(contexts)} contexts for {len(targets)} targets")
    stand_in = ([_special_id(tokenizer, ["eos"], "an empty context under this suite")]
                if framing.empty_context == "eos" else [])
    unique_contexts = sorted({c for c in contexts if c})
    context_ids = dict(zip(unique_contexts, tokenizer.encode_batch(unique_contexts)))
    encoded_targets = tokenizer.encode_batch_with_words([
        (framing.separator if c or stand_in else framing.lead_without_context) + t
        for c, t in zip(contexts, targets)])
    bare = framing.special_tokens == "prefix_token"
    prefix = [] if not bare else [_special_id(tokenizer, ["bos", "eos", "pad"], "a prefix token")]
    frame_prefix = 0 if bare else _frame_prefix_len(tokenizer)
    ids, start, end, word_end = [], [], [], []
    for context, (target, words) in zip(contexts, encoded_targets):
        before = context_ids[context] if context else stand_in
        if not target:
            raise ValueError(f"target text of context {context!r} encodes to no tokens")
        if bare:
            before = before or prefix
            ids.append([*before, *target])
            offset = len(before)
        else:
            ids.append(tokenizer.frame([*before, *target]))
            offset = frame_prefix + len(before)
        start.append(offset)
        end.append(offset + len(target))
        ends = np.arange(1, len(ids[-1]) + 1, dtype=np.int64)
        ends[offset:offset + len(target)] = offset + _word_ends(words)
        word_end.append(ends)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    return EncodedTexts(ids, np.asarray(start, np.int64), np.asarray(end, np.int64), lengths,
                        word_end)


def _word_ends(words: Sequence[int]) -> np.ndarray:
    """For each token, the index one past the last token of its word (word ids are contiguous)."""
    ends = np.arange(1, len(words) + 1, dtype=np.int64)
    for j in range(len(words) - 2, -1, -1):
        if words[j] >= 0 and words[j + 1] == words[j]:
            ends[j] = ends[j + 1]
    return ends


def primitives_for(backends: Sequence[str]) -> list[str]:
    """The model passes the requested backends need, in a fixed order."""
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(f"unknown backend(s) {unknown}; allowed: {', '.join(BACKENDS)}")
    needed = set(backends)
    if "fused" in needed:
        needed |= {"causal", "mntp"}
    return [p for p in PRIMITIVES if p in needed]


def applicable_backends(views: Collection[str]) -> list[str]:
    """The backends a model with these attention views can run, in ``BACKENDS`` order."""
    return [b for b in BACKENDS if BACKEND_VIEWS[b] <= set(views)]


def auto_backends(config: RunConfig) -> list[str]:
    """The backends that match a run's training objectives (what ``--backend auto`` runs), as
    the run declares them (:class:`antlm.rundir.RunDeclaration`): an exploratory table, the
    headline is the declared backend alone."""
    return list(RunDeclaration.of(config).auto_backends)


def resolve_backends(
    requested: str, auto: Sequence[str], views: Collection[str] = ATTENTION_KINDS,
    missing_view_hint: str = "",
) -> list[str]:
    """The backends to run: ``auto`` (the model's own list), ``all`` (every backend its views
    allow), ``declared`` (none but the declared one, which the caller always adds), or a
    comma-separated list such as ``causal,mntp``, each needing its views."""
    if requested == "declared":
        return []
    if requested == "auto":
        backends = list(auto)
    elif requested == "all":
        return applicable_backends(views)
    else:
        backends = [b.strip() for b in requested.split(",") if b.strip()]
        if not backends or not set(backends) <= set(BACKENDS):
            raise ConfigError(
                f"--backend {requested!r}; allowed: auto, all, declared, or a comma-separated list of "
                f"{', '.join(BACKENDS)}"
            )
    lacking = [b for b in backends if not BACKEND_VIEWS[b] <= set(views)]
    if lacking:
        needed = sorted(set().union(*(BACKEND_VIEWS[b] for b in lacking)) - set(views))
        raise ConfigError(
            f"backend(s) {', '.join(lacking)} need the {' and '.join(needed)} view, and the "
            f"model offers only {', '.join(views) or 'none'}{missing_view_hint}"
        )
    return backends


def declare_backend(config: RunConfig) -> tuple[str, str]:
    """The backend of a run's headline score and why, as the run declares it before anything
    is scored (:class:`antlm.rundir.RunDeclaration`: the rule it shares with the attention of
    fine-tuning)."""
    declared = RunDeclaration.of(config)
    return declared.backend, declared.backend_reason


def declared_backend(config: RunConfig) -> str:
    """The backend of :func:`declare_backend`, without the reason."""
    return declare_backend(config)[0]


def _distinct_texts(encoded: EncodedTexts) -> np.ndarray:
    """For each text, the index of the first text with the same tokens, span and word ends:
    such texts get the same score, so only these representatives are run (EWoK repeats a
    context with several targets; a minimal pair's two texts are sometimes equal)."""
    first: dict[tuple, int] = {}
    keys = zip(encoded.ids, encoded.start, encoded.end, encoded.word_end)
    return np.fromiter(
        (first.setdefault((tuple(ids), int(s), int(e), ends[s:e].tobytes()), i)
         for i, (ids, s, e, ends) in enumerate(keys)),
        dtype=np.int64, count=len(encoded))


def _order(encoded: EncodedTexts, texts: np.ndarray, trees: bool) -> np.ndarray:
    """The order texts are batched in: by length, so that a batch pads little, or for prefix
    trees lexicographically, so that texts sharing a prefix meet in a batch."""
    if trees:
        return np.asarray(sorted(texts.tolist(), key=encoded.ids.__getitem__), np.int64)
    return texts[np.argsort(encoded.lengths[texts], kind="stable")]


def _batches(
    encoded: EncodedTexts, order: np.ndarray, primitive: str, batch_size: int
) -> Iterator[np.ndarray]:
    """Consecutive texts of ``order`` per forward pass, about ``batch_size`` rows each."""
    rows = np.ones(len(encoded), np.int64) if primitive == "causal" else encoded.end - encoded.start
    batch: list[int] = []
    filled = 0
    for index in order:
        if batch and filled + rows[index] > batch_size:
            yield np.asarray(batch)
            batch, filled = [], 0
        batch.append(int(index))
        filled += int(rows[index])
    if batch:
        yield np.asarray(batch)


def _right_padded(
    encoded: EncodedTexts, batch: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``[B, T]`` ids (pad id 0 is never read) and a padding mask, None when nothing is padded
    so that SDPA can take its fused causal path."""
    lengths = encoded.lengths[batch]
    width = int(lengths.max())
    base = np.zeros((len(batch), width), dtype=np.int64)
    for row, index in enumerate(batch):
        base[row, : lengths[row]] = encoded.ids[index]
    padding_mask = None
    if lengths.min() != width:
        padding_mask = torch.as_tensor(np.arange(width)[None, :] < lengths[:, None], device=device)
    return torch.as_tensor(base, device=device), padding_mask


def _batch_scores(
    model: nn.Module,
    encoded: EncodedTexts,
    batch: np.ndarray,
    primitive: str,
    mask_id: int,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The text index and float64 log-probability of every scored token of one batch."""
    starts, ends = encoded.start[batch], encoded.end[batch]
    if primitive == "causal" and has_fast_path(model, "tree"):
        width = max(TREE_WIDTH, int(encoded.lengths[batch].max()))
        packed = pack_trees([encoded.ids[i] for i in batch], width)
        if packed.sizes.sum() < encoded.lengths[batch].sum():  # else no prefix is shared
            return _tree_scores(model, encoded, batch, packed, device)
    base, padding_mask = _right_padded(encoded, batch, device)
    pos = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
    owner = np.repeat(np.arange(len(batch)), ends - starts)
    mask_end = (np.concatenate([encoded.word_end[i][s:e] for i, s, e in zip(batch, starts, ends)])
                if primitive == "mlm_word_l2r" else pos + 1)
    logp = _batch_log_probs(
        model, base, padding_mask, torch.as_tensor(owner, device=device),
        torch.as_tensor(pos, device=device), torch.as_tensor(mask_end, device=device),
        primitive, mask_id,
    )
    return torch.as_tensor(batch[owner]), logp.double().cpu()


def _tree_scores(
    model: nn.Module,
    encoded: EncodedTexts,
    batch: np.ndarray,
    packed: PackedTrees,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_batch_scores` for ``causal`` with the batch packed into prefix trees: each
    shared prefix runs once, and a position read by several texts goes through the output head
    once."""
    starts, ends = encoded.start[batch], encoded.end[batch]
    owner = np.repeat(np.arange(len(batch)), ends - starts)
    # Token j is read at j - 1, i.e. at node path[j - 1] of its text's row.
    node = np.concatenate([packed.path[k][s - 1 : e - 1] for k, (s, e) in
                           enumerate(zip(starts, ends))])
    targets = np.concatenate([encoded.ids[i][s:e] for i, s, e in zip(batch, starts, ends)])
    read, inverse = np.unique(packed.row[owner] * packed.ids.shape[1] + node,
                              return_inverse=True)
    tree = TokenTree(torch.as_tensor(packed.depth, device=device),
                     torch.as_tensor(packed.visible, device=device))
    hidden = model(torch.as_tensor(packed.ids, device=device), attention="causal", tree=tree)
    picked = hidden.flatten(0, 1)[torch.as_tensor(read, device=device)]
    log_probs = F.log_softmax(model.logits(picked).float(), dim=-1)
    logp = log_probs[torch.as_tensor(inverse, device=device),
                     torch.as_tensor(targets, device=device)]
    return torch.as_tensor(batch[owner]), logp.double().cpu()


@contextmanager
def _one_thread_each(workers: int) -> Iterator[ThreadPoolExecutor | None]:
    """A pool of ``workers`` threads that score batches side by side, torch ops running
    single-threaded meanwhile; None (run in the caller's thread) for one worker.

    On a few CPU cores, one batch per core beats splitting each op across cores: the ops of a
    small model are too short to amortise a parallel region, and when other processes hold a
    core, every op of an intra-op-parallel forward waits at a barrier for the descheduled
    thread (measured: 8-18x slower on 2 cores under a load of 8)."""
    if workers <= 1:
        yield None
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    pool = ThreadPoolExecutor(workers)
    try:
        yield pool
    finally:  # after an error (or Ctrl-C), drop the batches not yet started
        pool.shutdown(cancel_futures=True)
        torch.set_num_threads(before)


def _batch_log_probs(
    model: nn.Module,
    base: torch.Tensor,
    padding_mask: torch.Tensor | None,
    owner: torch.Tensor,
    pos: torch.Tensor,
    mask_end: torch.Tensor,
    primitive: str,
    mask_id: int,
) -> torch.Tensor:
    """log p(base[owner, pos]) for each scored token of a padded batch ``base`` [B, T].

    ``owner``/``pos`` list the scored tokens (text row, position). Causal runs the batch as it
    is; the masked backends run one copy of ``owner``'s row per scored token, with positions
    ``[pos, mask_end)`` masked (the token alone, or with the rest of its word).
    """
    targets = base[owner, pos]
    read = pos - _READ_SHIFT[primitive]
    if primitive == "causal":
        hidden = model(base, attention="causal", padding_mask=padding_mask)
        picked = hidden[owner, read]
    else:
        rows = base[owner]
        columns = torch.arange(base.shape[1], device=base.device)
        rows[(columns >= pos[:, None]) & (columns < mask_end[:, None])] = mask_id
        pad = None if padding_mask is None else padding_mask[owner]
        picked = _read_hidden(model, rows, pad, read)
    log_probs = F.log_softmax(model.logits(picked).float(), dim=-1)
    return log_probs.gather(1, targets[:, None]).squeeze(1)


def _read_hidden(
    model: nn.Module, rows: torch.Tensor, padding_mask: torch.Tensor | None, read: torch.Tensor
) -> torch.Tensor:
    """Bidirectional hidden state of each row at its one read position, ``[rows, hidden]``.

    A model whose ``forward`` takes ``positions`` runs its last layer on those positions only
    (for a 4-layer model about a fifth of the FLOPs of a PLL pass); any other model runs in
    full and the positions are picked afterwards."""
    if has_fast_path(model, "positions"):
        return model(rows, attention="bidirectional", padding_mask=padding_mask, positions=read)
    hidden = model(rows, attention="bidirectional", padding_mask=padding_mask)
    return hidden[torch.arange(len(read), device=read.device), read]


def text_log_probs(
    model: nn.Module,
    encoded: EncodedTexts,
    primitive: str,
    mask_id: int,
    batch_size: int = 64,
    precision: str = "fp32",
    progress: bool = False,
    desc: str = "",
) -> np.ndarray:
    """Summed log-probability of each text's target span under ``primitive`` (float64 [N])."""
    if primitive not in PRIMITIVES:
        raise ValueError(f"unknown primitive backend {primitive!r}; allowed: {PRIMITIVES}")
    check_precision(precision)
    max_len = getattr(getattr(model, "config", None), "max_seq_len", None)
    if max_len is not None and len(encoded) and int(encoded.lengths.max()) > max_len:
        longest = int(encoded.lengths.argmax())
        raise ValueError(
            f"a text is {encoded.lengths[longest]} tokens, more than model.max_seq_len={max_len}"
        )
    device = next(model.parameters()).device
    scores = torch.zeros(len(encoded), dtype=torch.float64)
    representative = _distinct_texts(encoded)
    order = _order(encoded, np.unique(representative),
                   trees=primitive == "causal" and has_fast_path(model, "tree"))
    batches = list(_batches(encoded, order, primitive, batch_size))

    def run(batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        # Grad mode and autocast are per thread: set them in the worker that runs the batch.
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
        with torch.inference_mode(), autocast:
            return _batch_scores(model, encoded, batch, primitive, mask_id, device)

    workers = min(torch.get_num_threads(), len(batches)) if device.type == "cpu" else 1
    with _one_thread_each(workers) as pool:
        results = progress_bar(pool.map(run, batches) if pool else map(run, batches),
                               total=len(batches), desc=desc or primitive,
                               disable=not progress, leave=False)
        for texts, logp in results:
            scores.index_add_(0, texts, logp)
    return scores.numpy()[representative]


def readable(encoded: EncodedTexts, primitive: str) -> EncodedTexts:
    """``encoded`` without the tokens ``primitive`` cannot score: a token read at ``j - 1`` at
    position 0 has nothing to be read from (see the module docstring)."""
    if _READ_SHIFT[primitive] == 0 or int(encoded.start.min(initial=1)) >= 1:
        return encoded
    start = np.maximum(encoded.start, 1)
    if (start >= encoded.end).any():
        raise ValueError("a one-token text with nothing before it cannot be scored "
                         f"by {primitive}: frame it with a prefix token")
    return replace(encoded, start=start)


def _check_context(model: nn.Module, encoded: EncodedTexts, pairs: Sequence[MinimalPair]) -> None:
    """Refuse, naming its file and line, an item longer than the model's context. Truncating it
    (as lm-eval does) would score the candidates on different spans, which a minimal pair
    cannot survive; every official BabyLM item fits the challenge's models."""
    max_len = getattr(getattr(model, "config", None), "max_seq_len", None)
    if max_len is None or not len(encoded) or int(encoded.lengths.max()) <= max_len:
        return
    longest = int(encoded.lengths.argmax())
    pair = pairs[longest % len(pairs)]
    side = _candidate_name(longest // len(pairs))
    where = pair.source or f"task {pair.task}, subtask {pair.subtask}"
    raise TaskDataError(
        f"{where}: the {side} text is {encoded.lengths[longest]} tokens with its context, more "
        f"than the model's context of {max_len} tokens (model.max_seq_len); shorten or remove "
        "the item, or evaluate a model with a longer context"
    )


def _candidate_name(index: int) -> str:
    """How an error names candidate ``index`` of an item: good, bad, or its 1-based number."""
    return ("good", "bad")[index] if index < 2 else f"candidate {index + 1}"


def _candidate_count(pairs: Sequence[MinimalPair]) -> int:
    """The number of candidates every item of ``pairs`` has (2 for minimal pairs); items
    scored together are ranked among as many candidates each, as the pipelines batch them."""
    counts = {len(p.candidates) for p in pairs}
    if len(counts) > 1:
        raise ValueError(f"items with {sorted(counts)} candidates scored together")
    return counts.pop() if counts else 2


def _pooled_texts(pairs: Sequence[MinimalPair]) -> tuple[int, int, list[str], list[str]]:
    """Items, candidates per item, and every candidate's context and text, candidate by
    candidate (see :func:`score_pairs`)."""
    n, k = len(pairs), _candidate_count(pairs)
    return (n, k, [p.contexts[c] for c in range(k) for p in pairs],
            [p.candidates[c] for c in range(k) for p in pairs])


def check_fits(model: nn.Module, tokenizer: ScoringTokenizer, pairs: Sequence[MinimalPair],
               backends: Sequence[str], suite: Suite = SUITES["babylm2025"]) -> None:
    """Refuse, before any scoring, a task with an item longer than the model's context (the
    :class:`TaskDataError` that :func:`score_pairs` would raise on reaching it)."""
    _, _, contexts, targets = _pooled_texts(pairs)
    for framing in dict.fromkeys(suite.framing_for(p) for p in primitives_for(backends)):
        _check_context(model, encode_texts(tokenizer, contexts, targets, framing), pairs)


def score_pairs(
    model: nn.Module,
    tokenizer: ScoringTokenizer,
    pairs: Sequence[MinimalPair],
    backends: Sequence[str],
    batch_size: int = 64,
    precision: str = "fp32",
    progress: bool = False,
    desc: str = "",
    suite: Suite = SUITES["babylm2025"],
) -> dict[str, np.ndarray]:
    """Per backend, a float64 ``[N, k]`` array of every item's candidate scores under
    ``suite``'s framing and reduction: ``[N, 2]`` (good, bad) for minimal pairs, one column
    per option of a multiple-choice item (``suite.correct`` turns them into hits).

    Every candidate of every item is one text of one pool (candidate by candidate: all good
    texts, then all bad ones, ...), so equal lengths batch together across items and a
    multiple-choice item is scored by exactly the code that scores a minimal pair.
    """
    n, k, contexts, targets = _pooled_texts(pairs)
    encodings: dict[Framing, EncodedTexts] = {}
    primitive_scores = {}
    for p in primitives_for(backends):
        framing = suite.framing_for(p)
        if framing not in encodings:
            encodings[framing] = encode_texts(tokenizer, contexts, targets, framing)
            _check_context(model, encodings[framing], pairs)
        encoded = readable(encodings[framing], p)
        summed = text_log_probs(
            model, encoded, p, tokenizer.mask_id, batch_size, precision, progress,
            desc=f"{desc} {p}".strip(),
        )
        mean = framing.reduction == "mean"
        primitive_scores[p] = summed / (encoded.end - encoded.start) if mean else summed
    if "fused" in backends:
        primitive_scores["fused"] = primitive_scores["causal"] + primitive_scores["mntp"]
    return {b: primitive_scores[b].reshape(k, n).T.copy() for b in backends}
