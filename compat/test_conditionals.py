"""Conditional reads (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and response overrides."""
import datetime
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from s3compat import HOUR, assert_xml_error, client_error, outcome, raw_request, wait_for


@pytest.fixture
def obj(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"hello", ContentType="text/plain", CacheControl="no-cache")
    head = s3.head_object(Bucket=bucket, Key="k")
    return bucket, r["ETag"], head["LastModified"]


@pytest.mark.parametrize("op", ["get_object", "head_object"])
def test_conditions_and_their_precedence(s3, obj, op):
    bucket, etag, mtime = obj
    fn = getattr(s3, op)
    cases = [
        ({"IfMatch": etag}, 200),
        ({"IfMatch": '"0123"'}, 412),
        ({"IfMatch": "*"}, 200),
        ({"IfNoneMatch": etag}, 304),
        ({"IfNoneMatch": '"0123"'}, 200),
        ({"IfNoneMatch": "*"}, 304),
        ({"IfModifiedSince": mtime - HOUR}, 200),
        ({"IfModifiedSince": mtime + HOUR}, 304),
        ({"IfUnmodifiedSince": mtime + HOUR}, 200),
        ({"IfUnmodifiedSince": mtime - HOUR}, 412),
        # S3's precedence: a true If-Match overrides a false If-Unmodified-Since ...
        ({"IfMatch": etag, "IfUnmodifiedSince": mtime - HOUR}, 200),
        # ... and If-None-Match decides over If-Modified-Since
        ({"IfNoneMatch": etag, "IfModifiedSince": mtime - HOUR}, 304),
        ({"IfNoneMatch": '"0123"', "IfModifiedSince": mtime + HOUR}, 200),
        # a failed If-Match wins over everything
        ({"IfMatch": '"0123"', "IfNoneMatch": etag}, 412),
    ]
    for cond, want in cases:
        if want == 200:
            expected = (200, None)
        elif want == 412 and op == "get_object":
            expected = (412, "PreconditionFailed")
        else:  # a 304, or a HEAD's 412: no body, so botocore reports the status as the code
            expected = (want, str(want))
        assert outcome(fn, Bucket=bucket, Key="k", **cond) == expected, cond


def test_412_is_an_s3_error(coffer_server, s3, obj):
    bucket, _, _ = obj
    e = client_error(s3.get_object, Bucket=bucket, Key="k", IfMatch='"nope"')
    assert e["Error"]["Code"] == "PreconditionFailed"
    for headers in ({"If-Match": '"nope"'}, {"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"}):
        r = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, headers=headers)
        assert_xml_error(r, "PreconditionFailed", 412)
        r = raw_request(coffer_server.port, "HEAD", "/%s/k" % bucket, headers=headers)
        assert (r.status, r.body) == (412, b""), r


def test_cdn_revalidation_gets_304_with_validators(coffer_server, obj):
    bucket, etag, _ = obj
    r = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, headers={"If-None-Match": etag})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == etag
    assert "last-modified" in r.headers
    # a weak validator, as some caches send, matches too
    r = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, headers={"If-None-Match": "W/" + etag})
    assert r.status == 304
    # and a changed object is served in full
    r = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, headers={"If-None-Match": '"old"'})
    assert r.status == 200 and r.body == b"hello"


def test_unparsable_dates_are_ignored(coffer_server, obj):
    bucket, _, _ = obj
    for name in ("If-Modified-Since", "If-Unmodified-Since"):
        r = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, headers={name: "not a date"})
        assert r.status == 200 and r.body == b"hello"


def test_response_overrides(s3, obj):
    bucket, _, _ = obj
    r = s3.get_object(Bucket=bucket, Key="k", ResponseContentType="application/x-test",
                      ResponseContentLanguage="fr", ResponseExpires=datetime.datetime(2030, 1, 1),
                      ResponseCacheControl="max-age=60", ResponseContentDisposition='attachment; filename="a.txt"',
                      ResponseContentEncoding="identity")
    assert r["Body"].read() == b"hello"
    h = r["ResponseMetadata"]["HTTPHeaders"]
    assert h["content-type"] == "application/x-test"
    assert h["content-language"] == "fr"
    assert h["cache-control"] == "max-age=60"  # replaces the stored no-cache
    assert h["content-disposition"] == 'attachment; filename="a.txt"'
    assert h["content-encoding"] == "identity"
    assert h["expires"] == "Tue, 01 Jan 2030 00:00:00 GMT"  # response-expires as botocore sent it (RFC 822)
    # the stored headers are unchanged
    h = s3.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"]
    assert h["content-type"] == "text/plain" and h["cache-control"] == "no-cache"


# ------------------------------------------------------------------ conditional writes

def put(port, bucket, key, body, **headers):
    return raw_request(port, "PUT", "/%s/%s" % (bucket, key), body=body, headers=headers)


@pytest.mark.parametrize("size", [10, 300 * 1024])  # inline in the record, and in chunk files
def test_put_if_none_match_creates_only(coffer_server, s3, bucket, size):
    port = coffer_server.port
    first, second = b"a" * size, b"b" * size
    assert put(port, bucket, "new", first, **{"If-None-Match": "*"}).status == 200
    r = put(port, bucket, "new", second, **{"If-None-Match": "*"})
    assert_xml_error(r, "PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == first


def test_concurrent_creates_exactly_one_wins(server_factory):
    """Of concurrent creates one wins; the losers' data, written before the condition is checked, leaves no chunk."""
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="race-bucket")
    bodies = [bytes([65 + i]) * (300 * 1024) for i in range(8)]  # in chunk files, not in the record
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: put(srv.port, "race-bucket", "race", b, **{"If-None-Match": "*"}), bodies))
    results = [(r.status, None if r.status == 200 else r.error_code()) for r in answers]
    assert sorted(results) == [(200, None)] + [(412, "PreconditionFailed")] * 7, answers
    winner = bodies[results.index((200, None))]
    assert s3.get_object(Bucket="race-bucket", Key="race")["Body"].read() == winner
    assert wait_for(lambda: sum(srv.chunk_files()) == 1), srv.chunk_files()
    for d in srv.data_dirs:
        assert os.listdir(os.path.join(d, "tmp")) == [], d


def test_put_if_match(coffer_server, s3, bucket):
    port = coffer_server.port
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    r = put(port, bucket, "k", b"v2", **{"If-Match": '"00000000000000000000000000000000"'})
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    r = put(port, bucket, "k", b"v2", **{"If-Match": "not an etag"})
    assert_xml_error(r, "PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    assert put(port, bucket, "k", b"v2", **{"If-Match": etag}).status == 200
    assert put(port, bucket, "k", b"v3", **{"If-Match": "*"}).status == 200
    r = put(port, bucket, "missing", b"x", **{"If-Match": etag})
    assert (r.status, r.error_code()) == (404, "NoSuchKey"), r
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v3"


def test_put_if_none_match_with_an_etag_is_not_implemented(coffer_server, bucket):
    r = put(coffer_server.port, bucket, "k", b"x", **{"If-None-Match": '"abc"'})
    assert (r.status, r.error_code()) == (501, "NotImplemented"), r


# ------------------------------------------------------------------ conditional CompleteMultipartUpload

def client_with_headers(server, headers):
    """A boto3 client that adds headers to CompleteMultipartUpload (boto3 1.26 has no IfNoneMatch/IfMatch for it)."""
    client = server.client()

    def add(request, **_):
        for name, value in headers.items():
            request.headers[name] = value

    client.meta.events.register("before-sign.s3.CompleteMultipartUpload", add)
    return client


def start_upload(s3, bucket, key, data):
    """An upload of one part holding data; returns (upload id, the completion's part list)."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=data)["ETag"]
    return up, {"Parts": [{"PartNumber": 1, "ETag": etag}]}


def complete(server, bucket, key, up, parts, **headers):
    """Completes with the given headers; returns (status, error code or None, the answer)."""
    client = client_with_headers(server, headers)
    try:
        r = client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload=parts)
        return r["ResponseMetadata"]["HTTPStatusCode"], None, r
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"], e.response


def upload_ids(s3, bucket):
    return sorted(u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_complete_if_none_match_creates_only(coffer_server, s3, bucket):
    first, second = start_upload(s3, bucket, "mp", b"first"), start_upload(s3, bucket, "mp", b"second")
    status, code, r = complete(coffer_server, bucket, "mp", *first, **{"If-None-Match": "*"})
    assert (status, code) == (200, None), r
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"first"

    status, code, r = complete(coffer_server, bucket, "mp", *second, **{"If-None-Match": "*"})
    assert (status, code) == (412, "PreconditionFailed"), r
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"first"
    # the refused upload is intact: its parts are listed, and it can still be completed (or aborted)
    assert upload_ids(s3, bucket) == [second[0]]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="mp", UploadId=second[0])["Parts"]] == [1]
    status, code, r = complete(coffer_server, bucket, "mp", *second)
    assert (status, code) == (200, None), r
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"second"
    assert upload_ids(s3, bucket) == []


def test_complete_if_match(coffer_server, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    up, parts = start_upload(s3, bucket, "k", b"v2")
    for value in ('"00000000000000000000000000000000"', "not an etag", etag[1:-1] + "-1"):
        status, code, r = complete(coffer_server, bucket, "k", up, parts, **{"If-Match": value})
        assert (status, code) == (412, "PreconditionFailed"), (value, r)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    assert upload_ids(s3, bucket) == [up]

    # If-Match on a key with no object: 404 NoSuchKey, and the upload stays
    other, other_parts = start_upload(s3, bucket, "missing", b"x")
    status, code, r = complete(coffer_server, bucket, "missing", other, other_parts, **{"If-Match": etag})
    assert (status, code) == (404, "NoSuchKey"), r
    status, code, r = complete(coffer_server, bucket, "missing", other, other_parts, **{"If-Match": "*"})
    assert (status, code) == (404, "NoSuchKey"), r
    assert upload_ids(s3, bucket) == sorted([up, other])
    r = s3.abort_multipart_upload(Bucket=bucket, Key="missing", UploadId=other)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204

    status, code, r = complete(coffer_server, bucket, "k", up, parts, **{"If-Match": etag})  # quotes as S3 gave them
    assert (status, code) == (200, None), r
    new_etag = r["ETag"]
    assert new_etag.endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    # a multipart ETag matches too, without quotes; and * matches any object
    up, parts = start_upload(s3, bucket, "k", b"v3")
    status, code, r = complete(coffer_server, bucket, "k", up, parts, **{"If-Match": new_etag.strip('"')})
    assert (status, code) == (200, None), r
    up, parts = start_upload(s3, bucket, "k", b"v4")
    status, code, r = complete(coffer_server, bucket, "k", up, parts, **{"If-Match": "*"})
    assert (status, code) == (200, None), r
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v4"
    assert upload_ids(s3, bucket) == []


def test_complete_if_none_match_with_an_etag_is_not_implemented(coffer_server, s3, bucket):
    up, parts = start_upload(s3, bucket, "k", b"x")
    status, code, r = complete(coffer_server, bucket, "k", up, parts, **{"If-None-Match": '"abc"'})
    assert (status, code) == (501, "NotImplemented"), r
    assert upload_ids(s3, bucket) == [up]


def test_concurrent_completes_exactly_one_wins(server_factory):
    """Uploads to one key completed at once with If-None-Match: *: one wins, the others stay to be aborted."""
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="mp-race")
    bodies = [bytes([65 + i]) * (300 * 1024) for i in range(6)]  # in chunk files, not in the record
    uploads = [start_upload(s3, "mp-race", "race", b) for b in bodies]
    assert sum(srv.chunk_files()) == len(bodies)
    with ThreadPoolExecutor(len(uploads)) as pool:
        results = list(pool.map(lambda u: complete(srv, "mp-race", "race", *u, **{"If-None-Match": "*"})[:2], uploads))
    assert sorted(results) == [(200, None)] + [(412, "PreconditionFailed")] * (len(uploads) - 1), results
    winner = results.index((200, None))
    assert s3.get_object(Bucket="mp-race", Key="race")["Body"].read() == bodies[winner]
    losers = [u for i, (u, _) in enumerate(uploads) if i != winner]
    assert upload_ids(s3, "mp-race") == sorted(losers)
    for up in losers:
        s3.abort_multipart_upload(Bucket="mp-race", Key="race", UploadId=up)
    assert wait_for(lambda: sum(srv.chunk_files()) == 1), srv.chunk_files()
    assert upload_ids(s3, "mp-race") == []
