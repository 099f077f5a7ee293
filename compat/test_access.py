"""Users, ownership and access control, with three users: root, alice and bob.

Each test starts its own server (these tests add and remove users), creates
alice and bob through the admin CLI, and checks with boto3 (signed), curl
(anonymous) and presigned URLs that every user reaches exactly what
ownership, ACLs and bucket policies give.
"""

import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from s3compat import (
    ACCESS_KEY, SECRET_KEY, coffer_bin, curl, make_client, open_url, raw_request,
)

ALICE = ("ALICEKEY000000000001", "alice-secret/0123456789abcdefghijklmnopq")
BOB = ("BOBKEY00000000000001", "bob-secret/0123456789abcdefghijklmnopqrst")


def coffer_cli(srv, *args):
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=ACCESS_KEY, COFFER_ROOT_SECRET_KEY=SECRET_KEY)
    return subprocess.run([coffer_bin(), *args, "--endpoint", srv.endpoint], env=env, capture_output=True, text=True,
                          timeout=60)


def add_user(srv, name, keys):
    res = coffer_cli(srv, "user", "add", name, "--access-key", keys[0], "--secret-key", keys[1])
    assert res.returncode == 0, res.stderr
    return make_client(srv.endpoint, access_key=keys[0], secret_key=keys[1])


@pytest.fixture
def three(server_factory):
    srv = server_factory()
    root = srv.client()
    alice = add_user(srv, "alice", ALICE)
    bob = add_user(srv, "bob", BOB)
    return srv, root, alice, bob


def code_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "OK"


def anon(srv, path, method="GET"):
    """An anonymous request with curl: (status, body)."""
    status, _, body = curl(method, srv.endpoint + path)
    return status, body


def test_users_own_their_buckets(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="alice-b")
    bob.create_bucket(Bucket="bob-b")
    assert [b["Name"] for b in alice.list_buckets()["Buckets"]] == ["alice-b"]
    assert [b["Name"] for b in bob.list_buckets()["Buckets"]] == ["bob-b"]
    assert code_of(bob.create_bucket, Bucket="alice-b") == "BucketAlreadyExists"
    assert code_of(alice.create_bucket, Bucket="alice-b") == "BucketAlreadyOwnedByYou"
    owner = alice.get_bucket_acl(Bucket="alice-b")["Owner"]
    assert owner["DisplayName"] == "alice" and len(owner["ID"]) == 64
    assert owner["ID"] != bob.get_bucket_acl(Bucket="bob-b")["Owner"]["ID"]


def test_private_objects_stay_private(three):
    srv, root, alice, bob = three
    bob.create_bucket(Bucket="bob-b")
    bob.put_object(Bucket="bob-b", Key="secret.txt", Body=b"bob's")
    assert code_of(alice.get_object, Bucket="bob-b", Key="secret.txt") == "AccessDenied"
    assert code_of(alice.head_object, Bucket="bob-b", Key="secret.txt") == "403"
    assert code_of(alice.get_object, Bucket="bob-b", Key="missing") == "AccessDenied"  # no hint the key is absent
    assert code_of(alice.list_objects_v2, Bucket="bob-b") == "AccessDenied"
    assert code_of(alice.put_object, Bucket="bob-b", Key="x", Body=b"x") == "AccessDenied"
    assert code_of(alice.delete_object, Bucket="bob-b", Key="secret.txt") == "AccessDenied"
    assert code_of(alice.delete_bucket, Bucket="bob-b") == "AccessDenied"
    assert code_of(alice.get_bucket_acl, Bucket="bob-b") == "AccessDenied"
    alice.create_bucket(Bucket="alice-b")
    assert code_of(alice.copy_object, Bucket="alice-b", Key="stolen",
                   CopySource={"Bucket": "bob-b", "Key": "secret.txt"}) == "AccessDenied"
    assert anon(srv, "/bob-b/secret.txt")[0] == 403
    assert anon(srv, "/bob-b")[0] == 403
    # root, the administrator, reaches everything
    assert root.get_object(Bucket="bob-b", Key="secret.txt")["Body"].read() == b"bob's"
    assert bob.get_object(Bucket="bob-b", Key="secret.txt")["Body"].read() == b"bob's"


def test_canned_acls_open_exactly_what_they_say(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="pub-read", ACL="public-read")
    alice.put_object(Bucket="pub-read", Key="open.txt", Body=b"open", ACL="public-read")
    alice.put_object(Bucket="pub-read", Key="closed.txt", Body=b"closed")
    # public-read bucket: anyone lists; objects are readable only with their own public-read
    status, body = anon(srv, "/pub-read")
    assert status == 200 and b"open.txt" in body and b"closed.txt" in body
    assert anon(srv, "/pub-read/open.txt") == (200, b"open")
    assert anon(srv, "/pub-read/closed.txt")[0] == 403
    assert anon(srv, "/pub-read/open.txt", method="DELETE")[0] == 403
    assert code_of(bob.put_object, Bucket="pub-read", Key="bob.txt", Body=b"b") == "AccessDenied"
    assert bob.get_object(Bucket="pub-read", Key="open.txt")["Body"].read() == b"open"
    # authenticated-read: any user with keys, never anonymous
    alice.put_object(Bucket="pub-read", Key="members.txt", Body=b"members", ACL="authenticated-read")
    assert bob.get_object(Bucket="pub-read", Key="members.txt")["Body"].read() == b"members"
    assert anon(srv, "/pub-read/members.txt")[0] == 403
    # public-read-write bucket: bob may write into it, and owns what he writes
    alice.create_bucket(Bucket="drop-box", ACL="public-read-write")
    bob.put_object(Bucket="drop-box", Key="from-bob", Body=b"hi")
    acl = bob.get_object_acl(Bucket="drop-box", Key="from-bob")
    assert acl["Owner"]["DisplayName"] == "bob"
    # bucket-owner-full-control hands the bucket owner full control of bob's object
    bob.put_object(Bucket="drop-box", Key="shared", Body=b"s", ACL="bucket-owner-full-control")
    assert alice.get_object(Bucket="drop-box", Key="shared")["Body"].read() == b"s"


def test_grants_and_acl_documents(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="alice-b")
    alice.put_object(Bucket="alice-b", Key="doc", Body=b"doc")
    bob_id = bob.list_buckets()["Owner"]["ID"]
    assert code_of(bob.get_object, Bucket="alice-b", Key="doc") == "AccessDenied"
    alice.put_object_acl(Bucket="alice-b", Key="doc", GrantRead='id="%s"' % bob_id)
    assert bob.get_object(Bucket="alice-b", Key="doc")["Body"].read() == b"doc"
    assert code_of(bob.get_object_acl, Bucket="alice-b", Key="doc") == "AccessDenied"  # READ is not READ_ACP
    acl = alice.get_object_acl(Bucket="alice-b", Key="doc")
    grants = {(g["Grantee"].get("ID"), g["Permission"]) for g in acl["Grants"]}
    assert (bob_id, "READ") in grants
    # an AccessControlPolicy document: bob may write into the bucket, nothing more
    owner = alice.get_bucket_acl(Bucket="alice-b")["Owner"]
    alice.put_bucket_acl(Bucket="alice-b", AccessControlPolicy={
        "Owner": owner,
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": bob_id}, "Permission": "WRITE"}]})
    bob.put_object(Bucket="alice-b", Key="by-bob", Body=b"b")
    assert code_of(bob.list_objects_v2, Bucket="alice-b") == "AccessDenied"
    assert code_of(alice.put_bucket_acl, Bucket="alice-b", GrantRead='id="%s"' % ("0" * 64)) == "InvalidArgument"
    # revoking takes effect on the next request
    alice.put_object_acl(Bucket="alice-b", Key="doc", ACL="private")
    assert code_of(bob.get_object, Bucket="alice-b", Key="doc") == "AccessDenied"


def test_policy_makes_a_prefix_public_and_deny_beats_allow(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="site")
    for key in ("public/index.html", "public/secret.html", "private/notes.txt"):
        alice.put_object(Bucket="site", Key=key, Body=key.encode())
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::site/public/*"},
        {"Sid": "NotThat", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::site/public/secret.html"},
    ]}
    alice.put_bucket_policy(Bucket="site", Policy=json.dumps(policy))
    assert json.loads(alice.get_bucket_policy(Bucket="site")["Policy"]) == policy
    assert alice.get_bucket_policy_status(Bucket="site")["PolicyStatus"]["IsPublic"] is True
    assert anon(srv, "/site/public/index.html") == (200, b"public/index.html")
    assert anon(srv, "/site/public/secret.html")[0] == 403
    assert anon(srv, "/site/private/notes.txt")[0] == 403
    assert anon(srv, "/site")[0] == 403  # listing was not made public
    assert anon(srv, "/site/public/index.html", method="DELETE")[0] == 403
    # the Deny holds for the owner too; bob gets what everyone gets
    assert code_of(alice.get_object, Bucket="site", Key="public/secret.html") == "AccessDenied"
    assert bob.get_object(Bucket="site", Key="public/index.html")["Body"].read() == b"public/index.html"
    # only the owner sees or changes the policy
    assert code_of(bob.get_bucket_policy, Bucket="site") == "AccessDenied"
    assert code_of(bob.delete_bucket_policy, Bucket="site") == "AccessDenied"
    alice.delete_bucket_policy(Bucket="site")
    assert anon(srv, "/site/public/index.html")[0] == 403
    assert code_of(alice.get_bucket_policy, Bucket="site") == "NoSuchBucketPolicy"


def test_malformed_policies_are_refused(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="alice-b")
    bad = ["not json", "{}", json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}),
           json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                               "Action": "s3:GetObject",
                                                               "Resource": "arn:aws:s3:::other-bucket/*"}]})]
    for action in ("s3:GetObjekt", "s3:Nothing*", "ec2:*"):  # no such S3 action, no S3 action matches, another service
        bad.append(json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObject", action], "Resource": "arn:aws:s3:::alice-b/*"}]}))
    for doc in bad:
        assert code_of(alice.put_bucket_policy, Bucket="alice-b", Policy=doc) == "MalformedPolicy", doc
    with pytest.raises(ClientError) as refused:
        alice.put_bucket_policy(Bucket="alice-b", Policy=bad[-1])
    assert refused.value.response["Error"]["Message"] == "Policy has invalid action"
    assert code_of(alice.get_bucket_policy, Bucket="alice-b") == "NoSuchBucketPolicy"
    # AWS's actions that no request here is authorized as are names all the same, as are patterns that match one
    alice.put_bucket_policy(Bucket="alice-b", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": ["s3:GetObjectVersion", "s3:Put*Configuration", "S3:getobjectacl"],
         "Resource": "arn:aws:s3:::alice-b/*"}]}))


def test_ip_condition_and_user_principal(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="lan")
    alice.put_object(Bucket="lan", Key="k", Body=b"v")

    def policy(bob_from, list_from):
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/bob"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::lan/*", "Condition": {"IpAddress": {"aws:SourceIp": bob_from}}},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::lan",
             "Condition": {"IpAddress": {"aws:SourceIp": list_from}}},
        ]})

    # every request here comes from 127.0.0.1
    alice.put_bucket_policy(Bucket="lan", Policy=policy("127.0.0.0/8", "10.0.0.0/8"))
    assert bob.get_object(Bucket="lan", Key="k")["Body"].read() == b"v"
    assert anon(srv, "/lan/k")[0] == 403  # the grant names bob only
    assert anon(srv, "/lan")[0] == 403  # not from 10/8
    assert alice.get_bucket_policy_status(Bucket="lan")["PolicyStatus"]["IsPublic"] is False
    alice.put_bucket_policy(Bucket="lan", Policy=policy("10.0.0.0/8", "127.0.0.1/32"))
    assert code_of(bob.get_object, Bucket="lan", Key="k") == "AccessDenied"
    status, body = anon(srv, "/lan")
    assert status == 200 and b"<Key>k</Key>" in body


def test_public_access_block(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="locked", ACL="public-read")
    assert anon(srv, "/locked")[0] == 200  # public before the block
    alice.put_public_access_block(Bucket="locked", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    assert anon(srv, "/locked")[0] == 403  # the public-read grant is ignored now
    assert code_of(alice.put_object, Bucket="locked", Key="x", Body=b"x", ACL="public-read") == "AccessDenied"
    public = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                       "Resource": "arn:aws:s3:::locked/*"}]}
    assert code_of(alice.put_bucket_policy, Bucket="locked", Policy=json.dumps(public)) == "AccessDenied"


def test_bucket_owner_enforced_disables_acls(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="enforced", ObjectOwnership="BucketOwnerEnforced")
    assert code_of(alice.put_object, Bucket="enforced", Key="x", Body=b"x", ACL="public-read") == \
        "AccessControlListNotSupported"
    alice.put_object(Bucket="enforced", Key="y", Body=b"y")
    assert code_of(alice.create_bucket, Bucket="enforced2", ObjectOwnership="BucketOwnerEnforced",
                   ACL="public-read") == "InvalidBucketAclWithObjectOwnership"


def test_presigned_urls_carry_the_signers_permissions(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="alice-b")
    alice.put_object(Bucket="alice-b", Key="k", Body=b"alice data")
    by_alice = alice.generate_presigned_url("get_object", Params={"Bucket": "alice-b", "Key": "k"}, ExpiresIn=300)
    by_bob = bob.generate_presigned_url("get_object", Params={"Bucket": "alice-b", "Key": "k"}, ExpiresIn=300)
    assert open_url(by_alice)[0] == 200 and open_url(by_alice)[2] == b"alice data"
    assert open_url(by_bob)[0] == 403


def test_removed_key_is_refused_at_once(three):
    srv, root, alice, bob = three
    bob.create_bucket(Bucket="bob-b")
    res = coffer_cli(srv, "key", "rm", BOB[0])
    assert res.returncode == 0, res.stderr
    assert code_of(bob.list_buckets) == "InvalidAccessKeyId"
    raw = raw_request(srv.port, "GET", "/bob-b", access_key=BOB[0], secret_key=BOB[1])
    assert raw.status == 403 and raw.error_code() == "InvalidAccessKeyId"
    # the bucket is still bob's: root sees its owner
    assert root.get_bucket_acl(Bucket="bob-b")["Owner"]["DisplayName"] == "bob"


def test_a_user_named_as_another_users_id_is_not_that_user(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="alice-b")
    alice.put_object(Bucket="alice-b", Key="secret", Body=b"alice's")
    alice_id = alice.list_buckets()["Owner"]["ID"]
    impostor = add_user(srv, alice_id, ("IMPOSTORKEY000000001", "impostor-secret/0123456789abcdefghijkl"))
    impostor_owner = impostor.list_buckets()["Owner"]
    assert impostor_owner["DisplayName"] == alice_id and impostor_owner["ID"] != alice_id
    # the bucket stays alice's: its owner is named by id, and an id is never read as a name
    assert code_of(impostor.get_object, Bucket="alice-b", Key="secret") == "AccessDenied"
    assert code_of(impostor.list_objects_v2, Bucket="alice-b") == "AccessDenied"
    assert code_of(impostor.get_bucket_acl, Bucket="alice-b") == "AccessDenied"
    assert code_of(impostor.create_bucket, Bucket="alice-b") == "BucketAlreadyExists"
    assert "alice-b" not in [b["Name"] for b in impostor.list_buckets()["Buckets"]]
    assert alice.get_bucket_acl(Bucket="alice-b")["Owner"] == {"ID": alice_id, "DisplayName": "alice"}
    assert alice.list_objects(Bucket="alice-b")["Contents"][0]["Owner"] == {"ID": alice_id, "DisplayName": "alice"}
    # a grant by id goes to the user of that id
    bob.create_bucket(Bucket="bob-b")
    bob.put_bucket_acl(Bucket="bob-b", GrantRead='id="%s"' % alice_id)
    grantees = [g["Grantee"] for g in bob.get_bucket_acl(Bucket="bob-b")["Grants"] if g["Permission"] == "READ"]
    assert grantees == [{"Type": "CanonicalUser", "ID": alice_id, "DisplayName": "alice"}]
    assert alice.list_objects_v2(Bucket="bob-b")["KeyCount"] == 0
    assert code_of(impostor.list_objects_v2, Bucket="bob-b") == "AccessDenied"


def allow(bucket, user, actions, resource):
    """A bucket policy statement letting user (a name) do actions on resource ("" the bucket, else bucket/resource)."""
    return {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % user}, "Action": actions,
            "Resource": "arn:aws:s3:::%s%s" % (bucket, "/" + resource if resource else "")}


def put_policy(client, bucket, *statements):
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def owner_of(user_client, name):
    return {"ID": user_client.list_buckets()["Owner"]["ID"], "DisplayName": name}


def test_listings_show_each_objects_owner(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="shared")
    put_policy(alice, "shared", allow("shared", "bob", "s3:PutObject", "*"))
    for key in ("a1", "dir/1", "dir/2", "dir/3", "dir/4", "dir/5", "m-alice"):
        alice.put_object(Bucket="shared", Key=key, Body=b"a")
    for key in ("by-bob", "dir/6", "z-bob"):
        bob.put_object(Bucket="shared", Key=key, Body=b"b")
    alice.put_object(Bucket="shared", Key="public", Body=b"p", ACL="public-read")  # an ACL, alice's
    a, b = owner_of(alice, "alice"), owner_of(bob, "bob")
    want = {"a1": a, "by-bob": b, "dir/1": a, "dir/2": a, "dir/3": a, "dir/4": a, "dir/5": a, "dir/6": b,
            "m-alice": a, "public": a, "z-bob": b}
    for client in (alice, root):  # the objects' owners, never the requester
        got = {o["Key"]: o["Owner"] for o in client.list_objects(Bucket="shared")["Contents"]}
        assert got == want
        got = {o["Key"]: o["Owner"] for o in client.list_objects_v2(Bucket="shared", FetchOwner=True)["Contents"]}
        assert got == want
        got = {o["Key"]: o["Owner"] for o in client.list_object_versions(Bucket="shared")["Versions"]}
        assert got == want
    assert all("Owner" not in o for o in alice.list_objects_v2(Bucket="shared")["Contents"])
    # a delimiter rolls dir/ up: the entries after it still get their own owners
    res = alice.list_objects(Bucket="shared", Delimiter="/")
    assert {o["Key"]: o["Owner"] for o in res["Contents"]} == {k: v for k, v in want.items() if "/" not in k}
    assert [p["Prefix"] for p in res["CommonPrefixes"]] == ["dir/"]
    # page by page, each page its own walk
    pages = alice.get_paginator("list_objects_v2").paginate(Bucket="shared", FetchOwner=True, PaginationConfig={"PageSize": 2})
    assert {o["Key"]: o["Owner"] for p in pages for o in p["Contents"]} == want
    # an object bob overwrites becomes his
    bob.put_object(Bucket="shared", Key="a1", Body=b"b")
    assert alice.list_objects(Bucket="shared", Prefix="a1")["Contents"][0]["Owner"] == b


def test_multipart_listings_show_the_initiator(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="mpu")
    put_policy(alice, "mpu", allow("mpu", "bob", ["s3:PutObject", "s3:ListMultipartUploadParts"], "*"))
    a, b = owner_of(alice, "alice"), owner_of(bob, "bob")
    by_bob = bob.create_multipart_upload(Bucket="mpu", Key="big-bob")["UploadId"]
    by_alice = alice.create_multipart_upload(Bucket="mpu", Key="big-alice")["UploadId"]
    bob.upload_part(Bucket="mpu", Key="big-bob", UploadId=by_bob, PartNumber=1, Body=b"part")
    for client in (alice, root):
        uploads = {u["UploadId"]: u for u in client.list_multipart_uploads(Bucket="mpu")["Uploads"]}
        assert (uploads[by_bob]["Initiator"], uploads[by_bob]["Owner"]) == (b, b)
        assert (uploads[by_alice]["Initiator"], uploads[by_alice]["Owner"]) == (a, a)
        parts = client.list_parts(Bucket="mpu", Key="big-bob", UploadId=by_bob)
        assert (parts["Initiator"], parts["Owner"]) == (b, b)
        assert [p["PartNumber"] for p in parts["Parts"]] == [1]
    parts = bob.list_parts(Bucket="mpu", Key="big-bob", UploadId=by_bob)
    assert (parts["Initiator"], parts["Owner"]) == (b, b)
    parts = alice.list_parts(Bucket="mpu", Key="big-alice", UploadId=by_alice)
    assert (parts["Initiator"], parts["Owner"]) == (a, a)
    # the completed object is bob's, and the initiator stays with the upload
    bob.complete_multipart_upload(Bucket="mpu", Key="big-bob", UploadId=by_bob,
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": parts_etag(bob, by_bob)}]})
    head = alice.head_object(Bucket="mpu", Key="big-bob")
    assert not any(h.startswith("x-coffer") for h in head["ResponseMetadata"]["HTTPHeaders"])
    assert alice.list_objects(Bucket="mpu")["Contents"][0]["Owner"] == b
    assert [u["UploadId"] for u in alice.list_multipart_uploads(Bucket="mpu")["Uploads"]] == [by_alice]


def parts_etag(client, upload_id):
    return client.list_parts(Bucket="mpu", Key="big-bob", UploadId=upload_id)["Parts"][0]["ETag"]


def test_delete_objects_is_decided_key_by_key(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="del")
    keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "keep/x"]
    for key in keys:
        alice.put_object(Bucket="del", Key=key, Body=key.encode())

    def delete(client, names, quiet=False):
        res = client.delete_objects(Bucket="del", Delete={"Objects": [{"Key": k} for k in names], "Quiet": quiet})
        return sorted(d["Key"] for d in res.get("Deleted", [])), {e["Key"]: e["Code"] for e in res.get("Errors", [])}

    def remaining():
        return [o["Key"] for o in alice.list_objects_v2(Bucket="del").get("Contents", [])]

    # without a grant every key is refused, in a 200 answer
    assert delete(bob, ["a/1", "c"]) == ([], {"a/1": "AccessDenied", "c": "AccessDenied"})
    # bob may delete under a/ only: those go, the others come back AccessDenied and stay
    put_policy(alice, "del", allow("del", "bob", "s3:DeleteObject", "a/*"))
    assert delete(bob, ["a/1", "b/1", "a/b/3", "c", "a/never-was"]) == (
        ["a/1", "a/b/3", "a/never-was"], {"b/1": "AccessDenied", "c": "AccessDenied"})
    assert remaining() == ["a/2", "b/1", "c", "keep/x"]
    assert delete(bob, ["b/1"], quiet=True) == ([], {"b/1": "AccessDenied"})  # errors show in quiet mode too
    # an Allow on everything with a Deny on a prefix: the Deny holds for that prefix, for the owner too
    put_policy(alice, "del", allow("del", "bob", "s3:DeleteObject", "*"),
               {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::del/keep/*"})
    assert delete(bob, ["b/1", "keep/x"]) == (["b/1"], {"keep/x": "AccessDenied"})
    assert delete(alice, ["keep/x"]) == ([], {"keep/x": "AccessDenied"})
    assert remaining() == ["a/2", "c", "keep/x"]
    # the policy's conditions are judged per key as for DeleteObject: every request here comes from 127.0.0.1
    put_policy(alice, "del", allow("del", "bob", "s3:DeleteObject", "*"),
               {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::del/c",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}})
    assert delete(bob, ["a/2", "c"]) == (["a/2"], {"c": "AccessDenied"})
    assert code_of(bob.delete_object, Bucket="del", Key="c") == "AccessDenied"  # as the single delete decides
    # root, the administrator, needs no grant, but the policy's Deny on c (everyone from 127/8) refuses it too
    assert delete(root, ["c", "keep/x"]) == (["keep/x"], {"c": "AccessDenied"})
    root.delete_bucket_policy(Bucket="del")
    assert delete(root, ["c"]) == (["c"], {})
    assert remaining() == []


def test_a_policy_deny_holds_for_root_who_keeps_the_policy(three):
    srv, root, alice, bob = three
    alice.create_bucket(Bucket="vault")  # alice's: root is neither its owner nor granted anything
    for key in ("locked/a", "open/a"):
        alice.put_object(Bucket="vault", Key=key, Body=key.encode())
    alice.create_bucket(Bucket="elsewhere")
    deny = {"Sid": "Locked", "Effect": "Deny", "Principal": "*",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::vault/locked/*"}
    put_policy(alice, "vault", deny)
    assert code_of(root.get_object, Bucket="vault", Key="locked/a") == "AccessDenied"
    assert code_of(root.head_object, Bucket="vault", Key="locked/a") == "403"
    assert code_of(root.put_object, Bucket="vault", Key="locked/b", Body=b"b") == "AccessDenied"
    assert code_of(root.delete_object, Bucket="vault", Key="locked/a") == "AccessDenied"
    res = root.delete_objects(Bucket="vault", Delete={"Objects": [{"Key": "locked/a"}, {"Key": "open/gone"}]})
    assert [d["Key"] for d in res.get("Deleted", [])] == ["open/gone"]
    assert {e["Key"]: e["Code"] for e in res.get("Errors", [])} == {"locked/a": "AccessDenied"}
    # the copy's source is read under its bucket's policy, and the copy is written under the target's
    assert code_of(root.copy_object, Bucket="elsewhere", Key="c", CopySource={"Bucket": "vault", "Key": "locked/a"}) == \
        "AccessDenied"
    assert code_of(root.copy_object, Bucket="vault", Key="locked/c", CopySource={"Bucket": "vault", "Key": "open/a"}) == \
        "AccessDenied"
    # outside the Deny root needs no grant
    assert root.get_object(Bucket="vault", Key="open/a")["Body"].read() == b"open/a"
    root.put_object(Bucket="vault", Key="open/b", Body=b"b")
    root.copy_object(Bucket="elsewhere", Key="c", CopySource={"Bucket": "vault", "Key": "open/a"})
    assert code_of(bob.get_object, Bucket="vault", Key="open/a") == "AccessDenied"  # the others still need one
    # a Deny naming root's ARN holds for root alone, and only while its condition holds (every request is from 127.0.0.1)
    by_ip = {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::vault/open/*", "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}
    put_policy(alice, "vault", by_ip)
    assert code_of(root.get_object, Bucket="vault", Key="open/a") == "AccessDenied"
    assert alice.get_object(Bucket="vault", Key="open/a")["Body"].read() == b"open/a"
    by_ip["Condition"]["IpAddress"]["aws:SourceIp"] = "10.0.0.0/8"
    put_policy(alice, "vault", by_ip)
    assert root.get_object(Bucket="vault", Key="open/a")["Body"].read() == b"open/a"
    # a policy that denies everything, its own operations included, cannot lock root out
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*"]}
    put_policy(alice, "vault", deny, deny_all)
    assert code_of(root.list_objects_v2, Bucket="vault") == "AccessDenied"
    assert code_of(root.get_object, Bucket="vault", Key="open/a") == "AccessDenied"
    assert json.loads(root.get_bucket_policy(Bucket="vault")["Policy"])["Statement"] == [deny, deny_all]
    put_policy(root, "vault", deny)
    assert root.get_object(Bucket="vault", Key="open/a")["Body"].read() == b"open/a"
    assert code_of(root.get_object, Bucket="vault", Key="locked/a") == "AccessDenied"
    root.delete_bucket_policy(Bucket="vault")
    # no policy, no Deny: root reaches everything again
    assert root.get_object(Bucket="vault", Key="locked/a")["Body"].read() == b"locked/a"
    root.put_object(Bucket="vault", Key="locked/b", Body=b"b")
    root.delete_object(Bucket="vault", Key="locked/b")
    assert [o["Key"] for o in root.list_objects_v2(Bucket="vault")["Contents"]] == ["locked/a", "open/a", "open/b"]


def cache_slot(name):
    """The slot server/authz.c's bucket cache gives a name (FNV-1a over its bytes, 64 slots)."""
    h = 2166136261
    for b in name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % 64


def test_a_too_long_name_never_stands_for_the_bucket_it_starts_with(three):
    """A name over 63 characters, whose first 63 name a private bucket, must not leave its
    "no such bucket" in that bucket's cache slot for the real bucket to be judged by."""
    srv, root, alice, bob = three
    name = "private-" + "x" * 55
    assert len(name) == 63
    bob.create_bucket(Bucket=name)
    bob.put_object(Bucket=name, Key="secret.txt", Body=b"bob's")
    assert anon(srv, "/%s/secret.txt" % name)[0] == 403
    longer = next(name + s for s in ("%d" % i for i in range(10000)) if cache_slot(name + s) == cache_slot(name))
    status, _ = anon(srv, "/%s" % longer)  # a bucket-level request is judged at once: cached under its whole name only
    assert status in (400, 404), status
    assert anon(srv, "/%s/secret.txt" % name)[0] == 403
    assert anon(srv, "/%s" % name)[0] == 403
    assert anon(srv, "/%s/secret.txt" % name, method="DELETE")[0] == 403
    assert code_of(alice.get_object, Bucket=name, Key="secret.txt") == "AccessDenied"
    assert bob.get_object(Bucket=name, Key="secret.txt")["Body"].read() == b"bob's"
