import pytest

from antlm.config import ConfigError, load_config, parse_overrides, resolve_data_dir
from antlm.errors import AntlmError
from tests.cli import assert_refused
from tests.conftest import CONFIGS


def write(tmp_path, text, name="run.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_inherit_then_override(tmp_path):
    base = write(tmp_path, "model:\n  hidden_size: 64\n  num_heads: 2\n", "base.yaml")
    run = write(tmp_path, f"inherit: [{base.name}]\nmodel:\n  num_layers: 3\n")
    config = load_config(run, ["model.num_layers=5", "train.schedule=2_CLM+2_MLM"])
    assert (config.model.hidden_size, config.model.num_layers) == (64, 5)
    assert config.train.schedule == "2_CLM+2_MLM"


def test_all_shipped_configs_validate():
    paths = sorted((CONFIGS / "runs").glob("*.yaml")) + sorted((CONFIGS / "models").glob("*.yaml"))
    assert paths
    for path in paths:
        load_config(path)


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("objective.masking=word", ["objective.masking", "'word'", "token", "span"]),
        ("train.optimizer=sgd", ["train.optimizer", "'sgd'", "adamw", "lamb"]),
        ("train.lr=-1", ["train.lr", "-1", "greater than 0"]),
        ("train.lerning_rate=1", ["train.lerning_rate", "unknown key"]),
        ("train.schedule=4_CLN", ["train.schedule", "an objective"]),
        ("model.num_heads=7", ["divisible", "model.num_heads=7"]),
        ("model.vocab_size=100", ["model.vocab_size=100", "tokenizer.vocab_size"]),
        ("train.max_words_seen=100X", ["train.max_words_seen", "'100X'", "100M, 1.5M"]),
        ("train.max_words_seen=1.0000005M", ["train.max_words_seen", "whole"]),
        ("train.epochs=budget", ["train.epochs = 'budget'", "needs train.max_words_seen"]),
        ("train.epochs=-2", ["train.epochs", "positive number of epochs"]),
        ("train.epochs=many", ["train.epochs", "'many'", "budget"]),
        ("train.checkpoint_words=1M..10M", ["train.checkpoint_words", "neither a size",
                                            "1M..10M step 1M"]),
    ],
)
def test_bad_values_name_key_value_and_allowed(override, fragments):
    with pytest.raises(ConfigError) as info:
        load_config(CONFIGS / "runs" / "demo.yaml", [override])
    for fragment in fragments:
        assert fragment in str(info.value)


def test_word_counts_read_as_written(tmp_path):
    run = write(tmp_path, "train:\n  max_words_seen: 10_000_000\n  epochs: 10\n"
                          "  checkpoint_words: [500K, 1M]\n")
    train = load_config(run).train
    assert (train.max_words_seen, train.epochs, train.milestones) == (
        10_000_000, 10.0, [500_000, 1_000_000])
    assert load_config(run, ["train.max_words_seen=1.5M"]).train.max_words_seen == 1_500_000
    assert load_config(None).train.milestones[:2] == [1_000_000, 2_000_000]  # the challenge's
    assert load_config(run, ["train.checkpoint_words=null"]).train.milestones == []


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "model: [unclosed\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["train.lr"])


def test_a_key_written_twice_names_both_lines(tmp_path, capsys):
    run = write(tmp_path, "train:\n  lr: 0.001\n  seed: 3\n  lr: 0.01\n")
    message = f"{run}: key 'lr' appears twice (lines 2 and 4); keep one"
    with pytest.raises(AntlmError) as info:
        load_config(run)
    assert str(info.value) == message
    assert message in assert_refused(capsys, "train", run, "--out", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_set_value_is_read_like_a_file():
    with pytest.raises(AntlmError, match=r"--set train.x: key 'a' appears twice \(lines 1 and 1\)"):
        parse_overrides(["train.x={a: 1, a: 2}"])
    with pytest.raises(ConfigError, match=r"--set 'train.x=\[1': the value is not valid YAML"):
        parse_overrides(["train.x=[1"])


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTLM_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./data fallback here (a checkout after make setup has one)
    with pytest.raises(ConfigError, match="ANTLM_DATA_DIR"):
        resolve_data_dir(None)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_data_dir(tmp_path / "missing")
    monkeypatch.setenv("ANTLM_DATA_DIR", str(tmp_path))
    assert resolve_data_dir(None) == tmp_path


def test_babyllama_58m_preset_is_the_students_llama_config():
    """The BabyLlama-58M student (timinar/BabyLlama, distill-ensemble-pretraining-baby-llama.py)
    is a transformers LlamaConfig with 16 x 512, 8 heads, FFN 1024 and the library's defaults
    for the rest; the preset's export must agree on every field that shapes the computation."""
    from transformers import LlamaConfig

    from antlm.data.tokenizer import AntlmTokenizer
    from antlm.export.hf import llama_config

    config = load_config(CONFIGS / "runs" / "babyllama-antlm.yaml")
    tokenizer = AntlmTokenizer.train(["a b c"] * 10, "bpe", vocab_size=300)
    ours = llama_config(config.model, tokenizer)
    student = LlamaConfig(vocab_size=16000, hidden_size=512, num_hidden_layers=16,
                          intermediate_size=1024, num_attention_heads=8)
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size",
                "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act",
                "rms_norm_eps", "tie_word_embeddings", "attention_bias", "mlp_bias"):
        assert getattr(ours, key) == getattr(student, key), key
    assert ours.rope_parameters["rope_theta"] == student.rope_parameters["rope_theta"]
    train = config.train
    assert (train.lr, train.batch_size, train.warmup, train.min_lr_ratio) == (2.5e-4, 32, 200, 0.0)
    assert (tuple(train.betas), train.eps, train.weight_decay) == ((0.9, 0.999), 1e-8, 0.1)


def test_dev_every_defaults_for_configs_written_without_it_and_is_validated(tmp_path):
    from pathlib import Path

    from antlm.config import TrainConfig

    committed = sorted(Path(__file__).parent.parent.glob("studies/*/*/seed*/config.yaml"))
    written = [path for path in committed if "dev_every" not in path.read_text()]
    assert written, "the committed study configs written before the field existed"
    for path in written:  # they load, with the default
        assert load_config(path).train.dev_every == TrainConfig().dev_every == 0.25
    for bad in ("0", "-0.5", "1.5"):
        with pytest.raises(ConfigError, match="dev_every"):
            load_config(CONFIGS / "runs" / "demo.yaml", [f"train.dev_every={bad}"])
    assert load_config(CONFIGS / "runs" / "demo.yaml", ["train.dev_every=1"]).train.dev_every == 1
