"""aws-chunked bodies (streaming SigV4 uploads) and flexible checksums, sent over raw HTTP.

The bodies are framed and signed here, as the AWS SDKs frame and sign them: the seed
signature comes from botocore's SigV4 signer, each chunk signature chains from the one
before, and the trailer is signed last. Real SDKs (JS v3, restic's minio-go) are tested
in their own files; these tests reach the corners the SDKs never send: tampered chunks,
wrong trailers, short bodies.
"""
import hashlib
import hmac

import pytest

from s3compat import (
    ACCESS_KEY, KiB, MiB, REGION, SECRET_KEY, assert_absent, assert_xml_error, checksum, composite, content_md5,
    data_of, md5_hex, raw_request, request_target, signed_headers, sigv4_signing_key,
)

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# ------------------------------------------------------------------ aws-chunked framing and signing

class ChunkSigner:
    def __init__(self, amz_date, seed):
        self.amz_date = amz_date
        self.scope = "%s/%s/s3/aws4_request" % (amz_date[:8], REGION)
        self.key = sigv4_signing_key(amz_date[:8], SECRET_KEY, REGION, "s3")
        self.prev = seed

    def _sign(self, algorithm, tail):
        sts = "\n".join([algorithm, self.amz_date, self.scope, self.prev] + tail)
        self.prev = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        return self.prev

    def chunk(self, data):
        return self._sign("AWS4-HMAC-SHA256-PAYLOAD", [EMPTY_SHA256, hashlib.sha256(data).hexdigest()])

    def trailer(self, lines):
        canonical = "".join("%s:%s\n" % (n, v) for n, v in lines)
        return self._sign("AWS4-HMAC-SHA256-TRAILER", [hashlib.sha256(canonical.encode()).hexdigest()])


def chunked_put(port, path, data, mode, chunk_size=64 * KiB, trailer=None, headers=None, query=None,
                tamper=None, decoded_length=None, cut=0):
    """PUTs data as an aws-chunked body in the given mode; trailer is (name, value) or None.

    tamper(body) may change the framed body after signing; cut drops that many bytes from its end.
    """
    hdrs = {"Content-Encoding": "aws-chunked",
            "X-Amz-Decoded-Content-Length": str(len(data) if decoded_length is None else decoded_length),
            "X-Amz-Content-SHA256": mode}
    if trailer is not None:
        hdrs["X-Amz-Trailer"] = trailer[0]
    hdrs.update(headers or {})
    host = "127.0.0.1:%d" % port
    signed = signed_headers("PUT", host, request_target(path, query), b"", hdrs)
    seed = signed["Authorization"].rsplit("Signature=", 1)[1]
    signer = ChunkSigner(signed["X-Amz-Date"], seed)
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    out = bytearray()
    for piece in pieces:
        if mode == UNSIGNED_TRAILER:
            out += b"%x\r\n" % len(piece)
        else:
            out += b"%x;chunk-signature=%s\r\n" % (len(piece), signer.chunk(piece).encode())
        if piece:
            out += piece + b"\r\n"
    if mode == SIGNED:
        out += b"\r\n"
    else:
        lines = [trailer] if trailer is not None else []
        for n, v in lines:
            out += ("%s:%s\r\n" % (n, v)).encode()
        if mode == SIGNED_TRAILER:
            out += ("x-amz-trailer-signature:%s\r\n" % signer.trailer(lines)).encode()
        out += b"\r\n"
    body = bytes(out)
    if tamper is not None:
        body = tamper(body)
    if cut:
        body = body[:-cut]
    return raw_request(port, "PUT", path, query=query, headers=signed, body=body, sign=False)


def head(port, path, checksum_mode=True):
    hdrs = {"x-amz-checksum-mode": "ENABLED"} if checksum_mode else {}
    return raw_request(port, "HEAD", path, headers=hdrs)


def get(port, path, checksum_mode=True, headers=None):
    hdrs = dict(headers or {})
    if checksum_mode:
        hdrs["x-amz-checksum-mode"] = "ENABLED"
    return raw_request(port, "GET", path, headers=hdrs)


@pytest.fixture
def port(coffer_server):
    return coffer_server.port


# ------------------------------------------------------------------ the three streaming modes

@pytest.mark.parametrize("mode", [SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER])
@pytest.mark.parametrize("size", [0, 1, 64 * KiB, 200 * KiB + 7, 9 * MiB + 3])
def test_streaming_put_stores_only_the_object_bytes(port, bucket, mode, size):
    data = data_of(size, seed=size + len(mode))
    trailer = ("x-amz-checksum-crc32", checksum("crc32", data)) if mode != SIGNED else None
    r = chunked_put(port, "/%s/obj" % bucket, data, mode, trailer=trailer,
                    headers={"Content-Type": "text/plain", "x-amz-meta-a": "b"})
    assert r.status == 200, r
    assert r.headers["etag"] == '"%s"' % md5_hex(data)
    g = get(port, "/%s/obj" % bucket)
    assert g.status == 200
    assert g.body == data
    assert "content-encoding" not in g.headers  # aws-chunked is framing, not the object's encoding
    assert g.headers["content-type"] == "text/plain"
    assert g.headers["x-amz-meta-a"] == "b"
    if trailer is not None:
        assert g.headers["x-amz-checksum-crc32"] == trailer[1]
        assert g.headers["x-amz-checksum-type"] == "FULL_OBJECT"
        assert r.headers["x-amz-checksum-crc32"] == trailer[1]


def test_other_content_encodings_are_kept(port, bucket):
    data = data_of(1000, seed=3)
    r = chunked_put(port, "/%s/gz" % bucket, data, SIGNED, headers={"Content-Encoding": "aws-chunked, gzip"})
    assert r.status == 200, r
    g = get(port, "/%s/gz" % bucket)
    assert g.body == data and g.headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_every_trailer_checksum_is_verified_stored_and_returned(port, bucket, alg, mode):
    data = data_of(150 * KiB + 11, seed=len(alg))
    value = checksum(alg, data)
    r = chunked_put(port, "/%s/c" % bucket, data, mode, trailer=("x-amz-checksum-" + alg, value))
    assert r.status == 200, r
    h = head(port, "/%s/c" % bucket)
    assert h.headers["x-amz-checksum-" + alg] == value
    g = get(port, "/%s/c" % bucket)
    assert g.body == data and g.headers["x-amz-checksum-" + alg] == value
    # only when asked, and never for a range of the object
    assert "x-amz-checksum-" + alg not in get(port, "/%s/c" % bucket, checksum_mode=False).headers
    ranged = get(port, "/%s/c" % bucket, headers={"Range": "bytes=0-9"})
    assert ranged.status == 206 and "x-amz-checksum-" + alg not in ranged.headers


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_checksum_headers_on_a_plain_put(port, bucket, alg):
    data = data_of(70 * KiB, seed=9)
    value = checksum(alg, data)
    r = raw_request(port, "PUT", "/%s/h" % bucket, body=data,
                    headers={"x-amz-checksum-" + alg: value, "x-amz-sdk-checksum-algorithm": alg.upper()})
    assert r.status == 200, r
    assert r.headers["x-amz-checksum-" + alg] == value
    assert head(port, "/%s/h" % bucket).headers["x-amz-checksum-" + alg] == value


def test_put_without_checksum_has_none(port, bucket):
    assert raw_request(port, "PUT", "/%s/n" % bucket, body=b"abc").status == 200
    assert not [h for h in head(port, "/%s/n" % bucket).headers if h.startswith("x-amz-checksum-")]


# ------------------------------------------------------------------ refusals: an error, and nothing stored

def flip_data_byte(body):
    i = body.index(b"\r\n") + 2 + 10  # inside the first chunk's data
    return body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]


@pytest.mark.parametrize("mode", [SIGNED, SIGNED_TRAILER])
def test_tampered_chunk_is_refused(s3, port, bucket, mode):
    data = data_of(300 * KiB, seed=5)
    trailer = ("x-amz-checksum-crc32", checksum("crc32", data)) if mode == SIGNED_TRAILER else None
    r = chunked_put(port, "/%s/bad" % bucket, data, mode, trailer=trailer, tamper=flip_data_byte)
    assert_xml_error(r, "SignatureDoesNotMatch", 403)
    assert_absent(s3, bucket, "bad")


@pytest.mark.parametrize("mode", [SIGNED, UNSIGNED_TRAILER, SIGNED_TRAILER])
def test_only_the_last_chunk_may_be_under_8_kib(s3, port, bucket, mode):
    data = data_of(3 * 8 * KiB + 5, seed=12)
    trailer = ("x-amz-checksum-crc32", checksum("crc32", data)) if mode != SIGNED else None
    # 8 KiB chunks and a short last one are S3's smallest framing
    r = chunked_put(port, "/%s/ok" % bucket, data, mode, chunk_size=8 * KiB, trailer=trailer)
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == data
    # a short chunk before the last is refused, and nothing is stored
    r = chunked_put(port, "/%s/bad" % bucket, data, mode, chunk_size=8 * KiB - 1, trailer=trailer)
    assert_xml_error(r, "InvalidChunkSizeError", 400)
    assert_absent(s3, bucket, "bad")


def test_tampered_last_chunk_of_a_large_body_is_refused(s3, port, bucket):
    data = data_of(9 * MiB, seed=6)

    def flip_last(body):
        i = len(body) - 200
        return body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]

    r = chunked_put(port, "/%s/bad" % bucket, data, SIGNED, tamper=flip_last)
    assert_xml_error(r, "SignatureDoesNotMatch", 403)
    assert_absent(s3, bucket, "bad")


def test_tampered_trailer_is_refused(s3, port, bucket):
    data = data_of(10 * KiB, seed=7)
    good = checksum("crc32", data)
    other = checksum("crc32", data + b"x")
    r = chunked_put(port, "/%s/bad" % bucket, data, SIGNED_TRAILER, trailer=("x-amz-checksum-crc32", good),
                    tamper=lambda b: b.replace(good.encode(), other.encode()))
    assert_xml_error(r, "SignatureDoesNotMatch", 403)
    assert_absent(s3, bucket, "bad")


ALGS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("mode", [SIGNED_TRAILER, UNSIGNED_TRAILER])
def test_wrong_trailer_checksum_is_bad_digest(s3, port, bucket, mode, alg):
    data = data_of(100 * KiB, seed=8)
    r = chunked_put(port, "/%s/bad" % bucket, data, mode, trailer=("x-amz-checksum-" + alg, checksum(alg, b"other")))
    assert_xml_error(r, "BadDigest", 400)
    assert alg.upper() in r.xml().findtext("Message")
    assert_absent(s3, bucket, "bad")


@pytest.mark.parametrize("alg", ALGS)
def test_wrong_checksum_header_is_bad_digest(s3, port, bucket, alg):
    r = raw_request(port, "PUT", "/%s/bad" % bucket, body=b"hello", headers={"x-amz-checksum-" + alg: checksum(alg, b"hellO")})
    assert_xml_error(r, "BadDigest", 400)
    assert_absent(s3, bucket, "bad")


def test_malformed_checksum_values_and_combinations(s3, port, bucket):
    cases = [
        {"x-amz-checksum-crc32": "not base64"},
        {"x-amz-checksum-crc32": checksum("sha1", b"x")},  # a digest of the wrong length
        {"x-amz-checksum-crc32": checksum("crc32", b"x"), "x-amz-checksum-sha1": checksum("sha1", b"x")},
        {"x-amz-sdk-checksum-algorithm": "CRC32"},  # names an algorithm, sends no value
        {"x-amz-sdk-checksum-algorithm": "MD4", "x-amz-checksum-crc32": checksum("crc32", b"x")},
        {"x-amz-sdk-checksum-algorithm": "SHA1", "x-amz-checksum-crc32": checksum("crc32", b"x")},
    ]
    for hdrs in cases:
        r = raw_request(port, "PUT", "/%s/bad" % bucket, body=b"x", headers=hdrs)
        assert_xml_error(r, "InvalidRequest", 400)
    assert_absent(s3, bucket, "bad")


def test_wrong_content_md5_with_a_chunked_body(s3, port, bucket):
    data = data_of(5000, seed=10)
    wrong = content_md5(data + b"!")
    r = chunked_put(port, "/%s/bad" % bucket, data, SIGNED, headers={"Content-MD5": wrong})
    assert_xml_error(r, "BadDigest", 400)
    assert_absent(s3, bucket, "bad")
    right = content_md5(data)
    assert chunked_put(port, "/%s/ok" % bucket, data, SIGNED, headers={"Content-MD5": right}).status == 200


@pytest.mark.parametrize("mode", [SIGNED, UNSIGNED_TRAILER])
def test_truncated_body_is_incomplete(s3, port, bucket, mode):
    data = data_of(100 * KiB, seed=11)
    trailer = ("x-amz-checksum-crc32", checksum("crc32", data)) if mode != SIGNED else None
    r = chunked_put(port, "/%s/bad" % bucket, data, mode, trailer=trailer, cut=40)
    assert_xml_error(r, "IncompleteBody", 400)
    assert_absent(s3, bucket, "bad")


@pytest.mark.parametrize("declared", [0, 99 * KiB, 101 * KiB])
def test_decoded_length_must_match(s3, port, bucket, declared):
    data = data_of(100 * KiB, seed=12)
    r = chunked_put(port, "/%s/bad" % bucket, data, SIGNED, decoded_length=declared)
    assert_xml_error(r, "IncompleteBody", 400)
    assert_absent(s3, bucket, "bad")


def test_missing_trailer_declared_in_header(s3, port, bucket):
    data = b"abc"
    r = chunked_put(port, "/%s/bad" % bucket, data, UNSIGNED_TRAILER, trailer=("x-amz-checksum-crc32", "AAAAAA=="),
                    tamper=lambda b: b.replace(b"x-amz-checksum-crc32:AAAAAA==\r\n", b""))
    assert_xml_error(r, "InvalidRequest", 400)
    assert_absent(s3, bucket, "bad")


def test_missing_decoded_length(s3, port, bucket):
    host = "127.0.0.1:%d" % port
    hdrs = signed_headers("PUT", host, "/%s/bad" % bucket, b"",
                          {"X-Amz-Content-SHA256": SIGNED, "Content-Encoding": "aws-chunked"})
    r = raw_request(port, "PUT", "/%s/bad" % bucket, headers=hdrs, body=b"0;chunk-signature=" + b"0" * 64 + b"\r\n\r\n",
                    sign=False)
    assert_xml_error(r, "MissingContentLength", 411)
    assert_absent(s3, bucket, "bad")


def test_streaming_is_refused_outside_put_and_upload_part(port, bucket):
    host = "127.0.0.1:%d" % port
    hdrs = signed_headers("POST", host, "/%s/k?uploads=" % bucket, b"", {"X-Amz-Content-SHA256": SIGNED})
    r = raw_request(port, "POST", "/%s/k" % bucket, query=[("uploads", "")], headers=hdrs, sign=False)
    assert_xml_error(r, "InvalidRequest", 400)


def test_wrong_access_key_in_streaming_put(s3, port, bucket):
    data = b"x" * 100
    host = "127.0.0.1:%d" % port
    hdrs = signed_headers("PUT", host, "/%s/bad" % bucket, b"",
                          {"X-Amz-Content-SHA256": SIGNED, "X-Amz-Decoded-Content-Length": "100"},
                          access_key=ACCESS_KEY, secret_key=SECRET_KEY + "x")
    r = raw_request(port, "PUT", "/%s/bad" % bucket, headers=hdrs, body=b"64;chunk-signature=" + b"0" * 64 + b"\r\n" + data,
                    sign=False)
    assert_xml_error(r, "SignatureDoesNotMatch", 403)
    assert_absent(s3, bucket, "bad")


# ------------------------------------------------------------------ multipart checksums

@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_composite_multipart_checksum_with_boto3(s3, port, bucket, alg):
    parts = [data_of(5 * MiB, seed=21), data_of(5 * MiB + 17, seed=22), data_of(1000, seed=23)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ChecksumAlgorithm=alg)
    done = []
    for i, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=i, Body=body, ChecksumAlgorithm=alg)
        assert r["Checksum" + alg] == checksum(alg.lower(), body)
        done.append({"PartNumber": i, "ETag": r["ETag"], "Checksum" + alg: r["Checksum" + alg]})
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up["UploadId"])["Parts"]
    assert [p["Checksum" + alg] for p in listed] == [checksum(alg.lower(), b) for b in parts]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": done})
    want = composite(alg.lower(), parts)
    assert r["Checksum" + alg] == want
    h = head(port, "/%s/mp" % bucket)
    assert h.headers["x-amz-checksum-" + alg.lower()] == want
    assert h.headers["x-amz-checksum-type"] == "COMPOSITE"
    assert "x-amz-checksum-algorithm" not in h.headers
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"".join(parts)


def raw_upload(port, bucket, key, headers):
    r = raw_request(port, "POST", "/%s/%s" % (bucket, key), query=[("uploads", "")], headers=headers)
    assert r.status == 200, r
    return r, r.xml().find("{http://s3.amazonaws.com/doc/2006-03-01/}UploadId").text


def complete_body(parts):
    xml = "<CompleteMultipartUpload>"
    for n, etag, extra in parts:
        xml += "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>%s</Part>" % (n, etag, extra)
    return (xml + "</CompleteMultipartUpload>").encode()


@pytest.mark.parametrize("alg", ["crc64nvme", "crc32", "crc32c"])
def test_full_object_multipart_checksum_from_streamed_and_plain_parts(port, bucket, alg):
    r, upload_id = raw_upload(port, bucket, "full", {"x-amz-checksum-algorithm": alg.upper(),
                                                     "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.headers["x-amz-checksum-algorithm"] == alg.upper() and r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    parts = [data_of(5 * MiB + 1, seed=31), data_of(12345, seed=32)]
    q = lambda n: [("partNumber", str(n)), ("uploadId", upload_id)]  # noqa: E731
    # part 1 streamed with its checksum in a trailer, part 2 plain without one: the server computes it
    p1 = chunked_put(port, "/%s/full" % bucket, parts[0], UNSIGNED_TRAILER, query=q(1),
                     trailer=("x-amz-checksum-" + alg, checksum(alg, parts[0])))
    assert p1.status == 200, p1
    p2 = raw_request(port, "PUT", "/%s/full" % bucket, query=q(2), body=parts[1])
    assert p2.status == 200, p2
    assert p2.headers["x-amz-checksum-" + alg] == checksum(alg, parts[1])
    body = complete_body([(1, p1.headers["etag"], ""), (2, p2.headers["etag"], "")])
    c = raw_request(port, "POST", "/%s/full" % bucket, query=[("uploadId", upload_id)], body=body)
    assert c.status == 200, c
    whole = b"".join(parts)
    assert c.headers["x-amz-checksum-" + alg] == checksum(alg, whole)
    tag = "{http://s3.amazonaws.com/doc/2006-03-01/}Checksum" + alg.upper()
    assert c.xml().find(tag).text == checksum(alg, whole)
    g = get(port, "/%s/full" % bucket)
    assert g.body == whole
    assert g.headers["x-amz-checksum-" + alg] == checksum(alg, whole)
    assert g.headers["x-amz-checksum-type"] == "FULL_OBJECT"


def test_multipart_checksum_refusals(s3, port, bucket):
    _, upload_id = raw_upload(port, bucket, "k", {"x-amz-checksum-algorithm": "CRC32"})
    q = [("partNumber", "1"), ("uploadId", upload_id)]
    # a part checksum of another algorithm than the upload's
    r = raw_request(port, "PUT", "/%s/k" % bucket, query=q, body=b"abc", headers={"x-amz-checksum-sha1": checksum("sha1", b"abc")})
    assert_xml_error(r, "InvalidRequest", 400)
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []
    # a wrong part checksum
    r = raw_request(port, "PUT", "/%s/k" % bucket, query=q, body=b"abc", headers={"x-amz-checksum-crc32": checksum("crc32", b"abd")})
    assert_xml_error(r, "BadDigest", 400)
    assert s3.list_parts(Bucket=bucket, Key="k", UploadId=upload_id).get("Parts", []) == []
    ok = raw_request(port, "PUT", "/%s/k" % bucket, query=q, body=b"abc")
    assert ok.status == 200
    # a completion naming a checksum the part does not have
    body = complete_body([(1, ok.headers["etag"], "<ChecksumCRC32>%s</ChecksumCRC32>" % checksum("crc32", b"abd"))])
    r = raw_request(port, "POST", "/%s/k" % bucket, query=[("uploadId", upload_id)], body=body)
    assert_xml_error(r, "InvalidPart", 400)
    assert_absent(s3, bucket, "k")
    body = complete_body([(1, ok.headers["etag"], "<ChecksumCRC32>%s</ChecksumCRC32>" % checksum("crc32", b"abc"))])
    r = raw_request(port, "POST", "/%s/k" % bucket, query=[("uploadId", upload_id)], body=body)
    assert r.status == 200, r
    # settings S3 refuses at creation
    for hdrs in ({"x-amz-checksum-algorithm": "MD5"}, {"x-amz-checksum-type": "COMPOSITE"},
                 {"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "FULL_OBJECT"},
                 {"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "COMPOSITE"}):
        r = raw_request(port, "POST", "/%s/k2" % bucket, query=[("uploads", "")], headers=hdrs)
        assert_xml_error(r, "InvalidRequest", 400)
