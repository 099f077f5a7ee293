"""Bucket configurations that are stored and returned: OwnershipControls and PublicAccessBlock.

Coffer keeps them per bucket (enforcing them belongs to access control). A bucket without one
answers 404 OwnershipControlsNotFoundError / NoSuchPublicAccessBlockConfiguration; a document
AWS's schema refuses is 400 MalformedXML; deleting a bucket deletes its configurations.
"""

import pytest

from s3compat import assert_error, assert_xml_error, client_error, content_md5, raw_request

FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def ownership(s3, bucket):
    r = s3.get_bucket_ownership_controls(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    return [rule["ObjectOwnership"] for rule in r["OwnershipControls"]["Rules"]]


def public_access_block(s3, bucket):
    r = s3.get_public_access_block(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    return r["PublicAccessBlockConfiguration"]


def put_raw(port, bucket, subresource, body, headers=None):
    hdrs = {"Content-MD5": content_md5(body)} if headers is None else headers
    return raw_request(port, "PUT", "/" + bucket, query={subresource: ""}, headers=hdrs, body=body)


def ownership_doc(value):
    return ('<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>%s'
            '</ObjectOwnership></Rule></OwnershipControls>' % value).encode()


# ------------------------------------------------------------------ ownership controls


def test_ownership_controls_round_trip(s3, bucket):
    assert_error(client_error(s3.get_bucket_ownership_controls, Bucket=bucket), "OwnershipControlsNotFoundError", 404)
    for value in ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"):
        r = s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": value}]})
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert ownership(s3, bucket) == [value]
    r = s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.get_bucket_ownership_controls, Bucket=bucket), "OwnershipControlsNotFoundError", 404)
    # deleting what is not there is no error
    assert s3.delete_bucket_ownership_controls(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_ownership_controls_document(coffer_server, s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    raw = raw_request(coffer_server.port, "GET", "/" + bucket, query={"ownershipControls": ""})
    assert raw.status == 200
    assert raw.headers["content-type"] == "application/xml"
    assert raw.body.endswith(ownership_doc("ObjectWriter"))


def test_ownership_controls_refused(coffer_server, s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    e = client_error(s3.put_bucket_ownership_controls, Bucket=bucket,
                     OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]})
    assert_error(e, "MalformedXML", 400)
    port = coffer_server.port
    malformed = [
        ownership_doc("bucketownerenforced"),
        ownership_doc(""),
        b"<OwnershipControls><Rule></Rule></OwnershipControls>",
        b"<OwnershipControls></OwnershipControls>",
        b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>"
        b"<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
        b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
        b"<ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
        b"<Ownership><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Ownership>",
        b"<OwnershipControls><Rule><ObjectOwnership>ObjectWriter",
        b'<!DOCTYPE OwnershipControls [<!ENTITY v "ObjectWriter">]><OwnershipControls><Rule>'
        b"<ObjectOwnership>&v;</ObjectOwnership></Rule></OwnershipControls>",
    ]
    for body in malformed:
        assert_xml_error(put_raw(port, bucket, "ownershipControls", body), "MalformedXML", 400)
    assert_xml_error(put_raw(port, bucket, "ownershipControls", b"", headers={}), "MissingRequestBodyError", 400)
    body = ownership_doc("BucketOwnerPreferred")
    assert_xml_error(put_raw(port, bucket, "ownershipControls", body, {"Content-MD5": content_md5(b"x")}), "BadDigest", 400)
    assert ownership(s3, bucket) == ["ObjectWriter"]
    # the namespace is optional, surrounding whitespace is not part of the value
    body = b"<OwnershipControls>\n <Rule>\n  <ObjectOwnership> BucketOwnerPreferred\n</ObjectOwnership>\n </Rule>\n" \
           b"</OwnershipControls>\n"
    assert put_raw(port, bucket, "ownershipControls", body).status == 200
    assert ownership(s3, bucket) == ["BucketOwnerPreferred"]


# ------------------------------------------------------------------ public access block


def test_public_access_block_round_trip(s3, bucket):
    assert_error(client_error(s3.get_public_access_block, Bucket=bucket), "NoSuchPublicAccessBlockConfiguration", 404)
    r = s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True,
                                                                                   "RestrictPublicBuckets": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert public_access_block(s3, bucket) == {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                                               "BlockPublicPolicy": False, "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={f: True for f in FLAGS})
    assert public_access_block(s3, bucket) == {f: True for f in FLAGS}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={})
    assert public_access_block(s3, bucket) == {f: False for f in FLAGS}
    r = s3.delete_public_access_block(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(client_error(s3.get_public_access_block, Bucket=bucket), "NoSuchPublicAccessBlockConfiguration", 404)
    assert s3.delete_public_access_block(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_public_access_block_document(coffer_server, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    raw = raw_request(coffer_server.port, "GET", "/" + bucket, query={"publicAccessBlock": ""})
    assert raw.status == 200
    assert raw.body.endswith(
        b'<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>"
        b"<BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>"
        b"</PublicAccessBlockConfiguration>")


def test_public_access_block_refused(coffer_server, s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    port = coffer_server.port
    malformed = [
        b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>",
        b"<PublicAccessBlockConfiguration><BlockPublicAcls></BlockPublicAcls></PublicAccessBlockConfiguration>",
        b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>"
        b"<BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>",
        b"<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlock>",
        b"<PublicAccessBlockConfiguration>",
    ]
    for body in malformed:
        assert_xml_error(put_raw(port, bucket, "publicAccessBlock", body), "MalformedXML", 400)
    assert_xml_error(put_raw(port, bucket, "publicAccessBlock", b"", headers={}), "MissingRequestBodyError", 400)
    too_large = b"<PublicAccessBlockConfiguration>" + b" " * (64 * 1024) + b"</PublicAccessBlockConfiguration>"
    assert_xml_error(put_raw(port, bucket, "publicAccessBlock", too_large), "MalformedXML", 400)
    assert public_access_block(s3, bucket)["BlockPublicPolicy"] is True
    # the namespace is optional and so is every flag
    assert put_raw(port, bucket, "publicAccessBlock", b"<PublicAccessBlockConfiguration/>").status == 200
    assert public_access_block(s3, bucket) == {f: False for f in FLAGS}


# ------------------------------------------------------------------ with the bucket


@pytest.mark.parametrize("op,kw", [
    ("get_bucket_ownership_controls", {}),
    ("delete_bucket_ownership_controls", {}),
    ("put_bucket_ownership_controls", {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}),
    ("get_public_access_block", {}),
    ("delete_public_access_block", {}),
    ("put_public_access_block", {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}),
])
def test_missing_bucket(s3, bucket_name, op, kw):
    assert_error(client_error(getattr(s3, op), Bucket=bucket_name, **kw), "NoSuchBucket", 404)


def set_all(s3, bucket):
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={f: True for f in FLAGS})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})


def test_configs_are_per_bucket(s3, bucket, bucket_name):
    other = bucket_name + "-other"
    s3.create_bucket(Bucket=other)
    try:
        set_all(s3, bucket)
        assert_error(client_error(s3.get_bucket_ownership_controls, Bucket=other), "OwnershipControlsNotFoundError", 404)
        assert_error(client_error(s3.get_public_access_block, Bucket=other), "NoSuchPublicAccessBlockConfiguration", 404)
        assert_error(client_error(s3.get_bucket_tagging, Bucket=other), "NoSuchTagSet", 404)
    finally:
        s3.delete_bucket(Bucket=other)


def test_delete_and_recreate_bucket_drops_configs(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    set_all(s3, bucket_name)
    # a bucket holding objects is not deleted, and keeps its configurations
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")
    assert_error(client_error(s3.delete_bucket, Bucket=bucket_name), "BucketNotEmpty", 409)
    assert ownership(s3, bucket_name) == ["ObjectWriter"]
    s3.delete_object(Bucket=bucket_name, Key="k")
    s3.delete_bucket(Bucket=bucket_name)
    s3.create_bucket(Bucket=bucket_name)
    try:
        assert_error(client_error(s3.get_bucket_ownership_controls, Bucket=bucket_name),
                     "OwnershipControlsNotFoundError", 404)
        assert_error(client_error(s3.get_public_access_block, Bucket=bucket_name),
                     "NoSuchPublicAccessBlockConfiguration", 404)
        assert_error(client_error(s3.get_bucket_tagging, Bucket=bucket_name), "NoSuchTagSet", 404)
    finally:
        s3.delete_bucket(Bucket=bucket_name)


def test_configs_survive_restart(server_factory):
    server = server_factory()
    s3 = server.client()
    s3.create_bucket(Bucket="durable-configs")
    set_all(s3, "durable-configs")
    s3.put_object(Bucket="durable-configs", Key="k", Body=b"x", Tagging="t=1")
    server.restart(hard=True)  # SIGKILL: only what was synced survives
    s3 = server.client()
    assert ownership(s3, "durable-configs") == ["ObjectWriter"]
    assert public_access_block(s3, "durable-configs") == {f: True for f in FLAGS}
    assert s3.get_bucket_tagging(Bucket="durable-configs")["TagSet"] == [{"Key": "a", "Value": "1"}]
    assert s3.get_object_tagging(Bucket="durable-configs", Key="k")["TagSet"] == [{"Key": "t", "Value": "1"}]
