"""Scoring backends against independent references: Hugging Face Llama for causal scores, and
plain one-text-one-mask-at-a-time loops for the masked backends (the batched code pads, packs
copies of several texts together and reads only scored positions; the references do none of
that)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM

from antlm.config import ConfigError, RunConfig
from antlm.data.tokenizer import AntlmTokenizer
from antlm.eval.scoring import (
    BACKENDS,
    EncodedTexts,
    applicable_backends,
    auto_backends,
    declare_backend,
    declared_backend,
    encode_texts,
    resolve_backends,
    score_pairs,
    text_log_probs,
)
from antlm.eval.suites import SUITES
from antlm.eval.tasks import MinimalPair, load_task
from antlm.models.babyllama import BabyLlama
from antlm.models.contract import has_fast_path
from antlm.models.ltgbert import LtgBert

FIRST_MAXIMUM = [SUITES["babylm2025"], SUITES["babylm2024"]]


@pytest.fixture(scope="module")
def sample_pairs(data_dir: Path) -> list[MinimalPair]:
    """BLiMP pairs (no context) of varied lengths, EWoK pairs (context), a supplement dialogue."""
    blimp = load_task("blimp_filtered", data_dir, max_pairs_per_subtask=1)[::12]
    ewok = load_task("ewok", data_dir, max_pairs_per_subtask=1)[::3]
    turns = load_task("blimp_supplement", data_dir, max_pairs_per_subtask=1)[-1:]
    return blimp + ewok + turns


@pytest.fixture(scope="module")
def encoded(bpe_tokenizer: AntlmTokenizer, sample_pairs: list[MinimalPair]) -> EncodedTexts:
    return encode_texts(
        bpe_tokenizer,
        [p.context for p in sample_pairs] * 2,
        [p.good for p in sample_pairs] + [p.bad for p in sample_pairs],
    )


def test_encoding_equals_whole_text_encoding(
    data_dir: Path, bpe_tokenizer: AntlmTokenizer, wordpiece_tokenizer: AntlmTokenizer
) -> None:
    pairs = load_task("ewok", data_dir)[:300] + load_task("blimp_supplement", data_dir)[-50:]
    for tok in (bpe_tokenizer, wordpiece_tokenizer):
        enc = encode_texts(tok, [p.context for p in pairs], [p.good for p in pairs])
        for pair, ids, start, end in zip(pairs, enc.ids, enc.start, enc.end):
            whole = f"{pair.context} {pair.good}" if pair.context else pair.good
            assert ids == tok.encode_document(whole)
            assert ids[start:end] == tok.encode(" " + pair.good)
            assert start >= 1 and not set(ids[start:end]) & tok.special_ids


def _hf_llama(model: BabyLlama) -> LlamaForCausalLM:
    c = model.config
    config = LlamaConfig(
        vocab_size=c.vocab_size, hidden_size=c.hidden_size, intermediate_size=c.ffn_size,
        num_hidden_layers=c.num_layers, num_attention_heads=c.num_heads,
        num_key_value_heads=c.num_heads, max_position_embeddings=c.max_seq_len,
        rms_norm_eps=c.norm_eps,
        rope_parameters={"rope_type": "default", "rope_theta": c.rope_theta},
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
    )
    hf = LlamaForCausalLM(config)
    state = {
        (k if k.startswith("lm_head.") else f"model.{k}"): v for k, v in model.state_dict().items()
    }
    missing, unexpected = hf.load_state_dict(state, strict=False)
    assert not unexpected and all("rotary" in k for k in missing), (missing, unexpected)
    return hf.eval()


def test_causal_matches_hugging_face_llama(small_llama: BabyLlama, encoded: EncodedTexts) -> None:
    hf = _hf_llama(small_llama)
    expected = []
    with torch.no_grad():
        for ids, start, end in zip(encoded.ids, encoded.start, encoded.end):
            logits = hf(torch.tensor([ids])).logits[0]
            logp = F.log_softmax(logits.float(), dim=-1)
            expected.append(sum(float(logp[j - 1, ids[j]]) for j in range(start, end)))
    got = text_log_probs(small_llama, encoded, "causal", mask_id=4, batch_size=7)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def _whole_text_word_ids(tokenizer: AntlmTokenizer, pairs: list[MinimalPair]) -> list[list[int]]:
    """Word index per framed token, from encoding each whole text at once. ``frame`` only
    aligns the positions: the values it adds sit outside every scored span."""
    words = []
    for pair, target in [(p, p.good) for p in pairs] + [(p, p.bad) for p in pairs]:
        text = f"{pair.context} {target}" if pair.context else target
        words.append(tokenizer.frame(tokenizer.backend.encode(text).word_ids))
    return words


def _masked_reference(
    model: nn.Module, encoded: EncodedTexts, mask_id: int, shift: int,
    word_ids: list[list[int]] | None = None,
) -> list[float]:
    """One text, one scored token at a time; with ``word_ids``, the later pieces of the scored
    token's word are masked too (PLL-word-l2r)."""
    scores = []
    with torch.no_grad():
        for i, (ids, start, end) in enumerate(zip(encoded.ids, encoded.start, encoded.end)):
            total = 0.0
            for j in range(start, end):
                masked = list(ids)
                masked[j] = mask_id
                k = j + 1
                while word_ids is not None and k < end and word_ids[i][k] == word_ids[i][j]:
                    masked[k] = mask_id
                    k += 1
                hidden = model(torch.tensor([masked]), attention="bidirectional")
                logp = F.log_softmax(model.logits(hidden[0, j - shift]), dim=-1)
                total += float(logp[ids[j]])
            scores.append(total)
    return scores


@pytest.mark.parametrize(("backend", "shift"), [("mlm", 0), ("mntp", 1)])
def test_masked_backends_match_one_at_a_time_reference(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, encoded: EncodedTexts,
    backend: str, shift: int,
) -> None:
    expected = _masked_reference(small_llama, encoded, bpe_tokenizer.mask_id, shift)
    got = text_log_probs(small_llama, encoded, backend, bpe_tokenizer.mask_id, batch_size=50)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_word_l2r_matches_reference_and_differs_from_pll_on_split_words(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, sample_pairs: list[MinimalPair],
    encoded: EncodedTexts,
) -> None:
    word_ids = _whole_text_word_ids(bpe_tokenizer, sample_pairs)
    split = [i for i, (ws, s, e) in enumerate(zip(word_ids, encoded.start, encoded.end))
             if len(set(ws[s:e])) < e - s]
    assert split, "the sample needs texts with a word split into several pieces"
    expected = _masked_reference(small_llama, encoded, bpe_tokenizer.mask_id, 0, word_ids)
    got = text_log_probs(small_llama, encoded, "mlm_word_l2r", bpe_tokenizer.mask_id,
                         batch_size=50)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    pll = text_log_probs(small_llama, encoded, "mlm", bpe_tokenizer.mask_id, batch_size=50)
    whole = [i for i in range(len(encoded)) if i not in split]
    np.testing.assert_allclose(got[whole], pll[whole], rtol=0, atol=1e-4)
    assert np.abs(got[split] - pll[split]).min() > 1e-3


def test_ltgbert_pll_matches_one_at_a_time_reference(
    small_ltgbert: LtgBert, wordpiece_tokenizer: AntlmTokenizer,
    sample_pairs: list[MinimalPair],
) -> None:
    """LTG-BERT reads its PLL positions through its own last-layer fast path."""
    encoded = encode_texts(
        wordpiece_tokenizer, [p.context for p in sample_pairs] * 2,
        [p.good for p in sample_pairs] + [p.bad for p in sample_pairs],
    )
    mask_id = wordpiece_tokenizer.mask_id
    expected = _masked_reference(small_ltgbert, encoded, mask_id, 0)
    got = text_log_probs(small_ltgbert, encoded, "mlm", mask_id, batch_size=50)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


class _PlainContract(nn.Module):
    """A model offering only the plain contract (no ``positions``), counting the rows it runs."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.config, self.rows = inner, inner.config, 0

    def forward(self, input_ids: torch.Tensor, attention: str = "causal",
                padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        self.rows += len(input_ids)
        return self.inner(input_ids, attention=attention, padding_mask=padding_mask)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.inner.logits(hidden)


@pytest.mark.parametrize("backend", ["mlm", "mntp", "mlm_word_l2r"])
def test_a_model_without_read_positions_scores_the_same(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, encoded: EncodedTexts, backend: str
) -> None:
    plain = text_log_probs(_PlainContract(small_llama), encoded, backend,
                           bpe_tokenizer.mask_id, batch_size=50)
    fast = text_log_probs(small_llama, encoded, backend, bpe_tokenizer.mask_id, batch_size=50)
    np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-5)


@pytest.mark.parametrize("backend", ["causal", "mlm"])
def test_a_compiled_model_keeps_its_fast_paths_and_scores_as_eager(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, encoded: EncodedTexts, backend: str
) -> None:
    # torch.compile's wrapper shows forward(*args, **kwargs): fast paths found by signature
    # were lost (a speed bug); declared on the class, they survive. "eager": dynamo's tracing
    # without inductor's compile time.
    compiled = torch.compile(small_llama, backend="eager")
    assert has_fast_path(compiled, "positions") and has_fast_path(compiled, "tree")
    assert not has_fast_path(_PlainContract(small_llama), "positions")
    eager = text_log_probs(small_llama, encoded, backend, bpe_tokenizer.mask_id, batch_size=50)
    fast = text_log_probs(compiled, encoded, backend, bpe_tokenizer.mask_id, batch_size=50)
    np.testing.assert_allclose(fast, eager, rtol=0, atol=1e-5)


@pytest.mark.parametrize("backend", ["causal", "mlm"])
def test_identical_texts_run_once_and_share_their_score(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, backend: str
) -> None:
    contexts = ["", "", "A context.", "A context.", "", "A context."]
    targets = ["The cat sat.", "The cat sat.", "It rained.", "It rained.", "The dog sat.",
               "The cat sat."]
    encoded = encode_texts(bpe_tokenizer, contexts, targets)
    model = _PlainContract(small_llama)
    got = text_log_probs(model, encoded, backend, bpe_tokenizer.mask_id)
    distinct = [0, 2, 4, 5]
    expected = [text_log_probs(small_llama, encode_texts(bpe_tokenizer, [contexts[i]],
                                                         [targets[i]]),
                               backend, bpe_tokenizer.mask_id)[0] for i in distinct]
    np.testing.assert_allclose(got[distinct], expected, rtol=0, atol=1e-5)
    assert got[1] == got[0] and got[3] == got[2]
    spans = encoded.end - encoded.start
    assert model.rows == (len(distinct) if backend == "causal" else spans[distinct].sum())


def test_prefix_trees_score_as_one_text_per_row(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, encoded: EncodedTexts
) -> None:
    """EWoK's texts share their context: BabyLlama runs them as token trees, each shared
    prefix once, and scores them as the plain path does."""
    tokens = []
    hook = small_llama.register_forward_hook(
        lambda module, args, output: tokens.append(args[0].numel()))
    try:
        trees = text_log_probs(small_llama, encoded, "causal", bpe_tokenizer.mask_id,
                               batch_size=16)
    finally:
        hook.remove()
    assert sum(tokens) < encoded.lengths.sum()
    plain = text_log_probs(_PlainContract(small_llama), encoded, "causal",
                           bpe_tokenizer.mask_id, batch_size=16)
    np.testing.assert_allclose(trees, plain, rtol=0, atol=1e-5)


def test_worker_threads_give_the_scores_of_one_thread(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, encoded: EncodedTexts
) -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = text_log_probs(small_llama, encoded, "mlm", bpe_tokenizer.mask_id, batch_size=16)
        torch.set_num_threads(2)
        two = text_log_probs(small_llama, encoded, "mlm", bpe_tokenizer.mask_id, batch_size=16)
        assert torch.get_num_threads() == 2  # the workers' single thread is given back
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-5)


def test_word_ends_span_the_pieces_of_a_word(
    bpe_tokenizer: AntlmTokenizer, wordpiece_tokenizer: AntlmTokenizer
) -> None:
    for tok in (bpe_tokenizer, wordpiece_tokenizer):
        enc = encode_texts(tok, ["A context."], ["The xylophonists hummed."])
        ids, start, end, word_end = enc.ids[0], enc.start[0], enc.end[0], enc.word_end[0]
        first = int(start) + 1  # the token after "The": the first piece of "xylophonists"
        pieces = ids[first:word_end[first]]
        assert len(pieces) > 1
        assert tok.decode(pieces).replace("##", "").replace(" ", "") == "xylophonists"
        assert all(word_end[j] == word_end[first] for j in range(first, word_end[first]))
        assert word_end[int(start)] == start + 1 and word_end[end - 1] == end
        assert all(word_end[j] == j + 1 for j in range(start))


def test_score_pairs_layout_and_fused(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, sample_pairs: list[MinimalPair],
    encoded: EncodedTexts,
) -> None:
    scores = score_pairs(small_llama, bpe_tokenizer, sample_pairs, list(BACKENDS), batch_size=32)
    n = len(sample_pairs)
    causal = text_log_probs(small_llama, encoded, "causal", bpe_tokenizer.mask_id)
    assert scores["causal"].shape == (n, 2)
    np.testing.assert_allclose(scores["causal"][:, 0], causal[:n], atol=1e-6)
    np.testing.assert_allclose(scores["causal"][:, 1], causal[n:], atol=1e-6)
    np.testing.assert_allclose(scores["fused"], scores["causal"] + scores["mntp"], atol=1e-9)


def test_bf16_scores_stay_close(small_llama: BabyLlama, encoded: EncodedTexts) -> None:
    fp32 = text_log_probs(small_llama, encoded, "causal", mask_id=4)
    bf16 = text_log_probs(small_llama, encoded, "causal", mask_id=4, precision="bf16")
    assert np.abs(bf16 - fp32).max() < 0.05 * np.abs(fp32).max()


def test_texts_longer_than_the_model_are_refused(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer
) -> None:
    long = encode_texts(bpe_tokenizer, [""], ["word " * 200])
    with pytest.raises(ValueError, match="max_seq_len=128"):
        text_log_probs(small_llama, long, "causal", bpe_tokenizer.mask_id)


def _config(schedule: str, target: str = "same") -> RunConfig:
    return RunConfig.model_validate(
        {"train": {"schedule": schedule}, "objective": {"mlm_target": target}}
    )


@pytest.mark.parametrize(
    ("schedule", "target", "expected"),
    [
        ("4_CLM", "same", ["causal"]),
        ("2_MLM+2_MLM", "same", ["mlm"]),
        ("4_MLM", "shifted", ["mntp"]),
        # mntp (and fused, which holds it) reads MLM targets that only shifted training made
        ("4_CLM+16_MLM+4_CLM", "same", ["causal", "mlm"]),
        ("4_CLM+16_MLM+4_CLM", "shifted", ["causal", "mlm", "mntp", "fused"]),
        ("24_MIX(clm=1,mlm=15)", "shifted", ["causal", "mlm", "mntp", "fused"]),
        ("2_CLM+2_MIX(clm=1,mlm=0)", "same", ["causal"]),
    ],
)
def test_auto_backends_follow_the_schedule(schedule: str, target: str, expected: list[str]) -> None:
    assert auto_backends(_config(schedule, target)) == expected


def test_explicit_backends_and_views() -> None:
    auto = ["causal"]
    assert resolve_backends("auto", auto) == ["causal"]
    assert resolve_backends("all", auto) == list(BACKENDS)
    assert "mlm_word_l2r" in BACKENDS
    assert resolve_backends("mntp,causal", auto) == ["mntp", "causal"]
    with pytest.raises(ValueError, match="allowed"):
        resolve_backends("pll", auto)
    # A causal LM offers the causal view only: all = causal; a masked backend is refused,
    # naming the view it lacks.
    assert resolve_backends("all", auto, ["causal"]) == ["causal"]
    assert applicable_backends(["bidirectional"]) == ["mlm", "mntp", "mlm_word_l2r"]
    with pytest.raises(ConfigError, match="need the bidirectional view.*offers only causal"):
        resolve_backends("causal,fused", auto, ["causal"])


@pytest.mark.parametrize(
    ("schedule", "target", "declared", "expected"),
    [("2_CLM+2_MLM+1_CLM", "same", None, "causal"),
     ("1_CLM+3_MLM", "same", None, "mlm"),
     ("1_CLM+3_MLM", "shifted", None, "mntp"),
     ("2_MIX(clm=1,mlm=15)", "same", None, "mlm"),
     ("2_MIX(clm=3,mlm=1)", "same", None, "causal"),
     ("1_CLM+3_MLM", "same", "causal", "causal")],
)
def test_declared_backend_follows_the_final_objective_unless_set(
    schedule: str, target: str, declared: str | None, expected: str
) -> None:
    config = RunConfig.model_validate({
        "train": {"schedule": schedule}, "objective": {"mlm_target": target},
        "eval": {"backend": declared}})
    assert declared_backend(config) == expected
    reason = declare_backend(config)[1]
    assert ("eval.backend" in reason) == (declared is not None)
    assert declared is not None or schedule in reason


def _frames(tokenizer: AntlmTokenizer, pairs: list[MinimalPair], framing) -> EncodedTexts:
    return encode_texts(tokenizer, [p.context for p in pairs], [p.good for p in pairs], framing)


def test_babylm2024_frames_as_lm_eval_and_minicons_do(
    bpe_tokenizer: AntlmTokenizer, wordpiece_tokenizer: AntlmTokenizer
) -> None:
    """Causal: the prefix token before a context-less sentence, a context bare; masked: the EOS
    token stands in for a missing context and two spaces precede the target."""
    pairs = [MinimalPair("t", "s", "The cats sleep.", "x"),
             MinimalPair("t", "s", "They left.", "x", context="A dog barked.")]
    suite = SUITES["babylm2024"]
    for tok in (bpe_tokenizer, wordpiece_tokenizer):
        causal = _frames(tok, pairs, suite.causal)
        assert causal.ids[0] == [tok.bos_id, *tok.encode(" The cats sleep.")]
        assert causal.ids[1] == [*tok.encode("A dog barked."), *tok.encode(" They left.")]
        assert list(causal.start) == [1, len(tok.encode("A dog barked."))]
        masked = _frames(tok, pairs, suite.masked)
        assert masked.ids[0] == tok.frame([tok.eos_id, *tok.encode("  The cats sleep.")])
        assert masked.ids[0][masked.start[0]:masked.end[0]] == tok.encode("  The cats sleep.")
    # Byte-level BPE turns the extra space into a token of its own (scored, as in minicons).
    assert len(bpe_tokenizer.encode("  The")) == len(bpe_tokenizer.encode(" The")) + 1


def test_suites_reduce_and_break_ties_as_their_pipelines(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer, sample_pairs: list[MinimalPair]
) -> None:
    suite = SUITES["babylm2024"]
    mean = score_pairs(small_llama, bpe_tokenizer, sample_pairs, ["mlm"], suite=suite)["mlm"]
    masked = _frames(bpe_tokenizer, sample_pairs, suite.masked)
    summed = text_log_probs(small_llama, masked, "mlm", bpe_tokenizer.mask_id)
    np.testing.assert_allclose(mean[:, 0], summed / (masked.end - masked.start), atol=1e-9)
    tie = np.array([[-3.0, -3.0], [-2.0, -1.0], [-1.0, -2.0]])
    for suite in FIRST_MAXIMUM:  # these rank with an argmax that keeps the first maximum
        assert suite.correct(tie).tolist() == [True, False, True]


def test_a_target_with_nothing_before_it_loses_its_first_token_causally(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer
) -> None:
    """A tokenizer that frames with no prefix (GPT-2's): token 0 cannot be read causally, so
    causal and mntp score from token 1, as the 2025 pipeline does; mlm scores every token."""

    class Unframed:
        def __init__(self, inner: AntlmTokenizer) -> None:
            self.inner, self.mask_id = inner, inner.mask_id
            self.bos_id = self.eos_id = self.pad_id = None
            self.encode_batch = inner.encode_batch
            self.encode_batch_with_words = inner.encode_batch_with_words

        def frame(self, ids):
            return list(ids)

    pair = [MinimalPair("t", "s", "The cats sleep soundly.", "Cats the sleep soundly.")]
    scores = score_pairs(small_llama, Unframed(bpe_tokenizer), pair, ["causal", "mlm"])
    ids = bpe_tokenizer.encode("The cats sleep soundly.")
    with torch.no_grad():
        logp = F.log_softmax(small_llama.logits(small_llama(torch.tensor([ids]))[0]), -1)
    expected = sum(float(logp[j - 1, ids[j]]) for j in range(1, len(ids)))
    assert scores["causal"][0, 0] == pytest.approx(expected, abs=1e-4)
    unframed = encode_texts(Unframed(bpe_tokenizer), [""], ["The cats sleep soundly."])
    assert unframed.start[0] == 0
    full = text_log_probs(small_llama, unframed, "mlm", bpe_tokenizer.mask_id)
    # Batched against alone: the same sums in another order, fp32 rounding apart.
    assert scores["mlm"][0, 0] == pytest.approx(full[0], abs=1e-4)


def _entity_tracking_reference(
    model: nn.Module, tokenizer: AntlmTokenizer, prefix: str, options: list[str], backend: str,
) -> list[float]:
    """The 2025 pipeline's way, one option at a time, from the raw record: the whole text
    ``prefix + option`` framed by the tokenizer, the scored tokens those whose character span
    ends past the prefix, causal read at ``j - 1`` or PLL (``mlm``: one unpadded copy of the
    text per scored token ``j``, with ``j`` masked and read at ``j``)."""
    scores = []
    with torch.no_grad():
        for option in options:
            encoding = tokenizer.backend.encode(prefix + option, add_special_tokens=False)
            ids = tokenizer.frame(encoding.ids)
            lead = next(i for i in range(len(ids)) if ids[i:i + len(encoding.ids)] == encoding.ids)
            scored = [lead + j for j, (_, end) in enumerate(encoding.offsets) if end > len(prefix)]
            if backend == "causal":
                logp = F.log_softmax(model.logits(model(torch.tensor([ids]))[0]), dim=-1)
                scores.append(sum(float(logp[j - 1, ids[j]]) for j in scored))
                continue
            copies = torch.tensor([ids] * len(scored))  # copy i masks token scored[i]
            copies[torch.arange(len(scored)), scored] = tokenizer.mask_id
            hidden = model(copies, attention="bidirectional")[torch.arange(len(scored)), scored]
            logp = F.log_softmax(model.logits(hidden), dim=-1)
            scores.append(sum(float(logp[i, ids[j]]) for i, j in enumerate(scored)))
    return scores


@pytest.mark.parametrize(("arch", "backend"), [("babyllama", "causal"), ("babyllama", "mlm"),
                                               ("ltgbert", "mlm")])
def test_entity_tracking_matches_one_option_at_a_time(
    data_dir: Path, arch: str, backend: str, bpe_tokenizer: AntlmTokenizer,
    wordpiece_tokenizer: AntlmTokenizer, request: pytest.FixtureRequest,
) -> None:
    """Real items of the three files (numops 0 and 3): every option's score and the option
    chosen equal those of a loop over the raw records that knows nothing of antlm's split of
    each text into context and target."""
    tokenizer = bpe_tokenizer if arch == "babyllama" else wordpiece_tokenizer
    model = request.getfixturevalue("long_llama" if arch == "babyllama" else "long_ltgbert")
    items = load_task("entity_tracking", data_dir, max_pairs_per_subtask=1)[::3]
    assert {p.subtask for p in items} == {f"{f}_{n}_ops" for f in
                                          ("ambiref", "move_contents", "regular") for n in (0, 3)}
    got = score_pairs(model, tokenizer, items, [backend], batch_size=40)[backend]
    expected = []
    for item in items:
        path, _, line = item.source.rpartition(", line ")
        record = json.loads(Path(path).read_text().splitlines()[int(line) - 1])
        assert record["options"] == list(item.candidates)
        expected.append(_entity_tracking_reference(model, tokenizer, record["input_prefix"],
                                                   record["options"], backend))
    expected = np.array(expected)
    assert got.shape == (len(items), 5)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    runner_up = np.sort(expected, axis=1)[:, -2]
    assert (expected.max(axis=1) - runner_up > 1e-3).all()  # no near-tie hides a wrong choice
    suite = SUITES["babylm2025"]
    assert suite.chosen(got).tolist() == expected.argmax(axis=1).tolist()
    assert suite.correct(got).tolist() == (expected.argmax(axis=1) == 0).tolist()


def test_multiple_choice_ties_go_to_the_first_maximum() -> None:
    """The 2024 and 2025 pipelines pick with an argmax that keeps the first maximum: a tie
    with the right option (candidate 0) counts as correct, a tie among wrong ones picks the
    earliest (babylm2026 draws ties at random: tests/eval/test_suites.py)."""
    scores = np.array([[-2.0, -3.0, -4.0, -2.0, -5.0],   # tie 0 and 3: 0 chosen, correct
                       [-9.0, -3.0, -1.0, -8.0, -1.0],   # tie 2 and 4: 2 chosen, wrong
                       [-1.0, -1.0, -1.0, -1.0, -1.0],   # all equal: 0 chosen, correct
                       [-4.0, -3.0, -5.0, -6.0, -7.0]])  # 1 wins
    for suite in FIRST_MAXIMUM:
        assert suite.chosen(scores).tolist() == [0, 2, 0, 1]
        assert suite.correct(scores).tolist() == [True, False, True, False]


def test_a_comps_item_scores_its_shared_ending_after_each_beginning(
    small_llama: BabyLlama, bpe_tokenizer: AntlmTokenizer
) -> None:
    """COMPS: the bad candidate has its own context. Its scores equal those of the same
    ending scored after each prefix as an ordinary single-context item."""
    comps = [MinimalPair("comps", "base", "can fly.", "can fly.", context="A robin",
                         bad_context="A wooden table"),
             MinimalPair("comps", "base", "has a tail.", "has a tail.", context="A dog",
                         bad_context="A rock")]
    backends = ["causal", "mlm"]
    got = score_pairs(small_llama, bpe_tokenizer, comps, backends)
    good = score_pairs(small_llama, bpe_tokenizer, [
        MinimalPair("x", "x", p.good, "unrelated words", context=p.context) for p in comps],
        backends)
    bad = score_pairs(small_llama, bpe_tokenizer, [
        MinimalPair("x", "x", p.bad, "unrelated words", context=p.bad_context) for p in comps],
        backends)
    for backend in backends:
        np.testing.assert_allclose(got[backend][:, 0], good[backend][:, 0], atol=1e-9)
        np.testing.assert_allclose(got[backend][:, 1], bad[backend][:, 0], atol=1e-9)
        assert not np.allclose(got[backend][:, 0], got[backend][:, 1])
