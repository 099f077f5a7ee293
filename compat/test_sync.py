"""Directory sync with real clients (aws-cli `s3 sync`, `rclone sync --checksum`) against a live coffer.

What was uploaded, deleted or downloaded is read from the server's own access log (one line per
request on the server's stdout, which the fixture's server writes to its log file), and checked
independently through the objects' ETag and LastModified: an object a sync did not touch keeps both.

Each test starts a private server (server_factory), so its log holds only that test's traffic.
"""

import hashlib
import os
import shutil
import time
from collections import Counter

import pytest

from s3compat import (
    RCLONE_BIN, REGION, AccessLog, CliRunner, KiB, MiB, content_md5, data_of, md5_hex, rclone_env, require_tool,
    run_rclone, sha256, sha256_file, wait_past,
)

RCLONE_TIMEOUT = 120  # seconds a whole rclone run may take here
AWS_PART = 8 * MiB  # aws-cli's default multipart_threshold and multipart_chunksize
RCLONE_PART = 5 * MiB

# ------------------------------------------------------------------ what the access log shows


def writes(entries):
    """Object-level PUT/POST requests (PutObject, multipart, copy): key -> Counter of operations."""
    got = {}
    for e in entries:
        if e.method in ("PUT", "POST") and e.key:
            got.setdefault(e.key, Counter())[e.op] += 1
    return got


def deletes(entries):
    return Counter(e.key for e in entries if e.method == "DELETE" and e.key)


def gets(entries):
    return Counter(e.key for e in entries if e.method == "GET" and e.key)


def assert_no_errors(entries):
    bad = [e for e in entries if e.status >= 400]
    assert not bad, bad


def assert_single_put(ops, key):
    assert ops == Counter({"PutObject": 1}), (key, ops)


def assert_multipart_put(ops, key, parts):
    assert ops == Counter({"CreateMultipartUpload": 1, "UploadPart": parts, "CompleteMultipartUpload": 1}), (key, ops)


# ------------------------------------------------------------------ local trees and remote state

def write_file(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def read_tree(root):
    """relative path (with '/') -> bytes, for every regular file under root."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                out[rel] = f.read()
    return out


def make_tree(root, sizes, seed, mtime):
    tree = {}
    for i, (rel, size) in enumerate(sorted(sizes.items())):
        data = data_of(size, seed=seed + i)
        write_file(os.path.join(root, rel), data, mtime)
        tree[rel] = data
    return tree


def etag_for(data, part_size=None):
    """The S3 ETag of data uploaded in one PUT, or in parts of part_size (when it takes more than one)."""
    if part_size is None or len(data) < part_size:
        return '"%s"' % md5_hex(data)
    digests = b"".join(hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size))
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), -(-len(data) // part_size))


def remote_state(s3, bucket):
    """key -> (ETag, LastModified, Size) from ListObjectsV2."""
    state = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            state[o["Key"]] = (o["ETag"], o["LastModified"], o["Size"])
    return state


def assert_remote_matches(s3, bucket, tree):
    """The bucket holds exactly tree's keys, each with tree's bytes."""
    state = remote_state(s3, bucket)
    assert sorted(state) == sorted(tree)
    for key, data in tree.items():
        assert state[key][2] == len(data), key
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(body) == len(data) and sha256(body) == sha256(data), key
    return state


# ------------------------------------------------------------------ aws s3 sync

# relative path -> size: nested dirs, an empty file, one file over aws-cli's 8 MiB multipart
# threshold, unicode, spaces, '+', '%' and other punctuation.
AWS_TREE = {
    "empty.txt": 0,
    "one.bin": 1,
    ".hidden": 17,
    "top.txt": 4 * KiB,
    "a/x.bin": 4 * KiB + 1,
    "a/b/sibling.dat": 64 * KiB,
    "a/b/c/deep.txt": 100,
    "a/b/c/d/e/deeper.bin": 300 * KiB,
    "big/multipart.bin": 9 * MiB + 7,
    "dir with spaces/file name.txt": 333,
    "dir with spaces/two  spaces.txt": 44,
    "plus+sign/a+b=c.txt": 50,
    "plus+sign/x + y.txt": 60,
    "unicode/\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt": 777,
    "unicode/\u00fcber stra\u00dfe.bin": 1234,
    "unicode/caf\u00e9/na\u00efve r\u00e9sum\u00e9.txt": 88,
    "emoji/\U0001F600 smile.txt": 20,
    "pct/100%.txt": 5,
    "punct/~tilde&amp;semi,comma@at.txt": 31,
    "n/2.txt": 2,
    "n/10.txt": 10,
}
BIG = "big/multipart.bin"
OLD_MTIME = time.time() - 86400  # every source file starts a day old, well before its upload


class AwsSync:
    """A private server, an empty bucket, a source tree and an aws-cli with default multipart settings."""

    def __init__(self, server, tmp_path):
        self.server = server
        self.s3 = server.client()
        self.log = AccessLog(server)
        self.bucket = "sync-aws"
        self.s3.create_bucket(Bucket=self.bucket)
        self.src = str(tmp_path / "src")
        self.tree = make_tree(self.src, AWS_TREE, seed=7100, mtime=OLD_MTIME)
        self.cli = CliRunner(str(tmp_path / "aws-home"), server.port)
        with open(self.cli.aws_config, "w") as f:
            f.write("[default]\nregion = %s\noutput = json\nmax_attempts = 1\nretry_mode = standard\n"
                    "s3 =\n    addressing_style = path\n    multipart_threshold = 8MB\n"
                    "    multipart_chunksize = 8MB\n" % REGION)
        self.uri = "s3://%s" % self.bucket

    def sync(self, src, dst, *extra):
        """Runs one aws s3 sync; returns the bucket's access-log lines it caused."""
        offset = self.log.mark()
        self.cli.aws("s3", "sync", src, dst, "--no-progress", *extra)
        return self.log.since(offset, self.bucket)

    def up(self, *extra):
        return self.sync(self.src, self.uri, *extra)

    def local(self, rel):
        return os.path.join(self.src, rel)


@pytest.fixture
def aws_synced(server_factory, tmp_path):
    """AwsSync after its first sync up; .first holds that sync's access-log lines."""
    ctx = AwsSync(server_factory(), tmp_path)
    ctx.first = ctx.up()
    return ctx


def test_aws_sync_initial_upload(aws_synced):
    ctx = aws_synced
    assert_no_errors(ctx.first)
    up = writes(ctx.first)
    assert sorted(up) == sorted(ctx.tree)  # every file uploaded, nothing else written
    for key, ops in up.items():
        if key == BIG:
            assert_multipart_put(ops, key, parts=2)
        else:
            assert_single_put(ops, key)
    assert not deletes(ctx.first)
    state = assert_remote_matches(ctx.s3, ctx.bucket, ctx.tree)
    for key, data in ctx.tree.items():
        assert state[key][0] == etag_for(data, AWS_PART), key
    assert state[BIG][0].endswith('-2"'), state[BIG]
    # the bytes the server counted as received for the small objects are the files' sizes
    for e in ctx.first:
        if e.op == "PutObject":
            assert e.req_bytes == len(ctx.tree[e.key]), e


def test_aws_sync_uploads_only_changed(aws_synced):
    ctx = aws_synced
    before = remote_state(ctx.s3, ctx.bucket)
    tree = dict(ctx.tree)
    # newer than the LastModified the first sync gave (that ended before now), older than the next upload
    newer = time.time()
    changed = {
        "a/x.bin": data_of(5000, seed=7201),                 # content and size
        "empty.txt": b"0123456789",                          # 0 -> 10 bytes
        BIG: data_of(9 * MiB + 100, seed=7202),              # multipart again, new size
    }
    for rel, data in changed.items():
        write_file(ctx.local(rel), data, OLD_MTIME + 60)      # a size change is enough, whatever the mtime
    same_size = "unicode/\u00fcber stra\u00dfe.bin"            # same size, other bytes, newer mtime
    changed[same_size] = data_of(len(tree[same_size]), seed=7203)
    assert changed[same_size] != tree[same_size]
    write_file(ctx.local(same_size), changed[same_size], newer)
    touched = "dir with spaces/file name.txt"                 # same bytes, newer mtime only
    os.utime(ctx.local(touched), (newer, newer))
    added = "new dir/added+1 \u00fc.txt"
    changed[added] = data_of(1500, seed=7204)
    write_file(ctx.local(added), changed[added])
    tree.update(changed)

    wait_past(newer)
    second = ctx.up()
    assert_no_errors(second)
    up = writes(second)
    assert sorted(up) == sorted(list(changed) + [touched])
    for key, ops in up.items():
        if key == BIG:
            assert_multipart_put(ops, key, parts=2)
        else:
            assert_single_put(ops, key)
    assert not deletes(second)

    after = assert_remote_matches(ctx.s3, ctx.bucket, tree)
    for key in tree:
        etag, modified, _size = after[key]
        assert etag == etag_for(tree[key], AWS_PART), key
        if key == added:
            continue
        if key in changed:
            assert etag != before[key][0], key
            assert modified > before[key][1], key
        elif key == touched:
            assert etag == before[key][0], key          # same bytes ...
            assert modified > before[key][1], key      # ... written again
        else:
            assert (etag, modified) == before[key][:2], key  # untouched objects keep ETag and LastModified

    # nothing left to do: a third sync writes nothing
    third = ctx.up()
    assert not writes(third) and not deletes(third), third
    assert remote_state(ctx.s3, ctx.bucket) == after


def test_aws_sync_delete_removes_exactly_those(aws_synced):
    ctx = aws_synced
    before = remote_state(ctx.s3, ctx.bucket)
    gone = ["one.bin", "a/b/c/deep.txt", "unicode/\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.txt",
            "plus+sign/a+b=c.txt", "pct/100%.txt", BIG]
    for rel in gone:
        os.unlink(ctx.local(rel))
    tree = {k: v for k, v in ctx.tree.items() if k not in gone}

    # without --delete a sync leaves the objects alone
    plain = ctx.up()
    assert not writes(plain) and not deletes(plain), plain
    assert remote_state(ctx.s3, ctx.bucket) == before

    entries = ctx.up("--delete")
    assert_no_errors(entries)
    assert not writes(entries), entries
    assert deletes(entries) == Counter({k: 1 for k in gone})
    for e in entries:
        if e.method == "DELETE":
            assert (e.op, e.status) == ("DeleteObject", 204), e
    after = assert_remote_matches(ctx.s3, ctx.bucket, tree)
    for key in tree:
        assert after[key] == before[key], key


def test_aws_sync_down_matches_tree(aws_synced, tmp_path):
    ctx = aws_synced
    dst = str(tmp_path / "down")
    os.mkdir(dst)
    entries = ctx.sync(ctx.uri, dst)
    assert_no_errors(entries)
    assert not writes(entries) and not deletes(entries), entries
    got = gets(entries)
    assert sorted(got) == sorted(ctx.tree)
    for key, n in got.items():
        assert n == (2 if key == BIG else 1), (key, n)  # the big object is fetched in two 8 MiB ranges
    down = read_tree(dst)
    assert sorted(down) == sorted(ctx.tree)
    for rel, data in ctx.tree.items():
        assert sha256(down[rel]) == sha256(data), rel
        assert sha256_file(os.path.join(dst, rel)) == sha256_file(ctx.local(rel)), rel

    # a second sync down finds nothing to fetch
    again = ctx.sync(ctx.uri, dst)
    assert not gets(again) and not writes(again), again
    assert read_tree(dst) == down


# ------------------------------------------------------------------ rclone sync --checksum

RCLONE_TREE = {
    "empty": 0,
    "small.txt": 10,
    "dir/a.bin": 4 * KiB,
    "dir/sub/b.bin": 100 * KiB,
    "sp ace/c d.txt": 321,
    "plus+/e+f.txt": 123,
    "\u00fc/\u65e5\u672c.txt": 456,
    "big.bin": 6 * MiB + 3,             # over the 5 MiB cutoff: two parts, MD5 kept in metadata
    "same-size.bin": 2000,
    "gone1.txt": 11,
    "dir/sub/gone2.bin": 5 * KiB,
}


def rclone(env, *args):
    """run_rclone as these tests want it: the test made the bucket, a 60s I/O timeout, and success asserted."""
    p = run_rclone(env, *args, "--s3-no-check-bucket", io_timeout="60s", timeout=RCLONE_TIMEOUT)
    assert p.returncode == 0, "rclone failed (%d): %r\n%s" % (p.returncode, p.args, p.err[-4000:])


def test_rclone_sync_checksum(server_factory, tmp_path):
    require_tool(RCLONE_BIN)
    server = server_factory()
    s3 = server.client()
    log = AccessLog(server)
    bucket = "sync-rclone"
    s3.create_bucket(Bucket=bucket)
    src = str(tmp_path / "src")
    tree = make_tree(src, RCLONE_TREE, seed=7300, mtime=OLD_MTIME)
    env = rclone_env(tmp_path, server.port)
    remote = "coffer:" + bucket

    def sync(*extra):
        offset = log.mark()
        rclone(env, "sync", src, remote, "--checksum", *extra)
        return log.since(offset, bucket)

    # 1. everything is uploaded once
    first = sync()
    assert_no_errors(first)
    up = writes(first)
    assert sorted(up) == sorted(tree)
    for key, ops in up.items():
        if key == "big.bin":
            assert_multipart_put(ops, key, parts=2)
        else:
            assert_single_put(ops, key)
    assert not deletes(first)
    before = assert_remote_matches(s3, bucket, tree)
    for key, data in tree.items():
        assert before[key][0] == etag_for(data, RCLONE_PART), key
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["Metadata"].get("md5chksum") == content_md5(tree["big.bin"]), head["Metadata"]

    # 2. no change: no PUT at all
    second = sync()
    assert_no_errors(second)
    assert not [e for e in second if e.method in ("PUT", "POST")], second
    assert not deletes(second)
    assert remote_state(s3, bucket) == before

    # 3. same size, same mtime, other bytes: only --checksum can tell
    rel = "same-size.bin"
    st = os.stat(os.path.join(src, rel))
    new = data_of(len(tree[rel]), seed=7399)
    assert new != tree[rel]
    with open(os.path.join(src, rel), "wb") as f:
        f.write(new)
    os.utime(os.path.join(src, rel), ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(os.path.join(src, rel)).st_mtime_ns == st.st_mtime_ns
    tree[rel] = new

    offset = log.mark()  # size and mtime (read back from the object's metadata) still match
    rclone(env, "sync", src, remote)
    plain = log.since(offset, bucket)
    assert not writes(plain) and not deletes(plain), plain

    third = sync()
    assert_no_errors(third)
    up = writes(third)
    assert sorted(up) == [rel], up
    assert_single_put(up[rel], rel)
    assert not deletes(third)
    after = assert_remote_matches(s3, bucket, tree)
    for key in tree:
        if key == rel:
            assert after[key][0] == etag_for(new) != before[key][0]
            assert after[key][1] > before[key][1]
        else:
            assert after[key] == before[key], key

    # 4. files removed locally are deleted remotely (sync deletes after transferring)
    gone = ["gone1.txt", "dir/sub/gone2.bin"]
    for g in gone:
        os.unlink(os.path.join(src, g))
        del tree[g]
    fourth = sync("--delete-after")
    assert_no_errors(fourth)
    assert not writes(fourth), fourth
    assert deletes(fourth) == Counter({g: 1 for g in gone})
    final = assert_remote_matches(s3, bucket, tree)
    for key in tree:
        assert final[key] == after[key], key

    # 5. and the remote tree comes back byte for byte
    down = str(tmp_path / "down")
    rclone(env, "copy", remote, down)
    assert read_tree(down) == tree
    shutil.rmtree(down)
