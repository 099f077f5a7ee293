"""Durability: restarts (SIGTERM), crashes (SIGKILL) and chunk files on disk.

Each test runs its own server on its own directories so that crashes and file
counts do not disturb (or get disturbed by) the rest of the suite.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor


from s3compat import KiB, MiB, all_keys, assert_absent, data_of, listing_body, md5_hex, sha256, wait_for

SMALL = [0, 1, 100, 4 * KiB, 4 * KiB + 1, 64 * KiB]


def read(client, bucket, key):
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


def put_set(client, bucket, sizes, seed_base, prefix):
    objs = {}
    for i, size in enumerate(sizes):
        key = "%s/%d-%d" % (prefix, i, size)
        data = data_of(size, seed=seed_base + i)
        put = client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/x-test-%d" % i,
                                Metadata={"idx": str(i)})
        assert put["ETag"] == '"%s"' % md5_hex(data)
        objs[key] = data
    return objs


def check_set(client, bucket, objs):
    for key, data in objs.items():
        resp = client.get_object(Bucket=bucket, Key=key)
        assert sha256(resp["Body"].read()) == sha256(data), key
        assert resp["ETag"] == '"%s"' % md5_hex(data), key
        assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data), key
    assert all_keys(client, bucket) == sorted(objs)


def test_restart_sigterm_keeps_everything(server_factory):
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="durable")
    c.create_bucket(Bucket="durable-empty")
    objs = put_set(c, "durable", SMALL + [20 * MiB, 8 * MiB, 8 * MiB + 1], 500, "set")
    # an overwrite and a delete before the restart
    objs["set/0-0"] = b"overwritten"
    c.put_object(Bucket="durable", Key="set/0-0", Body=b"overwritten",
                 ContentType="application/x-test-0", Metadata={"idx": "0"})
    c.delete_object(Bucket="durable", Key="set/1-1")
    del objs["set/1-1"]

    rc = srv.stop()
    assert rc == 0, "coffer exited with %r on SIGTERM" % rc
    srv.start()
    c = srv.client()
    check_set(c, "durable", objs)
    assert_absent(c, "durable", "set/1-1")
    head = c.head_object(Bucket="durable", Key="set/2-100")
    assert head["ContentType"] == "application/x-test-2"
    assert head["Metadata"] == {"idx": "2"}
    names = [b["Name"] for b in c.list_buckets()["Buckets"]]
    assert names == ["durable", "durable-empty"]

    # and a second restart, after more writes
    more = put_set(c, "durable-empty", [5, 20 * MiB], 600, "more")
    srv.restart()
    c = srv.client()
    check_set(c, "durable", objs)
    check_set(c, "durable-empty", more)


def test_sigkill_after_acknowledged_puts(server_factory):
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="crash")
    objs = {}
    # acknowledged writes from several threads, then SIGKILL right away
    sizes = [0, 1, 4 * KiB, 4 * KiB + 1, 300 * KiB, 9 * MiB, 20 * MiB] * 2

    def put(i):
        key = "k%02d" % i
        data = data_of(sizes[i], seed=700 + i)
        r = c.put_object(Bucket="crash", Key=key, Body=data)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        return key, data

    with ThreadPoolExecutor(4) as pool:
        objs.update(pool.map(put, range(len(sizes))))
    c.put_object(Bucket="crash", Key="k00", Body=b"second version")
    objs["k00"] = b"second version"
    c.delete_object(Bucket="crash", Key="k01")
    del objs["k01"]
    srv.kill()

    srv.start()
    c = srv.client()
    check_set(c, "crash", objs)
    assert_absent(c, "crash", "k01")

    # crash again straight after a big overwrite and a new bucket
    c.create_bucket(Bucket="crash2")
    big = data_of(20 * MiB, seed=799)
    c.put_object(Bucket="crash", Key="k06", Body=big)
    objs["k06"] = big
    c.put_object(Bucket="crash2", Key="x", Body=b"x")
    srv.kill()
    srv.start()
    c = srv.client()
    check_set(c, "crash", objs)
    assert sha256(read(c, "crash2", "x")) == sha256(b"x")


def test_sigkill_during_concurrent_writes(server_factory):
    """Objects acknowledged before a crash survive; unacknowledged ones are whole or absent."""
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="race")
    acked = {}
    attempted = {}
    for i in range(6):
        data = data_of(3 * MiB + i, seed=900 + i)
        attempted["pre%d" % i] = data
        c.put_object(Bucket="race", Key="pre%d" % i, Body=data)
        acked["pre%d" % i] = data

    def put(i):
        key = "w%02d" % i
        data = data_of(2 * MiB + 7 * i, seed=950 + i)
        attempted[key] = data
        try:
            c.put_object(Bucket="race", Key=key, Body=data)
        except Exception:
            return None
        return key

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(put, i) for i in range(24)]
        time.sleep(0.3)
        srv.kill()
        done = [f.result(timeout=120) for f in futures]
    for i, key in enumerate(done):
        if key:
            acked[key] = attempted[key]
    srv.start()
    c = srv.client()
    listed = all_keys(c, "race")
    for key, data in acked.items():
        assert key in listed, key
        assert sha256(read(c, "race", key)) == sha256(data), key
    for key in listed:
        assert key in attempted, key
        assert sha256(read(c, "race", key)) == sha256(attempted[key]), key


def test_big_objects_spread_over_both_data_dirs(server_factory):
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="big")
    assert sum(srv.chunk_files()) == 0
    objs = {}
    for i in range(3):
        data = data_of(50 * MiB, seed=1100 + i)
        c.put_object(Bucket="big", Key="big%d" % i, Body=data)
        objs["big%d" % i] = data
    counts = srv.chunk_files()
    assert all(n > 0 for n in counts), "chunk files per data dir: %r" % counts
    # 50 MiB in 8 MiB chunks is at least 7 chunk files per object
    assert sum(counts) >= 3 * 7, counts
    # small objects stay inline: no new chunk files
    c.put_object(Bucket="big", Key="small", Body=b"s" * (4 * KiB))
    assert srv.chunk_files() == counts
    check_set(c, "big", dict(objs, small=b"s" * (4 * KiB)))


def test_delete_and_overwrite_free_chunk_files(server_factory):
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="gc-bucket")
    for i in range(3):
        c.put_object(Bucket="gc-bucket", Key="big%d" % i, Body=data_of(50 * MiB, seed=1200 + i))
    full = sum(srv.chunk_files())
    assert full >= 21, srv.chunk_files()
    assert full % 3 == 0, srv.chunk_files()  # three objects of the same size
    per_object = full // 3

    # delete one: its chunk files go
    c.delete_object(Bucket="gc-bucket", Key="big0")
    wait_for(timeout=15.0, predicate=lambda: sum(srv.chunk_files()) <= full - per_object)
    assert sum(srv.chunk_files()) == full - per_object, (full, srv.chunk_files())

    # overwrite one with a small object: its chunk files go
    c.put_object(Bucket="gc-bucket", Key="big1", Body=b"tiny")
    wait_for(timeout=15.0, predicate=lambda: sum(srv.chunk_files()) <= full - 2 * per_object)
    assert sum(srv.chunk_files()) == full - 2 * per_object, (full, srv.chunk_files())
    assert sha256(read(c, "gc-bucket", "big1")) == sha256(b"tiny")

    # overwrite the last with another big object: old chunks replaced, count unchanged
    new = data_of(50 * MiB, seed=1299)
    c.put_object(Bucket="gc-bucket", Key="big2", Body=new)
    wait_for(timeout=15.0, predicate=lambda: sum(srv.chunk_files()) <= per_object)
    assert sum(srv.chunk_files()) == per_object, srv.chunk_files()
    assert sha256(read(c, "gc-bucket", "big2")) == sha256(new)

    # a restart keeps the count, then deleting everything leaves no chunk file
    srv.restart()
    c = srv.client()
    assert sum(srv.chunk_files()) == per_object
    assert sha256(read(c, "gc-bucket", "big2")) == sha256(new)
    c.delete_object(Bucket="gc-bucket", Key="big2")
    c.delete_object(Bucket="gc-bucket", Key="big1")
    wait_for(timeout=15.0, predicate=lambda: sum(srv.chunk_files()) == 0)
    assert srv.chunk_files() == [0, 0]
    c.delete_bucket(Bucket="gc-bucket")
    for d in srv.data_dirs:
        tmp = os.path.join(d, "tmp")
        leftovers = os.listdir(tmp) if os.path.isdir(tmp) else []
        assert leftovers == [], (tmp, leftovers)


def test_shared_server_restart_keeps_listing(restart_server, listing_bucket):
    """The shared server (2,500 awkward keys) restarted with SIGTERM lists and reads the same."""
    bucket, keys = listing_bucket
    c = restart_server()
    assert all_keys(c, bucket) == keys
    for key in keys[::50] + [k for k in keys if not k.startswith("d")][::17]:
        assert sha256(read(c, bucket, key)) == sha256(listing_body(key)), key
    assert bucket in [b["Name"] for b in c.list_buckets()["Buckets"]]


def test_sigkill_during_multipart_upload(server_factory):
    """Acknowledged parts survive a crash, the upload completes afterwards, and the object survives the next one."""
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="mpcrash")
    parts = [data_of(5 * MiB, seed=900), data_of(6 * MiB + 7, seed=901), data_of(1234, seed=902)]
    uid = c.create_multipart_upload(Bucket="mpcrash", Key="obj", ContentType="application/x-mp")["UploadId"]
    etags = [c.upload_part(Bucket="mpcrash", Key="obj", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts[:2])]
    srv.kill()

    srv.start()
    c = srv.client()
    listed = c.list_parts(Bucket="mpcrash", Key="obj", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed] == \
        [(1, etags[0], len(parts[0])), (2, etags[1], len(parts[1]))]
    assert_absent(c, "mpcrash", "obj")
    etags.append(c.upload_part(Bucket="mpcrash", Key="obj", UploadId=uid, PartNumber=3, Body=parts[2])["ETag"])
    done = c.complete_multipart_upload(
        Bucket="mpcrash", Key="obj", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    srv.kill()

    srv.start()
    c = srv.client()
    whole = b"".join(parts)
    resp = c.get_object(Bucket="mpcrash", Key="obj")
    assert sha256(resp["Body"].read()) == sha256(whole)
    assert resp["ETag"] == done["ETag"] and done["ETag"].endswith('-3"')
    assert resp["ContentType"] == "application/x-mp"
    assert c.list_multipart_uploads(Bucket="mpcrash").get("Uploads", []) == []
    # exactly the object's chunk files are left: 1 + 1 + 1 (parts of 5 MiB, 6 MiB, 1 KiB with 8 MiB chunks)
    assert sum(srv.chunk_files()) == 3
