"""A Hugging Face tokenizer under the scoring-tokenizer contract gives the ids, word indices
and frame of the antlm tokenizer it was exported from."""

from __future__ import annotations

from antlm.models.contract import ScoringTokenizer
from antlm.models.hf_tokenizer import HFTokenizer

TEXTS = ["The xylophonists hummed.", "Well, I don't know, uh, what do you think?"]


def test_exported_tokenizers_behave_as_antlm_s(exported_runs, tokenizers) -> None:
    for arch, kind in [("babyllama", "bpe"), ("ltgbert", "wordpiece")]:
        ours = tokenizers[kind]
        theirs = HFTokenizer.from_pretrained(exported_runs[arch][1])
        assert isinstance(theirs, ScoringTokenizer)
        assert theirs.encode_batch(TEXTS) == ours.encode_batch(TEXTS)
        assert theirs.encode_batch_with_words(TEXTS) == ours.encode_batch_with_words(TEXTS)
        assert theirs.frame([7, 8]) == ours.frame([7, 8])
        assert (theirs.mask_id, theirs.bos_id, theirs.eos_id, theirs.pad_id) == (
            ours.mask_id, ours.bos_id, ours.eos_id, ours.pad_id)
        assert theirs.encode_batch([]) == []
