"""Progress bars that suit both a terminal and a log file.

On a terminal the bar redraws every second; when output goes to a file (a sweep, CI, nohup) it
redraws every 30 s, so a log holds a readable trace instead of thousands of carriage returns.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm


def progress_bar(iterable: Any = None, **kwargs: Any) -> tqdm:
    kwargs.setdefault("mininterval", 1.0 if sys.stderr.isatty() else 30.0)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
