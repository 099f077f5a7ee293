"""Memory: a large request body must not stay in the server's resident memory.

h2o buffers a whole body before the handler runs; from 32 MiB on it lives in an
mmap'd file, whose pages the server drops from its page tables as it goes. Were
that to stop, the body's pages would stay mapped and the peak RSS (VmHWM) would
grow by at least the body's size.
"""

import hashlib

from s3compat import MiB, data_of


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def test_large_put_does_not_stay_resident(server_factory):
    srv = server_factory()
    c = srv.client()
    c.create_bucket(Bucket="mem")
    size = 256 * MiB
    data = data_of(16 * MiB, seed=7) * (size // (16 * MiB))
    pid = srv.proc.pid
    before = status_kib(pid, "VmHWM")

    c.put_object(Bucket="mem", Key="big", Body=data)

    grown_mib = (status_kib(pid, "VmHWM") - before) / 1024
    assert grown_mib < 160, "peak RSS grew by %.0f MiB during a 256 MiB PUT" % grown_mib
    got = c.get_object(Bucket="mem", Key="big")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
