"""Faults under a running server: full, read-only and vanished data directories, damaged chunk files.

Each test starts its own server(s) on its own directories and drives them over HTTP on
127.0.0.1. The disk faults use small tmpfs mounts (this needs root; the tests skip, saying
why, only when mounting is not permitted). A mount is undone after its server has stopped.

What the server promises (coffer serve --help, --copies): a read falls back to another copy of a chunk
and rewrites a missing or damaged one; a directory failing a write with EIO/EROFS or gone
is marked failed, a full one (ENOSPC) skipped for 10 s; a chunk no directory can take is
507 InsufficientStorage (one was full) or 503 ServiceUnavailable, with nothing of the
object left behind; a GET with no good copy is 503 (copies gone) or 500 (checksum) before
the body starts, and a cut connection after it: never wrong bytes.
"""

import os
import shutil
import subprocess
import time
from collections import namedtuple

import pytest
from botocore.exceptions import ClientError

from s3compat import (
    chunk_files, chunk_path, flip_byte,
    get_raw,
    MiB, AccessLog, assert_absent, data_of, error_code_of, sha256,
    sha256_file, wait_for,
)

FULL_RETRY_SECS = 10  # storage/blob.h BLOB_FULL_RETRY_SECS: how long a full directory is skipped
# server/serve.c rechecks every SPILL_CHECK_MS (100 ms) where large request bodies spill (the roomiest
# usable data directory). A body already being received when its spill directory fails loses its
# connection (h2o gives up on the temp file); tests let the server look again before the next one.
SPILL_RECHECK_SECS = 0.3


# ------------------------------------------------------------------ mounts

class Mounts:
    """tmpfs mounts made by one test; unmount_all undoes them (after the servers on them stopped)."""

    def __init__(self):
        self.points = []

    def _run(self, argv):
        return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=30)

    def tmpfs(self, path, size):
        """Mounts a tmpfs of size bytes on path (created); skips the test when mounting is not permitted."""
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root (euid %d)" % os.geteuid())
        mount = shutil.which("mount") or "/bin/mount"
        path = str(path)
        os.makedirs(path, exist_ok=True)
        p = self._run([mount, "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", path])
        if p.returncode != 0:
            pytest.skip("mount -t tmpfs is not permitted here: %s" % p.stderr.decode("utf-8", "replace").strip())
        self.points.append(path)
        return path

    def remount(self, path, options):
        """mount -o remount,OPTIONS; fails the test when the kernel refuses."""
        mount = shutil.which("mount") or "/bin/mount"
        p = None
        for _ in range(20):  # a busy file system (a write finishing) refuses ro for a moment
            p = self._run([mount, "-o", "remount," + options, str(path)])
            if p.returncode == 0:
                return
            time.sleep(0.1)
        pytest.fail("mount -o remount,%s %s failed: %s" % (options, path, p.stderr.decode("utf-8", "replace")))

    def unmount_all(self):
        umount = shutil.which("umount") or "/bin/umount"
        for path in reversed(self.points):
            for _ in range(20):
                if self._run([umount, path]).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                self._run([umount, "-l", path])
        self.points = []


@pytest.fixture
def mounts():
    m = Mounts()
    yield m
    m.unmount_all()


@pytest.fixture
def start(server_factory, mounts):
    """Starts a private server: start(data_dirs=None, copies=None). Depending on mounts, its
    teardown (which stops the servers) runs before the mounts are undone."""
    made = []

    def make(data_dirs=None, copies=None):
        srv = server_factory(data_dirs=data_dirs, copies=copies)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


def capacity(path):
    s = os.statvfs(str(path))
    return s.f_blocks * s.f_frsize


def roomy_tmpfs(mounts, tmp_path, name, beside):
    """A tmpfs as large as the file system of beside. The server weights chunk placement by the
    capacity it measures at start, so a tmpfs the size of the disk next to it gets about half the
    chunks (a small one would get almost none); remount it smaller afterwards to fill it."""
    return mounts.tmpfs(tmp_path / name, capacity(beside))


# ------------------------------------------------------------------ files and logs

def chunk_ids(data_dir):
    """The chunk file names (16 hex digits) under data_dir/chunks."""
    return set(chunk_files(data_dir))


def tmp_files(data_dir):
    tmp = os.path.join(data_dir, "tmp")
    return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


def log_since(srv, offset):
    with open(srv.log_path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def wait_log(srv, offset, needle, timeout=5.0):
    """Waits (bounded) for needle in the server's output after offset; returns that output."""
    wait_for(lambda: needle in log_since(srv, offset), timeout=timeout)
    return log_since(srv, offset)


def attempt(fn, **kw):
    """(HTTP status, error code) of a boto3 call; (None, what happened) when no response came."""
    try:
        r = fn(**kw)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")
    except Exception as e:  # a connection closed or reset before any response
        return None, "no response: %s: %s" % (type(e).__name__, e)
    return r["ResponseMetadata"]["HTTPStatusCode"], None


def put(client, bucket, key, data):
    """A PUT that must succeed."""
    got = attempt(client.put_object, Bucket=bucket, Key=key, Body=data)
    assert got == (200, None), "PUT %s (%d bytes): %r" % (key, len(data), got)


def put_tracked(srv, client, bucket, key, data):
    """PUTs an object and returns {data dir: set of chunk ids it added there} (PUTs one at a time)."""
    before = [chunk_ids(d) for d in srv.data_dirs]
    put(client, bucket, key, data)
    return {d: chunk_ids(d) - b for d, b in zip(srv.data_dirs, before)}


# ------------------------------------------------------------------ GET without a client library's retries

Got = namedtuple("Got", "status code body complete")


def get(srv, bucket, key, first=None, last=None, timeout=30):
    """A signed GET (optionally of bytes first..last) as Got; see s3compat.get_raw."""
    status, body, complete = get_raw(srv, bucket, key, first, last, timeout)
    code = error_code_of(body) if status >= 300 and complete and body else None
    return Got(status, code, body, complete)


def assert_reads(srv, bucket, key, data):
    got = get(srv, bucket, key)
    assert (got.status, got.complete, len(got.body)) == (200, True, len(data)), (key, got[:2], got.complete)
    assert sha256(got.body) == sha256(data), key


def assert_no_wrong_bytes(got, data, key):
    """A failed GET: an error before the body, or a body cut short; whatever arrived is the object's prefix."""
    if got.status == 200:
        assert not got.complete, "%s: a complete body was served from data with no good copy" % key
        assert len(got.body) < len(data), key
        assert got.body == data[:len(got.body)], "%s: wrong bytes in the first %d" % (key, len(got.body))


# ------------------------------------------------------------------ 1. one data directory, full

def test_full_single_dir_is_507_and_leaves_nothing(start, mounts, tmp_path):
    data = os.path.join(mounts.tmpfs(tmp_path / "small", 24 * MiB), "data")
    srv = start(data_dirs=[data])
    c = srv.client()
    log = AccessLog(srv)
    c.create_bucket(Bucket="full")
    kept = {"inline": data_of(100, 1), "one": data_of(MiB + 5, 2), "nine": data_of(9 * MiB, 3),
            "eight": data_of(8 * MiB, 4)}
    for key, body in kept.items():
        put(c, "full", key, body)
    chunks = chunk_ids(data)
    assert len(chunks) == 4, chunks  # 1 + 2 (8 MiB + 1 MiB) + 1; the inline object has none

    # a single PUT larger than the free space (about 6 MiB): 507, and nothing of it stays. Bodies here
    # stay under 16 MiB, which the HTTP layer keeps in memory; larger ones: the next test
    off, mark = srv.log_size(), log.mark()
    assert attempt(c.put_object, Bucket="full", Key="big", Body=data_of(12 * MiB, 5)) == (507, "InsufficientStorage")
    full_at = time.monotonic()
    assert "data directory %s is full" % data in wait_log(srv, off, " is full")
    assert_absent(c, "full", "big")
    assert "big" not in [o["Key"] for o in c.list_objects_v2(Bucket="full").get("Contents", [])]
    assert tmp_files(data) == []
    assert chunk_ids(data) == chunks
    for key, body in kept.items():
        assert_reads(srv, "full", key, body)
    assert srv.alive()

    # a part that does not fit: 507 for that part; the upload still lists, aborts and leaves nothing
    uid = c.create_multipart_upload(Bucket="full", Key="mp")["UploadId"]
    assert attempt(c.upload_part, Bucket="full", Key="mp", UploadId=uid, PartNumber=1,
                   Body=data_of(10 * MiB, 6)) == (507, "InsufficientStorage")
    assert c.list_parts(Bucket="full", Key="mp", UploadId=uid).get("Parts", []) == []
    assert c.abort_multipart_upload(Bucket="full", Key="mp", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert c.list_multipart_uploads(Bucket="full").get("Uploads", []) == []
    assert tmp_files(data) == []
    assert chunk_ids(data) == chunks
    lines = [(a.op, a.key, a.status) for a in log.since(mark, "full") if a.status >= 500]
    assert lines == [("PutObject", "big", 507), ("UploadPart", "mp", 507)], lines

    # free space; once the full mark has run out, a PUT that fits succeeds
    c.delete_object(Bucket="full", Key="nine")
    c.delete_object(Bucket="full", Key="eight")
    wait_for(lambda: len(chunk_ids(data)) == 1, timeout=10.0)
    assert len(chunk_ids(data)) == 1, chunk_ids(data)
    fits = data_of(12 * MiB, 7)
    statuses = []
    deadline = full_at + FULL_RETRY_SECS + 6
    while True:
        got = attempt(c.put_object, Bucket="full", Key="fits", Body=fits)
        statuses.append(got)
        if got == (200, None):
            break
        assert got == (507, "InsufficientStorage"), "a PUT while the directory is marked full: %r" % (got,)
        assert time.monotonic() < deadline, "still 507 %.0f s after the full mark was set: %r" \
            % (time.monotonic() - full_at, statuses)
        time.sleep(0.5)
    # the full mark is kept in whole seconds: a directory is skipped for 9 to 10 s
    assert time.monotonic() - full_at > FULL_RETRY_SECS - 2, statuses
    assert_reads(srv, "full", "fits", fits)
    for key in ("inline", "one"):
        assert_reads(srv, "full", key, kept[key])
    assert tmp_files(data) == []
    assert srv.alive()


def test_full_single_dir_large_body_is_507(start, mounts, tmp_path):
    """As above with bodies of 16 MiB and more, which the HTTP layer buffers in a file before the
    handler runs: the answer must still be 507, not a connection closed without one."""
    data = os.path.join(mounts.tmpfs(tmp_path / "small", 24 * MiB), "data")
    srv = start(data_dirs=[data])
    c = srv.client()
    c.create_bucket(Bucket="fullbig")
    kept = data_of(9 * MiB, 10)
    put(c, "fullbig", "kept", kept)
    chunks = chunk_ids(data)

    assert attempt(c.put_object, Bucket="fullbig", Key="big", Body=data_of(40 * MiB, 11)) \
        == (507, "InsufficientStorage")
    assert_absent(c, "fullbig", "big")
    uid = c.create_multipart_upload(Bucket="fullbig", Key="mp")["UploadId"]
    assert attempt(c.upload_part, Bucket="fullbig", Key="mp", UploadId=uid, PartNumber=1,
                   Body=data_of(20 * MiB, 12)) == (507, "InsufficientStorage")
    c.abort_multipart_upload(Bucket="fullbig", Key="mp", UploadId=uid)
    assert tmp_files(data) == []
    assert chunk_ids(data) == chunks
    assert_reads(srv, "fullbig", "kept", kept)
    assert srv.alive()


# ------------------------------------------------------------------ 2. a full directory beside a roomy one

def two_dirs(faulty, other, faulty_first):
    return [faulty, other] if faulty_first else [other, faulty]


@pytest.mark.parametrize("faulty_first", [False, True], ids=["full-second", "full-first"])
def test_full_dir_beside_a_roomy_one_takes_no_write_down(start, mounts, tmp_path, faulty_first):
    disk = str(tmp_path / "disk")
    mnt = roomy_tmpfs(mounts, tmp_path, "small", tmp_path)
    small = os.path.join(mnt, "data")
    srv = start(data_dirs=two_dirs(small, disk, faulty_first), copies=1)
    mounts.remount(mnt, "size=%d" % (24 * MiB))
    time.sleep(SPILL_RECHECK_SECS)
    c = srv.client()
    c.create_bucket(Bucket="spill")
    off = srv.log_size()
    objs = {}
    for i in range(12):  # 17 MiB = 3 chunks each; the small directory takes about half of them
        key = "obj%02d" % i
        objs[key] = data_of(17 * MiB, 100 + i)
        put(c, "spill", key, objs[key])  # every PUT succeeds
        if "data directory %s is full" % small in log_since(srv, off) and i >= 5:
            break
    assert "data directory %s is full" % small in log_since(srv, off), \
        "12 objects of 17 MiB never filled a 24 MiB directory; chunk files: %d, %d" \
        % (len(chunk_ids(small)), len(chunk_ids(disk)))
    assert chunk_ids(small), "no chunk went to the small directory"
    assert len(chunk_ids(small)) + len(chunk_ids(disk)) == 3 * len(objs)
    for key, body in objs.items():
        assert_reads(srv, "spill", key, body)
    assert tmp_files(small) == [] and tmp_files(disk) == []
    assert srv.alive()


# ------------------------------------------------------------------ 3. a directory turned read-only while serving

@pytest.mark.parametrize("faulty_first", [False, True], ids=["ro-second", "ro-first"])
def test_read_only_dir_is_marked_failed_and_writes_go_elsewhere(start, mounts, tmp_path, faulty_first):
    disk = str(tmp_path / "disk")
    mnt = roomy_tmpfs(mounts, tmp_path, "ro", tmp_path)
    ro = os.path.join(mnt, "data")
    srv = start(data_dirs=two_dirs(ro, disk, faulty_first), copies=1)
    c = srv.client()
    c.create_bucket(Bucket="readonly")
    before = {}
    for i in range(4):
        key = "before%d" % i
        before[key] = data_of(17 * MiB, 200 + i)
        put(c, "readonly", key, before[key])
    on_ro = chunk_ids(ro)
    assert on_ro and chunk_ids(disk), "4 objects of 3 chunks left a directory empty: %d, %d" \
        % (len(on_ro), len(chunk_ids(disk)))

    mounts.remount(mnt, "ro")
    time.sleep(SPILL_RECHECK_SECS)
    off = srv.log_size()
    after = {}
    for i in range(8):
        key = "after%d" % i
        after[key] = data_of(9 * MiB, 300 + i)  # 2 chunks
        put(c, "readonly", key, after[key])  # every PUT succeeds
        if "marked failed" in log_since(srv, off):
            break
    text = log_since(srv, off)
    assert "data directory %s marked failed" % ro in text, text[-3000:]
    assert "Read-only file system" in text
    assert chunk_ids(ro) == on_ro
    for key, body in list(before.items()) + list(after.items()):
        assert_reads(srv, "readonly", key, body)
    more = data_of(20 * MiB, 399)
    put(c, "readonly", "more", more)
    assert_reads(srv, "readonly", "more", more)
    assert tmp_files(disk) == []
    assert srv.alive()


# ------------------------------------------------------------------ 4. a directory removed while serving

@pytest.mark.parametrize("gone", [1, 0], ids=["second-gone", "first-gone"])
def test_removed_dir_with_two_copies_loses_nothing(start, tmp_path, gone):
    srv = start(copies=2)
    removed, left = srv.data_dirs[gone], srv.data_dirs[1 - gone]
    c = srv.client()
    c.create_bucket(Bucket="gone2")
    objs = {"small": data_of(3000, 400)}
    for i in range(4):
        objs["big%d" % i] = data_of(20 * MiB + i, 401 + i)
    for key, body in objs.items():
        put(c, "gone2", key, body)
    assert chunk_ids(removed) == chunk_ids(left) and len(chunk_ids(left)) == 12  # 3 chunks per object, in both

    off = srv.log_size()
    for name in os.listdir(removed):  # everything under the directory goes (chunks/, tmp/, its marker)
        path = os.path.join(removed, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    time.sleep(SPILL_RECHECK_SECS)
    for key, body in objs.items():
        assert_reads(srv, "gone2", key, body)
    text = log_since(srv, off)
    assert "copy in %s: No such file or directory" % removed in text, text[-3000:]
    assert "data directory %s marked failed" % removed in text, text[-3000:]

    for i in range(2):
        key = "new%d" % i
        objs[key] = data_of(20 * MiB, 490 + i)
        put(c, "gone2", key, objs[key])
    for key, body in objs.items():
        assert_reads(srv, "gone2", key, body)
    assert tmp_files(left) == []
    assert srv.alive()


@pytest.mark.parametrize("gone", [1, 0], ids=["second-gone", "first-gone"])
def test_removed_dir_with_one_copy_never_serves_wrong_bytes(start, tmp_path, gone):
    srv = start(copies=1)
    removed, left = srv.data_dirs[gone], srv.data_dirs[1 - gone]
    c = srv.client()
    c.create_bucket(Bucket="gone1")
    objs, where = {}, {}
    for i in range(16):  # one-chunk objects until each directory holds a few (placement is by chunk id)
        key = "s%02d" % i
        objs[key] = data_of(5 * MiB, 500 + i)
        where[key] = put_tracked(srv, c, "gone1", key, objs[key])
        only = [[k for k in where if where[k][d]] for d in srv.data_dirs]
        if i >= 5 and all(len(o) >= 2 for o in only):
            break
    for i in range(3):
        key = "b%d" % i
        objs[key] = data_of(20 * MiB + i, 520 + i)
        where[key] = put_tracked(srv, c, "gone1", key, objs[key])
    in_left = [k for k in objs if not where[k][removed]]
    in_removed = [k for k in objs if not where[k][left]]
    mixed = [k for k in objs if where[k][left] and where[k][removed]]
    assert len(in_left) >= 2 and len(in_removed) >= 2, where

    off = srv.log_size()
    shutil.rmtree(removed)  # the directory itself
    time.sleep(SPILL_RECHECK_SECS)
    for key in in_left:
        assert_reads(srv, "gone1", key, objs[key])
    for key in in_removed:
        got = get(srv, "gone1", key)
        assert (got.status, got.code) == (503, "ServiceUnavailable"), (key, got[:2], got.body[:300])
    for key in mixed:
        got = get(srv, "gone1", key)
        assert got.status == 200 or (got.status, got.code) == (503, "ServiceUnavailable"), (key, got[:2])
        assert_no_wrong_bytes(got, objs[key], key)
    assert "data directory %s marked failed" % removed in log_since(srv, off)

    for i in range(3):
        key = "new%d" % i
        objs[key] = data_of(20 * MiB, 540 + i)
        put(c, "gone1", key, objs[key])
        assert_reads(srv, "gone1", key, objs[key])
    for key in in_left:
        assert_reads(srv, "gone1", key, objs[key])
    assert tmp_files(left) == []
    assert srv.alive()


# ------------------------------------------------------------------ 5. damaged chunk files

def test_flipped_byte_with_one_copy_is_an_error_never_wrong_bytes(start, tmp_path):
    srv = start(copies=1)
    c = srv.client()
    c.create_bucket(Bucket="flip1")
    objs, cids = {}, {}
    for key, size, seed in (("early", 3 * MiB, 600), ("late", 3 * MiB, 601), ("other", 10 * MiB, 602)):
        objs[key] = data_of(size, seed)
        added = put_tracked(srv, c, "flip1", key, objs[key])
        cids[key] = [(d, cid) for d in srv.data_dirs for cid in added[d]]
    assert len(cids["early"]) == len(cids["late"]) == 1 and len(cids["other"]) == 2, cids

    off = srv.log_size()
    flip_byte(chunk_path(*cids["early"][0]), 100)        # in the first 1 MiB block: found before the body
    flip_byte(chunk_path(*cids["late"][0]), 2 * MiB + 5)  # in the third block: found mid-body

    got = get(srv, "flip1", "early")
    assert (got.status, got.code) == (500, "InternalError"), (got[:2], got.body[:300])
    got = get(srv, "flip1", "late")
    assert got.status == 200 and not got.complete, (got[:2], got.complete, len(got.body))
    assert_no_wrong_bytes(got, objs["late"], "late")
    # a range that does not touch the damaged block still reads; one that does is an error
    got = get(srv, "flip1", "late", 0, 2 * MiB - 1)
    assert (got.status, got.complete, sha256(got.body)) == (206, True, sha256(objs["late"][:2 * MiB]))
    got = get(srv, "flip1", "late", 2 * MiB, 2 * MiB + 99)
    assert (got.status, got.code) == (500, "InternalError"), (got[:2], got.body[:300])
    for _ in range(2):  # the damage is not "repaired" into the answer by a retry
        got = get(srv, "flip1", "early")
        assert got.status == 500, got[:2]
    assert_reads(srv, "flip1", "other", objs["other"])
    text = log_since(srv, off)
    for key in ("early", "late"):
        d, cid = cids[key][0]
        assert "chunk %s copy in %s: checksum mismatch" % (cid, d) in text, text[-3000:]
    assert srv.alive()


def damage_the_copy_read_first(srv, bucket, key, data, cid, damage):
    """Damages the copy of chunk cid that a GET reads first (the record's first copy), and GETs.

    Which directory holds the first copy is not visible from outside: damage the copy in the first
    directory; when the GET did not notice (it read the other copy), put that file back as it was
    and damage the next one. Every GET must return the right bytes. Returns (damaged dir, output)."""
    for d in srv.data_dirs:
        path = chunk_path(d, cid)
        with open(path, "rb") as f:
            original = f.read()
        off = srv.log_size()
        damage(path)
        assert_reads(srv, bucket, key, data)
        text = log_since(srv, off)
        if "chunk %s copy in %s: checksum mismatch" % (cid, d) in text:
            return d, text
        with open(path, "wb") as f:
            f.write(original)
    pytest.fail("no GET of %s read a damaged copy of chunk %s" % (key, cid))


def test_damaged_copy_is_served_around_and_rewritten(start, tmp_path):
    srv = start(copies=2)
    c = srv.client()
    c.create_bucket(Bucket="flip2")
    objs, cids = {}, {}
    for key, seed in (("flipped", 700), ("truncated", 701), ("other", 702)):
        objs[key] = data_of(5 * MiB, seed)
        added = put_tracked(srv, c, "flip2", key, objs[key])
        assert added[srv.data_dirs[0]] == added[srv.data_dirs[1]] and len(added[srv.data_dirs[0]]) == 1, added
        cids[key] = next(iter(added[srv.data_dirs[0]]))

    def truncate(path):
        os.truncate(path, 3 * MiB + 17)

    for key, damage in (("flipped", lambda p: flip_byte(p, 4 * MiB + 3)), ("truncated", truncate)):
        cid = cids[key]
        bad, text = damage_the_copy_read_first(srv, "flip2", key, objs[key], cid, damage)
        assert "chunk %s: copy in %s rewritten from " % (cid, bad) in text, text[-3000:]
        paths = [chunk_path(d, cid) for d in srv.data_dirs]
        wait_for(lambda: len({sha256_file(p) for p in paths}) == 1, timeout=5.0)
        assert [os.path.getsize(p) for p in paths] == [5 * MiB] * 2, key
        assert sha256_file(paths[0]) == sha256_file(paths[1]) == sha256(objs[key]), key
        # repaired: the next GET finds nothing wrong
        off = srv.log_size()
        assert_reads(srv, "flip2", key, objs[key])
        assert cid not in log_since(srv, off)
    assert_reads(srv, "flip2", "other", objs["other"])
    for d in srv.data_dirs:
        assert tmp_files(d) == []
    assert srv.alive()
