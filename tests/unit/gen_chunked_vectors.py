#!/usr/bin/env python3
"""Generates tests/unit/chunked_vectors.h: aws-chunked request bodies for tests/unit/test_chunked.c.

Where the vectors come from:

* STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies are made by botocore itself: one by a real boto3
  client (put_object with ChecksumAlgorithm over https, the body caught in 'before-send' as it
  goes on the wire), the rest by botocore.httpchecksum.AwsChunkedWrapper, the class that client
  uses, with small chunk sizes so a body has many chunks.

* botocore 1.29 cannot sign chunks (it only sends unsigned trailers), so the signed bodies rest on
  AWS's published examples: "Example: PUT Object" in "Signature Calculations for the Authorization
  Header: Transferring Payload in Multiple Chunks" (64 KiB + 1 KiB of 'a', seed 4f232c43...) and
  the PUT Object example of "... Including Trailing Headers" (the same data with a trailing
  x-amz-checksum-crc32c:sOO8/Q==, seed 106e2a8a...). Both go into the header with AWS's own chunk
  and trailer signatures. botocore's S3SigV4Auth must reproduce both seed signatures from the
  example requests, and the small chunk signer below must reproduce every published chunk and
  trailer signature, before anything is written.

* The other signed bodies (empty, tiny and binary chunks, several trailers) are signed by that
  checked chunk signer, starting from a seed signature that botocore's S3SigV4Auth computes for a
  streaming PUT. Trailers are canonicalised as the AWS SDKs do (Java v2 SigV4TrailerProvider and
  .NET both run their SigV4 canonical-headers code): lower-case name ':' trimmed value '\\n',
  sorted by name.

Run with the Debian python3 (python3-botocore, python3-boto3) from the repository root:
    python3 tests/unit/gen_chunked_vectors.py \\
        | clang-format --assume-filename=tests/unit/chunked_vectors.h > tests/unit/chunked_vectors.h
"""
import base64
import datetime
import hashlib
import hmac
import io
import struct
import sys
import zlib
from unittest import mock

import boto3
import botocore
import botocore.auth
import botocore.httpchecksum
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
FIXED_NOW = datetime.datetime(2013, 5, 24, 0, 0, 0)
AMZ_DATE = "20130524T000000Z"
SCOPE = "20130524/%s/s3/aws4_request" % REGION
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"

# AWS's published numbers (see the module docstring).
AWS_SIGNED_EXAMPLE = {
    "headers": [
        ("Content-Encoding", "aws-chunked"),
        ("Content-Length", "66824"),
        ("x-amz-decoded-content-length", "66560"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    ],
    "seed": "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    "chunks": [
        (65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
        (1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
        (0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
    ],
}
AWS_TRAILER_EXAMPLE = {
    "headers": [
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-trailer", "x-amz-checksum-crc32c"),
    ],
    "seed": "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    "chunks": [
        (65536, "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2"),
        (1024, "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7"),
        (0, "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992"),
    ],
    "trailers": [("x-amz-checksum-crc32c", "sOO8/Q==")],
    "trailer_signature": "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
}


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(FIXED_NOW.year, FIXED_NOW.month, FIXED_NOW.day, FIXED_NOW.hour, FIXED_NOW.minute, FIXED_NOW.second)


def fixed_clock():
    return mock.patch.object(botocore.auth.datetime, "datetime", FixedDatetime)


# ---- seed signatures from botocore ----


def botocore_seed(content_sha256, headers, url="https://s3.amazonaws.com/examplebucket/chunkObject.txt"):
    """The Authorization signature botocore's S3 signer gives a PUT announcing an aws-chunked body."""

    class StreamingAuth(botocore.auth.S3SigV4Auth):
        def payload(self, request):
            return content_sha256

    req = AWSRequest(method="PUT", url=url, data=b"")
    for k, v in headers:
        req.headers[k] = v
    with fixed_clock():
        StreamingAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    assert req.headers["X-Amz-Date"] == AMZ_DATE
    return req.headers["Authorization"].rsplit("Signature=", 1)[1]


def signing_key():
    k = ("AWS4" + SECRET_KEY).encode()
    for part in (SCOPE.split("/")[0], REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


# ---- the chunk signer (checked against AWS's examples in main) ----


def hmac_hex(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def chunk_signature(key, prev, data):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", AMZ_DATE, SCOPE, prev, EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
    return hmac_hex(key, sts)


def canonical_trailers(trailers):
    merged = {}
    for name, value in trailers:
        merged.setdefault(name.lower(), []).append(" ".join(value.split()))
    return "".join("%s:%s\n" % (name, ",".join(values)) for name, values in sorted(merged.items()))


def trailer_signature(key, prev, trailers):
    digest = hashlib.sha256(canonical_trailers(trailers).encode()).hexdigest()
    return hmac_hex(key, "\n".join(["AWS4-HMAC-SHA256-TRAILER", AMZ_DATE, SCOPE, prev, digest]))


def encode_signed(key, seed, chunks, trailers=None, size_format="%x"):
    """An aws-chunked body as SDKs send it; trailers (None: no trailer section) follow the final chunk header."""
    out, prev, sigs = [], seed, []
    for data in list(chunks) + [b""]:
        prev = chunk_signature(key, prev, data)
        sigs.append(prev)
        out.append(b"%s;chunk-signature=%s\r\n" % ((size_format % len(data)).encode(), prev.encode()))
        if data:
            out.append(data + b"\r\n")
    if trailers is None:
        out.append(b"\r\n")
        return b"".join(out), sigs, None
    for name, value in trailers:
        out.append(b"%s:%s\r\n" % (name.encode(), value.encode()))
    tsig = trailer_signature(key, prev, trailers)
    out.append(b"x-amz-trailer-signature:%s\r\n\r\n" % tsig.encode())
    return b"".join(out), sigs, tsig


def crc32c(data):
    from awscrt import checksums

    return checksums.crc32c(data)


def b64_crc32(data):
    return base64.b64encode(struct.pack(">I", zlib.crc32(data))).decode()


def check_aws_example(example, content_sha256, data_byte=b"a"):
    key = signing_key()
    seed = botocore_seed(content_sha256, example["headers"])
    assert seed == example["seed"], ("botocore seed", seed)
    chunks = [data_byte * n for n, _ in example["chunks"] if n]
    body, sigs, tsig = encode_signed(key, seed, chunks, example.get("trailers"))
    assert sigs == [s for _, s in example["chunks"]], sigs
    if "trailers" in example:
        assert tsig == example["trailer_signature"], tsig
        crc = base64.b64encode(struct.pack(">I", crc32c(b"".join(chunks)))).decode()
        assert example["trailers"] == [("x-amz-checksum-crc32c", crc)]
    return body, seed, b"".join(chunks)


# ---- unsigned trailer bodies from botocore ----


def botocore_wrapper_body(data, algorithm, chunk_size):
    checksum_cls = botocore.httpchecksum._CHECKSUM_CLS[algorithm]
    wrapper = botocore.httpchecksum.AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=checksum_cls, checksum_name="x-amz-checksum-" + algorithm, chunk_size=chunk_size
    )
    return wrapper.read()


def botocore_client_body(data):
    """A PutObject with a CRC32 trailer from a real boto3 client, caught as it goes on the wire."""
    captured = {}

    def before_send(request, **kwargs):
        captured["headers"] = dict(request.headers)
        captured["body"] = request.body.read()
        return AWSResponse(request.url, 200, {}, mock.Mock(stream=lambda **kw: iter([]), read=lambda *a, **k: b""))

    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION)
    client = session.client("s3", endpoint_url="https://s3.coffer.test", config=Config(s3={"addressing_style": "path"}))
    client.meta.events.register("before-send", before_send)
    with mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, {"s3v4": botocore.auth.S3SigV4Auth}), fixed_clock():
        try:
            client.put_object(Bucket="bkt", Key="trailer.bin", Body=data, ChecksumAlgorithm="CRC32")
        except Exception:
            pass  # the empty fake response may not parse; the request was already captured
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in captured["headers"].items()}
    assert headers["x-amz-content-sha256"] == UNSIGNED_TRAILER, headers
    assert headers["content-encoding"] == "aws-chunked" and headers["x-amz-trailer"] == "x-amz-checksum-crc32", headers
    assert headers["x-amz-decoded-content-length"] == str(len(data)), headers
    return captured["body"]


def as_decoded(name, value):
    """A trailer as the decoder returns it: name lower-cased, blanks around the value trimmed."""
    return name.lower(), value.strip(" \t")


def parse_trailers(body):
    """The trailer lines of a body whose final chunk header starts with '0' (for the expected values)."""
    framed = b"\r\n" + body
    tail = framed[framed.rindex(b"\r\n0") + 3 :]
    tail = tail[tail.index(b"\r\n") + 2 :]
    out = []
    for line in tail.split(b"\r\n"):
        if not line:
            break
        name, value = line.decode().split(":", 1)
        if name != "x-amz-trailer-signature":
            out.append(as_decoded(name, value))
    return out


# ---- the cases ----


def binary_data(n, salt=0):
    """Deterministic bytes of every value, starting with what looks like framing, so no data can pass for it."""
    pattern = bytes(((i * 131 + salt) ^ (i >> 3)) & 0xFF for i in range(n))
    return (b"\r\n0\r\n\r\n" + pattern)[:n]


def vector(name, source, mode, body, data, seed="", trailers=(), chunks=0):
    return {
        "name": name,
        "source": source,
        "mode": mode,
        "seed": seed,
        "body": body,
        "data": data,
        "trailers": list(trailers),
        "chunks": chunks,
    }


def cases():
    out = []
    key = signing_key()
    boto = "botocore %s" % botocore.__version__

    body, seed, data = check_aws_example(AWS_SIGNED_EXAMPLE, SIGNED)
    out.append(vector("aws_example_signed", "AWS example (checked)", SIGNED, body, data, seed, chunks=2))
    body, seed, data = check_aws_example(AWS_TRAILER_EXAMPLE, SIGNED_TRAILER)
    out.append(
        vector("aws_example_signed_trailer", "AWS example (checked)", SIGNED_TRAILER, body, data, seed, AWS_TRAILER_EXAMPLE["trailers"], 2)
    )

    def signed(name, mode, chunks, trailers=None, size_format="%x", extra_headers=()):
        headers = [("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", str(sum(map(len, chunks))))]
        headers += list(extra_headers)
        seed = botocore_seed(mode, headers, url="http://s3.coffer.test/bkt/%s" % name)
        body, _, _ = encode_signed(key, seed, chunks, trailers, size_format)
        src = "signer checked on the AWS examples, botocore seed"
        decoded = [as_decoded(n, v) for n, v in trailers or ()]
        return vector(name, src, mode, body, b"".join(chunks), seed, decoded, sum(1 for c in chunks if c))

    out.append(signed("signed_empty", SIGNED, []))
    out.append(signed("signed_one_byte_chunks", SIGNED, [b"x", b"\r", b"\n", b"0", b";"]))
    out.append(signed("signed_binary", SIGNED, [binary_data(300), binary_data(1, 7), binary_data(4096, 3)]))
    out.append(signed("signed_upper_hex_leading_zeros", SIGNED, [binary_data(171, 1), binary_data(2748, 2)], size_format="%08X"))
    crc_payload = binary_data(1000, 9) + binary_data(24, 5)
    out.append(
        signed(
            "signed_trailer_crc32",
            SIGNED_TRAILER,
            [crc_payload[:1000], crc_payload[1000:]],
            [("x-amz-checksum-crc32", b64_crc32(crc_payload))],
            extra_headers=[("x-amz-trailer", "x-amz-checksum-crc32")],
        )
    )
    out.append(
        signed(
            "signed_trailer_empty_body",
            SIGNED_TRAILER,
            [],
            [("x-amz-checksum-crc32", b64_crc32(b""))],
            extra_headers=[("x-amz-trailer", "x-amz-checksum-crc32")],
        )
    )
    sha = base64.b64encode(hashlib.sha256(b"abc").digest()).decode()
    out.append(
        signed(
            "signed_trailer_two_headers",
            SIGNED_TRAILER,
            [b"abc"],
            [("x-amz-checksum-crc32", b64_crc32(b"abc")), ("x-amz-checksum-sha256", sha)],
            extra_headers=[("x-amz-trailer", "x-amz-checksum-crc32,x-amz-checksum-sha256")],
        )
    )

    # No client sends these, but the canonical form must hold for them: mixed-case names, sent out
    # of order, a repeated name (values joined by ','), blanks around and inside a value.
    out.append(
        signed(
            "signed_trailer_canonical_form",
            SIGNED_TRAILER,
            [b"xyz"],
            [("X-Amz-Meta-B", "  two   words\t"), ("x-amz-checksum-crc32", b64_crc32(b"xyz")), ("x-amz-meta-b", "again")],
            extra_headers=[("x-amz-trailer", "x-amz-checksum-crc32,x-amz-meta-b")],
        )
    )

    data = b"hello from botocore's put_object\n" * 3
    body = botocore_client_body(data)
    out.append(vector("botocore_put_object_crc32", boto + " client", UNSIGNED_TRAILER, body, data, "", parse_trailers(body), 1))
    for name, data, algorithm, chunk_size in [
        ("botocore_empty_crc32", b"", "crc32", 64),
        ("botocore_chunks_crc32", binary_data(100, 4), "crc32", 7),
        ("botocore_chunks_crc32c", binary_data(1000, 6), "crc32c", 333),
        ("botocore_chunks_sha1", binary_data(4096, 8), "sha1", 1024),
        ("botocore_chunks_sha256", binary_data(9000, 2), "sha256", 4096),
    ]:
        body = botocore_wrapper_body(data, algorithm, chunk_size)
        chunks = (len(data) + chunk_size - 1) // chunk_size
        src = boto + " AwsChunkedWrapper"
        out.append(vector(name, src, UNSIGNED_TRAILER, body, data, "", parse_trailers(body), chunks))
    return out


# ---- C output ----


def c_byte(c):
    ch = chr(c)
    if ch == "\\":
        return "\\\\"
    if ch == '"':
        return '\\"'
    if ch == "\r":
        return "\\r"
    if ch == "\n":
        return "\\n"
    if 0x20 <= c < 0x7F and ch != "?":  # '?' avoids trigraphs
        return ch
    return "\\%03o" % c  # always three digits, so a digit after it is not taken into the escape


def c_bytes(b):
    return '"' + "".join(c_byte(c) for c in b) + '"'


def c_literal_lines(b, width=100):
    """Adjacent literals, one per wire line (split after LF) and at most ~width source columns each."""
    lines, cur = [], ""
    for c in b:
        cur += c_byte(c)
        if c == 0x0A or len(cur) >= width:
            lines.append(cur)
            cur = ""
    if cur or not lines:
        lines.append(cur)
    return "\n            ".join('"%s"' % line for line in lines)


def runs(body, min_run=64):
    """Run-length parts: (bytes, repeat); long runs of one byte (the 64 KiB of 'a') become one part."""
    parts, i, lit = [], 0, 0
    while i < len(body):
        j = i
        while j < len(body) and body[j] == body[i]:
            j += 1
        if j - i >= min_run:
            if lit < i:
                parts.append((body[lit:i], 1))
            parts.append((body[i : i + 1], j - i))
            lit = j
        i = j
    if lit < len(body) or not parts:
        parts.append((body[lit:], 1))
    return parts


def emit(vectors):
    w = sys.stdout.write
    w("/* tests/unit/chunked_vectors.h -- generated by gen_chunked_vectors.py (botocore %s); do not edit. */\n" % botocore.__version__)
    w("#ifndef COFFER_CHUNKED_VECTORS_H\n#define COFFER_CHUNKED_VECTORS_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n")
    w("#define CHUNKED_VECTOR_SECRET_KEY %s\n" % c_bytes(SECRET_KEY.encode()))
    w("#define CHUNKED_VECTOR_DATE %s\n" % c_bytes(SCOPE.split("/")[0].encode()))
    w("#define CHUNKED_VECTOR_REGION %s\n" % c_bytes(REGION.encode()))
    w("#define CHUNKED_VECTOR_AMZ_DATE %s\n" % c_bytes(AMZ_DATE.encode()))
    w("#define CHUNKED_VECTOR_SCOPE %s\n" % c_bytes(SCOPE.encode()))
    w("#define CHUNKED_VECTOR_SIGNING_KEY %s\n\n" % c_bytes(signing_key().hex().encode()))
    w("/* body = concatenation of each part's len bytes, repeated repeat times */\n")
    w("typedef struct chunked_vector_part {\n    const char *bytes;\n    size_t len;\n    size_t repeat;\n} chunked_vector_part_t;\n\n")
    w("typedef struct chunked_vector_trailer {\n    const char *name;\n    const char *value;\n} chunked_vector_trailer_t;\n\n")
    w("typedef struct chunked_vector {\n    const char *name;\n    const char *source;\n")
    w("    const char *content_sha256; /* the x-amz-content-sha256 value: the mode */\n")
    w("    const char *seed_signature; /* signed modes; \"\" otherwise */\n")
    w("    const chunked_vector_part_t *parts;\n    size_t num_parts;\n    size_t body_len;\n")
    w("    uint64_t decoded_len;\n    const char *decoded_sha256;\n    size_t num_data_chunks;\n")
    w("    const chunked_vector_trailer_t *trailers; /* as the decoder returns them; ends with {0, 0} */\n")
    w("} chunked_vector_t;\n\n")
    for i, v in enumerate(vectors):
        w("static const chunked_vector_part_t chunked_vector_parts_%d[] = {\n" % i)
        for part, repeat in runs(v["body"]):
            w("    {%s,\n     %d, %d},\n" % (c_literal_lines(part), len(part), repeat))
        w("};\n\n")
        w("static const chunked_vector_trailer_t chunked_vector_trailers_%d[] = {\n" % i)
        for name, value in v["trailers"]:
            w("    {%s, %s},\n" % (c_bytes(name.encode()), c_bytes(value.encode())))
        w("    {0, 0},\n};\n\n")
    w("static const chunked_vector_t chunked_vectors[] = {\n")
    for i, v in enumerate(vectors):
        w("    {\n")
        w("        .name = %s,\n" % c_bytes(v["name"].encode()))
        w("        .source = %s,\n" % c_bytes(v["source"].encode()))
        w("        .content_sha256 = %s,\n" % c_bytes(v["mode"].encode()))
        w("        .seed_signature = %s,\n" % c_bytes(v["seed"].encode()))
        w("        .parts = chunked_vector_parts_%d,\n" % i)
        w("        .num_parts = sizeof(chunked_vector_parts_%d) / sizeof(chunked_vector_parts_%d[0]),\n" % (i, i))
        w("        .body_len = %d,\n" % len(v["body"]))
        w("        .decoded_len = %d,\n" % len(v["data"]))
        w("        .decoded_sha256 = %s,\n" % c_bytes(hashlib.sha256(v["data"]).hexdigest().encode()))
        w("        .num_data_chunks = %d,\n" % v["chunks"])
        w("        .trailers = chunked_vector_trailers_%d,\n" % i)
        w("    },\n")
    w("};\n\n#endif\n")


def main():
    vectors = cases()
    for v in vectors:
        assert sum(len(p) * r for p, r in runs(v["body"])) == len(v["body"]), v["name"]
        assert b"".join(p * r for p, r in runs(v["body"])) == v["body"], v["name"]
    emit(vectors)


if __name__ == "__main__":
    main()
