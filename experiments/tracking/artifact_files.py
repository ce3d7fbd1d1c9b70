"""A run's artifacts in a local artifact folder, handled as MLflow's local artifact repository handles them, for
:mod:`.direct`: which locations are plain local folders (and how MLflow names a run's folder in one), a file copied
in through a staging file renamed into place (its mode and times kept), an artifact removed.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

STAGING_PREFIX = ".artifact.uploading."  # MLflow's own: its listings hide such files, and it refuses such names

# file:///a/b or /a/b: no empty, "." or ".." part, no query, fragment, backslash, ";" (URL parsing splits the last
# part's parameters off at it), or tab or line break (which URL parsing drops); %XX escapes (Path.as_uri()'s, for a
# folder whose name holds a space, say) stand for the characters they escape, as MLflow reads them
_PLAIN_LOCATION = re.compile(r"^(file://)?(/(?!\.\.?(/|$))([^/?#%;\\\t\n\r]|%[0-9A-Fa-f]{2})+)+$")


def local_path(location: str) -> str:
    """The local path of a ``file:`` URI or of a bare path, as MLflow reads it (its ``local_file_uri_to_path``: the
    URI's path, its %XX escapes decoded)."""
    path = urlparse(location).path if location.startswith("file:") else location
    return _decoded(path) or _url2pathname(path)


def _decoded(path: str) -> str | None:
    """``path`` with its escapes decoded where every Python decodes them alike (UTF-8 on a UTF-8 filesystem), else
    None."""
    if "%" not in path:
        return path
    if sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
        return None
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError:  # decoded differently by different Pythons' url2pathname
        return None


def _url2pathname(path: str) -> str:
    from urllib.request import url2pathname  # what MLflow calls (imported only here: it takes 25 ms)

    return url2pathname(path)


def local_folder(location: str | None) -> Path | None:
    """The folder of an artifact location written the plain way (``file:///a/b`` or ``/a/b``, as the runner writes
    them, ``%20`` and other escapes of UTF-8 text read as MLflow reads them), None for any other (MLflow decides:
    another scheme, a host, a query, ``//``, a trailing ``/``, an escape that makes a part empty, ``.`` or ``..``)."""
    if not location or not _PLAIN_LOCATION.match(location):
        return None
    path = _decoded(location[len("file://"):] if location.startswith("file://") else location)
    if path is None or "\\" in path or "\0" in path or any(part in ("", ".", "..") for part in path.split("/")[1:]):
        return None
    return Path(path)


def joined(location: str, *parts: str) -> str:
    """A plain ``location`` (see :func:`local_folder`) with ``parts`` appended, as MLflow appends them."""
    return "/".join([location, *parts])


def is_plain_relative(path: str) -> bool:
    """An artifact path of plain parts (``checkpoint``, ``plots/deeper``): nothing MLflow would normalise."""
    return all(part not in ("", ".", "..") for part in path.split("/")) and "\\" not in path


def can_copy(local_path: str) -> bool:
    """A file MLflow copies as it is: it exists, and its name is not one MLflow reserves for staging."""
    return os.path.isfile(local_path) and not os.path.basename(local_path).startswith(STAGING_PREFIX)


def copy_into(folder: Path, local_path: str) -> None:
    """``local_path`` copied into ``folder`` (made if missing) under its own name, through a staging file beside
    it renamed into place, so that a reader never sees half a file; permissions and times as the source's."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(dir=folder, prefix=STAGING_PREFIX)
    try:
        with os.fdopen(handle, "wb") as copy, open(local_path, "rb") as source:
            shutil.copyfileobj(source, copy, length=1 << 20)
        shutil.copystat(local_path, staging)
        os.replace(staging, folder / os.path.basename(local_path))
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def remove(path: Path) -> None:
    """An artifact file or folder removed; nothing when it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
