"""Browser-form uploads (PostObject, POST policies) against the real binary.

Forms come from boto3's generate_presigned_post (SigV4) or are signed here with
hmac (SigV4 and SigV2), and are sent as real multipart/form-data by curl -F,
python requests and a hand-built urllib body. Every refusal is checked to leave
no object behind.
"""

import base64
import datetime
import hashlib
import hmac
import json
import subprocess
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import requests

from s3compat import (
    ACCESS_KEY, assert_absent, KiB, MiB, REGION, SECRET_KEY, data_of, error_code_of, error_of, md5_hex, open_url,
    sigv4_signing_key, unique_bucket_name,
)

CURL = "/usr/bin/curl"


# ------------------------------------------------------------------ helpers

def presigned_post(s3, bucket, key, fields=None, conditions=None, expires=300):
    return s3.generate_presigned_post(bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=expires)


def curl_form(url, fields, file_path=None, filename=None, file_text=None, timeout=120):
    """POSTs a form with curl -F: fields in order, then the file. Returns (status, headers, body)."""
    argv = [CURL, "-s", "-S", "-D", "-", "--max-time", str(timeout), "-H", "Expect:"]
    for name, value in fields:
        argv += ["--form-string", "%s=%s" % (name, value)]  # no '@'/'<' interpretation of values
    if file_path is not None:
        spec = "file=@%s" % file_path
        if filename is not None:
            spec += ";filename=%s" % filename
        argv += ["-F", spec]
    elif file_text is not None:
        argv += ["--form-string", "file=%s" % file_text]
    argv.append(url)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def multipart_body(fields, file_data, filename="upload.bin", boundary=None, after=()):
    """A multipart/form-data body built by hand: fields, the file, then fields S3 must ignore."""
    boundary = boundary or "----coffer" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (boundary.encode(), name.encode(), value.encode() if isinstance(value, str) else value))
    out.append(b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
               b"Content-Type: application/octet-stream\r\n\r\n" % (boundary.encode(), filename.encode()))
    out.append(file_data)
    out.append(b"\r\n")
    for name, value in after:
        out.append(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                   % (boundary.encode(), name.encode(), value.encode()))
    out.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def urllib_post(url, body, content_type, headers=None):
    return open_url(url, "POST", body, dict({"Content-Type": content_type}, **(headers or {})), timeout=120)


def iso_expiration(seconds):
    when = datetime.datetime.utcnow() + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sign_v4(policy_doc, access_key=ACCESS_KEY, secret_key=SECRET_KEY, when=None):
    """SigV4 form fields for a policy document (the credential fields are added to its conditions)."""
    when = when or datetime.datetime.utcnow()
    date, amz_date = when.strftime("%Y%m%d"), when.strftime("%Y%m%dT%H%M%SZ")
    credential = "%s/%s/%s/s3/aws4_request" % (access_key, date, REGION)
    doc = dict(policy_doc)
    doc["conditions"] = list(doc["conditions"]) + [
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": credential}, {"x-amz-date": amz_date}]
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    key = sigv4_signing_key(date, secret_key, REGION, "s3")
    return [("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", credential), ("x-amz-date", amz_date),
            ("policy", policy), ("x-amz-signature", hmac.new(key, policy.encode(), hashlib.sha256).hexdigest())]


def sign_v2(policy_doc, access_key=ACCESS_KEY, secret_key=SECRET_KEY):
    policy = base64.b64encode(json.dumps(policy_doc).encode()).decode()
    signature = base64.b64encode(hmac.new(secret_key.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    return [("AWSAccessKeyId", access_key), ("policy", policy), ("signature", signature)]


# ------------------------------------------------------------------ uploads that succeed

def test_boto3_presigned_post_with_curl(s3, bucket, tmp_path):
    data = data_of(300 * KiB + 7, seed=71)
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    post = presigned_post(s3, bucket, "curl/object one")
    status, headers, body = curl_form(post["url"], list(post["fields"].items()), file_path=str(path))
    assert status == 204, body
    assert body == b""
    assert headers["etag"] == '"%s"' % md5_hex(data)
    assert headers["location"].endswith("/%s/curl/object%%20one" % bucket)
    got = s3.get_object(Bucket=bucket, Key="curl/object one")
    assert got["Body"].read() == data
    assert got["ContentType"] == "binary/octet-stream"  # the file part's own Content-Type is not stored


def test_filename_variable_and_201_with_requests(s3, bucket):
    data = b"hello from a browser form\n" * 100
    post = presigned_post(s3, bucket, "uploads/${filename}",
                          fields={"success_action_status": "201", "Content-Type": "text/plain",
                                  "x-amz-meta-color": "blue"},
                          conditions=[{"success_action_status": "201"}, ["starts-with", "$Content-Type", "text/"],
                                      {"x-amz-meta-color": "blue"}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("C:\\docs\\hello world.txt", data)})
    assert r.status_code == 201, r.text
    root = ET.fromstring(r.content)
    assert root.tag == "PostResponse"
    assert root.findtext("Bucket") == bucket
    assert root.findtext("Key") == "uploads/hello world.txt"
    assert root.findtext("ETag") == '"%s"' % md5_hex(data)
    assert root.findtext("Location").endswith("/%s/uploads/hello%%20world.txt" % bucket)
    assert r.headers["ETag"] == '"%s"' % md5_hex(data)
    got = s3.get_object(Bucket=bucket, Key="uploads/hello world.txt")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}


def test_large_upload_with_urllib_and_ignored_trailing_fields(s3, bucket):
    data = data_of(6 * MiB + 3, seed=72)  # large enough for h2o to spill the body to a file
    post = presigned_post(s3, bucket, "big/${filename}", fields={"success_action_status": "200"},
                          conditions=[{"success_action_status": "200"}])
    body, ctype = multipart_body(list(post["fields"].items()), data, filename="six.bin",
                                 after=[("submit", "Upload"), ("x-amz-meta-late", "ignored")])
    status, headers, resp = urllib_post(post["url"], body, ctype)
    assert status == 200, resp
    assert resp == b""
    assert headers["etag"] == '"%s"' % md5_hex(data)
    got = s3.get_object(Bucket=bucket, Key="big/six.bin")
    assert got["Body"].read() == data
    assert got["Metadata"] == {}


def test_success_action_redirect_303(s3, bucket):
    target = "http://app.example.test/done?from=form"
    post = presigned_post(s3, bucket, "redir/a+b.txt", fields={"success_action_redirect": target},
                          conditions=[{"success_action_redirect": target}])
    r = requests.post(post["url"], data=post["fields"], files={"file": ("x", b"redirected")}, allow_redirects=False)
    assert r.status_code == 303, r.text
    location = r.headers["Location"]
    assert location.startswith(target + "&")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query == {"from": ["form"], "bucket": [bucket], "key": ["redir/a+b.txt"], "etag": ['"%s"' % md5_hex(b"redirected")]}
    assert s3.get_object(Bucket=bucket, Key="redir/a+b.txt")["Body"].read() == b"redirected"


def test_text_field_as_file_and_x_ignore_fields(s3, bucket):
    fields = sign_v4({"expiration": iso_expiration(300),
                      "conditions": [{"bucket": bucket}, ["eq", "$key", "notes/entry.html"],
                                     ["starts-with", "$Content-Type", "text/"]]})
    fields = [("key", "notes/entry.html"), ("Content-Type", "text/html"), ("x-ignore-flash", "1")] + fields
    status, _, body = curl_form("http://127.0.0.1:%d/%s" % (s3_port(s3), bucket), fields, file_text="<p>a blog post</p>")
    assert status == 204, body
    got = s3.get_object(Bucket=bucket, Key="notes/entry.html")
    assert got["Body"].read() == b"<p>a blog post</p>"
    assert got["ContentType"] == "text/html"


def test_signature_v2_post(s3, bucket, tmp_path):
    data = data_of(70 * KiB, seed=73)
    path = tmp_path / "v2.bin"
    path.write_bytes(data)
    fields = [("key", "v2/${filename}")] + sign_v2({
        "expiration": iso_expiration(300),
        "conditions": [{"bucket": bucket}, ["starts-with", "$key", "v2/"], ["content-length-range", 1, 1 * MiB]]})
    status, headers, body = curl_form("http://127.0.0.1:%d/%s" % (s3_port(s3), bucket), fields, file_path=str(path),
                                      filename="legacy.bin")
    assert status == 204, body
    assert headers["etag"] == '"%s"' % md5_hex(data)
    assert s3.get_object(Bucket=bucket, Key="v2/legacy.bin")["Body"].read() == data


def test_virtual_host_post(s3, bucket):
    post = presigned_post(s3, bucket, "vhost-object")
    r = requests.post("http://127.0.0.1:%d/" % s3_port(s3), data=post["fields"], files={"file": ("f", b"vhost")},
                      headers={"Host": "%s.s3.coffer.test:%d" % (bucket, s3_port(s3))})
    assert r.status_code == 204, r.text
    assert r.headers["Location"] == "http://%s.s3.coffer.test:%d/vhost-object" % (bucket, s3_port(s3))
    assert s3.get_object(Bucket=bucket, Key="vhost-object")["Body"].read() == b"vhost"


def s3_port(s3):
    return urllib.parse.urlsplit(s3.meta.endpoint_url).port


def signed_acl_form(bucket, key, acl=None):
    """SigV4 fields for key, with an acl field (and the policy condition naming it) unless acl is None."""
    conditions = [{"bucket": bucket}, {"key": key}] + ([{"acl": acl}] if acl is not None else [])
    return [("key", key)] + ([("acl", acl)] if acl is not None else []) + sign_v4(
        {"expiration": iso_expiration(300), "conditions": conditions})


def all_users_grants(s3, bucket, key):
    return sorted(g["Permission"] for g in s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
                  if g["Grantee"].get("URI") == "http://acs.amazonaws.com/groups/global/AllUsers")


def test_acl_field_is_the_objects_canned_acl(s3, bucket):
    url = "http://127.0.0.1:%d/%s" % (s3_port(s3), bucket)
    for key, acl in (("public.txt", "public-read"), ("private.txt", None), ("private-named.txt", "private")):
        status, _, body = curl_form(url, signed_acl_form(bucket, key, acl), file_text=key)
        assert status == 204, body
    # plain HTTP, no credentials: what public-read opens, and nothing else
    assert open_url("%s/public.txt" % url)[::2] == (200, b"public.txt")
    assert open_url("%s/private.txt" % url)[0] == 403
    assert open_url("%s/private-named.txt" % url)[0] == 403
    assert all_users_grants(s3, bucket, "public.txt") == ["READ"]
    assert all_users_grants(s3, bucket, "private.txt") == []
    # a name that is no canned ACL is refused as PutObject's x-amz-acl is, and stores nothing
    status, _, body = curl_form(url, signed_acl_form(bucket, "bad-acl", "public-read-only"), file_text="x")
    assert (status, error_code_of(body)) == (400, "InvalidArgument"), body
    assert_absent(s3, bucket, "bad-acl")
    # the POST policy's condition on acl still holds
    fields = dict(signed_acl_form(bucket, "cond", "private"), acl="public-read")
    status, _, body = curl_form(url, list(fields.items()), file_text="x")
    assert status == 403 and error_of(body) == (
        "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "private"]'), body
    assert_absent(s3, bucket, "cond")


def test_acl_field_meets_the_bucket_policy_and_ownership(s3, bucket):
    url = "http://127.0.0.1:%d/%s" % (s3_port(s3), bucket)
    # the bucket policy's s3:x-amz-acl sees the form's acl field, as it sees PutObject's header
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"StringEquals": {"s3:x-amz-acl": "public-read"}}}]}))
    try:
        status, _, body = curl_form(url, signed_acl_form(bucket, "denied", "public-read"), file_text="x")
        assert (status, error_code_of(body)) == (403, "AccessDenied"), body
        assert_absent(s3, bucket, "denied")
        status, _, body = curl_form(url, signed_acl_form(bucket, "allowed", "authenticated-read"), file_text="x")
        assert status == 204, body
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
    # the policy judges the form's key: a Deny on a prefix refuses a POST there, and only there
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/locked/*" % bucket}]}))
    try:
        status, _, body = curl_form(url, signed_acl_form(bucket, "locked/post", None), file_text="x")
        assert (status, error_code_of(body)) == (403, "AccessDenied"), body
        assert_absent(s3, bucket, "locked/post")
        status, _, body = curl_form(url, signed_acl_form(bucket, "open/post", None), file_text="x")
        assert status == 204, body
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
    # a bucket whose ownership is BucketOwnerEnforced takes no ACL but the bucket owner's
    enforced = unique_bucket_name("post-enforced")
    s3.create_bucket(Bucket=enforced, ObjectOwnership="BucketOwnerEnforced")
    try:
        url = "http://127.0.0.1:%d/%s" % (s3_port(s3), enforced)
        status, _, body = curl_form(url, signed_acl_form(enforced, "k", "public-read"), file_text="x")
        assert (status, error_code_of(body)) == (400, "AccessControlListNotSupported"), body
        assert_absent(s3, enforced, "k")
        for acl in (None, "bucket-owner-full-control"):
            status, _, body = curl_form(url, signed_acl_form(enforced, "k", acl), file_text="x")
            assert status == 204, body
        s3.delete_object(Bucket=enforced, Key="k")
    finally:
        s3.delete_bucket(Bucket=enforced)


# ------------------------------------------------------------------ refusals (nothing stored)

def test_content_length_range(s3, bucket):
    post = presigned_post(s3, bucket, "sized", conditions=[["content-length-range", 10, 100]])
    for size, code in ((101, "EntityTooLarge"), (9, "EntityTooSmall")):
        r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x" * size)})
        assert (r.status_code, error_code_of(r.content)) == (400, code), r.text
        assert_absent(s3, bucket, "sized")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x" * 100)})
    assert r.status_code == 204, r.text
    assert s3.get_object(Bucket=bucket, Key="sized")["Body"].read() == b"x" * 100


def test_expired_policy(s3, bucket):
    post = presigned_post(s3, bucket, "late", expires=-60)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"too late")})
    assert r.status_code == 403, r.text
    assert error_of(r.content) == ("AccessDenied", "Invalid according to Policy: Policy expired.")
    assert_absent(s3, bucket, "late")


def test_tampered_policy_or_signature(s3, bucket):
    post = presigned_post(s3, bucket, "allowed/${filename}")
    doc = json.loads(base64.b64decode(post["fields"]["policy"]))
    doc["conditions"] = [c for c in doc["conditions"] if not (isinstance(c, list) and c[1] == "$key")]
    doc["conditions"].append(["starts-with", "$key", ""])
    forged = dict(post["fields"], policy=base64.b64encode(json.dumps(doc).encode()).decode(), key="anywhere")
    sig = post["fields"]["x-amz-signature"]
    bad_sig = dict(post["fields"], **{"x-amz-signature": ("0" if sig[0] != "0" else "1") + sig[1:]})
    for fields in (forged, bad_sig):
        status, _, body = curl_form(post["url"], list(fields.items()), file_text="forged")
        assert (status, error_code_of(body)) == (403, "SignatureDoesNotMatch"), body
    assert_absent(s3, bucket, "anywhere")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_condition_mismatch(s3, bucket):
    post = presigned_post(s3, bucket, "allowed/${filename}")
    fields = dict(post["fields"], key="other/escape.txt")
    r = requests.post(post["url"], data=fields, files={"file": ("f", b"data")})
    assert r.status_code == 403, r.text
    assert error_of(r.content) == (
        "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "allowed/"]')
    assert_absent(s3, bucket, "other/escape.txt")


def test_field_not_in_policy(s3, bucket):
    post = presigned_post(s3, bucket, "extra")
    fields = dict(post["fields"], **{"x-amz-meta-sneaky": "1"})
    r = requests.post(post["url"], data=fields, files={"file": ("f", b"data")})
    assert r.status_code == 403, r.text
    assert error_of(r.content) == ("AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")
    assert_absent(s3, bucket, "extra")


def test_wrong_bucket_in_policy(s3, bucket):
    fields = [("key", "k")] + sign_v4({"expiration": iso_expiration(300),
                                       "conditions": [{"bucket": "some-other-bucket"}, {"key": "k"}]})
    status, _, body = curl_form("http://127.0.0.1:%d/%s" % (s3_port(s3), bucket), fields, file_text="x")
    assert status == 403
    assert error_of(body) == (
        "AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "some-other-bucket"]')
    assert_absent(s3, bucket, "k")


def test_credentials_and_anonymous(s3, bucket):
    url = "http://127.0.0.1:%d/%s" % (s3_port(s3), bucket)
    doc = {"expiration": iso_expiration(300), "conditions": [{"bucket": bucket}, {"key": "k"}]}
    cases = [
        ([("key", "k")], 403, "AccessDenied"),                                             # anonymous
        ([("key", "k")] + sign_v4(doc, access_key="NOSUCHKEY"), 403, "InvalidAccessKeyId"),
        ([("key", "k")] + sign_v2(doc, access_key="NOSUCHKEY"), 403, "InvalidAccessKeyId"),
        ([("key", "k")] + sign_v2(doc, secret_key="wrong"), 403, "SignatureDoesNotMatch"),
        ([("key", "k")] + sign_v4(doc, secret_key="wrong"), 403, "SignatureDoesNotMatch"),
        ([("key", "k")] + [f for f in sign_v4(doc) if f[0] != "x-amz-date"], 400, "InvalidArgument"),
        ([("key", "k")] + [f for f in sign_v2(doc) if f[0] != "policy"], 400, "InvalidArgument"),
        (sign_v4(doc), 400, "InvalidArgument"),                                            # no key field
        ([("key", "k"), ("policy", sign_v4(doc)[3][1])], 400, "InvalidArgument"),          # a policy nobody signed
    ]
    for fields, status, code in cases:
        st, _, body = curl_form(url, fields, file_text="x")
        assert (st, error_code_of(body)) == (status, code), (fields, body)
    assert_absent(s3, bucket, "k")


def test_malformed_forms(s3, bucket):
    url = "http://127.0.0.1:%d/%s" % (s3_port(s3), bucket)
    fields = [("key", "k")] + sign_v4({"expiration": iso_expiration(300), "conditions": [{"bucket": bucket}, {"key": "k"}]})
    good, ctype = multipart_body(fields, b"payload", boundary="XyZzY")
    cases = [
        (good, "application/x-www-form-urlencoded", 412, "PreconditionFailed"),
        (good, "multipart/form-data", 400, "MalformedPOSTRequest"),                        # no boundary
        (good[:-30], ctype, 400, "MalformedPOSTRequest"),                                   # cut before the end
        (good.replace(b"\r\n", b"\n"), ctype, 400, "MalformedPOSTRequest"),                 # bare LF
        (multipart_body(fields, b"p", boundary="XyZzY")[0].replace(b'name="file"', b'name="notfile"'), ctype, 400,
         "IncorrectNumberOfFilesInPostRequest"),
        (multipart_body([("x-ignore-pad", "p" * 21000)] + fields, b"p", boundary="XyZzY")[0], ctype, 400,
         "MaxPostPreDataLengthExceededError"),
        (multipart_body(fields, b"p", boundary="XyZzY", after=[("file", "second")])[0].replace(
            b'name="file"\r\n\r\nsecond', b'name="file"; filename="two"\r\n\r\nsecond'), ctype, 400,
         "IncorrectNumberOfFilesInPostRequest"),
    ]
    for body, content_type, status, code in cases:
        st, _, resp = urllib_post(url, body, content_type)
        assert (st, error_code_of(resp)) == (status, code), (code, resp)
    assert_absent(s3, bucket, "k")
    st, _, resp = urllib_post(url, good, ctype)
    assert st == 204, resp
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"


def test_repeated_fields_are_joined(s3, bucket):
    fields = sign_v4({"expiration": iso_expiration(300),
                      "conditions": [{"bucket": bucket}, {"key": "tags"}, {"x-amz-meta-tag": ",Ninja,Stallman"}]})
    fields = [("key", "tags"), ("x-amz-meta-tag", ""), ("X-Amz-Meta-Tag", "Ninja"), ("x-amz-meta-tag", "Stallman")] + fields
    status, _, body = curl_form("http://127.0.0.1:%d/%s" % (s3_port(s3), bucket), fields, file_text="t")
    assert status == 204, body
    assert s3.head_object(Bucket=bucket, Key="tags")["Metadata"] == {"tag": ",Ninja,Stallman"}


def test_post_to_missing_bucket(s3):
    name = "no-such-bucket-%s" % uuid.uuid4().hex[:8]
    post = presigned_post(s3, name, "k")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")})
    assert (r.status_code, error_code_of(r.content)) == (404, "NoSuchBucket"), r.text
