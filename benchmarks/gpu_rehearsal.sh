#!/usr/bin/env bash
# make gpu-rehearsal: `make gpu-check` at the tiny size in a copy of the GPU machine, on this CPU.
#
# The GPU window allows one attempt, and a dry run in the project's venv cannot see what that
# machine lacks. This builds (once, cached) a Python like that machine's (gpu_rehearsal_env.sh:
# CPython 3.12, torch 2.11, transformers 5.17, the packages that machine has and no pip), copies
# the tree as the device runner does (tracked and untracked-not-ignored files, plus the carried
# .gpu/wheels and .gpu/data.tar.gz), and runs the device command there: without network (its
# own network namespace), with a PATH that has no pip, make or C compiler, with the parent of
# $OUT read-only (a bind mount), HF and pip told to stay offline. Then it checks what came
# back against the runner's limits. Needs root (unshare, mount), pyenv's 3.12.1.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${GPU_REHEARSAL_CACHE:-$HOME/.cache/antlm-gpu-rehearsal}
SIZE=${GPU_REHEARSAL_SIZE:-tiny}
ENV_DIR=$CACHE/py312
cd "$REPO"
for carried in .gpu/wheels .gpu/data.tar.gz; do
  [[ -e $carried ]] || { echo "gpu-rehearsal: no $carried (make gpu-pack)"; exit 2; }
done
bash benchmarks/gpu_rehearsal_env.sh "$ENV_DIR"

ROOT=$CACHE/run
rm -rf "$ROOT" && mkdir -p "$ROOT/tree" "$ROOT/returned/out" "$ROOT/home" "$ROOT/bin"
# The tree as the runner copies it: tracked and untracked files git does not ignore, and the
# carried paths; nothing else (no .venv, no .gpu/site, no runs/).
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -x -C "$ROOT/tree"
tar -cf - .gpu/wheels .gpu/data.tar.gz | tar -x -C "$ROOT/tree"
echo "gpu-rehearsal: tree $(du -sh "$ROOT/tree" | cut -f1) in $ROOT/tree"

# A PATH like a bare machine's: the system's tools, the rehearsal Python as python3, and no
# pip, no make and no C compiler (the worst case the check must survive).
for dir in /usr/bin /bin; do
  for tool in "$dir"/*; do
    name=${tool##*/}
    case $name in
      cc|c++|gcc*|g++*|cpp*|clang*|*-gcc*|*-g++*|tcc|pip*|python*|make) continue ;;
    esac
    [[ -e $ROOT/bin/$name ]] || ln -s "$tool" "$ROOT/bin/$name"
  done
done
# A script, not a link: Python finds its environment beside the path it was started by.
printf '#!/bin/sh\nexec "%s" "$@"\n' "$ENV_DIR/bin/python3" > "$ROOT/bin/python3"
chmod +x "$ROOT/bin/python3"

# The device command of docs/GPU.md, at the rehearsal's size (GPU_REHEARSAL_COMMAND: another
# command in the same sandbox, to reproduce one failure).
COMMAND=${GPU_REHEARSAL_COMMAND:-"bash benchmarks/gpu_check.sh \$OUT --size $SIZE"}
echo "gpu-rehearsal: \$ $COMMAND"
status=0
env -i HOME="$ROOT/home" PATH="$ROOT/bin" LANG=C.UTF-8 OUT="$ROOT/returned/out" \
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PIP_NO_INDEX=1 \
  unshare --mount --net bash -c '
    set -e
    ip link set lo up  # a machine without network still has its loopback (gloo uses it)
    mount --bind "$1/returned" "$1/returned" && mount -o remount,bind,ro "$1/returned"
    mount --bind "$1/returned/out" "$1/returned/out" && mount -o remount,bind,rw "$1/returned/out"
    cd "$1/tree" && eval "$2"' rehearsal "$ROOT" "$COMMAND" 2>&1 | tee "$ROOT/rehearsal.log" \
  || status=$?

# What the runner would return: at most 8 files, 16 MiB each, no deeper than out/a/b/file.
python3 - "$ROOT/returned/out" <<'PY' || status=1
import json, re, sys
from pathlib import Path
out = Path(sys.argv[1])
files = [p for p in out.rglob("*") if p.is_file()]
problems = [f"{len(files)} files (at most 8)"] if len(files) > 8 else []
problems += [f"{p}: over 16 MiB" for p in files if p.stat().st_size > 16 * 2**20]
problems += [f"{p}: too deep" for p in files if len(p.relative_to(out).parts) > 3]
problems += [f"{p}: odd name" for p in files
             if not all(re.fullmatch(r"[A-Za-z0-9._-]+", s) for s in p.relative_to(out).parts)]
report = out / "gpu-check.json"
if not report.is_file():
    problems.append("no gpu-check.json came back")
else:
    stages = json.loads(report.read_text())["stages"]
    problems += [f"stage {n}: {s['status']}" for n, s in stages.items() if s["status"] != "passed"]
print("gpu-rehearsal: came back:", ", ".join(sorted(p.name for p in files)) or "nothing")
print("\n".join(f"gpu-rehearsal: PROBLEM: {p}" for p in problems) or "gpu-rehearsal: all passed")
sys.exit(1 if problems else 0)
PY
echo "gpu-rehearsal: log in $ROOT/rehearsal.log, files in $ROOT/returned/out (exit $status)"
exit "$status"
