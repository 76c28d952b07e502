import pytest

from antlm.data.tokenizer import AntlmTokenizer
from tests.runs import corpus_lines

ODD_TEXTS = [
    "hello world", "don't   stop", "a dog ran über 🙂 x", "🙂🙂 🙂", "x", "",
    "\u200b \u200b word",  # zero-width spaces: BERT's normaliser drops them, BPE keeps them
    "unseen ßçæ glyphs ∮", "tab\tand\nnewline", " leading and trailing ",
]


@pytest.fixture(scope="module")
def tokenizers(data_dir):
    lines = corpus_lines(data_dir, 5000)
    return [AntlmTokenizer.train(lines, kind, vocab_size=500) for kind in ("bpe", "wordpiece")]


def test_word_starts_sum_to_the_whitespace_word_count(tokenizers, data_dir):
    texts = ODD_TEXTS + corpus_lines(data_dir, 2000)
    for tokenizer in tokenizers:
        encoded = tokenizer.encode_documents_with_words(texts)
        for text, (ids, counts) in zip(texts, encoded):
            assert ids == tokenizer.encode_document(text)
            assert len(counts) == len(ids)
            assert counts.sum() == len(text.split()), (tokenizer.kind, text)


def test_a_word_counts_on_its_first_piece(tokenizers):
    # Long words split into several pieces; the pieces that start a word are marked by the
    # tokenizers themselves: a leading "Ġ" (byte-level BPE) or no leading "##" (WordPiece).
    text = "extraordinarily unbelievable wonderfulness"
    for tokenizer in tokenizers:
        ((ids, counts),) = tokenizer.encode_documents_with_words([text])
        pieces = [tokenizer.backend.id_to_token(i) for i in ids[1:len(ids) - (
            tokenizer.kind == "wordpiece")]]
        assert len(pieces) > 3
        starts = [p.startswith("Ġ") if tokenizer.kind == "bpe" else not p.startswith("##")
                  for p in pieces]
        assert counts[0] == 0  # the framing token starts no word
        assert list(counts[1:1 + len(pieces)]) == [int(s) for s in starts]
