"""What an import has already seen earlier in its file: archive numbers, ID numbers,
name + phone pairs and matched archives, each with the first row that had it.

A file may hold a million rows; keeping every key in a Python dict would cost hundreds
of megabytes (about 300 bytes a row). The keys go to a private temporary SQLite
database instead (`sqlite3.connect("")`: on disk past a small cache, deleted when
closed), looked up and added one chunk at a time, so memory stays flat whatever the
length of the file. It is a scratch file of this process, not the application's
database, and works the same whichever database Kefu runs on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping

NUMBER, ID_NUMBER, NAME_PHONE, TARGET = range(4)
# Well under SQLite's smallest default limit of 999 parameters per statement.
_LOOKUP_BATCH = 900


class SeenKeys:
    """Key → first row number, per kind (NUMBER, ID_NUMBER, NAME_PHONE, TARGET)."""

    def __init__(self):
        self.db = sqlite3.connect("")
        self.db.execute("PRAGMA cache_size = -4096")  # KiB: the rest stays on disk
        # A scratch file deleted on close: nothing to recover after a crash.
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(
            "CREATE TABLE seen (kind INTEGER, key TEXT, row INTEGER, PRIMARY KEY (kind, key)) WITHOUT ROWID"
        )

    def first_rows(self, kind: int, keys: Iterable[str]) -> dict[str, int]:
        """The keys of `keys` seen before, with the first row that had each."""
        wanted = list(set(keys))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            part = wanted[start : start + _LOOKUP_BATCH]
            marks = ", ".join("?" * len(part))  # placeholders only: the keys are parameters
            sql = f"SELECT key, row FROM seen WHERE kind = ? AND key IN ({marks})"  # noqa: S608
            found.update(self.db.execute(sql, [kind, *part]))
        return found

    def add(self, kind: int, rows: Mapping[str, int]) -> None:
        """Remember `rows` (key → row number); a key seen before keeps its first row."""
        if rows:
            self.db.executemany(
                "INSERT OR IGNORE INTO seen (kind, key, row) VALUES (?, ?, ?)", [(kind, k, r) for k, r in rows.items()]
            )
            self.db.commit()

    def close(self) -> None:
        self.db.close()


def name_phone_key(name: str, digits: str) -> str:
    # The unit separator appears in neither a cleaned name nor a phone's digits.
    return f"{name}\x1f{digits}"
