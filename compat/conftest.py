"""Fixtures for the black-box compatibility suite.

The suite starts the real coffer binary (build/coffer, or $COFFER_BIN) on 127.0.0.1
and drives it with aws-cli, s3cmd and boto3. Run it with the system interpreter:

    /usr/bin/python3 -m pytest -q compat
"""

import atexit
import os
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from s3compat import (  # noqa: E402
    CliRunner, CofferServer, all_keys, free_port as _free_port, listing_body, listing_keys, unique_bucket_name,
)

# Servers started by this run; their logs are attached to failing tests.
_SERVERS = []


def _isolate_environment():
    """Keeps the machine's AWS settings out of the in-process boto3 clients."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("BOTO"):
            del os.environ[name]
    cfg_dir = tempfile.mkdtemp(prefix="coffer-compat-aws-")
    atexit.register(shutil.rmtree, cfg_dir, True)
    for var, fname in (("AWS_CONFIG_FILE", "config"), ("AWS_SHARED_CREDENTIALS_FILE", "credentials")):
        path = os.path.join(cfg_dir, fname)
        open(path, "w").close()
        os.environ[var] = path
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


_isolate_environment()


def register_server(server):
    _SERVERS.append(server)
    return server


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._coffer_log_offsets = {id(s): s.log_size() for s in _SERVERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        offsets = getattr(item, "_coffer_log_offsets", {})
        for s in _SERVERS:
            since = offsets.get(id(s), 0)
            if s.log_size() > since or report.when == "setup":
                report.sections.append(("coffer log (%s, port %d)" % (os.path.basename(s.workdir), s.port),
                                        s.log_tail(since)))


@pytest.fixture
def free_port():
    return _free_port()


@pytest.fixture(scope="session")
def coffer_server(tmp_path_factory):
    """The shared server: two data dirs, one meta dir, --domain for virtual-host tests."""
    server = register_server(CofferServer(str(tmp_path_factory.mktemp("coffer-shared"))))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def restart_server(coffer_server):
    """Restarts the shared server on the same dirs and port; returns a fresh boto3 client."""
    def restart(hard=False):
        rc = coffer_server.restart(hard=hard)
        assert hard or rc == 0, "coffer exited with %r on SIGTERM" % rc
        return coffer_server.client()
    return restart


@pytest.fixture
def server_factory(tmp_path):
    """Starts private servers (own dirs and port) for tests that crash or count files."""
    started = []

    def make(threads=2, **kw):
        """kw goes to CofferServer (data_dirs, copies)."""
        server = register_server(CofferServer(str(tmp_path / ("srv%d" % len(started))), threads=threads, **kw))
        started.append(server)
        server.start()
        return server

    yield make
    for server in started:
        server.stop()
        _SERVERS.remove(server)


@pytest.fixture(scope="session")
def s3(coffer_server):
    return coffer_server.client()


@pytest.fixture(scope="session")
def cli(coffer_server, tmp_path_factory):
    return CliRunner(str(tmp_path_factory.mktemp("cli-home")), coffer_server.port)


@pytest.fixture
def bucket_name(request):
    """A unique, not yet created bucket name."""
    return unique_bucket_name(request.node.name)


def _cleanup_bucket(client, name):
    try:
        keys = all_keys(client, name)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: client.delete_object(Bucket=name, Key=k), keys))
        client.delete_bucket(Bucket=name)
    except Exception:
        pass  # best effort: the data lives in a temp dir anyway


@pytest.fixture
def bucket(s3, bucket_name):
    """A fresh bucket created with boto3 for this test."""
    s3.create_bucket(Bucket=bucket_name)
    yield bucket_name
    _cleanup_bucket(s3, bucket_name)


@pytest.fixture(scope="session")
def listing_bucket(s3):
    """A bucket holding the 2,500 listing keys (created once, in parallel)."""
    name = unique_bucket_name("listing")
    s3.create_bucket(Bucket=name)
    keys = listing_keys()

    def put(key):
        s3.put_object(Bucket=name, Key=key, Body=listing_body(key))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, keys))
    return name, keys
