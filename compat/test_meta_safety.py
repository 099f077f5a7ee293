"""The metadata directory at start-up: a missing, new, emptied or corrupt one is refused.

Object data lives in chunk files under the data directories; what they belong to lives only in
the metadata directory (RocksDB). A server that came up over existing chunk files with an empty
or unreadable database would serve an empty store and its start-up collection would take the
chunk files for debris. So `coffer serve` must exit non-zero at once, saying what is wrong with
the metadata directory, without ever listening and without touching a chunk file, when:

  * --meta names a directory that does not exist, or a new empty one, beside data directories
    that hold chunks;
  * the directory's files were all removed (the directory itself left);
  * it holds files but no database (no CURRENT, no MANIFEST);
  * CURRENT holds garbage, or the MANIFEST random bytes (RocksDB reports corruption).

Each case starts from a copy of the intact metadata taken after a clean stop, damages it, tries
to start (twice: a refused start must not turn into an accepted one), and checks the chunk files
byte for byte. At the end the intact copy is put back and every object reads back by hash.
"""

import os
import shutil
import socket
import subprocess
import time
from collections import namedtuple

import pytest

from s3compat import (
    ACCESS_KEY, KiB, MiB, SECRET_KEY, CofferServer, all_keys, data_of, md5_hex, sha256, sha256_file,
)

START_TIMEOUT = 10.0  # a refusal takes well under a second; this only bounds a hang

Attempt = namedtuple("Attempt", "rc out err listened")


def chunk_hashes(data_dirs):
    """{path: sha256} of every chunk file under the data dirs' chunks/."""
    out = {}
    for d in data_dirs:
        for dirpath, _dirs, files in os.walk(os.path.join(d, "chunks")):
            for name in files:
                path = os.path.join(dirpath, name)
                out[path] = sha256_file(path)
    return out


def can_connect(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def try_serve(srv, meta_dir, out_dir):
    """Runs `coffer serve` with srv's arguments but meta_dir as --meta, until it exits (bounded),
    probing its port all along. A server that is still running at the deadline is killed and the
    test fails."""
    argv = srv.argv()
    argv[argv.index("--meta") + 1] = meta_dir
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY)
    out_path, err_path = os.path.join(out_dir, "serve.out"), os.path.join(out_dir, "serve.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=out_dir)
    listened = False
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while proc.poll() is None:
            if can_connect(srv.port):
                listened = True
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
            with open(err_path, "rb") as f:
                pytest.fail("coffer serve with --meta %s was still running after %.0f s (listening: %s); stderr:\n%s"
                            % (meta_dir, START_TIMEOUT, listened, f.read().decode("utf-8", "replace")[-3000:]))
    listened = listened or can_connect(srv.port)
    with open(out_path, "rb") as f:
        out_text = f.read().decode("utf-8", "replace")
    with open(err_path, "rb") as f:
        err_text = f.read().decode("utf-8", "replace")
    return Attempt(proc.returncode, out_text, err_text, listened)


# ------------------------------------------------------------------ the store

Store = namedtuple("Store", "srv objects backup chunks")


def put_objects(c):
    """Objects inline in the metadata (up to 4 KiB) and in chunk files, in two buckets, one multipart."""
    objs = {}
    c.create_bucket(Bucket="meta-safety")
    c.create_bucket(Bucket="meta-safety-2")
    for i, size in enumerate([0, 100, 4 * KiB, 4 * KiB + 1, 300 * KiB, 9 * MiB]):
        key = "obj/%d-%d \u00e9" % (i, size)
        data = data_of(size, seed=4100 + i)
        r = c.put_object(Bucket="meta-safety", Key=key, Body=data)
        assert r["ETag"] == '"%s"' % md5_hex(data)
        objs[("meta-safety", key)] = data
    parts = [data_of(5 * MiB, seed=4200), data_of(2 * MiB + 3, seed=4201)]
    uid = c.create_multipart_upload(Bucket="meta-safety-2", Key="multi")["UploadId"]
    etags = [c.upload_part(Bucket="meta-safety-2", Key="multi", UploadId=uid, PartNumber=n + 1, Body=p)["ETag"]
             for n, p in enumerate(parts)]
    c.complete_multipart_upload(Bucket="meta-safety-2", Key="multi", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    objs[("meta-safety-2", "multi")] = b"".join(parts)
    c.put_object(Bucket="meta-safety-2", Key="tiny", Body=b"t")
    objs[("meta-safety-2", "tiny")] = b"t"
    return objs


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store written by a server that then stopped cleanly, with a copy of its intact metadata."""
    workdir = tmp_path_factory.mktemp("meta-safety")
    srv = CofferServer(str(workdir / "srv"))
    srv.start()
    try:
        objs = put_objects(srv.client())
    finally:
        rc = srv.stop()
    assert rc == 0, "coffer exited with %r on SIGTERM" % rc
    chunks = chunk_hashes(srv.data_dirs)
    assert len(chunks) >= 5, chunks  # 300 KiB, 4 KiB + 1, 9 MiB (2 chunks), the multipart object (2)
    backup = str(workdir / "meta-intact")
    shutil.copytree(srv.meta_dir, backup)
    yield Store(srv, objs, backup, chunks)
    srv.stop()


def restore_meta(st):
    shutil.rmtree(st.srv.meta_dir, ignore_errors=True)
    shutil.copytree(st.backup, st.srv.meta_dir)


# ------------------------------------------------------------------ the damage

def missing_dir(st, tmp_path):
    return str(tmp_path / "no-such-meta")


def new_empty_dir(st, tmp_path):
    path = tmp_path / "new-meta"
    path.mkdir()
    return str(path)


def files_removed(st, tmp_path):
    meta = st.srv.meta_dir
    for name in os.listdir(meta):  # files, and the server's own coffer-spill/ for request bodies
        path = os.path.join(meta, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    assert os.path.isdir(meta) and os.listdir(meta) == []
    return meta


def no_database(st, tmp_path):
    """The database files gone (CURRENT, MANIFEST-*, tables and logs), the rest (LOG, OPTIONS-*, ...) left."""
    meta = st.srv.meta_dir
    for name in os.listdir(meta):
        if name == "CURRENT" or name.startswith("MANIFEST-") or name.endswith((".log", ".sst")):
            os.remove(os.path.join(meta, name))
    assert os.listdir(meta), "nothing left in the metadata directory"
    return meta


def garbage_current(st, tmp_path):
    meta = st.srv.meta_dir
    with open(os.path.join(meta, "CURRENT"), "wb") as f:
        f.write(b"\x00garbage, not the name of a manifest\xff\n")
    return meta


def random_manifest(st, tmp_path):
    meta = st.srv.meta_dir
    manifests = [n for n in os.listdir(meta) if n.startswith("MANIFEST-")]
    assert manifests, os.listdir(meta)
    for n in manifests:
        path = os.path.join(meta, n)
        with open(path, "wb") as f:
            f.write(data_of(max(os.path.getsize(path), 4096), seed=4300))
    return meta


# (damage, what the first refusal says besides naming the metadata directory)
CASES = {
    "missing-dir": (missing_dir, "already holds chunks"),
    "new-empty-dir": (new_empty_dir, "already holds chunks"),
    "files-removed": (files_removed, "already holds chunks"),
    "no-database": (no_database, "database"),
    "garbage-CURRENT": (garbage_current, "Corruption"),
    "random-MANIFEST": (random_manifest, "Corruption"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_serve_refuses_a_bad_metadata_dir(store, tmp_path, case):
    damage, phrase = CASES[case]
    restore_meta(store)
    meta = damage(store, tmp_path)
    for attempt in (1, 2):
        t0 = time.monotonic()
        got = try_serve(store.srv, meta, str(tmp_path))
        took = time.monotonic() - t0
        what = "attempt %d with --meta %s: exit %r after %.2f s\nstdout:\n%s\nstderr:\n%s" % (
            attempt, meta, got.rc, took, got.out[-3000:], got.err[-3000:])
        assert got.rc != 0, what
        assert not got.listened, "the server listened on its port\n" + what
        assert took < 5, what
        assert "metadata" in got.err, what
        if attempt == 1:
            assert meta in got.err or os.path.realpath(meta) in got.err, what
            assert "metadata directory" in got.err and phrase in got.err, what
        # whatever it said, no chunk file was removed, added or changed
        assert chunk_hashes(store.srv.data_dirs) == store.chunks, what


def test_intact_metadata_serves_every_object(store):
    restore_meta(store)
    srv = store.srv
    srv.start()
    try:
        c = srv.client()
        for (bucket, key), data in store.objects.items():
            body = c.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert len(body) == len(data) and sha256(body) == sha256(data), (bucket, key)
        for bucket in ("meta-safety", "meta-safety-2"):
            assert all_keys(c, bucket) == sorted(k for b, k in store.objects if b == bucket)
    finally:
        rc = srv.stop()
    assert rc == 0, "coffer exited with %r on SIGTERM" % rc
    assert chunk_hashes(srv.data_dirs) == store.chunks
