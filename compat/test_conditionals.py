"""Conditional reads (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and response overrides."""
import datetime
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from s3compat import client_error, raw_request, wait_for


@pytest.fixture
def obj(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"hello", ContentType="text/plain", CacheControl="no-cache")
    head = s3.head_object(Bucket=bucket, Key="k")
    return bucket, r["ETag"], head["LastModified"]


def status_of(fn, **kw):
    try:
        r = fn(**kw)
        return r["ResponseMetadata"]["HTTPStatusCode"]
    except Exception as e:  # botocore ClientError
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


HOUR = datetime.timedelta(hours=1)


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
        assert status_of(fn, Bucket=bucket, Key="k", **cond) == want, cond


def test_412_is_an_s3_error(s3, obj):
    bucket, _, _ = obj
    e = client_error(s3.get_object, Bucket=bucket, Key="k", IfMatch='"nope"')
    assert e["Error"]["Code"] == "PreconditionFailed"


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
    assert "2030" in h["expires"]
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
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    assert s3.get_object(Bucket=bucket, Key="new")["Body"].read() == first


def test_concurrent_creates_exactly_one_wins(server_factory):
    """Of concurrent creates one wins; the losers' data, written before the condition is checked, leaves no chunk."""
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="race-bucket")
    bodies = [bytes([65 + i]) * (300 * 1024) for i in range(8)]  # in chunk files, not in the record
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda b: put(srv.port, "race-bucket", "race", b, **{"If-None-Match": "*"}).status,
                                 bodies))
    assert sorted(statuses) == [200] + [412] * 7, statuses
    winner = bodies[statuses.index(200)]
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
    assert r.status == 412, r
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    assert put(port, bucket, "k", b"v2", **{"If-Match": etag}).status == 200
    assert put(port, bucket, "k", b"v3", **{"If-Match": "*"}).status == 200
    r = put(port, bucket, "missing", b"x", **{"If-Match": etag})
    assert (r.status, r.error_code()) == (404, "NoSuchKey"), r
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v3"


def test_put_if_none_match_with_an_etag_is_not_implemented(coffer_server, bucket):
    r = put(coffer_server.port, bucket, "k", b"x", **{"If-None-Match": '"abc"'})
    assert (r.status, r.error_code()) == (501, "NotImplemented"), r
