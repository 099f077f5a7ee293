#!/usr/bin/env python3
"""SigV2 vectors for tests/unit/test_sigv2.c from botocore's HmacV1Auth / HmacV1QueryAuth, caught at before-send.

Prints the C table rows that go between the BEGIN/END markers of the generated table in
tests/unit/test_sigv2.c. Run with the Debian python3 (python3-botocore) from the repository root:
    python3 tests/unit/gen_sigv2_vectors.py
"""
import sys, time, datetime
from unittest import mock
from urllib.parse import urlsplit

import boto3, botocore, botocore.auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials

AK = "AKIAIOSFODNN7EXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DATE = "Fri, 24 May 2013 00:00:00 GMT"
NOW = 1369353600  # 2013-05-24T00:00:00Z
VOLATILE = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "expect"}

captured = {}
orig_cs = botocore.auth.HmacV1Auth.canonical_string
def cs(self, method, split, headers, expires=None, auth_path=None):
    captured["sts"] = orig_cs(self, method, split, headers, expires=expires, auth_path=auth_path)
    captured["quirk"] = bool(auth_path and "?" in auth_path)
    return captured["sts"]

vectors = []

def c_str(s):
    out = '"'
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c == '"': out += '\\"'
        elif c == '\\': out += '\\\\'
        elif c == '\n': out += '\\n'
        elif 32 <= ch < 127: out += c
        else: out += '\\x%02x""' % ch
    return out + '"'

def record(name, method, url, headers, bucket=None, presigned=False):
    sp = urlsplit(url)
    hdrs = [(k.lower(), v.decode() if isinstance(v, bytes) else v) for k, v in headers if k.lower() not in VOLATILE]
    if presigned:
        sig = [p.split("=", 1)[1] for p in sp.query.split("&") if p.startswith("Signature=")][0]
        from urllib.parse import unquote
        sig = unquote(sig)
    else:
        authz = dict(hdrs)["authorization"]
        sig = authz.split(":", 1)[1]
    vectors.append(dict(name=name, method=method, host=sp.netloc, bucket=bucket, path=sp.path, query=sp.query,
                        headers=hdrs, sts=captured.pop("sts"), signature=sig, presigned=presigned,
                        quirk=captured.pop("quirk")))

class Catcher:
    def __init__(self, name, bucket=None):
        self.name, self.bucket = name, bucket
    def __call__(self, request, **kw):
        record(self.name, request.method, request.url, list(request.headers.items()), self.bucket)
        return AWSResponse(request.url, 200, {}, None)

def client(style="path", endpoint="http://s3.coffer.test"):
    s = boto3.session.Session(aws_access_key_id=AK, aws_secret_access_key=SK, region_name="us-east-1")
    return s.client("s3", endpoint_url=endpoint, config=Config(signature_version="s3", s3={"addressing_style": style},
                                                               retries={"total_max_attempts": 1}))

def run(c, name, op, bucket=None, **params):
    h = Catcher(name, bucket)
    c.meta.events.register_first("before-send.s3", h)
    try:
        getattr(c, op)(**params)
    except Exception as e:
        if not str(e).startswith('NOPRINT'): print('ERR', name, repr(e), file=sys.stderr)
    c.meta.events.unregister("before-send.s3", h)

with mock.patch.object(botocore.auth.HmacV1Auth, "canonical_string", cs), \
     mock.patch.object(botocore.auth.HmacV1Auth, "_get_date", lambda self: DATE):
    c = client()
    run(c, "list buckets", "list_buckets")
    run(c, "create bucket", "create_bucket", Bucket="examplebucket")
    run(c, "list objects with unsigned params", "list_objects", Bucket="examplebucket", Prefix="photos/2006/", Delimiter="/", MaxKeys=50)
    run(c, "list objects v2", "list_objects_v2", Bucket="examplebucket", Prefix="a b", StartAfter="x")
    run(c, "get object", "get_object", Bucket="examplebucket", Key="photos/puppy.jpg")
    run(c, "get object with encoded key", "get_object", Bucket="examplebucket", Key="d\u00fcr/a b+c%d~e!f*g'h(i)j")
    run(c, "get object dot segments", "get_object", Bucket="examplebucket", Key="a/./b/../c//d")
    run(c, "get object response overrides", "get_object", Bucket="examplebucket", Key="report.csv",
        ResponseContentDisposition='attachment; filename="q 1.csv"', ResponseContentType="text/csv; charset=utf-8",
        ResponseCacheControl="no-cache", ResponseExpires=datetime.datetime(2013, 6, 1), ResponseContentLanguage="en-US",
        ResponseContentEncoding="identity")
    run(c, "get object version", "get_object", Bucket="examplebucket", Key="v", VersionId="3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo")
    run(c, "get object range", "get_object", Bucket="examplebucket", Key="r", Range="bytes=0-9")
    run(c, "head object", "head_object", Bucket="examplebucket", Key="photos/puppy.jpg")
    run(c, "put object with metadata", "put_object", Bucket="examplebucket", Key="db-backup.dat.gz", Body=b"hello",
        ContentType="application/x-download", ContentMD5="XUFAKrxLKna5cZ2REBfFkg==", ACL="public-read",
        Metadata={"ReviewedBy": "joe@example.com", "FileChecksum": "0x02661779", "ChecksumAlgorithm": "crc32"},
        ContentDisposition="attachment; filename=database.dat", ContentEncoding="gzip")
    run(c, "put object metadata whitespace", "put_object", Bucket="examplebucket", Key="ws", Body=b"x",
        Metadata={"a": "  padded  ", "b": "inner  two  spaces", "c": "tab\there"})
    run(c, "put object storage class", "put_object", Bucket="examplebucket", Key="sc", Body=b"",
        StorageClass="REDUCED_REDUNDANCY", ServerSideEncryption="AES256")
    run(c, "delete object", "delete_object", Bucket="examplebucket", Key="photos/puppy.jpg")
    run(c, "delete objects", "delete_objects", Bucket="examplebucket", Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    run(c, "get bucket acl", "get_bucket_acl", Bucket="examplebucket")
    run(c, "get object acl", "get_object_acl", Bucket="examplebucket", Key="k")
    run(c, "get bucket location", "get_bucket_location", Bucket="examplebucket")
    run(c, "get bucket versioning", "get_bucket_versioning", Bucket="examplebucket")
    run(c, "get bucket lifecycle", "get_bucket_lifecycle_configuration", Bucket="examplebucket")
    run(c, "get bucket cors", "get_bucket_cors", Bucket="examplebucket")
    run(c, "get object tagging", "get_object_tagging", Bucket="examplebucket", Key="k")
    run(c, "list object versions", "list_object_versions", Bucket="examplebucket", Prefix="p")
    run(c, "create multipart upload", "create_multipart_upload", Bucket="examplebucket", Key="big/file.bin",
        ContentType="application/octet-stream", Metadata={"m": "1"})
    run(c, "upload part", "upload_part", Bucket="examplebucket", Key="big/file.bin", PartNumber=7,
        UploadId="VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", Body=b"part")
    run(c, "list parts", "list_parts", Bucket="examplebucket", Key="big/file.bin", UploadId="abc+def/ghi=", MaxParts=2)
    run(c, "complete multipart upload", "complete_multipart_upload", Bucket="examplebucket", Key="big/file.bin",
        UploadId="abc", MultipartUpload={"Parts": [{"ETag": '"x"', "PartNumber": 1}]})
    run(c, "abort multipart upload", "abort_multipart_upload", Bucket="examplebucket", Key="big/file.bin", UploadId="abc")
    run(c, "list multipart uploads", "list_multipart_uploads", Bucket="examplebucket", Prefix="big/")

    v = client("virtual")
    run(v, "virtual host get object", "get_object", bucket="examplebucket", Bucket="examplebucket", Key="photos/puppy.jpg")
    run(v, "virtual host list objects", "list_objects", bucket="examplebucket", Bucket="examplebucket", Prefix="p")
    run(v, "virtual host put acl sub-resource", "get_object_acl", bucket="examplebucket", Bucket="examplebucket", Key="a b")
    run(v, "virtual host bucket acl", "get_bucket_acl", bucket="examplebucket", Bucket="examplebucket")
    run(v, "virtual host list objects v2", "list_objects_v2", bucket="examplebucket", Bucket="examplebucket", Prefix="q")
    run(v, "virtual host multipart", "upload_part", bucket="examplebucket", Bucket="examplebucket", Key="k", PartNumber=2,
        UploadId="u1", Body=b"z")

    # Requests a client cannot produce: signed directly with HmacV1Auth.
    def direct(name, method, url, headers=(), auth_path=None, bucket=None):
        req = AWSRequest(method=method, url=url)
        for k, val in headers:
            req.headers[k] = val  # HTTPHeaders appends: repeated names stay repeated
        req.auth_path = auth_path
        botocore.auth.HmacV1Auth(Credentials(AK, SK)).add_auth(req)
        record(name, method, req.url, list(req.headers.items()), bucket)
    direct("repeated and mixed-case x-amz headers", "PUT", "http://s3.coffer.test/examplebucket/rep",
           [("X-Amz-Meta-ReviewedBy", "joe@example.com"), ("x-amz-meta-reviewedby", " jane@example.com "),
            ("X-AMZ-Meta-Zeta", "z"), ("x-amz-meta-alpha", "a"), ("Content-Type", " text/plain ")])
    direct("empty sub-resource value with equals", "GET", "http://s3.coffer.test/examplebucket/k?acl=&prefix=x")
    direct("sub-resources out of order with unsigned ones", "PUT",
           "http://s3.coffer.test/examplebucket/k?uploadId=u%2B1&foo=bar&partNumber=12&x-id=UploadPart")
    direct("virtual host on a custom domain", "PUT", "http://static.example.net:8080/db-backup.dat.gz",
           [("Content-Type", "application/x-download")], auth_path="/static.example.net/db-backup.dat.gz",
           bucket="static.example.net")

    # Presigned (query-string) URLs: HmacV1QueryAuth with a fixed clock.
    with mock.patch.object(botocore.auth.HmacV1QueryAuth, "_get_date", lambda self: str(NOW + int(self._expires))):
        for name, cl, bkt, op, params in [
            ("presigned get", c, None, "get_object", dict(Bucket="examplebucket", Key="photos/puppy.jpg")),
            ("presigned get encoded key", c, None, "get_object", dict(Bucket="examplebucket", Key="sp ace/\u00fc+x")),
            ("presigned get response override", c, None, "get_object",
             dict(Bucket="examplebucket", Key="f", ResponseContentDisposition="attachment; filename=x.txt")),
            ("presigned put with metadata", c, None, "put_object",
             dict(Bucket="examplebucket", Key="up", Metadata={"Color": "violet"}, ACL="private")),
            ("presigned virtual host get", v, "examplebucket", "get_object", dict(Bucket="examplebucket", Key="vh/obj")),
            ("presigned get object acl", c, None, "get_object_acl", dict(Bucket="examplebucket", Key="acl/obj")),
        ]:
            url = cl.generate_presigned_url(op, Params=params, ExpiresIn=600)
            record(name, {"get_object": "GET", "put_object": "PUT", "get_object_acl": "GET"}[op], url, [], bkt, presigned=True)

print("/* generated by botocore %s HmacV1Auth/HmacV1QueryAuth */" % botocore.__version__)
for i, v in enumerate(vectors):
    print("static const sigv2_test_header_t botocore_headers_%d[] = {" % i)
    for k, val in v["headers"]:
        if k == "authorization":
            continue
        print("    {%s, %s}," % (c_str(k), c_str(val)))
    print("    {0, 0},\n};")
print("static const sigv2_botocore_vector_t botocore_vectors[] = {")
for i, v in enumerate(vectors):
    authz = dict(v["headers"]).get("authorization")
    print("    {%s, %s, %s, %s, %s, %d, %d, botocore_headers_%d, %s, %s, %s}," % (
        c_str(v["name"]), c_str(v["method"]), c_str(v["bucket"]) if v["bucket"] else "NULL", c_str(v["path"]),
        c_str(v["query"]), v["presigned"], v["quirk"], i, c_str(authz) if authz else "NULL", c_str(v["sts"]),
        c_str(v["signature"])))
print("};")
