# An nbdkit plugin (nbdkit -U SOCKET python nbd_failing.py file=IMG
# faillist=LIST): a raw disk image whose reads fail with EIO wherever a test
# says so, changed while the machine runs. QEMU's NVMe device turns the EIO
# into status 0x281 (unrecovered read error), as a failing disk would.
#
# LIST holds byte ranges, one per line, "START LENGTH" (decimal or 0x hex;
# '#' starts a comment). It is read again whenever it changes, so a test
# arms a failure by writing the file (write a new file and rename it over
# LIST: a half-written list is never read). A read of any byte of a listed
# range fails whole; writes always succeed, so a page can still be paged
# out to a failing block and fails only when it is read back.
# Each failed read is logged on stderr: "nbd_failing: read of N bytes at O failed".
import builtins
import errno
import os
import sys

import nbdkit

API_VERSION = 2

_path = None
_list_path = None
_fd = -1
_list_key = None
_ranges = []


def config(key, value):
    global _path, _list_path
    if key == "file":
        _path = value
    elif key == "faillist":
        _list_path = value
    else:
        raise RuntimeError("nbd_failing: unknown parameter %s" % key)


def config_complete():
    global _fd
    if _path is None or _list_path is None:
        raise RuntimeError("nbd_failing: file= and faillist= are required")
    _fd = os.open(_path, os.O_RDWR)


def thread_model():
    return nbdkit.THREAD_MODEL_SERIALIZE_ALL_REQUESTS


def open(readonly):
    return 1


def get_size(h):
    return os.fstat(_fd).st_size


def can_write(h):
    return True


def can_flush(h):
    return True


def _parse(text):
    ranges = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) != 2:
            continue
        start, length = int(words[0], 0), int(words[1], 0)
        if length > 0:
            ranges.append((start, start + length))
    return ranges


def _failing(offset, count):
    global _list_key, _ranges
    try:
        st = os.stat(_list_path)
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        key = None
    if key != _list_key:
        _list_key = key
        _ranges = []
        if key is not None:
            with builtins.open(_list_path) as f:  # open() is the plugin's own callback
                _ranges = _parse(f.read())
    end = offset + count
    return any(start < end and offset < stop for start, stop in _ranges)


def pread(h, buf, offset, flags):
    if _failing(offset, len(buf)):
        print("nbd_failing: read of %d bytes at %d failed" % (len(buf), offset), file=sys.stderr, flush=True)
        nbdkit.set_error(errno.EIO)
        raise OSError(errno.EIO, "injected read error")
    data = os.pread(_fd, len(buf), offset)
    buf[:len(data)] = data
    if len(data) < len(buf):
        buf[len(data):] = bytes(len(buf) - len(data))


def pwrite(h, buf, offset, flags):
    n = os.pwrite(_fd, buf, offset)
    if n != len(buf):
        nbdkit.set_error(errno.EIO)
        raise OSError(errno.EIO, "short write")


def flush(h, flags):
    os.fsync(_fd)
