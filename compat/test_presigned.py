"""Presigned URLs (SigV4 in the query string) from boto3 and `aws s3 presign`, used with curl."""

import time

import pytest
from botocore.exceptions import ClientError

from s3compat import KiB, curl, data_of, error_code_of, md5_hex


def presign(s3, method, bucket, key, expires=300, **params):
    return s3.generate_presigned_url(method, Params=dict(Bucket=bucket, Key=key, **params), ExpiresIn=expires)


def test_boto3_presigned_put_get_head_delete(s3, bucket):
    data = data_of(300 * KiB + 5, seed=41)
    status, headers, _ = curl("PUT", presign(s3, "put_object", bucket, "dir/pre signed+key"), body=data)
    assert status == 200
    assert headers["etag"] == '"%s"' % md5_hex(data)
    assert s3.get_object(Bucket=bucket, Key="dir/pre signed+key")["Body"].read() == data

    status, headers, body = curl("GET", presign(s3, "get_object", bucket, "dir/pre signed+key"))
    assert status == 200 and body == data
    status, headers, body = curl("HEAD", presign(s3, "head_object", bucket, "dir/pre signed+key"))
    assert status == 200 and int(headers["content-length"]) == len(data)
    status, _, _ = curl("DELETE", presign(s3, "delete_object", bucket, "dir/pre signed+key"))
    assert status == 204
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="dir/pre signed+key")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_boto3_presigned_get_with_a_signed_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    url = presign(s3, "get_object", bucket, "r", Range="bytes=2-4")
    # boto3 signs the Range header, so the caller must send it as signed
    status, _, body = curl("GET", url, headers=["Range: bytes=2-4"])
    assert status == 206 and body == b"234"
    status, _, body = curl("GET", url, headers=["Range: bytes=2-5"])
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"


def test_awscli_presign_with_curl(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="cli/obj", Body=b"presigned by aws-cli")
    url = cli.aws("s3", "presign", "s3://%s/cli/obj" % bucket, "--expires-in", "600").out.strip()
    assert "X-Amz-Signature=" in url
    status, _, body = curl("GET", url)
    assert status == 200 and body == b"presigned by aws-cli"


def test_expired_url_is_refused(s3, bucket):
    s3.put_object(Bucket=bucket, Key="old", Body=b"x")
    url = presign(s3, "get_object", bucket, "old", expires=1)
    time.sleep(2.1)
    status, _, body = curl("GET", url)
    assert status == 403
    assert error_code_of(body) == "AccessDenied"
    assert b"Request has expired" in body


def test_tampered_presigned_urls(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"secret")
    url = presign(s3, "get_object", bucket, "t")
    # another key under the same signature
    status, _, body = curl("GET", url.replace("/t?", "/u?"))
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"
    # a changed signature
    sig = url.split("X-Amz-Signature=")[1][:64]
    bad = url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])
    status, _, body = curl("GET", bad)
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"
    # a longer lifetime than was signed
    status, _, body = curl("GET", url.replace("X-Amz-Expires=300", "X-Amz-Expires=3000"))
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"
    # a PUT through a GET's URL
    status, _, body = curl("PUT", url, body=b"overwrite")
    assert status == 403 and error_code_of(body) == "SignatureDoesNotMatch"
    assert s3.get_object(Bucket=bucket, Key="t")["Body"].read() == b"secret"


@pytest.mark.parametrize("change, code", [
    (("X-Amz-Expires=300", "X-Amz-Expires=604801"), "AuthorizationQueryParametersError"),
    (("X-Amz-Expires=300", "X-Amz-Expires=abc"), "AuthorizationQueryParametersError"),
    (("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"), "AuthorizationQueryParametersError"),
    (("X-Amz-Credential=", "X-Amz-Credential=NOSUCHKEY"), "InvalidAccessKeyId"),
])
def test_bad_presigned_parameters(s3, bucket, change, code):
    url = presign(s3, "get_object", bucket, "k")
    assert change[0] in url
    status, _, body = curl("GET", url.replace(change[0], change[1], 1))
    assert error_code_of(body) == code
    assert status == (403 if code == "InvalidAccessKeyId" else 400)


def test_missing_presign_parameter(s3, bucket):
    url = presign(s3, "get_object", bucket, "k")
    base, query = url.split("?", 1)
    kept = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Date="))
    status, _, body = curl("GET", base + "?" + kept)
    assert status == 400 and error_code_of(body) == "AuthorizationQueryParametersError"


def test_presigned_put_then_multipart_part(s3, bucket):
    """A presigned UploadPart URL (what browser uploaders use) works like a signed one."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = data_of(5 * 1024 * 1024, seed=42)
    url = s3.generate_presigned_url("upload_part", Params=dict(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1),
                                    ExpiresIn=300)
    status, headers, _ = curl("PUT", url, body=part)
    assert status == 200 and headers["etag"] == '"%s"' % md5_hex(part)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": headers["etag"]}]})
    assert done["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == part
