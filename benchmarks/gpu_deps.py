"""Install, for ``make gpu-check``, the carried wheels of what this Python lacks or has too old.

A GPU machine comes with its own CUDA torch and most of antlm's dependencies but possibly not
all (pydantic, say), and no package index. ``make gpu-pack`` downloads wheels of the missing
pure-Python ones; this installs each wheel whose package is absent here or older than the
wheel into a separate folder (put on ``PYTHONPATH``), and never one the machine already has
at that version or newer: shadowing a newer ``typing_extensions`` that torch was installed
with could break torch.

    python benchmarks/gpu_deps.py WHEEL_DIR TARGET_DIR
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.utils import parse_wheel_filename
from packaging.version import Version


def needed(wheel: Path) -> bool:
    name, version, _, _ = parse_wheel_filename(wheel.name)
    try:
        return Version(metadata.version(name)) < version
    except metadata.PackageNotFoundError:
        return True


def main() -> int:
    wheel_dir, target = Path(sys.argv[1]), Path(sys.argv[2])
    wheels = sorted(wheel_dir.glob("*.whl")) if wheel_dir.is_dir() else []
    chosen = [wheel for wheel in wheels if needed(wheel)]
    print(f"gpu_deps: {len(chosen)} of {len(wheels)} carried wheels needed: "
          f"{', '.join(w.name for w in chosen) or 'none'}")
    if not chosen:
        return 0
    return subprocess.call([sys.executable, "-m", "pip", "install", "-q", "--no-index",
                            "--no-deps", "--no-compile", "--upgrade", "--target", str(target),
                            *map(str, chosen)])


if __name__ == "__main__":
    sys.exit(main())
