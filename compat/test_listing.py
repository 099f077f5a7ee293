"""Listing edge cases, ListObjectVersions, GetObjectAttributes, key and metadata limits.

boto3 sets encoding-type=url on every listing and decodes the answer, so the
exact XML (what is encoded, what is not, which elements appear) is checked with
raw signed requests; boto3 and aws-cli then check that real clients get the
keys back exactly.

AWS behaviour these tests pin down, and where it comes from:
- max-keys=0 lists nothing and IsTruncated is false (ceph/s3-tests, which pass on AWS).
- encoding-type=url writes a space as '+', keeps '/', and %XX-encodes the rest as S3 does;
  V1 encodes Prefix, Delimiter, Marker, NextMarker, Key and CommonPrefixes; V2 encodes
  Prefix, Delimiter, StartAfter, Key and CommonPrefixes (never the continuation tokens);
  ListObjectVersions encodes KeyMarker, NextKeyMarker, Prefix, Delimiter, Key.
- Without encoding-type, a control character goes out as &#xN; (as AWS writes it).
- NextMarker (V1) only with a delimiter; Owner always in V1, in V2 only with fetch-owner=true.
- GetObjectAttributes: a missing or empty x-amz-object-attributes is InvalidRequest, an unknown
  name InvalidArgument; the ETag has no quotes; a composite checksum has no "-N"; the part count
  is written <PartsCount>.
- User metadata is limited to 2 KB counted as the bytes of each name (without x-amz-meta-) and value.
"""

import base64
import datetime
import heapq
import json
import threading
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from s3compat import (
    MiB, S3_NS, all_keys, assert_error, assert_xml_error, checksum, client_error, composite, data_of, md5_hex, put_keys,
    quote_key, raw_request, s3_url, unique_bucket_name, wait_for,
)

N = S3_NS


# ------------------------------------------------------------------ helpers

def model(keys, prefix="", delimiter=None, after=None):
    """[(kind, name)] in S3 order for keys (str): 'K' a key, 'P' a common prefix."""
    out = []
    for k in sorted(keys):
        if not k.startswith(prefix):
            continue
        if delimiter:
            i = k.find(delimiter, len(prefix))
            if i >= 0:
                cp = k[:i + len(delimiter)]
                if (after is None or cp > after) and (not out or out[-1] != ("P", cp)):
                    out.append(("P", cp))
                continue
        if after is None or k > after:
            out.append(("K", k))
    return out


def utf8_ordered(names):
    """names as S3 orders them: by their UTF-8 bytes."""
    return sorted(names, key=lambda n: n.encode("utf-8"))


def entries(page, versions=False):
    """A page's keys and common prefixes as [(kind, name)], merged in S3 order.

    S3 sends the keys (Contents or Versions) and the CommonPrefixes each in order, in two separate lists;
    each list must already be in order (as sent), and only then are the two merged into one."""
    keys = [o["Key"] for o in page.get("Versions" if versions else "Contents", [])]
    prefixes = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == utf8_ordered(keys), ("keys out of order", keys)
    assert prefixes == utf8_ordered(prefixes), ("common prefixes out of order", prefixes)
    return list(heapq.merge([("K", k) for k in keys], [("P", p) for p in prefixes], key=lambda e: e[1].encode("utf-8")))


def raw_list(port, bucket, query):
    raw = raw_request(port, "GET", "/" + bucket, query=query)
    assert raw.status == 200, raw
    return raw


def xml_of(raw):
    return ET.fromstring(raw.body)


def texts(root, path):
    return [e.text or "" for e in root.findall(path)]


def list_v1_all(s3, bucket, max_keys, **kw):
    """Pages of ListObjects, following NextMarker (or the last key without a delimiter)."""
    pages, marker = [], None
    while True:
        args = dict(kw, Bucket=bucket, MaxKeys=max_keys)
        if marker is not None:
            args["Marker"] = marker
        page = s3.list_objects(**args)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        if "Delimiter" in kw:
            marker = page["NextMarker"]
        else:
            assert "NextMarker" not in page
            marker = page["Contents"][-1]["Key"]
        assert len(pages) < 1000


def list_v2_all(s3, bucket, max_keys, **kw):
    pages, token = [], None
    while True:
        args = dict(kw, Bucket=bucket, MaxKeys=max_keys)
        if token is not None:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page
            return pages
        token = page["NextContinuationToken"]
        assert len(pages) < 1000


def list_versions_all(s3, bucket, max_keys, **kw):
    pages, km, vm = [], None, None
    while True:
        args = dict(kw, Bucket=bucket, MaxKeys=max_keys)
        if km is not None:
            args["KeyMarker"] = km
        if vm is not None:
            args["VersionIdMarker"] = vm
        page = s3.list_object_versions(**args)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        km, vm = page["NextKeyMarker"], page.get("NextVersionIdMarker")
        assert len(pages) < 1000


def flat(pages, versions=False):
    out = []
    for p in pages:
        out += entries(p, versions)
    return out


# ------------------------------------------------------------------ delimiters, prefixes, max-keys

DELIM_KEYS = ["a", "aab", "ab", "abc/ab/x", "b::c::d", "b::e", "b:f", "cab", "c::", "x::y::z", "xab", "zz"]


@pytest.fixture(scope="module")
def delim_bucket(s3):
    name = unique_bucket_name("delims")
    s3.create_bucket(Bucket=name)
    put_keys(s3, name, DELIM_KEYS)
    return name


@pytest.mark.parametrize("delimiter,prefix", [
    ("ab", ""), ("ab", "a"), ("ab", "ab"), ("::", ""), ("::", "b::"), ("::", "x"), (":", "b"),
    ("b", ""), ("/", ""), ("zz", ""), ("abc/ab/x", ""), ("nomatch", ""),
])
def test_delimiters_of_any_length(s3, delim_bucket, delimiter, prefix):
    want = model(DELIM_KEYS, prefix, delimiter)
    for api in (list_v1_all, list_v2_all):
        for max_keys in (1, 2, 1000):
            pages = api(s3, delim_bucket, max_keys, Delimiter=delimiter, Prefix=prefix)
            assert flat(pages) == want, (api.__name__, max_keys)
            assert pages[0]["Delimiter"] == delimiter
    pages = list_versions_all(s3, delim_bucket, 2, Delimiter=delimiter, Prefix=prefix)
    assert flat(pages, versions=True) == want


def test_delimiter_double_colon_exact(coffer_server, delim_bucket):
    root = xml_of(raw_list(coffer_server.port, delim_bucket, [("list-type", "2"), ("delimiter", "::")]))
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["b::", "c::", "x::"]
    assert texts(root, N + "Contents/" + N + "Key") == ["a", "aab", "ab", "abc/ab/x", "b:f", "cab", "xab", "zz"]
    assert root.findtext(N + "Delimiter") == "::"
    assert root.findtext(N + "KeyCount") == "11"
    # S3 writes every Contents before the CommonPrefixes
    tags = [c.tag for c in root if c.tag in (N + "Contents", N + "CommonPrefixes")]
    assert tags == [N + "Contents"] * 8 + [N + "CommonPrefixes"] * 3


def test_empty_delimiter_is_none(coffer_server, s3, delim_bucket):
    for api in (s3.list_objects, s3.list_objects_v2):
        page = api(Bucket=delim_bucket, Delimiter="")
        assert "Delimiter" not in page
        assert [k for _, k in entries(page)] == sorted(DELIM_KEYS)
    root = xml_of(raw_list(coffer_server.port, delim_bucket, [("delimiter", "")]))
    assert root.find(N + "Delimiter") is None


@pytest.mark.parametrize("query", [[], [("list-type", "2")], [("versions", "")]])
def test_max_keys_zero(coffer_server, delim_bucket, query):
    root = xml_of(raw_list(coffer_server.port, delim_bucket, query + [("max-keys", "0")]))
    assert root.findtext(N + "IsTruncated") == "false"
    assert root.findtext(N + "MaxKeys") == "0"
    assert root.find(N + "Contents") is None and root.find(N + "Version") is None
    assert root.find(N + "NextMarker") is None and root.find(N + "NextContinuationToken") is None
    assert root.find(N + "NextKeyMarker") is None
    if query == [("list-type", "2")]:
        assert root.findtext(N + "KeyCount") == "0"


def test_max_keys_zero_boto3(s3, delim_bucket):
    for api in (s3.list_objects, s3.list_objects_v2, s3.list_object_versions):
        page = api(Bucket=delim_bucket, MaxKeys=0)
        assert page["IsTruncated"] is False
        assert "Contents" not in page and "Versions" not in page and "CommonPrefixes" not in page
        assert page["MaxKeys"] == 0


def test_max_keys_one_pages_through_everything(s3, delim_bucket):
    want = model(DELIM_KEYS)
    v1 = list_v1_all(s3, delim_bucket, 1)
    v2 = list_v2_all(s3, delim_bucket, 1)
    vv = list_versions_all(s3, delim_bucket, 1)
    assert flat(v1) == flat(v2) == flat(vv, versions=True) == want
    assert len(v1) == len(v2) == len(vv) == len(DELIM_KEYS)
    assert all(p["IsTruncated"] for p in v2[:-1]) and not v2[-1]["IsTruncated"]


def test_v1_next_marker_only_with_delimiter(coffer_server, delim_bucket):
    port = coffer_server.port
    root = xml_of(raw_list(port, delim_bucket, [("max-keys", "2")]))
    assert root.findtext(N + "IsTruncated") == "true"
    assert root.find(N + "NextMarker") is None
    assert root.findtext(N + "Marker") == ""
    root = xml_of(raw_list(port, delim_bucket, [("max-keys", "5"), ("delimiter", "::")]))
    assert root.findtext(N + "IsTruncated") == "true"
    assert root.findtext(N + "NextMarker") == "b::"  # the last entry, a common prefix
    root = xml_of(raw_list(port, delim_bucket, [("max-keys", "4"), ("delimiter", "::"), ("marker", "b::")]))
    assert root.findtext(N + "Marker") == "b::"
    assert texts(root, N + "Contents/" + N + "Key") == ["b:f", "cab"]
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["c::", "x::"]
    assert root.findtext(N + "NextMarker") == "x::"
    root = xml_of(raw_list(port, delim_bucket, [("max-keys", "100"), ("delimiter", "::")]))
    assert root.findtext(N + "IsTruncated") == "false" and root.find(N + "NextMarker") is None


PARTIAL_KEYS = ["\u65e5\u672c/1", "\u65e5\u672c/2", "\u65e6", "\u65e5x", "\u660e", "a", "\u00e9t\u00e9"]


@pytest.fixture(scope="module")
def utf8_bucket(s3):
    name = unique_bucket_name("utf8")
    s3.create_bucket(Bucket=name)
    put_keys(s3, name, PARTIAL_KEYS)
    return name


def test_prefix_ending_inside_a_character(coffer_server, utf8_bucket):
    port = coffer_server.port
    cut = "\u65e5".encode("utf-8")[:2]  # E6 97: two of the three bytes of U+65E5
    want = sorted(k for k in PARTIAL_KEYS if k.encode("utf-8").startswith(cut))
    assert len(want) == 4  # 日本/1, 日本/2, 日x, 旦 (E6 97 A6)
    for query in ([("list-type", "2")], []):
        root = xml_of(raw_list(port, utf8_bucket, query + [("prefix", cut), ("encoding-type", "url")]))
        assert root.findtext(N + "Prefix") == "%E6%97"
        got = [urllib.parse.unquote_plus(k) for k in texts(root, N + "Contents/" + N + "Key")]
        assert got == want
        # with a delimiter the cut prefix still rolls keys up by whole characters
        root = xml_of(raw_list(port, utf8_bucket, query + [("prefix", cut), ("delimiter", "/"), ("encoding-type", "url")]))
        assert [urllib.parse.unquote_plus(k) for k in texts(root, N + "CommonPrefixes/" + N + "Prefix")] == ["\u65e5\u672c/"]
        assert [urllib.parse.unquote_plus(k) for k in texts(root, N + "Contents/" + N + "Key")] == ["\u65e5x", "\u65e6"]
        # without encoding-type the answer is still well-formed XML: the broken bytes of the echo become U+FFFD
        raw = raw_list(port, utf8_bucket, query + [("prefix", cut)])
        root = xml_of(raw)
        assert root.findtext(N + "Prefix") == "\ufffd\ufffd"
        assert texts(root, N + "Contents/" + N + "Key") == want
    # a delimiter that is not UTF-8 either (a continuation byte): prefixes cut inside characters
    root = xml_of(raw_list(port, utf8_bucket, [("list-type", "2"), ("delimiter", b"\x97"), ("encoding-type", "url")]))
    assert root.findtext(N + "Delimiter") == "%97"
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["%E6%97"]
    raw = raw_list(port, utf8_bucket, [("list-type", "2"), ("delimiter", b"\x97")])
    assert texts(xml_of(raw), N + "CommonPrefixes/" + N + "Prefix") == ["\ufffd\ufffd"]


def test_multibyte_prefix_boto3(s3, utf8_bucket):
    for prefix in ("\u65e5", "\u65e5\u672c/", "\u00e9", "\u00e9t"):
        want = model(PARTIAL_KEYS, prefix, "/")
        assert flat(list_v2_all(s3, utf8_bucket, 1, Prefix=prefix, Delimiter="/")) == want
        assert flat(list_v1_all(s3, utf8_bucket, 1, Prefix=prefix, Delimiter="/")) == want


# ------------------------------------------------------------------ markers and tokens across changes

def _paginate_while_changing(s3, bucket, kind, delimiter=None):
    """Lists with max-keys 3 while keys are added and deleted between pages; returns (listed, survivors)."""
    initial = ["k%03d" % i for i in range(0, 60, 2)] + ["d%d/x%d" % (i, j) for i in range(0, 10, 2) for j in range(2)]
    put_keys(s3, bucket, initial)
    deleted, listed = set(), []
    marker = token = None
    kw = {"Delimiter": delimiter} if delimiter else {}
    step = 0
    while True:
        args = dict(kw, Bucket=bucket, MaxKeys=3)
        if kind == "v1":
            if marker is not None:
                args["Marker"] = marker
            page = s3.list_objects(**args)
        elif kind == "v2":
            if token is not None:
                args["ContinuationToken"] = token
            page = s3.list_objects_v2(**args)
        else:
            if marker is not None:
                args["KeyMarker"] = marker
            page = s3.list_object_versions(**args)
        got = entries(page, versions=(kind == "versions"))
        listed += got
        if not page["IsTruncated"]:
            break
        last = got[-1][1]
        marker = page.get("NextMarker", last) if kind == "v1" else page.get("NextKeyMarker")
        token = page.get("NextContinuationToken")
        # between pages: add keys on both sides of the position, delete one ahead and one behind
        step += 1
        s3.put_object(Bucket=bucket, Key="k%03d" % (2 * step - 1), Body=b"new")   # probably behind
        s3.put_object(Bucket=bucket, Key="k%03d" % (120 + step), Body=b"new")     # ahead
        s3.put_object(Bucket=bucket, Key="d%d/new%d" % (2 * (step % 5), step), Body=b"new")
        ahead = [k for k in initial if k > last and k not in deleted]
        behind = [k for k in initial if k < last and k not in deleted]
        for victim in (ahead[len(ahead) // 2:len(ahead) // 2 + 1] + behind[:1]):
            s3.delete_object(Bucket=bucket, Key=victim)
            deleted.add(victim)
        assert step < 200
    survivors = [k for k in initial if k not in deleted]
    return listed, survivors


@pytest.mark.parametrize("kind", ["v1", "v2", "versions"])
@pytest.mark.parametrize("delimiter", [None, "/"])
def test_pages_stay_valid_while_the_bucket_changes(s3, bucket, kind, delimiter):
    listed, survivors = _paginate_while_changing(s3, bucket, kind, delimiter)
    names = [n for _, n in listed]
    assert names == sorted(names) and len(names) == len(set(names)), names  # in order, nothing twice
    for k in survivors:  # every key that existed throughout was listed (itself or its common prefix)
        want = ("P", k.split("/")[0] + "/") if delimiter and "/" in k else ("K", k)
        assert want in listed, k


def test_continuation_token_edge_cases(coffer_server, s3, delim_bucket):
    page = s3.list_objects_v2(Bucket=delim_bucket, ContinuationToken="")
    assert page["ContinuationToken"] == "" and page["IsTruncated"] is False
    assert [k for _, k in entries(page)] == sorted(DELIM_KEYS)
    # the token wins over start-after, which is still echoed
    first = s3.list_objects_v2(Bucket=delim_bucket, StartAfter="aab", MaxKeys=1)
    assert [k for _, k in entries(first)] == ["ab"]
    nxt = s3.list_objects_v2(Bucket=delim_bucket, StartAfter="aab", ContinuationToken=first["NextContinuationToken"])
    assert nxt["StartAfter"] == "aab" and nxt["ContinuationToken"] == first["NextContinuationToken"]
    assert [k for _, k in entries(nxt)] == sorted(DELIM_KEYS)[3:]
    for bad in ("***", "!", base64.urlsafe_b64encode(b"x" * 1100).decode()):
        raw = raw_request(coffer_server.port, "GET", "/" + delim_bucket,
                          query=[("list-type", "2"), ("continuation-token", bad)])
        assert_xml_error(raw, "InvalidArgument", 400)


@pytest.mark.parametrize("query,code", [
    ([("max-keys", "-1")], "InvalidArgument"),
    ([("max-keys", "x")], "InvalidArgument"),
    ([("max-keys", "99999999999")], "InvalidArgument"),
    ([("encoding-type", "base64")], "InvalidArgument"),
    ([("list-type", "2"), ("encoding-type", "")], "InvalidArgument"),
    ([("versions", ""), ("max-keys", "x")], "InvalidArgument"),
    ([("versions", ""), ("encoding-type", "xml")], "InvalidArgument"),
    ([("versions", ""), ("version-id-marker", "null")], "InvalidArgument"),
    ([("versions", ""), ("key-marker", "a"), ("version-id-marker", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")],
     "InvalidArgument"),
])
def test_bad_listing_parameters(coffer_server, delim_bucket, query, code):
    assert_xml_error(raw_request(coffer_server.port, "GET", "/" + delim_bucket, query=query), code, 400)


def test_listing_missing_bucket(s3, bucket_name):
    for api in (s3.list_objects, s3.list_objects_v2, s3.list_object_versions):
        assert_error(client_error(api, Bucket=bucket_name), "NoSuchBucket", 404)


# ------------------------------------------------------------------ owner

def test_owner_v1_always_v2_with_fetch_owner(coffer_server, s3, delim_bucket):
    v1 = s3.list_objects(Bucket=delim_bucket, MaxKeys=2)
    owner = v1["Contents"][0]["Owner"]
    assert owner["ID"] and "DisplayName" in owner
    assert all(o["Owner"] == owner for o in v1["Contents"])
    v2 = s3.list_objects_v2(Bucket=delim_bucket, MaxKeys=2)
    assert all("Owner" not in o for o in v2["Contents"])
    v2 = s3.list_objects_v2(Bucket=delim_bucket, MaxKeys=2, FetchOwner=False)
    assert all("Owner" not in o for o in v2["Contents"])
    v2 = s3.list_objects_v2(Bucket=delim_bucket, MaxKeys=2, FetchOwner=True)
    assert [o["Owner"] for o in v2["Contents"]] == [owner, owner]
    versions = s3.list_object_versions(Bucket=delim_bucket, MaxKeys=2)
    assert [v["Owner"] for v in versions["Versions"]] == [owner, owner]
    root = xml_of(raw_list(coffer_server.port, delim_bucket, [("list-type", "2"), ("fetch-owner", "true")]))
    assert root.findtext(N + "Contents/" + N + "Owner/" + N + "ID") == owner["ID"]


# ------------------------------------------------------------------ encoding-type=url

ODD_KEYS = ["ctl\x01a", "nl\nx/y", "tab\tz", "sp ace/k", "plus+p", "pct%25", "paren(1)", "star*~",
            "\u65e5\u672c/k", "amp&<>\"'", "q?h#", "eq=c:d;e,f@g!", "del\x7f"]


@pytest.fixture(scope="module")
def odd_bucket(s3):
    name = unique_bucket_name("odd")
    s3.create_bucket(Bucket=name)
    put_keys(s3, name, ODD_KEYS)
    return name


def test_url_encoding_form():
    assert s3_url("a b+c%d/e(f)~g*\x01\u00e9") == "a+b%2Bc%25d/e%28f%29%7Eg*%01%C3%A9"


def test_v2_encoding_type_url_raw(coffer_server, odd_bucket):
    port = coffer_server.port
    root = xml_of(raw_list(port, odd_bucket, [("list-type", "2"), ("encoding-type", "url")]))
    assert root.findtext(N + "EncodingType") == "url"
    assert texts(root, N + "Contents/" + N + "Key") == [s3_url(k) for k in sorted(ODD_KEYS)]
    # Prefix, Delimiter, StartAfter and CommonPrefixes too; the continuation tokens never
    q = [("list-type", "2"), ("encoding-type", "url"), ("delimiter", "/"), ("prefix", "sp ace/"),
         ("start-after", "sp ace/\x01")]
    root = xml_of(raw_list(port, odd_bucket, q))
    assert root.findtext(N + "Prefix") == "sp+ace/"
    assert root.findtext(N + "Delimiter") == "/"
    assert root.findtext(N + "StartAfter") == "sp+ace/%01"
    assert texts(root, N + "Contents/" + N + "Key") == ["sp+ace/k"]
    root = xml_of(raw_list(port, odd_bucket, [("list-type", "2"), ("encoding-type", "url"), ("delimiter", "/"),
                                              ("max-keys", "5")]))
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["nl%0Ax/"]
    token = root.findtext(N + "NextContinuationToken")
    root = xml_of(raw_list(port, odd_bucket, [("list-type", "2"), ("encoding-type", "url"), ("delimiter", "/"),
                                              ("continuation-token", token)]))
    assert root.findtext(N + "ContinuationToken") == token
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["sp+ace/", "%E6%97%A5%E6%9C%AC/"]
    root = xml_of(raw_list(port, odd_bucket, [("list-type", "2"), ("encoding-type", "url"), ("delimiter", " ")]))
    assert root.findtext(N + "Delimiter") == "+"
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["sp+"]


def test_v1_encoding_type_url_raw(coffer_server, odd_bucket):
    port = coffer_server.port
    q = [("encoding-type", "url"), ("prefix", "p"), ("marker", "p a"), ("delimiter", "("), ("max-keys", "1")]
    root = xml_of(raw_list(port, odd_bucket, q))
    assert root.findtext(N + "Prefix") == "p"
    assert root.findtext(N + "Marker") == "p+a"
    assert root.findtext(N + "Delimiter") == "%28"
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["paren%28"]
    assert root.findtext(N + "NextMarker") == "paren%28"
    assert root.findtext(N + "IsTruncated") == "true"
    root = xml_of(raw_list(port, odd_bucket, [("encoding-type", "url"), ("prefix", "tab\t"), ("marker", "\x01")]))
    assert root.findtext(N + "Prefix") == "tab%09"
    assert root.findtext(N + "Marker") == "%01"
    assert texts(root, N + "Contents/" + N + "Key") == ["tab%09z"]


def test_unencoded_listing_control_characters(coffer_server, odd_bucket):
    """Without encoding-type, control characters go out as &#xN; character references, as AWS writes them."""
    raw = raw_list(coffer_server.port, odd_bucket, [("list-type", "2"), ("prefix", "ctl")])
    assert b"<Key>ctl&#x1;a</Key>" in raw.body
    raw = raw_list(coffer_server.port, odd_bucket, [("list-type", "2"), ("prefix", "nl")])
    root = xml_of(raw)  # \n and \t are XML characters: the document parses
    assert texts(root, N + "Contents/" + N + "Key") == ["nl\nx/y"]
    raw = raw_list(coffer_server.port, odd_bucket, [("prefix", "amp")])
    assert texts(xml_of(raw), N + "Contents/" + N + "Key") == ["amp&<>\"'"]


def test_boto3_decodes_every_odd_key(s3, odd_bucket):
    want = model(ODD_KEYS)
    assert flat(list_v2_all(s3, odd_bucket, 2)) == want
    assert flat(list_v1_all(s3, odd_bucket, 2)) == want
    assert flat(list_versions_all(s3, odd_bucket, 2), versions=True) == want
    for delim in ("/", " ", "\n", "("):
        assert flat(list_v1_all(s3, odd_bucket, 1, Delimiter=delim)) == model(ODD_KEYS, "", delim)
        assert flat(list_versions_all(s3, odd_bucket, 1, Delimiter=delim), versions=True) == model(ODD_KEYS, "", delim)
    page = s3.list_objects(Bucket=odd_bucket, Marker="\x01", Delimiter="\n", MaxKeys=1)
    assert page["Marker"] == "\x01" and page["Delimiter"] == "\n"
    page = s3.list_objects_v2(Bucket=odd_bucket, StartAfter="sp ace/", Prefix="sp ace/")
    assert page["StartAfter"] == "sp ace/" and page["Prefix"] == "sp ace/"
    assert [o["Key"] for o in page["Contents"]] == ["sp ace/k"]


# ------------------------------------------------------------------ ListObjectVersions

def test_list_object_versions_shape(coffer_server, s3, bucket):
    put_keys(s3, bucket, ["a", "dir/b", "dir/c", "z"])
    head = s3.head_object(Bucket=bucket, Key="a")
    page = s3.list_object_versions(Bucket=bucket)
    assert page["IsTruncated"] is False and page["Name"] == bucket and page["MaxKeys"] == 1000
    assert "DeleteMarkers" not in page
    assert [v["Key"] for v in page["Versions"]] == ["a", "dir/b", "dir/c", "z"]
    v = page["Versions"][0]
    assert v["VersionId"] == "null" and v["IsLatest"] is True
    assert v["ETag"] == head["ETag"] and v["Size"] == 1 and v["StorageClass"] == "STANDARD"
    assert abs((v["LastModified"] - head["LastModified"]).total_seconds()) < 1  # HEAD has whole seconds
    assert v["Owner"]["ID"]
    page = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [v["Key"] for v in page["Versions"]] == ["a", "z"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir/"]
    page = s3.list_object_versions(Bucket=bucket, Prefix="dir/", KeyMarker="dir/b")
    assert [v["Key"] for v in page["Versions"]] == ["dir/c"]
    page = s3.list_object_versions(Bucket=bucket, KeyMarker="dir/b", VersionIdMarker="null")
    assert [v["Key"] for v in page["Versions"]] == ["dir/c", "z"]

    raw = raw_list(coffer_server.port, bucket, [("versions", ""), ("max-keys", "2")])
    root = xml_of(raw)
    assert root.tag == N + "ListVersionsResult"
    assert root.findtext(N + "KeyMarker") == "" and root.findtext(N + "VersionIdMarker") == ""
    assert root.findtext(N + "IsTruncated") == "true"
    assert root.findtext(N + "NextKeyMarker") == "dir/b"
    assert root.findtext(N + "NextVersionIdMarker") == "null"
    assert [e.findtext(N + "VersionId") for e in root.findall(N + "Version")] == ["null", "null"]
    assert [e.findtext(N + "IsLatest") for e in root.findall(N + "Version")] == ["true", "true"]
    # a common prefix as the last entry: no version marker to continue from
    root = xml_of(raw_list(coffer_server.port, bucket, [("versions", ""), ("max-keys", "2"), ("delimiter", "/")]))
    assert root.findtext(N + "NextKeyMarker") == "dir/"
    assert root.find(N + "NextVersionIdMarker") is None
    root = xml_of(raw_list(coffer_server.port, bucket, [("versions", ""), ("key-marker", "dir/"), ("delimiter", "/")]))
    assert [e.findtext(N + "Key") for e in root.findall(N + "Version")] == ["z"]
    assert root.findtext(N + "KeyMarker") == "dir/"


def test_list_object_versions_encoding(coffer_server, odd_bucket):
    q = [("versions", ""), ("encoding-type", "url"), ("prefix", "sp ace/"), ("key-marker", "sp ace/\x01"),
         ("delimiter", "k"), ("max-keys", "1")]
    root = xml_of(raw_list(coffer_server.port, odd_bucket, q))
    assert root.findtext(N + "Prefix") == "sp+ace/"
    assert root.findtext(N + "KeyMarker") == "sp+ace/%01"
    assert root.findtext(N + "Delimiter") == "k"
    assert texts(root, N + "CommonPrefixes/" + N + "Prefix") == ["sp+ace/k"]
    assert root.findtext(N + "EncodingType") == "url"
    root = xml_of(raw_list(coffer_server.port, odd_bucket, [("versions", ""), ("encoding-type", "url"), ("max-keys", "1")]))
    assert texts(root, N + "Version/" + N + "Key") == ["amp%26%3C%3E%22%27"]
    assert root.findtext(N + "NextKeyMarker") == "amp%26%3C%3E%22%27"


def test_list_object_versions_paginator(s3, delim_bucket):
    got = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=delim_bucket, PaginationConfig={"PageSize": 3}):
        got += [v["Key"] for v in page.get("Versions", [])]
    assert got == sorted(DELIM_KEYS)


def test_aws_cli_list_object_versions_and_ls(cli, s3, bucket):
    put_keys(s3, bucket, ["top.txt", "dir/a b.txt", "dir/sub/c", "\u65e5\u672c.txt"])
    out = json.loads(cli.aws("s3api", "list-object-versions", "--bucket", bucket).out)
    assert [v["Key"] for v in out["Versions"]] == sorted(["top.txt", "dir/a b.txt", "dir/sub/c", "\u65e5\u672c.txt"])
    assert {v["VersionId"] for v in out["Versions"]} == {"null"}
    assert all(v["IsLatest"] for v in out["Versions"])
    out = json.loads(cli.aws("s3api", "list-object-versions", "--bucket", bucket, "--prefix", "dir/",
                             "--delimiter", "/").out)
    assert [v["Key"] for v in out["Versions"]] == ["dir/a b.txt"]
    assert out["CommonPrefixes"] == [{"Prefix": "dir/sub/"}]
    out = json.loads(cli.aws("s3api", "list-object-versions", "--bucket", bucket, "--page-size", "1").out)
    assert len(out["Versions"]) == 4
    ls = cli.aws("s3", "ls", "s3://%s/" % bucket).out
    assert "PRE dir/" in ls and "top.txt" in ls and "\u65e5\u672c.txt" in ls
    ls = cli.aws("s3", "ls", "--recursive", "s3://%s/" % bucket).out
    assert [line.split(None, 3)[3] for line in ls.splitlines()] == \
        sorted(["top.txt", "dir/a b.txt", "dir/sub/c", "\u65e5\u672c.txt"])
    ls = cli.aws("s3", "ls", "s3://%s/dir/" % bucket).out
    assert "PRE sub/" in ls and "a b.txt" in ls


# ------------------------------------------------------------------ GetObjectAttributes

ALL_ATTRS = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def raw_attributes(port, bucket, key, attrs=None, extra=None, query=None):
    headers = dict(extra or {})
    if attrs is not None:
        headers["x-amz-object-attributes"] = attrs
    return raw_request(port, "GET", "/%s/%s" % (bucket, quote_key(key)), query=[("attributes", "")] + (query or []),
                       headers=headers)


def test_attributes_of_a_simple_object(coffer_server, s3, bucket):
    body = data_of(12345, 1)
    s3.put_object(Bucket=bucket, Key="obj", Body=body)
    head = s3.head_object(Bucket=bucket, Key="obj")
    a = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=ALL_ATTRS)
    assert a["ETag"] == md5_hex(body)  # no quotes
    assert a["ObjectSize"] == 12345 and a["StorageClass"] == "STANDARD"
    assert a["LastModified"] == head["LastModified"]
    assert "Checksum" not in a and "ObjectParts" not in a  # no checksum stored, not multipart
    a = s3.get_object_attributes(Bucket=bucket, Key="obj", ObjectAttributes=["ObjectSize"])
    assert a["ObjectSize"] == 12345
    assert "ETag" not in a and "StorageClass" not in a

    raw = raw_attributes(coffer_server.port, bucket, "obj", "ETag, ObjectSize,,StorageClass")
    assert raw.status == 200, raw
    assert raw.headers["last-modified"] == head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    assert raw.headers["content-type"] == "application/xml", raw
    root = xml_of(raw)
    assert root.tag == N + "GetObjectAttributesResponse"
    assert [c.tag[len(N):] for c in root] == ["ETag", "StorageClass", "ObjectSize"]
    assert root.findtext(N + "ETag") == md5_hex(body)
    # versionId=null names the one version an unversioned bucket holds: the same answer as without it
    plain = raw_attributes(coffer_server.port, bucket, "obj", "ETag,ObjectSize")
    null = raw_attributes(coffer_server.port, bucket, "obj", "ETag,ObjectSize", query=[("versionId", "null")])
    assert (plain.status, null.status) == (200, 200), (plain, null)
    assert null.headers["content-type"] == "application/xml", null
    assert null.headers["last-modified"] == plain.headers["last-modified"], (plain, null)
    assert null.body == plain.body, (plain, null)
    assert [(c.tag, c.text) for c in xml_of(null)] == [(N + "ETag", md5_hex(body)), (N + "ObjectSize", "12345")], null


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_attributes_checksum(coffer_server, s3, bucket, alg):
    body = data_of(3000, 2)
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, ChecksumAlgorithm=alg)
    assert put["Checksum" + alg] == checksum(alg, body)
    a = s3.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["Checksum"])
    assert a["Checksum"] == {"Checksum" + alg: checksum(alg, body)}
    root = xml_of(raw_attributes(coffer_server.port, bucket, "c", "Checksum"))
    assert root.findtext(N + "Checksum/" + N + "ChecksumType") == "FULL_OBJECT"


def _multipart(s3, bucket, key, sizes, alg=None):
    kw = {"ChecksumAlgorithm": alg} if alg else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)
    parts, bodies = [], []
    for i, size in enumerate(sizes, 1):
        body = data_of(size, 100 + i)
        bodies.append(body)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=body, **kw)
        part = {"PartNumber": i, "ETag": r["ETag"]}
        if alg:
            part["Checksum" + alg] = r["Checksum" + alg]
        parts.append(part)
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    return done, bodies


def test_attributes_multipart_parts(coffer_server, s3, bucket):
    sizes = [5 * MiB, 5 * MiB + 7, 1234]
    done, _ = _multipart(s3, bucket, "mp", sizes)
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL_ATTRS)
    assert a["ETag"] == done["ETag"].strip('"') and a["ETag"].endswith("-3")
    assert a["ObjectSize"] == sum(sizes)
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op["PartNumberMarker"] == 0 and op["NextPartNumberMarker"] == 3
    assert op["MaxParts"] == 1000 and op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [(1, sizes[0]), (2, sizes[1]), (3, sizes[2])]
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2)
    op = a["ObjectParts"]
    assert op["IsTruncated"] is True and op["MaxParts"] == 2 and op["NextPartNumberMarker"] == 2
    assert [p["PartNumber"] for p in op["Parts"]] == [1, 2]
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], PartNumberMarker=2)
    op = a["ObjectParts"]
    assert op["IsTruncated"] is False and op["PartNumberMarker"] == 2 and op["NextPartNumberMarker"] == 3
    assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [(3, 1234)]
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], PartNumberMarker=3)
    assert "Parts" not in a["ObjectParts"] and a["ObjectParts"]["TotalPartsCount"] == 3
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=0)
    assert "Parts" not in a["ObjectParts"] and a["ObjectParts"]["IsTruncated"] is True
    # S3's element for the count is PartsCount
    root = xml_of(raw_attributes(coffer_server.port, bucket, "mp", "ObjectParts", {"x-amz-max-parts": "1"}))
    assert root.findtext(N + "ObjectParts/" + N + "PartsCount") == "3"
    assert [p.findtext(N + "Size") for p in root.findall(N + "ObjectParts/" + N + "Part")] == [str(sizes[0])]


def test_attributes_composite_checksum(coffer_server, s3, bucket):
    sizes = [5 * MiB, 2000]
    done, bodies = _multipart(s3, bucket, "cmp", sizes, alg="SHA256")
    assert done["ChecksumSHA256"] == composite("SHA256", bodies)
    a = s3.get_object_attributes(Bucket=bucket, Key="cmp", ObjectAttributes=["Checksum", "ObjectParts"])
    assert a["Checksum"]["ChecksumSHA256"] == composite("SHA256", bodies).rsplit("-", 1)[0]
    assert [(p["PartNumber"], p["Size"]) for p in a["ObjectParts"]["Parts"]] == [(1, sizes[0]), (2, sizes[1])]
    root = xml_of(raw_attributes(coffer_server.port, bucket, "cmp", "Checksum"))
    assert root.findtext(N + "Checksum/" + N + "ChecksumType") == "COMPOSITE"


@pytest.mark.parametrize("attrs,extra,code,status", [
    (None, None, "InvalidRequest", 400),
    ("", None, "InvalidRequest", 400),
    (" , ", None, "InvalidRequest", 400),
    ("ETag,Bogus", None, "InvalidArgument", 400),
    ("etag", None, "InvalidArgument", 400),
    ("ObjectParts", {"x-amz-max-parts": "-1"}, "InvalidArgument", 400),
    ("ObjectParts", {"x-amz-part-number-marker": "x"}, "InvalidArgument", 400),
])
def test_attributes_bad_requests(coffer_server, s3, bucket, attrs, extra, code, status):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_xml_error(raw_attributes(coffer_server.port, bucket, "k", attrs, extra), code, status)


def test_attributes_missing_key_bucket_version(coffer_server, s3, bucket):
    bucket_name = unique_bucket_name("missing")
    assert_error(client_error(s3.get_object_attributes, Bucket=bucket, Key="nope", ObjectAttributes=["ETag"]),
                 "NoSuchKey", 404)
    assert_error(client_error(s3.get_object_attributes, Bucket=bucket_name, Key="k", ObjectAttributes=["ETag"]),
                 "NoSuchBucket", 404)
    # a missing bucket comes before a missing header
    assert_xml_error(raw_attributes(coffer_server.port, bucket_name, "k"), "NoSuchBucket", 404)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_xml_error(raw_attributes(coffer_server.port, bucket, "k", "ETag", query=[("versionId", "abc")]),
                     "InvalidArgument", 400)
    raw = raw_request(coffer_server.port, "PUT", "/%s/k" % bucket, query=[("attributes", "")])
    assert_xml_error(raw, "MethodNotAllowed", 405)


# ------------------------------------------------------------------ keys

def test_key_length_limit(s3, bucket):
    for key in ("k" * 1024, "\u65e5" * 341 + "a", "/" * 1024):
        assert len(key.encode("utf-8")) == 1024
        s3.put_object(Bucket=bucket, Key=key, Body=b"max")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"max"
    for key in ("k" * 1025, "\u65e5" * 341 + "ab", "\u00e9" * 513):
        assert len(key.encode("utf-8")) > 1024
        assert_error(client_error(s3.put_object, Bucket=bucket, Key=key, Body=b"x"), "KeyTooLongError", 400)
        assert_error(client_error(s3.get_object, Bucket=bucket, Key=key), "KeyTooLongError", 400)
    assert all_keys(s3, bucket) == sorted(["k" * 1024, "\u65e5" * 341 + "a", "/" * 1024])


ROUND_TRIP_KEYS = [
    "sp ace", " lead", "trail ", "plus+sign", "pct%41%", "q?mark", "hash#tag", "amp&=;,", "ctl\x01\x02\x1f", "nl\nx",
    "cr\rx", "tab\t", "del\x7f", "..", ".", "../up", "a/../b", "a/./b", "a//b", "trail/", "/lead", "//", "x%2Fy",
    "\u00fcml\u00e4ut", "\u65e5\u672c\u8a9e", "emoji\U0001f600", "back\\slash", "quote\"'", "<tag>", "~tilde", "{}[]|^`",
    "\u00a0nbsp", "\ufeffbom",
]


def test_keys_round_trip(s3, bucket, cli):
    for k in ROUND_TRIP_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode("utf-8"))
    for k in ROUND_TRIP_KEYS:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode("utf-8"), repr(k)
        assert s3.head_object(Bucket=bucket, Key=k)["ContentLength"] == len(k.encode("utf-8"))
        a = s3.get_object_attributes(Bucket=bucket, Key=k, ObjectAttributes=["ObjectSize"])
        assert a["ObjectSize"] == len(k.encode("utf-8"))
    want = sorted(ROUND_TRIP_KEYS)
    assert [k for _, k in flat(list_v2_all(s3, bucket, 7))] == want
    assert [k for _, k in flat(list_v1_all(s3, bucket, 7))] == want
    assert [k for _, k in flat(list_versions_all(s3, bucket, 7), versions=True)] == want
    out = json.loads(cli.aws("s3api", "list-objects-v2", "--bucket", bucket).out)
    assert [o["Key"] for o in out["Contents"]] == want
    for k in ROUND_TRIP_KEYS:
        s3.delete_object(Bucket=bucket, Key=k)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


# ------------------------------------------------------------------ user metadata

def test_metadata_limit_counts_names_without_prefix_and_values(s3, bucket):
    ok = {"m1": "v" * 2046}  # 2 + 2046 = 2048 bytes
    s3.put_object(Bucket=bucket, Key="ok1", Body=b"x", Metadata=ok)
    assert s3.head_object(Bucket=bucket, Key="ok1")["Metadata"] == ok
    ok = {"k1": "a" * 1000, "k2": "b" * 1044}  # 2 + 1000 + 2 + 1044 = 2048
    s3.put_object(Bucket=bucket, Key="ok2", Body=b"x", Metadata=ok)
    assert s3.head_object(Bucket=bucket, Key="ok2")["Metadata"] == ok
    for bad in ({"m1": "v" * 2047}, {"k1": "a" * 1000, "k2": "b" * 1045}, {"x" * 2049: ""}):
        resp = client_error(s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Metadata=bad)
        assert_error(resp, "MetadataTooLarge", 400)
    assert_error(client_error(s3.head_object, Bucket=bucket, Key="bad"), "404", 404)
    # multipart uploads take the same limit at creation
    resp = client_error(s3.create_multipart_upload, Bucket=bucket, Key="bad", Metadata={"m1": "v" * 2047})
    assert_error(resp, "MetadataTooLarge", 400)


def test_many_small_metadata_entries(s3, bucket):
    """S3 limits metadata by size, not by count: 80 entries of 4 bytes are fine."""
    meta = {"m%02d" % i: "v" for i in range(80)}
    s3.put_object(Bucket=bucket, Key="many", Body=b"x", Metadata=meta)
    assert s3.head_object(Bucket=bucket, Key="many")["Metadata"] == meta


# ------------------------------------------------------------------ listings racing writes

def test_listing_while_writing_is_consistent(s3, bucket):
    """Pages taken while other threads write keep order and never repeat a key."""
    put_keys(s3, bucket, ["base%03d" % i for i in range(0, 200, 2)])
    stop = threading.Event()
    done = []      # one entry per acknowledged write
    failures = []  # exceptions raised in the writer thread

    def writer():
        try:
            # new odd keys first, then overwrites of them, until the listings are over (bounded)
            for n in range(5000):
                if stop.is_set():
                    return
                s3.put_object(Bucket=bucket, Key="base%03d" % (1 + 2 * (n % 200)), Body=b"w%d" % n)
                done.append(n)
        except Exception as e:  # reported by the main thread
            failures.append(e)

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert wait_for(lambda: done or failures, timeout=30), "the writer acknowledged nothing in 30 s"
        before = len(done)
        for _ in range(3):
            names = [k for _, k in flat(list_v2_all(s3, bucket, 9))]
            assert names == sorted(names) and len(names) == len(set(names))
            assert set("base%03d" % i for i in range(0, 200, 2)) <= set(names)
        during = len(done) - before
    finally:
        stop.set()
        t.join(timeout=60)
    assert not t.is_alive(), "the writer did not stop within 60 s"
    assert not failures, failures
    assert during > 0, "no write completed while the listings ran"


def test_last_modified_is_iso_in_listings(coffer_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    for q in ([("list-type", "2")], [], [("versions", "")]):
        root = xml_of(raw_list(coffer_server.port, bucket, q))
        lm = root.findtext(".//" + N + "LastModified")
        assert datetime.datetime.strptime(lm, "%Y-%m-%dT%H:%M:%S.%fZ")
        assert root.findtext(".//" + N + "ETag") == '"%s"' % md5_hex(b"x")
        assert root.findtext(".//" + N + "StorageClass") == "STANDARD"

