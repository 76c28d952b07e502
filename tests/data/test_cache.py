import numpy as np
import pytest

from antlm.data.cache import (
    CacheCorruptError,
    TokenStream,
    cached_stream,
    load_array,
    save_array,
    tokenize_documents,
)
from antlm.data.tokenizer import AntlmTokenizer


def test_round_trip_and_reuse(tmp_path):
    stream = TokenStream(np.arange(1000, dtype=np.uint16), np.arange(1000, dtype=np.uint8) % 2)
    calls = []

    def build():
        calls.append(1)
        return stream

    first = cached_stream(tmp_path, "k", build)
    second = cached_stream(tmp_path, "k", build)
    for cached in (first, second):
        assert np.array_equal(cached.tokens, stream.tokens)
        assert np.array_equal(cached.words, stream.words)
    assert len(calls) == 1
    # Ids without their word counts (a crash between the two writes) are rebuilt, not reused.
    (tmp_path / "tokens" / "k.words.bin").unlink()
    cached_stream(tmp_path, "k", build)
    assert len(calls) == 2


def test_ids_and_word_counts_that_disagree_are_reported(tmp_path):
    save_array(tmp_path / "tokens" / "k.words.bin", np.zeros(5, dtype=np.uint8))
    save_array(tmp_path / "tokens" / "k.bin", np.zeros(6, dtype=np.uint16))
    with pytest.raises(CacheCorruptError, match="6 tokens but k.words.bin 5 word counts"):
        cached_stream(tmp_path, "k", lambda: None)


def test_a_token_stream_counts_every_word_of_its_documents(tmp_path):
    documents = ["the cat sat on the mat", "a dog ran", "", "🙂 x"] * 50
    tokenizer = AntlmTokenizer.train(documents, "bpe", vocab_size=200)
    stream = tokenize_documents(documents, tokenizer)
    assert stream.tokens.shape == stream.words.shape and stream.words.dtype == np.uint8
    assert int(stream.words.sum()) == sum(len(d.split()) for d in documents)
    assert int((stream.tokens == tokenizer.bos_id).sum()) == len(documents)


@pytest.mark.parametrize("damage", ["truncate", "flip", "sidecar"])
def test_corrupt_cache_is_reported_with_its_path(tmp_path, damage):
    path = tmp_path / "t.bin"
    save_array(path, np.arange(500, dtype=np.uint16))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-10])
    elif damage == "flip":
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.with_suffix(".json").write_text("{not json")
    with pytest.raises(CacheCorruptError, match=str(path.name)) as info:
        load_array(path)
    assert "delete" in str(info.value)


def test_tokenizers_reserve_the_special_ids(tmp_path):
    texts = ["the cat sat on the mat", "a dog ran"] * 100
    for kind, specials in [("bpe", "<pad> <s> </s> <unk> <mask>"),
                           ("wordpiece", "[UNK] [CLS] [SEP] [PAD] [MASK]")]:
        tokenizer = AntlmTokenizer.train(texts, kind, vocab_size=200)
        ids = [tokenizer.backend.token_to_id(t) for t in specials.split()]
        assert ids == [0, 1, 2, 3, 4] and tokenizer.n_special == 5
        tokenizer.save(tmp_path / f"{kind}.json")
        again = AntlmTokenizer.from_file(tmp_path / f"{kind}.json")
        assert again.kind == kind
        document = again.encode_document("the cat")
        assert document[0] == again.bos_id
        assert (document[-1] == again.eos_id) == (kind == "wordpiece")
        assert again.decode(again.encode("the cat sat")).strip() == "the cat sat"
