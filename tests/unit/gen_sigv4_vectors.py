#!/usr/bin/env python3
"""Generates tests/unit/sigv4_vectors.h: SigV4 test vectors made by botocore's own signer.

Each case runs through a real boto3 S3 client (or, for what a client cannot
produce, botocore.auth.S3SigV4Auth on an AWSRequest) with fixed credentials and a
fixed clock. The request is caught in botocore's 'before-send' event, i.e. as it
is about to go on the wire, so the vector holds the exact path and query bytes
botocore sends, the headers it sends plus the Host header the HTTP layer adds,
and the canonical request, string to sign and signature botocore computed.

Run with the Debian python3 (python3-boto3) from the repository root:
    python3 tests/unit/gen_sigv4_vectors.py \
        | clang-format --assume-filename=tests/unit/sigv4_vectors.h > tests/unit/sigv4_vectors.h
"""
import datetime
import sys
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FIXED_NOW = datetime.datetime(2013, 5, 24, 0, 0, 0)

# Headers the signer never signs and a wire-level value we do not want to pin.
VOLATILE = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}


class FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(FIXED_NOW.year, FIXED_NOW.month, FIXED_NOW.day, FIXED_NOW.hour, FIXED_NOW.minute, FIXED_NOW.second)


class Recorder:
    """Wraps S3SigV4Auth to keep the last canonical request and string to sign."""

    def __init__(self):
        self.canonical = None
        self.sts = None
        orig_cr = botocore.auth.S3SigV4Auth.canonical_request
        orig_sts = botocore.auth.S3SigV4Auth.string_to_sign
        rec = self

        def canonical_request(self, request):
            rec.canonical = orig_cr(self, request)
            return rec.canonical

        def string_to_sign(self, request, canonical_request):
            rec.sts = orig_sts(self, request, canonical_request)
            return rec.sts

        self.patches = [
            mock.patch.object(botocore.auth.S3SigV4Auth, "canonical_request", canonical_request),
            mock.patch.object(botocore.auth.S3SigV4Auth, "string_to_sign", string_to_sign),
        ]

    def __enter__(self):
        for p in self.patches:
            p.start()
        return self

    def __exit__(self, *exc):
        for p in self.patches:
            p.stop()


def wire_host(url):
    # What http.client puts in Host: the netloc, without a default port.
    return botocore.auth._host_from_url(url)


def vector_from_prepared(name, prepared, rec, header_list=None):
    parts = urlsplit(prepared.url)
    # botocore's HTTP layer sends urlsplit(url).path + '?' + query as the request target.
    headers = [("host", wire_host(prepared.url))]
    items = header_list if header_list is not None else list(prepared.headers.items())
    for k, v in items:
        if k.lower() in VOLATILE:
            continue
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        headers.append((k.lower(), v))
    auth = dict(headers)["authorization"]
    signature = auth.rsplit("Signature=", 1)[1]
    return {
        "name": name,
        "method": prepared.method,
        "path": parts.path or "/",  # botocore's HTTP layer sends "/" for an empty path
        "query": parts.query,
        "headers": headers,
        "authorization": auth,
        "canonical": rec.canonical,
        "sts": rec.sts,
        "signature": signature,
    }


def client_cases():
    """(name, endpoint, config, operation, params) signed through a real client."""
    unsigned = Config(signature_version="s3v4", s3={"payload_signing_enabled": False, "addressing_style": "path"})
    path = Config(signature_version="s3v4", s3={"addressing_style": "path"})
    virtual = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    ep = "http://s3.coffer.test"
    ep_port = "http://localhost:9000"
    return [
        ("list_buckets", ep, path, "list_buckets", {}),
        ("put_object_body", ep, path, "put_object", {"Bucket": "bkt", "Key": "hello.txt", "Body": b"hello world\n"}),
        ("get_object_port", ep_port, path, "get_object", {"Bucket": "bkt", "Key": "hello.txt"}),
        ("key_with_spaces", ep, path, "get_object", {"Bucket": "bkt", "Key": "my photos/a b  c.jpg"}),
        ("key_with_plus", ep, path, "get_object", {"Bucket": "bkt", "Key": "a+b+c"}),
        ("key_with_percent", ep, path, "get_object", {"Bucket": "bkt", "Key": "100%/50%25"}),
        ("key_unicode", ep, path, "get_object", {"Bucket": "bkt", "Key": "caf\u00e9/\u65e5\u672c\u8a9e/\U0001f600.txt"}),
        ("key_dot_segments", ep, path, "get_object", {"Bucket": "bkt", "Key": "a/./b/../c"}),
        ("key_double_slash", ep, path, "get_object", {"Bucket": "bkt", "Key": "a//b///c/"}),
        ("key_tilde_equals", ep, path, "get_object", {"Bucket": "bkt", "Key": "~user/k=v&x;y,z:@$!*'()"}),
        ("key_leading_slash", ep, path, "get_object", {"Bucket": "bkt", "Key": "/abs"}),
        (
            "list_v2_prefix_delimiter",
            ep,
            path,
            "list_objects_v2",
            {"Bucket": "bkt", "Prefix": "a/b", "Delimiter": "/"},
        ),
        (
            "list_v2_continuation",
            ep,
            path,
            "list_objects_v2",
            {"Bucket": "bkt", "ContinuationToken": "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+a b", "MaxKeys": 10},
        ),
        ("create_multipart_uploads", ep, path, "create_multipart_upload", {"Bucket": "bkt", "Key": "big.bin"}),
        ("get_object_acl", ep, path, "get_object_acl", {"Bucket": "bkt", "Key": "hello.txt"}),
        (
            "upload_part_query",
            ep,
            path,
            "upload_part",
            {"Bucket": "bkt", "Key": "big.bin", "PartNumber": 3, "UploadId": "VXBsb2FkIElE+/=", "Body": b"x" * 100},
        ),
        (
            "put_object_metadata",
            ep,
            path,
            "put_object",
            {
                "Bucket": "bkt",
                "Key": "meta.txt",
                "Body": b"",
                "ContentType": "text/plain;  charset=utf-8",
                "Metadata": {"alpha": "  leading and trailing  ", "beta": "many     inner   spaces", "gamma": "x"},
            },
        ),
        (
            "put_object_unsigned_payload",
            "https://s3.coffer.test",
            unsigned,
            "put_object",
            {"Bucket": "bkt", "Key": "unsigned.bin", "Body": b"0123456789"},
        ),
        ("virtual_host_get", ep, virtual, "get_object", {"Bucket": "bkt", "Key": "v/h.txt", "Range": "bytes=0-9"}),
        (
            "list_objects_v1_marker",
            ep,
            path,
            "list_objects",
            {"Bucket": "bkt", "Marker": "k~ey with space+plus", "Prefix": "p/\u00e9"},
        ),
        ("delete_objects", ep, path, "delete_objects", {"Bucket": "bkt", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b c"}]}}),
    ]


def run_client_case(rec, name, endpoint, config, op, params, region="us-east-1"):
    captured = {}

    def before_send(request, **kwargs):
        captured["prepared"] = request
        captured["canonical"] = rec.canonical
        captured["sts"] = rec.sts
        return AWSResponse(request.url, 200, {}, mock.Mock(stream=lambda **kw: iter([]), read=lambda *a, **k: b""))

    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=region)
    client = session.client("s3", endpoint_url=endpoint, config=config)
    client.meta.events.register("before-send", before_send)
    try:
        getattr(client, op)(**params)
    except Exception:
        pass  # the empty fake response may not parse; the request was already captured
    assert "prepared" in captured, name
    rec.canonical, rec.sts = captured["canonical"], captured["sts"]
    return vector_from_prepared(name, captured["prepared"], rec)


def run_raw_case(rec, name, method, url, headers, body=b"", region="us-east-1"):
    """Signs an AWSRequest directly, for requests a client would not build.

    botocore signs a URL's path and query as given (S3 paths are not normalized, query
    pairs are sorted but not re-encoded), so these URLs must already be in canonical
    form: an empty path, a raw '+' or a lower-case escape would be signed verbatim
    while a server re-encodes them."""
    req = AWSRequest(method=method, url=url, data=body)
    for k, v in headers:
        req.headers[k] = v  # HTTPHeaders: setting a name twice keeps both values
    botocore.auth.S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", region).add_auth(req)
    # The header list is taken from the signed request: botocore's prepare step would
    # collapse repeated names into one, but a server must handle both lines.
    prepared = req.prepare()
    return vector_from_prepared(name, prepared, rec, header_list=list(req.headers.items()))


def raw_cases(rec):
    return [
        run_raw_case(
            rec,
            "raw_repeated_header",
            "GET",
            "http://s3.coffer.test/bkt/obj",
            [("X-Amz-Meta-Multi", "one"), ("X-Amz-Meta-Multi", "  two   too "), ("X-Amz-Meta-Tab", "a\t\tb")],
        ),
        run_raw_case(rec, "raw_query_no_values", "GET", "http://s3.coffer.test/bkt?versions&acl&b=2&a=1&a=", []),
        run_raw_case(
            rec,
            "raw_query_sort_order",
            "GET",
            "http://s3.coffer.test/bkt?a~=5&b=%20&a.b=3&A=6&a%2Fb=4&a=2&a-b=1&b=&a=1",
            [],
        ),
        run_raw_case(rec, "raw_eu_region", "HEAD", "http://s3.coffer.test/bkt/k", [], region="eu-west-1"),
    ]


def c_string(s):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif 0x20 <= b < 0x7F and c != "?":  # '?' avoids trigraphs
            out.append(c)
        else:
            out.append("\\%03o" % b)
    return '"' + "".join(out) + '"'


def c_lines(s):
    """A multi-line string as one adjacent literal per line, so the header reads like the text it holds."""
    lines = s.splitlines(keepends=True) or [""]
    return "\n            ".join(c_string(line) for line in lines)


def emit(vectors):
    w = sys.stdout.write
    w("/* tests/unit/sigv4_vectors.h -- generated by gen_sigv4_vectors.py from botocore %s; do not edit. */\n" % botocore.__version__)
    w("#ifndef COFFER_SIGV4_VECTORS_H\n#define COFFER_SIGV4_VECTORS_H\n\n")
    w("#define SIGV4_VECTOR_ACCESS_KEY %s\n" % c_string(ACCESS_KEY))
    w("#define SIGV4_VECTOR_SECRET_KEY %s\n\n" % c_string(SECRET_KEY))
    w("typedef struct sigv4_vector_header {\n    const char *name;\n    const char *value;\n} sigv4_vector_header_t;\n\n")
    w("typedef struct sigv4_vector {\n    const char *name;\n    const char *method;\n")
    w("    const char *path;  /* raw, as on the wire */\n    const char *query; /* raw, without '?' */\n")
    w("    const sigv4_vector_header_t *headers; /* as sent, names lower-cased, Authorization included */\n")
    w("    const char *authorization;\n    const char *canonical_request;\n    const char *string_to_sign;\n")
    w("    const char *signature;\n} sigv4_vector_t;\n\n")
    for i, v in enumerate(vectors):
        w("static const sigv4_vector_header_t sigv4_vector_headers_%d[] = {\n" % i)
        for k, val in v["headers"]:
            w("    {%s, %s},\n" % (c_string(k), c_string(val)))
        w("    {0, 0},\n};\n\n")
    w("static const sigv4_vector_t sigv4_vectors[] = {\n")
    for i, v in enumerate(vectors):
        w("    {\n")
        w("        .name = %s,\n" % c_string(v["name"]))
        w("        .method = %s,\n" % c_string(v["method"]))
        w("        .path = %s,\n" % c_string(v["path"]))
        w("        .query = %s,\n" % c_string(v["query"]))
        w("        .headers = sigv4_vector_headers_%d,\n" % i)
        w("        .authorization = %s,\n" % c_string(v["authorization"]))
        w("        .canonical_request = %s,\n" % c_lines(v["canonical"]))
        w("        .string_to_sign = %s,\n" % c_lines(v["sts"]))
        w("        .signature = %s,\n" % c_string(v["signature"]))
        w("    },\n")
    w("};\n\n#endif\n")


def main():
    vectors = []
    # With awscrt installed botocore maps "s3v4" to the CRT signer; pin the pure-Python one.
    with mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, {"s3v4": botocore.auth.S3SigV4Auth}), mock.patch.object(
        botocore.auth.datetime, "datetime", FixedDatetime
    ), Recorder() as rec:
        for name, endpoint, config, op, params in client_cases():
            vectors.append(run_client_case(rec, name, endpoint, config, op, params))
        vectors.extend(raw_cases(rec))
    for v in vectors:
        assert v["sts"] is not None, v["name"]
        assert v["sts"].endswith(botocore.auth.sha256(v["canonical"].encode()).hexdigest()), v["name"]
    emit(vectors)


if __name__ == "__main__":
    main()
