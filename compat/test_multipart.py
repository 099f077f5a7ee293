"""Multipart uploads against a live coffer: aws-cli, s3cmd, rclone and the boto3 API.

Expected behaviour follows the AWS S3 API Reference (CreateMultipartUpload,
UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, ListMultipartUploads, GetObject/HeadObject with partNumber): status
codes, error codes and the multipart ETag, which is the hex MD5 of the
concatenated binary MD5s of the parts, a dash, and the number of parts.
"""

import functools
import hashlib
import http.client
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from s3compat import (
    RCLONE_BIN, CliRunner, KiB, MiB, all_keys, assert_error, client_error, content_md5, data_of, error_code_of, md5_hex,
    quote_key, raw_request, rclone_env, request_target, require_tool, run_rclone, sha256, sha256_file, signed_headers,
    unique_bucket_name, wait_for,
)

MIN_PART = 5 * MiB


# ---------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=None)
def blob(size, seed):
    """Deterministic test data, generated once per (size, seed) and shared between tests."""
    return data_of(size, seed=seed)


def quoted_md5(data):
    return '"%s"' % md5_hex(data)


def etag_of_digests(digests):
    """The S3 ETag of an object completed from parts with these binary MD5s."""
    return '"%s-%d"' % (hashlib.md5(b"".join(digests)).hexdigest(), len(digests))


def multipart_etag(datas):
    """The S3 ETag of an object completed from parts holding these bytes."""
    return etag_of_digests([hashlib.md5(d).digest() for d in datas])


def create(s3, bucket, key, **kw):
    resp = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    assert resp["Bucket"] == bucket and resp["Key"] == key, resp
    assert resp["UploadId"], resp
    return resp["UploadId"]


def put_part(s3, bucket, key, upload_id, number, data):
    resp = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
    assert resp["ETag"] == quoted_md5(data), resp
    return {"PartNumber": number, "ETag": resp["ETag"]}


def complete(s3, bucket, key, upload_id, parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})


def upload_object(s3, bucket, key, datas, **kw):
    """Uploads datas as parts 1..n, completes, and checks the completion's ETag."""
    upload_id = create(s3, bucket, key, **kw)
    parts = [put_part(s3, bucket, key, upload_id, i + 1, d) for i, d in enumerate(datas)]
    resp = complete(s3, bucket, key, upload_id, parts)
    assert resp["ETag"] == multipart_etag(datas), resp
    assert resp["Key"] == key and resp["Bucket"] == bucket, resp
    return resp["ETag"]


def read(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def list_uploads(s3, bucket, **kw):
    resp = s3.list_multipart_uploads(Bucket=bucket, **kw)
    return resp, [(u["Key"], u["UploadId"]) for u in resp.get("Uploads", [])]


def abort_all_uploads(s3, bucket):
    """Best effort: aborts every unfinished upload in the bucket (bounded)."""
    try:
        for _ in range(20):
            _, uploads = list_uploads(s3, bucket)
            if not uploads:
                return
            for key, upload_id in uploads:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception:
        pass


def write_file(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def write_big_file(path, size, part_size, seed):
    """Writes size pseudo-random bytes in part_size blocks; returns (sha256 hex, [binary MD5 of each part])."""
    whole = hashlib.sha256()
    digests = []
    with open(path, "wb") as f:
        for i, off in enumerate(range(0, size, part_size)):
            block = data_of(min(part_size, size - off), seed=seed * 1000 + i)
            f.write(block)
            whole.update(block)
            digests.append(hashlib.md5(block).digest())
    return whole.hexdigest(), digests


class SlowRequest:
    """A signed request whose body is sent in two steps, to hold it in flight on purpose."""

    def __init__(self, port, method, path, query, body):
        self.target = request_target(path, query)
        self.host = "127.0.0.1:%d" % port
        self.body = body
        headers = signed_headers(method, self.host, self.target, body)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.putrequest(method, self.target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            self.conn.putheader(name, value)
        self.conn.putheader("Host", self.host)
        self.conn.putheader("Content-Length", str(len(body)))
        self.conn.endheaders()

    def send_first(self, n):
        self.conn.send(self.body[:n])
        self.sent = n

    def finish(self):
        """Sends the rest (the server may have answered and closed already); returns (status, body)."""
        try:
            self.conn.send(self.body[self.sent:])
        except OSError:
            pass
        try:
            resp = self.conn.getresponse()
            return resp.status, resp.read()
        finally:
            self.conn.close()


@pytest.fixture
def mp_bucket(s3, bucket):
    """A fresh bucket whose unfinished uploads are aborted after the test."""
    yield bucket
    abort_all_uploads(s3, bucket)


# ---------------------------------------------------------------- real clients


def test_awscli_cp_200mib_etag_and_listing(cli, s3, mp_bucket, tmp_path):
    """aws s3 cp goes multipart above 64 MB (the suite's threshold) in aws-cli's default 8 MiB parts."""
    size = 200 * MiB + 3 * KiB + 1  # 25 full parts and a last part small enough to be stored inline
    src = str(tmp_path / "big.bin")
    want_sha, digests = write_big_file(src, size, 8 * MiB, seed=31)
    assert len(digests) == 26
    want_etag = etag_of_digests(digests)

    p = cli.aws("s3", "cp", src, "s3://%s/dir/big.bin" % mp_bucket)
    assert "upload:" in p.out, p.out
    head = json.loads(cli.aws("s3api", "head-object", "--bucket", mp_bucket, "--key", "dir/big.bin").out)
    assert head["ETag"] == want_etag
    assert head["ContentLength"] == size
    listing = json.loads(cli.aws("s3api", "list-objects-v2", "--bucket", mp_bucket).out)
    assert [(o["Key"], o["ETag"], o["Size"]) for o in listing["Contents"]] == [("dir/big.bin", want_etag, size)]
    assert s3.head_object(Bucket=mp_bucket, Key="dir/big.bin")["ETag"] == want_etag
    os.unlink(src)

    dst = str(tmp_path / "down.bin")
    p = cli.aws("s3", "cp", "s3://%s/dir/big.bin" % mp_bucket, dst)
    assert "download:" in p.out, p.out
    assert os.path.getsize(dst) == size
    assert sha256_file(dst) == want_sha
    assert list_uploads(s3, mp_bucket)[1] == []


def test_s3cmd_put_get_100mib_multipart(s3, coffer_server, mp_bucket, tmp_path):
    """s3cmd with multipart on (15 MiB chunks); it verifies the MD5 it stored in its attrs on get."""
    runner = CliRunner(str(tmp_path / "s3cmd-home"), coffer_server.port)
    with open(runner.s3cmd_config) as f:
        cfg = f.read()
    assert "enable_multipart = False" in cfg
    with open(runner.s3cmd_config, "w") as f:
        f.write(cfg.replace("enable_multipart = False", "enable_multipart = True"))

    size = 100 * MiB
    src = str(tmp_path / "s3cmd.bin")
    want_sha, digests = write_big_file(src, size, 15 * MiB, seed=32)
    assert len(digests) == 7
    uri = "s3://%s/s3cmd/multi part.bin" % mp_bucket
    runner.s3cmd("put", "--multipart-chunk-size-mb=15", src, uri)
    head = s3.head_object(Bucket=mp_bucket, Key="s3cmd/multi part.bin")
    assert head["ETag"] == etag_of_digests(digests)
    assert head["ContentLength"] == size
    assert "s3cmd-attrs" in head["Metadata"], head["Metadata"]  # given at CreateMultipartUpload

    dst = str(tmp_path / "s3cmd-down.bin")
    p = runner.s3cmd("get", uri, dst)
    assert "MD5 signatures do not match" not in p.out + p.err, p.out + p.err
    assert sha256_file(dst) == want_sha
    assert list_uploads(s3, mp_bucket)[1] == []


def test_rclone_copy_check_round_trip(s3, coffer_server, mp_bucket, tmp_path):
    require_tool(RCLONE_BIN)
    sizes = {"empty": 0, "one": 1, "four-k": 4 * KiB, "sub/five-m": 5 * MiB, "sub/five-m-plus-1": 5 * MiB + 1,
             "sub/deep/seventeen-m": 17 * MiB, "sixty-four-m": 64 * MiB}
    src = tmp_path / "tree"
    want = {}
    for i, (name, size) in enumerate(sorted(sizes.items())):
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = data_of(size, seed=3300 + i)
        write_file(path, data)
        want[name] = data
    env = rclone_env(tmp_path, coffer_server.port)
    remote = "coffer:%s/tree" % mp_bucket

    p = run_rclone(env, "copy", str(src), remote)
    assert p.returncode == 0, p.err[-4000:]
    p = run_rclone(env, "check", str(src), remote)
    assert p.returncode == 0, p.err[-4000:]
    assert "0 differences found" in p.err, p.err[-4000:]

    for name, data in want.items():
        head = s3.head_object(Bucket=mp_bucket, Key="tree/" + name)
        assert head["ContentLength"] == len(data), name
        if len(data) >= 5 * MiB:  # at the cutoff and above rclone goes multipart and keeps the MD5 in metadata
            n = -(-len(data) // (5 * MiB))
            assert head["ETag"] == multipart_etag([data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]), name
            assert head["ETag"].endswith('-%d"' % n), name
            assert head["Metadata"].get("md5chksum") == content_md5(data), name
        else:
            assert head["ETag"] == quoted_md5(data), name

    down = tmp_path / "down"
    p = run_rclone(env, "copy", remote, str(down))
    assert p.returncode == 0, p.err[-4000:]
    got = sorted(os.path.relpath(os.path.join(d, f), down) for d, _, files in os.walk(down) for f in files)
    assert got == sorted(want)
    for name, data in want.items():
        assert sha256_file(down / name) == sha256(data), name
    assert list_uploads(s3, mp_bucket)[1] == []


# ---------------------------------------------------------------- completion rules


def test_entity_too_small(s3, mp_bucket):
    key = "small"
    upload_id = create(s3, mp_bucket, key)
    short = put_part(s3, mp_bucket, key, upload_id, 1, blob(MIN_PART - 1, 1))
    last = put_part(s3, mp_bucket, key, upload_id, 2, blob(100, 2))
    assert_error(client_error(complete, s3, mp_bucket, key, upload_id, [short, last]), "EntityTooSmall", 400)
    # the failed completion leaves the upload usable: replace part 1 and complete
    first = put_part(s3, mp_bucket, key, upload_id, 1, blob(MIN_PART, 3))
    assert complete(s3, mp_bucket, key, upload_id, [first, last])["ETag"] == multipart_etag(
        [blob(MIN_PART, 3), blob(100, 2)])
    assert read(s3, mp_bucket, key) == blob(MIN_PART, 3) + blob(100, 2)


def test_single_small_part_completes(s3, mp_bucket):
    data = blob(1234, 4)
    etag = upload_object(s3, mp_bucket, "one", [data])
    head = s3.head_object(Bucket=mp_bucket, Key="one")
    assert (head["ContentLength"], head["ETag"]) == (1234, etag)
    assert etag == '"%s-1"' % md5_hex(hashlib.md5(data).digest())
    assert read(s3, mp_bucket, "one") == data


def test_zero_byte_single_part_completes(s3, mp_bucket):
    etag = upload_object(s3, mp_bucket, "zero", [b""])
    head = s3.head_object(Bucket=mp_bucket, Key="zero")
    assert (head["ContentLength"], head["ETag"]) == (0, etag)
    assert read(s3, mp_bucket, "zero") == b""
    listed = s3.list_objects_v2(Bucket=mp_bucket)["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("zero", 0, etag)]


@pytest.fixture
def two_parts(s3, mp_bucket):
    """An upload holding parts 1 and 2 of 5 MiB each."""
    key = "two"
    upload_id = create(s3, mp_bucket, key)
    parts = [put_part(s3, mp_bucket, key, upload_id, n, blob(MIN_PART, 10 + n)) for n in (1, 2)]
    return mp_bucket, key, upload_id, parts


def test_invalid_part_order(s3, two_parts):
    bucket, key, upload_id, (p1, p2) = two_parts
    assert_error(client_error(complete, s3, bucket, key, upload_id, [p2, p1]), "InvalidPartOrder", 400)
    assert_error(client_error(complete, s3, bucket, key, upload_id, [p1, p1]), "InvalidPartOrder", 400)
    complete(s3, bucket, key, upload_id, [p1, p2])
    assert read(s3, bucket, key) == blob(MIN_PART, 11) + blob(MIN_PART, 12)


def test_invalid_part(s3, two_parts):
    bucket, key, upload_id, (p1, p2) = two_parts
    unknown = {"PartNumber": 3, "ETag": p2["ETag"]}
    assert_error(client_error(complete, s3, bucket, key, upload_id, [p1, unknown]), "InvalidPart", 400)
    wrong_etag = {"PartNumber": 2, "ETag": quoted_md5(b"not the data of part 2")}
    assert_error(client_error(complete, s3, bucket, key, upload_id, [p1, wrong_etag]), "InvalidPart", 400)
    swapped = {"PartNumber": 1, "ETag": p2["ETag"]}
    assert_error(client_error(complete, s3, bucket, key, upload_id, [swapped]), "InvalidPart", 400)
    # nothing was created, the upload is intact
    assert_error(client_error(s3.head_object, Bucket=bucket, Key=key), "404", 404)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]] == [1, 2]


def test_complete_accepts_unquoted_etags(s3, two_parts):
    """Some clients strip the quotes from part ETags; S3 accepts them either way."""
    bucket, key, upload_id, parts = two_parts
    bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"].strip('"')} for p in parts]
    resp = complete(s3, bucket, key, upload_id, bare)
    assert resp["ETag"] == multipart_etag([blob(MIN_PART, 11), blob(MIN_PART, 12)])


def test_no_such_upload(s3, mp_bucket):
    key = "nsu"
    for bogus in ("0" * 32, "not-an-upload-id"):
        assert_error(client_error(s3.upload_part, Bucket=mp_bucket, Key=key, UploadId=bogus, PartNumber=1, Body=b"x"),
                     "NoSuchUpload", 404)
        assert_error(client_error(s3.list_parts, Bucket=mp_bucket, Key=key, UploadId=bogus), "NoSuchUpload", 404)
        assert_error(client_error(complete, s3, mp_bucket, key, bogus, [{"PartNumber": 1, "ETag": quoted_md5(b"x")}]),
                     "NoSuchUpload", 404)
        assert_error(client_error(s3.abort_multipart_upload, Bucket=mp_bucket, Key=key, UploadId=bogus),
                     "NoSuchUpload", 404)

    # a real upload id under another key names no upload
    upload_id = create(s3, mp_bucket, "real")
    assert_error(client_error(s3.upload_part, Bucket=mp_bucket, Key="other", UploadId=upload_id, PartNumber=1,
                              Body=b"x"), "NoSuchUpload", 404)
    assert_error(client_error(s3.list_parts, Bucket=mp_bucket, Key="other", UploadId=upload_id), "NoSuchUpload", 404)

    # completing twice: the second finds no upload
    part = put_part(s3, mp_bucket, "real", upload_id, 1, b"payload")
    complete(s3, mp_bucket, "real", upload_id, [part])
    assert_error(client_error(complete, s3, mp_bucket, "real", upload_id, [part]), "NoSuchUpload", 404)
    assert_error(client_error(s3.list_parts, Bucket=mp_bucket, Key="real", UploadId=upload_id), "NoSuchUpload", 404)
    assert read(s3, mp_bucket, "real") == b"payload"

    # after an abort: no part upload, no listing, no second abort
    upload_id = create(s3, mp_bucket, "aborted")
    put_part(s3, mp_bucket, "aborted", upload_id, 1, b"a")
    assert s3.abort_multipart_upload(Bucket=mp_bucket, Key="aborted",
                                     UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.upload_part, Bucket=mp_bucket, Key="aborted", UploadId=upload_id, PartNumber=2,
                              Body=b"b"), "NoSuchUpload", 404)
    assert_error(client_error(s3.list_parts, Bucket=mp_bucket, Key="aborted", UploadId=upload_id), "NoSuchUpload", 404)
    assert_error(client_error(s3.abort_multipart_upload, Bucket=mp_bucket, Key="aborted", UploadId=upload_id),
                 "NoSuchUpload", 404)
    assert_error(client_error(s3.head_object, Bucket=mp_bucket, Key="aborted"), "404", 404)


def test_create_in_missing_bucket(s3):
    name = unique_bucket_name("mp-missing")
    assert_error(client_error(s3.create_multipart_upload, Bucket=name, Key="k"), "NoSuchBucket", 404)


def test_complete_with_a_subset_of_parts(s3, mp_bucket):
    key = "subset"
    s3.put_object(Bucket=mp_bucket, Key=key, Body=b"older object, replaced by the completion")
    p1, p2, p3 = blob(MIN_PART, 21), blob(MIN_PART, 22), blob(300 * KiB, 23)
    upload_id = create(s3, mp_bucket, key)
    parts = [put_part(s3, mp_bucket, key, upload_id, n, d) for n, d in ((1, p1), (2, p2), (3, p3))]
    resp = complete(s3, mp_bucket, key, upload_id, [parts[0], parts[2]])
    want_etag = '"%s-2"' % md5_hex(hashlib.md5(p1).digest() + hashlib.md5(p3).digest())
    assert resp["ETag"] == want_etag
    got = s3.get_object(Bucket=mp_bucket, Key=key)
    body = got["Body"].read()
    assert got["ContentLength"] == len(p1) + len(p3)
    assert got["ETag"] == want_etag
    assert sha256(body) == sha256(p1 + p3)
    assert list_uploads(s3, mp_bucket)[1] == []


def test_part_replacement(s3, mp_bucket):
    key = "replace"
    first, second = blob(3 * MiB, 31), blob(2 * MiB + 3, 32)
    upload_id = create(s3, mp_bucket, key)
    old = put_part(s3, mp_bucket, key, upload_id, 1, first)
    new = put_part(s3, mp_bucket, key, upload_id, 1, second)
    listed = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == [(1, quoted_md5(second), len(second))]
    assert_error(client_error(complete, s3, mp_bucket, key, upload_id, [old]), "InvalidPart", 400)
    complete(s3, mp_bucket, key, upload_id, [new])
    head = s3.head_object(Bucket=mp_bucket, Key=key)
    assert (head["ContentLength"], head["ETag"]) == (len(second), multipart_etag([second]))
    assert sha256(read(s3, mp_bucket, key)) == sha256(second)


def test_bad_content_md5_on_part(s3, mp_bucket):
    upload_id = create(s3, mp_bucket, "md5")
    wrong = content_md5(b"other")
    assert_error(client_error(s3.upload_part, Bucket=mp_bucket, Key="md5", UploadId=upload_id, PartNumber=1,
                              Body=b"part data", ContentMD5=wrong), "BadDigest", 400)
    assert s3.list_parts(Bucket=mp_bucket, Key="md5", UploadId=upload_id).get("Parts", []) == []


@pytest.mark.parametrize("number", [0, 10001])
def test_part_number_out_of_range(s3, mp_bucket, number):
    upload_id = create(s3, mp_bucket, "pn")
    assert_error(client_error(s3.upload_part, Bucket=mp_bucket, Key="pn", UploadId=upload_id, PartNumber=number,
                              Body=b"x"), "InvalidArgument", 400)
    assert s3.list_parts(Bucket=mp_bucket, Key="pn", UploadId=upload_id).get("Parts", []) == []


def test_part_number_not_a_number(coffer_server, s3, mp_bucket):
    upload_id = create(s3, mp_bucket, "pn")
    raw = raw_request(coffer_server.port, "PUT", "/%s/pn" % mp_bucket,
                      query=[("partNumber", "abc"), ("uploadId", upload_id)], body=b"x")
    assert (raw.status, raw.error_code()) == (400, "InvalidArgument"), raw


def test_part_number_10000_is_accepted(s3, mp_bucket):
    upload_id = create(s3, mp_bucket, "pn")
    part = put_part(s3, mp_bucket, "pn", upload_id, 10000, b"last possible part")
    complete(s3, mp_bucket, "pn", upload_id, [part])
    assert read(s3, mp_bucket, "pn") == b"last possible part"


def test_malformed_complete_body(coffer_server, s3, mp_bucket):
    key = "mal formed"
    upload_id = create(s3, mp_bucket, key)
    part = put_part(s3, mp_bucket, key, upload_id, 1, b"data")
    for body in (b"this is not xml", b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"):
        raw = raw_request(coffer_server.port, "POST", "/%s/%s" % (mp_bucket, quote_key(key)),
                          query=[("uploadId", upload_id)], body=body)
        assert (raw.status, raw.error_code()) == (400, "MalformedXML"), raw
    assert_error(client_error(complete, s3, mp_bucket, key, upload_id, []), "MalformedXML", 400)
    # still usable
    complete(s3, mp_bucket, key, upload_id, [part])
    assert read(s3, mp_bucket, key) == b"data"


# ---------------------------------------------------------------- UploadPartCopy


@pytest.fixture
def copy_source(s3, mp_bucket):
    key = "src dir/s\u00f8urce.bin"
    data = blob(12 * MiB + 345, 40)
    etag = s3.put_object(Bucket=mp_bucket, Key=key, Body=data)["ETag"]
    return mp_bucket, key, data, etag


def test_upload_part_copy_ranges(s3, copy_source):
    bucket, src_key, data, _ = copy_source
    source = {"Bucket": bucket, "Key": src_key}
    upload_id = create(s3, bucket, "copied")
    parts = []
    for n, (first, last) in enumerate(((0, MIN_PART - 1), (MIN_PART, len(data) - 1)), start=1):
        resp = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload_id, PartNumber=n, CopySource=source,
                                   CopySourceRange="bytes=%d-%d" % (first, last))
        assert resp["CopyPartResult"]["ETag"] == quoted_md5(data[first:last + 1]), resp
        parts.append({"PartNumber": n, "ETag": resp["CopyPartResult"]["ETag"]})
    listed = s3.list_parts(Bucket=bucket, Key="copied", UploadId=upload_id)["Parts"]
    assert [p["Size"] for p in listed] == [MIN_PART, len(data) - MIN_PART]
    resp = complete(s3, bucket, "copied", upload_id, parts)
    assert resp["ETag"] == multipart_etag([data[:MIN_PART], data[MIN_PART:]])
    assert sha256(read(s3, bucket, "copied")) == sha256(data)


def test_upload_part_copy_whole_object(s3, copy_source):
    bucket, src_key, data, src_etag = copy_source
    upload_id = create(s3, bucket, "whole")
    resp = s3.upload_part_copy(Bucket=bucket, Key="whole", UploadId=upload_id, PartNumber=1,
                               CopySource={"Bucket": bucket, "Key": src_key}, CopySourceIfMatch=src_etag)
    assert resp["CopyPartResult"]["ETag"] == quoted_md5(data)
    # a small part from the body after it: copied and uploaded parts mix
    tail = put_part(s3, bucket, "whole", upload_id, 2, b"tail")
    complete(s3, bucket, "whole", upload_id, [{"PartNumber": 1, "ETag": resp["CopyPartResult"]["ETag"]}, tail])
    head = s3.head_object(Bucket=bucket, Key="whole")
    assert (head["ContentLength"], head["ETag"]) == (len(data) + 4, multipart_etag([data, b"tail"]))
    assert sha256(read(s3, bucket, "whole")) == sha256(data + b"tail")


def test_upload_part_copy_errors(s3, copy_source):
    bucket, src_key, data, src_etag = copy_source
    source = {"Bucket": bucket, "Key": src_key}
    upload_id = create(s3, bucket, "bad-copy")

    def copy(**kw):
        return s3.upload_part_copy(Bucket=bucket, Key="bad-copy", UploadId=upload_id, PartNumber=1, **kw)

    # S3 answers a copy range outside the source with InvalidArgument ("Range specified is not valid for
    # source object of size: N"), not with the InvalidRange/416 of a GET; a malformed range is one too
    size = len(data)
    for rng in ("bytes=%d-%d" % (size, size + 100), "bytes=0-%d" % size, "bytes=invalid-range"):
        assert_error(client_error(copy, CopySource=source, CopySourceRange=rng), "InvalidArgument", 400)
    assert_error(client_error(copy, CopySource=source, CopySourceIfMatch=quoted_md5(b"something else")),
                 "PreconditionFailed", 412)
    assert_error(client_error(copy, CopySource=source, CopySourceIfNoneMatch=src_etag), "PreconditionFailed", 412)
    assert_error(client_error(copy, CopySource={"Bucket": bucket, "Key": "no such source"}), "NoSuchKey", 404)
    assert_error(client_error(copy, CopySource={"Bucket": unique_bucket_name("mp-nosrc"), "Key": "k"}),
                 "NoSuchBucket", 404)
    assert_error(client_error(s3.upload_part_copy, Bucket=bucket, Key="bad-copy", UploadId="0" * 32, PartNumber=1,
                              CopySource=source), "NoSuchUpload", 404)
    assert s3.list_parts(Bucket=bucket, Key="bad-copy", UploadId=upload_id).get("Parts", []) == []


# ---------------------------------------------------------------- listings


def test_list_parts_pagination(s3, mp_bucket):
    key = "lp"
    upload_id = create(s3, mp_bucket, key)
    datas = {n: blob(1000 * n, 50 + n) for n in (1, 2, 3)}
    for n, d in datas.items():
        put_part(s3, mp_bucket, key, upload_id, n, d)

    def rows(resp):
        return [(p["PartNumber"], p["Size"], p["ETag"]) for p in resp.get("Parts", [])]

    want = [(n, len(d), quoted_md5(d)) for n, d in sorted(datas.items())]
    everything = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id)
    assert rows(everything) == want
    assert everything["IsTruncated"] is False
    assert (everything["Bucket"], everything["Key"], everything["UploadId"]) == (mp_bucket, key, upload_id)

    page1 = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, MaxParts=2)
    assert rows(page1) == want[:2]
    assert page1["IsTruncated"] is True
    assert page1["NextPartNumberMarker"] == 2
    assert page1["MaxParts"] == 2
    page2 = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, MaxParts=2, PartNumberMarker=2)
    assert rows(page2) == want[2:]
    assert page2["IsTruncated"] is False
    assert rows(s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id, PartNumberMarker=3)) == []


def test_list_multipart_uploads(s3, mp_bucket):
    ids = {}
    order = []
    for key in ("c", "a/2", "b", "a/1", "c"):  # created out of key order; the two for c in this order
        upload_id = create(s3, mp_bucket, key)
        ids.setdefault(key, []).append(upload_id)
    for key in ("a/1", "a/2", "b", "c"):
        order += [(key, i) for i in ids[key]]
    assert len(set(u for _, u in order)) == 5

    resp, uploads = list_uploads(s3, mp_bucket)
    assert uploads == order
    assert resp["IsTruncated"] is False

    # pages of 2, following NextKeyMarker / NextUploadIdMarker
    pages, kw = [], {}
    for _ in range(10):
        resp, uploads = list_uploads(s3, mp_bucket, MaxUploads=2, **kw)
        pages.append(uploads)
        if not resp["IsTruncated"]:
            break
        assert (resp["NextKeyMarker"], resp["NextUploadIdMarker"]) == uploads[-1]
        kw = {"KeyMarker": resp["NextKeyMarker"], "UploadIdMarker": resp["NextUploadIdMarker"]}
    assert pages == [order[0:2], order[2:4], order[4:5]]

    assert list_uploads(s3, mp_bucket, Prefix="a/")[1] == order[:2]
    resp, uploads = list_uploads(s3, mp_bucket, Delimiter="/")
    assert [p["Prefix"] for p in resp.get("CommonPrefixes", [])] == ["a/"]
    assert uploads == order[2:]
    # a key marker alone skips every upload of that key
    assert list_uploads(s3, mp_bucket, KeyMarker="a/2")[1] == order[2:]
    assert list_uploads(s3, mp_bucket, KeyMarker="c")[1] == []
    assert list_uploads(s3, mp_bucket, KeyMarker="c", UploadIdMarker=ids["c"][0])[1] == order[4:]

    for key, upload_id in order:
        s3.abort_multipart_upload(Bucket=mp_bucket, Key=key, UploadId=upload_id)
    resp, uploads = list_uploads(s3, mp_bucket)
    assert uploads == [] and resp.get("CommonPrefixes", []) == []
    assert resp["IsTruncated"] is False


def test_incomplete_upload_is_invisible(s3, mp_bucket):
    upload_id = create(s3, mp_bucket, "pending")
    put_part(s3, mp_bucket, "pending", upload_id, 1, blob(MIN_PART, 60))
    put_part(s3, mp_bucket, "pending", upload_id, 2, b"end")
    assert_error(client_error(s3.head_object, Bucket=mp_bucket, Key="pending"), "404", 404)
    assert_error(client_error(s3.get_object, Bucket=mp_bucket, Key="pending"), "NoSuchKey", 404)
    assert s3.list_objects_v2(Bucket=mp_bucket)["KeyCount"] == 0
    assert s3.list_objects(Bucket=mp_bucket).get("Contents", []) == []

    # an upload over an existing object leaves the object as it is until completion
    s3.put_object(Bucket=mp_bucket, Key="existing", Body=b"v1")
    upload_id2 = create(s3, mp_bucket, "existing")
    put_part(s3, mp_bucket, "existing", upload_id2, 1, b"v2")
    assert read(s3, mp_bucket, "existing") == b"v1"
    s3.abort_multipart_upload(Bucket=mp_bucket, Key="existing", UploadId=upload_id2)
    assert read(s3, mp_bucket, "existing") == b"v1"
    assert all_keys(s3, mp_bucket) == ["existing"]


def test_headers_given_at_creation(s3, mp_bucket):
    kw = dict(ContentType="application/x-coffer-mp", Metadata={"color": "blue"},
              ContentDisposition='attachment; filename="blue.bin"', CacheControl="max-age=60")
    upload_object(s3, mp_bucket, "meta", [blob(MIN_PART, 70), b"tail"], **kw)
    for resp in (s3.head_object(Bucket=mp_bucket, Key="meta"), s3.get_object(Bucket=mp_bucket, Key="meta")):
        assert resp["ContentType"] == "application/x-coffer-mp"
        assert resp["Metadata"] == {"color": "blue"}
        assert resp["ContentDisposition"] == 'attachment; filename="blue.bin"'
        assert resp["CacheControl"] == "max-age=60"


# ---------------------------------------------------------------- reading a multipart object


@pytest.fixture
def three_part_object(s3, mp_bucket):
    datas = [blob(MIN_PART, 81), blob(MIN_PART + 7, 82), blob(1000, 83)]
    etag = upload_object(s3, mp_bucket, "three", datas)
    return mp_bucket, "three", datas, etag


def test_get_and_head_by_part_number(s3, three_part_object):
    bucket, key, datas, etag = three_part_object
    total = sum(len(d) for d in datas)
    start = 0
    for n, data in enumerate(datas, start=1):
        end = start + len(data) - 1
        got = s3.get_object(Bucket=bucket, Key=key, PartNumber=n)
        body = got["Body"].read()
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentLength"] == len(data)
        assert got["ContentRange"] == "bytes %d-%d/%d" % (start, end, total)
        assert got["PartsCount"] == 3
        assert got["ETag"] == etag
        assert sha256(body) == sha256(data), n
        head = s3.head_object(Bucket=bucket, Key=key, PartNumber=n)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert (head["ContentLength"], head["PartsCount"]) == (len(data), 3)
        assert head["ResponseMetadata"]["HTTPHeaders"].get("content-range") == "bytes %d-%d/%d" % (start, end, total)
        start = end + 1
    assert_error(client_error(s3.get_object, Bucket=bucket, Key=key, PartNumber=4), "InvalidPartNumber", 416)
    assert client_error(s3.head_object, Bucket=bucket, Key=key, PartNumber=4)["ResponseMetadata"][
        "HTTPStatusCode"] == 416
    assert_error(client_error(s3.get_object, Bucket=bucket, Key=key, PartNumber=0), "InvalidArgument", 400)


def test_range_across_part_boundaries(s3, three_part_object):
    bucket, key, datas, _ = three_part_object
    whole = b"".join(datas)
    b1 = len(datas[0])
    b2 = b1 + len(datas[1])
    for first, last in ((b1 - 10, b1 + 9), (b1 - 1, b2), (b1, b1), (b2 - 5, len(whole) - 1), (0, len(whole) - 1)):
        got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (first, last))
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert got["ContentRange"] == "bytes %d-%d/%d" % (first, last, len(whole))
        assert got["Body"].read() == whole[first:last + 1], (first, last)
    got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=-1010")
    assert got["Body"].read() == whole[-1010:]
    assert sha256(read(s3, bucket, key)) == sha256(whole)


# ---------------------------------------------------------------- concurrency


def test_parallel_parts(s3, mp_bucket):
    key = "parallel"
    datas = [data_of(MIN_PART, seed=100 + n) for n in range(16)]
    upload_id = create(s3, mp_bucket, key)
    with ThreadPoolExecutor(16) as pool:
        parts = list(pool.map(lambda n: put_part(s3, mp_bucket, key, upload_id, n + 1, datas[n]), range(16)))
    listed = s3.list_parts(Bucket=mp_bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in listed] == [(p["PartNumber"], p["ETag"]) for p in parts]
    assert complete(s3, mp_bucket, key, upload_id, parts)["ETag"] == multipart_etag(datas)
    got = s3.get_object(Bucket=mp_bucket, Key=key)
    assert got["ContentLength"] == 16 * MIN_PART
    assert sha256(got["Body"].read()) == sha256(b"".join(datas))


def test_complete_while_a_part_is_in_flight(coffer_server, s3, mp_bucket):
    """A part whose body is still arriving when the upload completes is refused once it is in (NoSuchUpload);
    the object holds the completed parts only."""
    key = "racing"
    p1, p2, late = blob(MIN_PART, 111), blob(100 * KiB, 112), blob(2 * MiB, 113)
    upload_id = create(s3, mp_bucket, key)
    parts = [put_part(s3, mp_bucket, key, upload_id, 1, p1), put_part(s3, mp_bucket, key, upload_id, 2, p2)]
    slow = SlowRequest(coffer_server.port, "PUT", "/%s/%s" % (mp_bucket, key),
                       [("partNumber", "3"), ("uploadId", upload_id)], late)
    try:
        slow.send_first(256 * KiB)  # the body is still arriving (the server handles a part once all of it is in)
        resp = complete(s3, mp_bucket, key, upload_id, parts)
        assert resp["ETag"] == multipart_etag([p1, p2])
    finally:
        status, body = slow.finish()
    # the part's body ended after the completion: it cannot have been part of the upload
    assert (status, error_code_of(body)) == (404, "NoSuchUpload"), (status, body[:500])
    head = s3.head_object(Bucket=mp_bucket, Key=key)
    assert (head["ContentLength"], head["ETag"]) == (len(p1) + len(p2), multipart_etag([p1, p2]))
    assert sha256(read(s3, mp_bucket, key)) == sha256(p1 + p2)
    assert list_uploads(s3, mp_bucket)[1] == []


# ---------------------------------------------------------------- chunk files on disk (private servers)


def chunk_count(srv):
    return sum(srv.chunk_files())


def settle(srv, want):
    """Waits (at most 5 s) for the number of chunk files to reach want; returns the last count."""
    wait_for(lambda: chunk_count(srv) == want)
    return chunk_count(srv)


def assert_tmp_empty(srv):
    for d in srv.data_dirs:
        tmp = os.path.join(d, "tmp")
        leftovers = os.listdir(tmp) if os.path.isdir(tmp) else []
        assert leftovers == [], (tmp, leftovers)


def test_abort_and_completion_free_part_chunks(server_factory):
    srv = server_factory()
    c = srv.client()
    b = "chunks"
    c.create_bucket(Bucket=b)
    assert chunk_count(srv) == 0

    # an aborted upload leaves no chunk file
    upload_id = create(c, b, "aborted")
    for n in (1, 2, 3):
        put_part(c, b, "aborted", upload_id, n, blob(MIN_PART + n, 120 + n))
    assert chunk_count(srv) >= 3, srv.chunk_files()
    c.abort_multipart_upload(Bucket=b, Key="aborted", UploadId=upload_id)
    assert settle(srv, 0) == 0, srv.chunk_files()

    # a completion keeps the chunks of the parts it names and frees the others
    datas = {n: blob(9 * MiB, 130 + n) for n in (1, 2, 3)}  # more than one chunk per part
    upload_id = create(c, b, "done")
    growth = {}
    for n in (1, 2, 3):
        before = chunk_count(srv)
        put_part(c, b, "done", upload_id, n, datas[n])
        growth[n] = chunk_count(srv) - before
        assert growth[n] >= 2, growth
    # replacing a part frees the chunks of the old one
    before = chunk_count(srv)
    part1 = put_part(c, b, "done", upload_id, 1, datas[1])
    assert settle(srv, before) == before, (before, srv.chunk_files())
    part3 = {"PartNumber": 3, "ETag": quoted_md5(datas[3])}
    complete(c, b, "done", upload_id, [part1, part3])
    want = growth[1] + growth[3]
    assert settle(srv, want) == want, (growth, srv.chunk_files())
    assert sha256(read(c, b, "done")) == sha256(datas[1] + datas[3])

    # deleting the object frees the rest
    c.delete_object(Bucket=b, Key="done")
    assert settle(srv, 0) == 0, srv.chunk_files()

    # a part still uploading when its upload is aborted leaves nothing behind either
    upload_id = create(c, b, "late")
    slow = SlowRequest(srv.port, "PUT", "/%s/late" % b, [("partNumber", "1"), ("uploadId", upload_id)],
                       blob(9 * MiB, 140))
    try:
        slow.send_first(1 * MiB)
        c.abort_multipart_upload(Bucket=b, Key="late", UploadId=upload_id)
    finally:
        status, body = slow.finish()
    assert (status, error_code_of(body)) == (404, "NoSuchUpload"), (status, body[:500])
    assert settle(srv, 0) == 0, srv.chunk_files()
    assert_tmp_empty(srv)


def test_copied_parts_and_their_source_live_independently(server_factory):
    """Copied parts keep their data when the source goes, and aborting a copy keeps the source whole."""
    srv = server_factory()
    c = srv.client()
    b = "chunks"
    c.create_bucket(Bucket=b)
    data = blob(12 * MiB + 345, 40)
    c.put_object(Bucket=b, Key="src", Body=data)
    source = {"Bucket": b, "Key": "src"}
    source_chunks = chunk_count(srv)
    assert source_chunks >= 2, srv.chunk_files()

    upload_id = create(c, b, "dropped")
    c.upload_part_copy(Bucket=b, Key="dropped", UploadId=upload_id, PartNumber=1, CopySource=source)
    c.abort_multipart_upload(Bucket=b, Key="dropped", UploadId=upload_id)
    assert settle(srv, source_chunks) == source_chunks, srv.chunk_files()
    assert sha256(read(c, b, "src")) == sha256(data)

    upload_id = create(c, b, "copy")
    parts = []
    for n, rng in ((1, "bytes=0-%d" % (MIN_PART - 1)), (2, "bytes=%d-%d" % (MIN_PART, len(data) - 1))):
        resp = c.upload_part_copy(Bucket=b, Key="copy", UploadId=upload_id, PartNumber=n, CopySource=source,
                                  CopySourceRange=rng)
        parts.append({"PartNumber": n, "ETag": resp["CopyPartResult"]["ETag"]})
    complete(c, b, "copy", upload_id, parts)
    c.delete_object(Bucket=b, Key="src")
    assert sha256(read(c, b, "copy")) == sha256(data)
    c.delete_object(Bucket=b, Key="copy")
    assert settle(srv, 0) == 0, srv.chunk_files()
    assert_tmp_empty(srv)


def test_list_parts_markers_above_1000(s3, bucket):
    """part-number-marker is a part number, not a listing limit: markers above 1000 must not be capped."""
    up = s3.create_multipart_upload(Bucket=bucket, Key="sparse")["UploadId"]
    for n in (1, 1200, 1600, 2500):
        s3.upload_part(Bucket=bucket, Key="sparse", UploadId=up, PartNumber=n, Body=b"x")
    listed = lambda marker: [p["PartNumber"] for p in s3.list_parts(  # noqa: E731
        Bucket=bucket, Key="sparse", UploadId=up, PartNumberMarker=marker).get("Parts", [])]
    assert listed(0) == [1, 1200, 1600, 2500]
    assert listed(1200) == [1600, 2500]
    assert listed(1600) == [2500]
    assert listed(20000) == []
    page = s3.list_parts(Bucket=bucket, Key="sparse", UploadId=up, MaxParts=2, PartNumberMarker=1)
    assert [p["PartNumber"] for p in page["Parts"]] == [1200, 1600]
    assert page["IsTruncated"] and page["NextPartNumberMarker"] == 1600
    s3.abort_multipart_upload(Bucket=bucket, Key="sparse", UploadId=up)
