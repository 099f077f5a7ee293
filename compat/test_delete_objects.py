"""DeleteObjects (POST /bucket?delete) against a live coffer: boto3, raw signed requests, s3cmd, aws-cli, rclone.

Expected behaviour follows the AWS S3 API Reference: every key is answered on its own
(<Deleted>, also for a key that held nothing, or <Error>) in a 200; the body needs
Content-MD5 or an x-amz-checksum-* header; 1..1000 keys.
"""

import base64
import json
import os
import zlib
from xml.sax.saxutils import escape

import pytest

from s3compat import (
    RCLONE_BIN, S3_NS, AccessLog, all_keys, assert_absent, assert_error, assert_xml_error, checksum, client_error,
    content_md5, put_keys, raw_request, rclone_env, require_tool, run_rclone, s3_url, unique_bucket_name,
)


def delete_body(keys, quiet=None, version_ids=None):
    """A Delete document as botocore writes it (with the namespace)."""
    parts = ['<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">']
    if quiet is not None:
        parts.append("<Quiet>%s</Quiet>" % ("true" if quiet else "false"))
    for i, k in enumerate(keys):
        v = (version_ids or {}).get(i)
        parts.append("<Object><Key>%s</Key>%s</Object>" % (escape(k), "<VersionId>%s</VersionId>" % v if v else ""))
    parts.append("</Delete>")
    return "".join(parts).encode("utf-8")


def post_delete(port, bucket, body, headers=None, query=None, md5=True):
    """A raw signed DeleteObjects; Content-MD5 of the body is added unless md5 is False."""
    hdrs = dict(headers or {})
    if md5:
        hdrs.setdefault("Content-MD5", content_md5(body))
    return raw_request(port, "POST", "/" + bucket, query=[("delete", "")] + list(query or []), headers=hdrs, body=body)


def result_of(raw):
    """(deleted keys, errors as (key, code) pairs, the root) of a DeleteResult answer."""
    assert raw.status == 200, raw
    root = raw.xml()
    assert root.tag == S3_NS + "DeleteResult", raw
    deleted = [d.findtext(S3_NS + "Key") for d in root.findall(S3_NS + "Deleted")]
    errors = [(e.findtext(S3_NS + "Key"), e.findtext(S3_NS + "Code")) for e in root.findall(S3_NS + "Error")]
    return deleted, errors, root


# ---------------------------------------------------------------- boto3


def test_verbose_lists_every_key_and_deletes_only_those(s3, bucket):
    put_keys(s3, bucket, ["a", "b", "dir/c", "keep"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "dir/c"}, {"Key": "never-was"}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "dir/c", "never-was"]  # a missing key counts as deleted
    assert "Errors" not in r
    assert sorted(all_keys(s3, bucket)) == ["b", "keep"]
    for k in ("a", "dir/c"):
        assert_absent(s3, bucket, k)
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"


def test_quiet_lists_nothing_on_success(s3, bucket):
    put_keys(s3, bucket, ["q1", "q2", "keep"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "q1"}, {"Key": "q2"}, {"Key": "nope"}], "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Deleted" not in r and "Errors" not in r
    assert all_keys(s3, bucket) == ["keep"]
    # Quiet false is the verbose mode
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}], "Quiet": False})
    assert [d["Key"] for d in r["Deleted"]] == ["keep"]
    assert all_keys(s3, bucket) == []


def test_thousand_keys_in_one_request(s3, bucket):
    keys = ["k/%04d" % i for i in range(1000)]
    put_keys(s3, bucket, keys + ["other"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == keys
    assert "Errors" not in r
    assert all_keys(s3, bucket) == ["other"]


def test_more_than_thousand_keys_is_malformed_and_deletes_nothing(s3, bucket):
    put_keys(s3, bucket, ["a", "b"])
    objects = [{"Key": "a"}, {"Key": "b"}] + [{"Key": "x%04d" % i} for i in range(999)]
    assert len(objects) == 1001
    e = client_error(s3.delete_objects, Bucket=bucket, Delete={"Objects": objects})
    assert_error(e, "MalformedXML", 400)
    assert sorted(all_keys(s3, bucket)) == ["a", "b"]


def test_no_such_bucket(s3):
    e = client_error(s3.delete_objects, Bucket=unique_bucket_name("missing"), Delete={"Objects": [{"Key": "a"}]})
    assert_error(e, "NoSuchBucket", 404)


SPECIAL_KEYS = [
    "sp ace", " leading and trailing ", "a+b=c&d", "<tag>&amp;\"'", "per%cent/%2F", "dots/./../x", "double//slash",
    "\u00fc\u00f1\u00ee/\u65e5\u672c\u8a9e/\U0001F600", "tab\there", "q?x=1#frag", "~tilde!*()$,;:@",
]


def test_special_and_unicode_keys(s3, bucket):
    put_keys(s3, bucket, SPECIAL_KEYS + ["keep me"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in SPECIAL_KEYS]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(SPECIAL_KEYS)
    assert "Errors" not in r
    assert all_keys(s3, bucket) == ["keep me"]


def test_version_ids(s3, bucket):
    put_keys(s3, bucket, ["v1", "v2"])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "v1", "VersionId": "null"},
                                                              {"Key": "v2", "VersionId": "3HL4kqtJlcpXroDTDmJ"}]})
    assert r["Deleted"] == [{"Key": "v1", "VersionId": "null"}]
    assert r["Errors"] == [{"Key": "v2", "VersionId": "3HL4kqtJlcpXroDTDmJ", "Code": "NoSuchVersion",
                            "Message": "The specified version does not exist."}]
    assert all_keys(s3, bucket) == ["v2"]


def test_key_too_long_is_a_per_key_error(s3, bucket):
    put_keys(s3, bucket, ["short"])
    long_key, max_key = "L" * 1025, "M" * 1024
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": long_key}, {"Key": "short"}, {"Key": max_key}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(["short", max_key])
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [(long_key, "KeyTooLongError")]
    assert all_keys(s3, bucket) == []


# ---------------------------------------------------------------- raw requests: body and integrity


def test_raw_response_shape_and_order(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["x", "y"])
    body = delete_body(["x", "gone", "y" * 1025, "y"], version_ids={1: "null"})
    deleted, errors, root = result_of(post_delete(coffer_server.port, bucket, body))
    assert deleted == ["x", "gone", "y"]
    assert errors == [("y" * 1025, "KeyTooLongError")]
    assert [c.tag for c in root] == [S3_NS + t for t in ("Deleted", "Deleted", "Error", "Deleted")]  # in request order
    gone = root.findall(S3_NS + "Deleted")[1]
    assert [c.tag for c in gone] == [S3_NS + "Key", S3_NS + "VersionId"] and gone.findtext(S3_NS + "VersionId") == "null"
    err = root.find(S3_NS + "Error")
    assert [c.tag for c in err] == [S3_NS + t for t in ("Key", "Code", "Message")]
    assert all_keys(s3, bucket) == []


def test_namespace_is_optional(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["n"])
    body = b"<?xml version='1.0' encoding='UTF-8'?>\n<Delete>\n  <Object>\n    <Key>n</Key>\n  </Object>\n</Delete>\n"
    deleted, errors, _ = result_of(post_delete(coffer_server.port, bucket, body))
    assert (deleted, errors) == (["n"], [])
    assert all_keys(s3, bucket) == []


@pytest.mark.parametrize("body", [
    b"",
    b"not xml",
    b"<Delete><Object><Key>a</Key></Object>",                               # truncated
    b"<Delete></Delete>",                                                    # no Object
    b"<Delete><Quiet>true</Quiet></Delete>",
    b"<Delete><Object><VersionId>null</VersionId></Object></Delete>",        # an Object without a Key
    b"<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
    b"<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>",
    b"<Remove><Object><Key>a</Key></Object></Remove>",
    b"<!DOCTYPE Delete [<!ENTITY x \"a\">]><Delete><Object><Key>&x;</Key></Object></Delete>",
], ids=["empty", "text", "truncated", "no-object", "only-quiet", "no-key", "two-keys", "bad-quiet", "wrong-root", "dtd"])
def test_malformed_bodies(coffer_server, s3, bucket, body):
    put_keys(s3, bucket, ["a"])
    r = post_delete(coffer_server.port, bucket, body)
    assert_xml_error(r, "MalformedXML", 400)
    assert all_keys(s3, bucket) == ["a"]


def test_empty_key_refuses_the_request(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["a"])
    r = post_delete(coffer_server.port, bucket, delete_body(["a", ""]))
    assert_xml_error(r, "UserKeyMustBeSpecified", 400)
    assert all_keys(s3, bucket) == ["a"]  # nothing deleted, not even the valid key before it


def test_integrity_header_is_required(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["a"])
    r = post_delete(coffer_server.port, bucket, delete_body(["a"]), md5=False)
    assert_xml_error(r, "InvalidRequest", 400)
    # AWS's text since the flexible checksums: either integrity header would do
    assert r.xml().findtext("Message") == "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
    assert all_keys(s3, bucket) == ["a"]


def test_content_md5_is_verified(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["a"])
    body = delete_body(["a"])
    r = post_delete(coffer_server.port, bucket, body, headers={"Content-MD5": content_md5(body + b" ")})
    assert_xml_error(r, "BadDigest", 400)
    r = post_delete(coffer_server.port, bucket, body, headers={"Content-MD5": "not base64 of 16 bytes"})
    assert_xml_error(r, "InvalidDigest", 400)
    assert all_keys(s3, bucket) == ["a"]
    deleted, _, _ = result_of(post_delete(coffer_server.port, bucket, body))
    assert deleted == ["a"] and all_keys(s3, bucket) == []


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_flexible_checksum_instead_of_md5(coffer_server, s3, bucket, algorithm):
    """Modern SDKs send x-amz-checksum-<alg> (with x-amz-sdk-checksum-algorithm) and no Content-MD5."""
    port = coffer_server.port
    put_keys(s3, bucket, ["a", "b"])
    name = "x-amz-checksum-" + algorithm.lower()
    body = delete_body(["a"])
    wrong = checksum(algorithm, body + b"x")
    r = post_delete(port, bucket, body, md5=False, headers={name: wrong, "x-amz-sdk-checksum-algorithm": algorithm})
    assert_xml_error(r, "BadDigest", 400)
    assert sorted(all_keys(s3, bucket)) == ["a", "b"]
    r = post_delete(port, bucket, body, md5=False, headers={name: checksum(algorithm, body),
                                                            "x-amz-sdk-checksum-algorithm": algorithm})
    assert result_of(r)[:2] == (["a"], [])
    # the header alone is enough, and it may come with a Content-MD5
    body = delete_body(["b"])
    r = post_delete(port, bucket, body, headers={name: checksum(algorithm, body)})
    assert result_of(r)[:2] == (["b"], [])
    assert all_keys(s3, bucket) == []


def test_bad_checksum_headers(coffer_server, s3, bucket):
    port = coffer_server.port
    put_keys(s3, bucket, ["a"])
    body = delete_body(["a"])
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    cases = [
        ({"x-amz-checksum-crc32": "!!"}, "InvalidRequest"),                             # not a CRC32 in base64
        ({"x-amz-sdk-checksum-algorithm": "CRC32"}, "InvalidRequest"),                  # announced, not sent
        ({"x-amz-checksum-crc32": crc, "x-amz-checksum-sha1": crc}, "InvalidRequest"),  # two checksums
    ]
    for headers, code in cases:
        assert_xml_error(post_delete(port, bucket, body, md5=False, headers=headers), code, 400)
    assert all_keys(s3, bucket) == ["a"]


def test_encoding_type_url(coffer_server, s3, bucket):
    keys = ["a b/c+d", "\u00fc/\u65e5", "x&y<z>"]
    put_keys(s3, bucket, keys)
    body = delete_body(keys + ["t\tab"], version_ids={3: "v1"})
    deleted, errors, _ = result_of(post_delete(coffer_server.port, bucket, body, query=[("encoding-type", "url")]))
    assert deleted == [s3_url(k) for k in keys]  # "a+b/c%2Bd", "%C3%BC/%E6%97%A5", "x%26y%3Cz%3E"
    assert errors == [(s3_url("t\tab"), "NoSuchVersion")]
    assert all_keys(s3, bucket) == []
    r = post_delete(coffer_server.port, bucket, delete_body(["a"]), query=[("encoding-type", "base64")])
    assert_xml_error(r, "InvalidArgument", 400)


def test_conditional_delete_entries_are_not_ignored(coffer_server, s3, bucket):
    """An <ETag> (or Size, LastModifiedTime) asks for a conditional delete: refused for that key, never ignored."""
    put_keys(s3, bucket, ["c", "d"])
    body = (b'<Delete><Object><Key>c</Key><ETag>"00000000000000000000000000000000"</ETag></Object>'
            b"<Object><Key>d</Key></Object></Delete>")
    deleted, errors, _ = result_of(post_delete(coffer_server.port, bucket, body))
    assert deleted == ["d"] and errors == [("c", "NotImplemented")]
    assert all_keys(s3, bucket) == ["c"]


def test_no_such_bucket_raw(coffer_server):
    r = post_delete(coffer_server.port, unique_bucket_name("missing"), delete_body(["a"]))
    assert_xml_error(r, "NoSuchBucket", 404)


def test_large_objects_are_freed(server_factory):
    """Deleting through DeleteObjects drops chunk files like DeleteObject does."""
    srv = server_factory()
    s3 = srv.client()
    s3.create_bucket(Bucket="big")
    for i in range(3):
        s3.put_object(Bucket="big", Key="big%d" % i, Body=os.urandom(300 * 1024))
    assert sum(srv.chunk_files()) == 3
    r = s3.delete_objects(Bucket="big", Delete={"Objects": [{"Key": "big%d" % i} for i in range(3)], "Quiet": True})
    assert "Errors" not in r
    assert sum(srv.chunk_files()) == 0
    assert all_keys(s3, "big") == []


# ---------------------------------------------------------------- real clients


def test_s3cmd_del_recursive(cli, coffer_server, s3, bucket):
    """s3cmd del --recursive deletes with DeleteObjects, 1000 keys a request."""
    doomed = ["logs/%04d.txt" % i for i in range(1100)] + ["logs/sp ace/\u00fc&<x>.txt"]
    kept = ["logs-other/x", "keep/logs/y", "top"]
    put_keys(s3, bucket, doomed + kept)
    log = AccessLog(coffer_server)
    offset = log.mark()
    p = cli.s3cmd("del", "--recursive", "s3://%s/logs/" % bucket)
    entries = log.since(offset, bucket)
    assert p.out.count("delete: ") == len(doomed), p.out[-2000:]
    # besides its listings (GET), two DeleteObjects: 1000 keys, then 101
    assert [(e.method, e.op, e.status) for e in entries if e.method != "GET"] == [("POST", "DeleteObjects", 200)] * 2, \
        entries
    assert sorted(all_keys(s3, bucket)) == sorted(kept)


def test_aws_s3api_delete_objects(cli, coffer_server, s3, bucket):
    put_keys(s3, bucket, ["one", "two", "three"])
    log = AccessLog(coffer_server)
    offset = log.mark()
    p = cli.aws("s3api", "delete-objects", "--bucket", bucket, "--delete",
                '{"Objects": [{"Key": "one"}, {"Key": "two"}, {"Key": "absent"}], "Quiet": false}')
    entries = log.since(offset, bucket)
    assert [(e.method, e.op, e.status) for e in entries] == [("POST", "DeleteObjects", 200)], entries
    assert sorted(d["Key"] for d in json.loads(p.out)["Deleted"]) == ["absent", "one", "two"]
    assert all_keys(s3, bucket) == ["three"]


def deletes_by_key(entries):
    """What the access log shows of the deletes: (DeleteObject keys, number of DeleteObjects requests)."""
    singles = sorted(e.key for e in entries if e.op == "DeleteObject")
    assert all(e.status == 204 for e in entries if e.op == "DeleteObject"), entries
    return singles, sum(1 for e in entries if e.op == "DeleteObjects")


def test_aws_s3_rm_recursive(cli, coffer_server, s3, bucket):
    """aws s3 rm --recursive: the pinned aws-cli 2.9 deletes key by key with DeleteObject (never DeleteObjects)."""
    doomed = ["logs/%04d.txt" % i for i in range(150)] + ["logs/sp ace/\u00fc.txt"]
    kept = ["logs-other/x", "keep/logs/y", "top"]
    put_keys(s3, bucket, doomed + kept)
    log = AccessLog(coffer_server)
    offset = log.mark()
    p = cli.aws("s3", "rm", "--recursive", "s3://%s/logs/" % bucket)
    entries = log.since(offset, bucket)
    assert deletes_by_key(entries) == (sorted(doomed), 0), entries
    assert p.out.count("delete: ") == len(doomed), p.out[-2000:]
    assert sorted(all_keys(s3, bucket)) == sorted(kept)


def test_rclone_delete_and_purge(coffer_server, s3, bucket, tmp_path):
    """rclone delete and purge: the pinned rclone 1.60 deletes key by key with DeleteObject (never DeleteObjects)."""
    require_tool(RCLONE_BIN)
    env = rclone_env(tmp_path, coffer_server.port)
    in_a = ["a/%03d" % i for i in range(150)] + ["a/sub/x.log", "a/sub/y.txt"]
    put_keys(s3, bucket, in_a + ["b/keep"])
    log = AccessLog(coffer_server)

    offset = log.mark()
    p = run_rclone(env, "delete", "--include", "*.log", "coffer:%s/a" % bucket)
    assert p.returncode == 0, p.err[-4000:]
    entries = log.since(offset, bucket)
    assert deletes_by_key(entries) == (["a/sub/x.log"], 0), entries
    assert sorted(all_keys(s3, bucket)) == sorted([k for k in in_a if k != "a/sub/x.log"] + ["b/keep"])

    offset = log.mark()
    p = run_rclone(env, "purge", "coffer:%s/a" % bucket)
    assert p.returncode == 0, p.err[-4000:]
    entries = log.since(offset, bucket)
    assert deletes_by_key(entries) == (sorted(k for k in in_a if k != "a/sub/x.log"), 0), entries
    assert all_keys(s3, bucket) == ["b/keep"]
