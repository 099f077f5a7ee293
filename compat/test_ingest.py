"""Large PutObject bodies written into chunk files while they arrive (server/ingest.c).

For a PutObject of 8 MiB or more whose payload is checked by hashes alone, the
server takes the connection's socket from h2o once the request head is in, reads
the body itself while writing the chunks and computing the MD5 (and SHA-256),
and gives the socket back to h2o when the body is in. These tests start a
private server at debug level (its log says when an ingest starts) and check
that such PUTs store the right bytes, that every way of refusing one stores
nothing and leaves no temp file, that a body cut short by the client is cleaned
up, and that the connection goes on with the next request.
"""

import hashlib
import os
import socket
import time

from s3compat import (MiB, assert_absent, assert_xml_error, content_md5, count_files, data_of, raw_request,
                      sha256, signed_headers, wait_for)
from test_faults import log_since, tmp_files

SIZE = 40 * MiB  # not a multiple of the 8 MiB chunk size
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


def read_response(f):
    """One HTTP/1.1 response with a Content-Length from a socket's file: (status, lower-case headers, body)."""
    status = int(f.readline().split()[1])
    headers = {}
    for line in iter(f.readline, b"\r\n"):
        assert line, "connection closed inside a response head"
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, f.read(int(headers.get("content-length", "0")))


def test_connection_goes_on_after_an_ingested_body(server_factory):
    """Expect: 100-continue, a pause mid-body, and a GET pipelined right behind the body on the same connection."""
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE, seed=16)
    host = "127.0.0.1:%d" % srv.port
    put = signed_headers("PUT", host, "/ing/kept-alive", data, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    put.update({"Host": host, "Content-Length": str(SIZE), "Expect": "100-continue"})
    get = signed_headers("GET", host, "/ing/kept-alive")
    get["Host"] = host

    def head(line, headers):
        return (line + "\r\n" + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n").encode()

    offset = os.path.getsize(srv.log_path)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
        f = s.makefile("rb")
        s.sendall(head("PUT /ing/kept-alive HTTP/1.1", put))
        assert f.readline().startswith(b"HTTP/1.1 100") and f.readline() == b"\r\n"
        s.sendall(data[:3 * MiB])
        assert wait_for(lambda: STARTED in log_since(srv, offset), timeout=10)
        s.sendall(data[3 * MiB:SIZE // 2])
        time.sleep(0.3)  # the ingest waits for bytes, and looks for a cancel meanwhile
        s.sendall(data[SIZE // 2:] + head("GET /ing/kept-alive HTTP/1.1", get))  # the ingest must stop at the body's end
        status, headers, _ = read_response(f)
        assert status == 200 and headers["etag"] == '"%s"' % hashlib.md5(data).hexdigest(), (status, headers)
        status, headers, body = read_response(f)
        assert status == 200 and sha256(body) == sha256(data), (status, headers, len(body))
    assert no_temp_files(srv) == []


def test_ingested_put_survives_restart(server_factory):
    srv, c = ingest_server(server_factory)
    data = data_of(SIZE + 12345, seed=15)
    c.put_object(Bucket="ing", Key="durable", Body=data)
    srv.kill()
    srv.start()
    got = srv.client().get_object(Bucket="ing", Key="durable")["Body"].read()
    assert sha256(got) == sha256(data)
