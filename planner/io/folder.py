"""All-or-nothing output folders and file checksums."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from planner.errors import InputDataError
from planner.routing.forkpool import Started


def hash_file(path: Path) -> str:
    """sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_one(state: Mapping[str, Any], name: str) -> float:
    """Call one writer; return its wall seconds."""
    start = time.perf_counter()
    state["writers"][name](state["tmp"] / name)
    return time.perf_counter() - start


def write_folder_atomically(out_dir: Path, writers: Mapping[str, Callable[[Path], None]], *,
                            marker: str, what: str, forked: Collection[str] = (),
                            seconds: dict[str, float] | None = None) -> Path:
    """Call each ``name -> writer(path)`` into a temp folder, then move it to ``out_dir``.

    A failure leaves ``out_dir`` as it was (absent, or the previous output). An existing
    ``out_dir`` is replaced only when it holds ``marker`` (a previous output of the same kind).
    Writers are called in order; those named in ``forked`` are started at their turn in forked
    child processes (sharing this process's data copy-on-write, and what the writers before
    them made) while this process goes on with the next; all finish before the folder moves.
    ``seconds``, when given, receives each file's writing time.

    Raises
    ------
    InputDataError
        ``out_dir`` is a file, or a non-empty folder without ``marker``.
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.is_file():
        msg = f"--out {out_dir} is a file; give a folder path"
        raise InputDataError(msg)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / marker).is_file():
        msg = (f"--out {out_dir} is a non-empty folder that is not a careplan {what}; "
               "choose a new one")
        raise InputDataError(msg)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    tmp.chmod(0o755)
    state = {"writers": writers, "tmp": tmp}
    children: dict[str, Started[float]] = {}
    took = seconds if seconds is not None else {}
    try:
        for name in writers:  # in order; a forked one starts at its turn
            if name in forked:
                children[name] = Started(_write_one, name, state)
            else:
                took[name] = _write_one(state, name)
        for name, child in children.items():
            took[name] = child.result()
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    finally:
        for child in children.values():
            child.cancel()
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
