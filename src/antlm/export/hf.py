"""``antlm export``: a run's model as a Hugging Face folder that needs no antlm to load, with
every attention view the model was trained under, so any scorer can read it either way.

* BabyLlama -> ``LlamaForCausalLM``: its parameter names already mirror Hugging Face's, so the
  export is a rename (``model.`` prefix) checked by a strict ``load_state_dict``;
  ``AutoModelForCausalLM`` loads it with no custom code. Its masked-LM view (bidirectional
  attention over the same weights) is ``modeling_antlm_llama.py``, which ``config.json``'s
  ``auto_map`` names for ``AutoModelForMaskedLM`` (``trust_remote_code=True``).
* LTG-BERT -> the architecture has no transformers class, so the folder carries its own
  ``modeling_ltgbert.py`` / ``configuration_ltgbert.py``, and ``auto_map`` points
  ``AutoModelForMaskedLM`` (bidirectional), ``AutoModelForCausalLM`` (causal) and
  ``AutoModelForSequenceClassification`` at them, as ltgoslo publishes LTG-BERT; it loads with
  ``trust_remote_code=True``.

The modelling files are copied from ``antlm/models/remote_code/``. Both exports carry the run's
tokenizer as a ``PreTrainedTokenizerFast`` whose post-processor frames text the way antlm does
(BPE ``<s> a`` / ``<s> a </s> b``, WordPiece ``[CLS] a [SEP]`` / ``[CLS] a [SEP] b [SEP]``), so
``AutoTokenizer`` gives the ids the model was trained and fine-tuned on; the run's resolved
config (``antlm_config.yaml``: what ``antlm eval`` reads the declared backend from); where the
weights stand in the run (``antlm_revision.json``: words and tokens seen, step, and a milestone
checkpoint's milestone; what ``antlm eval REPO --checkpoints`` places a revision by); and a model
card (``README.md``, see :mod:`antlm.export.model_card`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from safetensors.torch import save_file
from tokenizers import Tokenizer
from tokenizers.processors import TemplateProcessing
from torch import nn

from antlm.atomic import atomic_write, follow_umask
from antlm.config import ConfigError, ModelConfig
from antlm.data.tokenizer import SPECIAL_TOKENS, AntlmTokenizer
from antlm.export.model_card import model_card
from antlm.models.attention import ATTENTION_KINDS
from antlm.models.hf_model import REMOTE_CODE, quiet_transformers
from antlm.outputs import check_output_folder
from antlm.rundir import EXPORTED_CONFIG, EXPORTED_REVISION, LoadedRun, load_run, revision_record

__all__ = ["check_export_attention", "export_run", "hf_tokenizer", "llama_config", "ltgbert_config"]

LTGBERT_FILES = ("configuration_ltgbert.py", "modeling_ltgbert.py")
LLAMA_MASKED_FILE = "modeling_antlm_llama.py"
WEIGHTS = "model.safetensors"  # the name transformers loads


def hf_tokenizer(tokenizer: AntlmTokenizer, max_length: int):
    """The run's tokenizer as a ``PreTrainedTokenizerFast`` with antlm's framing."""
    from transformers import PreTrainedTokenizerFast

    names = SPECIAL_TOKENS[tokenizer.kind]
    bos, eos = names["bos"], names["eos"]
    backend = Tokenizer.from_str(tokenizer.backend.to_str())  # a copy: the run's stays as is
    closes = tokenizer.kind == "wordpiece"  # frame() appends the end token to WordPiece only
    backend.post_processor = TemplateProcessing(
        single=f"{bos} $A" + (f" {eos}" if closes else ""),
        pair=f"{bos} $A {eos} $B:1" + (f" {eos}:1" if closes else ""),
        special_tokens=[(bos, tokenizer.bos_id), (eos, tokenizer.eos_id)],
    )
    # CLS/SEP as BERT and RoBERTa name them, so that scorers which skip those (minicons, the
    # 2024 pipeline's masked-LM path) never score the frame.
    roles = {f"{role}_token": token for role, token in names.items()}
    roles |= {"cls_token": bos, "sep_token": eos}
    return PreTrainedTokenizerFast(tokenizer_object=backend, model_max_length=max_length, **roles)


def llama_config(config: ModelConfig, tokenizer: AntlmTokenizer):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        intermediate_size=config.ffn_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        head_dim=config.hidden_size // config.num_heads,
        hidden_act="silu",
        max_position_embeddings=config.max_seq_len,
        rms_norm_eps=config.norm_eps,
        rope_theta=config.rope_theta,
        attention_bias=False,
        mlp_bias=False,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_id,
        eos_token_id=tokenizer.eos_id,
        pad_token_id=tokenizer.pad_id,
        architectures=["LlamaForCausalLM"],
        auto_map={"AutoModelForMaskedLM": f"{LLAMA_MASKED_FILE[:-3]}.LlamaForMaskedLM"},
    )


def ltgbert_config(config: ModelConfig, tokenizer: AntlmTokenizer, attention: str) -> dict:
    """config.json of an LTG-BERT export (written as a dict: its class lives in the folder)."""
    return {
        "model_type": "ltgbert",
        "architectures": ["LtgBertForMaskedLM"],
        "auto_map": {
            "AutoConfig": "configuration_ltgbert.LtgBertConfig",
            "AutoModel": "modeling_ltgbert.LtgBertModel",
            "AutoModelForMaskedLM": "modeling_ltgbert.LtgBertForMaskedLM",
            "AutoModelForCausalLM": "modeling_ltgbert.LtgBertForCausalLM",
            "AutoModelForSequenceClassification": "modeling_ltgbert.LtgBertForSequenceClassification",
        },
        "vocab_size": config.vocab_size,
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_layers,
        "num_attention_heads": config.num_heads,
        "intermediate_size": config.ffn_size,
        "max_position_embeddings": config.max_seq_len,
        "position_bucket_size": config.position_buckets,
        "layer_norm_eps": config.norm_eps,
        "hidden_dropout_prob": config.dropout,
        "attention_probs_dropout_prob": config.attention_dropout,
        "attention": attention,
        "bos_token_id": tokenizer.bos_id,
        "eos_token_id": tokenizer.eos_id,
        "pad_token_id": tokenizer.pad_id,
        "mask_token_id": tokenizer.mask_id,
    }


def _export_babyllama(model: nn.Module, config: ModelConfig, tokenizer: AntlmTokenizer,
                      out: Path) -> None:
    from transformers import LlamaForCausalLM

    hf_model = LlamaForCausalLM(llama_config(config, tokenizer))
    state = {
        (name if name.startswith("lm_head.") else f"model.{name}"): tensor
        for name, tensor in model.state_dict().items()
    }
    hf_model.load_state_dict(state, strict=True)  # any unmatched name is an error
    with quiet_transformers():
        hf_model.save_pretrained(out)
    follow_umask(out / WEIGHTS)  # written 0600 by save_pretrained
    shutil.copyfile(REMOTE_CODE / LLAMA_MASKED_FILE, out / LLAMA_MASKED_FILE)


def _export_ltgbert(model: nn.Module, config: ModelConfig, tokenizer: AntlmTokenizer,
                    out: Path, attention: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in LTGBERT_FILES:
        shutil.copyfile(REMOTE_CODE / name, out / name)
    (out / "config.json").write_text(
        json.dumps(ltgbert_config(config, tokenizer, attention), indent=2) + "\n"
    )
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    atomic_write(out / WEIGHTS, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"}))


def check_export_attention(attention: str) -> None:
    """Refuse an ``attention`` that is not a view before anything is written: a BabyLlama
    export ignores it, an LTG-BERT export would write it into ``config.json`` and fail only
    when loaded."""
    if attention not in ATTENTION_KINDS:
        raise ConfigError(f"attention={attention!r}: the view of an LTG-BERT export's AutoModel; "
                          f"allowed: {', '.join(ATTENTION_KINDS)}")


def export_run(run_dir: str | Path, out_dir: str | Path, attention: str = "bidirectional",
               checkpoint: str | None = None, force: bool = False) -> Path:
    """Write a run's model, tokenizer, config and model card to ``out_dir`` in Hugging Face
    format. ``attention`` is the view of an LTG-BERT export's ``AutoModel`` and sequence
    classifier (``config.attention``, changeable after loading); its masked- and causal-LM
    classes always attend bidirectionally and causally. ``checkpoint`` exports the weights of a
    milestone checkpoint (e.g. ``chck_1M``) instead of the latest. ``out_dir`` must not be a
    run, nor (without ``force``) a folder that holds files (:mod:`antlm.outputs`)."""
    check_export_attention(attention)
    out = Path(out_dir)
    check_output_folder(out, "export", force)
    run = load_run(run_dir, checkpoint=checkpoint)
    card = model_card(run)  # reads the run's records: a damaged one stops before any write
    model_config = run.config.model
    if model_config.arch == "babyllama":
        _export_babyllama(run.model, model_config, run.tokenizer, out)
    else:
        _export_ltgbert(run.model, model_config, run.tokenizer, out, attention)
    _save_tokenizer(run.tokenizer, model_config.max_seq_len, out)
    _save_run_files(run, card, out)
    return out


def _save_run_files(run: LoadedRun, card: str, out: Path) -> None:
    """The run's resolved config (which fixes the declared backend), where the weights stand
    in the run (words seen, step) and the model card."""
    (out / EXPORTED_CONFIG).write_text(run.config.to_yaml(), encoding="utf-8")
    (out / EXPORTED_REVISION).write_text(json.dumps(revision_record(run), indent=2) + "\n")
    (out / "README.md").write_text(card, encoding="utf-8")


def _save_tokenizer(tokenizer: AntlmTokenizer, max_length: int, out: Path) -> None:
    """Save the tokenizer under the class name both transformers 4 and 5 resolve: 5 writes its
    own ``TokenizersBackend``, which 4 (still allowed by pyproject) does not know."""
    hf_tokenizer(tokenizer, max_length).save_pretrained(out)
    path = out / "tokenizer_config.json"
    settings = json.loads(path.read_text())
    settings["tokenizer_class"] = "PreTrainedTokenizerFast"
    path.write_text(json.dumps(settings, indent=2) + "\n")
