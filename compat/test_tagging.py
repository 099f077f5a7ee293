"""Object and bucket tagging: Get/Put/DeleteObjectTagging, x-amz-tagging on uploads, x-amz-tagging-count,
Get/Put/DeleteBucketTagging, AWS's limits and error codes.

AWS's answers used here: more tags than allowed is 400 BadRequest ("Object tags cannot be greater
than 10", "Bucket tag count cannot be greater than 50"); a bad key or value, a repeated key or the
reserved aws: prefix in a document is 400 InvalidTag; in the x-amz-tagging header a repeated or empty
key, a bad escape or bytes that are not UTF-8 is 400 InvalidArgument; lengths count characters.
"""

import json
import urllib.parse
import xml.etree.ElementTree as ET

import requests

from s3compat import (
    MiB, S3_NS, assert_absent, assert_error, assert_xml_error, checksum, client_error, content_md5, raw_request,
    tags_of,
)


def tag_set(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def headers_of(resp):
    return resp["ResponseMetadata"]["HTTPHeaders"]


def tagging_doc(pairs):
    tags = "".join("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % (k, v) for k, v in pairs)
    return ('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>%s</TagSet></Tagging>' % tags).encode()


def put_tagging_raw(port, bucket, key, body, headers=None):
    hdrs = {"Content-MD5": content_md5(body)} if headers is None else headers
    path = "/%s/%s" % (bucket, key) if key else "/%s" % bucket
    return raw_request(port, "PUT", path, query={"tagging": ""}, headers=hdrs, body=body)


# ------------------------------------------------------------------ object tags


def test_object_tagging_round_trip(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    assert tags_of(s3, bucket, "k") == []
    assert "x-amz-tagging-count" not in headers_of(s3.head_object(Bucket=bucket, Key="k"))

    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("b", "2"), ("a", "1"), ("empty", "")]))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "k") == [("b", "2"), ("a", "1"), ("empty", "")]
    for op in (s3.head_object, s3.get_object):
        h = headers_of(op(Bucket=bucket, Key="k"))
        assert h["x-amz-tagging-count"] == "3"
        assert "x-amz-tagging" not in h  # the tags themselves only come from GetObjectTagging

    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("only", "one")]))
    assert tags_of(s3, bucket, "k") == [("only", "one")]
    assert headers_of(s3.get_object(Bucket=bucket, Key="k"))["x-amz-tagging-count"] == "1"

    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == []
    assert "x-amz-tagging-count" not in headers_of(s3.get_object(Bucket=bucket, Key="k"))
    assert s3.delete_object_tagging(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204

    # an empty TagSet removes the tags too
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("a", "1")]))
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([]))
    assert tags_of(s3, bucket, "k") == []
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"hello"


def test_get_object_tagging_document(coffer_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b%20c=x%2By")
    raw = raw_request(coffer_server.port, "GET", "/%s/k" % bucket, query={"tagging": ""})
    assert raw.status == 200
    assert raw.headers["content-type"] == "application/xml"
    root = ET.fromstring(raw.body)
    assert root.tag == S3_NS + "Tagging"
    pairs = [(t.findtext(S3_NS + "Key"), t.findtext(S3_NS + "Value")) for t in root.iter(S3_NS + "Tag")]
    assert pairs == [("a", "1"), ("b c", "x+y")]
    s3.put_object(Bucket=bucket, Key="none", Body=b"x")
    raw = raw_request(coffer_server.port, "GET", "/%s/none" % bucket, query={"tagging": ""})
    root = ET.fromstring(raw.body)
    assert root.find(S3_NS + "TagSet") is not None and len(root.find(S3_NS + "TagSet")) == 0


def test_put_object_tagging_keeps_data_etag_and_metadata(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"payload", ContentType="text/plain", Metadata={"color": "blue"},
                  CacheControl="no-cache")
    before = s3.head_object(Bucket=bucket, Key="k")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("a", "1")]))
    after = s3.head_object(Bucket=bucket, Key="k")
    for field in ("ETag", "LastModified", "ContentType", "ContentLength", "Metadata", "CacheControl"):
        assert after[field] == before[field], field
    s3.delete_object_tagging(Bucket=bucket, Key="k")
    again = s3.head_object(Bucket=bucket, Key="k")
    assert (again["ETag"], again["LastModified"], again["Metadata"]) == (before["ETag"], before["LastModified"],
                                                                         before["Metadata"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"


def test_tagging_header_on_put_object(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b=2")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(s3, bucket, "k") == [("a", "1"), ("b", "2")]
    assert headers_of(s3.head_object(Bucket=bucket, Key="k"))["x-amz-tagging-count"] == "2"

    # URL query encoding: '+' and %20 are spaces, UTF-8 escapes, '=' inside a value, a key without '='
    s3.put_object(Bucket=bucket, Key="u", Body=b"x", Tagging="a%20b=c%2Bd&e+f=g=h&%C3%BC=%E6%96%87&flag")
    assert tags_of(s3, bucket, "u") == [("a b", "c+d"), ("e f", "g=h"), ("ü", "文"), ("flag", "")]
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", Tagging=urllib.parse.urlencode({"proj ect": "x/y:z@w"}))
    assert tags_of(s3, bucket, "enc") == [("proj ect", "x/y:z@w")]

    # an empty header names no tags
    s3.put_object(Bucket=bucket, Key="e", Body=b"x", Tagging="")
    assert tags_of(s3, bucket, "e") == []
    assert "x-amz-tagging-count" not in headers_of(s3.head_object(Bucket=bucket, Key="e"))


def test_overwrite_without_tagging_drops_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v1", Tagging="a=1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    assert tags_of(s3, bucket, "k") == []
    s3.put_object(Bucket=bucket, Key="k", Body=b"v3", Tagging="b=2")
    assert tags_of(s3, bucket, "k") == [("b", "2")]


def test_tagging_header_on_multipart_upload(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="project=coffer&tier=cold",
                                    ContentType="text/plain")
    parts = []
    for n, data in ((1, b"a" * (5 * MiB)), (2, b"tail")):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=data)
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    assert tags_of(s3, bucket, "mp") == [("project", "coffer"), ("tier", "cold")]
    head = s3.head_object(Bucket=bucket, Key="mp")
    assert headers_of(head)["x-amz-tagging-count"] == "2"
    assert head["ContentType"] == "text/plain"

    e = client_error(s3.create_multipart_upload, Bucket=bucket, Key="bad", Tagging="a=1&a=2")
    assert_error(e, "InvalidArgument", 400)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_tagging_header_refused(s3, bucket):
    eleven = "&".join("k%d=v" % i for i in range(11))
    ten = "&".join("k%d=v" % i for i in range(10))
    cases = [
        ("a=1&a=2", "InvalidArgument"),
        ("=1", "InvalidArgument"),
        ("a=%FF", "InvalidArgument"),
        ("a=%zz", "InvalidArgument"),
        (eleven, "BadRequest"),
        ("a,b=1", "InvalidTag"),
        ("aws:cost=1", "InvalidTag"),
        ("k=" + "v" * 257, "InvalidTag"),
        ("k" * 129 + "=v", "InvalidTag"),
    ]
    for value, code in cases:
        e = client_error(s3.put_object, Bucket=bucket, Key="new", Body=b"x", Tagging=value)
        assert_error(e, code, 400)
        assert_absent(s3, bucket, "new")
    e = client_error(s3.put_object, Bucket=bucket, Key="new", Body=b"x", Tagging="a=1&a=2")
    assert e["Error"]["Message"] == ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                                     "parameters without tag name duplicates.")
    e = client_error(s3.put_object, Bucket=bucket, Key="new", Body=b"x", Tagging=eleven)
    assert e["Error"]["Message"] == "Object tags cannot be greater than 10"
    s3.put_object(Bucket=bucket, Key="new", Body=b"x", Tagging=ten)
    assert len(tags_of(s3, bucket, "new")) == 10


def test_object_tag_limits(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")

    def refused(pairs, code, message):
        e = client_error(s3.put_object_tagging, Bucket=bucket, Key="k", Tagging=tag_set(pairs))
        assert_error(e, code, 400)
        assert e["Error"]["Message"] == message
        assert tags_of(s3, bucket, "k") == [("keep", "me")]

    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("keep", "me")]))
    refused([("k%d" % i, "v") for i in range(11)], "BadRequest", "Object tags cannot be greater than 10")
    refused([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid")
    refused([("k", "v" * 257)], "InvalidTag", "The TagValue you have provided is invalid")
    refused([("dup", "1"), ("dup", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key")
    refused([("aws:createdBy", "me")], "InvalidTag", "Your TagKey cannot be prefixed with aws:")
    refused([("a,b", "v")], "InvalidTag", "The TagKey you have provided is invalid")
    refused([("k", "a?b")], "InvalidTag", "The TagValue you have provided is invalid")
    refused([("k", "😀")], "InvalidTag", "The TagValue you have provided is invalid")
    # characters, not bytes: 128 three-byte characters are a valid key, 129 are not
    refused([("文" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid")
    refused([("k", "ü" * 257)], "InvalidTag", "The TagValue you have provided is invalid")

    limits = [("k" * 128, "v" * 256), ("文" * 128, "ü" * 256), ("Ünïcödé", "值 with spaces"), ("a+-=._:/@", "")]
    limits += [("k%d" % i, "v") for i in range(10 - len(limits))]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(limits))
    assert tags_of(s3, bucket, "k") == limits
    assert headers_of(s3.head_object(Bucket=bucket, Key="k"))["x-amz-tagging-count"] == "10"


def test_object_tagging_documents_refused(coffer_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    port = coffer_server.port
    malformed = [
        b"<Tagging><TagSet>",
        b"not xml at all",
        b"<Tagging></Tagging>",
        b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>",
        b"<Tags><TagSet></TagSet></Tags>",
        b"<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>",
        b'<!DOCTYPE Tagging [<!ENTITY e "x">]><Tagging><TagSet><Tag><Key>&e;</Key><Value/></Tag></TagSet></Tagging>',
    ]
    for body in malformed:
        assert_xml_error(put_tagging_raw(port, bucket, "k", body), "MalformedXML", 400)
    assert_xml_error(put_tagging_raw(port, bucket, "k", tagging_doc([("", "v")])), "InvalidTag", 400)
    assert_xml_error(put_tagging_raw(port, bucket, "k", b"", headers={}), "MissingRequestBodyError", 400)
    body = tagging_doc([("a", "1")])
    assert_xml_error(put_tagging_raw(port, bucket, "k", body, {"Content-MD5": content_md5(b"other")}), "BadDigest", 400)
    assert_xml_error(put_tagging_raw(port, bucket, "k", body, {"Content-MD5": "nope"}), "InvalidDigest", 400)
    # the SDKs' alternative to Content-MD5: a flexible checksum of the document
    crc = {"x-amz-checksum-crc32": checksum("CRC32", b"other")}
    assert_xml_error(put_tagging_raw(port, bucket, "k", body, crc), "BadDigest", 400)
    assert tags_of(s3, bucket, "k") == [("keep", "me")]
    crc = {"x-amz-checksum-crc32": checksum("CRC32", body), "x-amz-sdk-checksum-algorithm": "CRC32"}
    assert put_tagging_raw(port, bucket, "k", body, crc).status == 200
    assert tags_of(s3, bucket, "k") == [("a", "1")]  # the CRC32 alone carried the document
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set([("keep", "me")]))
    # Content-MD5 is checked when sent, not required
    assert put_tagging_raw(port, bucket, "k", body, headers={}).status == 200
    assert tags_of(s3, bucket, "k") == [("a", "1")]


def test_object_tagging_missing_key_and_bucket(s3, bucket):
    for op, kw in ((s3.get_object_tagging, {}), (s3.delete_object_tagging, {}),
                   (s3.put_object_tagging, {"Tagging": tag_set([("a", "1")])})):
        assert_error(client_error(op, Bucket=bucket, Key="missing", **kw), "NoSuchKey", 404)
        assert_error(client_error(op, Bucket=bucket + "-none", Key="k", **kw), "NoSuchBucket", 404)
    assert_absent(s3, bucket, "missing")


def test_post_object_tagging_field(s3, bucket):
    doc = tagging_doc([("from", "form"), ("n", "2")]).decode()
    post = s3.generate_presigned_post(bucket, "posted", Fields={"tagging": doc}, Conditions=[{"tagging": doc}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"form data")}, timeout=60)
    assert r.status_code == 204, r.text
    assert tags_of(s3, bucket, "posted") == [("from", "form"), ("n", "2")]
    assert headers_of(s3.head_object(Bucket=bucket, Key="posted"))["x-amz-tagging-count"] == "2"

    bad = tagging_doc([("a", "1"), ("a", "2")]).decode()
    post = s3.generate_presigned_post(bucket, "refused", Fields={"tagging": bad}, Conditions=[{"tagging": bad}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f.txt", b"x")}, timeout=60)
    assert r.status_code == 400
    assert ET.fromstring(r.content).findtext("Code") == "InvalidTag"
    assert_absent(s3, bucket, "refused")


def test_awscli_object_tagging(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x")
    cli.aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "cli",
            "--tagging", json.dumps(tag_set([("team", "storage"), ("env", "test")])))
    out = json.loads(cli.aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "cli").out)
    assert out["TagSet"] == [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "test"}]
    p = cli.aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "cli", "--tagging",
                json.dumps(tag_set([("k%d" % i, "v") for i in range(11)])), check=False)
    assert p.returncode != 0 and "BadRequest" in p.err


# ------------------------------------------------------------------ bucket tags


def test_bucket_tagging_round_trip(s3, bucket):
    assert_error(client_error(s3.get_bucket_tagging, Bucket=bucket), "NoSuchTagSet", 404)
    r = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("team", "storage"), ("cost-center", "42")]))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket=bucket)
    assert [(t["Key"], t["Value"]) for t in got["TagSet"]] == [("team", "storage"), ("cost-center", "42")]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("other", "")]))
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "other", "Value": ""}]
    # bucket tags are not object tags
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert tags_of(s3, bucket, "k") == []

    r = s3.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.get_bucket_tagging, Bucket=bucket), "NoSuchTagSet", 404)
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bucket_tag_limits(s3, bucket):
    fifty = [("k%02d" % i, "v%d" % i) for i in range(50)]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(fifty))
    assert [(t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]] == fifty

    def refused(pairs, code, message):
        e = client_error(s3.put_bucket_tagging, Bucket=bucket, Tagging=tag_set(pairs))
        assert_error(e, code, 400)
        assert e["Error"]["Message"] == message
        assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50

    refused(fifty + [("k50", "v")], "BadRequest", "Bucket tag count cannot be greater than 50")
    refused([("aws:x", "v")], "InvalidTag", "System tags cannot be added/updated by requester")
    refused([("d", "1"), ("d", "2")], "InvalidTag", "Cannot provide multiple Tags with the same key")
    refused([("k" * 129, "v")], "InvalidTag", "The TagKey you have provided is invalid")


def test_bucket_tagging_missing_bucket(s3, bucket_name):
    for op, kw in ((s3.get_bucket_tagging, {}), (s3.delete_bucket_tagging, {}),
                   (s3.put_bucket_tagging, {"Tagging": tag_set([("a", "1")])})):
        assert_error(client_error(op, Bucket=bucket_name, **kw), "NoSuchBucket", 404)


def test_bucket_tagging_malformed(coffer_server, s3, bucket):
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("keep", "me")]))
    port = coffer_server.port
    assert_xml_error(put_tagging_raw(port, bucket, None, b"<Tagging>"), "MalformedXML", 400)
    assert_xml_error(put_tagging_raw(port, bucket, None, b"", headers={}), "MissingRequestBodyError", 400)
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_bucket_tags_gone_with_the_bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_bucket_tagging(Bucket=bucket_name, Tagging=tag_set([("a", "1")]))
    s3.delete_bucket(Bucket=bucket_name)
    s3.create_bucket(Bucket=bucket_name)
    try:
        assert_error(client_error(s3.get_bucket_tagging, Bucket=bucket_name), "NoSuchTagSet", 404)
    finally:
        s3.delete_bucket(Bucket=bucket_name)


def test_put_bucket_tagging_requires_an_integrity_header(coffer_server, s3, bucket):
    """Unlike PutObjectTagging, PutBucketTagging needs Content-MD5 or an x-amz-checksum-* header."""
    from s3compat import send_raw, signed_headers

    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set([("keep", "me")]))
    port = coffer_server.port
    host, target = "127.0.0.1:%d" % port, "/%s?tagging=" % bucket
    body = tagging_doc([("a", "1")])
    r = send_raw(port, "PUT", target, signed_headers("PUT", host, target, body), body)
    assert_xml_error(r, "InvalidRequest", 400)
    assert r.xml().findtext("Message") == "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "keep", "Value": "me"}]
    crc = {"x-amz-checksum-crc32": checksum("CRC32", body)}
    assert send_raw(port, "PUT", target, signed_headers("PUT", host, target, body, crc), body).status == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "a", "Value": "1"}]
