"""Helpers shared by the compat tests: the server process, clients, raw signed requests.

Everything here talks to 127.0.0.1 only. Paths are derived from this file so
nothing machine-specific is committed.
"""

import base64
import datetime
import functools
import hashlib
import hmac
import itertools
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "coffer")

REGION = "us-east-1"
ACCESS_KEY = "COFFERTESTROOTKEY001"
SECRET_KEY = "coffer-test-root-secret/0123456789abcdefXYZ"
DOMAIN = "s3.coffer.test"

AWS_BIN = "/usr/bin/aws"
S3CMD_BIN = "/usr/bin/s3cmd"
RCLONE_BIN = "/usr/bin/rclone"
SUBPROCESS_TIMEOUT = 120
RCLONE_TIMEOUT = 300
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

KiB = 1024
MiB = 1024 * 1024
HOUR = datetime.timedelta(hours=1)


def coffer_bin():
    return os.environ.get("COFFER_BIN") or DEFAULT_BIN


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def content_md5(body):
    """The Content-MD5 header value of body: base64 of its binary MD5."""
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def write(path, data):
    """Writes data to path (a str or a pathlib path); returns the path as a str."""
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def wait_past(t0, gap=1.1):
    """Sleeps until gap seconds have passed since t0 (time.time() scale), so a LastModified taken
    afterwards differs from one taken at t0 even at S3's 1 s precision."""
    left = t0 + gap - time.time()
    if left > 0:
        time.sleep(left)


def require_tool(path, how="deploy/install-deps.sh installs it"):
    """Fails (never skips) the test when an external client the suite depends on is missing."""
    if not os.access(path, os.X_OK):
        pytest.fail("%s not found: %s" % (path, how))


def data_of(size, seed):
    """Deterministic pseudo-random bytes (same seed, same bytes on every run)."""
    return random.Random(seed).randbytes(size)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_files(root):
    n = 0
    for _dirpath, _dirs, files in os.walk(root):
        n += len(files)
    return n


class CofferServer:
    """One coffer process on fixed dirs and port; can be stopped, killed and restarted."""

    def __init__(self, workdir, port=None, threads=2, domain=DOMAIN, data_dirs=None, copies=None, log_level="info"):
        self.workdir = workdir
        self.log_level = log_level
        self.port = port or free_port()
        self.threads = threads
        self.domain = domain
        # data_dirs: the --data directories (default data1 and data2 in workdir); copies: --copies when given
        self.data_dirs = list(data_dirs or [os.path.join(workdir, "data1"), os.path.join(workdir, "data2")])
        self.copies = copies
        self.meta_dir = os.path.join(workdir, "meta")
        self.log_path = os.path.join(workdir, "server.log")
        self.proc = None
        self.starts = 0

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def argv(self):
        argv = [coffer_bin(), "serve", "--listen", "127.0.0.1:%d" % self.port]
        for d in self.data_dirs:
            argv += ["--data", d]
        if self.copies is not None:
            argv += ["--copies", str(self.copies)]
        argv += ["--meta", self.meta_dir, "--threads", str(self.threads), "--log-level", self.log_level]
        if self.domain:
            argv += ["--domain", self.domain]
        return argv

    def start(self, ready_timeout=10.0):
        assert self.proc is None, "server already running"
        binary = coffer_bin()
        if not os.access(binary, os.X_OK):
            raise RuntimeError("coffer binary not found at %s (build it or set COFFER_BIN)" % binary)
        for d in self.data_dirs + [self.meta_dir]:
            os.makedirs(d, exist_ok=True)
        env = dict(os.environ)
        env["COFFER_ROOT_ACCESS_KEY"] = ACCESS_KEY
        env["COFFER_ROOT_SECRET_KEY"] = SECRET_KEY
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("==== start #%d: %s\n" % (self.starts, " ".join(self.argv()))).encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        log.close()
        deadline = time.monotonic() + ready_timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise RuntimeError("coffer exited with status %s before listening; log:\n%s"
                                   % (rc, self.log_tail()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("coffer did not listen on port %d within %.0f s; log:\n%s"
                                   % (self.port, ready_timeout, self.log_tail()))
            time.sleep(0.05)

    def stop(self, timeout=15.0):
        """SIGTERM, bounded wait, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        return proc.returncode

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        return proc.returncode

    def restart(self, hard=False):
        """Stops (SIGTERM, or SIGKILL when hard) and starts again on the same dirs and port."""
        rc = self.kill() if hard else self.stop()
        self.start()
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, since=0, max_bytes=8000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                end = f.tell()
                start = max(since, end - max_bytes)
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
                if start > since:
                    text = "[... %d bytes cut ...]\n" % (start - since) + text
                return text
        except OSError:
            return "(no log)"

    def chunk_files(self):
        """Number of chunk files under each data dir's chunks/."""
        return [count_files(os.path.join(d, "chunks")) for d in self.data_dirs]

    def client(self, **kw):
        return make_client(self.endpoint, **kw)


def make_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, addressing_style="path"):
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                    region_name=REGION)
    cfg = Config(signature_version="s3v4", s3={"addressing_style": addressing_style},
                 retries={"total_max_attempts": 1, "mode": "standard"},
                 connect_timeout=10, read_timeout=120, max_pool_connections=32)
    return session.client("s3", endpoint_url=endpoint, config=cfg)


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    def xml(self):
        return ET.fromstring(self.body)

    def error_code(self):
        return error_code_of(self.body)

    def __repr__(self):
        return "RawResponse(%d, %r, %r)" % (self.status, self.headers, self.body[:1000])


def request_target(path, query=None):
    """The request target: the encoded path plus the query, a list of (name, value) pairs or a dict."""
    if isinstance(query, dict):
        query = list(query.items())
    qs = urllib.parse.urlencode(query or [], quote_via=urllib.parse.quote, safe="-_.~")
    return path + ("?" + qs if qs else "")


def signed_headers(method, host, target, body=b"", headers=None, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """headers plus SigV4 headers for the request, signed by botocore (x-amz-content-sha256 is the body's, unless given)."""
    req = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (host, target), data=body,
                                         headers=dict(headers or {}))
    given = [v for k, v in req.headers.items() if k.lower() == "x-amz-content-sha256"]
    payload_hash = given[0] if given else hashlib.sha256(body).hexdigest()
    req.headers["X-Amz-Content-SHA256"] = payload_hash
    _FixedPayloadAuth(botocore.credentials.Credentials(access_key, secret_key), "s3", REGION, payload_hash).add_auth(req)
    return dict(req.headers.items())


class _FixedPayloadAuth(botocore.auth.S3SigV4Auth):
    """botocore's S3 signer, signing the x-amz-content-sha256 value given (STREAMING-..., UNSIGNED-PAYLOAD, a hash)."""

    def __init__(self, credentials, service, region, payload_hash):
        super().__init__(credentials, service, region)
        self._payload_hash = payload_hash

    def payload(self, request):
        return self._payload_hash


def raw_request(port, method, path, query=None, headers=None, body=b"", host=None,
                access_key=ACCESS_KEY, secret_key=SECRET_KEY, sign=True, timeout=60, wire_body=None):
    """Sends one request to 127.0.0.1:port, optionally SigV4-signed, with an optional Host override.

    path is the already-encoded request path (e.g. '/bucket/key%20x'); query is a list of
    (name, value) pairs or a dict; host defaults to 127.0.0.1:port. The signature covers
    body; wire_body, when given, is sent instead (to test payload verification).
    """
    host = host or "127.0.0.1:%d" % port
    target = request_target(path, query)
    hdrs = dict(headers or {})
    if sign:
        hdrs = signed_headers(method, host, target, body, hdrs, access_key, secret_key)
    hdrs["Host"] = host
    return send_raw(port, method, target, hdrs, body if wire_body is None else wire_body, timeout)


def send_raw(port, method, target, headers, body=b"", timeout=60):
    """Sends one request exactly as given (target already encoded, headers final) to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, target, body=body if body else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def open_url(url, method="GET", data=None, headers=None, timeout=60):
    """urllib request; returns (status, lower-case headers, body) for successes and HTTP errors alike."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def assert_xml_error(raw, code, status):
    """A raw response is an S3 <Error> document with Code, Message and RequestId."""
    assert raw.status == status, raw
    assert raw.headers.get("x-amz-request-id"), raw
    root = ET.fromstring(raw.body)
    assert root.tag == "Error", raw
    assert root.findtext("Code") == code, raw
    assert root.find("Message") is not None, raw
    assert root.findtext("RequestId"), raw


def assert_absent(client, bucket, key):
    """The key holds no object (HEAD answers 404)."""
    resp = client_error(client.head_object, Bucket=bucket, Key=key)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404, resp


def error_of(body):
    """(Code, Message) of an S3 <Error> document."""
    root = ET.fromstring(body)
    assert root.tag == "Error", body[:500]
    return root.findtext("Code"), root.findtext("Message")


def error_code_of(body):
    """The Code of an S3 <Error> document."""
    root = ET.fromstring(body)
    assert root.tag == "Error", "not an <Error> document: %r" % body[:500]
    return root.findtext("Code")


def client_error(fn, *args, **kwargs):
    """Calls a boto3 operation that must fail; returns the error response."""
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    return ei.value.response


def assert_error(resp, code, status):
    got = (resp["Error"].get("Code"), resp["ResponseMetadata"]["HTTPStatusCode"])
    assert got == (code, status), "expected %s/%d, got %r" % (code, status, resp)
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id"), resp


def outcome(fn, *args, **kwargs):
    """(HTTP status, error code) of a boto3 operation that may fail; the code is None on success.

    A HEAD has no body, so botocore gives its status as the code ("304", "412", "404")."""
    try:
        r = fn(*args, **kwargs)
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")
    return r["ResponseMetadata"]["HTTPStatusCode"], None


# ------------------------------------------------------------------ bucket contents

def put_keys(s3, bucket, keys):
    """PUTs every key (16 at a time) with its own name, UTF-8, as the body."""
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode("utf-8")), keys))


def all_keys(s3, bucket, **kw):
    """Every key ListObjectsV2 shows, in the order it gives them, following continuation tokens."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def tags_of(s3, bucket, key):
    """GetObjectTagging's tag set as [(key, value)] in the order the server gives it."""
    r = s3.get_object_tagging(Bucket=bucket, Key=key)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, r
    return [(t["Key"], t["Value"]) for t in r["TagSet"]]


def wait_for(predicate, timeout=5.0):
    """Polls predicate until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


def s3_url(v):
    """S3's encoding-type=url form: letters, digits, '-_.*/' kept, space '+', other bytes %XX."""
    out = []
    for b in v.encode("utf-8"):
        c = chr(b)
        out.append(c if c.isascii() and (c.isalnum() or c in "-_.*/") else "+" if c == " " else "%%%02X" % b)
    return "".join(out)


def sigv4_signing_key(date, secret_key=SECRET_KEY, region=REGION, service="s3"):
    """SigV4's signing key for a date (YYYYMMDD): HMAC-SHA256 chained over date, region, service, aws4_request."""
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


# ------------------------------------------------------------------ the server's access log

# server/log.c log_access (from handler.c on_req_dispose): "<time> access <request-id> <user> <METHOD> <raw path> <Operation>
# <status> <request body bytes> <response bytes sent> <duration>ms"; the raw path carries no query.
ACCESS_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ access (?P<rid>\S+) (?P<user>\S+) "
                         r"(?P<method>[A-Z]+) (?P<path>/\S*) (?P<op>[A-Za-z0-9]+) (?P<status>\d{3}) "
                         r"(?P<req_bytes>\d+) (?P<resp_bytes>\d+) \d+\.\d{3}ms$")

Access = namedtuple("Access", "method op status bucket key req_bytes")

LOG_MARKER_BUCKET = "coffer-log-marker"  # never created: a marker request is a 404 no test bucket sees
_log_markers = itertools.count(1)


class AccessLog:
    """The access-log lines a server wrote to its log file (path-style requests).

    A line is written when the server disposes of a request, which may come after the
    client has its answer, so mark() and since() end with a marker request (a HEAD of
    a key in a bucket that never exists) and wait, bounded, for its line: every request
    answered before the marker was sent has its line in the log by then."""

    def __init__(self, server):
        self.server = server

    def _sync(self, timeout=10.0):
        """Sends a marker request; returns the log offset just past its access line."""
        start = self.server.log_size()
        path = "/%s/%d-%d" % (LOG_MARKER_BUCKET, os.getpid(), next(_log_markers))
        raw_request(self.server.port, "HEAD", path)
        needle = (" HEAD %s " % path).encode()
        deadline = time.monotonic() + timeout
        while True:
            with open(self.server.log_path, "rb") as f:
                f.seek(start)
                data = f.read()
            at = data.find(needle)
            if at >= 0:
                end = data.find(b"\n", at)
                if end >= 0:
                    return start + end + 1
            if time.monotonic() > deadline:
                raise AssertionError("the access line of marker request %s did not appear in %s within %.0f s"
                                     % (path, self.server.log_path, timeout))
            time.sleep(0.02)

    def mark(self):
        """The offset from which the next requests' lines will be found."""
        return self._sync()

    def since(self, offset, bucket):
        """Parsed access lines for bucket (all buckets when None) written after offset and before now.

        Every access line in that span must match ACCESS_LINE: a line the parser would skip fails here."""
        end = self._sync()
        with open(self.server.log_path, "rb") as f:
            f.seek(offset)
            text = f.read(end - offset).decode("utf-8", "replace")
        out, unparsed = [], []
        for line in text.splitlines():
            fields = line.split(" ", 2)
            if len(fields) < 2 or fields[1] != "access":
                continue  # a diagnostic line
            m = ACCESS_LINE.match(line)
            if m is None:
                unparsed.append(line)
                continue
            b, _, raw_key = m.group("path")[1:].partition("/")
            b = urllib.parse.unquote(b)
            if b == LOG_MARKER_BUCKET or (bucket is not None and b != bucket):
                continue
            out.append(Access(m.group("method"), m.group("op"), int(m.group("status")), b,
                              urllib.parse.unquote(raw_key, errors="strict"), int(m.group("req_bytes"))))
        assert not unparsed, "%d access lines do not match ACCESS_LINE: %r" % (len(unparsed), unparsed[:10])
        return out


# ------------------------------------------------------------------ rclone

def rclone_env(tmp_path, port):
    """A private rclone home and config (the remote "coffer:") for the server on port."""
    home = tmp_path / "rclone-home"
    home.mkdir()
    conf = home / "rclone.conf"
    conf.write_text("")
    prefix = "RCLONE_CONFIG_COFFER_"
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "XDG_CACHE_HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "RCLONE_CONFIG": str(conf),
        prefix + "TYPE": "s3",
        prefix + "PROVIDER": "Other",
        prefix + "ACCESS_KEY_ID": ACCESS_KEY,
        prefix + "SECRET_ACCESS_KEY": SECRET_KEY,
        prefix + "ENDPOINT": "http://127.0.0.1:%d" % port,
        prefix + "REGION": REGION,
        prefix + "FORCE_PATH_STYLE": "true",
    }


def run_rclone(env, *args, io_timeout="120s", timeout=RCLONE_TIMEOUT):
    """Runs rclone with args (flags among them as the caller likes), one retry and 5 MiB parts; io_timeout is
    rclone's own --timeout (an idle connection), timeout the seconds the whole run may take."""
    require_tool(RCLONE_BIN)
    argv = [RCLONE_BIN] + list(args) + ["--retries", "1", "--low-level-retries", "1", "--contimeout", "10s",
                                        "--timeout", io_timeout, "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    try:
        p = subprocess.run(argv, env=env, cwd=env["HOME"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("timed out: %r\nstdout: %r\nstderr: %r" % (argv, e.stdout, e.stderr))
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


class CliRunner:
    """Runs aws-cli and s3cmd with private config files and a bounded timeout."""

    def __init__(self, home, port, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.home = home
        self.port = port
        os.makedirs(home, exist_ok=True)
        self.aws_config = os.path.join(home, "aws-config")
        self.aws_creds = os.path.join(home, "aws-credentials")
        self.s3cmd_config = os.path.join(home, "s3cmd.cfg")
        with open(self.aws_config, "w") as f:
            f.write("[default]\nregion = %s\noutput = json\nmax_attempts = 1\nretry_mode = standard\n"
                    "s3 =\n    addressing_style = path\n    multipart_threshold = 64MB\n" % REGION)
        with open(self.aws_creds, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (access_key, secret_key))
        with open(self.s3cmd_config, "w") as f:
            f.write("[default]\n"
                    "access_key = %s\nsecret_key = %s\n"
                    "host_base = 127.0.0.1:%d\nhost_bucket = 127.0.0.1:%d\n"
                    "use_https = False\nsignature_v2 = False\nbucket_location = us-east-1\n"
                    "check_ssl_certificate = False\nprogress_meter = False\n"
                    "enable_multipart = False\nmultipart_chunk_size_mb = 100\n"
                    "socket_timeout = 120\nguess_mime_type = False\n"
                    % (access_key, secret_key, port, port))

    def env(self):
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "AWS_CONFIG_FILE": self.aws_config,
            "AWS_SHARED_CREDENTIALS_FILE": self.aws_creds,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "TMPDIR": self.home,
        }

    def _run(self, argv, check, input_data):
        try:
            p = subprocess.run(argv, env=self.env(), cwd=self.home, input=input_data,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=SUBPROCESS_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("timed out after %ds: %r\nstdout: %r\nstderr: %r"
                                 % (SUBPROCESS_TIMEOUT, argv, e.stdout, e.stderr))
        p.out = p.stdout.decode("utf-8", "replace")
        p.err = p.stderr.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise AssertionError("command failed (%d): %r\nstdout: %s\nstderr: %s"
                                 % (p.returncode, argv, p.out[-4000:], p.err[-4000:]))
        return p

    def aws(self, *args, check=True, input_data=None):
        argv = [AWS_BIN, "--endpoint-url", "http://127.0.0.1:%d" % self.port, "--no-cli-pager"]
        return self._run(argv + list(args), check, input_data)

    def s3cmd(self, *args, check=True, input_data=None):
        argv = [S3CMD_BIN, "-c", self.s3cmd_config]
        return self._run(argv + list(args), check, input_data)


_bucket_counter = itertools.count(1)


def unique_bucket_name(hint="t"):
    hint = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:30].strip("-") or "t"
    return "c%04d-%s-%d" % (next(_bucket_counter), hint, os.getpid())


def listing_keys():
    """2,500 keys with awkward characters; content of each object is its key plus a suffix."""
    keys = []
    for d in range(20):
        for f in range(100):
            keys.append("d%02d/f%03d" % (d, f))                  # 2000
    for j in range(100):
        keys.append("sp ace/%03d x+y%%z" % j)                     # spaces, '+', '%'
        keys.append("\u00fc/\u65e5\u672c/%03d" % j)               # ü/日本/
    for j in range(50):
        keys.append("a/./b/%03d" % j)                             # '.'
        keys.append("../up%03d" % j)                              # '..'
        keys.append("x//y/%03d" % j)                              # '//'
        keys.append("top%03d" % j)                                # no '/'
        keys.append("plus+dir/%03d" % j)
        keys.append("pct%%2F/%03d" % j)                           # a literal '%2F'
    assert len(keys) == len(set(keys)) == 2500
    return sorted(keys)  # code point order == UTF-8 byte order


def listing_body(key):
    return ("body of " + key).encode("utf-8")


# ------------------------------------------------------------------ checksums, computed here

def _reflected_table(poly, width):
    """The byte table of a reflected CRC, built bit by bit from its (reflected) polynomial."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & ((1 << width) - 1))
    return table


_CRC32C_TABLE = _reflected_table(0x82F63B78, 32)        # Castagnoli, as in iSCSI
_CRC64NVME_TABLE = _reflected_table(0x9A6C9329AC4BC9B5, 64)  # the NVMe spec's CRC-64


def _reflected_crc(table, width, data):
    mask = (1 << width) - 1
    crc = mask
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def crc32c(data):
    return _reflected_crc(_CRC32C_TABLE, 32, data)


def crc64nvme(data):
    return _reflected_crc(_CRC64NVME_TABLE, 64, data)


def b64(raw):
    return base64.b64encode(raw).decode()


def raw_checksum(algorithm, data):
    """The digest S3 shows for data (CRCs big-endian); algorithm as S3 names it, any case."""
    algorithm = algorithm.upper()
    if algorithm == "CRC32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return crc64nvme(data).to_bytes(8, "big")
    if algorithm == "SHA1":
        return hashlib.sha1(data).digest()
    if algorithm == "SHA256":
        return hashlib.sha256(data).digest()
    raise ValueError(algorithm)


@functools.lru_cache(maxsize=64)
def checksum(algorithm, data):
    """The S3 form (base64 of the big-endian value or digest) of data's checksum, computed without the server's code."""
    return b64(raw_checksum(algorithm, data))


def composite(algorithm, parts):
    """S3's COMPOSITE checksum of a multipart object: the checksum of the parts' digests, '-', the part count."""
    return "%s-%d" % (b64(raw_checksum(algorithm, b"".join(raw_checksum(algorithm, p) for p in parts))), len(parts))


def get_raw(srv, bucket, key, first=None, last=None, timeout=30):
    """(status, body, complete) of a signed GET of srv (anything with .port) for bucket/key, optionally of
    bytes first..last; a body the server cuts short comes back with complete=False and what arrived. A
    server that neither answers nor closes fails on the timeout."""
    host = "127.0.0.1:%d" % srv.port
    path = "/%s/%s" % (bucket, quote_key(key))
    headers = {"Range": "bytes=%d-%d" % (first, last)} if first is not None else {}
    headers = signed_headers("GET", host, path, b"", headers)
    headers["Host"] = host
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        try:
            return resp.status, resp.read(), True
        except http.client.IncompleteRead as e:
            return resp.status, e.partial, False
        except ConnectionError:
            return resp.status, b"", False
    finally:
        conn.close()


def chunk_files(data_dir):
    """{chunk id (16 hex digits): path} of the chunk files under data_dir/chunks/<2 hex>/ (storage/blob.h)."""
    out = {}
    root = os.path.join(data_dir, "chunks")
    if not os.path.isdir(root):
        return out
    for fan in os.listdir(root):
        sub = os.path.join(root, fan)
        if os.path.isdir(sub):
            for name in os.listdir(sub):
                out[name] = os.path.join(sub, name)
    return out


def chunk_path(data_dir, cid):
    """Where chunk cid (16 hex digits) of data_dir lives."""
    return os.path.join(data_dir, "chunks", cid[-2:], cid)


def flip_byte(path, offset):
    """Damages one byte of a file in place, as bitrot would."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


CURL = "/usr/bin/curl"


def curl(method, url, body=None, headers=(), timeout=60):
    """Runs curl; returns (status, headers as a lower-case dict, body bytes)."""
    argv = [CURL, "-s", "-S", "-g", "-D", "-", url, "--max-time", str(timeout)]
    argv += ["-I"] if method == "HEAD" else ["-X", method]
    for h in headers:
        argv += ["-H", h]
    if body is not None:
        argv += ["--data-binary", "@-", "-H", "Content-Type:", "-H", "Expect:"]
    p = subprocess.run(argv, input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
    assert p.returncode == 0, p.stderr
    head, _, rest = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, rest
