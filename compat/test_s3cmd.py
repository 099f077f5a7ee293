"""s3cmd (Debian's 2.3, /usr/bin/s3cmd, SigV4, path style) against a live coffer."""

import re

import pytest

from s3compat import KiB, MiB, data_of, md5_hex, sha256, sha256_file, unique_bucket_name, write


def listed_uris(output, bucket):
    """Object keys (and DIR prefixes) from `s3cmd ls` output, in printed order."""
    marker = "s3://%s/" % bucket
    objs, dirs = [], []
    for line in output.splitlines():
        i = line.find(marker)
        if i < 0:
            continue
        name = line[i + len(marker):]
        (dirs if line.lstrip().startswith("DIR") else objs).append(name)
    return objs, dirs


def info_fields(output):
    fields = {}
    for line in output.splitlines():
        m = re.match(r"^\s+([^:]+):\s*(.*)$", line)
        if m:
            fields[m.group(1).strip()] = m.group(2).strip()
    return fields


def test_mb_ls_info_rb(cli, s3):
    name = unique_bucket_name("s3cmd-mb")
    p = cli.s3cmd("mb", "s3://" + name)
    assert "Bucket 's3://%s/' created" % name in p.out, p.out
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    p = cli.s3cmd("ls")
    assert "s3://%s" % name in p.out.split(), p.out
    info = info_fields(cli.s3cmd("info", "s3://" + name).out)
    assert info.get("Location") in ("us-east-1", "US"), info
    p = cli.s3cmd("rb", "s3://" + name)
    assert "Bucket 's3://%s/' removed" % name in p.out, p.out
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("size", [0, 1, 4 * KiB, 4 * KiB + 1, 50 * MiB], ids=lambda s: "%dB" % s)
def test_put_get_info_del(cli, s3, bucket, tmp_path, size):
    data = data_of(size, seed=2000 + size)
    src = write(tmp_path / "src.bin", data)
    key = "s3cmd dir/ob+j-%d.bin" % size
    uri = "s3://%s/%s" % (bucket, key)
    cli.s3cmd("put", "--disable-multipart", "--multipart-chunk-size-mb=100", src, uri)

    # what the server stored, read with another client
    got = s3.get_object(Bucket=bucket, Key=key)
    assert sha256(got["Body"].read()) == sha256(data)
    assert got["ETag"] == '"%s"' % md5_hex(data)

    info = info_fields(cli.s3cmd("info", uri).out)
    assert info["File size"] == str(size), info
    assert info["MD5 sum"] == md5_hex(data), info

    dst = str(tmp_path / "dst.bin")
    cli.s3cmd("get", uri, dst)
    assert sha256_file(dst) == sha256(data)

    objs, _ = listed_uris(cli.s3cmd("ls", "--list-md5", "s3://%s/s3cmd dir/" % bucket).out, bucket)
    assert objs and objs[0].endswith(key), objs
    line = [ln for ln in cli.s3cmd("ls", "--list-md5", "s3://%s/s3cmd dir/" % bucket).out.splitlines()
            if key in ln][0]
    assert md5_hex(data) in line.split() and str(size) in line.split(), line

    p = cli.s3cmd("del", uri)
    assert "delete: '%s'" % uri in p.out, p.out
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_put_with_headers_and_metadata(cli, s3, bucket, tmp_path):
    data = data_of(3000, seed=31)
    src = write(tmp_path / "m.bin", data)
    uri = "s3://%s/meta.bin" % bucket
    cli.s3cmd("put", "--disable-multipart", "--mime-type=application/x-coffer",
              "--add-header=Cache-Control:max-age=60", "--add-header=x-amz-meta-color:violet", src, uri)
    head = s3.head_object(Bucket=bucket, Key="meta.bin")
    assert head["ContentType"] == "application/x-coffer"
    assert head["CacheControl"] == "max-age=60"
    assert head["Metadata"]["color"] == "violet"
    out = cli.s3cmd("info", uri).out
    fields = info_fields(out)
    assert fields["MIME type"] == "application/x-coffer", out
    assert fields["x-amz-meta-color"] == "violet", out
    dst = str(tmp_path / "back.bin")
    cli.s3cmd("get", uri, dst)
    assert sha256_file(dst) == sha256(data)


def test_get_missing_object_fails(cli, bucket, tmp_path):
    p = cli.s3cmd("get", "s3://%s/nope" % bucket, str(tmp_path / "x"), check=False)
    assert p.returncode != 0
    assert "404" in p.err or "NoSuchKey" in p.err or "does not exist" in p.err, p.err


def test_rb_non_empty_fails(cli, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"1")
    p = cli.s3cmd("rb", "s3://" + bucket, check=False)
    assert p.returncode != 0
    assert "BucketNotEmpty" in p.err or "not empty" in p.err.lower(), p.err
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_mb_existing_fails(cli, bucket):
    p = cli.s3cmd("mb", "s3://" + bucket, check=False)
    assert p.returncode != 0
    assert "BucketAlreadyOwnedByYou" in p.err or "already exists" in p.err.lower(), p.err


def test_ls_listing_bucket(cli, listing_bucket):
    bucket, keys = listing_bucket
    objs, dirs = listed_uris(cli.s3cmd("ls", "--recursive", "s3://%s/" % bucket).out, bucket)
    assert dirs == []
    assert objs == keys
    objs, dirs = listed_uris(cli.s3cmd("ls", "s3://%s/" % bucket).out, bucket)
    assert objs == ["top%03d" % j for j in range(50)]
    assert dirs == ["../", "a/"] + ["d%02d/" % i for i in range(20)] + \
        ["pct%2F/", "plus+dir/", "sp ace/", "x/", "\u00fc/"]
    objs, dirs = listed_uris(cli.s3cmd("ls", "s3://%s/\u00fc/" % bucket).out, bucket)
    assert dirs == ["\u00fc/\u65e5\u672c/"] and objs == []
    objs, _ = listed_uris(cli.s3cmd("ls", "s3://%s/sp ace/" % bucket).out, bucket)
    assert objs == [k for k in keys if k.startswith("sp ace/")]


def test_special_key_round_trip(cli, s3, bucket, tmp_path):
    data = data_of(5000, seed=55)
    src = write(tmp_path / "s.bin", data)
    for i, key in enumerate(["\u00fc/\u65e5\u672c/file", "sp ace+plus%pct", "a/./b", "x//y"]):
        uri = "s3://%s/%s" % (bucket, key)
        cli.s3cmd("put", "--disable-multipart", src, uri)
        assert sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == sha256(data), key
        dst = str(tmp_path / ("d%d" % i))
        cli.s3cmd("get", uri, dst)
        assert sha256_file(dst) == sha256(data), key
        cli.s3cmd("del", uri)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_wrong_secret(coffer_server, tmp_path):
    from s3compat import SECRET_KEY, CliRunner
    wrong = CliRunner(str(tmp_path / "wrong"), coffer_server.port, secret_key=SECRET_KEY + "x")
    p = wrong.s3cmd("ls", check=False)
    assert p.returncode != 0
    assert "SignatureDoesNotMatch" in p.err or "403" in p.err, p.err
