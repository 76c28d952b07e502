#!/usr/bin/env bash
# Build, once, a Python like the GPU machine's (docs/GPU.md, "Rehearsal"): CPython 3.12 from
# pyenv, torch 2.11 (the registry's CUDA build, which also runs on a CPU), transformers 5.17
# and exactly the other packages that machine has; then remove pip from it, since that machine
# may have none. Cached outside the repository; rebuilt only when this file's package list
# changes.
set -euo pipefail
ENV_DIR=${1:?usage: gpu_rehearsal_env.sh ENV_DIR}
PACKAGES="torch==2.11.0 transformers==5.17.* tokenizers safetensors PyYAML tqdm matplotlib \
scikit-learn scipy tensorboard"
ABSENT="pydantic pydantic-core annotated-types typing-inspection pytest minicons"
stamp="$ENV_DIR/.packages"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$PACKAGES -$ABSENT" ]]; then
  echo "rehearsal env: $ENV_DIR (cached)"; exit 0
fi
PY312=${PY312:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/3.12.1/bin/python3}
[[ -x "$PY312" ]] || { echo "No CPython 3.12 at $PY312 (pyenv install 3.12.1, or set PY312)"; exit 2; }
rm -rf "$ENV_DIR.tmp"
"$PY312" -m venv "$ENV_DIR.tmp"
# shellcheck disable=SC2086 - the list is words on purpose
"$ENV_DIR.tmp/bin/python" -m pip install -q $PACKAGES
# What that machine lacks although a package above pulls it in here (typer -> pydantic).
"$ENV_DIR.tmp/bin/python" -m pip uninstall -q -y $ABSENT
"$ENV_DIR.tmp/bin/python" -m pip freeze > "$ENV_DIR.tmp/freeze.txt"
"$ENV_DIR.tmp/bin/python" -m pip uninstall -q -y pip
"$ENV_DIR.tmp/bin/python" -c "import torch, transformers, packaging, yaml" || exit 3
echo "$PACKAGES -$ABSENT" > "$ENV_DIR.tmp/.packages"
rm -rf "$ENV_DIR" && mv "$ENV_DIR.tmp" "$ENV_DIR"
echo "rehearsal env: $ENV_DIR built"
