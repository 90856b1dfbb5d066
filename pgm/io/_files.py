"""Reading and writing files safely.

Writes are atomic: the data goes to a temporary file beside the target, is
flushed to disk, and is renamed over the target, so a reader never sees a
half-written network.  The rename keeps what the user would expect of an
in-place overwrite: an existing file keeps its permission bits (and, where
the process may set them, its owner and group), and a symbolic link is
written through to its target instead of being replaced by a regular file.
The directory is synced after the rename so the new name survives a crash.

Reads return text: UTF-8, with a byte-order mark (as Windows editors write
it) skipped, or UTF-16 when the file starts with a UTF-16 byte-order mark.
Bytes that do not decode are a :class:`~pgm.errors.ParseError` naming the
file, line and column.

Every failure names the user's path -- never the temporary file -- and says
what went wrong in words (``cannot write (it is a directory)``).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
import tempfile
from pathlib import Path

from pgm.errors import ParseError

__all__ = ["read_text", "decode_text", "write_text_atomically", "write_bytes_atomically", "MAX_READ_BYTES"]

# The process's umask, read once at import: reading it means setting it, which
# would race with other threads creating files if done on every write.
_UMASK = os.umask(0)
os.umask(_UMASK)

#: Files larger than this are refused before reading: no network or data file
#: pgm reads is this large, and reading one would only exhaust memory.
MAX_READ_BYTES = 1 << 30


def _reworded(error: OSError, path, action: str) -> OSError:
    """``error`` again, of the same class, with the user's path and a plain reason."""
    reason = error.strerror or str(error)
    if isinstance(error, IsADirectoryError):
        reason = "it is a directory"
    elif isinstance(error, FileNotFoundError):
        reason = "no such file" if action == "read" else "its directory does not exist"
    elif isinstance(error, PermissionError):
        reason = "permission denied"
    elif isinstance(error, NotADirectoryError):
        reason = "a part of the path is not a directory"
    reason = (reason[:1].lower() + reason[1:]) or "unknown error"
    return type(error)(error.errno or errno.EIO, f"cannot {action} ({reason})", str(path))


# ---------------------------------------------------------------------------- reading
def read_text(path) -> str:
    """The text of the file at ``path`` (see the module docstring for encodings and errors)."""
    too_large = OSError(errno.EFBIG, f"cannot read (larger than {MAX_READ_BYTES >> 30} GiB)", str(path))
    try:
        with open(path, "rb") as stream:
            info = os.fstat(stream.fileno())
            if stat.S_ISDIR(info.st_mode):  # open() succeeds on directories on some systems
                raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
            if stat.S_ISREG(info.st_mode):
                if info.st_size > MAX_READ_BYTES:
                    raise too_large
                data = stream.read()
            else:  # a pipe or a device: read in pieces, and stop at the limit (think of /dev/zero)
                pieces, total = [], 0
                while piece := stream.read(1 << 20):
                    total += len(piece)
                    if total > MAX_READ_BYTES:
                        raise too_large
                    pieces.append(piece)
                data = b"".join(pieces)
    except OSError as error:
        if error is too_large:
            raise
        raise _reworded(error, path, "read") from None
    return decode_text(data, str(path))


def decode_text(data: bytes, source: str | None = None) -> str:
    """``data`` as text: UTF-8 (a leading byte-order mark dropped) or UTF-16 with its byte-order mark.

    Raises
    ------
    ParseError
        Bytes that are not UTF-8; the message gives the line and column of the first one.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ParseError("the file starts with a UTF-16 byte-order mark but is not UTF-16 text", 1, 1,
                             source) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = decode_error_position(data, error.start)
        raise ParseError(
            f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} cannot be decoded "
            "(a binary file? save the file as UTF-8)", line, column, source
        ) from None


def decode_error_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset`` of ``data``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


# ---------------------------------------------------------------------------- writing
def write_text_atomically(path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_bytes_atomically`)."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    An existing target keeps its permission bits (and owner and group, where
    the process may set them); a symbolic link is followed, so its target is
    replaced and the link kept.

    Raises
    ------
    OSError
        Of the usual subclass (``PermissionError``, ``IsADirectoryError``,
        ``FileNotFoundError``, ...), naming ``path`` and the reason.
    """
    write_atomically(path, lambda stream: stream.write(data))


def write_atomically(path, fill, *, text: bool = False):
    """Let ``fill(stream)`` write a temporary file beside ``path``, then rename it over ``path``.

    The file replaces ``path`` only once ``fill`` returns, so an error half-way
    leaves the old file (or none) in place.  ``text=True`` opens the stream as
    UTF-8 text with newlines untranslated; otherwise it is binary.  Returns
    what ``fill`` returns.  Keeps the mode and owner as
    :func:`write_bytes_atomically` says, and raises the same errors.
    """
    shown = path
    target = Path(os.path.realpath(path))  # through symbolic links, to the file they name
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise _reworded(error, shown, "write") from None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, "cannot write (it is a directory)", str(shown))
    if existing is not None and not os.access(target, os.W_OK):
        # the rename would succeed (it needs only the directory), but overwriting a read-only file must not
        raise PermissionError(errno.EACCES, "cannot write (the file is read-only)", str(shown))
    directory = target.parent
    if not directory.is_dir():
        reason = "is not a directory" if directory.exists() else "does not exist"
        raise FileNotFoundError(errno.ENOENT, f"cannot write (the directory {str(directory)!r} {reason})", str(shown))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except PermissionError:
        raise PermissionError(
            errno.EACCES, f"cannot write (no permission to create files in {str(directory)!r})", str(shown)
        ) from None
    except OSError as error:  # e.g. a read-only file system, or one where files cannot be created at all
        raise type(error)(error.errno, f"cannot write (cannot create files in {str(directory)!r}: "
                          f"{(error.strerror or 'unknown error').lower()})", str(shown)) from None
    try:
        opened = os.fdopen(handle, "w", encoding="utf-8", newline="") if text else os.fdopen(handle, "wb")
        with opened as stream:
            result = fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if existing is None:
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes the file private; give it the usual mode
        else:
            _copy_owner(temporary, existing)
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise _reworded(error, shown, "write") from None
        raise
    _sync_directory(directory)
    return result


def _copy_owner(temporary: str, existing: os.stat_result) -> None:
    """Give the new file the old one's owner and group, where this process may."""
    if not hasattr(os, "chown"):  # pragma: no cover - not POSIX
        return
    for uid, gid in ((existing.st_uid, existing.st_gid), (-1, existing.st_gid)):
        try:
            os.chown(temporary, uid, gid)
            return
        except OSError:
            continue  # not allowed to give the file away: it stays ours, with the old mode


def _sync_directory(directory: Path) -> None:
    """Flush the directory entry of a renamed file to disk (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
