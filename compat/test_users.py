"""coffer user / coffer key: users and access keys, managed online and offline.

Each test runs its own server (server_factory: own dirs, own port) and drives the real CLI:
online through the root-only admin endpoint (/_coffer/users, /_coffer/keys), and offline on a
stopped server's metadata directory (--meta DIR). The keys it prints are then used by boto3:

    coffer user add NAME [--email E] [--access-key K --secret-key S]   prints "access key: K" / "secret key: S"
    coffer user list [--json]        users with canonical ids and access key ids, never a secret
    coffer user rm NAME              the user and all its keys, in one synced write
    coffer key add USER | key rm ACCESS_KEY | key list [USER]

Exit status: 0 done, 1 refused / not found / exists, 2 usage or connection errors.
"""

import json
import os
import re
import subprocess

import pytest

from s3compat import (
    ACCESS_KEY, SECRET_KEY, client_error, coffer_bin, error_code_of, make_client, raw_request,
    unique_bucket_name,
)

CLI_TIMEOUT = 60
NEW_KEY = re.compile(r"^access key: (?P<ak>\S+)\nsecret key: (?P<sk>.+)$", re.M)


def coffer(*args, root=(ACCESS_KEY, SECRET_KEY)):
    """Runs `coffer ARGS` with root's keys (or the pair given) in its environment."""
    env = dict(os.environ, COFFER_ROOT_ACCESS_KEY=root[0], COFFER_ROOT_SECRET_KEY=root[1], LC_ALL="C.UTF-8")
    p = subprocess.run([coffer_bin()] + list(args), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=CLI_TIMEOUT)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def describe(p):
    return "exit %d\nstdout:\n%s\nstderr:\n%s" % (p.returncode, p.out, p.err)


def online(srv, *args, **kw):
    return coffer(*(list(args) + ["--endpoint", srv.endpoint]), **kw)


def offline(srv, *args):
    return coffer(*(list(args) + ["--meta", srv.meta_dir]))


def new_key(p):
    """(access key, secret) printed by `user add` or `key add`."""
    assert p.returncode == 0, describe(p)
    m = NEW_KEY.search(p.out)
    assert m, describe(p)
    return m.group("ak"), m.group("sk")


def users_of(srv, via=online):
    """name -> user object of `coffer user list --json`."""
    p = via(srv, "user", "list", "--json")
    assert p.returncode == 0, describe(p)
    return {u["name"]: u for u in json.loads(p.out)["users"]}


def key_ids(user):
    return sorted(k["access_key"] for k in user["access_keys"])


def client(srv, key):
    return make_client(srv.endpoint, access_key=key[0], secret_key=key[1])


def make_bucket(srv, key, hint):
    name = unique_bucket_name(hint)
    r = client(srv, key).create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, r
    return name


def assert_refused(srv, key, times=8):
    """Every request signed with key is refused as unknown, on fresh connections (so on every event loop)."""
    for _ in range(times):
        resp = client_error(client(srv, key).list_buckets)
        assert resp["Error"]["Code"] == "InvalidAccessKeyId", resp
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 403, resp


def assert_works(srv, key, times=8):
    for _ in range(times):
        r = client(srv, key).list_buckets()
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200, r


def server_log(srv):
    with open(srv.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


# ------------------------------------------------------------------ online

def test_users_added_online_sign_their_own_requests(server_factory):
    srv = server_factory()
    alice = new_key(online(srv, "user", "add", "alice", "--email", "alice@example.com"))
    assert len(alice[0]) == 20 and re.fullmatch(r"[A-Z0-9]{20}", alice[0]), alice
    assert len(alice[1]) == 40, alice
    bob = ("AKBOBGIVENKEY000001", "bob's own secret/with+odd=chars")
    assert new_key(online(srv, "user", "add", "bob", "--access-key", bob[0], "--secret-key", bob[1])) == bob

    buckets = {name: make_bucket(srv, key, name) for name, key in (("alice", alice), ("bob", bob))}

    users = users_of(srv)
    assert sorted(users) == ["alice", "bob", "root"], users
    ids = {name: u["canonical_id"] for name, u in users.items()}
    for name, cid in ids.items():
        assert re.fullmatch(r"[0-9a-f]{64}", cid), (name, cid)
        assert users[name]["display_name"] == name
    assert len(set(ids.values())) == 3, ids
    assert users["alice"]["email"] == "alice@example.com" and users["bob"]["email"] is None, users
    assert key_ids(users["alice"]) == [alice[0]] and key_ids(users["bob"]) == [bob[0]], users
    assert key_ids(users["root"]) == [ACCESS_KEY], users

    # each user is its own owner: ListBuckets names the requester by its user's canonical id
    for name, key in (("alice", alice), ("bob", bob)):
        r = client(srv, key).list_buckets()
        assert r["Owner"]["ID"] == ids[name], (name, r["Owner"])
        assert buckets[name] in [b["Name"] for b in r["Buckets"]], (name, r["Buckets"])

    # the listings never show a secret, in text or JSON
    for args in (("user", "list"), ("user", "list", "--json"), ("key", "list"), ("key", "list", "alice", "--json")):
        p = online(srv, *args)
        assert p.returncode == 0, describe(p)
        assert alice[0] in p.out and (bob[0] in p.out) == ("alice" not in args), describe(p)
        for secret in (alice[1], bob[1], SECRET_KEY):
            assert secret not in p.out and secret not in p.err, describe(p)

    # names, e-mail addresses and access keys are unique
    for args in (("user", "add", "alice"),
                 ("user", "add", "carol", "--email", "ALICE@example.com"),
                 ("user", "add", "carol", "--access-key", bob[0], "--secret-key", "x"),
                 ("key", "add", "alice", "--access-key", bob[0], "--secret-key", "x")):
        p = online(srv, *args)
        assert p.returncode == 1, describe(p)
        assert "EntityAlreadyExists" in p.err, describe(p)
    assert sorted(users_of(srv)) == ["alice", "bob", "root"]

    # names and keys the CLI refuses before sending anything
    for args in (("user", "add", "no spaces"), ("user", "add", "x" * 65), ("user", "add", "dave", "--email", "nope"),
                 ("user", "add", "dave", "--access-key", "lowercase0000000001"), ("user", "add"),
                 ("key", "add", "alice", "--access-key", "SHORT")):
        p = online(srv, *args)
        assert p.returncode == 2, describe(p)
    assert srv.alive()


def test_a_removed_key_is_refused_at_once(server_factory):
    srv = server_factory(threads=3)
    first = new_key(online(srv, "user", "add", "alice"))
    second = new_key(online(srv, "key", "add", "alice"))
    assert first[0] != second[0]
    p = online(srv, "key", "list", "alice")
    assert p.returncode == 0 and first[0] in p.out and second[0] in p.out, describe(p)

    assert_works(srv, first)  # the signing key is now cached on the loops
    assert_works(srv, second)
    p = online(srv, "key", "rm", first[0])
    assert p.returncode == 0, describe(p)
    assert_refused(srv, first)
    assert_works(srv, second)
    assert srv.alive()

    p = online(srv, "key", "rm", first[0])
    assert p.returncode == 1 and "NoSuchEntity" in p.err, describe(p)
    assert key_ids(users_of(srv)["alice"]) == [second[0]]


def test_user_rm_removes_every_key_of_the_user(server_factory):
    srv = server_factory()
    bob = [new_key(online(srv, "user", "add", "bob"))]
    bob += [new_key(online(srv, "key", "add", "bob")) for _ in range(2)]
    carol = new_key(online(srv, "user", "add", "carol"))
    make_bucket(srv, bob[0], "bob")
    for key in bob:
        assert_works(srv, key, times=4)

    p = online(srv, "user", "rm", "bob")
    assert p.returncode == 0, describe(p)
    assert "3 access keys" in p.out, describe(p)
    for key in bob:
        assert_refused(srv, key, times=4)
    assert_works(srv, carol)
    assert sorted(users_of(srv)) == ["carol", "root"]

    for args in (("user", "rm", "bob"), ("key", "list", "bob"), ("key", "add", "bob")):
        p = online(srv, *args)
        assert p.returncode == 1, describe(p)
    # the name is free again, for a new user with a new canonical id
    old_id = users_of(srv)["carol"]["canonical_id"]
    new_bob = new_key(online(srv, "user", "add", "bob"))
    assert users_of(srv)["bob"]["canonical_id"] != old_id
    assert_works(srv, new_bob)


def test_root_cannot_be_removed(server_factory):
    srv = server_factory()
    p = online(srv, "user", "rm", "root")
    assert p.returncode == 1 and "AccessDenied" in p.err, describe(p)
    p = online(srv, "key", "rm", ACCESS_KEY)  # root's configured key follows COFFER_ROOT_ACCESS_KEY
    assert p.returncode == 1 and "AccessDenied" in p.err, describe(p)
    # a second key of root's may come and go
    extra = new_key(online(srv, "key", "add", "root"))
    assert_works(srv, extra, times=2)
    p = online(srv, "user", "list", root=extra)  # any of root's keys administers
    assert p.returncode == 0, describe(p)
    assert online(srv, "key", "rm", extra[0]).returncode == 0
    assert_refused(srv, extra, times=2)
    assert_works(srv, (ACCESS_KEY, SECRET_KEY), times=2)
    p = offline(srv, "user", "rm", "root")  # the server runs: refused before anything else
    assert p.returncode == 2
    srv.stop()
    p = offline(srv, "user", "rm", "root")
    assert p.returncode == 1 and "root" in p.err, describe(p)


def test_admin_endpoint_is_root_only(server_factory):
    srv = server_factory()
    alice = new_key(online(srv, "user", "add", "alice"))
    port = srv.port
    body = json.dumps({"name": "mallory"}).encode()

    requests = [("GET", "/_coffer/users", b""), ("POST", "/_coffer/users", body), ("DELETE", "/_coffer/users/root", b""),
                ("POST", "/_coffer/users/alice/keys", b""), ("DELETE", "/_coffer/keys/" + ACCESS_KEY, b"")]
    for method, path, data in requests:
        r = raw_request(port, method, path, body=data, access_key=alice[0], secret_key=alice[1])
        assert r.status == 403 and error_code_of(r.body) == "AccessDenied", (method, path, r)
        r = raw_request(port, method, path, body=data, sign=False)
        assert r.status == 403 and error_code_of(r.body) == "AccessDenied", (method, path, r)
    p = online(srv, "user", "add", "mallory", root=alice)
    assert p.returncode == 1 and "403" in p.err, describe(p)
    p = online(srv, "user", "list", root=(ACCESS_KEY, "not-the-secret"))
    assert p.returncode == 1, describe(p)
    assert sorted(users_of(srv)) == ["alice", "root"]

    # root: malformed requests are S3 errors, as the scrub endpoint answers them
    for data in (b"{not json", b"[]", b'{"name": 5}', b'{"name": "bad name"}', b'{"name": "x", "colour": "red"}',
                 b'{"email": "a@b"}', b'{"name": "dave", "access_key": "lower0000000000001"}'):
        r = raw_request(port, "POST", "/_coffer/users", body=data)
        assert r.status == 400 and error_code_of(r.body) == "InvalidArgument", (data, r)
    r = raw_request(port, "DELETE", "/_coffer/users/nobody")
    assert r.status == 404 and error_code_of(r.body) == "NoSuchEntity", r
    r = raw_request(port, "PUT", "/_coffer/users")
    assert r.status == 405, r

    # and a well-formed one answers JSON with the secret, once
    r = raw_request(port, "POST", "/_coffer/users", body=json.dumps({"name": "dave", "email": "dave@example.com"}).encode())
    assert r.status == 200 and r.headers.get("content-type", "").startswith("application/json"), r
    dave = json.loads(r.body)
    assert dave["name"] == "dave" and dave["email"] == "dave@example.com" and len(dave["secret_key"]) == 40, dave
    assert_works(srv, (dave["access_key"], dave["secret_key"]), times=2)
    r = raw_request(port, "GET", "/_coffer/users")
    assert r.status == 200 and dave["secret_key"].encode() not in r.body and b"secret" not in r.body, r


# ------------------------------------------------------------------ offline

def test_offline_add_on_a_stopped_server(server_factory):
    srv = server_factory()
    # refused while the server runs on the metadata directory (its lock), and nothing is written
    p = offline(srv, "user", "add", "carol")
    assert p.returncode == 2 and "lock" in p.err, describe(p)
    assert "--endpoint" in p.err, describe(p)
    assert srv.alive()
    assert "carol" not in users_of(srv)
    # online with --meta: the root keys come from the metadata directory, even while the server runs
    p = coffer("user", "list", "--endpoint", srv.endpoint, "--meta", srv.meta_dir, root=("", ""))
    assert p.returncode == 0 and "root" in p.out, describe(p)

    rc = srv.stop()
    assert rc == 0
    carol = ("AKCAROLOFFLINE00001", "carol-offline-secret")
    assert new_key(offline(srv, "user", "add", "carol", "--email", "carol@example.com", "--access-key", carol[0],
                           "--secret-key", carol[1])) == carol
    dave = new_key(offline(srv, "user", "add", "dave"))
    dave2 = new_key(offline(srv, "key", "add", "dave"))
    assert offline(srv, "key", "rm", dave[0]).returncode == 0
    users = users_of(srv, via=offline)
    assert sorted(users) == ["carol", "dave", "root"], users
    assert key_ids(users["dave"]) == [dave2[0]]
    p = offline(srv, "user", "add", "carol")
    assert p.returncode == 1, describe(p)
    p = offline(srv, "key", "list", "--json")
    assert p.returncode == 0 and carol[1] not in p.out, describe(p)

    srv.start()
    bucket = make_bucket(srv, carol, "carol")
    r = client(srv, carol).list_buckets()
    assert r["Owner"]["ID"] == users["carol"]["canonical_id"], r
    assert bucket in [b["Name"] for b in r["Buckets"]]
    assert_works(srv, dave2, times=2)
    assert_refused(srv, dave, times=2)
    # the ids stay what they were
    assert {n: u["canonical_id"] for n, u in users_of(srv).items()} == {n: u["canonical_id"] for n, u in users.items()}


def test_users_survive_a_restart(server_factory):
    srv = server_factory()
    alice = new_key(online(srv, "user", "add", "alice", "--email", "alice@example.com"))
    before = users_of(srv)
    srv.restart(hard=True)  # synced writes: a crash right after the reply keeps the user
    assert users_of(srv) == before
    assert_works(srv, alice, times=2)


def test_a_64_character_name_is_shown_whole(server_factory):
    srv = server_factory()
    long_name = "a-user-name-of-the-longest-length-allowed.64-characters@x.y_z+=1"
    assert len(long_name) == 64
    key = new_key(online(srv, "user", "add", long_name, "--email", "long@example.com"))
    assert online(srv, "user", "add", long_name + "2").returncode == 2  # 65 is one too many
    users = users_of(srv)
    assert users[long_name]["display_name"] == long_name
    p = online(srv, "user", "list")
    assert p.returncode == 0 and re.search(r"^%s +%s " % (re.escape(long_name), users[long_name]["canonical_id"]),
                                            p.out, re.M), describe(p)
    owner = {"ID": users[long_name]["canonical_id"], "DisplayName": long_name}

    s3 = client(srv, key)
    bucket = make_bucket(srv, key, "long")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_object(Bucket=bucket, Key="public", Body=b"v", ACL="public-read")  # an object with an ACL of its own
    assert s3.list_buckets()["Owner"] == owner
    assert s3.get_bucket_acl(Bucket=bucket)["Owner"] == owner
    assert {o["Key"]: o["Owner"] for o in s3.list_objects(Bucket=bucket)["Contents"]} == {"k": owner, "public": owner}
    acl = s3.get_object_acl(Bucket=bucket, Key="public")
    assert acl["Owner"] == owner
    assert {"Type": "CanonicalUser", "ID": owner["ID"], "DisplayName": long_name} in [g["Grantee"] for g in acl["Grants"]]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]["Initiator"] == owner
    s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload)

    # granted by another user, by id and by e-mail address: the grantee's whole name
    root = srv.client()
    root_bucket = unique_bucket_name("grants")
    root.create_bucket(Bucket=root_bucket)
    root.put_bucket_acl(Bucket=root_bucket, GrantRead='id="%s"' % owner["ID"], GrantWrite='emailAddress="long@example.com"')
    grantees = {g["Permission"]: g["Grantee"] for g in root.get_bucket_acl(Bucket=root_bucket)["Grants"]}
    assert grantees["READ"].get("DisplayName") == long_name and grantees["WRITE"].get("DisplayName") == long_name, grantees
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=root_bucket).get("Contents", [])] == []


# ------------------------------------------------------------------ secrets

def test_secrets_never_reach_the_server_log(server_factory):
    srv = server_factory(log_level="debug")  # whatever is logged, at any level
    secrets = [SECRET_KEY]
    alice = new_key(online(srv, "user", "add", "alice"))
    given = ("AKGIVENSECRETKEY001", "given-secret-never-logged")
    bob = new_key(online(srv, "user", "add", "bob", "--access-key", given[0], "--secret-key", given[1]))
    extra = new_key(online(srv, "key", "add", "alice"))
    secrets += [alice[1], bob[1], extra[1]]
    make_bucket(srv, alice, "alice")
    resp = client_error(client(srv, (alice[0], alice[1] + "x")).list_buckets)  # a bad signature is logged, the secret not
    assert resp["Error"]["Code"] == "SignatureDoesNotMatch", resp
    assert online(srv, "key", "rm", extra[0]).returncode == 0
    assert online(srv, "user", "rm", "bob").returncode == 0
    assert online(srv, "user", "add", "alice", "--access-key", "AKDUPLICATE00000001", "--secret-key", "dup-secret-x").returncode == 1
    secrets.append("dup-secret-x")
    srv.stop()
    log = server_log(srv)
    assert "users: user alice added" in log and alice[0] in log, log[-3000:]
    for secret in secrets:
        assert secret not in log, "a secret is in the server log"


@pytest.mark.parametrize("args", [("user",), ("user", "--help"), ("key", "--help"), ("--help",)])
def test_help(args):
    p = coffer(*args)
    text = p.out + p.err
    assert p.returncode == (2 if args == ("user",) else 0), describe(p)
    assert "user" in text and ("--endpoint" in text or args == ("--help",)), describe(p)
