"""boto3 (Debian's 1.26) against a live coffer: objects, buckets, listings, errors, auth.

Expected behaviour follows the AWS S3 API Reference (status codes and error codes).
"""

import datetime
import gzip
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from s3compat import (
    DOMAIN, KiB, MiB, S3_NS, SECRET_KEY, all_keys, assert_error, assert_xml_error, client_error, content_md5, data_of,
    listing_body, make_client, md5_hex, quote_key, raw_request, sha256, unique_bucket_name,
)

SMALL_SIZES = [0, 1, 4 * KiB, 4 * KiB + 1]




def quoted_md5(data):
    return '"%s"' % md5_hex(data)


# ---------------------------------------------------------------- objects


@pytest.mark.parametrize("size", SMALL_SIZES + [50 * MiB], ids=lambda s: "%dB" % s)
def test_put_get_head_delete(s3, bucket, size):
    data = data_of(size, seed=size)
    key = "obj-%d" % size
    put = s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["ETag"] == quoted_md5(data)

    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == size
    assert head["ETag"] == quoted_md5(data)
    assert isinstance(head["LastModified"], datetime.datetime)

    got = s3.get_object(Bucket=bucket, Key=key)
    body = got["Body"].read()
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["ContentLength"] == size
    assert got["ETag"] == quoted_md5(data)
    assert sha256(body) == sha256(data)

    dele = s3.delete_object(Bucket=bucket, Key=key)
    assert dele["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.head_object, Bucket=bucket, Key=key), "404", 404)
    assert_error(client_error(s3.get_object, Bucket=bucket, Key=key), "NoSuchKey", 404)


@pytest.mark.parametrize("size", [0, 1, 4 * KiB, 4 * KiB + 1, 9 * MiB], ids=lambda s: "%dB" % s)
def test_get_sends_content_length(coffer_server, s3, bucket, size):
    """Every GET (inline or chunked object, whole or ranged) carries Content-Length, as S3 does."""
    data = data_of(size, seed=size + 3)
    s3.put_object(Bucket=bucket, Key="cl", Body=data)
    whole = raw_request(coffer_server.port, "GET", "/%s/cl" % bucket)
    assert whole.status == 200, whole
    assert whole.headers.get("content-length") == str(size), whole
    assert "transfer-encoding" not in whole.headers, whole
    assert sha256(whole.body) == sha256(data)
    head = raw_request(coffer_server.port, "HEAD", "/%s/cl" % bucket)
    assert head.headers.get("content-length") == str(size), head
    if size:
        part = raw_request(coffer_server.port, "GET", "/%s/cl" % bucket, headers={"Range": "bytes=0-0"})
        assert part.status == 206, part
        assert part.headers.get("content-length") == "1", part
        assert sha256(part.body) == sha256(data[:1])


def test_overwrite_big_with_small_and_back(s3, bucket):
    big = data_of(9 * MiB, seed=91)
    small = data_of(100, seed=92)
    s3.put_object(Bucket=bucket, Key="k", Body=big)
    s3.put_object(Bucket=bucket, Key="k", Body=small)
    got = s3.get_object(Bucket=bucket, Key="k")
    assert sha256(got["Body"].read()) == sha256(small)
    assert got["ETag"] == quoted_md5(small)
    s3.put_object(Bucket=bucket, Key="k", Body=big)
    assert sha256(s3.get_object(Bucket=bucket, Key="k")["Body"].read()) == sha256(big)


SPECIAL_KEYS = [
    "sp ace/x+y%z",
    "\u00fc/\u65e5\u672c/file",
    "../dotdot",
    "a/./b",
    "x//y",
    "//lead",
    "trailing/",
    "q?s=1&t=2#frag",
    "tilde~star*paren()'!",
    "semi;colon:comma,at@eq=dollar$",
    "k" * 1024,
]


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=range(len(SPECIAL_KEYS)))
def test_special_keys_round_trip(s3, bucket, key):
    data = data_of(5000, seed=len(key))
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 5000
    assert sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(data)
    assert all_keys(s3, bucket) == [key]
    assert s3.delete_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_key_too_long(s3, bucket):
    resp = client_error(s3.put_object, Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert_error(resp, "KeyTooLongError", 400)


def test_default_content_type(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_metadata_round_trip(s3, bucket):
    data = gzip.compress(data_of(10000, seed=7), mtime=0)
    expires = datetime.datetime(2037, 1, 1, 0, 0, 0, tzinfo=datetime.timezone.utc)
    s3.put_object(
        Bucket=bucket, Key="meta", Body=data,
        Metadata={"color": "blue", "my-key": "value with spaces", "Mixed-Case": "KeepsValueCase"},
        ContentType="application/x-coffer-test; charset=utf-8",
        ContentEncoding="gzip",
        ContentDisposition='attachment; filename="report.gz"',
        CacheControl="max-age=3600, must-revalidate",
        ContentLanguage="de-CH",
        Expires=expires,
    )
    want_meta = {"color": "blue", "my-key": "value with spaces", "mixed-case": "KeepsValueCase"}
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        assert resp["Metadata"] == want_meta
        assert resp["ContentType"] == "application/x-coffer-test; charset=utf-8"
        assert resp["ContentEncoding"] == "gzip"
        assert resp["ContentDisposition"] == 'attachment; filename="report.gz"'
        assert resp["CacheControl"] == "max-age=3600, must-revalidate"
        assert resp["ContentLanguage"] == "de-CH"
        assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Thu, 01 Jan 2037 00:00:00 GMT"
        assert resp["ContentLength"] == len(data)
        if "Body" in resp:
            assert sha256(resp["Body"].read()) == sha256(data)


def test_etag_is_quoted_md5(s3, bucket):
    for i, size in enumerate([0, 3, 4097, 8 * MiB + 5]):
        data = data_of(size, seed=100 + i)
        put = s3.put_object(Bucket=bucket, Key="e%d" % i, Body=data)
        assert put["ETag"] == quoted_md5(data)
        assert s3.head_object(Bucket=bucket, Key="e%d" % i)["ETag"] == quoted_md5(data)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="e%d" % i)["Contents"]
        assert listed[0]["ETag"] == quoted_md5(data)
        assert listed[0]["Size"] == size
    assert put["ETag"] == '"%s"' % md5_hex(data)


def test_bad_content_md5_rejected(s3, bucket):
    wrong = content_md5(b"something else")
    resp = client_error(s3.put_object, Bucket=bucket, Key="k", Body=b"payload", ContentMD5=wrong)
    assert_error(resp, "BadDigest", 400)
    assert_error(client_error(s3.head_object, Bucket=bucket, Key="k"), "404", 404)


# ---------------------------------------------------------------- ranges


@pytest.fixture(scope="module")
def range_objects(s3):
    name = unique_bucket_name("ranges")
    s3.create_bucket(Bucket=name)
    objs = {"small": data_of(4 * KiB + 1, seed=11), "big": data_of(20 * MiB, seed=12)}
    for key, data in objs.items():
        s3.put_object(Bucket=name, Key=key, Body=data)
    return name, objs


def _ranges(size):
    eight = 8 * MiB
    cases = [("bytes=0-0", 0, 0), ("bytes=0-99", 0, 99), ("bytes=100-", 100, size - 1),
             ("bytes=-10", size - 10, size - 1), ("bytes=-%d" % (size + 50), 0, size - 1),
             ("bytes=%d-%d" % (size - 1, size + 1000), size - 1, size - 1),
             ("bytes=%d-" % (size - 1), size - 1, size - 1)]
    if size > eight:
        cases += [("bytes=%d-%d" % (eight - 10, eight + 10), eight - 10, eight + 10),
                  ("bytes=%d-%d" % (eight, 2 * eight + 3), eight, 2 * eight + 3),
                  ("bytes=%d-%d" % (1234567, 3 * MiB), 1234567, 3 * MiB)]
    return cases


@pytest.mark.parametrize("which", ["small", "big"])
def test_range_reads(s3, range_objects, which):
    bucket, objs = range_objects
    data = objs[which]
    size = len(data)
    for rng, first, last in _ranges(size):
        got = s3.get_object(Bucket=bucket, Key=which, Range=rng)
        body = got["Body"].read()
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert got["ContentRange"] == "bytes %d-%d/%d" % (first, last, size), rng
        assert got["ContentLength"] == last - first + 1, rng
        assert sha256(body) == sha256(data[first:last + 1]), rng


@pytest.mark.parametrize("which", ["small", "big"])
def test_range_not_satisfiable(s3, range_objects, which):
    bucket, objs = range_objects
    size = len(objs[which])
    for rng in ("bytes=%d-" % size, "bytes=%d-%d" % (size + 10, size + 20)):
        resp = client_error(s3.get_object, Bucket=bucket, Key=which, Range=rng)
        assert_error(resp, "InvalidRange", 416)


def test_range_not_satisfiable_raw_body(coffer_server, range_objects):
    bucket, objs = range_objects
    raw = raw_request(coffer_server.port, "GET", "/%s/small" % bucket,
                      headers={"Range": "bytes=%d-" % len(objs["small"])})
    assert_xml_error(raw, "InvalidRange", 416)


# ---------------------------------------------------------------- buckets


def test_bucket_lifecycle(s3, bucket_name):
    created = s3.create_bucket(Bucket=bucket_name)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert bucket_name in names
    assert names == sorted(names)
    mine = [b for b in listed["Buckets"] if b["Name"] == bucket_name][0]
    assert isinstance(mine["CreationDate"], datetime.datetime)
    age = datetime.datetime.now(datetime.timezone.utc) - mine["CreationDate"]
    assert abs(age.total_seconds()) < 300
    assert listed["Owner"].get("ID")
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] is None
    assert s3.delete_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.head_bucket, Bucket=bucket_name), "404", 404)
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_bucket_with_configuration_body(s3, bucket_name):
    # botocore sends <CreateBucketConfiguration xmlns="..."/> as the body.
    s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={})
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] is None
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"v")
    assert sha256(s3.get_object(Bucket=bucket_name, Key="k")["Body"].read()) == sha256(b"v")


def test_create_bucket_with_configuration_body_raw(coffer_server, s3, bucket_name):
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n'
            b'</CreateBucketConfiguration>\n')
    raw = raw_request(coffer_server.port, "PUT", "/" + bucket_name, body=body)
    assert raw.status == 200, raw
    assert raw.headers.get("x-amz-request-id"), raw
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    loc = raw_request(coffer_server.port, "GET", "/" + bucket_name, query=[("location", "")])
    assert loc.status == 200, loc
    root = ET.fromstring(loc.body)
    assert root.tag == S3_NS + "LocationConstraint", loc
    assert not (root.text or "").strip(), loc


def test_bucket_already_owned_by_you(s3, bucket):
    resp = client_error(s3.create_bucket, Bucket=bucket)
    assert_error(resp, "BucketAlreadyOwnedByYou", 409)


@pytest.mark.parametrize("name", ["AB", "a", "ab", "a..b", "-ab", "ab-", "192.168.1.1", "a_b",
                                  "x" * 64])
def test_invalid_bucket_name(s3, name):
    resp = client_error(s3.create_bucket, Bucket=name)
    assert_error(resp, "InvalidBucketName", 400)


def test_valid_unusual_bucket_names(s3):
    for name in ["abc", "a.b-c.d", "0" * 63, unique_bucket_name("x") + ".dots.ok"]:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"1")
        assert sha256(s3.get_object(Bucket=name, Key="k")["Body"].read()) == sha256(b"1")
        s3.delete_object(Bucket=name, Key="k")
        s3.delete_bucket(Bucket=name)


def test_delete_non_empty_bucket(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"x")
    assert_error(client_error(s3.delete_bucket, Bucket=bucket), "BucketNotEmpty", 409)
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sha256(s3.get_object(Bucket=bucket, Key="keep")["Body"].read()) == sha256(b"x")


def test_no_such_bucket(s3, bucket_name):
    assert_error(client_error(s3.get_object, Bucket=bucket_name, Key="k"), "NoSuchBucket", 404)
    assert_error(client_error(s3.put_object, Bucket=bucket_name, Key="k", Body=b"x"), "NoSuchBucket", 404)
    assert_error(client_error(s3.list_objects_v2, Bucket=bucket_name), "NoSuchBucket", 404)
    assert_error(client_error(s3.list_objects, Bucket=bucket_name), "NoSuchBucket", 404)
    assert_error(client_error(s3.delete_bucket, Bucket=bucket_name), "NoSuchBucket", 404)
    assert_error(client_error(s3.delete_object, Bucket=bucket_name, Key="k"), "NoSuchBucket", 404)
    assert_error(client_error(s3.get_bucket_location, Bucket=bucket_name), "NoSuchBucket", 404)
    assert_error(client_error(s3.head_bucket, Bucket=bucket_name), "404", 404)
    assert_error(client_error(s3.head_object, Bucket=bucket_name, Key="k"), "404", 404)


def test_delete_missing_key_is_204(s3, bucket):
    resp = s3.delete_object(Bucket=bucket, Key="never-existed")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


# ---------------------------------------------------------------- raw errors, request ids


def test_error_bodies_are_s3_xml(coffer_server, bucket):
    port = coffer_server.port
    bucket_name = unique_bucket_name("never-created")
    assert_xml_error(raw_request(port, "GET", "/%s/k" % bucket_name), "NoSuchBucket", 404)
    assert_xml_error(raw_request(port, "GET", "/%s/missing%%20key" % bucket), "NoSuchKey", 404)
    assert_xml_error(raw_request(port, "GET", "/%s" % bucket_name, query=[("list-type", "2")]),
                     "NoSuchBucket", 404)
    assert_xml_error(raw_request(port, "DELETE", "/%s" % bucket_name), "NoSuchBucket", 404)
    nsk = ET.fromstring(raw_request(port, "GET", "/%s/missing%%20key" % bucket).body)
    assert nsk.findtext("Key") in (None, "missing key")
    head = raw_request(port, "HEAD", "/%s/missing" % bucket)
    assert head.status == 404 and head.body == b"", head
    assert head.headers.get("x-amz-request-id"), head


def test_every_response_has_request_id(coffer_server, s3, bucket):
    seen = []

    def record(http_response, **kwargs):
        seen.append((http_response.status_code, dict(http_response.headers)))

    s3.meta.events.register("after-call.s3", record)
    try:
        s3.put_object(Bucket=bucket, Key="a", Body=b"1")
        s3.head_object(Bucket=bucket, Key="a")
        s3.get_object(Bucket=bucket, Key="a")["Body"].read()
        s3.get_object(Bucket=bucket, Key="a", Range="bytes=0-0")["Body"].read()
        s3.list_objects_v2(Bucket=bucket)
        s3.list_objects(Bucket=bucket)
        s3.list_buckets()
        s3.head_bucket(Bucket=bucket)
        s3.get_bucket_location(Bucket=bucket)
        s3.delete_object(Bucket=bucket, Key="a")
        for fn, kw in ((s3.get_object, {"Key": "a"}), (s3.head_object, {"Key": "a"}),
                       (s3.create_bucket, {})):
            client_error(fn, Bucket=bucket, **kw)
    finally:
        s3.meta.events.unregister("after-call.s3", record)
    assert len(seen) >= 13
    for status, headers in seen:
        lower = {k.lower(): v for k, v in headers.items()}
        assert lower.get("x-amz-request-id"), (status, headers)
    port = coffer_server.port
    for raw in (raw_request(port, "GET", "/", sign=False),
                raw_request(port, "GET", "/", secret_key="wrong"),
                raw_request(port, "PUT", "/A_B"),
                raw_request(port, "GET", "/%s" % bucket, query=[("max-keys", "zz"), ("list-type", "2")])):
        assert raw.status >= 400, raw
        assert raw.headers.get("x-amz-request-id"), raw


def test_malformed_xml_on_create_bucket(coffer_server, s3, bucket_name):
    for body in (b"<CreateBucketConfiguration><LocationConstraint>", b"this is not xml at all",
                 b"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 b"<LocationConstraint>us-east-1</Location></CreateBucketConfiguration>"):
        raw = raw_request(coffer_server.port, "PUT", "/" + bucket_name, body=body)
        assert_xml_error(raw, "MalformedXML", 400)
    # nothing was created
    assert_error(client_error(s3.head_bucket, Bucket=bucket_name), "404", 404)


@pytest.mark.parametrize("value", ["abc", "-1", "12x"])
def test_bad_max_keys(coffer_server, bucket, value):
    for query in ([("list-type", "2"), ("max-keys", value)], [("max-keys", value)]):
        raw = raw_request(coffer_server.port, "GET", "/" + bucket, query=query)
        assert_xml_error(raw, "InvalidArgument", 400)


# ---------------------------------------------------------------- auth


def test_wrong_secret_is_signature_does_not_match(coffer_server, bucket):
    bad = make_client(coffer_server.endpoint, secret_key=SECRET_KEY + "x")
    assert_error(client_error(bad.list_buckets), "SignatureDoesNotMatch", 403)
    assert_error(client_error(bad.put_object, Bucket=bucket, Key="k", Body=b"x"), "SignatureDoesNotMatch", 403)
    assert_error(client_error(bad.get_object, Bucket=bucket, Key="k"), "SignatureDoesNotMatch", 403)
    raw = raw_request(coffer_server.port, "GET", "/" + bucket, secret_key="nope")
    assert_xml_error(raw, "SignatureDoesNotMatch", 403)


def test_unknown_access_key(coffer_server, bucket):
    bad = make_client(coffer_server.endpoint, access_key="AKIDOESNOTEXIST00000", secret_key=SECRET_KEY)
    assert_error(client_error(bad.list_buckets), "InvalidAccessKeyId", 403)
    assert_error(client_error(bad.get_object, Bucket=bucket, Key="k"), "InvalidAccessKeyId", 403)
    raw = raw_request(coffer_server.port, "GET", "/" + bucket, access_key="AKIDOESNOTEXIST00000")
    assert_xml_error(raw, "InvalidAccessKeyId", 403)


def test_anonymous_request_denied(coffer_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret data")
    for path in ("/", "/" + bucket, "/%s/private" % bucket):
        req = urllib.request.Request(coffer_server.endpoint + path)
        with pytest.raises(urllib.error.HTTPError) as ei:
            urllib.request.urlopen(req, timeout=30)
        err = ei.value
        body = err.read()
        assert err.code == 403, (path, body)
        assert err.headers.get("x-amz-request-id"), path
        root = ET.fromstring(body)
        assert root.tag == "Error" and root.findtext("Code") == "AccessDenied", (path, body)
        assert b"secret data" not in body
    raw = raw_request(coffer_server.port, "PUT", "/%s/anon" % bucket, body=b"x", sign=False)
    assert_xml_error(raw, "AccessDenied", 403)
    assert_error(client_error(s3.head_object, Bucket=bucket, Key="anon"), "404", 404)


def test_tampered_payload_rejected(coffer_server, s3, bucket):
    # Signed (x-amz-content-sha256 included) for one body, sent with another of the same length.
    for size in (100, 64 * KiB, 5 * MiB):
        raw = raw_request(coffer_server.port, "PUT", "/%s/tamper" % bucket, body=b"B" * size,
                          wire_body=b"A" * size)
        assert_xml_error(raw, "XAmzContentSHA256Mismatch", 400)
        assert_error(client_error(s3.head_object, Bucket=bucket, Key="tamper"), "404", 404)


# ---------------------------------------------------------------- virtual-host style


def test_virtual_host_style(coffer_server, s3, bucket):
    port = coffer_server.port
    host = "%s.%s:%d" % (bucket, DOMAIN, port)
    data = data_of(6000, seed=5)
    put = raw_request(port, "PUT", "/vh/" + quote_key("k ey+ü"), body=data, host=host)
    assert put.status == 200, put
    assert put.headers.get("etag") == quoted_md5(data), put
    got = raw_request(port, "GET", "/vh/" + quote_key("k ey+ü"), host=host)
    assert got.status == 200, got
    assert sha256(got.body) == sha256(data)
    # the same object path-style
    assert sha256(s3.get_object(Bucket=bucket, Key="vh/k ey+ü")["Body"].read()) == sha256(data)
    listing = raw_request(port, "GET", "/", query=[("list-type", "2"), ("prefix", "vh/")], host=host)
    assert listing.status == 200, listing
    root = ET.fromstring(listing.body)
    assert root.findtext(S3_NS + "Name") == bucket
    assert [c.findtext(S3_NS + "Key") for c in root.findall(S3_NS + "Contents")] == ["vh/k ey+ü"]
    head = raw_request(port, "HEAD", "/", host=host)
    assert head.status == 200, head
    missing = raw_request(port, "GET", "/nope", host=host)
    assert_xml_error(missing, "NoSuchKey", 404)
    # a host that is neither the domain nor a subdomain of it is path-style
    path_style = raw_request(port, "GET", "/%s/vh/%s" % (bucket, quote_key("k ey+ü")),
                             host="127.0.0.1:%d" % port)
    assert path_style.status == 200 and sha256(path_style.body) == sha256(data), path_style
    # the bare domain is path-style too
    bare = raw_request(port, "GET", "/%s/vh/%s" % (bucket, quote_key("k ey+ü")),
                       host="%s:%d" % (DOMAIN, port))
    assert bare.status == 200 and sha256(bare.body) == sha256(data), bare


# ---------------------------------------------------------------- listings


def expected_entries(keys, prefix="", delimiter=None, after=None):
    """[(kind, name)] in S3 order: kind 'K' for keys, 'P' for common prefixes."""
    out = []
    for k in keys:
        if not k.startswith(prefix):
            continue
        if after is not None and k <= after:
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[:i + len(delimiter)]
                if after is not None and cp <= after:
                    continue
                if not out or out[-1] != ("P", cp):
                    out.append(("P", cp))
                continue
        out.append(("K", k))
    return out


def page_entries(page):
    entries = [("K", o["Key"]) for o in page.get("Contents", [])]
    entries += [("P", p["Prefix"]) for p in page.get("CommonPrefixes", [])]
    return sorted(entries, key=lambda e: e[1])


def list_v2_all(s3, bucket, max_keys=None, **kw):
    pages, token = [], None
    for _ in range(5000):
        args = dict(kw, Bucket=bucket)
        if max_keys is not None:
            args["MaxKeys"] = max_keys
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        n = len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        assert page["KeyCount"] == n
        # S3 returns at most 1,000 keys a page, whatever max-keys asks for
        assert n <= min(1000, max_keys if max_keys is not None else 1000)
        if max_keys is not None and max_keys <= 1000:
            assert page["MaxKeys"] == max_keys
        if token:
            assert page.get("ContinuationToken"), page
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            return pages
        assert n > 0
        token = page["NextContinuationToken"]
        assert token
    raise AssertionError("listing did not end")


def flatten(pages):
    out = []
    for p in pages:
        out += page_entries(p)
    return out


def test_list_v2_all_keys_default_pages(s3, listing_bucket):
    bucket, keys = listing_bucket
    pages = list_v2_all(s3, bucket)
    assert len(pages) >= 3
    assert flatten(pages) == [("K", k) for k in keys]
    first = pages[0]["Contents"][0]
    assert first["Size"] == len(listing_body(first["Key"]))
    assert first["ETag"] == quoted_md5(listing_body(first["Key"]))
    assert first.get("StorageClass", "STANDARD") == "STANDARD"
    assert isinstance(first["LastModified"], datetime.datetime)


def test_list_v2_paginator_matches(s3, listing_bucket):
    bucket, keys = listing_bucket
    got = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 777}):
        got += [o["Key"] for o in page.get("Contents", [])]
    assert got == keys


@pytest.mark.parametrize("max_keys,prefix", [
    (1, "sp ace/"), (7, "sp ace/"), (1000, "sp ace/"), (1, "\u00fc/"), (7, "\u00fc/"),
    (7, "d1"), (1000, "d1"), (7, ""), (999, ""), (1000, ""), (2500, "")])
def test_list_v2_max_keys_prefix(s3, listing_bucket, max_keys, prefix):
    bucket, keys = listing_bucket
    want = expected_entries(keys, prefix)
    pages = list_v2_all(s3, bucket, max_keys=max_keys, Prefix=prefix)
    assert flatten(pages) == want
    for p in pages:
        assert p.get("Prefix", "") == prefix


@pytest.mark.parametrize("prefix", ["", "x/", "a/", "a/./", "\u00fc/", "\u00fc/\u65e5\u672c/", "sp ace/",
                                    "d0", "../", "pct%2F/", "nomatch/"])
def test_list_v2_delimiter(s3, listing_bucket, prefix):
    bucket, keys = listing_bucket
    want = expected_entries(keys, prefix, "/")
    pages = list_v2_all(s3, bucket, Prefix=prefix, Delimiter="/")
    assert flatten(pages) == want
    assert pages[0]["Delimiter"] == "/"
    if not want:
        assert pages[0]["KeyCount"] == 0 and "Contents" not in pages[0]


def test_list_v2_delimiter_common_prefixes_root(s3, listing_bucket):
    bucket, _keys = listing_bucket
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    prefixes = [p["Prefix"] for p in page["CommonPrefixes"]]
    assert prefixes == ["../", "a/"] + ["d%02d/" % i for i in range(20)] + \
        ["pct%2F/", "plus+dir/", "sp ace/", "x/", "\u00fc/"]
    assert [o["Key"] for o in page["Contents"]] == ["top%03d" % j for j in range(50)]
    assert page["KeyCount"] == len(prefixes) + 50
    assert page["IsTruncated"] is False


@pytest.mark.parametrize("max_keys", [3, 10])
def test_list_v2_delimiter_paginated(s3, listing_bucket, max_keys):
    bucket, keys = listing_bucket
    pages = list_v2_all(s3, bucket, max_keys=max_keys, Delimiter="/")
    assert flatten(pages) == expected_entries(keys, "", "/")
    pages = list_v2_all(s3, bucket, max_keys=max_keys, Delimiter="/", Prefix="x/")
    assert flatten(pages) == [("P", "x//")]


def test_list_v2_other_delimiter(s3, listing_bucket):
    bucket, keys = listing_bucket
    pages = list_v2_all(s3, bucket, Delimiter="0", Prefix="d1")
    assert flatten(pages) == expected_entries(keys, "d1", "0")
    pages = list_v2_all(s3, bucket, Delimiter="+", max_keys=4)
    assert flatten(pages) == expected_entries(keys, "", "+")


@pytest.mark.parametrize("after", ["d05/f050", "d05/f050x", "", "a", "\u00fc/", "zzz", "\uffff"])
def test_list_v2_start_after(s3, listing_bucket, after):
    bucket, keys = listing_bucket
    pages = list_v2_all(s3, bucket, max_keys=500, StartAfter=after)
    assert flatten(pages) == expected_entries(keys, after=after)
    if after:
        assert pages[0]["StartAfter"] == after


def test_list_v2_encoding_type_url(s3, listing_bucket):
    bucket, keys = listing_bucket
    # Explicit EncodingType: botocore leaves the keys encoded.
    for prefix in ("sp ace/", "\u00fc/", "plus+dir/", "pct%2F/"):
        want = [k for k in keys if k.startswith(prefix)]
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, EncodingType="url")
        assert page["EncodingType"] == "url"
        raw_keys = [o["Key"] for o in page["Contents"]]
        assert [urllib.parse.unquote_plus(k) for k in raw_keys] == want
        for k in raw_keys:
            assert " " not in k, k  # a space is sent as %20 or '+'
            assert all(ord(c) < 128 for c in k), k
    page = s3.list_objects_v2(Bucket=bucket, Prefix="\u00fc/", Delimiter="/", EncodingType="url")
    assert [urllib.parse.unquote_plus(p["Prefix"]) for p in page["CommonPrefixes"]] == ["\u00fc/\u65e5\u672c/"]
    assert urllib.parse.unquote_plus(page["Prefix"]) == "\u00fc/"
    assert all(ord(c) < 128 for c in page["CommonPrefixes"][0]["Prefix"])


def test_list_v2_raw_xml_unencoded(coffer_server, listing_bucket):
    bucket, keys = listing_bucket
    raw = raw_request(coffer_server.port, "GET", "/" + bucket,
                      query=[("list-type", "2"), ("prefix", "sp ace/"), ("max-keys", "5")])
    assert raw.status == 200, raw
    assert raw.headers.get("x-amz-request-id")
    assert "xml" in raw.headers.get("content-type", ""), raw
    root = ET.fromstring(raw.body)
    assert root.tag == S3_NS + "ListBucketResult"
    assert root.findtext(S3_NS + "Name") == bucket
    assert root.findtext(S3_NS + "Prefix") == "sp ace/"
    assert root.findtext(S3_NS + "KeyCount") == "5"
    assert root.findtext(S3_NS + "MaxKeys") == "5"
    assert root.findtext(S3_NS + "IsTruncated") == "true"
    assert root.findtext(S3_NS + "NextContinuationToken")
    got = [c.findtext(S3_NS + "Key") for c in root.findall(S3_NS + "Contents")]
    assert got == [k for k in keys if k.startswith("sp ace/")][:5]
    raw = raw_request(coffer_server.port, "GET", "/" + bucket,
                      query=[("list-type", "2"), ("prefix", "\u00fc/\u65e5"), ("max-keys", "2")])
    root = ET.fromstring(raw.body)
    assert [c.findtext(S3_NS + "Key") for c in root.findall(S3_NS + "Contents")] == \
        ["\u00fc/\u65e5\u672c/000", "\u00fc/\u65e5\u672c/001"]


def test_list_v2_empty_prefix_result(s3, listing_bucket):
    bucket, _keys = listing_bucket
    page = s3.list_objects_v2(Bucket=bucket, Prefix="does-not-exist/")
    assert page["KeyCount"] == 0
    assert page["IsTruncated"] is False
    assert "Contents" not in page and "CommonPrefixes" not in page


def list_v1_all(s3, bucket, max_keys, **kw):
    pages, marker = [], None
    for _ in range(5000):
        args = dict(kw, Bucket=bucket, MaxKeys=max_keys)
        if marker is not None:
            args["Marker"] = marker
        page = s3.list_objects(**args)
        pages.append(page)
        entries = page_entries(page)
        assert len(entries) <= max_keys
        assert page["MaxKeys"] == max_keys
        if marker is not None:
            assert page["Marker"] == marker
        if not page["IsTruncated"]:
            return pages
        assert entries
        if "Delimiter" in kw:
            # NextMarker is returned when a delimiter is given; it is the last key or prefix.
            assert page["NextMarker"] == entries[-1][1]
            marker = page["NextMarker"]
        else:
            # Without a delimiter NextMarker is optional; clients use the last key.
            if "NextMarker" in page:
                assert page["NextMarker"] == entries[-1][1]
            marker = entries[-1][1]
    raise AssertionError("listing did not end")


@pytest.mark.parametrize("max_keys", [400, 1000])
def test_list_v1_marker_pagination(s3, listing_bucket, max_keys):
    bucket, keys = listing_bucket
    pages = list_v1_all(s3, bucket, max_keys)
    assert flatten(pages) == [("K", k) for k in keys]
    assert len(pages) >= -(-len(keys) // max_keys)


@pytest.mark.parametrize("prefix", ["", "x/", "\u00fc/", "a/"])
def test_list_v1_delimiter_next_marker(s3, listing_bucket, prefix):
    bucket, keys = listing_bucket
    pages = list_v1_all(s3, bucket, 4, Delimiter="/", Prefix=prefix)
    assert flatten(pages) == expected_entries(keys, prefix, "/")


def test_list_v1_marker_between_keys(s3, listing_bucket):
    bucket, keys = listing_bucket
    for marker in ("d05/f050", "d05/f050 ", "top049", "\u00fc/\u65e5\u672c/099"):
        page = s3.list_objects(Bucket=bucket, Marker=marker, MaxKeys=3)
        want = [k for k in keys if k > marker][:3]
        assert [o["Key"] for o in page.get("Contents", [])] == want
        assert page["Marker"] == marker


def test_list_v1_raw_xml(coffer_server, listing_bucket):
    bucket, keys = listing_bucket
    raw = raw_request(coffer_server.port, "GET", "/" + bucket,
                      query=[("prefix", "plus+dir/"), ("max-keys", "2"), ("delimiter", "/")])
    assert raw.status == 200, raw
    root = ET.fromstring(raw.body)
    assert root.tag == S3_NS + "ListBucketResult"
    assert root.findtext(S3_NS + "IsTruncated") == "true"
    got = [c.findtext(S3_NS + "Key") for c in root.findall(S3_NS + "Contents")]
    assert got == ["plus+dir/000", "plus+dir/001"]
    assert root.findtext(S3_NS + "NextMarker") == "plus+dir/001"
    assert root.find(S3_NS + "KeyCount") is None  # V1 has no KeyCount


def test_list_objects_contents_sha(s3, listing_bucket):
    """Spot-check the listed objects' contents by reading them back."""
    bucket, keys = listing_bucket
    for key in keys[::97] + [k for k in keys if not k.startswith("d")][::13]:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert sha256(body) == sha256(listing_body(key)), key


def test_list_buckets_includes_all(s3):
    names = [unique_bucket_name("lb%d" % i) for i in range(3)]
    for n in names:
        s3.create_bucket(Bucket=n)
    try:
        listed = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        for n in names:
            assert n in listed
        assert listed == sorted(listed)
    finally:
        for n in names:
            s3.delete_bucket(Bucket=n)

