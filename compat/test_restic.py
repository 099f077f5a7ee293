"""restic (Debian's 0.14) backs up to and restores from a live coffer over plain HTTP.

restic's S3 backend is minio-go, which signs every upload over plain HTTP as an
aws-chunked body with per-chunk signatures (x-amz-content-sha256:
STREAMING-AWS4-HMAC-SHA256-PAYLOAD, 64 KiB chunks, each with ";chunk-signature=").
restic then reads every pack back (check --read-data) and restores the tree, which
must match the source byte for byte. The traffic passes through a small byte-for-byte
relay in this file that notes each request's x-amz-content-sha256, so the test knows
the signed streaming path was the one exercised.
"""

import collections
import filecmp
import hashlib
import os
import random
import re
import socket
import subprocess
import threading

import pytest

from s3compat import ACCESS_KEY, SECRET_KEY, KiB, MiB, data_of, require_tool

RESTIC_BIN = "/usr/bin/restic"
RESTIC_TIMEOUT = 120
PASSWORD = "coffer-compat-restic-password"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"


class SniffingRelay:
    """Relays TCP connections from its own loopback port to the server unchanged, and counts
    the x-amz-content-sha256 values and chunk signatures that the client sends.

    The bodies restic sends are encrypted (random-looking), so header text found in the
    stream comes from the request heads and the aws-chunked framing, not from data.
    """

    HEADER = re.compile(rb"\r\nx-amz-content-sha256:[ \t]*([!-~]+)\r\n", re.IGNORECASE)
    REQUEST = re.compile(rb"(?:^|\r\n)(PUT|POST|GET|HEAD|DELETE) /", re.ASCII)
    CHUNK_SIG = b";chunk-signature="
    CARRY = 256

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.payload_modes = collections.Counter()  # x-amz-content-sha256 value (hashes as "<sha256>")
        self.methods = collections.Counter()
        self.chunk_signatures = 0
        self.stopping = threading.Event()
        self.sockets = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.settimeout(RESTIC_TIMEOUT)
            with self.lock:
                self.sockets += [client, upstream]
            for src, dst, sniff in ((client, upstream, True), (upstream, client, False)):
                t = threading.Thread(target=self._pump, args=(src, dst, sniff), daemon=True)
                t.start()
                self.threads.append(t)

    def _pump(self, src, dst, sniff):
        carry = b""
        try:
            while True:
                data = src.recv(1 << 16)
                if not data:
                    break
                if sniff:
                    carry = self._sniff(carry, data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _sniff(self, carry, data):
        """Counts matches that end in the new data (the carried tail was scanned already)."""
        buf = carry + data
        new_from = len(carry)
        with self.lock:
            for m in self.HEADER.finditer(buf):
                if m.end() > new_from:
                    value = m.group(1).decode("ascii")
                    self.payload_modes["<sha256>" if re.fullmatch("[0-9a-f]{64}", value) else value] += 1
            for m in self.REQUEST.finditer(buf):
                if m.end() > new_from:
                    self.methods[m.group(1).decode("ascii")] += 1
            start = 0
            while True:
                at = buf.find(self.CHUNK_SIG, start)
                if at < 0:
                    break
                if at + len(self.CHUNK_SIG) > new_from:
                    self.chunk_signatures += 1
                start = at + 1
        return buf[-self.CARRY:]

    def stop(self):
        self.stopping.set()
        self.listener.close()
        with self.lock:
            socks = list(self.sockets)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self.threads:
            t.join(timeout=5)


@pytest.fixture
def relay(coffer_server):
    r = SniffingRelay(coffer_server.port)
    yield r
    r.stop()


def make_tree(root):
    """A deterministic tree: ~300 files from empty to 64 KiB, some medium ones, four above
    1 MiB, text that compresses, repeated content, nested and oddly named directories."""
    rnd = random.Random(20260101)
    files = {}
    for d in range(12):
        for f in range(24):
            size = rnd.choice([0, 1, 17, 512, 4 * KiB - 1, 4 * KiB + 1, rnd.randrange(64 * KiB)])
            files["dir%02d/sub%d/file%03d.bin" % (d, d % 3, f)] = data_of(size, seed=d * 1000 + f)
    for i in range(12):
        files["medium/m%02d.dat" % i] = data_of(rnd.randrange(100 * KiB, 900 * KiB), seed=5000 + i)
    for i, size in enumerate([MiB + 1, 3 * MiB + 4321, 5 * MiB, 7 * MiB + 77]):
        files["large/big%d.bin" % i] = data_of(size, seed=6000 + i)
    text = "".join("line %06d: the quick brown fox jumps over the lazy dog\n" % i for i in range(40000))
    files["text/log.txt"] = text.encode()
    files["text/copy of log.txt"] = text.encode()                  # identical: stored once
    files["dup/a.bin"] = files["dup/b.bin"] = data_of(2 * MiB, seed=7000)
    files["names/sp ace + plus %25.txt"] = b"odd name\n"
    files["names/\u00fcml\u00e4ut/\u65e5\u672c.txt"] = "unicode\n".encode()
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(root, "empty-dir"))
    return files


def tree_listing(root):
    """Relative paths of every file and directory under root, with file sizes."""
    out = {}
    for dirpath, dirs, names in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for d in dirs:
            out[os.path.normpath(os.path.join(rel, d)) + "/"] = None
        for n in names:
            out[os.path.normpath(os.path.join(rel, n))] = os.path.getsize(os.path.join(dirpath, n))
    return out


def restic_env(home):
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "RESTIC_PASSWORD": PASSWORD,
    }


def run_restic(env, cwd, repo, *args):
    argv = [RESTIC_BIN, "-r", repo, "--no-cache"] + list(args)
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=RESTIC_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("timed out after %ds: %r\nstdout: %r\nstderr: %r"
                             % (RESTIC_TIMEOUT, argv, e.stdout, e.stderr))
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "restic failed (%d): %r\nstdout: %s\nstderr: %s" % (p.returncode, argv, out[-4000:],
                                                                               err[-4000:])
    return out


def test_restic_backup_check_restore(s3, bucket, relay, tmp_path):
    require_tool(RESTIC_BIN)
    home = str(tmp_path / "home")
    os.makedirs(home)
    env = restic_env(home)
    work = tmp_path / "work"
    src = work / "src"
    src.mkdir(parents=True)
    files = make_tree(str(src))
    assert len(files) > 300 and sum(len(d) > MiB for d in files.values()) >= 4
    repo = "s3:http://127.0.0.1:%d/%s/repo" % (relay.port, bucket)

    run_restic(env, str(work), repo, "init")
    run_restic(env, str(work), repo, "backup", "--host", "compat", "src")
    snapshots = run_restic(env, str(work), repo, "snapshots", "--json")
    assert snapshots.count('"short_id"') == 1, snapshots
    run_restic(env, str(work), repo, "check", "--read-data")
    target = tmp_path / "restored"
    run_restic(env, str(work), repo, "restore", "latest", "--target", str(target))

    restored = target / "src"
    assert tree_listing(str(restored)) == tree_listing(str(src))
    for rel in files:
        assert filecmp.cmp(os.path.join(src, rel), os.path.join(restored, rel), shallow=False), rel

    # Every file restic stores but its config is named by the SHA-256 of its content,
    # so reading them back with boto3 shows that Coffer stored the decoded bytes.
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="repo/"):
        keys += [(o["Key"], o["Size"]) for o in page.get("Contents", [])]
    kinds = collections.Counter(k.split("/")[1] for k, _ in keys)
    assert kinds["config"] == 1 and kinds["keys"] == 1 and kinds["snapshots"] == 1, kinds
    assert kinds["data"] >= 2 and kinds["index"] >= 1 and kinds["locks"] == 0, kinds
    for key, size in keys:
        if key == "repo/config":
            continue
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(body) == size
        assert hashlib.sha256(body).hexdigest() == key.rsplit("/", 1)[1], key

    # What went over the wire: minio-go's signed aws-chunked uploads, one chunk
    # signature per 64 KiB chunk plus the final empty chunk of each upload.
    with relay.lock:
        modes, methods, sigs = dict(relay.payload_modes), dict(relay.methods), relay.chunk_signatures
    print("restic requests:", methods, "x-amz-content-sha256:", modes, "chunk signatures:", sigs)
    puts = methods.get("PUT", 0)
    assert puts >= 2 + kinds["data"] + kinds["index"] + 1, (methods, modes)  # key, config, packs, index, snapshot
    assert modes.get(STREAMING_SIGNED, 0) == puts, (methods, modes)  # every upload, small or large
    stored = sum(size for key, size in keys if not key.startswith("repo/config"))
    assert sigs >= stored // (64 * KiB), (sigs, stored, modes)
