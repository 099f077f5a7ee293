"""AWS Signature Version 2 against a live coffer: s3cmd --signature-v2, boto3 with
signature_version='s3', V2 presigned URLs, and hand-signed requests for the error paths.

The hand-signed requests go through botocore's own HmacV1Auth, so every signature here is
one a real client computes.
"""

import email.utils
import time
import urllib.parse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config

from s3compat import (
    ACCESS_KEY, DOMAIN, KiB, MiB, REGION, SECRET_KEY, CliRunner, assert_absent, assert_error, client_error, data_of,
    error_of, md5_hex, open_url, quote_key, request_target, send_raw, sha256, sha256_file, unique_bucket_name, write,
)


def v2_client(endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    """A boto3 client that signs with Signature Version 2 (HmacV1Auth), path style."""
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                    region_name=REGION)
    cfg = Config(signature_version="s3", s3={"addressing_style": "path"},
                 retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=120)
    return session.client("s3", endpoint_url=endpoint, config=cfg)


@pytest.fixture(scope="module")
def s3v2(coffer_server):
    return v2_client(coffer_server.endpoint)


def v2_request(port, method, path, query=None, headers=None, body=b"", host=None, secret_key=SECRET_KEY,
               access_key=ACCESS_KEY, auth_path=None, date=None, drop=(), wire_headers=None):
    """Sends one request signed by botocore's HmacV1Auth; returns a RawResponse.

    auth_path is the resource botocore signs for a virtual-host-style request ("/bucket/key");
    date overrides the Date header that is signed; drop names headers removed after signing and
    wire_headers are set after signing (both to tamper with the request).
    """
    host = host or "127.0.0.1:%d" % port
    target = request_target(path, query)
    req = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (host, target), data=body,
                                         headers=dict(headers or {}))
    req.auth_path = auth_path
    signer = botocore.auth.HmacV1Auth(botocore.credentials.Credentials(access_key, secret_key))
    if date is not None:
        signer._get_date = lambda: date
    signer.add_auth(req)
    hdrs = {k: v for k, v in req.headers.items() if k.lower() not in {d.lower() for d in drop}}
    hdrs.update(wire_headers or {})
    hdrs["Host"] = host
    return send_raw(port, method, target, hdrs, body)


def fetch(url, method="GET", data=None, headers=None):
    return open_url(url, method, data, headers)


# ---- s3cmd --signature-v2 ----

def test_s3cmd_signature_v2_round_trip(cli, s3, tmp_path):
    name = unique_bucket_name("s3cmd-v2")
    p = cli.s3cmd("--signature-v2", "-d", "mb", "s3://" + name)
    assert "Bucket 's3://%s/' created" % name in p.out, p.out
    assert "Using signature v2" in p.err and "Using signature v4" not in p.err, p.err[-3000:]
    try:
        files = {"small.txt": data_of(1000, seed=1), "dir/sp ace+\u00fc.bin": data_of(70 * KiB + 3, seed=2),
                 "empty": b""}
        for key, data in files.items():
            src = write(tmp_path / "src", data)
            cli.s3cmd("--signature-v2", "put", "--disable-multipart", src, "s3://%s/%s" % (name, key))
            assert s3.get_object(Bucket=name, Key=key)["Body"].read() == data, key

        out = cli.s3cmd("--signature-v2", "ls", "--recursive", "--list-md5", "s3://%s/" % name).out
        for key, data in files.items():
            line = [ln for ln in out.splitlines() if ln.endswith("s3://%s/%s" % (name, key))]
            assert line and md5_hex(data) in line[0].split(), (key, out)
        assert "s3://%s" % name in cli.s3cmd("--signature-v2", "ls").out.split()

        for i, (key, data) in enumerate(files.items()):
            dst = str(tmp_path / ("dst%d" % i))
            cli.s3cmd("--signature-v2", "get", "s3://%s/%s" % (name, key), dst)
            assert sha256_file(dst) == sha256(data), key

        for key in files:
            p = cli.s3cmd("--signature-v2", "del", "s3://%s/%s" % (name, key))
            assert "delete: 's3://%s/%s'" % (name, key) in p.out, p.out
        assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
    finally:
        p = cli.s3cmd("--signature-v2", "rb", "s3://" + name, check=False)
    assert "Bucket 's3://%s/' removed" % name in p.out, p.out + p.err
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_s3cmd_signature_v2_multipart(coffer_server, s3, bucket, tmp_path):
    """?uploads, ?partNumber=&uploadId= and ?uploadId= are signed sub-resources."""
    cli = CliRunner(str(tmp_path / "mp-home"), coffer_server.port)
    with open(cli.s3cmd_config) as f:
        config = f.read()
    with open(cli.s3cmd_config, "w") as f:  # the shared config turns multipart off; s3cmd has no flag to turn it on
        f.write(config.replace("enable_multipart = False", "enable_multipart = True"))
    data = data_of(12 * MiB + 17, seed=3)
    src = write(tmp_path / "big.bin", data)
    uri = "s3://%s/multi/big.bin" % bucket
    cli.s3cmd("--signature-v2", "put", "--multipart-chunk-size-mb=5", src, uri)
    head = s3.head_object(Bucket=bucket, Key="multi/big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"'), head["ETag"]
    dst = str(tmp_path / "back.bin")
    cli.s3cmd("--signature-v2", "get", uri, dst)
    assert sha256_file(dst) == sha256(data)


def test_s3cmd_signurl(cli, s3, bucket):
    """s3cmd signurl makes a V2 presigned URL (sign_url_v2)."""
    s3.put_object(Bucket=bucket, Key="signed/by s3cmd", Body=b"s3cmd url")
    url = cli.s3cmd("signurl", "s3://%s/signed/by s3cmd" % bucket, "+300").out.strip()
    assert "AWSAccessKeyId=" in url and "Signature=" in url, url
    status, _, body = fetch(url)
    assert status == 200 and body == b"s3cmd url"


def test_s3cmd_signature_v2_wrong_secret(coffer_server, tmp_path):
    wrong = CliRunner(str(tmp_path / "wrong"), coffer_server.port, secret_key=SECRET_KEY + "x")
    p = wrong.s3cmd("--signature-v2", "ls", check=False)
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.err, p.err


# ---- boto3 with signature_version='s3' ----

def test_boto3_v2_put_get_list_delete(s3v2, s3, bucket):
    schemes = []

    def record_scheme(request, **kwargs):
        value = request.headers["Authorization"]
        value = value.decode() if isinstance(value, bytes) else value
        schemes.append(value.split(" ", 1)[0])

    s3v2.meta.events.register("before-send.s3", record_scheme)
    body = data_of(200 * KiB + 1, seed=4)
    put = s3v2.put_object(Bucket=bucket, Key="v2/obj one.bin", Body=body, ContentType="application/x-v2",
                          Metadata={"Color": "violet", "shape": "round"})
    assert put["ETag"] == '"%s"' % md5_hex(body)
    s3v2.put_object(Bucket=bucket, Key="v2/second", Body=b"2")

    got = s3v2.get_object(Bucket=bucket, Key="v2/obj one.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-v2"
    assert got["Metadata"] == {"color": "violet", "shape": "round"}
    assert s3v2.get_object(Bucket=bucket, Key="v2/obj one.bin", Range="bytes=1-3")["Body"].read() == body[1:4]
    assert s3v2.head_object(Bucket=bucket, Key="v2/second")["ContentLength"] == 1

    listed = s3v2.list_objects(Bucket=bucket, Prefix="v2/")
    assert [o["Key"] for o in listed["Contents"]] == ["v2/obj one.bin", "v2/second"]
    # botocore 1.29 signs ListObjectsV2 as "/bucket?list-type=2" (its auth-path quirk)
    listed = s3v2.list_objects_v2(Bucket=bucket, Prefix="v2/", Delimiter="/")
    assert listed["KeyCount"] == 2
    assert [b["Name"] for b in s3v2.list_buckets()["Buckets"]].count(bucket) == 1

    s3v2.delete_object(Bucket=bucket, Key="v2/obj one.bin")
    s3v2.delete_object(Bucket=bucket, Key="v2/second")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    s3v2.meta.events.unregister("before-send.s3", record_scheme)
    assert len(schemes) == 10 and set(schemes) == {"AWS"}, schemes


def test_boto3_v2_bucket_and_multipart(s3v2, s3, bucket_name):
    s3v2.create_bucket(Bucket=bucket_name)
    try:
        assert s3v2.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
        s3v2.get_bucket_location(Bucket=bucket_name)  # "?location?location" (botocore quirk)
        up = s3v2.create_multipart_upload(Bucket=bucket_name, Key="mp", ContentType="text/plain")
        parts = []
        chunks = [data_of(5 * MiB, seed=5), b"tail"]
        for n, chunk in enumerate(chunks, 1):
            r = s3v2.upload_part(Bucket=bucket_name, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=chunk)
            parts.append({"ETag": r["ETag"], "PartNumber": n})
        assert len(s3v2.list_parts(Bucket=bucket_name, Key="mp", UploadId=up["UploadId"])["Parts"]) == 2
        s3v2.complete_multipart_upload(Bucket=bucket_name, Key="mp", UploadId=up["UploadId"],
                                       MultipartUpload={"Parts": parts})
        assert s3.get_object(Bucket=bucket_name, Key="mp")["Body"].read() == b"".join(chunks)
        s3v2.delete_object(Bucket=bucket_name, Key="mp")
    finally:
        s3v2.delete_bucket(Bucket=bucket_name)
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_boto3_v2_wrong_secret_and_unknown_key(coffer_server, bucket):
    bad = v2_client(coffer_server.endpoint, secret_key=SECRET_KEY + "x")
    assert_error(client_error(bad.get_object, Bucket=bucket, Key="x"), "SignatureDoesNotMatch", 403)
    assert_error(client_error(bad.put_object, Bucket=bucket, Key="x", Body=b"1"), "SignatureDoesNotMatch", 403)
    unknown = v2_client(coffer_server.endpoint, access_key="NOSUCHKEY0000000000")
    assert_error(client_error(unknown.list_objects, Bucket=bucket), "InvalidAccessKeyId", 403)


# ---- presigned URLs (query-string authentication) ----

def test_v2_presigned_get_and_put(s3v2, s3, bucket):
    data = data_of(100 * KiB + 7, seed=6)
    s3.put_object(Bucket=bucket, Key="pre/get me", Body=data)
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/get me"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url, url
    status, headers, body = fetch(url)
    assert status == 200 and body == data
    assert headers["etag"] == '"%s"' % md5_hex(data)
    status, _, body = fetch(url, method="HEAD")  # the method is signed
    assert status == 403

    url = s3v2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre/put"}, ExpiresIn=300)
    parts = urllib.parse.urlsplit(url)
    r = send_raw(parts.port, "PUT", parts.path + "?" + parts.query, {"Host": parts.netloc}, b"uploaded by url")
    assert r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key="pre/put")["Body"].read() == b"uploaded by url"


def test_v2_presigned_expired(s3v2, s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "old"}, ExpiresIn=1)
    time.sleep(2.1)
    status, _, body = fetch(url)
    assert status == 403
    assert error_of(body) == ("AccessDenied", "Request has expired")


def test_v2_presigned_wrong_secret_and_tampering(coffer_server, s3v2, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    bad = v2_client(coffer_server.endpoint, secret_key="not-the-secret")
    url = bad.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"}, ExpiresIn=300)
    status, _, body = fetch(url)
    assert status == 403 and error_of(body)[0] == "SignatureDoesNotMatch"

    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"}, ExpiresIn=300)
    assert fetch(url)[0] == 200
    status, _, body = fetch(url.replace("/%s/a?" % bucket, "/%s/b?" % bucket))
    assert status == 403 and error_of(body)[0] == "SignatureDoesNotMatch"
    later = url.replace("Expires=", "Expires=1")  # a longer validity is not what was signed
    status, _, body = fetch(later)
    assert status == 403 and error_of(body)[0] == "SignatureDoesNotMatch"


def test_v2_presigned_missing_parameters(coffer_server, bucket):
    port = coffer_server.port
    for query in ({"AWSAccessKeyId": ACCESS_KEY, "Expires": "9999999999"},
                  {"Signature": "bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "Expires": "9999999999"},
                  {"AWSAccessKeyId": ACCESS_KEY, "Signature": "bWq2s1WEIj+Ydj0vQ697zp+IXMU="}):
        r = send_raw(port, "GET", request_target("/%s/k" % bucket, query), {"Host": "127.0.0.1:%d" % port})
        assert r.status == 403, r
        assert error_of(r.body) == ("AccessDenied", "Query-string authentication requires the Signature, "
                                                    "Expires and AWSAccessKeyId parameters"), r
    r = send_raw(port, "GET", request_target("/%s/k" % bucket, {"AWSAccessKeyId": ACCESS_KEY, "Expires": "soon",
                                                             "Signature": "x"}), {"Host": "127.0.0.1:%d" % port})
    assert r.status == 403 and error_of(r.body)[0] == "AccessDenied", r


# ---- hand-signed requests: virtual-host style, tampering, dates, malformed headers ----

def test_v2_virtual_host_style(coffer_server, s3, bucket):
    port = coffer_server.port
    host = "%s.%s:%d" % (bucket, DOMAIN, port)
    key = "vh dir/obj+1"
    r = v2_request(port, "PUT", "/" + quote_key(key), body=b"virtual", host=host,
                   auth_path="/%s/%s" % (bucket, quote_key(key)), headers={"Content-Type": "text/plain"})
    assert r.status == 200, r
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"virtual"
    r = v2_request(port, "GET", "/" + quote_key(key), host=host, auth_path="/%s/%s" % (bucket, quote_key(key)))
    assert r.status == 200 and r.body == b"virtual", r
    r = v2_request(port, "GET", "/", query={"prefix": "vh"}, host=host, auth_path="/%s/" % bucket)
    assert r.status == 200 and b"<Key>vh dir/obj+1</Key>" in r.body, r
    # signed without the bucket in the resource: not what S3 computes
    r = v2_request(port, "GET", "/" + quote_key(key), host=host)
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r


def test_v2_tampered_request(coffer_server, s3, bucket):
    port = coffer_server.port
    meta = {"x-amz-meta-color": "violet", "Content-Type": "text/plain"}
    r = v2_request(port, "PUT", "/%s/t" % bucket, headers=meta, body=b"data",
                   wire_headers={"x-amz-meta-color": "red"})
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r
    r = v2_request(port, "PUT", "/%s/t" % bucket, headers=meta, body=b"data",
                   wire_headers={"Content-Type": "text/html"})
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r
    r = v2_request(port, "PUT", "/%s/t" % bucket, headers=meta, body=b"data", wire_headers={"x-amz-acl": "private"})
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r
    assert_absent(s3, bucket, "t")  # none of the refused PUTs stored anything
    r = v2_request(port, "PUT", "/%s/t" % bucket, headers=meta, body=b"data")
    assert r.status == 200, r
    assert s3.head_object(Bucket=bucket, Key="t")["Metadata"] == {"color": "violet"}
    # Content-MD5 is signed, and checked against the body
    r = v2_request(port, "PUT", "/%s/t2" % bucket, headers={"Content-MD5": "XUFAKrxLKna5cZ2REBfFkg=="}, body=b"data")
    assert r.status == 400 and r.error_code() == "BadDigest", r
    assert_absent(s3, bucket, "t2")


def test_v2_dates(coffer_server, bucket):
    port = coffer_server.port
    path = "/%s/" % bucket
    old = email.utils.formatdate(time.time() - 3600, usegmt=True)
    r = v2_request(port, "GET", path, date=old)
    assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", r
    future = email.utils.formatdate(time.time() + 3600, usegmt=True)
    r = v2_request(port, "GET", path, date=future)
    assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", r
    near = email.utils.formatdate(time.time() - 600, localtime=True)  # numeric zone, within 15 minutes
    assert v2_request(port, "GET", path, date=near).status == 200
    r = v2_request(port, "GET", path, drop=("Date",))
    assert r.status == 403 and r.error_code() == "AccessDenied", r
    r = v2_request(port, "GET", path, date="not a date")
    assert r.status == 403 and r.error_code() == "AccessDenied", r
    # x-amz-date takes precedence: signed with an empty Date line, like s3cmd and the AWS SDKs do
    now = email.utils.formatdate(time.time(), usegmt=True)
    string_to_sign = "GET\n\n\n\nx-amz-date:%s\n%s" % (now, path)
    sig = botocore.auth.HmacV1Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)).sign_string(string_to_sign)
    headers = {"Host": "127.0.0.1:%d" % port, "x-amz-date": now, "Authorization": "AWS %s:%s" % (ACCESS_KEY, sig),
               "Date": email.utils.formatdate(time.time() - 7200, usegmt=True)}
    assert send_raw(port, "GET", path, headers).status == 200
    headers["x-amz-date"] = old
    r = send_raw(port, "GET", path, headers)
    assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", r


@pytest.mark.parametrize("authorization", ["AWS " + ACCESS_KEY, "AWS :sig", "AWS %s:" % ACCESS_KEY,
                                           "AWS a b:sig"])
def test_v2_malformed_authorization(coffer_server, bucket, authorization):
    port = coffer_server.port
    headers = {"Host": "127.0.0.1:%d" % port, "Date": email.utils.formatdate(usegmt=True),
               "Authorization": authorization}
    r = send_raw(port, "GET", "/%s/" % bucket, headers)
    assert r.status == 400 and r.error_code() == "InvalidArgument", r
