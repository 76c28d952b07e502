"""What ``antlm eval`` scores: an antlm run directory or a Hugging Face model folder, brought to
one shape (model, tokenizer, what it declares, where its results go).

* A **run directory** (``config.yaml``) is read through :func:`antlm.rundir.load_run`; its
  declared backend and its ``auto`` backends follow its config
  (:func:`antlm.eval.scoring.declare_backend`, :func:`antlm.eval.scoring.auto_backends`), and
  its results go to ``RUN/results.json``.
* A **Hugging Face folder** (``config.json``) is adapted by
  :func:`antlm.models.hf_model.load_hf_model` and :class:`antlm.models.hf_tokenizer.HFTokenizer`.
  An antlm export carries its run's config (``antlm_config.yaml``) and so declares what the
  run declared, in the same words (``antlm eval`` prints the same table for both); any other folder declares ``causal`` when it has a causal view (a causal LM)
  and ``mlm`` otherwise (a masked LM), and runs just that under ``auto``. A model folder is
  not a place to write results (it may be shared or read-only), so they go to
  ``results/NAME/results.json`` under the working directory, as the official pipelines write
  ``results/<model>/``, or to ``--out DIR``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from antlm.config import ConfigError
from antlm.eval.scoring import auto_backends, declare_backend
from antlm.models.contract import LanguageModel, ScoringTokenizer
from antlm.models.hf_model import HFLanguageModel, load_hf_model
from antlm.models.hf_tokenizer import HFTokenizer
from antlm.outputs import refuse_run_directory
from antlm.rundir import (
    LoadedRun,
    RunDirError,
    RunPaths,
    load_run,
    present,
    read_exported_config,
    read_json,
    reading,
    weights_metadata,
)

__all__ = ["EvalSubject", "default_results_dir", "open_subject", "subject_of_run"]


@dataclass
class EvalSubject:
    """A model to score, with the backends it declares and the folder its results go to."""

    name: str
    model: LanguageModel
    tokenizer: ScoringTokenizer
    declared_backend: str
    declared_by: str  # completes "declared by ...": where the declaration comes from
    auto_backends: list[str]
    results_dir: Path
    trained_step: int | None = None  # a run's: the step of the weights scored

    @property
    def results_path(self) -> Path:
        return RunPaths(self.results_dir).results

    @property
    def missing_view_hint(self) -> str:
        """How to get a view the model left out (its remote code was not trusted)."""
        withheld = getattr(self.model, "withheld", {})
        if not withheld:
            return ""
        files = ", ".join(sorted(set(withheld.values())))
        return (f" ({self.name} provides the {' and '.join(withheld)} view through its own "
                f"code, {files}: pass --trust-remote-code to run it)")


def default_results_dir(folder: Path) -> Path:
    """Where a model folder's results go without ``--out``."""
    return Path("results") / folder.resolve().name


def subject_of_run(run: LoadedRun) -> EvalSubject:
    backend, reason = declare_backend(run.config)
    return EvalSubject(run.run_dir.name, run.model, run.tokenizer, backend,
                       f"the run config: {reason}", auto_backends(run.config), run.run_dir,
                       run.step)


def _hf_subject(
    folder: Path, model: HFLanguageModel, tokenizer: ScoringTokenizer, out: Path | None
) -> EvalSubject:
    config = read_exported_config(folder)
    if config is not None:
        backend, reason = declare_backend(config)
        declared_by, auto = f"the run config: {reason}", auto_backends(config)
    elif "causal" in model.views:
        backend, declared_by, auto = "causal", "the folder: a causal LM", ["causal"]
    else:
        backend, declared_by, auto = "mlm", "the folder: a masked LM", ["mlm"]
    return EvalSubject(folder.resolve().name, model, tokenizer, backend, declared_by, auto,
                       out or default_results_dir(folder))


_NULLABLE = (dict, str, type(None))
# The files of a Hugging Face model folder that antlm checks before transformers reads them, with
# the types of the top-level fields it knows: transformers' own errors on a damaged file (a JSON
# decoder's message, an AttributeError) do not say which file of the folder is at fault.
_FOLDER_JSON = {
    "config.json": {"model_type": str, "architectures": list, "vocab_size": int,
                    "hidden_size": int, "num_hidden_layers": int, "num_attention_heads": int,
                    "max_position_embeddings": int, "auto_map": dict},
    "tokenizer.json": {"version": str, "model": dict, "added_tokens": list,
                       "normalizer": _NULLABLE, "pre_tokenizer": _NULLABLE,
                       "post_processor": _NULLABLE, "decoder": _NULLABLE,
                       "truncation": _NULLABLE, "padding": _NULLABLE},
    "tokenizer_config.json": {"tokenizer_class": str, "model_max_length": (int, float),
                              "added_tokens_decoder": dict, "bos_token": _NULLABLE,
                              "eos_token": _NULLABLE, "pad_token": _NULLABLE,
                              "unk_token": _NULLABLE, "mask_token": _NULLABLE,
                              "clean_up_tokenization_spaces": bool},
    "special_tokens_map.json": {},
}


def check_model_folder(folder: Path) -> None:
    """Refuse a model folder whose config, tokenizer or weights file is damaged, naming the
    file (see :data:`_FOLDER_JSON`); an absent file is left to transformers' own message."""
    for name, fields in _FOLDER_JSON.items():
        read_json(folder / name, fields)
    weights = folder / "model.safetensors"
    if present(weights):
        with reading(weights, "the weights of a model"):
            weights_metadata(weights)


def open_subject(
    path: str | Path, device: str | torch.device = "cpu", trust_remote_code: bool = False,
    out: str | Path | None = None,
) -> EvalSubject:
    """A run directory or a Hugging Face model folder, ready to score (see the module
    docstring). ``out``: where a model folder's results go; a run keeps its own."""
    folder = Path(path)
    if (folder / "config.yaml").exists():  # anything there is read, and refused if damaged
        if out is not None:
            raise ConfigError(f"{folder} is a run directory: its results go to "
                              f"{folder / 'results.json'}; --out is for Hugging Face folders")
        return subject_of_run(load_run(folder, device=device))
    if (folder / "config.json").exists():
        check_model_folder(folder)
        model = load_hf_model(folder, device, trust_remote_code)
        tokenizer = HFTokenizer.from_pretrained(folder, trust_remote_code)
        if out is not None:
            refuse_run_directory(Path(out), "evaluation results")
        return _hf_subject(folder, model, tokenizer, None if out is None else Path(out))
    raise RunDirError(f"{folder} is neither a run directory (config.yaml) nor a Hugging Face "
                      "model folder (config.json)")
