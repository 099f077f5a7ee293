#!/usr/bin/python3
"""Crash test: SIGKILL the real coffer binary under concurrent writes, restart it, and
check that nothing acknowledged was lost and nothing half-written shows.

    /usr/bin/python3 tests/crash/crash_test.py --rounds 20 --seconds-per-round 8 \
        [--binary build/coffer] [--seed X] [--writers 6] [--require-no-orphans] [--keep]

One private temp dir (data1/, data2/, meta/) holds the whole run, so every round starts
from the state the previous crash left. Each round:

1. Writer threads (6 by default) each own a set of keys (``w<i>/...``) and issue one
   request at a time: PutObject (0 B, inline < 4 KiB, ~100 KiB, ~9 MiB = two chunks),
   overwrites, multipart uploads (2-3 parts of 5 MiB+, then complete; some are aborted,
   some left open on purpose), CopyObject among the writer's own keys (the copy shares
   the source's chunks), DeleteObject and DeleteObjects.
2. At a random time in the round (30-100 % of --seconds-per-round) the server gets
   SIGKILL. Writers stop issuing requests; the ones in flight fail.
3. The server restarts on the same dirs and everything is checked (see below).

After the last round every object is deleted, the server restarts once more (SIGTERM
then start), and the chunk files left under data*/chunks are counted: with no objects
and no uploads left, each one is an orphan (a file the metadata does not reference).
Start-up collection (storage/gc.c) removes orphans left by the kills, so the count
should be 0; --require-no-orphans makes a non-zero count a failure.

How the client-side log decides what is acceptable
--------------------------------------------------
Each key has a set of acceptable states; a state is ``None`` (absent) or
``(md5 hex, size)`` of the body. A writer is the only one touching its keys and has at
most one request in flight, so it always knows what each key holds:

- a request answered 2xx (acknowledged) sets the key's set to exactly the new state
  (a copy's new state is the source's state, which the writer knows for certain: it
  only copies from keys whose state is certain);
- a request that got no 2xx (in flight at the kill, or failed) adds the new state to
  the set: old and new are both acceptable. DeleteObjects is judged key by key.
  A failure before the kill is also counted as an unexpected error (a failure).

After the restart every key's GET body (MD5 and length) must be one of its acceptable
states; the set then collapses to what was observed, so the next round starts exact.
A key that had to exist and answers 404 is *lost*; wrong content, a deleted key that
came back, a key that was never written, a listing that disagrees with the GETs or a
failed read is a *mismatch*.

Multipart uploads are tracked by id: an acknowledged create must still be listed (unless
its complete or abort was acknowledged), every acknowledged part must be in ListParts
with its MD5 ETag and size, and only the part in flight at the kill may also appear. A
complete in flight must have happened entirely or not at all: the new object with the
upload gone, or the old object with the upload still there. Every upload left open is
then completed from the parts ListParts shows and read back (so part data is checked
byte for byte), or aborted if it has no part. Uploads created by a request in flight at
the kill (id never seen) are accepted once per such request and aborted.

Exit status: 0 when nothing was lost, nothing mismatched and no request failed before a
kill (and, with --require-no-orphans, no orphan chunk file remains); 1 otherwise.
"""

import argparse
import hashlib
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO_ROOT, "compat"))

from botocore.exceptions import ClientError  # noqa: E402

from s3compat import CofferServer, coffer_bin  # noqa: E402

KiB = 1024
MiB = 1024 * KiB
BUCKET = "crash"
KEYS_PER_WRITER = 8
MAX_OPS_PER_ROUND = 5000   # per writer: a bound, never reached in practice
LIST_PAGE = 37             # small pages exercise continuation tokens
MAX_PAGES = 10000
ABSENT = None
UNREADABLE = "unreadable"  # a GET that failed with something other than 404

# weights of the writer's operations
OPS = [
    ("put_zero", 4), ("put_small", 16), ("put_100k", 12), ("put_9m", 8),
    ("multipart", 8), ("copy", 16), ("delete", 10), ("delete_objects", 8),
]
# the kinds of request the writers count (Result.acked, Result.inflight, Result.resolved)
REQUEST_KINDS = ("put", "overwrite", "copy", "delete", "delete_objects",
                 "create_upload", "upload_part", "complete_upload", "abort_upload")


def gen_data(seed, size):
    return random.Random(seed).randbytes(size)


def state_of(data):
    return (hashlib.md5(data).hexdigest(), len(data))


def fmt_state(st):
    return "absent" if st is ABSENT else "md5=%s size=%d" % st


def fmt_states(states):
    return "{%s}" % ", ".join(sorted(fmt_state(s) for s in states))


def describe_exc(e):
    if isinstance(e, ClientError):
        md = e.response.get("ResponseMetadata", {})
        return "%s %s (HTTP %s, request id %s)" % (e.response.get("Error", {}).get("Code"),
                                                  e.response.get("Error", {}).get("Message"),
                                                  md.get("HTTPStatusCode"),
                                                  md.get("HTTPHeaders", {}).get("x-amz-request-id"))
    return "%s: %s" % (type(e).__name__, e)


class Upload:
    """A multipart upload as the writer knows it."""

    def __init__(self, key, upload_id):
        self.key = key
        self.upload_id = upload_id
        self.parts = {}          # acknowledged: number -> (seed, size, md5)
        self.inflight_part = None  # (number, seed, size, md5) of an unacknowledged UploadPart
        self.status = "open"     # open | completing | completed | aborting | aborted
        self.new_state = None    # the object's state after a complete

    def expected_state(self, numbers, parts):
        h = hashlib.md5()
        size = 0
        for n in numbers:
            seed, psize, _md5 = parts[n]
            h.update(gen_data(seed, psize))
            size += psize
        return (h.hexdigest(), size)


class Writer:
    """One thread's keys, their acceptable states, and its operations."""

    def __init__(self, idx, seed):
        self.idx = idx
        self.rng = random.Random("%s-writer-%d" % (seed, idx))
        self.keys = []
        for j in range(KEYS_PER_WRITER):
            if j % 4 == 3:
                self.keys.append("w%d/sub dir/k%02d+x%%" % (idx, j))  # characters that need encoding
            elif j % 4 == 2:
                self.keys.append("w%d/d/e/k%02d" % (idx, j))
            else:
                self.keys.append("w%d/k%02d" % (idx, j))
        self.states = {k: {ABSENT} for k in self.keys}
        self.uploads = {}        # upload id -> Upload
        self.creating = Counter()  # key -> CreateMultipartUpload requests not acknowledged
        self.pending = {}        # key -> (kind, old states, new state) of its last unacknowledged op
        self.acked = Counter()
        self.inflight = Counter()
        self.errors = []         # requests that failed before the kill
        self.mismatches = []     # wrong answers seen while writing (e.g. a wrong ETag)
        self.client = None
        self.killing = None

    # -- bookkeeping

    def certain(self, key):
        s = self.states[key]
        return next(iter(s)) if len(s) == 1 else "uncertain"

    def ack(self, kind, key, new):
        self.states[key] = {new}
        self.pending.pop(key, None)

    def unacked(self, kind, key, new):
        old = set(self.states[key])
        self.states[key] = old | {new}
        self.pending[key] = (kind, old, new)

    def request(self, kind, fn):
        """Runs one request: returns (True, result) on a 2xx, (False, None) otherwise."""
        try:
            res = fn()
        except Exception as e:  # ClientError, connection reset/refused, timeouts
            self.inflight[kind] += 1
            if not self.killing.is_set():
                self.errors.append("writer %d %s: %s" % (self.idx, kind, describe_exc(e)))
            return False, None
        self.acked[kind] += 1
        return True, res

    def check_etag(self, kind, key, etag, md5):
        if etag is not None and etag.strip('"') != md5:
            self.mismatches.append("writer %d %s %r: acknowledged ETag %s, body MD5 %s"
                                   % (self.idx, kind, key, etag, md5))

    # -- the thread

    def run(self, stop, deadline):
        names = [n for n, _ in OPS]
        weights = [w for _, w in OPS]
        for _ in range(MAX_OPS_PER_ROUND):
            if stop.is_set() or time.monotonic() > deadline:
                return
            op = self.rng.choices(names, weights)[0]
            getattr(self, "op_" + ("put" if op.startswith("put_") else op))(op, stop)

    def pick_present(self):
        keys = [k for k in self.keys if self.certain(k) not in (ABSENT, "uncertain")]
        return self.rng.choice(keys) if keys else None

    def pick_target(self):
        if self.rng.random() < 0.6:
            k = self.pick_present()
            if k is not None:
                return k
        return self.rng.choice(self.keys)

    def op_put(self, op, stop):
        size = {"put_zero": lambda: 0,
                "put_small": lambda: self.rng.randint(1, 4 * KiB - 1),
                "put_100k": lambda: 100 * KiB + self.rng.randint(0, 4 * KiB),
                "put_9m": lambda: 9 * MiB + self.rng.randint(0, 64 * KiB)}[op]()
        key = self.pick_target()
        kind = "overwrite" if self.certain(key) not in (ABSENT, "uncertain") else "put"
        data = gen_data(self.rng.getrandbits(64), size)
        new = state_of(data)
        ok, res = self.request(kind, lambda: self.client.put_object(Bucket=BUCKET, Key=key, Body=data))
        if ok:
            self.check_etag(kind, key, res.get("ETag"), new[0])
            self.ack(kind, key, new)
        else:
            self.unacked(kind, key, new)

    def op_copy(self, op, stop):
        src = self.pick_present()
        if src is None:
            return
        dst = self.rng.choice([k for k in self.keys if k != src])
        new = self.certain(src)
        ok, _res = self.request("copy", lambda: self.client.copy_object(
            Bucket=BUCKET, Key=dst, CopySource={"Bucket": BUCKET, "Key": src}))
        if ok:
            self.ack("copy", dst, new)
        else:
            self.unacked("copy", dst, new)

    def op_delete(self, op, stop):
        key = self.pick_target()
        ok, _res = self.request("delete", lambda: self.client.delete_object(Bucket=BUCKET, Key=key))
        if ok:
            self.ack("delete", key, ABSENT)
        else:
            self.unacked("delete", key, ABSENT)

    def op_delete_objects(self, op, stop):
        keys = self.rng.sample(self.keys, self.rng.randint(1, 4))
        quiet = self.rng.random() < 0.5
        ok, res = self.request("delete_objects", lambda: self.client.delete_objects(
            Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": quiet}))
        if not ok:
            for k in keys:
                self.unacked("delete_objects", k, ABSENT)
            return
        failed = {e.get("Key"): e for e in res.get("Errors", [])}
        deleted = {d.get("Key") for d in res.get("Deleted", [])}
        for k in keys:
            if k in failed:
                self.errors.append("writer %d delete_objects: per-key error for %r: %r" % (self.idx, k, failed[k]))
                self.unacked("delete_objects", k, ABSENT)
            elif not quiet and k not in deleted:
                self.mismatches.append("writer %d delete_objects: %r neither Deleted nor an Error in %r"
                                       % (self.idx, k, res))
                self.unacked("delete_objects", k, ABSENT)
            else:
                self.ack("delete_objects", k, ABSENT)

    def op_multipart(self, op, stop):
        key = self.pick_target()
        ok, res = self.request("create_upload", lambda: self.client.create_multipart_upload(Bucket=BUCKET, Key=key))
        if not ok:
            self.creating[key] += 1
            return
        up = Upload(key, res["UploadId"])
        self.uploads[up.upload_id] = up
        for n in range(1, self.rng.randint(2, 3) + 1):
            if stop.is_set():
                return  # left open: checked and resolved after the restart
            seed, size = self.rng.getrandbits(64), 5 * MiB + self.rng.randint(0, 512 * KiB)
            data = gen_data(seed, size)
            md5 = hashlib.md5(data).hexdigest()
            up.inflight_part = (n, seed, size, md5)
            ok, res = self.request("upload_part", lambda: self.client.upload_part(
                Bucket=BUCKET, Key=key, UploadId=up.upload_id, PartNumber=n, Body=data))
            if not ok:
                return
            self.check_etag("upload_part", key, res.get("ETag"), md5)
            up.parts[n] = (seed, size, md5)
            up.inflight_part = None
        if stop.is_set():
            return
        ending = self.rng.random()
        if ending < 0.12:
            return  # abandoned on purpose: resolved after the next restart
        if ending < 0.36:  # a quarter aborted: often enough that a short run acknowledges some
            up.status = "aborting"
            ok, _res = self.request("abort_upload", lambda: self.client.abort_multipart_upload(
                Bucket=BUCKET, Key=key, UploadId=up.upload_id))
            if ok:
                up.status = "aborted"
            return
        numbers = sorted(up.parts)
        up.new_state = up.expected_state(numbers, up.parts)
        up.status = "completing"
        ok, res = self.request("complete_upload", lambda: self.client.complete_multipart_upload(
            Bucket=BUCKET, Key=key, UploadId=up.upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": '"%s"' % up.parts[n][2]} for n in numbers]}))
        if ok:
            up.status = "completed"
            self.ack("complete_upload", key, up.new_state)
        else:
            self.unacked("complete_upload", key, up.new_state)


class Result:
    def __init__(self, seed, rounds, seconds, writers):
        self.seed = seed
        self.rounds_planned = rounds
        self.seconds = seconds
        self.writers = writers
        self.rounds = 0
        self.kills = 0
        self.acked = Counter()
        self.inflight = Counter()
        self.resolved = Counter()      # (kind, "applied" | "not applied" | "either") of in-flight ops
        self.objects_verified = 0      # GETs whose body matched an acceptable state
        self.absent_verified = 0       # keys correctly absent
        self.uploads_checked = 0
        self.uploads_completed_after_crash = 0
        self.lost = []
        self.mismatches = []
        self.errors = []
        self.chunks_per_round = []
        self.chunks_before_delete = None
        self.chunks_after_delete = None
        self.orphans = None
        self.require_no_orphans = False
        self.workdir = None
        self.log_tail = ""
        self.elapsed = 0.0

    @property
    def ok(self):
        if self.lost or self.mismatches or self.errors:
            return False
        if self.require_no_orphans and self.orphans != 0:
            return False
        return self.rounds == self.rounds_planned

    def figures(self):
        acked = sum(self.acked.values())
        inflight = sum(self.inflight.values())
        lines = [
            "== crash test figures (seed %s, %d writers, %.1f s per round, %.0f s in all)"
            % (self.seed, self.writers, self.seconds, self.elapsed),
            "rounds                         %d" % self.rounds,
            "kills (SIGKILL)                %d" % self.kills,
            "operations acknowledged        %d  (%s)" % (acked, ", ".join(
                "%s %d" % kv for kv in sorted(self.acked.items()))),
            "operations not acknowledged    %d  (%s)" % (inflight, ", ".join(
                "%s %d" % kv for kv in sorted(self.inflight.items()))),
            "  in-flight outcome            %s" % (", ".join(
                "%s %s %d" % (k, o, n) for (k, o), n in sorted(self.resolved.items())) or "-"),
            "objects verified (GET + MD5)   %d" % self.objects_verified,
            "absent keys verified           %d" % self.absent_verified,
            "multipart uploads checked      %d  (%d completed from their parts after a crash and read back)"
            % (self.uploads_checked, self.uploads_completed_after_crash),
            "objects lost                   %d" % len(self.lost),
            "mismatches                     %d" % len(self.mismatches),
            "unexpected request errors      %d" % len(self.errors),
            "chunk files after each restart %s" % " ".join(str(n) for n in self.chunks_per_round),
            "chunk files before final delete %s, after it %s" % (self.chunks_before_delete, self.chunks_after_delete),
            "orphan chunk files remaining   %s  (after deleting everything and restarting%s)"
            % (self.orphans, "; required 0" if self.require_no_orphans else "; reported only"),
        ]
        for title, items in (("LOST", self.lost), ("MISMATCH", self.mismatches), ("ERROR", self.errors)):
            for item in items[:40]:
                lines.append("%s: %s" % (title, item))
            if len(items) > 40:
                lines.append("%s: ... %d more" % (title, len(items) - 40))
        if self.require_no_orphans and self.orphans:
            lines.append("FAIL: %d orphan chunk files remain" % self.orphans)
        if self.rounds != self.rounds_planned:
            lines.append("FAIL: only %d of %d rounds ran" % (self.rounds, self.rounds_planned))
        lines.append("RESULT: %s" % ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines)


class CrashTest:
    def __init__(self, workdir, rounds, seconds, seed, writers, out, require_no_orphans=False):
        self.rounds = rounds
        self.seconds = seconds
        self.rng = random.Random("%s-main" % seed)
        self.out = out
        self.server = CofferServer(workdir, threads=2)
        self.writers = [Writer(i, seed) for i in range(writers)]
        self.res = Result(seed, rounds, seconds, writers)
        self.res.workdir = workdir
        # before run(): whether the result is ok (and so whether the log tail is kept) depends on it
        self.res.require_no_orphans = require_no_orphans

    # -- helpers

    def chunk_count(self):
        return sum(self.server.chunk_files())

    def settle_chunks(self, timeout=15.0):
        """The chunk file count once it stops changing (unlinks after a delete may lag)."""
        deadline = time.monotonic() + timeout
        last = self.chunk_count()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.chunk_count()
            if now == last:
                return now
            last = now
        return last

    def list_keys(self, c):
        listed = {}
        kwargs = {"Bucket": BUCKET, "MaxKeys": LIST_PAGE}
        for _ in range(MAX_PAGES):
            page = c.list_objects_v2(**kwargs)
            for o in page.get("Contents", []):
                if o["Key"] in listed:
                    self.res.mismatches.append("ListObjectsV2 returned %r twice" % o["Key"])
                listed[o["Key"]] = o["Size"]
            if not page.get("IsTruncated"):
                return listed
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        raise RuntimeError("ListObjectsV2 did not end after %d pages" % MAX_PAGES)

    def list_uploads(self, c):
        found = []
        kwargs = {"Bucket": BUCKET}
        for _ in range(MAX_PAGES):
            page = c.list_multipart_uploads(**kwargs)
            found += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
            if not page.get("IsTruncated"):
                return found
            kwargs["KeyMarker"] = page["NextKeyMarker"]
            kwargs["UploadIdMarker"] = page["NextUploadIdMarker"]
        raise RuntimeError("ListMultipartUploads did not end after %d pages" % MAX_PAGES)

    def read_state(self, c, key):
        """(state, error): the key's body as (md5, size), ABSENT on 404, or an error text."""
        try:
            resp = c.get_object(Bucket=BUCKET, Key=key)
            h = hashlib.md5()
            n = 0
            for block in resp["Body"].iter_chunks(1 << 20):
                h.update(block)
                n += len(block)
            if n != resp["ContentLength"]:
                return UNREADABLE, "GET %r: %d bytes for Content-Length %d" % (key, n, resp["ContentLength"])
            return (h.hexdigest(), n), None
        except ClientError as e:
            if e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404 and \
                    e.response.get("Error", {}).get("Code") == "NoSuchKey":
                return ABSENT, None
            return UNREADABLE, "GET %r failed: %s" % (key, describe_exc(e))
        except Exception as e:
            return UNREADABLE, "GET %r failed: %s" % (key, describe_exc(e))

    # -- one round

    def run_round(self, r):
        stop = threading.Event()
        for w in self.writers:
            w.client = self.server.client()   # fresh connections after every restart
            w.killing = stop
        start = time.monotonic()
        deadline = start + self.seconds
        threads = [threading.Thread(target=w.run, args=(stop, deadline), name="writer-%d" % w.idx, daemon=True)
                   for w in self.writers]
        for t in threads:
            t.start()
        kill_at = self.rng.uniform(0.3, 1.0) * self.seconds
        time.sleep(max(0.0, start + kill_at - time.monotonic()))
        stop.set()             # before the signal: any failure from here on is "in flight at the kill"
        self.server.kill()
        self.res.kills += 1
        for t in threads:
            t.join(timeout=180)
            if t.is_alive():
                raise RuntimeError("%s did not stop within 180 s after the kill" % t.name)
        self.server.start()
        acked = sum(sum(w.acked.values()) for w in self.writers) - sum(self.res.acked.values())
        inflight = sum(sum(w.inflight.values()) for w in self.writers) - sum(self.res.inflight.values())
        self.res.acked = sum((w.acked for w in self.writers), Counter())
        self.res.inflight = sum((w.inflight for w in self.writers), Counter())
        for w in self.writers:
            self.res.errors += ["round %d: %s" % (r, e) for e in w.errors]
            self.res.mismatches += ["round %d: %s" % (r, m) for m in w.mismatches]
            w.errors, w.mismatches = [], []
        counts = self.verify(r)
        chunks = self.chunk_count()
        self.res.chunks_per_round.append(chunks)
        self.res.rounds += 1
        self.out("round %d/%d: killed at %.1f s; %d requests acknowledged, %d not; verified %d objects, "
                 "%d absent, %d uploads; %d chunk files; lost %d, mismatches %d, errors %d"
                 % (r, self.rounds, kill_at, acked, inflight, counts[0], counts[1], counts[2], chunks,
                    len(self.res.lost), len(self.res.mismatches), len(self.res.errors)))

    # -- verification after a restart

    def verify(self, r):
        c = self.server.client()
        res = self.res
        names = [b["Name"] for b in c.list_buckets().get("Buckets", [])]
        if names != [BUCKET]:
            res.mismatches.append("round %d: ListBuckets shows %r, expected [%r]" % (r, names, BUCKET))
        listed = self.list_keys(c)
        owner = {}
        for w in self.writers:
            for k in w.keys:
                owner[k] = w
        keys = sorted(set(owner) | set(listed))
        with ThreadPoolExecutor(6) as pool:
            observed = dict(zip(keys, pool.map(lambda k: self.read_state(c, k), keys)))
        n_obj = n_abs = 0
        for key in keys:
            state, err = observed[key]
            w = owner.get(key)
            if err:
                res.mismatches.append("round %d: %s" % (r, err))
                continue
            if w is None:
                res.mismatches.append("round %d: key %r was never written but exists (%s)" % (r, key, fmt_state(state)))
                continue
            ok_states = w.states[key]
            if state not in ok_states:
                if state is ABSENT:
                    res.lost.append("round %d: %r answers 404; acceptable: %s; last unacknowledged op: %r"
                                    % (r, key, fmt_states(ok_states), w.pending.get(key)))
                else:
                    res.mismatches.append("round %d: %r holds %s; acceptable: %s; last unacknowledged op: %r"
                                          % (r, key, fmt_state(state), fmt_states(ok_states), w.pending.get(key)))
            elif state is ABSENT:
                n_abs += 1
            else:
                n_obj += 1
            if key in w.pending:
                kind, old, new = w.pending.pop(key)
                if state == new and new not in old:
                    res.resolved[(kind, "applied")] += 1
                elif state in old and state != new:
                    res.resolved[(kind, "not applied")] += 1
                else:
                    res.resolved[(kind, "either")] += 1
            w.states[key] = {state}
        for key, size in listed.items():
            state = observed[key][0]
            if state is ABSENT:
                res.mismatches.append("round %d: ListObjectsV2 shows %r (size %d) but GET answers 404" % (r, key, size))
            elif state is not UNREADABLE and state[1] != size:
                res.mismatches.append("round %d: ListObjectsV2 size %d for %r, GET returned %d bytes"
                                      % (r, size, key, state[1]))
        for key in keys:
            state = observed[key][0]
            if state not in (ABSENT, UNREADABLE) and key not in listed:
                res.mismatches.append("round %d: %r reads back (%s) but ListObjectsV2 does not show it"
                                      % (r, key, fmt_state(state)))
        res.objects_verified += n_obj
        res.absent_verified += n_abs
        n_up = self.verify_uploads(c, r, observed)
        return n_obj, n_abs, n_up

    def verify_uploads(self, c, r, observed):
        res = self.res
        listed = self.list_uploads(c)
        listed_ids = {uid: key for key, uid in listed}
        if len(listed_ids) != len(listed):
            res.mismatches.append("round %d: ListMultipartUploads lists an upload twice: %r" % (r, listed))
        checked = 0
        known = set()
        to_resolve = []
        for w in self.writers:
            for uid, up in list(w.uploads.items()):
                known.add(uid)
                present = uid in listed_ids
                if present and listed_ids[uid] != up.key:
                    res.mismatches.append("round %d: upload %s listed under %r, created for %r"
                                          % (r, uid, listed_ids[uid], up.key))
                st = observed[up.key][0]
                if up.status in ("completed", "aborted"):
                    if present:
                        res.mismatches.append("round %d: upload %s of %r was %s (acknowledged) but is still listed"
                                              % (r, uid, up.key, up.status))
                    del w.uploads[uid]
                    continue
                checked += 1
                if up.status == "completing":
                    if present and st == up.new_state:
                        res.mismatches.append("round %d: complete of %s on %r half done: object is new, upload still listed"
                                              % (r, uid, up.key))
                    elif not present and st != up.new_state:
                        res.lost.append("round %d: upload %s on %r is gone but the object is %s, not the completed %s"
                                        % (r, uid, up.key, st if st is UNREADABLE else fmt_state(st),
                                           fmt_state(up.new_state)))
                    if not present:
                        del w.uploads[uid]
                        continue
                elif up.status == "aborting":
                    if not present:
                        del w.uploads[uid]
                        continue
                elif not present:  # open: its create was acknowledged
                    res.lost.append("round %d: upload %s on %r (create acknowledged, %d parts acknowledged) is gone"
                                    % (r, uid, up.key, len(up.parts)))
                    del w.uploads[uid]
                    continue
                to_resolve.append((w, up))
        # uploads nobody knows: one per create that was in flight for that key
        for key, uid in listed:
            if uid in known:
                continue
            w = next((w for w in self.writers if key in w.states), None)
            if w is not None and w.creating[key] > 0:
                w.creating[key] -= 1
                try:
                    c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
                except Exception as e:
                    res.mismatches.append("round %d: abort of unacknowledged upload %s on %r: %s"
                                          % (r, uid, key, describe_exc(e)))
            else:
                res.mismatches.append("round %d: upload %s on %r was never created" % (r, uid, key))
        for w in self.writers:
            w.creating.clear()
        for w, up in to_resolve:
            self.resolve_upload(c, r, w, up)
            del w.uploads[up.upload_id]
        res.uploads_checked += checked
        return checked

    def resolve_upload(self, c, r, w, up):
        """Checks an open upload's parts, then completes it and reads it back (or aborts it)."""
        res = self.res
        try:
            page = c.list_parts(Bucket=BUCKET, Key=up.key, UploadId=up.upload_id)
        except Exception as e:
            res.mismatches.append("round %d: ListParts of %s on %r failed: %s" % (r, up.upload_id, up.key, describe_exc(e)))
            return
        if page.get("IsTruncated"):
            res.mismatches.append("round %d: ListParts of %s truncated with only 3 parts at most" % (r, up.upload_id))
        parts = dict(up.parts)
        seen = {}
        for p in page.get("Parts", []):
            seen[p["PartNumber"]] = (p["ETag"].strip('"'), p["Size"])
        for n, (seed, size, md5) in up.parts.items():
            if n not in seen:
                res.lost.append("round %d: acknowledged part %d of upload %s on %r missing from ListParts"
                                % (r, n, up.upload_id, up.key))
                parts.pop(n)
            elif seen[n] != (md5, size):
                res.mismatches.append("round %d: part %d of upload %s on %r lists %r, uploaded (%s, %d)"
                                      % (r, n, up.upload_id, up.key, seen[n], md5, size))
                parts.pop(n)
        for n, got in seen.items():
            if n in up.parts:
                continue
            ip = up.inflight_part
            if ip is not None and ip[0] == n and got == (ip[3], ip[2]):
                parts[n] = (ip[1], ip[2], ip[3])   # the part in flight at the kill landed whole
            else:
                res.mismatches.append("round %d: part %d of upload %s on %r lists %r, never acknowledged%s"
                                      % (r, n, up.upload_id, up.key, got,
                                         "" if ip is None else " (in flight: part %d %s %d)" % (ip[0], ip[3], ip[2])))
        numbers = sorted(parts)
        if numbers != list(range(1, len(numbers) + 1)) or not numbers:
            try:
                c.abort_multipart_upload(Bucket=BUCKET, Key=up.key, UploadId=up.upload_id)
            except Exception as e:
                res.mismatches.append("round %d: abort of %s on %r failed: %s" % (r, up.upload_id, up.key, describe_exc(e)))
            return
        want = up.expected_state(numbers, parts)
        try:
            c.complete_multipart_upload(
                Bucket=BUCKET, Key=up.key, UploadId=up.upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": '"%s"' % parts[n][2]} for n in numbers]})
        except Exception as e:
            res.mismatches.append("round %d: completing %s on %r after the crash failed: %s"
                                  % (r, up.upload_id, up.key, describe_exc(e)))
            return
        state, err = self.read_state(c, up.key)
        if err is None:
            w.states[up.key] = {state}
        if err:
            res.mismatches.append("round %d: reading completed upload %s: %s" % (r, up.upload_id, err))
        elif state != want:
            res.mismatches.append("round %d: upload %s on %r completed after the crash reads %s, parts give %s"
                                  % (r, up.upload_id, up.key, fmt_state(state), fmt_state(want)))
        else:
            res.objects_verified += 1
            res.uploads_completed_after_crash += 1

    # -- the end: delete everything, restart, count chunk files

    def finish(self):
        c = self.server.client()
        res = self.res
        res.chunks_before_delete = self.chunk_count()
        for key, uid in self.list_uploads(c):
            c.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
        keys = sorted(self.list_keys(c))
        for i in range(0, len(keys), 1000):
            out = c.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                          "Quiet": True})
            for e in out.get("Errors", []):
                res.errors.append("final delete: %r" % e)
        left = self.list_keys(c)
        if left:
            res.mismatches.append("after deleting everything ListObjectsV2 still shows %r" % sorted(left)[:20])
        res.chunks_after_delete = self.settle_chunks()
        rc = self.server.stop()
        if rc != 0:
            res.errors.append("coffer exited with %r on SIGTERM" % rc)
        self.server.start()
        # start-up garbage collection, once it exists, may run in the background
        res.orphans = self.settle_chunks(timeout=10.0)
        left = self.list_keys(self.server.client())
        if left:
            res.lost.append("after the final restart deleted keys are back: %r" % sorted(left)[:20])
        self.out("final: %d chunk files before deleting everything, %d after, %d after a restart"
                 % (res.chunks_before_delete, res.chunks_after_delete, res.orphans))

    def run(self):
        t0 = time.monotonic()
        try:
            self.server.start()
            self.server.client().create_bucket(Bucket=BUCKET)
            for r in range(1, self.rounds + 1):
                self.run_round(r)
            self.finish()
        except Exception as e:
            self.res.errors.append("test aborted: %s" % describe_exc(e))
        finally:
            self.res.elapsed = time.monotonic() - t0
            if not self.res.ok:
                self.res.log_tail = self.server.log_tail(max_bytes=6000)
            self.server.stop()
        return self.res


def run(rounds=3, seconds_per_round=4.0, seed=None, writers=6, workdir=None, require_no_orphans=False,
        out=print):
    """Runs the crash test against coffer_bin() (COFFER_BIN or build/coffer); returns a Result.

    workdir, when given, must be an empty or new directory and is left in place; otherwise a
    temp dir is made and removed afterwards (kept, and named in the output, on failure).
    """
    if seed is None:
        seed = random.randrange(1 << 32)
    own = workdir is None
    if own:
        workdir = tempfile.mkdtemp(prefix="coffer-crash-")
    out("crash test: %s, seed %s, %d rounds x %.1f s, %d writers"
        % (coffer_bin(), seed, rounds, seconds_per_round, writers))
    res = CrashTest(workdir, rounds, seconds_per_round, seed, writers, out, require_no_orphans).run()
    if own and res.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    elif own:
        out("kept the server's dirs and log for inspection: %s" % workdir)
    return res


def _isolate_aws_environment():
    """Keeps the machine's AWS settings (retries, endpoints, profiles) out of boto3."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("BOTO"):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds-per-round", type=float, default=6.0)
    ap.add_argument("--binary", help="the coffer binary (default: $COFFER_BIN or build/coffer)")
    ap.add_argument("--seed", type=int, help="seed of the operation mix (default: random, printed)")
    ap.add_argument("--writers", type=int, default=6)
    ap.add_argument("--require-no-orphans", action="store_true",
                    help="fail when chunk files remain after deleting everything and restarting")
    ap.add_argument("--keep", metavar="DIR", help="run in DIR (new or empty) and keep it")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.seconds_per_round <= 0 or args.writers < 1:
        ap.error("--rounds, --seconds-per-round and --writers must be positive")
    if args.binary:
        os.environ["COFFER_BIN"] = os.path.abspath(args.binary)
    _isolate_aws_environment()
    workdir = None
    if args.keep:
        workdir = os.path.abspath(args.keep)
        os.makedirs(workdir, exist_ok=True)
        if os.listdir(workdir):
            ap.error("--keep %s: directory is not empty" % args.keep)

    def out(line):
        print(line, flush=True)

    res = run(args.rounds, args.seconds_per_round, args.seed, args.writers, workdir, args.require_no_orphans, out)
    print(res.figures())
    if not res.ok and res.log_tail:
        print("== end of the server log\n" + res.log_tail)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
