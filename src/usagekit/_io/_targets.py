"""Where an export to a path lands: checked first, written atomically.

Written to a path, a file appears only complete: the writer fills a hidden temporary file next
to it, flushes it to disk and renames it into place at the end, and removes it if anything fails
on the way (a full disk, a file size limit, Ctrl-C), so the previous file stays as it was. The
target must be a regular file or a new path: a symlink is written through (the file it points
to is replaced, the link stays), the existing file's permission bits (and, where allowed, its
owner) are kept, and a directory, device or FIFO is refused with
:class:`~usagekit.ExportError` before anything is written (see :func:`export_target`).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO, TypeAlias

from .._core.errors import ExportError

__all__ = [
    "ExportTarget",
    "PathLike",
    "TextTarget",
    "describe",
    "export_target",
    "replacing",
    "text_sink",
    "text_source",
]

PathLike: TypeAlias = str | os.PathLike[str]
"""A file system path."""
TextTarget: TypeAlias = str | os.PathLike[str] | IO[str]
"""A path, or an open text stream."""


def describe(target: object) -> str | None:
    if isinstance(target, (str, os.PathLike)):
        return os.fspath(target)
    name = getattr(target, "name", None)
    return name if isinstance(name, str) else None


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


@dataclass(frozen=True)
class ExportTarget:
    """Where an export to a path lands, checked before anything is written.

    Attributes:
        path: The file that is replaced: the path given, or the file a symlink points to.
        mode: The permission bits of the file there, or None when there is none yet.
        uid: Its owner, or None when there is no file yet.
        gid: Its group, or None when there is no file yet.
    """

    path: str
    mode: int | None
    uid: int | None
    gid: int | None


def export_target(path: PathLike) -> ExportTarget:
    """Check the path an export is about to replace, without writing anything.

    An export replaces a regular file, or creates a new one. A symlink is followed: the file it
    points to is replaced (created when the link dangles) and the link stays. Anything else
    (a directory, a device such as ``/dev/null``, a FIFO, a socket) is refused, because
    replacing it with a regular file would destroy it.

    Args:
        path: The target.

    Returns:
        The file to replace, with the permission bits and owner to keep.

    Raises:
        ExportError: The path is empty, or names (or links to) something that is not a
            regular file.
        OSError: The path cannot be examined (a symlink loop, no permission to search a
            folder), or the file there is read-only to this process (``PermissionError``;
            an export never replaces a file that opening for writing would refuse).
    """
    given = os.fspath(path)
    if not given:
        raise ExportError("the target path is empty")
    final = os.path.realpath(given) if os.path.islink(given) else given
    try:
        info = os.stat(final)
    except FileNotFoundError:
        return ExportTarget(final, None, None, None)
    if not stat.S_ISREG(info.st_mode):
        through = f" (the symlink points to {final})" if final != given else ""
        raise ExportError(
            f"is {_kind(info.st_mode)}{through}, not a regular file; an export only replaces "
            "a regular file or creates a new one, so nothing was written",
            source=given,
        )
    if not os.access(final, os.W_OK):  # what opening it for writing would refuse
        raise PermissionError(errno.EACCES, "the file is read-only", given)
    return ExportTarget(final, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)


def _keep_owner_and_mode(temporary: str, target: ExportTarget) -> None:
    """Give the new file the existing file's owner (where allowed) and permission bits."""
    if target.mode is None:
        return
    chown = getattr(os, "chown", None)
    owner = (target.uid, target.gid)
    if chown is not None and owner != (os.geteuid(), os.getegid()):
        try:
            chown(temporary, target.uid, target.gid)
        except OSError:  # not root: keep at least the group, when a member of it
            with suppress(OSError):
                chown(temporary, -1, target.gid)
    os.chmod(temporary, target.mode)  # after chown, which may clear set-id bits


def _sync_folder(folder: str) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        descriptor = os.open(folder or ".", flags)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def replacing(path: PathLike) -> Iterator[str]:
    """Yield a temporary file next to ``path``, renamed onto it only if the block succeeds.

    The target is checked first (:func:`export_target`): a symlink is written through, and
    anything but a regular file is refused before anything is written. The temporary file is
    created in the target's folder (so the rename is atomic) with the existing file's
    permission bits and, where allowed, its owner (a new file gets the usual ``0666`` less the
    umask); it never holds data with wider permissions than the file it replaces. At the end it
    is flushed to disk (``fsync``), renamed over the target, and the rename made durable. If
    the block raises (a full disk, a file size limit, Ctrl-C), the temporary file is removed and
    the previous file is untouched.

    Args:
        path: The final file.

    Yields:
        The temporary path to write: an empty file, created; open it for writing (truncating
        is fine).

    Raises:
        ExportError: The target is not a regular file (see :func:`export_target`).
        OSError: The temporary file cannot be created, written or renamed.
    """
    target = export_target(path)
    directory, name = os.path.split(target.path)
    temporary = os.path.join(directory, f".{name[:200]}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(temporary, flags, 0o666 if target.mode is None else 0o600)
    except OSError as exc:  # name the target, not the hidden temporary file
        raise OSError(exc.errno, exc.strerror, os.fspath(path)) from exc
    try:
        try:
            _keep_owner_and_mode(temporary, target)
            yield temporary
            os.fsync(descriptor)  # the data is on disk before the rename makes it visible
        finally:
            os.close(descriptor)
        export_target(path)  # still a regular file (or nothing) after the time spent writing
        os.replace(temporary, target.path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(directory)


@contextmanager
def text_sink(target: TextTarget) -> Iterator[IO[str]]:
    """Yield a text stream for ``target``: an open stream as is, or a path written atomically.

    Args:
        target: A path (written as UTF-8 through :func:`replacing`) or an open text stream
            (left open).

    Yields:
        The stream to write.

    Raises:
        ExportError: The path is not a regular file (see :func:`export_target`).
        OSError: The file cannot be written.
    """
    if isinstance(target, (str, os.PathLike)):
        with (
            replacing(target) as temporary,
            open(temporary, "w", encoding="utf-8", newline="") as handle,
        ):
            yield handle
    else:
        yield target


@contextmanager
def text_source(source: TextTarget, *, encoding: str) -> Iterator[IO[str]]:
    if isinstance(source, (str, os.PathLike)):
        with open(source, encoding=encoding, newline="") as handle:
            yield handle
    else:
        yield source
