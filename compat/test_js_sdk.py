"""Uploads with the AWS SDK for JavaScript v3 (a modern client) against a live coffer.

The SDK is pinned in compat/package.json and installed with `npm ci` in compat/
(deploy/run-tests.sh does it). Its defaults are the ones S3 clients have had since
2025: requestChecksumCalculation WHEN_SUPPORTED, so every PutObject and UploadPart
carries a CRC32 unless the caller picks another algorithm; a Buffer body gets the
checksum as an x-amz-checksum-* header, a stream body is sent aws-chunked
(Content-Encoding: aws-chunked, x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER)
with the checksum in a trailer. responseChecksumValidation WHEN_SUPPORTED makes
GetObject ask for and verify the full-object checksum.

The scripts in compat/js print what the SDK sent and got back as JSON. Every checksum
the server answers is compared with one computed here, independently of the server and
of the SDK: zlib and hashlib, and reference CRC32C and CRC64NVME implementations below.
Expected behaviour follows the AWS S3 API Reference (PutObject, GetObject, HeadObject,
CreateMultipartUpload, UploadPart, CompleteMultipartUpload; "Checking object integrity").
"""

import hashlib
import json
import os
import subprocess
import zlib

import pytest

from s3compat import (
    ACCESS_KEY, SECRET_KEY, KiB, MiB, all_keys, checksum, client_error, composite, crc32c, crc64nvme, data_of, md5_hex,
    require_tool, sha256, sha256_file, write,
)

COMPAT_DIR = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(COMPAT_DIR, "js")
NODE_MODULES = os.path.join(COMPAT_DIR, "node_modules")
NODE_BIN = "/usr/bin/node"
NODE_TIMEOUT = 120

ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
CHECKSUM_FIELDS = ["Checksum" + a for a in ALGORITHMS]
SDK_CHUNK = 64 * KiB  # a file stream's read size, so one aws-chunked chunk per 64 KiB

# ---------------------------------------------------------------- running the scripts


class JsRunner:
    """Runs the compat/js scripts with a clean environment: no AWS config, no checksum settings."""

    def __init__(self, home, endpoint):
        self.home = home
        os.makedirs(home, exist_ok=True)
        for name in ("config", "credentials"):
            open(os.path.join(home, name), "w").close()
        self.environ = {
            "PATH": "/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "TMPDIR": home,
            "AWS_CONFIG_FILE": os.path.join(home, "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "COFFER_ENDPOINT": endpoint,
            "COFFER_ACCESS_KEY": ACCESS_KEY,
            "COFFER_SECRET_KEY": SECRET_KEY,
        }

    def run(self, script, **args):
        argv = [NODE_BIN, os.path.join(JS_DIR, script)]
        for name, value in args.items():
            if value is not None:
                argv += ["--" + name.replace("_", "-"), str(value)]
        try:
            p = subprocess.run(argv, env=self.environ, cwd=JS_DIR, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=NODE_TIMEOUT)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("timed out after %ds: %r\nstdout: %r\nstderr: %r"
                                 % (NODE_TIMEOUT, argv, e.stdout, e.stderr))
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        lines = out.strip().splitlines()
        assert p.returncode == 0 and lines, "%r failed (%d)\nstdout: %s\nstderr: %s" % (argv, p.returncode, out, err)
        result = json.loads(lines[-1])
        # The SDK resolved its own defaults: nothing here or in the environment set them.
        assert result["config"] == {"requestChecksumCalculation": "WHEN_SUPPORTED",
                                    "responseChecksumValidation": "WHEN_SUPPORTED"}, result["config"]
        return result

    def put(self, bucket, key, path, body, algorithm=None, checksum=None):
        return self.run("put_object.mjs", bucket=bucket, key=key, file=path, body=body, algorithm=algorithm,
                        checksum=checksum)

    def read(self, bucket, key, out):
        return self.run("read_object.mjs", bucket=bucket, key=key, out=out)

    def upload(self, bucket, key, path):
        return self.run("upload_stream.mjs", bucket=bucket, key=key, file=path)


def _pinned_version():
    with open(os.path.join(COMPAT_DIR, "package.json")) as f:
        return json.load(f)["dependencies"]["@aws-sdk/client-s3"]


@pytest.fixture(scope="session")
def js(coffer_server, tmp_path_factory):
    installed = os.path.join(NODE_MODULES, "@aws-sdk", "client-s3", "package.json")
    require_tool(NODE_BIN, "deploy/install-deps.sh installs Node.js")
    if not os.path.exists(installed):
        pytest.fail("the JS SDK is not installed: run `npm ci` in compat/ (deploy/run-tests.sh does)")
    with open(installed) as f:
        version = json.load(f)["version"]
    if version != _pinned_version():
        pytest.fail("compat/node_modules holds @aws-sdk/client-s3 %s, package.json pins %s: run `npm ci` in compat/"
                    % (version, _pinned_version()))
    return JsRunner(str(tmp_path_factory.mktemp("js-home")), coffer_server.endpoint)


def assert_same_bytes(got, want, what):
    """Byte equality, reported as sizes and the first differing offset instead of a diff of megabytes."""
    if got != want:
        at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        raise AssertionError("%s: %d bytes, want %d; first difference at offset %d: %r vs %r"
                             % (what, len(got), len(want), at, got[at:at + 32], want[at:at + 32]))


def ok(step):
    assert "ok" in step, "expected success, got %r" % (step,)
    return step["ok"]


def only_request(result, method):
    reqs = [r for r in result["requests"] if r["method"] == method]
    assert len(reqs) == 1, result["requests"]
    return reqs[0]


def checksum_fields(summary):
    return {k: v for k, v in summary.items() if k in CHECKSUM_FIELDS}


def assert_sent_as(req, body, algorithm, data, want):
    """What the SDK put on the wire for a PutObject of data with this body kind and algorithm."""
    h = req["headers"]
    size = len(data)
    name = "x-amz-checksum-" + algorithm.lower()
    assert h.get("x-amz-sdk-checksum-algorithm") == algorithm, h
    if body == "stream":
        assert h.get("content-encoding") == "aws-chunked", h
        assert h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", h
        assert h.get("x-amz-trailer") == name, h
        assert h.get("x-amz-decoded-content-length") == str(size), h
        assert "content-length" not in h and name not in h, h
    else:
        assert h.get(name) == want, h
        assert h.get("content-length") == str(size), h
        assert "content-encoding" not in h and "x-amz-trailer" not in h, h
        assert h.get("x-amz-content-sha256") == sha256(data), h  # a signed payload over plain HTTP


def put_and_verify(js, s3, bucket, key, data, body, tmp_path, algorithm=None):
    """PutObject with the JS SDK, then HeadObject/GetObject (ChecksumMode ENABLED) with it and GetObject with boto3."""
    alg = algorithm or "CRC32"
    want = checksum(alg, data)
    src = write(tmp_path / ("src-" + key.replace("/", "_")), data)
    res = js.put(bucket, key, src, body, algorithm=algorithm)
    put = ok(res["put"])
    assert_sent_as(only_request(res, "PUT"), body, alg, data, want)
    assert put["status"] == 200 and put["ETag"] == '"%s"' % md5_hex(data), put
    assert checksum_fields(put) == {"Checksum" + alg: want}, put
    assert put.get("ChecksumType") == "FULL_OBJECT", put

    out = str(tmp_path / ("out-" + key.replace("/", "_")))
    got = js.read(bucket, key, out)
    head, get = ok(got["head"]), ok(got["get"])
    for r in (head, get):
        assert checksum_fields(r) == {"Checksum" + alg: want}, r
        assert r.get("ChecksumType") == "FULL_OBJECT", r
        assert r["ContentLength"] == len(data) and r["ETag"] == put["ETag"], r
    assert [r["method"] for r in got["requests"]] == ["HEAD", "GET"], got["requests"]
    for r in got["requests"]:
        assert r["headers"].get("x-amz-checksum-mode") == "ENABLED", r
    assert get["written"] == len(data) and get["validated"] is True, get
    with open(out, "rb") as f:
        assert_same_bytes(f.read(), data, "JS SDK GetObject")
    assert_same_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), data, "boto3 GetObject")
    return res


# ---------------------------------------------------------------- tests


def test_reference_checksums_known_answers():
    """The oracles themselves: the standard check values for "123456789"."""
    assert crc32c(b"123456789") == 0xE3069283
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888
    assert zlib.crc32(b"123456789") == 0xCBF43926
    assert checksum("CRC32", b"") == "AAAAAA=="
    assert checksum("CRC64NVME", b"") == "AAAAAAAAAAA="


@pytest.mark.parametrize("size", [1000, 300 * KiB + 13])
def test_put_buffer_default_checksum(js, s3, bucket, tmp_path, size):
    """A Buffer body: the SDK sends x-amz-checksum-crc32 as a header over a plain, signed body."""
    put_and_verify(js, s3, bucket, "buf/%d" % size, data_of(size, seed=size), "buffer", tmp_path)


@pytest.mark.parametrize("size", [0, MiB + 4321])
def test_put_stream_default_checksum(js, s3, bucket, tmp_path, size):
    """A Readable with ContentLength: aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32 trailer."""
    put_and_verify(js, s3, bucket, "stream/%d" % size, data_of(size, seed=size + 1), "stream", tmp_path)


@pytest.mark.parametrize("body", ["buffer", "stream"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_put_with_checksum_algorithm(js, s3, bucket, tmp_path, algorithm, body):
    """ChecksumAlgorithm chosen by the caller: header for a Buffer, trailer for a stream."""
    size = 256 * KiB + 7 if body == "buffer" else MiB + 4321
    data = data_of(size, seed=7)
    put_and_verify(js, s3, bucket, "%s/%s" % (algorithm.lower(), body), data, body, tmp_path, algorithm=algorithm)


def test_lib_storage_upload_30mib_stream(js, s3, bucket, tmp_path):
    """lib-storage Upload of a stream of unknown length: 5 MiB parts with CRC32s, a COMPOSITE object checksum."""
    size = 30 * MiB + 777
    part_size = 5 * MiB
    src = str(tmp_path / "upload.bin")
    with open(src, "wb") as f:
        for off in range(0, size, MiB):
            f.write(data_of(min(MiB, size - off), seed=1000 + off // MiB))
    with open(src, "rb") as f:
        data = f.read()
    parts = [data[off:off + part_size] for off in range(0, size, part_size)]
    assert len(parts) == 7
    want = composite("CRC32", parts)
    want_etag = '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))

    res = js.upload(bucket, "lib-storage/30mib.bin", src)
    reqs = res["requests"]
    create = [r for r in reqs if "uploads" in r["query"]]
    assert len(create) == 1 and create[0]["headers"].get("x-amz-checksum-algorithm") == "CRC32", create
    part_reqs = sorted((r for r in reqs if r["query"].get("x-id") == "UploadPart"),
                       key=lambda r: int(r["query"]["partNumber"]))
    assert [int(r["query"]["partNumber"]) for r in part_reqs] == list(range(1, 8))
    part_crcs = [checksum("CRC32", p) for p in parts]
    for r, p, crc in zip(part_reqs, parts, part_crcs):
        assert r["headers"].get("content-length") == str(len(p)), r["headers"]
        assert r["headers"].get("x-amz-checksum-crc32") == crc, r["headers"]
        assert r["response"]["status"] == 200, r["response"]
        # UploadPart answers the part's checksum; lib-storage passes it on to the completion.
        assert r["response"]["headers"].get("x-amz-checksum-crc32") == crc, r["response"]
    done = [r for r in reqs if "uploadId" in r["query"] and r["method"] == "POST"]
    assert len(done) == 1, reqs
    for crc in part_crcs:
        assert "<ChecksumCRC32>%s</ChecksumCRC32>" % crc in done[0].get("body", ""), done[0]

    up = ok(res["upload"])
    assert up["ETag"] == want_etag, up
    assert up.get("ChecksumCRC32") == want and up.get("ChecksumType") == "COMPOSITE", up

    out = str(tmp_path / "download.bin")
    got = js.read(bucket, "lib-storage/30mib.bin", out)
    head, get = ok(got["head"]), ok(got["get"])
    for r in (head, get):
        assert checksum_fields(r) == {"ChecksumCRC32": want}, r
        assert r.get("ChecksumType") == "COMPOSITE", r
        assert r["ContentLength"] == size and r["ETag"] == want_etag, r
    assert get["written"] == size
    assert sha256_file(out) == sha256_file(src)  # the SDK checks no COMPOSITE checksum: this test does


@pytest.mark.parametrize("body", ["buffer", "stream"])
def test_wrong_crc32_is_bad_digest(js, s3, bucket, tmp_path, body):
    """A ChecksumCRC32 that does not match the body: 400 BadDigest, nothing stored, nothing replaced."""
    data = data_of(100 * KiB + 3, seed=99)
    wrong = checksum("CRC32", data + b"x")
    src = write(tmp_path / "bad.bin", data)

    res = js.put(bucket, "bad/fresh", src, body, checksum="ChecksumCRC32=" + wrong)
    assert only_request(res, "PUT")["headers"].get("x-amz-checksum-crc32") == wrong
    err = res["put"].get("error")
    assert err and (err["code"], err["status"]) == ("BadDigest", 400), res["put"]
    resp = client_error(s3.head_object, Bucket=bucket, Key="bad/fresh")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404, resp

    old = b"the object before the failed PUT"
    s3.put_object(Bucket=bucket, Key="bad/existing", Body=old)
    res = js.put(bucket, "bad/existing", src, body, checksum="ChecksumCRC32=" + wrong)
    err = res["put"].get("error")
    assert err and (err["code"], err["status"]) == ("BadDigest", 400), res["put"]
    assert s3.get_object(Bucket=bucket, Key="bad/existing")["Body"].read() == old
    assert all_keys(s3, bucket) == ["bad/existing"]


def framing_lookalike(size, seed):
    """Data full of text that looks like aws-chunked framing, some of it across 64 KiB boundaries."""
    noise = data_of(size, seed=seed)
    fake = (b"\r\n10000;chunk-signature=" + b"0" * 64 + b"\r\n"
            b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n" b"0;chunk-signature=" + b"f" * 64 + b"\r\n\r\n")
    out = bytearray(noise)
    for at in list(range(0, size, 9000)) + [SDK_CHUNK * k - 20 for k in range(1, size // SDK_CHUNK + 1)]:
        out[at:at + len(fake)] = fake[:max(0, min(len(fake), size - at))]
    assert len(out) == size
    return bytes(out)


@pytest.mark.parametrize("size", [SDK_CHUNK, 3 * SDK_CHUNK + 1])
def test_stored_stream_has_no_chunk_framing(js, s3, bucket, tmp_path, size):
    """The decoded body is stored, byte for byte: read back with boto3, listed size, ETag, a range across chunks."""
    data = framing_lookalike(size, seed=size)
    key = "framing/%d" % size
    res = js.put(bucket, key, write(tmp_path / "framing.bin", data), "stream")
    ok(res["put"])
    assert only_request(res, "PUT")["headers"].get("content-encoding") == "aws-chunked"

    obj = s3.get_object(Bucket=bucket, Key=key)
    body = obj["Body"].read()
    assert obj["ContentLength"] == size
    assert_same_bytes(body, data, "boto3 GetObject")
    assert obj["ETag"] == '"%s"' % md5_hex(data)
    assert "ContentEncoding" not in obj, obj  # aws-chunked is a transfer detail, never stored
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [(key, size)]
    lo, hi = SDK_CHUNK - 10, min(size - 1, SDK_CHUNK + 100)
    part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (lo, hi))["Body"].read()
    assert_same_bytes(part, data[lo:hi + 1], "boto3 GetObject bytes=%d-%d" % (lo, hi))
