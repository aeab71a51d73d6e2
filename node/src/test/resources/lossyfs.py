#!/usr/bin/python3
"""lossyfs: a FUSE pass-through file system that forgets every unsynced write when its daemon exits.

Usage: lossyfs.py BACKING_DIR MOUNT_POINT [FSYNC_LATENCY_MS]
(runs in the foreground until the mount point is unmounted; each fsync first waits a random 0..FSYNC_LATENCY_MS)

Model (see docs/testing.md):
- File content (write(), mmap write-back, truncate/ftruncate, the size) is visible through the mount at once but
  held in this process's memory, per file, as dirty 4 KiB pages plus a pending size. fsync/fdatasync of the file
  (FUSE_FSYNC; msync(MS_SYNC), FileChannel.force and MappedByteBuffer.force reach it as writes then an fsync)
  applies that file's pending content to the backing file. Nothing else ever does.
- Directory operations (create, mkdir, rename, unlink, rmdir, symlink) are applied to the backing directory at
  once: durable immediately and in order, like a journaling file system that commits metadata synchronously. A
  file created or renamed without an fsync of its content therefore survives a cut with its old durable content
  (empty if it never was fsynced). fsyncdir is accepted and does nothing. Hard links are refused (EOPNOTSUPP).
- A power cut is: turn the power off ('off' on stdin: from the answer 'off' on stdout, fsyncs, including those
  already in flight, and directory operations fail with EIO), kill the writer, unmount (the kernel hands its remaining dirty pages over as writes, which only
  become pending), and let this process exit: every pending page is dropped. The backing directory then holds
  exactly what was fsynced, and a new daemon on it starts clean.
The backing files themselves are never fsynced to the real disk: the backing directory does not lose power.
"""

import errno
import os
import random
import sys
import time
import threading

import fusepy

PAGE = 4096
NO_FLOOR = 1 << 62
# Requests that make something durable; refused with EIO once the power is off.
DURABLE_OPS = {'fsync', 'fsyncdir', 'create', 'mknod', 'mkdir', 'rmdir', 'unlink', 'rename', 'symlink', 'link',
               'chmod', 'chown', 'utimens'}


class FileState:
    """One file's pending (unsynced) content over its backing file. Guarded by LossyFs.mutex."""

    def __init__(self, fd):
        self.fd = fd                  # O_RDWR fd of the backing file; follows renames and unlinks
        self.size = os.fstat(fd).st_size  # the size readers see
        self.floor = NO_FLOOR         # backing bytes at or above this offset were truncated away (pending)
        self.pages = {}               # page number -> bytearray(PAGE): pending content
        self.opens = 0

    def dirty(self):
        return bool(self.pages) or self.floor != NO_FLOOR or self.size != os.fstat(self.fd).st_size

    def base_page(self, n):
        """Durable content of page n as readers must see it (zeros past a pending truncation or the file end)."""
        start = n * PAGE
        valid = min(self.floor, os.fstat(self.fd).st_size) - start
        page = bytearray(PAGE)
        if valid > 0:
            data = os.pread(self.fd, min(PAGE, valid), start)
            page[:len(data)] = data
        return page

    def read(self, size, offset):
        end = min(offset + size, self.size)
        if offset >= end:
            return b''
        if not self.pages:
            valid = min(self.floor, os.fstat(self.fd).st_size)
            data = os.pread(self.fd, max(0, min(end, valid) - offset), offset) if offset < valid else b''
            return data + bytes(end - offset - len(data))
        out = bytearray()
        pos = offset
        while pos < end:
            n = pos // PAGE
            page = self.pages.get(n)
            if page is None:
                page = self.base_page(n)
            chunk_end = min(end, (n + 1) * PAGE)
            out += page[pos - n * PAGE:chunk_end - n * PAGE]
            pos = chunk_end
        return bytes(out)

    def write(self, data, offset):
        pos = 0
        while pos < len(data):
            n = (offset + pos) // PAGE
            page = self.pages.get(n)
            if page is None:
                page = self.base_page(n)
                self.pages[n] = page
            at = (offset + pos) - n * PAGE
            take = min(PAGE - at, len(data) - pos)
            page[at:at + take] = data[pos:pos + take]
            pos += take
        self.size = max(self.size, offset + len(data))
        return len(data)

    def truncate(self, length):
        if length < self.size:
            for n in [n for n in self.pages if n * PAGE >= length]:
                del self.pages[n]
            tail = self.pages.get(length // PAGE)
            if tail is not None:
                at = length % PAGE
                tail[at:] = bytes(PAGE - at)
            self.floor = min(self.floor, length)
        self.size = length

    def sync(self):
        """Makes the pending content durable: the backing file becomes what readers see."""
        if self.floor < os.fstat(self.fd).st_size:
            os.ftruncate(self.fd, self.floor)
        if os.fstat(self.fd).st_size != self.size:
            os.ftruncate(self.fd, self.size)
        for n in sorted(self.pages):
            start = n * PAGE
            if start < self.size:
                os.pwrite(self.fd, bytes(self.pages[n][:min(PAGE, self.size - start)]), start)
        self.pages.clear()
        self.floor = NO_FLOOR

    def pending_bytes(self):
        return len(self.pages) * PAGE


class LossyFs(fusepy.Operations):
    use_ns = True

    def __init__(self, backing, fsync_latency_ms):
        self.backing = os.path.realpath(backing)
        self.fsync_latency_ms = fsync_latency_ms
        self.mutex = threading.Lock()
        self.by_path = {}   # mount path -> FileState, while open or dirty
        self.handles = {}   # fh -> FileState
        self.next_fh = 1
        self.fsyncs = 0
        self.power_off = False

    def __call__(self, op, *args):
        if op == 'fsync' and self.fsync_latency_ms > 0:
            # A disk whose flushes take time and finish in any order: the wait is outside the lock, so other
            # requests (and other files' fsyncs) go on meanwhile; the content applied is the file's at the end.
            time.sleep(random.uniform(0, self.fsync_latency_ms) / 1000)
        with self.mutex:
            if self.power_off and op in DURABLE_OPS:
                raise OSError(errno.EIO, 'lossyfs: the power is off')
            return super().__call__(op, *args)

    def power_off_on_request(self):
        """Reads commands from stdin; 'off' turns the power off: from the answer 'off' on (printed to stdout),
        nothing more becomes durable, so fsyncs still in flight (waiting their latency) are lost as well."""
        for line in sys.stdin:
            if line.strip() == 'off':
                with self.mutex:
                    self.power_off = True
                print('off', flush=True)

    def _real(self, path):
        return self.backing + path

    def _state(self, path):
        st = self.by_path.get(path)
        if st is None:
            st = FileState(os.open(self._real(path), os.O_RDWR))
            self.by_path[path] = st
        return st

    def _forget_if_idle(self, path, st):
        if st.opens == 0 and not st.dirty():
            os.close(st.fd)
            if path is not None and self.by_path.get(path) is st:
                del self.by_path[path]

    def _path_of(self, st):
        for p, s in self.by_path.items():
            if s is st:
                return p
        return None

    # files
    def create(self, path, mode, fi=None):
        fd = os.open(self._real(path), os.O_CREAT | os.O_EXCL | os.O_RDWR, mode)
        st = self.by_path.get(path)
        if st is not None:  # a stale state of an earlier file of that name
            del self.by_path[path]
        st = FileState(fd)
        self.by_path[path] = st
        return self._handle(st)

    def open(self, path, flags):
        return self._handle(self._state(path))

    def _handle(self, st):
        st.opens += 1
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = st
        return fh

    def release(self, path, fh):
        st = self.handles.pop(fh)
        st.opens -= 1
        if st.opens == 0 and not st.dirty():
            self._forget_if_idle(self._path_of(st), st)
        return 0

    def read(self, path, size, offset, fh):
        return self.handles[fh].read(size, offset)

    def write(self, path, data, offset, fh):
        return self.handles[fh].write(data, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None and fh in self.handles:
            self.handles[fh].truncate(length)
            return 0
        st = self._state(path)
        st.truncate(length)
        self._forget_if_idle(path, st)
        return 0

    def fsync(self, path, datasync, fh):
        self.handles[fh].sync()
        self.fsyncs += 1
        return 0

    def flush(self, path, fh):
        return 0

    def getattr(self, path, fh=None):
        st = self.handles.get(fh) if fh is not None else None
        if st is None and path is not None:
            st = self.by_path.get(path)
        s = os.fstat(st.fd) if st is not None else os.lstat(self._real(path))
        attrs = {k: getattr(s, k) for k in ('st_mode', 'st_nlink', 'st_uid', 'st_gid', 'st_ino',
                                            'st_atime_ns', 'st_mtime_ns', 'st_ctime_ns', 'st_blocks')}
        attrs['st_atime'], attrs['st_mtime'], attrs['st_ctime'] = (
            attrs.pop('st_atime_ns'), attrs.pop('st_mtime_ns'), attrs.pop('st_ctime_ns'))
        attrs['st_size'] = st.size if st is not None else s.st_size
        return attrs

    # directory operations: applied to the backing directory at once
    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._real(path))

    def mkdir(self, path, mode):
        os.mkdir(self._real(path), mode)

    def rmdir(self, path):
        os.rmdir(self._real(path))

    def unlink(self, path):
        os.unlink(self._real(path))
        st = self.by_path.pop(path, None)
        if st is not None and st.opens == 0:
            os.close(st.fd)  # its pending content dies with the name; open handles keep theirs

    def rename(self, old, new):
        os.rename(self._real(old), self._real(new))
        replaced = self.by_path.pop(new, None)
        if replaced is not None and replaced.opens == 0:
            os.close(replaced.fd)
        for p in [p for p in self.by_path if p == old or p.startswith(old + '/')]:
            self.by_path[new + p[len(old):]] = self.by_path.pop(p)

    def link(self, target, source):
        raise OSError(errno.EOPNOTSUPP, 'lossyfs: no hard links')

    def symlink(self, target, source):
        os.symlink(source, self._real(target))

    def readlink(self, path):
        return os.readlink(self._real(path))

    def fsyncdir(self, path, datasync, fh):
        return 0

    def chmod(self, path, mode):
        os.chmod(self._real(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._real(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._real(path), ns=times)

    def access(self, path, amode):
        if not os.access(self._real(path), amode):
            raise OSError(errno.EACCES, path)

    def statfs(self, path):
        s = os.statvfs(self._real(path))
        return {k: getattr(s, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail',
                                           'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def destroy(self, path):
        pending = [(p, s.pending_bytes()) for p, s in self.by_path.items() if s.dirty()]
        print('lossyfs: unmounted after %d fsyncs; dropping pending content of %d files (%d bytes in pages)%s'
              % (self.fsyncs, len(pending), sum(b for _, b in pending),
                 ''.join('\n  %s: %d' % e for e in sorted(pending)[:50])), file=sys.stderr, flush=True)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit('usage: lossyfs.py BACKING_DIR MOUNT_POINT [FSYNC_LATENCY_MS]')
    latency = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
    fs = LossyFs(sys.argv[1], latency)
    threading.Thread(target=fs.power_off_on_request, daemon=True).start()
    fusepy.FUSE(fs, sys.argv[2], foreground=True, nothreads=False, big_writes=True,
                max_write=131072, hard_remove=True, fsname='lossyfs', subtype='lossyfs')


if __name__ == '__main__':
    main()
