"""Large PutObject bodies written into chunk files while they arrive (server/ingest.c).

From 32 MiB on, h2o keeps a request body in a temp file; for a PutObject whose
payload is checked by hashes alone, the server writes the chunks and computes
the MD5 (and SHA-256) while the body is still arriving, and punches what it has
passed out of the temp file. These tests start a private server at debug level
(its log says when an ingest starts) and check that such PUTs store the right
bytes, that every way of refusing one stores nothing and leaves no temp file,
and that a body cut short by the client is cleaned up.
"""

import hashlib
import os
import socket

from s3compat import (MiB, assert_absent, assert_xml_error, content_md5, count_files, data_of, raw_request,
                      sha256, signed_headers, wait_for)
from test_faults import log_since, tmp_files

SIZE = 40 * MiB  # over h2o's 32 MiB spill threshold, not a multiple of the 8 MiB chunk size
STARTED = "ingest: started for a body of %d bytes" % SIZE


def ingest_server(server_factory):
    srv = server_factory(log_level="debug")
    c = srv.client()
    c.create_bucket(Bucket="ing")
    return srv, c


def no_temp_files(srv):
    """Waits (bounded) until no data directory holds a temp file; returns what is left."""
    wait_for(lambda: not any(tmp_files(d) for d in srv.data_dirs), timeout=10)
    return [f for d in srv.data_dirs for f in tmp_files(d)]


def test_signed_payload_put_is_ingested(server_factory):
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE, seed=11)
    offset = os.path.getsize(srv.log_path)
    r = c.put_object(Bucket="ing", Key="big", Body=data)  # boto3 over http signs the payload's SHA-256
    assert r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert STARTED in log_since(srv, offset)
    got = c.get_object(Bucket="ing", Key="big")["Body"].read()
    assert sha256(got) == sha256(data)
    assert no_temp_files(srv) == []
    assert sum(srv.chunk_files()) == 5  # 40 MiB in 8 MiB chunks


def test_unsigned_payload_put_is_ingested(server_factory):
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE, seed=12)
    offset = os.path.getsize(srv.log_path)
    r = raw_request(srv.port, "PUT", "/ing/unsigned", body=data,
                    headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-MD5": content_md5(data)})
    assert r.status == 200, r
    assert STARTED in log_since(srv, offset)
    got = c.get_object(Bucket="ing", Key="unsigned")["Body"].read()
    assert sha256(got) == sha256(data)


def test_refused_ingested_puts_store_nothing(server_factory):
    srv, c = ingest_server(server_factory)
    old = b"the old object"
    c.put_object(Bucket="ing", Key="kept", Body=old)
    data = data_of(SIZE, seed=13)
    chunks_before = srv.chunk_files()
    cases = [
        # (headers, signed body, sent body, key, error, status)
        ({"Content-MD5": content_md5(b"other")}, data, None, "kept", "BadDigest", 400),
        ({}, data, data[:-1] + b"\0", "kept", "XAmzContentSHA256Mismatch", 400),
        ({"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "If-None-Match": "*"}, data, None, "kept",
         "PreconditionFailed", 412),
        ({"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, data, None, "no-such-bucket", "NoSuchBucket", 404),
    ]
    for headers, body, wire, key, code, status in cases:
        offset = os.path.getsize(srv.log_path)
        path = "/nosuch/x" if key == "no-such-bucket" else "/ing/" + key
        r = raw_request(srv.port, "PUT", path, body=body, headers=headers, wire_body=wire)
        assert_xml_error(r, code, status)
        assert STARTED in log_since(srv, offset), code
    # a wrong secret: refused before the handler, the ingest is dropped when the request ends
    offset = os.path.getsize(srv.log_path)
    r = raw_request(srv.port, "PUT", "/ing/kept", body=data, secret_key="wrong" * 8,
                    headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert_xml_error(r, "SignatureDoesNotMatch", 403)
    assert STARTED in log_since(srv, offset)

    assert c.get_object(Bucket="ing", Key="kept")["Body"].read() == old
    assert no_temp_files(srv) == []
    assert wait_for(lambda: srv.chunk_files() == chunks_before, timeout=10), (srv.chunk_files(), chunks_before)


def test_body_cut_short_leaves_nothing(server_factory):
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE, seed=14)
    host = "127.0.0.1:%d" % srv.port
    headers = signed_headers("PUT", host, "/ing/cut", data, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    headers["Host"] = host
    headers["Content-Length"] = str(SIZE)
    head = "PUT /ing/cut HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    offset = os.path.getsize(srv.log_path)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(head.encode() + data[:SIZE - 4 * MiB])
        assert wait_for(lambda: STARTED in log_since(srv, offset), timeout=10)
        # the chunk thread has written what came: its temp files exist until the connection closes
        assert wait_for(lambda: any(tmp_files(d) for d in srv.data_dirs), timeout=10)
    assert no_temp_files(srv) == []
    assert_absent(c, "ing", "cut")
    assert count_files(os.path.join(srv.data_dirs[0], "chunks")) + count_files(os.path.join(srv.data_dirs[1], "chunks")) == 0
    # the server goes on: the same PUT in full works
    r = raw_request(srv.port, "PUT", "/ing/cut", body=data, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    assert r.status == 200, r
    assert sha256(c.get_object(Bucket="ing", Key="cut")["Body"].read()) == sha256(data)


def test_ingested_put_survives_restart(server_factory):
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE + 12345, seed=15)
    c.put_object(Bucket="ing", Key="durable", Body=data)
    srv.kill()
    srv.start()
    got = srv.client().get_object(Bucket="ing", Key="durable")["Body"].read()
    assert sha256(got) == sha256(data)
