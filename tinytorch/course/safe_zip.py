"""Reading zips that came from learners, with limits: a bad zip is a message, never a crash.

`tinytorch collect` never extracts a zip: it reads the members it needs into memory and writes
them to paths it makes itself, so a member's name can't choose where anything is written. The
limits here stop what would still hurt: a member that inflates to gigabytes (a zip bomb; the
size a zip declares can lie, so reading stops at the limit whatever it says), zips nested
without end, and members that can't be what a learner saved (symbolic links, absolute paths,
`..`), which are reported and left out.
"""
import io
import stat
import zipfile
import zlib
from pathlib import PurePosixPath

from .notebook_check import MAX_NOTEBOOK_BYTES

MAX_MEMBER_BYTES = MAX_NOTEBOOK_BYTES   # one member, inflated (a nested zip or a notebook)
MAX_NESTING = 3                          # a download-all zip of hand-in zips is 2 levels
MAX_MEMBERS = 10_000


class UnreadableZip(Exception):
    "A zip, or a member of one, that can't be read; the message says why (without the zip's name)."


def open_zip(source) -> zipfile.ZipFile:
    "A ZipFile on a path or on bytes; UnreadableZip when it is not a zip we can read."
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise UnreadableZip(f"is not a valid zip ({e})") from None
    if len(zf.infolist()) > MAX_MEMBERS:
        zf.close()
        raise UnreadableZip(f"holds more than {MAX_MEMBERS} files")
    return zf


def member_problem(info: zipfile.ZipInfo) -> str | None:
    "Why a member must be left out unread, or None."
    name = info.filename
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "has '..' in its path"
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"is {info.file_size / 2**20:.0f} MB once unpacked, more than {MAX_MEMBER_BYTES / 2**20:g} MB"
    return None


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = None) -> bytes:
    "The member's bytes, reading at most `limit` (UnreadableZip past it: the declared size may lie)."
    limit = MAX_MEMBER_BYTES if limit is None else limit
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
        raise UnreadableZip(f"can't be unpacked ({e})") from None
    if len(data) > limit:
        raise UnreadableZip(f"is more than {limit / 2**20:g} MB once unpacked")
    return data
