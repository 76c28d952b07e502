"""Install, for ``make gpu-check``, the carried wheels of what this Python lacks, without pip.

A GPU machine comes with its own CUDA torch and most of antlm's dependencies but not all
(pydantic, pytest), no package index, and perhaps no pip. ``make gpu-pack`` downloads wheels of
the missing pure-Python ones; this unpacks each wheel whose package is absent here or older than
the wheel into a separate folder (put on ``PYTHONPATH``): a wheel is a zip file whose
``purelib``/``platlib`` contents are the installed package. A package the machine already has at
that version or newer is never shadowed (a newer ``typing_extensions`` that torch was installed
with must stay).

Then every module named after the folders must import, in a fresh interpreter with the folder on
its path: a missing or unusable wheel (for another Python, say) stops the check here, at its
start, with the reason, instead of failing every stage on ``import pydantic`` later.

    python benchmarks/gpu_deps.py WHEEL_DIR TARGET_DIR MODULE...
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename
from packaging.version import Version


def needed(wheel: Path) -> bool:
    """Whether this Python lacks the wheel's package or has an older version of it."""
    name, version, _, _ = parse_wheel_filename(wheel.name)
    try:
        return Version(metadata.version(name)) < version
    except metadata.PackageNotFoundError:
        return True


def incompatible(wheel: Path) -> bool:
    """Whether no tag of the wheel fits this interpreter (a cp311 build on Python 3.12, say):
    unpacking it would only fail later, at import."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return not tags & set(sys_tags())


def unpack(wheel: Path, target: Path) -> None:
    """What ``pip install --target`` does for a wheel without scripts: unzip it, then move the
    contents of its ``*.data/purelib`` and ``*.data/platlib`` folders to the top."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    for data in target.glob("*.data"):
        for kind in ("purelib", "platlib"):
            for item in (data / kind).glob("*") if (data / kind).is_dir() else ():
                shutil.move(str(item), target / item.name)
        shutil.rmtree(data)


def import_failures(modules: list[str], target: Path) -> dict[str, str]:
    """Each module that does not import with ``target`` first on the path, with the last line
    of its error: run in a fresh interpreter, as the stages will run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(target), os.environ.get("PYTHONPATH", "")) if p)}
    failures = {}
    for module in modules:
        done = subprocess.run([sys.executable, "-c", f"import {module}"], check=False, env=env,
                              capture_output=True, text=True)
        if done.returncode:
            failures[module] = (done.stderr.strip().splitlines() or ["?"])[-1]
    return failures


def main(argv: list[str]) -> int:
    """Unpack what is needed, then refuse to go on unless every module imports."""
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1].strip())
        return 2
    wheel_dir, target, modules = Path(argv[0]), Path(argv[1]), argv[2:]
    wheels = sorted(wheel_dir.glob("*.whl")) if wheel_dir.is_dir() else []
    chosen = [wheel for wheel in wheels if needed(wheel)]
    unfit = [wheel.name for wheel in chosen if incompatible(wheel)]
    if unfit:
        print(f"gpu_deps: STOP: carried wheels that do not fit Python "
              f"{sys.version.split()[0]}: {', '.join(unfit)} (make gpu-pack)")
        return 3
    print(f"gpu_deps: {len(chosen)} of {len(wheels)} carried wheels in {wheel_dir} needed: "
          f"{', '.join(w.name for w in chosen) or 'none'}")
    target.mkdir(parents=True, exist_ok=True)
    for wheel in chosen:
        unpack(wheel, target)
    failures = import_failures(modules, target)
    for module, error in failures.items():
        print(f"gpu_deps: STOP: `import {module}` fails: {error}")
    if failures:
        print(f"gpu_deps: carry {wheel_dir} with the wheels of what this machine lacks "
              "(make gpu-pack; the device call's carry list in docs/GPU.md)")
        return 3
    print(f"gpu_deps: {', '.join(modules) or 'nothing'} import")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
