import numpy as np
import pytest

from antlm.data.cache import CacheCorruptError, cached_tokens, load_tokens, save_tokens
from antlm.data.tokenizer import AntlmTokenizer


def test_round_trip_and_reuse(tmp_path):
    tokens = np.arange(1000, dtype=np.uint16)
    calls = []

    def build():
        calls.append(1)
        return tokens

    first = cached_tokens(tmp_path, "k", build)
    second = cached_tokens(tmp_path, "k", build)
    assert np.array_equal(first, tokens) and np.array_equal(second, tokens)
    assert len(calls) == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "sidecar"])
def test_corrupt_cache_is_reported_with_its_path(tmp_path, damage):
    path = tmp_path / "t.bin"
    save_tokens(path, np.arange(500, dtype=np.uint16))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-10])
    elif damage == "flip":
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.with_suffix(".json").write_text("{not json")
    with pytest.raises(CacheCorruptError, match=str(path.name)) as info:
        load_tokens(path)
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
