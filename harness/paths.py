"""Output paths checked before any work starts: a path that cannot be written is refused with one
``HarnessError`` line naming it, and nothing is created (every verb's ``--out`` and ``--store``).

Writability is tested by creating and removing a probe file in the nearest existing folder, not by
permission bits: root passes every permission check but still cannot write to a read-only mount,
an immutable folder or ``/proc``.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

from optbench.harness.core.errors import HarnessError

SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._=-]{0,119}")  # one path component, not hidden, not "..", short
HASH_MARK = "+"  # never in a safe name: a hashed stem cannot equal another text's stem


def file_stem(text: str) -> str:
    """``text`` as one file or folder name that stays where it is put: the text itself when it is
    short and plain (``sphere``, ``scipy.direct``), else its plain characters (runs of others as
    ``_``, at most 100) plus ``+`` and a hash of the whole text — so ``..``, ``a/b``, 5,000-character
    names and names that read alike (``a/b`` and ``a_b``) all get distinct, safe names."""
    if SAFE_NAME.fullmatch(text):
        return text
    plain = re.sub(r"[^A-Za-z0-9._=-]+", "_", text).lstrip(".")[:100]
    return f"{plain}{HASH_MARK}{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def check_output_folder(path: Path | str, what: str) -> None:
    """Refuse ``path`` unless it is, or can be created as, a writable folder (``what``: ``--out``)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HarnessError(f"{what} {path} is a file; give a folder")
    _check_writable(path, path, what)


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def check_file_kind(path: Path | str, what: str) -> bool:
    """Refuse ``path`` unless it is a regular file (or a link to one) or absent — never a FIFO, a device,
    a socket, a folder or a link that leads nowhere, which would block or be written beside; True if
    it exists. Nothing is opened."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # absent, or under a file (the writability check says so)
        if path.is_symlink():
            raise HarnessError(f"{what} {path} is a symbolic link to {os.readlink(path)}, which does not exist; "
                               "give the file itself") from None
        return False
    except OSError as exc:  # a name too long, a link loop, a folder that cannot be searched
        raise HarnessError(f"{what} {path} cannot be used: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise HarnessError(f"{what} {path} is a folder; give a file path such as {path / 'name'}")
    if not stat.S_ISREG(mode):
        raise HarnessError(f"{what} {path} is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}; "
                           "give a regular file")
    return True


def check_output_file(path: Path | str, what: str) -> None:
    """Refuse ``path`` unless a file can be written there (a folder, a FIFO or a device is refused)."""
    path = Path(path)
    if check_file_kind(path, what) and not os.access(path, os.W_OK):
        raise HarnessError(f"{what} {path} is not writable")
    _check_writable(path, path.parent, what)


def _check_writable(path: Path, folder: Path, what: str) -> None:
    """``folder`` (where ``path`` goes) must exist or be creatable, and accept a new file."""
    existing = folder.absolute()
    while not existing.exists():  # False also under a file (ENOTDIR): the loop stops at that file
        existing = existing.parent
    if not existing.is_dir():
        raise HarnessError(f"cannot write {what} {path}: {existing} is a file, not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".optbench-probe-", dir=existing)
    except OSError as exc:
        raise HarnessError(f"cannot write {what} {path}: {existing} is not writable ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)
