"""coffer scrub: every copy of every chunk checked, damaged copies rewritten from a good one.

Each test runs its own server (server_factory: own data and meta dirs, own port) and damages
chunk files on disk behind its back: a flipped byte, a deleted copy, a truncated copy. The
scrub runs as the real CLI, against the running server (--endpoint, the root-only admin
endpoint /_coffer/scrub) or offline on a stopped server's directories (--data/--meta), and
its report is checked line by line:

    damaged: s3://BUCKET/KEY (chunk ID at byte N), copy in DIR: PROBLEM; OUTCOME
    damaged: multipart upload UPLOADID part N (chunk ID at byte N), copy in DIR: PROBLEM; OUTCOME
    scrub: checked N objects and parts, N chunks (N copies, SIZE): D damaged copies, R repaired,
           U chunks with no good copy, B unreadable records

Exit status: 0 when every chunk has a good copy, 1 when some data has none, 2 on errors.
"""

import json
import os
import re
import subprocess
from collections import namedtuple

from s3compat import (
    chunk_files, chunk_path, flip_byte,
    get_raw,
    ACCESS_KEY, SECRET_KEY, MiB, coffer_bin, data_of, error_code_of, raw_request, sha256,
    sha256_file,
)

CHUNK = 8 * MiB
SCRUB_TIMEOUT = 60

BUCKET = "scrub-bucket"
BIG_KEY = "big dir/\u00fcber gro\u00df \u65e5\u672c.bin"  # a space and non-ASCII characters

DAMAGE_LINE = re.compile(
    r"^damaged: (?:s3://(?P<bucket>[^/]+)/(?P<key>.*?)|multipart upload (?P<upload>[0-9a-f]+) part (?P<part>\d+))"
    r" \(chunk (?P<chunk>[0-9a-f]{16}) at byte (?P<offset>\d+)\), copy in (?P<dir>.+?): "
    r"(?P<problem>missing|checksum mismatch|unreadable: .+); (?P<outcome>repaired|not repaired: .+)$")

SUMMARY_LINE = re.compile(
    r"^scrub: checked (?P<objects>\d+) objects and parts, (?P<chunks>\d+) chunks \((?P<copies>\d+) copies, [^)]*\): "
    r"(?P<damaged>\d+) damaged copies, (?P<repaired>\d+) repaired, (?P<unrecoverable>\d+) chunks with no good copy, "
    r"(?P<bad_records>\d+) unreadable records$")

Report = namedtuple("Report", "rc out err damage summary")


# ------------------------------------------------------------------ the CLI

def run_scrub(*args, timeout=SCRUB_TIMEOUT):
    """Runs `coffer scrub ARGS` with the root keys in its environment; returns its parsed report."""
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY, LC_ALL="C.UTF-8")
    argv = [coffer_bin(), "scrub"] + list(args)
    try:
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("coffer scrub did not finish within %d s: %r\nstdout: %r\nstderr: %r"
                             % (timeout, argv, e.stdout, e.stderr))
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    damage, summary = [], None
    for line in out.splitlines():
        if line.startswith("damaged: "):
            m = DAMAGE_LINE.match(line)
            assert m, "a damage line not in the documented form: %r\nstdout:\n%s" % (line, out)
            damage.append(m.groupdict())
        elif line.startswith("scrub: checked "):
            assert summary is None, "two summary lines:\n" + out
            m = SUMMARY_LINE.match(line)
            assert m, "a summary line not in the documented form: %r" % line
            summary = {k: int(v) for k, v in m.groupdict().items()}
    return Report(p.returncode, out, err, damage, summary)


def scrub_online(srv):
    return run_scrub("--endpoint", srv.endpoint)


def scrub_offline(srv):
    args = []
    for d in srv.data_dirs:
        args += ["--data", d]
    return run_scrub(*(args + ["--meta", srv.meta_dir]))


def describe(rep):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (rep.rc, rep.out, rep.err[-3000:])


def counts(rep):
    """(damaged, repaired, chunks with no good copy, unreadable records) of the summary."""
    assert rep.summary is not None, "no summary line\n" + describe(rep)
    s = rep.summary
    return s["damaged"], s["repaired"], s["unrecoverable"], s["bad_records"]


def same_dir(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


# ------------------------------------------------------------------ chunk files

def all_chunk_ids(srv):
    ids = set()
    for d in srv.data_dirs:
        ids |= set(chunk_files(d))
    return ids


def put_tracked(srv, fn):
    """Runs fn (one upload) and returns the ids of the chunk files it added (in any data dir)."""
    before = all_chunk_ids(srv)
    fn()
    return all_chunk_ids(srv) - before


def chunks_by_offset(srv, new_ids, data):
    """Maps each object offset (a multiple of 8 MiB) to the chunk id whose file holds data's bytes there."""
    pieces = {sha256(data[off:off + CHUNK]): off for off in range(0, len(data), CHUNK)}
    out = {}
    for cid in new_ids:
        paths = [chunk_path(d, cid) for d in srv.data_dirs if os.path.exists(chunk_path(d, cid))]
        assert paths, cid
        off = pieces.get(sha256_file(paths[0]))
        assert off is not None, "chunk %s holds none of the object's 8 MiB pieces" % cid
        out[off] = cid
    assert sorted(out) == sorted(pieces.values()), (sorted(out), sorted(pieces.values()))
    return out


# ------------------------------------------------------------------ GET without retries

def assert_reads(srv, bucket, key, data):
    status, body, complete = get_raw(srv, bucket, key)
    assert (status, complete, len(body)) == (200, True, len(data)), (key, status, complete, len(body))
    assert sha256(body) == sha256(data), key


def assert_no_wrong_bytes(srv, bucket, key, data):
    """A GET of an object with a lost chunk fails: an error status, or a body cut short. Whatever
    bytes did arrive with a 200 are the object's own."""
    status, body, complete = get_raw(srv, bucket, key)
    if status == 200:
        assert not (complete and len(body) == len(data)), \
            "GET %s answered 200 with a whole body although a chunk has no good copy" % key
        assert body == data[:len(body)], "GET %s sent wrong bytes (%d bytes arrived)" % (key, len(body))
    else:
        assert status >= 500, (key, status, body[:500])


# ------------------------------------------------------------------ a populated server

def populate(srv):
    """A 20 MiB object (3 chunks), a small inline one, a 100 KiB one and an unfinished multipart
    upload holding one 6 MiB part. Returns a dict of what went where."""
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    big = data_of(20 * MiB, seed=3100)
    big_ids = put_tracked(srv, lambda: c.put_object(Bucket=BUCKET, Key=BIG_KEY, Body=big))
    assert len(big_ids) == 3, big_ids
    small = b"small object, inline in the metadata"
    assert put_tracked(srv, lambda: c.put_object(Bucket=BUCKET, Key="small", Body=small)) == set()
    mid = data_of(100 * 1024, seed=3101)
    mid_ids = put_tracked(srv, lambda: c.put_object(Bucket=BUCKET, Key="mid", Body=mid))
    assert len(mid_ids) == 1, mid_ids
    part = data_of(6 * MiB, seed=3102)
    upload_id = c.create_multipart_upload(Bucket=BUCKET, Key="unfinished")["UploadId"]
    part_ids = put_tracked(srv, lambda: c.upload_part(Bucket=BUCKET, Key="unfinished", UploadId=upload_id,
                                                      PartNumber=1, Body=part))
    assert len(part_ids) == 1, part_ids
    return {
        "big": big, "big_chunks": chunks_by_offset(srv, big_ids, big),
        "objects": {BIG_KEY: big, "small": small, "mid": mid},
        "mid_chunk": next(iter(mid_ids)),
        "part": part, "part_chunk": next(iter(part_ids)), "upload_id": upload_id,
    }


def assert_copies_whole(srv, cid, data):
    """Every data dir holds chunk cid, byte-identical to data."""
    want = sha256(data)
    for d in srv.data_dirs:
        p = chunk_path(d, cid)
        assert os.path.exists(p), "chunk %s has no copy in %s" % (cid, d)
        assert os.path.getsize(p) == len(data) and sha256_file(p) == want, "copy of chunk %s in %s differs" % (cid, d)


# ------------------------------------------------------------------ tests

def test_online_scrub_repairs_every_damaged_copy(server_factory):
    srv = server_factory(copies=2)
    st = populate(srv)
    big, chunks = st["big"], st["big_chunks"]
    d1, d2 = srv.data_dirs
    for cid in list(chunks.values()) + [st["mid_chunk"], st["part_chunk"]]:
        assert all(os.path.exists(chunk_path(d, cid)) for d in (d1, d2)), "chunk %s lacks a copy" % cid

    # a clean store first: nothing damaged
    rep = scrub_online(srv)
    assert rep.rc == 0, describe(rep)
    assert rep.damage == [] and counts(rep) == (0, 0, 0, 0), describe(rep)
    assert rep.summary["chunks"] == 5 and rep.summary["copies"] == 10, describe(rep)

    # damage behind the server's back: a flipped byte, a deleted copy, a truncated copy
    flipped, deleted, truncated = chunks[0], chunks[CHUNK], st["part_chunk"]
    flip_byte(chunk_path(d1, flipped), 1234567)
    os.remove(chunk_path(d2, deleted))
    os.truncate(chunk_path(d1, truncated), 4096)

    rep = scrub_online(srv)
    assert rep.rc == 0, describe(rep)
    assert counts(rep) == (3, 3, 0, 0), describe(rep)
    assert len(rep.damage) == 3, describe(rep)
    by_chunk = {d["chunk"]: d for d in rep.damage}
    assert set(by_chunk) == {flipped, deleted, truncated}, describe(rep)
    for d in rep.damage:
        assert d["outcome"] == "repaired", describe(rep)

    r = by_chunk[flipped]
    assert (r["bucket"], r["key"], int(r["offset"]), r["problem"]) == (BUCKET, BIG_KEY, 0, "checksum mismatch"), r
    assert same_dir(r["dir"], d1), r
    r = by_chunk[deleted]
    assert (r["bucket"], r["key"], int(r["offset"]), r["problem"]) == (BUCKET, BIG_KEY, CHUNK, "missing"), r
    assert same_dir(r["dir"], d2), r
    r = by_chunk[truncated]
    assert (r["upload"], r["part"], r["bucket"]) == (st["upload_id"], "1", None), r
    assert r["problem"] in ("checksum mismatch", "missing") or r["problem"].startswith("unreadable: "), r
    assert same_dir(r["dir"], d1), r
    assert "s3://%s/%s (chunk %s at byte 0)" % (BUCKET, BIG_KEY, flipped) in rep.out, rep.out
    assert "multipart upload %s part 1 (chunk %s" % (st["upload_id"], truncated) in rep.out, rep.out

    # every copy is whole again, byte for byte
    for off, cid in chunks.items():
        assert_copies_whole(srv, cid, big[off:off + CHUNK])
    assert_copies_whole(srv, st["part_chunk"], st["part"])
    for key, data in st["objects"].items():
        assert_reads(srv, BUCKET, key, data)

    # the upload still completes with the repaired part
    c = srv.client()
    etag = c.list_parts(Bucket=BUCKET, Key="unfinished", UploadId=st["upload_id"])["Parts"][0]["ETag"]
    c.complete_multipart_upload(Bucket=BUCKET, Key="unfinished", UploadId=st["upload_id"],
                                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert_reads(srv, BUCKET, "unfinished", st["part"])

    # and a second run finds nothing
    rep = scrub_online(srv)
    assert rep.rc == 0, describe(rep)
    assert rep.damage == [] and counts(rep) == (0, 0, 0, 0), describe(rep)


def test_admin_endpoint_is_root_only(server_factory):
    srv = server_factory(copies=2)
    port = srv.port

    for method in ("POST", "GET"):
        r = raw_request(port, method, "/_coffer/scrub", sign=False)
        assert r.status == 403, (method, r)
        assert b"<Code>AccessDenied</Code>" in r.body, (method, r)

    r = raw_request(port, "POST", "/_coffer/scrub", secret_key=SECRET_KEY + "x")
    assert r.status == 403, r
    assert error_code_of(r.body) in ("SignatureDoesNotMatch", "AccessDenied"), r
    r = raw_request(port, "GET", "/_coffer/scrub", secret_key="not-the-secret")
    assert r.status == 403, r
    r = raw_request(port, "POST", "/_coffer/scrub", access_key="AKIDNOTAKNOWNUSER01")
    assert r.status == 403, r

    # none of those started a scrub
    r = raw_request(port, "GET", "/_coffer/scrub")
    assert r.status == 200, r
    assert r.headers.get("content-type", "").startswith("application/json"), r
    assert json.loads(r.body)["state"] == "idle", r

    # the CLI with the wrong secret fails with exit 2 and says why
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY="wrong-secret")
    p = subprocess.run([coffer_bin(), "scrub", "--endpoint", srv.endpoint], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=SCRUB_TIMEOUT)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert b"403" in p.stderr, p.stderr

    # the root user may
    rep = scrub_online(srv)
    assert rep.rc == 0 and counts(rep) == (0, 0, 0, 0), describe(rep)


def test_offline_scrub_reports_a_chunk_with_no_good_copy(server_factory):
    srv = server_factory(copies=2)
    st = populate(srv)
    big, chunks = st["big"], st["big_chunks"]

    # while the server runs, the metadata directory is locked: exit 2, pointing at --endpoint
    rep = scrub_offline(srv)
    assert rep.rc == 2, describe(rep)
    assert "--endpoint" in rep.err, describe(rep)
    assert srv.alive()

    rc = srv.stop()
    assert rc == 0, "coffer exited with %r on SIGTERM" % rc
    # the middle chunk of the big object: both copies damaged in the same 1 MiB checksum block (the
    # server checks CRC32C per 1 MiB block and can piece a chunk together from blocks of two copies)
    lost = chunks[CHUNK]
    flip_byte(chunk_path(srv.data_dirs[0], lost), 3 * MiB + 77)
    flip_byte(chunk_path(srv.data_dirs[1], lost), 3 * MiB + 4000)

    rep = scrub_offline(srv)
    assert rep.rc == 1, describe(rep)
    assert counts(rep) == (2, 0, 1, 0), describe(rep)
    assert len(rep.damage) == 2, describe(rep)
    for r in rep.damage:
        assert (r["bucket"], r["key"], r["chunk"], int(r["offset"])) == (BUCKET, BIG_KEY, lost, CHUNK), describe(rep)
        assert r["problem"] == "checksum mismatch", describe(rep)
        assert r["outcome"] == "not repaired: no good copy", describe(rep)
    assert sorted(os.path.realpath(r["dir"]) for r in rep.damage) == \
        sorted(os.path.realpath(d) for d in srv.data_dirs), describe(rep)
    assert "s3://%s/%s (chunk %s at byte %d)" % (BUCKET, BIG_KEY, lost, CHUNK) in rep.out, rep.out

    # restarted, the server never sends the lost chunk's bytes; the rest is intact
    srv.start()
    assert_no_wrong_bytes(srv, BUCKET, BIG_KEY, big)
    first, last = 2 * CHUNK + 10, 2 * CHUNK + 5000  # a range inside the last (good) chunk
    status, body, complete = get_raw(srv, BUCKET, BIG_KEY, first, last)
    assert (status, complete) == (206, True) and body == big[first:last + 1], (status, complete, len(body))
    for key, data in st["objects"].items():
        if key != BIG_KEY:
            assert_reads(srv, BUCKET, key, data)

    # the online scrub agrees
    rep = scrub_online(srv)
    assert rep.rc == 1, describe(rep)
    assert counts(rep) == (2, 0, 1, 0), describe(rep)


def test_single_copy_damage_is_reported_not_repaired(server_factory):
    srv = server_factory(copies=1)
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    data = data_of(10 * MiB, seed=3200)
    ids = put_tracked(srv, lambda: c.put_object(Bucket=BUCKET, Key="one copy", Body=data))
    chunks = chunks_by_offset(srv, ids, data)
    cid = chunks[CHUNK]
    [path] = [chunk_path(d, cid) for d in srv.data_dirs if os.path.exists(chunk_path(d, cid))]
    flip_byte(path, 4321)

    rep = scrub_online(srv)
    assert rep.rc == 1, describe(rep)
    assert counts(rep) == (1, 0, 1, 0), describe(rep)
    [r] = rep.damage
    assert (r["bucket"], r["key"], r["chunk"], int(r["offset"])) == (BUCKET, "one copy", cid, CHUNK), describe(rep)
    assert (r["problem"], r["outcome"]) == ("checksum mismatch", "not repaired: no good copy"), describe(rep)
    assert same_dir(r["dir"], os.path.dirname(os.path.dirname(os.path.dirname(path)))), describe(rep)
    assert "checksum mismatch; not repaired: no good copy" in rep.out, rep.out
    assert_no_wrong_bytes(srv, BUCKET, "one copy", data)


def test_offline_scrub_with_a_data_dir_left_out_claims_no_damage(server_factory):
    """Given only the first of the two data dirs, the offline scrub cannot read the copies in the
    other one; it may refuse (as it does when the order changes) or report them as missing or
    unreadable, but no byte was changed, so it must not report a checksum mismatch."""
    srv = server_factory(copies=2)
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    data = data_of(9 * MiB, seed=3300)
    c.put_object(Bucket=BUCKET, Key="intact", Body=data)
    assert srv.stop() == 0
    before = {d: {cid: sha256_file(p) for cid, p in chunk_files(d).items()} for d in srv.data_dirs}

    rep = run_scrub("--data", srv.data_dirs[0], "--meta", srv.meta_dir)
    assert "checksum mismatch" not in rep.out, describe(rep)
    assert rep.rc == 2 or rep.damage, describe(rep)
    # the order of the directories matters: swapped, the scrub refuses
    rep = run_scrub("--data", srv.data_dirs[1], "--data", srv.data_dirs[0], "--meta", srv.meta_dir)
    assert rep.rc == 2 and rep.damage == [], describe(rep)
    # nothing was touched, and the full set of directories is clean
    assert {d: {cid: sha256_file(p) for cid, p in chunk_files(d).items()} for d in srv.data_dirs} == before
    rep = scrub_offline(srv)
    assert rep.rc == 0 and counts(rep) == (0, 0, 0, 0), describe(rep)


def test_report_keeps_one_line_per_damaged_copy_for_a_key_with_a_newline(server_factory):
    """A key may hold any character, a newline too; the report still has one line per damaged copy
    (and the summary), so a key cannot forge or split report lines."""
    srv = server_factory(copies=2)
    c = srv.client()
    c.create_bucket(Bucket=BUCKET)
    key = "first line\ndamaged: s3://forged/key (chunk 00000000000000ff at byte 0), copy in x: missing; repaired"
    data = data_of(10000, seed=3400)
    [cid] = put_tracked(srv, lambda: c.put_object(Bucket=BUCKET, Key=key, Body=data))
    os.remove(chunk_path(srv.data_dirs[0], cid))

    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY)
    p = subprocess.run([coffer_bin(), "scrub", "--endpoint", srv.endpoint], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=SCRUB_TIMEOUT)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, (p.returncode, out, p.stderr)
    lines = out.splitlines()
    assert len(lines) == 2, "expected one damage line and the summary:\n" + out
    assert lines[0].startswith("damaged: s3://%s/first line" % BUCKET), out
    assert lines[0].endswith("(chunk %s at byte 0), copy in %s: missing; repaired" % (cid, srv.data_dirs[0])), out
    assert SUMMARY_LINE.match(lines[1]), out
    assert_copies_whole(srv, cid, data)
