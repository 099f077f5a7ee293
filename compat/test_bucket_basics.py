"""Bucket basics with boto3 and raw signed requests: HeadBucket, versioning state, and the
sub-resources Coffer does not serve (answered 501 NotImplemented, never taken for object requests).

Expected behaviour follows the AWS S3 API Reference; unimplemented sub-resources follow S3's
NotImplemented error ("A header or query you provided implies functionality that is not implemented").
"""

import datetime
import xml.etree.ElementTree as ET

import pytest

from s3compat import (
    S3_NS, all_keys, assert_absent, assert_error, assert_xml_error, client_error, content_md5, md5_hex, send_raw,
    signed_headers, unique_bucket_name,
)

OBJ = "obj"
OBJ_BODY = b"the object's own bytes\n"


def signed(port, method, target, body=b"", headers=None):
    """One SigV4-signed request with the target exactly as given (e.g. '/b?lifecycle', no '=')."""
    host = "127.0.0.1:%d" % port
    hdrs = dict(headers or {})
    if body:
        hdrs["Content-MD5"] = content_md5(body)
        hdrs.setdefault("Content-Type", "application/xml")
    hdrs = signed_headers(method, host, target, body, hdrs)
    hdrs["Host"] = host
    return send_raw(port, method, target, hdrs, body)


def assert_only_obj_intact(s3, bucket, etag):
    """The bucket still holds just OBJ, with its bytes and ETag, and still answers HeadBucket."""
    assert all_keys(s3, bucket) == [OBJ]
    got = s3.get_object(Bucket=bucket, Key=OBJ)
    assert got["Body"].read() == OBJ_BODY
    assert got["ETag"] == etag
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.fixture
def bucket_with_obj(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key=OBJ, Body=OBJ_BODY)["ETag"]
    assert etag == '"%s"' % md5_hex(OBJ_BODY)
    return bucket, etag


# ---------------------------------------------------------------- HeadBucket


def test_head_bucket_default_region(coffer_server, s3, bucket):
    resp = s3.head_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == "us-east-1", resp
    raw = signed(coffer_server.port, "HEAD", "/" + bucket)
    assert raw.status == 200, raw
    assert raw.body == b"", raw
    assert raw.headers.get("x-amz-bucket-region") == "us-east-1", raw
    assert raw.headers.get("x-amz-request-id"), raw
    # us-east-1 is reported as an empty LocationConstraint
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


@pytest.mark.parametrize("region", ["eu-west-1", "ap-southeast-2"])
def test_head_bucket_region_from_location_constraint(coffer_server, s3, bucket_name, region):
    s3.create_bucket(Bucket=bucket_name, CreateBucketConfiguration={"LocationConstraint": region})
    try:
        resp = s3.head_bucket(Bucket=bucket_name)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region") == region, resp
        raw = signed(coffer_server.port, "HEAD", "/" + bucket_name)
        assert (raw.status, raw.body, raw.headers.get("x-amz-bucket-region")) == (200, b"", region), raw
        assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == region
        # the bucket works like any other
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"v")
        assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"v"
        s3.delete_object(Bucket=bucket_name, Key="k")
    finally:
        s3.delete_bucket(Bucket=bucket_name)


def test_head_missing_bucket_is_404_without_body(coffer_server, s3):
    name = unique_bucket_name("never-made")
    raw = signed(coffer_server.port, "HEAD", "/" + name)
    assert raw.status == 404, raw
    assert raw.body == b"", raw
    assert raw.headers.get("x-amz-request-id"), raw
    assert "x-amz-bucket-region" not in raw.headers, raw
    assert_error(client_error(s3.head_bucket, Bucket=name), "404", 404)
    # a GET on the same name says why, in XML
    assert_xml_error(signed(coffer_server.port, "GET", "/" + name), "NoSuchBucket", 404)


# ---------------------------------------------------------------- versioning state


def test_get_bucket_versioning_never_configured(coffer_server, s3, bucket):
    resp = s3.get_bucket_versioning(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in resp, resp
    assert "MFADelete" not in resp, resp
    raw = signed(coffer_server.port, "GET", "/%s?versioning" % bucket)
    assert raw.status == 200, raw
    root = ET.fromstring(raw.body)
    assert root.tag == S3_NS + "VersioningConfiguration", raw
    assert len(root) == 0 and not (root.text or "").strip(), raw


def test_get_bucket_versioning_missing_bucket(s3):
    name = unique_bucket_name("never-made")
    assert_error(client_error(s3.get_bucket_versioning, Bucket=name), "NoSuchBucket", 404)


# ---------------------------------------------------------------- unimplemented sub-resources

def s3_doc(root, inner=b""):
    """A request body: the root element in S3's namespace around inner (an empty one closes itself)."""
    start = ('<%s xmlns="%s"' % (root, S3_NS.strip("{}"))).encode()
    if not inner:
        return start + b"/>"
    return start + b">" + inner + ("</%s>" % root).encode()


LIFECYCLE = s3_doc("LifecycleConfiguration", b'<Rule><ID>r</ID><Filter><Prefix>tmp/</Prefix></Filter>'
                   b'<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>')
CORS = s3_doc("CORSConfiguration", b'<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>'
              b'</CORSRule>')
WEBSITE = s3_doc("WebsiteConfiguration", b'<IndexDocument><Suffix>index.html</Suffix></IndexDocument>')
ENCRYPTION = s3_doc("ServerSideEncryptionConfiguration", b'<Rule><ApplyServerSideEncryptionByDefault>'
                    b'<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>')
LOGGING = s3_doc("BucketLoggingStatus")
REPLICATION = s3_doc("ReplicationConfiguration", b'<Role>arn:aws:iam::123456789012:role/r</Role><Rule>'
                     b'<Status>Enabled</Status><Prefix></Prefix>'
                     b'<Destination><Bucket>arn:aws:s3:::elsewhere</Bucket></Destination></Rule>')
NOTIFICATION = s3_doc("NotificationConfiguration")
OBJECT_LOCK = s3_doc("ObjectLockConfiguration", b'<ObjectLockEnabled>Enabled</ObjectLockEnabled>')
REQUEST_PAYMENT = s3_doc("RequestPaymentConfiguration", b'<Payer>Requester</Payer>')
ACCELERATE = s3_doc("AccelerateConfiguration", b'<Status>Enabled</Status>')
RETENTION = s3_doc("Retention", b'<Mode>GOVERNANCE</Mode><RetainUntilDate>2099-01-01T00:00:00.000Z</RetainUntilDate>')
LEGAL_HOLD = s3_doc("LegalHold", b'<Status>ON</Status>')
RESTORE = s3_doc("RestoreRequest", b'<Days>1</Days>')

# (sub-resource, PUT body, whether S3 has a DELETE for it)
BUCKET_SUBRESOURCES = [
    ("lifecycle", LIFECYCLE, True),
    ("cors", CORS, True),
    ("website", WEBSITE, True),
    ("encryption", ENCRYPTION, True),
    ("logging", LOGGING, False),
    ("replication", REPLICATION, True),
    ("notification", NOTIFICATION, False),
    ("object-lock", OBJECT_LOCK, False),
    ("requestPayment", REQUEST_PAYMENT, False),
    ("accelerate", ACCELERATE, False),
]

BUCKET_CASES = []
for _sub, _body, _has_delete in BUCKET_SUBRESOURCES:
    BUCKET_CASES.append(("GET", _sub, b""))
    BUCKET_CASES.append(("PUT", _sub, _body))
    if _has_delete:
        BUCKET_CASES.append(("DELETE", _sub, b""))

OBJECT_CASES = [
    ("PUT", "retention", RETENTION),
    ("GET", "retention", b""),
    ("PUT", "legal-hold", LEGAL_HOLD),
    ("GET", "legal-hold", b""),
    ("POST", "restore", RESTORE),
]


def case_id(case):
    return "%s-%s" % (case[0], case[1])


@pytest.mark.parametrize("method,sub,body", BUCKET_CASES, ids=[case_id(c) for c in BUCKET_CASES])
def test_bucket_subresource_not_implemented(coffer_server, s3, bucket_with_obj, method, sub, body):
    bucket, etag = bucket_with_obj
    port = coffer_server.port
    # the bare form clients send ('?cors') and the '=' form ('?cors=')
    for target in ("/%s?%s" % (bucket, sub), "/%s?%s=" % (bucket, sub), "/%s/?%s" % (bucket, sub)):
        raw = signed(port, method, target, body)
        assert_xml_error(raw, "NotImplemented", 501)
    assert_only_obj_intact(s3, bucket, etag)


@pytest.mark.parametrize("method,sub,body", OBJECT_CASES, ids=[case_id(c) for c in OBJECT_CASES])
def test_object_subresource_not_implemented(coffer_server, s3, bucket_with_obj, method, sub, body):
    bucket, etag = bucket_with_obj
    port = coffer_server.port
    for target in ("/%s/%s?%s" % (bucket, OBJ, sub), "/%s/%s?%s=" % (bucket, OBJ, sub)):
        raw = signed(port, method, target, body)
        assert_xml_error(raw, "NotImplemented", 501)
    # on a key that does not exist it is NotImplemented too, and nothing springs into being
    raw = signed(port, method, "/%s/%s?%s" % (bucket, sub, sub), body)
    assert_xml_error(raw, "NotImplemented", 501)
    assert_absent(s3, bucket, sub)
    assert_only_obj_intact(s3, bucket, etag)


def test_object_subresource_with_version_id_not_implemented(coffer_server, s3, bucket_with_obj):
    bucket, etag = bucket_with_obj
    raw = signed(coffer_server.port, "PUT", "/%s/%s?retention&versionId=null" % (bucket, OBJ), RETENTION)
    assert_xml_error(raw, "NotImplemented", 501)
    raw = signed(coffer_server.port, "PUT", "/%s/%s?versionId=null&legal-hold" % (bucket, OBJ), LEGAL_HOLD)
    assert_xml_error(raw, "NotImplemented", 501)
    assert_only_obj_intact(s3, bucket, etag)


def _boto3_calls(bucket):
    until = datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)
    lifecycle = {"Rules": [{"ID": "r", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]}
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    sse = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    return [
        ("get_bucket_lifecycle_configuration", {}),
        ("put_bucket_lifecycle_configuration", {"LifecycleConfiguration": lifecycle}),
        ("delete_bucket_lifecycle", {}),
        ("get_bucket_cors", {}),
        ("put_bucket_cors", {"CORSConfiguration": cors}),
        ("delete_bucket_cors", {}),
        ("get_bucket_website", {}),
        ("put_bucket_website", {"WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}}}),
        ("delete_bucket_website", {}),
        ("get_bucket_encryption", {}),
        ("put_bucket_encryption", {"ServerSideEncryptionConfiguration": sse}),
        ("delete_bucket_encryption", {}),
        ("get_bucket_logging", {}),
        ("put_bucket_logging", {"BucketLoggingStatus": {}}),
        ("get_bucket_replication", {}),
        ("delete_bucket_replication", {}),
        ("get_bucket_notification_configuration", {}),
        ("put_bucket_notification_configuration", {"NotificationConfiguration": {}}),
        ("get_object_lock_configuration", {}),
        ("put_object_lock_configuration", {"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}}),
        ("get_bucket_request_payment", {}),
        ("put_bucket_request_payment", {"RequestPaymentConfiguration": {"Payer": "Requester"}}),
        ("get_bucket_accelerate_configuration", {}),
        ("put_bucket_accelerate_configuration", {"AccelerateConfiguration": {"Status": "Enabled"}}),
        ("get_object_retention", {"Key": OBJ}),
        ("put_object_retention", {"Key": OBJ, "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": until}}),
        ("get_object_legal_hold", {"Key": OBJ}),
        ("put_object_legal_hold", {"Key": OBJ, "LegalHold": {"Status": "ON"}}),
    ]


def test_boto3_unimplemented_operations(s3, bucket_with_obj):
    bucket, etag = bucket_with_obj
    for name, kwargs in _boto3_calls(bucket):
        resp = client_error(getattr(s3, name), Bucket=bucket, **kwargs)
        got = (resp["Error"].get("Code"), resp["ResponseMetadata"]["HTTPStatusCode"])
        assert got == ("NotImplemented", 501), (name, resp)
        assert resp["ResponseMetadata"]["HTTPHeaders"].get("x-amz-request-id"), (name, resp)
    assert_only_obj_intact(s3, bucket, etag)


# ---------------------------------------------------------------- keys and parameters that are not sub-resources

SUBRESOURCE_NAMED_KEYS = ["lifecycle", "cors", "website", "retention", "legal-hold", "versioning", "uploads",
                          "acl", "tagging", "dir/lifecycle", "obj?lifecycle", "obj?retention=1", "?cors", "k&acl"]


def test_keys_named_like_subresources_are_objects(coffer_server, s3, bucket):
    for i, key in enumerate(SUBRESOURCE_NAMED_KEYS):
        body = ("body %d of %s" % (i, key)).encode()
        assert s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"] == '"%s"' % md5_hex(body)
    assert all_keys(s3, bucket) == sorted(SUBRESOURCE_NAMED_KEYS)
    for i, key in enumerate(SUBRESOURCE_NAMED_KEYS):
        body = ("body %d of %s" % (i, key)).encode()
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
    # a raw GET of /bucket/lifecycle (no query) is GetObject
    raw = signed(coffer_server.port, "GET", "/%s/lifecycle" % bucket)
    assert (raw.status, raw.body) == (200, b"body 0 of lifecycle"), raw
    # ... while /bucket/obj%3Flifecycle names the key 'obj?lifecycle'
    raw = signed(coffer_server.port, "GET", "/%s/obj%%3Flifecycle" % bucket)
    assert (raw.status, raw.body) == (200, b"body 10 of obj?lifecycle"), raw


def test_unknown_query_parameters_are_ignored(coffer_server, s3, bucket_with_obj):
    bucket, etag = bucket_with_obj
    port = coffer_server.port
    for target in ("/%s/%s?x-id=GetObject" % (bucket, OBJ), "/%s/%s?foo=bar&baz" % (bucket, OBJ)):
        raw = signed(port, "GET", target)
        assert (raw.status, raw.body, raw.headers.get("etag")) == (200, OBJ_BODY, etag), raw
    raw = signed(port, "GET", "/%s?foo=bar" % bucket)
    assert raw.status == 200, raw
    root = ET.fromstring(raw.body)
    assert root.tag == S3_NS + "ListBucketResult", raw
    assert [k.text for k in root.iter(S3_NS + "Key")] == [OBJ], raw
    assert_only_obj_intact(s3, bucket, etag)
