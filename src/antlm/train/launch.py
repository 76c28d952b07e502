"""``antlm train --devices N``: re-run the same command under torchrun with N processes."""

from __future__ import annotations

import subprocess
import sys


def launch_devices(devices: int, argv: list[str]) -> int:
    """Start ``torchrun --nproc_per_node N -m antlm <argv without --devices>``."""
    args, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--devices":
            skip = True
            continue
        if arg.startswith("--devices="):
            continue
        args.append(arg)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={devices}", "-m", "antlm", *args]
    return subprocess.call(command)
