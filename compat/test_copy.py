"""CopyObject: directives, copy-source encoding and versions, copy-source conditions, chunk sharing, real clients."""
import re
import threading
import time

import pytest

from s3compat import (
    HOUR, RCLONE_BIN, AccessLog, assert_absent, assert_error, assert_xml_error, checksum, client_error, data_of,
    md5_hex, outcome, quote_key, raw_request, rclone_env, require_tool, run_rclone, tags_of, unique_bucket_name,
    wait_for, wait_past,
)


@pytest.fixture
def src(s3, bucket):
    body = data_of(3000, 1)
    r = s3.put_object(Bucket=bucket, Key="src", Body=body, ContentType="text/x-source", CacheControl="max-age=60",
                      Metadata={"color": "red", "size": "small"})
    return bucket, body, r["ETag"]


def copy_raw(port, bucket, key, source, headers=None):
    h = {"x-amz-copy-source": source}
    h.update(headers or {})
    return raw_request(port, "PUT", "/%s/%s" % (bucket, quote_key(key)), headers=h)


def test_copy_keeps_data_metadata_and_etag(s3, src):
    bucket, body, etag = src
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["CopyObjectResult"]["ETag"] == etag
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert r["CopyObjectResult"]["LastModified"].replace(microsecond=0) == head["LastModified"]
    assert head["ContentType"] == "text/x-source"
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"] == {"color": "red", "size": "small"}
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == body


def test_copy_result_xml(coffer_server, src):
    bucket, _, etag = src
    r = copy_raw(coffer_server.port, bucket, "dst", "/%s/src" % bucket)
    assert r.status == 200
    text = r.body.decode()
    assert text.startswith("<?xml")
    assert re.search(r'<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>'
                     r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z</LastModified><ETag>&quot;[0-9a-f]{32}&quot;</ETag>'
                     r'</CopyObjectResult>', text), text
    assert etag.strip('"') in text


def copy_src(s3, bucket, key, **kw):
    """Copies the fixture's "src" to key (kw as copy_object takes them); returns the copy's head_object."""
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "src"}, **kw)
    return s3.head_object(Bucket=bucket, Key=key)


def test_replace_metadata(s3, src):
    bucket, body, etag = src
    head = copy_src(s3, bucket, "dst", MetadataDirective="REPLACE", ContentType="application/x-new",
                    Metadata={"shape": "round"})
    assert head["ContentType"] == "application/x-new"
    assert head["Metadata"] == {"shape": "round"}
    assert "CacheControl" not in head
    assert head["ETag"] == etag
    # REPLACE without a Content-Type gets S3's default, not the source's
    head = copy_src(s3, bucket, "dst2", MetadataDirective="REPLACE")
    assert head["ContentType"] == "binary/octet-stream" and head["Metadata"] == {}
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == body


def test_copy_directive_ignores_request_metadata(s3, src):
    bucket, _, _ = src
    head = copy_src(s3, bucket, "dst", MetadataDirective="COPY", ContentType="application/ignored",
                    Metadata={"ignored": "yes"})
    assert head["ContentType"] == "text/x-source"
    assert head["Metadata"] == {"color": "red", "size": "small"}


def test_copy_onto_itself(s3, src):
    bucket, body, etag = src
    e = client_error(s3.copy_object, Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"})
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Code"] == "InvalidRequest"
    assert "copy an object to itself" in e["Error"]["Message"]
    before = s3.head_object(Bucket=bucket, Key="src")
    wait_past(before["LastModified"].timestamp())  # into a later second than the source's LastModified
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE",
                   ContentType="text/updated", Metadata={"color": "blue"})
    after = s3.head_object(Bucket=bucket, Key="src")
    assert after["ContentType"] == "text/updated" and after["Metadata"] == {"color": "blue"}
    assert after["ETag"] == etag
    assert after["LastModified"] > before["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == body


def test_bad_directives(coffer_server, src):
    bucket, _, _ = src
    r = copy_raw(coffer_server.port, bucket, "dst", "/%s/src" % bucket, {"x-amz-metadata-directive": "MOVE"})
    assert_xml_error(r, "InvalidArgument", 400)
    r = copy_raw(coffer_server.port, bucket, "dst", "/%s/src" % bucket, {"x-amz-tagging-directive": "nope"})
    assert_xml_error(r, "InvalidArgument", 400)
    r = copy_raw(coffer_server.port, bucket, "dst", "/%s/src" % bucket, {"x-amz-metadata-directive": "replace"})
    assert_xml_error(r, "InvalidArgument", 400)  # directives are case-sensitive in S3


@pytest.mark.parametrize("key", ["with space", "plus+sign", "pct%20literal", "qm?and#hash", "üñí/cödé", "a//b/../c",
                                 "semi;colon&amp=eq"])
def test_copy_source_is_url_encoded(s3, coffer_server, bucket, key):
    body = key.encode() * 3
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.copy_object(Bucket=bucket, Key=key + ".copy", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key=key + ".copy")["Body"].read() == body
    # the header without the leading slash, as some clients send it
    r = copy_raw(coffer_server.port, bucket, key + ".raw", "%s/%s" % (bucket, quote_key(key)))
    assert r.status == 200, r.body
    assert s3.get_object(Bucket=bucket, Key=key + ".raw")["Body"].read() == body


def test_copy_source_version(s3, coffer_server, src):
    bucket, body, _ = src
    s3.copy_object(Bucket=bucket, Key="v", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "null"})
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == body
    e = client_error(s3.copy_object, Bucket=bucket, Key="v2",
                     CopySource={"Bucket": bucket, "Key": "src", "VersionId": "3HL4kqtJlcpXroDTDmJ"})
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404 and e["Error"]["Code"] == "NoSuchVersion"
    r = copy_raw(coffer_server.port, bucket, "v3", "/%s/src?partNumber=1" % bucket)
    assert_xml_error(r, "InvalidArgument", 400)


def test_copy_source_errors(s3, coffer_server, src):
    bucket, _, _ = src
    missing = unique_bucket_name("missing")
    e = client_error(s3.copy_object, Bucket=bucket, Key="d", CopySource={"Bucket": bucket, "Key": "missing"})
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404 and e["Error"]["Code"] == "NoSuchKey"
    e = client_error(s3.copy_object, Bucket=bucket, Key="d", CopySource={"Bucket": missing, "Key": "src"})
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404 and e["Error"]["Code"] == "NoSuchBucket"
    e = client_error(s3.copy_object, Bucket=missing, Key="d", CopySource={"Bucket": bucket, "Key": "src"})
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 404 and e["Error"]["Code"] == "NoSuchBucket"
    for bad in ("", "/", "/%s" % bucket, "/%s/" % bucket, "%zz/key"):
        r = copy_raw(coffer_server.port, bucket, "d", bad)
        assert_xml_error(r, "InvalidArgument", 400)
    r = copy_raw(coffer_server.port, bucket, "d", "/%s/%s" % (bucket, "k" * 1025))
    assert_xml_error(r, "KeyTooLongError", 400)
    assert client_error(s3.head_object, Bucket=bucket, Key="d")["Error"]["Code"] == "404"


def test_copy_source_conditions(s3, src):
    bucket, _, etag = src
    mtime = s3.head_object(Bucket=bucket, Key="src")["LastModified"]
    cases = [
        ({"CopySourceIfMatch": etag}, 200),
        ({"CopySourceIfMatch": '"0123"'}, 412),
        ({"CopySourceIfNoneMatch": etag}, 412),
        ({"CopySourceIfNoneMatch": '"0123"'}, 200),
        ({"CopySourceIfModifiedSince": mtime - HOUR}, 200),
        ({"CopySourceIfModifiedSince": mtime + HOUR}, 412),
        ({"CopySourceIfUnmodifiedSince": mtime + HOUR}, 200),
        ({"CopySourceIfUnmodifiedSince": mtime - HOUR}, 412),
        # S3: a true if-match with a false if-unmodified-since copies ...
        ({"CopySourceIfMatch": etag, "CopySourceIfUnmodifiedSince": mtime - HOUR}, 200),
        # ... and a false if-none-match with a true if-modified-since fails
        ({"CopySourceIfNoneMatch": etag, "CopySourceIfModifiedSince": mtime - HOUR}, 412),
    ]
    for i, (cond, want) in enumerate(cases):
        key = "c%d" % i
        got = outcome(s3.copy_object, Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "src"}, **cond)
        assert got == ((200, None) if want == 200 else (412, "PreconditionFailed")), cond
        if want == 200:
            assert s3.head_object(Bucket=bucket, Key=key)["ETag"] == etag, cond
        else:
            assert_absent(s3, bucket, key)


def test_tagging_directive(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"tagged", Tagging="a=1&b=2", Metadata={"m": "src"})
    cs = {"Bucket": bucket, "Key": "t"}
    s3.copy_object(Bucket=bucket, Key="copy", CopySource=cs, Tagging="ignored=1")  # COPY is the default
    assert sorted(tags_of(s3, bucket, "copy")) == [("a", "1"), ("b", "2")]
    s3.copy_object(Bucket=bucket, Key="replace", CopySource=cs, TaggingDirective="REPLACE", Tagging="c=3")
    assert tags_of(s3, bucket, "replace") == [("c", "3")]
    head = s3.head_object(Bucket=bucket, Key="replace")
    assert head["Metadata"] == {"m": "src"}  # metadata still copied
    s3.copy_object(Bucket=bucket, Key="cleared", CopySource=cs, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "cleared") == []
    assert "x-amz-tagging-count" not in s3.head_object(Bucket=bucket, Key="cleared")["ResponseMetadata"]["HTTPHeaders"]
    # REPLACE metadata with COPY tagging: the source's tags, the request's metadata
    s3.copy_object(Bucket=bucket, Key="meta", CopySource=cs, MetadataDirective="REPLACE", Metadata={"m": "new"},
                   Tagging="ignored=1")
    assert sorted(tags_of(s3, bucket, "meta")) == [("a", "1"), ("b", "2")]
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == {"m": "new"}
    # both REPLACE
    s3.copy_object(Bucket=bucket, Key="both", CopySource=cs, MetadataDirective="REPLACE", TaggingDirective="REPLACE",
                   Tagging="d=4")
    assert tags_of(s3, bucket, "both") == [("d", "4")]
    assert s3.head_object(Bucket=bucket, Key="both")["Metadata"] == {}
    # a bad tag set is refused; with COPY metadata, oversized metadata headers are ignored as S3 does
    e = client_error(s3.copy_object, Bucket=bucket, Key="bad", CopySource=cs, TaggingDirective="REPLACE",
                     Tagging="aws:x=1")
    assert_error(e, "InvalidTag", 400)
    assert e["Error"]["Message"] == "Your TagKey cannot be prefixed with aws:", e
    assert_absent(s3, bucket, "bad")
    s3.copy_object(Bucket=bucket, Key="bigmeta", CopySource=cs, TaggingDirective="REPLACE", Tagging="e=5",
                   Metadata={"x": "v" * 3000})
    assert s3.head_object(Bucket=bucket, Key="bigmeta")["Metadata"] == {"m": "src"}


def test_copy_destination_conditions(coffer_server, s3, src):
    bucket, body, etag = src
    s3.put_object(Bucket=bucket, Key="taken", Body=b"old")
    taken_etag = s3.head_object(Bucket=bucket, Key="taken")["ETag"]
    r = copy_raw(coffer_server.port, bucket, "taken", "/%s/src" % bucket, {"If-None-Match": "*"})
    assert_xml_error(r, "PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="taken")["Body"].read() == b"old"
    r = copy_raw(coffer_server.port, bucket, "free", "/%s/src" % bucket, {"If-None-Match": "*"})
    assert r.status == 200
    r = copy_raw(coffer_server.port, bucket, "taken", "/%s/src" % bucket, {"If-Match": '"0123"'})
    assert_xml_error(r, "PreconditionFailed", 412)
    r = copy_raw(coffer_server.port, bucket, "absent", "/%s/src" % bucket, {"If-Match": taken_etag})
    assert_xml_error(r, "NoSuchKey", 404)
    r = copy_raw(coffer_server.port, bucket, "taken", "/%s/src" % bucket, {"If-Match": taken_etag})
    assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="taken")["Body"].read() == body


def test_copy_across_buckets_shares_chunks(server_factory):
    srv = server_factory()
    s3 = srv.client()
    a, b = unique_bucket_name("copy-a"), unique_bucket_name("copy-b")
    s3.create_bucket(Bucket=a)
    s3.create_bucket(Bucket=b)
    body = data_of(20 * 1024 * 1024 + 5, 2)  # three 8 MiB chunks
    s3.put_object(Bucket=a, Key="big", Body=body)
    chunks = sum(srv.chunk_files())
    assert chunks == 3
    s3.copy_object(Bucket=b, Key="big-copy", CopySource={"Bucket": a, "Key": "big"})
    s3.copy_object(Bucket=a, Key="big-copy2", CopySource={"Bucket": a, "Key": "big"})
    assert sum(srv.chunk_files()) == chunks  # no data was duplicated
    s3.delete_object(Bucket=a, Key="big")
    assert sum(srv.chunk_files()) == chunks  # the copies keep the chunks alive
    assert s3.get_object(Bucket=b, Key="big-copy")["Body"].read() == body
    r = s3.get_object(Bucket=b, Key="big-copy", Range="bytes=8388600-8388700")
    assert r["Body"].read() == body[8388600:8388701]
    s3.delete_object(Bucket=b, Key="big-copy")
    assert sum(srv.chunk_files()) == chunks
    s3.delete_object(Bucket=a, Key="big-copy2")
    assert sum(srv.chunk_files()) == 0  # the last reference freed them
    # the copy survives a restart with its data
    s3.put_object(Bucket=a, Key="big", Body=body)
    s3.copy_object(Bucket=b, Key="again", CopySource={"Bucket": a, "Key": "big"})
    srv.restart(hard=True)
    assert srv.client().get_object(Bucket=b, Key="again")["Body"].read() == body


def complete_upload(s3, bucket, key, body, part, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    parts = []
    for n, off in enumerate(range(0, len(body), part), 1):
        kw = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if "ChecksumAlgorithm" in create else {}
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body[off:off + part], **kw)
        entry = {"PartNumber": n, "ETag": r["ETag"]}
        if "ChecksumCRC32" in r:
            entry["ChecksumCRC32"] = r["ChecksumCRC32"]
        parts.append(entry)
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": parts})


def test_copy_of_multipart_object_is_single_part(s3, coffer_server, bucket):
    """As in S3, the copy of a multipart object is a single-part object: its ETag is the data's MD5."""
    part = 5 * 1024 * 1024
    body = data_of(2 * part + 7, 3)
    done = complete_upload(s3, bucket, "mp", body, part, ContentType="video/x-test", ChecksumAlgorithm="CRC32")
    assert done["ETag"].endswith('-3"')
    r = copy_raw(coffer_server.port, bucket, "mp-copy", "/%s/mp" % bucket)
    assert r.status == 200
    assert "<ETag>&quot;%s&quot;</ETag>" % md5_hex(body) in r.body.decode()
    # the composite checksum becomes the whole object's
    assert "<ChecksumCRC32>%s</ChecksumCRC32>" % checksum("CRC32", body) in r.body.decode()
    assert "<ChecksumType>FULL_OBJECT</ChecksumType>" in r.body.decode()
    head = s3.head_object(Bucket=bucket, Key="mp-copy", ChecksumMode="ENABLED")
    assert head["ETag"] == '"%s"' % md5_hex(body)
    assert head["ContentType"] == "video/x-test"
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc32"] == checksum("CRC32", body)
    assert "PartsCount" not in head
    assert s3.get_object(Bucket=bucket, Key="mp-copy")["Body"].read() == body
    e = client_error(s3.head_object, Bucket=bucket, Key="mp-copy", PartNumber=2)
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 416


def test_copy_with_checksum_algorithm(s3, coffer_server, bucket):
    body = data_of(100000, 6)
    s3.put_object(Bucket=bucket, Key="plain", Body=body)
    for alg in ("SHA256", "CRC32C", "CRC64NVME"):
        r = copy_raw(coffer_server.port, bucket, "with-" + alg, "/%s/plain" % bucket, {"x-amz-checksum-algorithm": alg})
        assert r.status == 200, r.body
        assert "<Checksum%s>%s</Checksum%s>" % (alg, checksum(alg, body), alg) in r.body.decode()
        head = s3.head_object(Bucket=bucket, Key="with-" + alg, ChecksumMode="ENABLED")
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-%s" % alg.lower()] == checksum(alg, body)
        assert head["ETag"] == '"%s"' % md5_hex(body)
    r = copy_raw(coffer_server.port, bucket, "bad", "/%s/plain" % bucket, {"x-amz-checksum-algorithm": "MD4"})
    assert_xml_error(r, "InvalidRequest", 400)


def test_copy_keeps_checksum(s3, coffer_server, bucket):
    body = b"checksummed body" * 100
    s3.put_object(Bucket=bucket, Key="ck", Body=body, ChecksumAlgorithm="CRC32")
    r = copy_raw(coffer_server.port, bucket, "ck-copy", "/%s/ck" % bucket)
    assert r.status == 200
    assert "<ChecksumCRC32>%s</ChecksumCRC32>" % checksum("CRC32", body) in r.body.decode()
    head = s3.head_object(Bucket=bucket, Key="ck-copy", ChecksumMode="ENABLED")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc32"] == checksum("CRC32", body)


def test_copy_while_source_is_overwritten(s3, bucket):
    """Every copy holds one whole version of the source, never a mix, while the source keeps changing."""
    bodies = [data_of(9 * 1024 * 1024, 10 + i) for i in range(3)]  # two 8 MiB chunks each: a mix would show
    md5s = [md5_hex(b) for b in bodies]
    s3.put_object(Bucket=bucket, Key="hot", Body=bodies[0])
    stop = threading.Event()
    done = []      # (monotonic time, version written) per acknowledged overwrite
    failures = []  # exceptions raised in the writer thread

    def writer():
        try:
            for n in range(1, 400):  # every overwrite changes the bytes; bounded, stopped when the copies are done
                if stop.is_set():
                    return
                s3.put_object(Bucket=bucket, Key="hot", Body=bodies[n % 3])
                done.append((time.monotonic(), n % 3))
        except Exception as e:  # reported by the main thread
            failures.append(e)

    t = threading.Thread(target=writer)
    t.start()
    try:
        started = time.monotonic()
        for i in range(12):
            seen = len(done)
            s3.copy_object(Bucket=bucket, Key="cold%d" % i, CopySource={"Bucket": bucket, "Key": "hot"})
            # the next copy waits for one more overwrite, so the copies span several versions while the
            # writer keeps the source changing under them
            assert wait_for(lambda: len(done) > seen or failures, timeout=60), "no overwrite acknowledged in 60 s"
            assert not failures, failures
        ended = time.monotonic()
    finally:
        stop.set()
        t.join(timeout=120)
    assert not t.is_alive(), "the writer did not stop within 120 s"
    assert not failures, failures
    assert any(started < when < ended for when, _ in done), "no overwrite completed while the copies ran"
    got = []
    for i in range(12):
        body = s3.get_object(Bucket=bucket, Key="cold%d" % i)["Body"].read()
        assert md5_hex(body) in md5s, (i, len(body))
        got.append(md5s.index(md5_hex(body)))
    assert len(set(got)) >= 2, "every copy holds the same version: %r" % got


def test_aws_cli_copies(cli, s3, bucket, tmp_path):
    body = data_of(100000, 4)
    s3.put_object(Bucket=bucket, Key="dir/a.bin", Body=body, ContentType="application/x-a")
    s3.put_object(Bucket=bucket, Key="dir/b.bin", Body=body[:10])
    cli.aws("s3", "cp", "s3://%s/dir/a.bin" % bucket, "s3://%s/copy/a.bin" % bucket)
    assert s3.get_object(Bucket=bucket, Key="copy/a.bin")["Body"].read() == body
    cli.aws("s3", "mv", "s3://%s/dir/b.bin" % bucket, "s3://%s/moved/b.bin" % bucket)
    assert s3.get_object(Bucket=bucket, Key="moved/b.bin")["Body"].read() == body[:10]
    assert client_error(s3.head_object, Bucket=bucket, Key="dir/b.bin")["Error"]["Code"] == "404"
    cli.aws("s3", "sync", "s3://%s/dir/" % bucket, "s3://%s/synced/" % bucket)
    cli.s3cmd("cp", "s3://%s/dir/a.bin" % bucket, "s3://%s/s3cmd/a.bin" % bucket)
    assert s3.get_object(Bucket=bucket, Key="s3cmd/a.bin")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="synced/a.bin")["Body"].read() == body


def test_rclone_server_side_copy(coffer_server, s3, bucket, tmp_path):
    require_tool(RCLONE_BIN)
    body = data_of(300000, 5)
    s3.put_object(Bucket=bucket, Key="r/a", Body=body)
    env = rclone_env(tmp_path, coffer_server.port)
    log = AccessLog(coffer_server)
    offset = log.mark()
    out = run_rclone(env, "copyto", "coffer:%s/r/a" % bucket, "coffer:%s/r/b" % bucket, "-vv")
    assert out.returncode == 0, out.err[-4000:]
    # the server did the copy: one CopyObject onto r/b, and the bytes never went through rclone
    entries = log.since(offset, bucket)
    copies = [(e.method, e.key, e.status) for e in entries if e.op == "CopyObject"]
    assert copies == [("PUT", "r/b", 200)], entries
    assert not [e for e in entries if e.op in ("GetObject", "PutObject", "CreateMultipartUpload", "UploadPart")], \
        entries
    assert s3.get_object(Bucket=bucket, Key="r/b")["Body"].read() == body
