"""What every command shares: refusing a user's mistake in one line, and argument types.

A command's ``main`` is wrapped in :func:`refuses_in_one_line`: a
:class:`~htt_ros.errors.UserError` (bad bag, model folder, data set, checkpoint, engine,
argument) or an ``OSError`` (a path that is missing, unreadable or unwritable) ends it with
``htt-<name>: <problem>; <fix>`` on stderr and exit status 2, the status argparse gives a usage
error. Anything else is a bug and keeps its traceback.
"""

import argparse
import errno
import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from htt_ros.errors import UserError

EXIT_REFUSED = 2

Main = Callable[[Sequence[str] | None], int]

_OS_FIXES = {
    errno.ENOENT: "check the path",
    errno.EACCES: "check its permissions or choose another path",
    errno.EPERM: "check its permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "it is a folder; give a file",
    errno.EEXIST: "choose a new path or delete it",
    errno.ENOSPC: "free some disk space or choose another disk",
}


def command_name(main: Main) -> str:
    """``htt-make-bag`` for the ``main`` of ``htt_make_bag.py`` (module htt_<name> is
    htt-<name>), also when it runs as ``python -m`` (module ``__main__``)."""
    return Path(main.__code__.co_filename).stem.replace("_", "-")


def describe_os_error(error: OSError) -> str:
    """``<path>: <reason>; <fix>`` for a failed file system call."""
    reason = (error.strerror or str(error)).lower()
    fix = _OS_FIXES.get(error.errno, "check the path and its permissions")
    where = f"{error.filename}: " if error.filename is not None else ""
    return f"{where}{reason}; {fix}"


def refuses_in_one_line(main: Main) -> Main:
    """Wrap a command's ``main(argv) -> status``: user errors become one line and status 2."""
    prog = command_name(main)

    @functools.wraps(main)
    def command(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except UserError as error:
            problem = str(error)
        except OSError as error:
            problem = describe_os_error(error)
        print(f"{prog}: {problem}", file=sys.stderr, flush=True)
        return EXIT_REFUSED

    return command


def writable_folder(path: Path, what: str = "output") -> Path:
    """``path`` if it is, or can be made, a folder this user may write; checked before any long
    work, without creating anything.

    :raises UserError: naming the file in the way or the folder that is not writable.
    """
    existing = next(p for p in (path, *path.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{existing} is a file, not a folder; choose a folder for the {what}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{existing} is not writable; choose a folder you may write to")
    return path


def writable_file(path: Path) -> Path:
    """``path`` if a file can be written there (its folder is made when missing).

    :raises UserError: when ``path`` is a folder or its folder cannot be written.
    """
    if path.is_dir():
        raise UserError(f"{path} is a folder; give a file path")
    writable_folder(path.parent, path.name)
    return path


def _number(kind: type, minimum: float, inclusive: bool) -> Callable[[str], int | float]:
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            noun = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun} {bound}") from None
        if value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


positive_int = _number(int, 1, inclusive=True)
non_negative_int = _number(int, 0, inclusive=True)
positive_float = _number(float, 0.0, inclusive=False)
non_negative_float = _number(float, 0.0, inclusive=True)
