"""Small run directories for tests: a real tokenizer (trained on real BabyLM text) and a small
randomly initialised model, written the way the trainer writes them, so evaluation and export
read them through :func:`antlm.rundir.load_run` like any trained run, in seconds; and their
Hugging Face exports."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file, save_model
from torch import nn

from antlm.config import ModelConfig, RunConfig, TokenizerConfig, TrainConfig, load_config
from antlm.data.tokenizer import AntlmTokenizer
from antlm.models.registry import build_model

# A model and corpus small enough that a real training run takes seconds (8,005 words per epoch).
SMALL = [
    "model.hidden_size=32", "model.num_layers=2", "model.num_heads=2", "model.ffn_size=64",
    "model.max_seq_len=32", "model.dropout=0.1", "tokenizer.vocab_size=500",
    "model.vocab_size=500", "data.max_words=8000", "data.dev_max_words=2000",
    "train.batch_size=8", "train.log_every=5", "train.dev_max_blocks=8",
    "train.precision=fp32",  # the reference precision: exactness tests compare against it
]
# Two epochs of 72 steps with milestones that fall mid-epoch; blocks of 64 tokens (four per
# step), so that the learning-curve tests can score texts longer than 32 tokens.
MILESTONE_RUN = ["train.schedule=1_CLM+1_MLM", "train.checkpoint_words=2K..14K step 4K",
                 "model.max_seq_len=64", "train.batch_size=4", "name=milestones"]


def small_config(*overrides: str) -> RunConfig:
    """The demo run at SMALL size, with ``key=value`` overrides."""
    return load_config(Path(__file__).parent.parent / "configs" / "runs" / "demo.yaml",
                       SMALL + list(overrides))


def corpus_lines(data_dir: Path, limit: int = 20000) -> list[str]:
    path = data_dir / "babylm_10M" / "train_10M" / "switchboard.train"
    return path.read_text(encoding="utf-8").splitlines()[:limit]


def make_run_dir(
    run: Path, arch: str, tokenizer: AntlmTokenizer, schedule: str = "1_CLM",
    perturb: float = 0.0,
) -> nn.Module:
    """Write ``run`` (config.yaml, tokenizer.json, model.safetensors); returns the model.
    ``perturb`` adds noise of that std to every parameter, so that no weight (norm gains and
    biases included) sits at a value where a mistake would go unnoticed."""
    vocab = tokenizer.vocab_size
    config = RunConfig(
        name=run.name,
        tokenizer=TokenizerConfig(kind=tokenizer.kind, vocab_size=vocab),
        model=ModelConfig(arch=arch, vocab_size=vocab, hidden_size=64, num_layers=2,
                          num_heads=4, ffn_size=96, max_seq_len=128),
        train=TrainConfig(schedule=schedule),
    )
    torch.manual_seed(0)
    model = build_model(config.model)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * perturb)
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(config.to_yaml())
    tokenizer.save(run / "tokenizer.json")
    save_model(model, str(run / "model.safetensors"))
    return model.eval()


def make_exported_run(root: Path, arch: str, tokenizer: AntlmTokenizer) -> tuple[Path, Path]:
    """``root/run`` (every parameter perturbed, so a misplaced weight, norm or position term
    moves the logits far beyond any tolerance) and its export ``root/hf``."""
    from antlm.export.hf import export_run

    make_run_dir(root / "run", arch, tokenizer, schedule="1_CLM+1_MLM+1_CLM", perturb=0.3)
    return root / "run", export_run(root / "run", root / "hf")


def model_run_config(model: nn.Module) -> RunConfig:
    """The config of a run whose trained weights are ``model`` (a BabyLlama or LTG-BERT
    fixture), under ``1_CLM+1_MLM``."""
    return RunConfig.model_validate({
        "train": {"schedule": "1_CLM+1_MLM"},
        "model": model.config.model_dump(),
        "tokenizer": {"vocab_size": model.config.vocab_size},
    })


def write_model_run(run: Path, model: nn.Module, tokenizer: AntlmTokenizer) -> Path:
    """A run directory holding ``model`` as its trained weights."""
    run.mkdir()
    (run / "config.yaml").write_text(model_run_config(model).to_yaml())
    tokenizer.save(run / "tokenizer.json")
    save_file(model.state_dict(), str(run / "model.safetensors"))
    return run
