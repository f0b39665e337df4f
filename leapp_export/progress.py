"""A small progress display for export stages (tqdm on stderr; silent when asked)."""

from __future__ import annotations

import sys
from typing import Callable


class Progress:
    """Counts named stages on a tqdm bar; ``callback`` is what the export functions call."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self._bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:  # tqdm is optional: fall back to plain lines
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(total=total, file=sys.stderr, unit="stage", dynamic_ncols=True,
                                 bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]")
        self.enabled = enabled

    def callback(self) -> Callable[[str], None]:
        def update(message: str) -> None:
            if self._bar is not None:
                self._bar.set_description_str(message[:60])
                self._bar.update(1)
            elif self.enabled:
                print(f"[leapp-export] {message}", file=sys.stderr)
        return update

    def close(self, completed: bool) -> None:
        if self._bar is not None:
            if completed:
                self._bar.n = self._bar.total
                self._bar.refresh()
            self._bar.close()
