"""The one way anything the user asked for is written to disk (`--out`, reports, stores, runs).

Nothing a user owns is lost, by construction:
- an output that resolves to one of the command's inputs (a store, a table, a spec, a
  checkpoint, a data folder) is refused before any work;
- a symlink is written through: its target is replaced, the link stays;
- device nodes, FIFOs, sockets and other non-regular targets are refused (print to stdout
  instead of `--out /dev/stdout`);
- the text goes to a temporary file beside the target and is renamed over it, so a failed
  write leaves the old file intact and a failed command creates no file;
- `locked(path)` holds an exclusive lock while a run or a store is written: a second writer gets
  a clear error, not a silent race.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path


class OutputError(ValueError):
    """An output path that cannot or must not be written."""


def resolved_target(path: str | Path) -> Path:
    """Where writing `path` really lands: symlinks followed (also a dangling one's target)."""
    return Path(os.path.realpath(Path(path).expanduser()))


def check_output(path: str | Path, *, inputs: Iterable[str | Path | None] = (), option: str = "--out",
                 directory: bool = False, data_folders: Iterable[str | Path] = ()) -> Path:
    """The real target of `path`, or an OutputError naming `option`, the problem and the fix.

    `inputs` are the files/folders the command reads: an output resolving to one of them, or inside
    an input folder, is refused. `data_folders` are folders the command reads some files of: a new
    file may go there, but an existing one (a README, another table) is not replaced.
    `directory=True` checks a folder to write into instead of a file.
    """
    if not str(path).strip():
        raise OutputError(f"{option} is empty; give a path, e.g. results/out.json")
    _refuse_special(path, option)
    target = resolved_target(path)
    _refuse_inputs(target, inputs, option)
    _refuse_replacing_data(target, data_folders, option)
    if target.exists():
        mode = target.stat().st_mode
        if directory and not stat.S_ISDIR(mode):
            raise OutputError(f"{option} {path} is a file; give a directory (new or existing)")
        if not directory and stat.S_ISDIR(mode):
            raise OutputError(f"{option} {path} is a directory; give a file name such as {Path(path) / 'out.json'}")
        if not directory and not stat.S_ISREG(mode):
            raise OutputError(f"{option} {path} is not a regular file (a device, FIFO or socket); give a "
                              f"file path, or leave out {option} to print to stdout")
    _check_parent_writable(target if directory else target.parent, path, option)
    return target


_SPECIAL = (Path("/dev"), Path("/proc"), Path("/sys"))  # device nodes, stdio and kernel files live here
_ORDINARY = Path("/dev/shm")  # a tmpfs of ordinary files


def _refuse_special(path: str | Path, option: str) -> None:
    """/dev/stdout, /dev/full, /proc/self/fd/1 ...: refused whatever they resolve to (/dev/stdout may
    resolve to the file the shell redirected to, which must not be replaced behind its back)."""
    given = Path(os.path.abspath(Path(path).expanduser()))
    if _ORDINARY in given.parents and _ORDINARY in resolved_target(path).parents:
        return
    if any(folder == given or folder in given.parents for folder in _SPECIAL) or \
            any(folder in resolved_target(path).parents for folder in _SPECIAL):
        raise OutputError(f"{option} {path} is a device or kernel file, not a regular file; give a file path, or "
                          f"leave out {option} to print to stdout")


def _refuse_inputs(target: Path, inputs: Iterable[str | Path | None], option: str) -> None:
    for given in inputs:
        if given is None or not str(given).strip():
            continue
        source = resolved_target(given)
        if target == source or (source.is_dir() and source in target.parents):
            raise OutputError(f"{option} {target} is an input of this command ({given}); writing it would "
                              f"destroy the input: give another {option} path")


def _refuse_replacing_data(target: Path, folders: Iterable[str | Path], option: str) -> None:
    for folder in folders:
        if target.exists() and resolved_target(folder) in target.parents:
            raise OutputError(f"{option} {target} already exists in the data folder {folder}; writing it would "
                              f"replace that file: give a new file name or another folder")


def _check_parent_writable(folder: Path, given: str | Path, option: str) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        raise OutputError(f"{option} {given}: {existing} is a file, not a directory; choose another path")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"{option} {given}: cannot write in {existing} (permission denied); choose a "
                          f"writable place")


def write_atomic(path: str | Path, data: str | bytes, *, inputs: Iterable[str | Path | None] = (),
                 option: str = "--out") -> Path:
    """Write `data` to `path` through a temporary file (see the module docstring); returns the real
    target written. A failure leaves any old file intact and no partial file behind."""
    target = check_output(path, inputs=inputs, option=option)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        if isinstance(data, str):
            partial.write_text(data)
        else:
            partial.write_bytes(data)
        if target.exists():
            os.chmod(partial, stat.S_IMODE(target.stat().st_mode))
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputError(f"cannot write {option} {path}: {error.strerror or error}; choose a writable "
                          f"place") from None
    return target


# Locks taken with `handing_on=True`, and which thread holds them: flock refuses a second open
# file description even in the same process, so the callee's own `locked` of the path is let through.
_HELD: dict[Path, tuple[int, int]] = {}


@contextlib.contextmanager
def locked(path: str | Path, what: str = "file", *, handing_on: bool = False) -> Iterator[Path]:
    """Hold an exclusive advisory lock on `path` (a run folder or a store file) while writing it.

    The lock lives in a sibling `.NAME.lock` file so it works for folders and files alike, and is
    released when the process ends, even if killed. A second writer gets an OutputError at once.
    `handing_on`: code this thread calls inside the block (a sweep point's trainer) may lock `path`
    again and write it; any other writer is still refused.
    """
    target = resolved_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    holder = (os.getpid(), threading.get_ident())
    if _HELD.get(lock_path) == holder:  # nested in this thread (a sweep point's folder, then its trainer)
        yield target
        return
    handle = open(lock_path, "a+")  # noqa: SIM115 (held for the duration of the context)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputError(f"{what} {path} is being written by another process; wait for it to "
                                  f"finish or choose another path") from None
            raise
        if not handing_on:
            yield target
            return
        _HELD[lock_path] = holder
        try:
            yield target
        finally:
            _HELD.pop(lock_path, None)
    finally:
        handle.close()
