"""A one-line progress display on stderr for `recon run` and `recon demo`.

It listens to `transforms.timing.phase` (which every phase, file and matching step is
wrapped in) and shows the date being computed and what it is doing: planning, ingest
file N/M with the rows read so far, matching step N/M, writing the tables, the
workbook, publishing. On a terminal the line is redrawn in place and appears only once
the run has taken `delay` seconds; elsewhere (forced with `--progress`) one line is
printed per change. It never writes to stdout.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable
from typing import TextIO

from transforms import timing

DAY_PHASE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (.+)$")
FILE = re.compile(r"^\s+ingest (.+)$")
STEP = re.compile(r"^\s+match step (.+)$")
WRITE = re.compile(r"^\s+\d{4}-\d{2}-\d{2} write ")
ROWS = re.compile(r"^([\d,]+) rows")

STAGES = {  # phase name after the date -> what the display calls it
    "ingest": "ingest",
    "match and write state": "matching",
    "workbook": "workbook",
    "publish": "publish",
}


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class Progress:
    """Use as a context manager around the run: `with Progress(sys.stderr, live=True): ...`.

    `files_of(day)` gives the number of files of a date (for "file N/M"), `steps` the
    number of matching steps (for "step N/M"); either may be None."""

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        delay: float = 2.0,
        interval: float = 0.25,
        files_of: Callable[[dt.date], int] | None = None,
        steps: int | None = None,
    ):
        self.stream, self.live, self.delay, self.interval = stream, live, delay, interval
        self.files_of, self.steps = files_of, steps
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = self._stage_t0 = time.monotonic()
        self._drawn = False  # a live line is on the screen
        self._last = ""  # the last line printed (not live)
        self.day: str | None = None
        self.stage = "starting"
        self.files_total: int | None = None
        self.files_done = 0
        self.rows = 0
        self.reading: list[str] = []
        self.step = 0
        self.step_name = ""
        self.dates_done = 0

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Progress:
        self._listening = timing.listening(self.on_phase)
        self._listening.__enter__()
        if self.live:
            self._thread = threading.Thread(target=self._tick, name="recon-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._listening.__exit__(*exc)
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._clear()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._draw()

    # ------------------------------------------------------------------ events

    def on_phase(self, event: str, p: timing.Phase, seconds: float) -> None:
        with self._lock:
            self._update(event, p)
            if self.live:
                self._draw()
            elif not (event == "start" and FILE.match(p.what)):  # a line per file read
                self._print_change()

    def _update(self, event: str, p: timing.Phase) -> None:
        what = p.what
        if what.startswith("plan"):
            if event == "start":
                self._stage("planning (hashing new and changed inbox files)")
        elif m := DAY_PHASE.match(what):
            day, name = m.groups()
            if event == "start":
                self.day = day
                self._stage(STAGES.get(name, name))
                if name == "ingest":
                    self.files_total = self._count_files(day)
                    self.files_done, self.rows, self.reading = 0, 0, []
                elif name == "match and write state":
                    self.step, self.step_name = 0, ""
            elif name == "publish":
                self.dates_done += 1
        elif m := FILE.match(what):
            name = m.group(1)
            if event == "start":
                self.reading.append(name)
            else:
                if name in self.reading:
                    self.reading.remove(name)
                self.files_done += 1
                if p.note and (rows := ROWS.match(p.note)):
                    self.rows += int(rows.group(1).replace(",", ""))
        elif m := STEP.match(what):
            if event == "start":
                self.step += 1
                self.step_name = m.group(1)
        elif WRITE.match(what):
            if event == "start":
                self._stage("writing exceptions, settlements, distributions, state")
        elif event == "start":
            self._stage(what.strip())

    def _stage(self, stage: str) -> None:
        self.stage, self._stage_t0 = stage, time.monotonic()

    def _count_files(self, day: str) -> int | None:
        if self.files_of is None:
            return None
        try:
            return self.files_of(dt.date.fromisoformat(day))
        except Exception:  # a display must never break the run
            return None

    # ------------------------------------------------------------------ text

    def text(self, clock: bool = True) -> str:
        """`[elapsed] recon DATE  what (its elapsed) - detail`; the detail goes last, so a
        narrow terminal cuts it first."""
        parts, detail = ["recon"], ""
        if self.day:
            parts.append(self.day + " ")
        if self.stage == "ingest":
            of = f"/{self.files_total}" if self.files_total is not None else ""
            parts.append(f"ingest {self.files_done}{of} files, {self.rows:,} rows")
            detail = f"reading {', '.join(self.reading)}" if self.reading else ""
        elif self.stage == "matching" and self.step:
            of = f"/{self.steps}" if self.steps else ""
            parts.append(f"matching step {self.step}{of}")
            detail = self.step_name
        else:
            parts.append(self.stage)
        line = " ".join(parts)
        if clock:
            now = time.monotonic()
            line = f"[{_clock(now - self._t0)}] {line} ({_clock(now - self._stage_t0)})"
        return f"{line} - {detail}" if detail else line

    def _due(self) -> bool:
        return time.monotonic() - self._t0 >= self.delay

    def _draw(self) -> None:
        if not self._due():
            return
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r" + self.text()[:width] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def _print_change(self) -> None:
        line = self.text(clock=False)
        if line != self._last and self._due():
            self.stream.write(f"[{_clock(time.monotonic() - self._t0)}] {line}\n")
            self.stream.flush()
        self._last = line

    # ------------------------------------------------------------------ other output

    def message(self, text: str) -> None:
        """Print a whole line (a log record) without mixing it into the progress line."""
        with self._lock:
            self._clear()
            self.stream.write(text + "\n")
            self.stream.flush()
            if self.live:
                self._draw()

    def handler(self, fmt: str = "%(message)s") -> logging.Handler:
        """A logging handler that prints through `message`, for `--verbose` with progress."""
        progress = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                try:
                    progress.message(self.format(record))
                except Exception:
                    self.handleError(record)

        h = _Handler()
        h.setFormatter(logging.Formatter(fmt))
        return h
