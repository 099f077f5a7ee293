"""aws-cli (Debian's 2.9, /usr/bin/aws) against a live coffer."""

import json

import pytest

from s3compat import (
    SECRET_KEY, CliRunner, KiB, MiB, data_of, md5_hex, sha256, sha256_file, unique_bucket_name, write,
)


def ls_keys(output):
    """Keys from `aws s3 ls --recursive` lines: 'DATE TIME SIZE KEY' (KEY may contain spaces)."""
    keys = []
    for line in output.splitlines():
        if not line.strip() or line.lstrip().startswith("PRE "):
            continue
        # 'YYYY-MM-DD HH:MM:SS', a right-aligned size, one space, then the key verbatim
        size, key = line[19:].lstrip(" ").split(" ", 1)
        assert size.isdigit(), line
        keys.append(key)
    return keys


def test_mb_ls_rb(cli, s3):
    name = unique_bucket_name("awscli-mb")
    p = cli.aws("s3", "mb", "s3://" + name)
    assert "make_bucket: %s" % name in p.out
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    listed = cli.aws("s3", "ls").out
    assert any(line.split()[-1] == name for line in listed.splitlines()), listed
    head = cli.aws("s3api", "head-bucket", "--bucket", name)
    assert head.returncode == 0
    loc = json.loads(cli.aws("s3api", "get-bucket-location", "--bucket", name).out)
    assert loc.get("LocationConstraint") is None
    buckets = json.loads(cli.aws("s3api", "list-buckets").out)
    assert name in [b["Name"] for b in buckets["Buckets"]]
    p = cli.aws("s3", "rb", "s3://" + name)
    assert "remove_bucket: %s" % name in p.out
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_mb_existing_bucket_fails(cli, bucket):
    p = cli.aws("s3", "mb", "s3://" + bucket, check=False)
    assert p.returncode != 0
    assert "BucketAlreadyOwnedByYou" in p.err, p.err


@pytest.mark.parametrize("size", [0, 1, 4 * KiB, 4 * KiB + 1, 50 * MiB], ids=lambda s: "%dB" % s)
def test_s3api_put_get_head_delete(cli, s3, bucket, tmp_path, size):
    data = data_of(size, seed=1000 + size)
    src = write(tmp_path / "src.bin", data)
    key = "dir/obj %d.bin" % size
    put = json.loads(cli.aws("s3api", "put-object", "--bucket", bucket, "--key", key, "--body", src).out)
    assert put["ETag"] == '"%s"' % md5_hex(data)

    head = json.loads(cli.aws("s3api", "head-object", "--bucket", bucket, "--key", key).out)
    assert head["ContentLength"] == size
    assert head["ETag"] == '"%s"' % md5_hex(data)

    dst = str(tmp_path / "dst.bin")
    got = json.loads(cli.aws("s3api", "get-object", "--bucket", bucket, "--key", key, dst).out)
    assert got["ContentLength"] == size
    assert sha256_file(dst) == sha256(data)

    # cross-check with another client
    assert sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(data)

    cli.aws("s3api", "delete-object", "--bucket", bucket, "--key", key)
    p = cli.aws("s3api", "head-object", "--bucket", bucket, "--key", key, check=False)
    assert p.returncode != 0
    assert "404" in p.err or "Not Found" in p.err, p.err


def test_s3api_get_missing_key(cli, bucket, tmp_path):
    p = cli.aws("s3api", "get-object", "--bucket", bucket, "--key", "nope", str(tmp_path / "x"), check=False)
    assert p.returncode != 0
    assert "NoSuchKey" in p.err, p.err


def test_s3api_metadata_and_range(cli, bucket, tmp_path):
    data = data_of(10 * KiB, seed=77)
    src = write(tmp_path / "m.bin", data)
    cli.aws("s3api", "put-object", "--bucket", bucket, "--key", "m", "--body", src,
            "--content-type", "text/x-coffer", "--cache-control", "no-cache",
            "--content-disposition", "inline", "--content-language", "fr",
            "--metadata", "color=green,shape=round")
    head = json.loads(cli.aws("s3api", "head-object", "--bucket", bucket, "--key", "m").out)
    assert head["ContentType"] == "text/x-coffer"
    assert head["CacheControl"] == "no-cache"
    assert head["ContentDisposition"] == "inline"
    assert head["ContentLanguage"] == "fr"
    assert head["Metadata"] == {"color": "green", "shape": "round"}
    dst = str(tmp_path / "r.bin")
    got = json.loads(cli.aws("s3api", "get-object", "--bucket", bucket, "--key", "m",
                             "--range", "bytes=100-4196", dst).out)
    assert got["ContentRange"] == "bytes 100-4196/%d" % len(data)
    assert sha256_file(dst) == sha256(data[100:4197])


def test_cp_small_files_round_trip(cli, s3, bucket, tmp_path):
    names = ["plain.txt", "with space.txt", "ünïcode-日本.bin", "empty"]
    sizes = [1, 4 * KiB, 4 * KiB + 1, 0]
    blobs = {}
    for i, (name, size) in enumerate(zip(names, sizes)):
        data = data_of(size, seed=300 + i)
        blobs[name] = data
        src = write(tmp_path / name, data)
        p = cli.aws("s3", "cp", src, "s3://%s/up/%s" % (bucket, name))
        assert "upload:" in p.out
    listed = ls_keys(cli.aws("s3", "ls", "--recursive", "s3://%s/" % bucket).out)
    assert sorted(listed) == sorted("up/" + n for n in names)
    out_dir = tmp_path / "down"
    out_dir.mkdir()
    for name, data in blobs.items():
        dst = str(out_dir / name)
        p = cli.aws("s3", "cp", "s3://%s/up/%s" % (bucket, name), dst)
        assert "download:" in p.out
        assert sha256_file(dst) == sha256(data), name
        assert sha256(s3.get_object(Bucket=bucket, Key="up/" + name)["Body"].read()) == sha256(data)
    # a small file through stdin/stdout
    cli.aws("s3", "cp", "-", "s3://%s/stdin.bin" % bucket, input_data=b"from stdin\n")
    assert sha256(cli.aws("s3", "cp", "s3://%s/stdin.bin" % bucket, "-").stdout) == sha256(b"from stdin\n")
    for name in names:
        p = cli.aws("s3", "rm", "s3://%s/up/%s" % (bucket, name))
        assert "delete:" in p.out
    cli.aws("s3", "rm", "s3://%s/stdin.bin" % bucket)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    p = cli.aws("s3", "rb", "s3://" + bucket)
    assert "remove_bucket" in p.out


def test_rb_non_empty_bucket_fails(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="x", Body=b"x")
    p = cli.aws("s3", "rb", "s3://" + bucket, check=False)
    assert p.returncode != 0
    assert "BucketNotEmpty" in p.err, p.err
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_s3_ls_listing_bucket(cli, listing_bucket):
    bucket, keys = listing_bucket
    out = cli.aws("s3", "ls", "--recursive", "s3://%s/" % bucket).out
    assert ls_keys(out) == keys
    top = cli.aws("s3", "ls", "s3://%s/" % bucket).out.splitlines()
    pres = [line.strip()[len("PRE "):] for line in top if line.strip().startswith("PRE ")]
    assert "\u00fc/" in pres and "sp ace/" in pres and "../" in pres and "x/" in pres
    assert len(pres) == 27
    sub = cli.aws("s3", "ls", "s3://%s/sp ace/" % bucket).out
    assert ls_keys(sub) == \
        [k[len("sp ace/"):] for k in keys if k.startswith("sp ace/")]


def test_s3api_list_objects_v2_listing_bucket(cli, listing_bucket):
    bucket, keys = listing_bucket
    out = json.loads(cli.aws("s3api", "list-objects-v2", "--bucket", bucket).out)
    assert [o["Key"] for o in out["Contents"]] == keys
    out = json.loads(cli.aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "\u00fc/",
                             "--delimiter", "/").out)
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["\u00fc/\u65e5\u672c/"]
    out = json.loads(cli.aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "x/",
                             "--page-size", "7").out)
    assert [o["Key"] for o in out["Contents"]] == [k for k in keys if k.startswith("x/")]
    out = json.loads(cli.aws("s3api", "list-objects", "--bucket", bucket, "--prefix", "plus+dir/",
                             "--page-size", "9").out)
    assert [o["Key"] for o in out["Contents"]] == [k for k in keys if k.startswith("plus+dir/")]


def test_ls_missing_bucket(cli):
    name = unique_bucket_name("missing")
    p = cli.aws("s3", "ls", "s3://%s/" % name, check=False)
    assert p.returncode != 0
    assert "NoSuchBucket" in p.err, p.err


def test_wrong_credentials(coffer_server, tmp_path):
    unknown = CliRunner(str(tmp_path / "unknown"), coffer_server.port, access_key="AKIDOESNOTEXIST00000")
    p = unknown.aws("s3", "ls", check=False)
    assert p.returncode != 0
    assert "InvalidAccessKeyId" in p.err, p.err
    wrong = CliRunner(str(tmp_path / "wrong"), coffer_server.port, secret_key=SECRET_KEY + "x")
    p = wrong.aws("s3", "ls", check=False)
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.err, p.err
