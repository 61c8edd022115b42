"""The line of a key in a plan's TOML text (``tomllib`` gives values only), for its errors."""

from __future__ import annotations

import re


class KeyLines:
    """Finds the line of a key in the plan text (tomllib gives values only)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, key: str | None, table: str | None = None, index: int = 0) -> int:
        start, end = 0, len(self.lines)
        if table is not None:
            headers = [i for i, line in enumerate(self.lines) if line.strip() == f"[[{table}]]"]
            if index < len(headers):
                start = headers[index]
                end = next(
                    (i for i in range(start + 1, end) if self.lines[i].lstrip().startswith("[")),
                    end,
                )
            else:  # an inline array of tables: the line of `table =`
                return self.of(table)
        else:
            end = next(
                (i for i, line in enumerate(self.lines) if line.lstrip().startswith("[")), end
            )
        if key is None:
            return start + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1


__all__ = ["KeyLines"]
