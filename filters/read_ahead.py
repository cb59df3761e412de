"""A second process that reads new texts ahead for `vigile check`, so that a large input is
judged on two cores. Reading a text never seen (normalising it, resolving its tokens, looking
for every kind of match) is most of the work, and needs nothing but the text and the rules;
what depends on the stream's order (the chat's language, who wrote what) stays in one process,
which answers every line, in order, as it would alone."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection

from vigile.filters.matcher import CompiledRules

# The second process reads this share of the new texts; this one reads the rest, answers every
# line and reads again the few texts the other found something in (a tenth of chat or less).
_SHARE = 0.6
FEWEST = 64  # new texts in a batch below which handing them over costs more than it saves


class ReadAhead:
    """Reads texts in a forked copy of this process holding the same compiled rules (nothing is
    copied: the fork shares them). Tied to one rule set: rules swapped in mean a new one."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self.gone = False  # the other process ended (killed, out of memory): not used again
        fork = multiprocessing.get_context("fork")
        self._pipe, theirs = fork.Pipe()
        self._process = fork.Process(target=_serve, args=(rules, theirs, self._pipe), daemon=True)
        self._process.start()
        theirs.close()

    def read(self, texts: list[str]) -> None:
        """Reads `texts` (judged texts, none in the rules' memory yet) on both cores; afterwards
        the rules know, for each, what it holds or that it holds nothing."""
        theirs = round(len(texts) * _SHARE)
        handed, kept = texts[:theirs], texts[theirs:]
        try:
            self._pipe.send(handed)
        except OSError:  # the other process is gone: this one reads everything
            handed, kept, self.gone = [], texts, True
        for text in kept:
            self.rules.read_once(text)
        if not handed:
            return
        try:
            found = self._pipe.recv_bytes()
        except (EOFError, OSError):  # gone midway: its share is read here, nothing is skipped
            self.gone = True
            for text in handed:
                self.rules.read_once(text)
            return
        self.rules.remember_empty(
            t for t, something in zip(handed, found, strict=True) if not something
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._pipe.close()  # the other process sees the end of its input and leaves
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _serve(rules: CompiledRules, pipe: Connection, first: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the first process's to handle
    # Only the first process holds its end of the pipe, so that its end, however it comes,
    # ends this one's input; nor does this one hold the first one's output open.
    first.close()
    with open(os.devnull, "rb+") as nowhere:
        os.dup2(nowhere.fileno(), 1)
    try:
        while True:
            texts = pipe.recv()
            pipe.send_bytes(bytes(rules.read_once(text) for text in texts))
    except (EOFError, OSError):
        pass
    os._exit(0)  # nothing of the first process's (buffers, handlers) is this one's to flush


def worth_a_second_process() -> bool:
    """Two cores or more, and one left idle by everything else: when other work keeps the cores
    busy, the two processes share what one would get and handing texts over is pure cost."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or not hasattr(os, "getloadavg"):
        return False
    return os.getloadavg()[0] + 1.5 <= (cores or 1)
