/* tests/unit/test_sigv2.c -- SigV2 (HMAC-SHA1) against AWS's documented examples and botocore's signer.
 *
 * DESIGN: three sources of truth. (1) AWS's examples from "Signing and Authenticating
 * REST Requests" (S3 Developer Guide, Signature Version 2), each checked string to sign
 * and signature byte for byte. (2) Vectors made by botocore 1.29's HmacV1Auth and
 * HmacV1QueryAuth: real boto3 S3 client requests caught at before-send (fixed clock and
 * credentials), plus requests no client call produces (repeated headers, "acl=", a CNAME
 * bucket) signed by HmacV1Auth directly; botocore's own string to sign is kept, so every
 * vector checks the string, the signature and sigv2_verify. Some of them carry botocore's
 * auth-path quirk ("?acl?acl", see sigv2_form_t) and must match the second form only.
 * (3) Tables of hand-written cases: parsing, dates, canonicalization rules, tampering,
 * bounds. The botocore table is generated (between the markers below) by a small script
 * that runs boto3 with signature_version='s3' and prints the rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth/sigv2.h"

#define AWS_EXAMPLE_ACCESS_KEY "AKIAIOSFODNN7EXAMPLE"
#define AWS_EXAMPLE_SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define MAX_TEST_HEADERS 32

typedef struct sigv2_test_header {
    const char *name;
    const char *value;
} sigv2_test_header_t;

typedef struct sigv2_botocore_vector {
    const char *name;
    const char *method;
    const char *bucket;                 /* virtual-host style: the bucket the Host names */
    const char *path;                   /* raw, as on the wire */
    const char *query;                  /* raw, without '?' */
    int presigned;                      /* HmacV1QueryAuth: AWSAccessKeyId, Signature and Expires in the query */
    int quirk;                          /* signed with botocore's auth-path quirk (SIGV2_FORM_BOTOCORE_AUTH_PATH) */
    const sigv2_test_header_t *headers; /* as sent, names lower-cased, Authorization left out */
    const char *authorization;          /* header form only */
    const char *string_to_sign;         /* botocore's */
    const char *signature;
} sigv2_botocore_vector_t;

/* ---- BEGIN generated: botocore 1.29.27 HmacV1Auth / HmacV1QueryAuth, secret AWS_EXAMPLE_SECRET_KEY ---- */
static const sigv2_test_header_t botocore_headers_0[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_1[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "0"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_2[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_3[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_4[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_5[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_6[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_7[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_8[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_9[] = {
    {"range", "bytes=0-9"},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_10[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_11[] = {
    {"content-type", "application/x-download"},
    {"content-md5", "XUFAKrxLKna5cZ2REBfFkg=="},
    {"x-amz-acl", "public-read"},
    {"x-amz-meta-reviewedby", "joe@example.com"},
    {"x-amz-meta-filechecksum", "0x02661779"},
    {"x-amz-meta-checksumalgorithm", "crc32"},
    {"content-disposition", "attachment; filename=database.dat"},
    {"content-encoding", "gzip"},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "5"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_12[] = {
    {"x-amz-meta-a", "  padded  "},
    {"x-amz-meta-b", "inner  two  spaces"},
    {"x-amz-meta-c", "tab\x09"
                     "here"},
    {"content-md5", "ndTkYSaMgDT1yFZOFVxnpg=="},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "1"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_13[] = {
    {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
    {"x-amz-server-side-encryption", "AES256"},
    {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "0"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_14[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "0"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_15[] = {
    {"content-md5", "b4QRo/AyJasfinJEdrnYKw=="},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "123"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_16[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_17[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_18[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_19[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_20[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_21[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_22[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_23[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_24[] = {
    {"content-type", "application/octet-stream"},
    {"x-amz-meta-m", "1"},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "0"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_25[] = {
    {"content-md5", "9Mk4XxkC9zNLALm07NFk3g=="},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "4"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_26[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_27[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "154"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_28[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "0"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_29[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_30[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_31[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_32[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_33[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_34[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_35[] = {
    {"content-md5", "+63p42o/NtPWdsG4CEUd1w=="},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {"content-length", "1"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_36[] = {
    {"x-amz-meta-reviewedby", "joe@example.com"},
    {"x-amz-meta-reviewedby", " jane@example.com "},
    {"x-amz-meta-zeta", "z"},
    {"x-amz-meta-alpha", "a"},
    {"content-type", " text/plain "},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_37[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_38[] = {
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_39[] = {
    {"content-type", "application/x-download"},
    {"date", "Fri, 24 May 2013 00:00:00 GMT"},
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_40[] = {
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_41[] = {
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_42[] = {
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_43[] = {
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_44[] = {
    {0, 0},
};
static const sigv2_test_header_t botocore_headers_45[] = {
    {0, 0},
};
static const sigv2_botocore_vector_t botocore_vectors[] = {
    {"list buckets", "GET", NULL, "/", "", 0, 0, botocore_headers_0, "AWS AKIAIOSFODNN7EXAMPLE:LmMMufbDz0HS5njYUhVCdBuXpdU=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/", "LmMMufbDz0HS5njYUhVCdBuXpdU="},
    {"create bucket", "PUT", NULL, "/examplebucket", "", 0, 0, botocore_headers_1,
     "AWS AKIAIOSFODNN7EXAMPLE:xEHdyFRzfS2AGnOAf4Cm1XQsIXY=", "PUT\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/",
     "xEHdyFRzfS2AGnOAf4Cm1XQsIXY="},
    {"list objects with unsigned params", "GET", NULL, "/examplebucket",
     "prefix=photos%2F2006%2F&delimiter=%2F&max-keys=50&encoding-type=url", 0, 0, botocore_headers_2,
     "AWS AKIAIOSFODNN7EXAMPLE:Ts2zYqkUUf9ZwjrrmHXZiV5kF3E=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/",
     "Ts2zYqkUUf9ZwjrrmHXZiV5kF3E="},
    {"list objects v2", "GET", NULL, "/examplebucket", "list-type=2&prefix=a%20b&start-after=x&encoding-type=url", 0, 1,
     botocore_headers_3, "AWS AKIAIOSFODNN7EXAMPLE:e++0XKniboGZUIlpNzo1Zrxiep4=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?list-type=2", "e++0XKniboGZUIlpNzo1Zrxiep4="},
    {"get object", "GET", NULL, "/examplebucket/photos/puppy.jpg", "", 0, 0, botocore_headers_4,
     "AWS AKIAIOSFODNN7EXAMPLE:RteGsBPTB+iVAKUTIynYQd/kT3I=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/photos/puppy.jpg", "RteGsBPTB+iVAKUTIynYQd/kT3I="},
    {"get object with encoded key", "GET", NULL, "/examplebucket/d%C3%BCr/a%20b%2Bc%25d~e%21f%2Ag%27h%28i%29j", "", 0, 0,
     botocore_headers_5, "AWS AKIAIOSFODNN7EXAMPLE:8EwODKfLaQUDQxEOHrum+k2zOBc=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/d%C3%BCr/a%20b%2Bc%25d~e%21f%2Ag%27h%28i%29j",
     "8EwODKfLaQUDQxEOHrum+k2zOBc="},
    {"get object dot segments", "GET", NULL, "/examplebucket/a/./b/../c//d", "", 0, 0, botocore_headers_6,
     "AWS AKIAIOSFODNN7EXAMPLE:1nCn+sN8I6EgVWyAdOgs3MbB2q8=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/a/./b/../c//d", "1nCn+sN8I6EgVWyAdOgs3MbB2q8="},
    {"get object response overrides", "GET", NULL, "/examplebucket/report.csv",
     "response-content-disposition=attachment%3B%20filename%3D%22q%201.csv%22&response-content-type=text%2Fcsv%3B%20charset%3Dutf-"
     "8&response-cache-control=no-cache&response-expires=Sat%2C%2001%20Jun%202013%2000%3A00%3A00%20GMT&response-content-language="
     "en-US&response-content-encoding=identity",
     0, 0, botocore_headers_7, "AWS AKIAIOSFODNN7EXAMPLE:pPyqD+TFyLpJ8XJQtBo32r8ynJg=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 "
     "GMT\n/examplebucket/report.csv?response-cache-control=no-cache&response-content-disposition=attachment; filename=\"q "
     "1.csv\"&response-content-encoding=identity&response-content-language=en-US&response-content-type=text/csv; "
     "charset=utf-8&response-expires=Sat, 01 Jun 2013 00:00:00 GMT",
     "pPyqD+TFyLpJ8XJQtBo32r8ynJg="},
    {"get object version", "GET", NULL, "/examplebucket/v",
     "versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY%2BMTRCxf3vjVBH40Nr8X8gdRQBpUMLUo", 0, 0, botocore_headers_8,
     "AWS AKIAIOSFODNN7EXAMPLE:UXLrv0RBIMvJIve5HTlZqQH0rII=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 "
     "GMT\n/examplebucket/v?versionId=3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
     "UXLrv0RBIMvJIve5HTlZqQH0rII="},
    {"get object range", "GET", NULL, "/examplebucket/r", "", 0, 0, botocore_headers_9,
     "AWS AKIAIOSFODNN7EXAMPLE:YqpzPeylWKQwa6u4l1OelSf9K8Y=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/r",
     "YqpzPeylWKQwa6u4l1OelSf9K8Y="},
    {"head object", "HEAD", NULL, "/examplebucket/photos/puppy.jpg", "", 0, 0, botocore_headers_10,
     "AWS AKIAIOSFODNN7EXAMPLE:5/h+EvT28hdaNvHO4r1rYuCXDjU=",
     "HEAD\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/photos/puppy.jpg", "5/h+EvT28hdaNvHO4r1rYuCXDjU="},
    {"put object with metadata", "PUT", NULL, "/examplebucket/db-backup.dat.gz", "", 0, 0, botocore_headers_11,
     "AWS AKIAIOSFODNN7EXAMPLE:yH74fYLqpbhvycBitq+nnI2aYmk=",
     "PUT\nXUFAKrxLKna5cZ2REBfFkg==\napplication/x-download\nFri, 24 May 2013 00:00:00 "
     "GMT\nx-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\nx-amz-meta-reviewedby:"
     "joe@example.com\n/examplebucket/db-backup.dat.gz",
     "yH74fYLqpbhvycBitq+nnI2aYmk="},
    {"put object metadata whitespace", "PUT", NULL, "/examplebucket/ws", "", 0, 0, botocore_headers_12,
     "AWS AKIAIOSFODNN7EXAMPLE:7GDHzOwTpt2KLTRte4ktTF0s+2g=",
     "PUT\nndTkYSaMgDT1yFZOFVxnpg==\n\nFri, 24 May 2013 00:00:00 GMT\nx-amz-meta-a:padded\nx-amz-meta-b:inner  two  "
     "spaces\nx-amz-meta-c:tab\x09"
     "here\n/examplebucket/ws",
     "7GDHzOwTpt2KLTRte4ktTF0s+2g="},
    {"put object storage class", "PUT", NULL, "/examplebucket/sc", "", 0, 0, botocore_headers_13,
     "AWS AKIAIOSFODNN7EXAMPLE:U95aLhnb3iEDJExw3wxzgdKMzc0=",
     "PUT\n1B2M2Y8AsgTpgAmY7PhCfg==\n\nFri, 24 May 2013 00:00:00 "
     "GMT\nx-amz-server-side-encryption:AES256\nx-amz-storage-class:REDUCED_REDUNDANCY\n/examplebucket/sc",
     "U95aLhnb3iEDJExw3wxzgdKMzc0="},
    {"delete object", "DELETE", NULL, "/examplebucket/photos/puppy.jpg", "", 0, 0, botocore_headers_14,
     "AWS AKIAIOSFODNN7EXAMPLE:5ijaEUeUSbIR37mWWRGTdwosZts=",
     "DELETE\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/photos/puppy.jpg", "5ijaEUeUSbIR37mWWRGTdwosZts="},
    {"delete objects", "POST", NULL, "/examplebucket", "delete", 0, 1, botocore_headers_15,
     "AWS AKIAIOSFODNN7EXAMPLE:iG0XIRfoNPhMzRo2wjsSB0OUMvQ=",
     "POST\nb4QRo/AyJasfinJEdrnYKw==\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?delete?delete",
     "iG0XIRfoNPhMzRo2wjsSB0OUMvQ="},
    {"get bucket acl", "GET", NULL, "/examplebucket", "acl", 0, 1, botocore_headers_16,
     "AWS AKIAIOSFODNN7EXAMPLE:7AtsMuNQJpTHtiEzvKRbXkBrAgQ=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?acl?acl",
     "7AtsMuNQJpTHtiEzvKRbXkBrAgQ="},
    {"get object acl", "GET", NULL, "/examplebucket/k", "acl", 0, 1, botocore_headers_17,
     "AWS AKIAIOSFODNN7EXAMPLE:kmEA70W2E/uQok4flIGLf9n8fiM=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/k?acl?acl",
     "kmEA70W2E/uQok4flIGLf9n8fiM="},
    {"get bucket location", "GET", NULL, "/examplebucket", "location", 0, 1, botocore_headers_18,
     "AWS AKIAIOSFODNN7EXAMPLE:mhqovm/jtoIjUtESHxZzqHiBh3A=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?location?location", "mhqovm/jtoIjUtESHxZzqHiBh3A="},
    {"get bucket versioning", "GET", NULL, "/examplebucket", "versioning", 0, 1, botocore_headers_19,
     "AWS AKIAIOSFODNN7EXAMPLE:D3qjCsF7UwPGQJ/bihj6II+mUq0=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?versioning?versioning", "D3qjCsF7UwPGQJ/bihj6II+mUq0="},
    {"get bucket lifecycle", "GET", NULL, "/examplebucket", "lifecycle", 0, 1, botocore_headers_20,
     "AWS AKIAIOSFODNN7EXAMPLE:lVa2ApIRqTslBZNyqGsAYQl/q/U=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?lifecycle?lifecycle", "lVa2ApIRqTslBZNyqGsAYQl/q/U="},
    {"get bucket cors", "GET", NULL, "/examplebucket", "cors", 0, 1, botocore_headers_21,
     "AWS AKIAIOSFODNN7EXAMPLE:vDSkTLsLumMx2bg/2vs50ndX0mY=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?cors?cors",
     "vDSkTLsLumMx2bg/2vs50ndX0mY="},
    {"get object tagging", "GET", NULL, "/examplebucket/k", "tagging", 0, 1, botocore_headers_22,
     "AWS AKIAIOSFODNN7EXAMPLE:ugpfnvluDLJJemfqBgjpTfcekc0=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/k?tagging?tagging", "ugpfnvluDLJJemfqBgjpTfcekc0="},
    {"list object versions", "GET", NULL, "/examplebucket", "versions&prefix=p&encoding-type=url", 0, 1, botocore_headers_23,
     "AWS AKIAIOSFODNN7EXAMPLE:ZF6z3V10HQqc9mf7TW3R+mJAfIc=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?versions?versions", "ZF6z3V10HQqc9mf7TW3R+mJAfIc="},
    {"create multipart upload", "POST", NULL, "/examplebucket/big/file.bin", "uploads", 0, 1, botocore_headers_24,
     "AWS AKIAIOSFODNN7EXAMPLE:W8EZImSLzv7PReVJ4wOxq10DeXs=",
     "POST\n\napplication/octet-stream\nFri, 24 May 2013 00:00:00 GMT\nx-amz-meta-m:1\n/examplebucket/big/file.bin?uploads?uploads",
     "W8EZImSLzv7PReVJ4wOxq10DeXs="},
    {"upload part", "PUT", NULL, "/examplebucket/big/file.bin",
     "partNumber=7&uploadId=VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA", 0, 0, botocore_headers_25,
     "AWS AKIAIOSFODNN7EXAMPLE:kSe8uYlVP3Xtd05dSlEvCqNTwG8=",
     "PUT\n9Mk4XxkC9zNLALm07NFk3g==\n\nFri, 24 May 2013 00:00:00 "
     "GMT\n/examplebucket/big/file.bin?partNumber=7&uploadId=VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
     "kSe8uYlVP3Xtd05dSlEvCqNTwG8="},
    {"list parts", "GET", NULL, "/examplebucket/big/file.bin", "uploadId=abc%2Bdef%2Fghi%3D&max-parts=2", 0, 0, botocore_headers_26,
     "AWS AKIAIOSFODNN7EXAMPLE:QjdA8Aw+SLK0iJI3O/Qr5lV9JmQ=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/big/file.bin?uploadId=abc+def/ghi=", "QjdA8Aw+SLK0iJI3O/Qr5lV9JmQ="},
    {"complete multipart upload", "POST", NULL, "/examplebucket/big/file.bin", "uploadId=abc", 0, 0, botocore_headers_27,
     "AWS AKIAIOSFODNN7EXAMPLE:KiqJ5+Sluk3NUVYk2C+rDx/BGhY=",
     "POST\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/big/file.bin?uploadId=abc", "KiqJ5+Sluk3NUVYk2C+rDx/BGhY="},
    {"abort multipart upload", "DELETE", NULL, "/examplebucket/big/file.bin", "uploadId=abc", 0, 0, botocore_headers_28,
     "AWS AKIAIOSFODNN7EXAMPLE:lLmXx+6Oel8nq/KmDxTIEG0V5WQ=",
     "DELETE\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/big/file.bin?uploadId=abc", "lLmXx+6Oel8nq/KmDxTIEG0V5WQ="},
    {"list multipart uploads", "GET", NULL, "/examplebucket", "uploads&prefix=big%2F", 0, 1, botocore_headers_29,
     "AWS AKIAIOSFODNN7EXAMPLE:nefNP/TR/8eOsPiSRDTNrcqClEs=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?uploads?uploads", "nefNP/TR/8eOsPiSRDTNrcqClEs="},
    {"virtual host get object", "GET", "examplebucket", "/photos/puppy.jpg", "", 0, 0, botocore_headers_30,
     "AWS AKIAIOSFODNN7EXAMPLE:RteGsBPTB+iVAKUTIynYQd/kT3I=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/photos/puppy.jpg", "RteGsBPTB+iVAKUTIynYQd/kT3I="},
    {"virtual host list objects", "GET", "examplebucket", "/", "prefix=p&encoding-type=url", 0, 0, botocore_headers_31,
     "AWS AKIAIOSFODNN7EXAMPLE:Ts2zYqkUUf9ZwjrrmHXZiV5kF3E=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/",
     "Ts2zYqkUUf9ZwjrrmHXZiV5kF3E="},
    {"virtual host put acl sub-resource", "GET", "examplebucket", "/a%20b", "acl", 0, 1, botocore_headers_32,
     "AWS AKIAIOSFODNN7EXAMPLE:/PSyfANuN//16qdUx6qVpgMHflI=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/a%20b?acl?acl", "/PSyfANuN//16qdUx6qVpgMHflI="},
    {"virtual host bucket acl", "GET", "examplebucket", "/", "acl", 0, 1, botocore_headers_33,
     "AWS AKIAIOSFODNN7EXAMPLE:7AtsMuNQJpTHtiEzvKRbXkBrAgQ=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?acl?acl",
     "7AtsMuNQJpTHtiEzvKRbXkBrAgQ="},
    {"virtual host list objects v2", "GET", "examplebucket", "/", "list-type=2&prefix=q&encoding-type=url", 0, 1,
     botocore_headers_34, "AWS AKIAIOSFODNN7EXAMPLE:e++0XKniboGZUIlpNzo1Zrxiep4=",
     "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket?list-type=2", "e++0XKniboGZUIlpNzo1Zrxiep4="},
    {"virtual host multipart", "PUT", "examplebucket", "/k", "partNumber=2&uploadId=u1", 0, 0, botocore_headers_35,
     "AWS AKIAIOSFODNN7EXAMPLE:L0ssbL2EcAK+Zggv4hkXQb4chm4=",
     "PUT\n+63p42o/NtPWdsG4CEUd1w==\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/k?partNumber=2&uploadId=u1",
     "L0ssbL2EcAK+Zggv4hkXQb4chm4="},
    {"repeated and mixed-case x-amz headers", "PUT", NULL, "/examplebucket/rep", "", 0, 0, botocore_headers_36,
     "AWS AKIAIOSFODNN7EXAMPLE:hZXWrhdlKqc6WE72NOsF8sgJeIk=",
     "PUT\n\ntext/plain\nFri, 24 May 2013 00:00:00 "
     "GMT\nx-amz-meta-alpha:a\nx-amz-meta-reviewedby:joe@example.com,jane@example.com\nx-amz-meta-zeta:z\n/examplebucket/rep",
     "hZXWrhdlKqc6WE72NOsF8sgJeIk="},
    {"empty sub-resource value with equals", "GET", NULL, "/examplebucket/k", "acl=&prefix=x", 0, 0, botocore_headers_37,
     "AWS AKIAIOSFODNN7EXAMPLE:YnvBQLdPvMq/ysBbR3VgMwoz0UM=", "GET\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/k?acl=",
     "YnvBQLdPvMq/ysBbR3VgMwoz0UM="},
    {"sub-resources out of order with unsigned ones", "PUT", NULL, "/examplebucket/k",
     "uploadId=u%2B1&foo=bar&partNumber=12&x-id=UploadPart", 0, 0, botocore_headers_38,
     "AWS AKIAIOSFODNN7EXAMPLE:Uxez2jWffnga8bRnyElU5p/7Qzc=",
     "PUT\n\n\nFri, 24 May 2013 00:00:00 GMT\n/examplebucket/k?partNumber=12&uploadId=u+1", "Uxez2jWffnga8bRnyElU5p/7Qzc="},
    {"virtual host on a custom domain", "PUT", "static.example.net", "/db-backup.dat.gz", "", 0, 0, botocore_headers_39,
     "AWS AKIAIOSFODNN7EXAMPLE:2qQLCNzOllaYOgdvo+yG2C+LzIQ=",
     "PUT\n\napplication/x-download\nFri, 24 May 2013 00:00:00 GMT\n/static.example.net/db-backup.dat.gz",
     "2qQLCNzOllaYOgdvo+yG2C+LzIQ="},
    {"presigned get", "GET", NULL, "/examplebucket/photos/puppy.jpg",
     "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=madDLPTQTvZ3YKt3%2BsWaPZWRddw%3D&Expires=1369354200", 1, 0, botocore_headers_40,
     NULL, "GET\n\n\n1369354200\n/examplebucket/photos/puppy.jpg", "madDLPTQTvZ3YKt3+sWaPZWRddw="},
    {"presigned get encoded key", "GET", NULL, "/examplebucket/sp%20ace/%C3%BC%2Bx",
     "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=YG%2BInxoI%2Bqic%2BZuTLRAscq5Wkos%3D&Expires=1369354200", 1, 0,
     botocore_headers_41, NULL, "GET\n\n\n1369354200\n/examplebucket/sp%20ace/%C3%BC%2Bx", "YG+InxoI+qic+ZuTLRAscq5Wkos="},
    {"presigned get response override", "GET", NULL, "/examplebucket/f",
     "response-content-disposition=attachment%3B%20filename%3Dx.txt&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=CwPplXHTsE0u%"
     "2BIiiIamhEyTVnSU%3D&Expires=1369354200",
     1, 0, botocore_headers_42, NULL,
     "GET\n\n\n1369354200\n/examplebucket/f?response-content-disposition=attachment; filename=x.txt",
     "CwPplXHTsE0u+IiiIamhEyTVnSU="},
    {"presigned put with metadata", "PUT", NULL, "/examplebucket/up",
     "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=lVR%2FrEewRkCPutBIApLxd4ZX0HQ%3D&x-amz-meta-color=violet&x-amz-acl=private&"
     "Expires=1369354200",
     1, 0, botocore_headers_43, NULL, "PUT\n\n\n1369354200\nx-amz-acl:private\nx-amz-meta-color:violet\n/examplebucket/up",
     "lVR/rEewRkCPutBIApLxd4ZX0HQ="},
    {"presigned virtual host get", "GET", "examplebucket", "/vh/obj",
     "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=j2EV8j7%2FZEDd1edWL82FjzqQrYo%3D&Expires=1369354200", 1, 0, botocore_headers_44,
     NULL, "GET\n\n\n1369354200\n/examplebucket/vh/obj", "j2EV8j7/ZEDd1edWL82FjzqQrYo="},
    {"presigned get object acl", "GET", NULL, "/examplebucket/acl/obj",
     "acl&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=Aa5pIrJqOjlSqLDh4GBEbAHY3Ag%3D&Expires=1369354200", 1, 1,
     botocore_headers_45, NULL, "GET\n\n\n1369354200\n/examplebucket/acl/obj?acl?acl", "Aa5pIrJqOjlSqLDh4GBEbAHY3Ag="},
};
/* ---- END generated ---- */

#define NUM_BOTOCORE_VECTORS (sizeof(botocore_vectors) / sizeof(botocore_vectors[0]))

/* A request under test: owns copies so cases can tamper with them. */
typedef struct test_request {
    sigv2_request_t req;
    sigv2_header_t headers[MAX_TEST_HEADERS];
    char path[1024];
    char query[1024];
    char expires[32];
} test_request_t;

static void set_header(sigv2_header_t *h, const char *name, const char *value)
{
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = strlen(value);
}

/* Copies a raw query parameter's value (undecoded) into out; returns 0 or -1 when absent. */
static int query_param(const char *query, const char *name, char *out, size_t out_size)
{
    size_t name_len = strlen(name);

    for (const char *p = query; *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t item_len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (item_len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
            snprintf(out, out_size, "%.*s", (int)(item_len - name_len - 1), p + name_len + 1);
            return 0;
        }
        p += item_len + (amp != NULL);
    }
    return -1;
}

/* Fills t; expires is the Expires parameter for the query form, NULL for the header form. */
static void request_init(test_request_t *t, const char *method, const char *bucket, const char *path, const char *query,
                         const sigv2_test_header_t *headers, const char *expires)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s", path);
    snprintf(t->query, sizeof(t->query), "%s", query);
    for (size_t i = 0; headers != NULL && headers[i].name != NULL; i++) {
        assert_true(i < MAX_TEST_HEADERS);
        set_header(&t->headers[i], headers[i].name, headers[i].value);
        t->req.num_headers++;
    }
    t->req.method = method;
    t->req.method_len = strlen(method);
    t->req.bucket = bucket;
    t->req.bucket_len = bucket != NULL ? strlen(bucket) : 0;
    t->req.path = t->path;
    t->req.path_len = strlen(t->path);
    t->req.query = t->query;
    t->req.query_len = strlen(t->query);
    t->req.headers = t->headers;
    if (expires != NULL) {
        snprintf(t->expires, sizeof(t->expires), "%s", expires);
        t->req.expires = t->expires;
        t->req.expires_len = strlen(t->expires);
    }
}

/* Copies a request so that its pointers refer to the copy's own buffers. */
static void copy_request(test_request_t *dst, const test_request_t *src)
{
    *dst = *src;
    dst->req.headers = dst->headers;
    dst->req.path = dst->path;
    dst->req.query = dst->query;
    if (src->req.expires != NULL)
        dst->req.expires = dst->expires;
}

static sigv2_status_t verify_with(const test_request_t *t, const char *secret, const char *signature)
{
    return sigv2_verify(&t->req, secret, strlen(secret), signature, strlen(signature));
}

/* Checks the string to sign under form, the signature over it and sigv2_verify. */
static void check_signing(const test_request_t *t, const char *name, sigv2_form_t form, const char *sts, const char *signature)
{
    char buf[16384], sig[SIGV2_SIGNATURE_LEN + 1];
    long len = sigv2_string_to_sign(&t->req, form, buf, sizeof(buf));

    if (len < 0)
        fail_msg("%s: string to sign failed", name);
    if (strcmp(buf, sts) != 0)
        fail_msg("%s: string to sign\n--- got\n%s\n--- want\n%s", name, buf, sts);
    assert_int_equal((size_t)len, strlen(buf));
    sigv2_sign(AWS_EXAMPLE_SECRET_KEY, strlen(AWS_EXAMPLE_SECRET_KEY), buf, (size_t)len, sig);
    if (strcmp(sig, signature) != 0)
        fail_msg("%s: signature %s, want %s", name, sig, signature);
    if (verify_with(t, AWS_EXAMPLE_SECRET_KEY, signature) != SIGV2_OK)
        fail_msg("%s: sigv2_verify failed", name);
}

/* ---- botocore vectors ---- */

static void botocore_request(test_request_t *t, const sigv2_botocore_vector_t *v)
{
    char expires[32];
    int have_expires = v->presigned && query_param(v->query, "Expires", expires, sizeof(expires)) == 0;

    assert_true(have_expires || !v->presigned);
    request_init(t, v->method, v->bucket, v->path, v->query, v->headers, have_expires ? expires : NULL);
}

static void test_botocore_vectors(void **state)
{
    size_t num_quirk = 0, num_presigned = 0, num_virtual = 0;

    (void)state;
    assert_true(NUM_BOTOCORE_VECTORS >= 40);
    for (size_t i = 0; i < NUM_BOTOCORE_VECTORS; i++) {
        const sigv2_botocore_vector_t *v = &botocore_vectors[i];
        test_request_t t;
        char sig[SIGV2_SIGNATURE_LEN + 1];

        botocore_request(&t, v);
        if (!v->presigned) {
            sigv2_auth_t auth;
            assert_int_equal(sigv2_parse_authorization(v->authorization, strlen(v->authorization), &auth), SIGV2_OK);
            assert_string_equal(auth.access_key, AWS_EXAMPLE_ACCESS_KEY);
            assert_string_equal(auth.signature, v->signature);
        } else {
            assert_int_equal(query_param(v->query, "Signature", sig, sizeof(sig)), 0); /* present (URL-encoded) */
            num_presigned++;
        }
        num_virtual += v->bucket != NULL;
        if (v->quirk) {
            char aws[16384];
            num_quirk++;
            assert_true(sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, aws, sizeof(aws)) > 0);
            if (strcmp(aws, v->string_to_sign) == 0)
                fail_msg("%s: flagged as a botocore quirk but AWS's form matches", v->name);
            check_signing(&t, v->name, SIGV2_FORM_BOTOCORE_AUTH_PATH, v->string_to_sign, v->signature);
        } else {
            check_signing(&t, v->name, SIGV2_FORM_AWS, v->string_to_sign, v->signature);
        }
        /* the same request under the wrong secret, or with the signature altered, does not verify */
        if (verify_with(&t, AWS_EXAMPLE_SECRET_KEY "x", v->signature) != SIGV2_MISMATCH)
            fail_msg("%s: verified under a wrong secret", v->name);
        snprintf(sig, sizeof(sig), "%s", v->signature);
        sig[3] = sig[3] == 'A' ? 'B' : 'A';
        if (verify_with(&t, AWS_EXAMPLE_SECRET_KEY, sig) != SIGV2_MISMATCH)
            fail_msg("%s: verified with a tampered signature", v->name);
    }
    assert_true(num_quirk >= 5 && num_presigned >= 5 && num_virtual >= 5);
}

/* ---- AWS's documented examples ---- */

typedef struct aws_example {
    const char *name;
    const char *method;
    const char *bucket; /* from the Host (virtual-host style) */
    const char *path;
    const char *query;
    sigv2_test_header_t headers[12];
    const char *expires; /* query-string example */
    const char *string_to_sign;
    const char *signature;
} aws_example_t;

static const aws_example_t aws_examples[] = {
    {"Object GET",
     "GET",
     "johnsmith",
     "/photos/puppy.jpg",
     "",
     {{"host", "johnsmith.s3.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
     NULL,
     "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg",
     "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
    {"Object GET (awsexamplebucket1)",
     "GET",
     "awsexamplebucket1",
     "/photos/puppy.jpg",
     "",
     {{"host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
     NULL,
     "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg",
     "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="},
    {"Object PUT",
     "PUT",
     "johnsmith",
     "/photos/puppy.jpg",
     "",
     {{"content-type", "image/jpeg"},
      {"content-length", "94328"},
      {"host", "johnsmith.s3.amazonaws.com"},
      {"date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
     NULL,
     "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg",
     "MyyxeRY7whkBe+bq8fHCL/2kKUg="},
    {"List",
     "GET",
     "johnsmith",
     "/",
     "prefix=photos&max-keys=50&marker=puppy",
     {{"user-agent", "Mozilla/5.0"}, {"host", "johnsmith.s3.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:42:41 +0000"}},
     NULL,
     "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
     "htDYFYduRNen8P9ZfE/s9SuKy0U="},
    {"Fetch",
     "GET",
     "johnsmith",
     "/",
     "acl",
     {{"host", "johnsmith.s3.amazonaws.com"}, {"date", "Tue, 27 Mar 2007 19:44:46 +0000"}},
     NULL,
     "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
     "c2WLPFtWHVgbEmeEG93a4cG37dM="},
    {"Upload",
     "PUT",
     "static.johnsmith.net",
     "/db-backup.dat.gz",
     "",
     {{"user-agent", "curl/7.15.5"},
      {"host", "static.johnsmith.net:8080"},
      {"date", "Tue, 27 Mar 2007 21:06:08 +0000"},
      {"x-amz-acl", "public-read"},
      {"content-type", "application/x-download"},
      {"content-md5", "4gJE4saaMU4BqNR0kLY+lw=="},
      {"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"},
      {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
      {"X-Amz-Meta-FileChecksum", "0x02661779"},
      {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
      {"Content-Disposition", "attachment; filename=database.dat"},
      {"Content-Encoding", "gzip"}},
     NULL,
     "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n"
     "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
     "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz",
     "ilyl83RwaSoYIEdixDQcA4OnAnc="},
    {"List all my buckets",
     "GET",
     NULL,
     "/",
     "",
     {{"host", "s3.amazonaws.com"}, {"date", "Wed, 28 Mar 2007 01:29:59 +0000"}},
     NULL,
     "GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/",
     "qGdzdERIC03wnaRNKh6OqZehG9s="},
    {"Unicode keys",
     "GET",
     NULL,
     "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
     "",
     {{"host", "s3.amazonaws.com"}, {"date", "Wed, 28 Mar 2007 01:49:49 +0000"}},
     NULL,
     "GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
     "DNEZGsoieTZ92F3bUfSPQcbGmlM="},
    {"Query string authentication",
     "GET",
     "johnsmith",
     "/photos/puppy.jpg",
     "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620",
     {{"host", "johnsmith.s3.amazonaws.com"}},
     "1175139620",
     "GET\n\n\n1175139620\n/johnsmith/photos/puppy.jpg",
     "NpgCjnDzrM+WFzoENXmpNDUsSn8="},
};

static void test_aws_documented_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(aws_examples) / sizeof(aws_examples[0]); i++) {
        const aws_example_t *e = &aws_examples[i];
        sigv2_test_header_t headers[13] = {{0, 0}};
        test_request_t t;

        memcpy(headers, e->headers, sizeof(e->headers));
        request_init(&t, e->method, e->bucket, e->path, e->query, headers, e->expires);
        check_signing(&t, e->name, SIGV2_FORM_AWS, e->string_to_sign, e->signature);
        if (e->expires == NULL) {
            char authz[128];
            sigv2_auth_t auth;
            snprintf(authz, sizeof(authz), "AWS " AWS_EXAMPLE_ACCESS_KEY ":%s", e->signature);
            assert_int_equal(sigv2_parse_authorization(authz, strlen(authz), &auth), SIGV2_OK);
            assert_string_equal(auth.signature, e->signature);
        }
    }
}

/*
 * AWS's Delete example sends both Date and x-amz-date and prints a string to sign holding
 * x-amz-date's value on the Date line and no x-amz-date line; its signature is over that
 * string. The same page's rule (and AWS's SDKs, boto 2 and s3cmd) signs an empty Date line
 * and x-amz-date among the x-amz headers, which is what Coffer does. This test pins both facts.
 */
static void test_aws_delete_example_x_amz_date(void **state)
{
    static const sigv2_test_header_t headers[] = {
        {"user-agent", "dotnet"},
        {"host", "s3.amazonaws.com"},
        {"date", "Tue, 27 Mar 2007 21:20:27 +0000"},
        {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"},
        {0, 0},
    };
    static const char doc_sts[] = "DELETE\n\n\nTue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg";
    char buf[1024], sig[SIGV2_SIGNATURE_LEN + 1];
    test_request_t t;
    long len;

    (void)state;
    sigv2_sign(AWS_EXAMPLE_SECRET_KEY, strlen(AWS_EXAMPLE_SECRET_KEY), doc_sts, strlen(doc_sts), sig);
    assert_string_equal(sig, "lx3byBScXR6KzyMaifNkardMwNk=");

    request_init(&t, "DELETE", NULL, "/johnsmith/photos/puppy.jpg", "", headers, NULL);
    len = sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, buf, sizeof(buf));
    assert_true(len > 0);
    assert_string_equal(buf, "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg");
    sigv2_sign(AWS_EXAMPLE_SECRET_KEY, strlen(AWS_EXAMPLE_SECRET_KEY), buf, (size_t)len, sig);
    assert_int_equal(verify_with(&t, AWS_EXAMPLE_SECRET_KEY, sig), SIGV2_OK);
    assert_int_equal(verify_with(&t, AWS_EXAMPLE_SECRET_KEY, "lx3byBScXR6KzyMaifNkardMwNk="), SIGV2_MISMATCH);
}

/* ---- Authorization header ---- */

static void test_parse_authorization(void **state)
{
    static const struct {
        const char *value;
        sigv2_status_t want;
        const char *access_key, *signature;
    } cases[] = {
        {"AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=", SIGV2_OK, "AKIAIOSFODNN7EXAMPLE", "bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
        {"AWS   AKID:c2lnbmF0dXJl  ", SIGV2_OK, "AKID", "c2lnbmF0dXJl"},
        {"AWS K:x", SIGV2_OK, "K", "x"},
        {"AWS", SIGV2_MALFORMED, NULL, NULL},
        {"AWS ", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AKID", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AKID:", SIGV2_MALFORMED, NULL, NULL},
        {"AWS :signature", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AKID:sig:extra", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AK ID:signature", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AKID:sig nature", SIGV2_MALFORMED, NULL, NULL},
        {"AWS AKID:sig\tnature", SIGV2_MALFORMED, NULL, NULL},
        {"AWSAKID:signature", SIGV2_MALFORMED, NULL, NULL},
        {"aws AKID:signature", SIGV2_MALFORMED, NULL, NULL},
        {"AWS4 AKID:signature", SIGV2_MALFORMED, NULL, NULL},
        {"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request", SIGV2_MALFORMED, NULL, NULL},
        {"Basic dXNlcjpwYXNz", SIGV2_MALFORMED, NULL, NULL},
        {"", SIGV2_MALFORMED, NULL, NULL},
    };
    char long_key[200], long_sig[200];
    sigv2_auth_t auth;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sigv2_status_t st = sigv2_parse_authorization(cases[i].value, strlen(cases[i].value), &auth);
        if (st != cases[i].want)
            fail_msg("'%s': status %d, want %d", cases[i].value, st, cases[i].want);
        if (st == SIGV2_OK) {
            assert_string_equal(auth.access_key, cases[i].access_key);
            assert_string_equal(auth.signature, cases[i].signature);
        }
    }
    /* bounds: 128-character keys and signatures fit, longer ones do not; the value need not be NUL-terminated */
    memset(long_key, 'K', sizeof(long_key));
    snprintf(long_key, sizeof(long_key), "AWS %.128s:sig",
             "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK"
             "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK");
    assert_int_equal(sigv2_parse_authorization(long_key, strlen(long_key), &auth), SIGV2_OK);
    assert_int_equal(strlen(auth.access_key), 128);
    snprintf(long_key, sizeof(long_key), "AWS %.129s:sig",
             "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK"
             "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK");
    assert_int_equal(sigv2_parse_authorization(long_key, strlen(long_key), &auth), SIGV2_MALFORMED);
    snprintf(long_sig, sizeof(long_sig), "AWS K:%.*s", SIGV2_SIGNATURE_LEN, "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    assert_int_equal(sigv2_parse_authorization(long_sig, strlen(long_sig), &auth), SIGV2_OK);
    snprintf(long_sig, sizeof(long_sig), "AWS K:%s=", "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    assert_int_equal(sigv2_parse_authorization(long_sig, strlen(long_sig), &auth), SIGV2_MALFORMED);
    assert_int_equal(sigv2_parse_authorization("AWS K:sigXYZ", 9, &auth), SIGV2_OK);
    assert_string_equal(auth.signature, "sig");
}

/* ---- dates ---- */

static void test_parse_http_date(void **state)
{
    static const struct {
        const char *s;
        int ok;
        time_t want;
    } cases[] = {
        {"Tue, 27 Mar 2007 19:36:42 +0000", 1, 1175024202},
        {"Tue, 27 Mar 2007 19:36:42 GMT", 1, 1175024202},
        {"Tue, 27 Mar 2007 19:36:42 UTC", 1, 1175024202},
        {"27 Mar 2007 19:36:42 GMT", 1, 1175024202},
        {"Tue, 27 Mar 2007 12:36:42 -0700", 1, 1175024202},
        {"Wed, 28 Mar 2007 01:06:42 +0530", 1, 1175024202},
        {"Tue,  7 Mar 2007 19:36:42 GMT", 1, 1173296202},
        {"Tue, 7 Mar 2007 19:36:42 GMT", 1, 1173296202},
        {"tue, 27 mar 2007 19:36:42 GMT", 1, 1175024202},
        {"Tuesday, 27-Mar-07 19:36:42 GMT", 1, 1175024202},
        {"Tue Mar 27 19:36:42 2007", 1, 1175024202},
        {"Tue Mar  7 19:36:42 2007", 1, 1173296202},
        {"20070327T193642Z", 1, 1175024202},
        {"Fri, 24 May 2013 00:00:00 GMT", 1, 1369353600},
        {"Thu, 01 Jan 1970 00:00:00 GMT", 1, 0},
        {"", 0, 0},
        {"garbage", 0, 0},
        {"Tue, 27 Mar 2007 19:36:42", 0, 0},
        {"Tue, 27 Mar 2007 19:36:42 PST", 0, 0},
        {"Tue, 27 Foo 2007 19:36:42 GMT", 0, 0},
        {"Tue, 32 Mar 2007 19:36:42 GMT", 0, 0},
        {"Tue, 27 Mar 2007 24:36:42 GMT", 0, 0},
        {"Tue, 27 Mar 2007 19:60:42 GMT", 0, 0},
        {"Tue, 27 Mar 2007 19:36 GMT", 0, 0},
        {"Tue, 27 Mar 2007 19:36:42 GMT junk", 0, 0},
        {"Tue, 27 Mar 07 19:36:42 GMT", 0, 0},
        {"Tue, 27 Mar 2007 19:36:42 +00", 0, 0},
        {"Tue, 27 Mar 2007 19:36:42 +2400", 0, 0},
        {"2007-03-27T19:36:42Z", 0, 0},
        {"20070327T193642", 0, 0},
        {"20071327T193642Z", 0, 0},
        {"1175024202", 0, 0},
    };
    time_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = sigv2_parse_http_date(cases[i].s, strlen(cases[i].s), &t);
        if ((rc == 0) != cases[i].ok)
            fail_msg("'%s': rc %d, want %s", cases[i].s, rc, cases[i].ok ? "ok" : "error");
        if (rc == 0 && t != cases[i].want)
            fail_msg("'%s': %lld, want %lld", cases[i].s, (long long)t, (long long)cases[i].want);
    }
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(sigv2_parse_http_date("Tue, 27 Mar 2007 19:36:42 GMTXYZ", 29, &t), 0);
    assert_int_equal(t, 1175024202);
}

/* ---- canonicalization rules, hand-written ---- */

typedef struct canon_case {
    const char *name;
    const char *method;
    const char *bucket;
    const char *path;
    const char *query;
    sigv2_test_header_t headers[8];
    const char *expires;
    const char *want; /* NULL: sigv2_string_to_sign must fail */
} canon_case_t;

#define DATE_HDR                                                                                                                   \
    {                                                                                                                              \
        "date", "Fri, 24 May 2013 00:00:00 GMT"                                                                                    \
    }
#define DATE_LINE "Fri, 24 May 2013 00:00:00 GMT\n"

static const canon_case_t canon_cases[] = {
    {"service root", "GET", NULL, "/", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/"},
    {"empty path is the root", "GET", NULL, "", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/"},
    {"path-style bucket gets its slash", "GET", NULL, "/b", "prefix=x", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/"},
    {"path-style bucket with slash", "GET", NULL, "/b/", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/"},
    {"virtual-host bucket root", "GET", "b", "/", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/"},
    {"virtual-host bucket, empty path", "GET", "b", "", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/"},
    {"virtual-host key", "GET", "b", "/k%20x/y", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/k%20x/y"},
    {"path kept as sent", "GET", NULL, "/b/%7e/./../a//%2f", "", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/%7e/./../a//%2f"},
    {"header names in any case",
     "PUT",
     NULL,
     "/b/k",
     "",
     {{"Content-MD5", "abc=="}, {"CONTENT-TYPE", "text/plain"}, {"Date", "D"}, {"X-Amz-Meta-A", "1"}},
     NULL,
     "PUT\nabc==\ntext/plain\nD\nx-amz-meta-a:1\n/b/k"},
    {"values trimmed, inner spaces kept",
     "PUT",
     NULL,
     "/b/k",
     "",
     {{"content-type", " \ttext/plain; a=1  "}, {"date", " D "}, {"x-amz-meta-a", "  x   y\tz  "}},
     NULL,
     "PUT\n\ntext/plain; a=1\nD\nx-amz-meta-a:x   y\tz\n/b/k"},
    {"line folds become one space",
     "PUT",
     NULL,
     "/b/k",
     "",
     {DATE_HDR, {"x-amz-meta-a", "one\r\n two \r\n\tthree"}},
     NULL,
     "PUT\n\n\n" DATE_LINE "x-amz-meta-a:one two three\n/b/k"},
    {"repeated names join in arrival order",
     "PUT",
     NULL,
     "/b/k",
     "",
     {DATE_HDR, {"x-amz-meta-b", "2"}, {"x-amz-meta-a", "z"}, {"X-AMZ-META-B", " 1 "}, {"x-amz-meta-b", ""}},
     NULL,
     "PUT\n\n\n" DATE_LINE "x-amz-meta-a:z\nx-amz-meta-b:2,1,\n/b/k"},
    {"only x-amz- headers are signed",
     "PUT",
     NULL,
     "/b/k",
     "",
     {DATE_HDR, {"x-amz", "no"}, {"x-amzz-a", "no"}, {"amz-x", "no"}, {"x-amz-", "empty name part"}, {"range", "bytes=0-1"}},
     NULL,
     "PUT\n\n\n" DATE_LINE "x-amz-:empty name part\n/b/k"},
    {"first content-type wins",
     "PUT",
     NULL,
     "/b/k",
     "",
     {{"content-type", "a/b"}, {"content-type", "c/d"}, DATE_HDR},
     NULL,
     "PUT\n\na/b\n" DATE_LINE "/b/k"},
    {"x-amz-date blanks the Date line",
     "GET",
     NULL,
     "/b/k",
     "",
     {DATE_HDR, {"x-amz-date", "Fri, 24 May 2013 00:00:01 GMT"}},
     NULL,
     "GET\n\n\n\nx-amz-date:Fri, 24 May 2013 00:00:01 GMT\n/b/k"},
    {"no date at all", "GET", NULL, "/b/k", "", {{0, 0}}, NULL, "GET\n\n\n\n/b/k"},
    {"sub-resources sorted, others dropped",
     "PUT",
     NULL,
     "/b/k",
     "uploadId=U&foo=1&partNumber=2&x-id=UploadPart",
     {DATE_HDR},
     NULL,
     "PUT\n\n\n" DATE_LINE "/b/k?partNumber=2&uploadId=U"},
    {"sub-resource values decoded, '+' kept",
     "GET",
     NULL,
     "/b/k",
     "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&versionId=a%2Bb+c%2F",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/k?response-content-disposition=attachment; filename=\"a b.txt\"&versionId=a+b+c/"},
    {"every response override",
     "GET",
     NULL,
     "/b/k",
     "response-expires=E&response-content-type=T&response-content-language=L&response-content-encoding=N&"
     "response-content-disposition=D&response-cache-control=C",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/k?response-cache-control=C&response-content-disposition=D&response-content-encoding=N&"
     "response-content-language=L&response-content-type=T&response-expires=E"},
    {"bare and empty sub-resources",
     "GET",
     NULL,
     "/b",
     "versioning&acl=&&location",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/?acl=&location&versioning"},
    {"encoded sub-resource name still counts", "GET", NULL, "/b/k", "%61cl", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/k?acl"},
    {"names are case-sensitive", "GET", NULL, "/b/k", "ACL&UploadId=1&uploadid=2", {DATE_HDR}, NULL, "GET\n\n\n" DATE_LINE "/b/k"},
    {"every signed sub-resource",
     "POST",
     NULL,
     "/b",
     "website&versions&versioning&versionId=v&uploads&uploadId=u&torrent&tagging&select-type=2&select&restore&"
     "requestPayment&replication&policy&partNumber=1&object-lock&notification&metrics&logging&location&lifecycle&"
     "inventory&delete&cors&analytics&acl&accelerate&encryption&list-type=2&x-id=Op",
     {DATE_HDR},
     NULL,
     "POST\n\n\n" DATE_LINE "/b/?accelerate&acl&analytics&cors&delete&inventory&lifecycle&location&logging&metrics&"
     "notification&object-lock&partNumber=1&policy&replication&requestPayment&restore&select&select-type=2&tagging&"
     "torrent&uploadId=u&uploads&versionId=v&versioning&versions&website"},
    {"repeated sub-resource keeps order",
     "GET",
     NULL,
     "/b/k",
     "versionId=2&acl&versionId=1",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/k?acl&versionId=2&versionId=1"},
    {"bad escape in a signed value", "GET", NULL, "/b/k", "versionId=%zz", {DATE_HDR}, NULL, NULL},
    {"bad escape in an unsigned param is ignored",
     "GET",
     NULL,
     "/b/k",
     "prefix=%zz&acl",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/k?acl"},
    {"query form: Expires takes Date's place",
     "GET",
     NULL,
     "/b/k",
     "AWSAccessKeyId=K&Expires=1369354200&Signature=S",
     {DATE_HDR, {"x-amz-date", "X"}},
     "1369354200",
     "GET\n\n\n1369354200\nx-amz-date:X\n/b/k"},
    {"query form: x-amz-* parameters are headers",
     "PUT",
     NULL,
     "/b/k",
     "AWSAccessKeyId=K&x-amz-meta-b=two%20words&Signature=S&X-Amz-Acl=private&Expires=1&x-amz-meta-b=more",
     {{"x-amz-meta-b", "hdr"}, {"content-type", "text/plain"}},
     "1",
     "PUT\n\ntext/plain\n1\nx-amz-acl:private\nx-amz-meta-b:hdr,two words,more\n/b/k"},
    {"query form: bad escape in an x-amz-* value", "GET", NULL, "/b/k", "x-amz-meta-a=%4", {{0, 0}}, "1", NULL},
    {"header form ignores x-amz-* parameters",
     "GET",
     NULL,
     "/b/k",
     "x-amz-meta-a=1",
     {DATE_HDR},
     NULL,
     "GET\n\n\n" DATE_LINE "/b/k"},
};

static void test_canonicalization(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
        const canon_case_t *c = &canon_cases[i];
        sigv2_test_header_t headers[9] = {{0, 0}};
        test_request_t t;
        char buf[4096];
        long len;

        memcpy(headers, c->headers, sizeof(c->headers));
        request_init(&t, c->method, c->bucket, c->path, c->query, headers, c->expires);
        len = sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, buf, sizeof(buf));
        if (c->want == NULL) {
            if (len >= 0)
                fail_msg("%s: built\n%s\nbut must fail", c->name, buf);
            assert_int_equal(verify_with(&t, AWS_EXAMPLE_SECRET_KEY, "bWq2s1WEIj+Ydj0vQ697zp+IXMU="), SIGV2_MISMATCH);
            continue;
        }
        if (len < 0)
            fail_msg("%s: failed", c->name);
        if (strcmp(buf, c->want) != 0)
            fail_msg("%s:\n--- got\n%s\n--- want\n%s", c->name, buf, c->want);
        assert_int_equal((size_t)len, strlen(c->want));
    }
}

static void test_botocore_form(void **state)
{
    static const struct {
        const char *bucket, *path, *query, *want;
    } cases[] = {
        {NULL, "/b", "acl", "/b?acl?acl"},
        {NULL, "/b", "list-type=2&prefix=a%20b", "/b?list-type=2"},
        {NULL, "/b/k", "uploads", "/b/k?uploads?uploads"},
        {NULL, "/b", "delete", "/b?delete?delete"},
        {NULL, "/b/k", "tagging&versionId=v", "/b/k?tagging?tagging&versionId=v"},
        {"b", "/", "acl", "/b?acl?acl"},
        {"b", "/k", "acl", "/b/k?acl?acl"},
        {NULL, "/b", "", NULL}, /* no query: the form does not apply */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static const sigv2_test_header_t headers[] = {DATE_HDR, {0, 0}};
        test_request_t t;
        char buf[1024], want[1024];
        long len;

        request_init(&t, "GET", cases[i].bucket, cases[i].path, cases[i].query, headers, NULL);
        len = sigv2_string_to_sign(&t.req, SIGV2_FORM_BOTOCORE_AUTH_PATH, buf, sizeof(buf));
        if (cases[i].want == NULL) {
            assert_int_equal(len, -1);
            continue;
        }
        snprintf(want, sizeof(want), "GET\n\n\n" DATE_LINE "%s", cases[i].want);
        if (len < 0 || strcmp(buf, want) != 0)
            fail_msg("%s?%s: got\n%s\nwant\n%s", cases[i].path, cases[i].query, len < 0 ? "(failed)" : buf, want);
    }
}

/* ---- tampering ---- */

/* Signs t under AWS's form and checks it verifies; sig gets the signature. */
static void sign_request(const test_request_t *t, char sig[SIGV2_SIGNATURE_LEN + 1])
{
    char buf[4096];
    long len = sigv2_string_to_sign(&t->req, SIGV2_FORM_AWS, buf, sizeof(buf));

    assert_true(len > 0);
    sigv2_sign(AWS_EXAMPLE_SECRET_KEY, strlen(AWS_EXAMPLE_SECRET_KEY), buf, (size_t)len, sig);
    assert_int_equal(verify_with(t, AWS_EXAMPLE_SECRET_KEY, sig), SIGV2_OK);
}

static void test_tampering(void **state)
{
    static const sigv2_test_header_t headers[] = {
        {"content-type", "text/plain"},
        {"content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="},
        {"date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-meta-color", "violet"},
        {"x-amz-acl", "private"},
        {"user-agent", "test"},
        {0, 0},
    };
    char sig[SIGV2_SIGNATURE_LEN + 1];
    test_request_t t, base;

    (void)state;
    request_init(&base, "PUT", NULL, "/bucket/key", "partNumber=1&uploadId=abc&prefix=p", headers, NULL);
    sign_request(&base, sig);

#define EXPECT_MISMATCH(what)                                                                                                      \
    do {                                                                                                                           \
        if (verify_with(&t, AWS_EXAMPLE_SECRET_KEY, sig) != SIGV2_MISMATCH)                                                        \
            fail_msg("tampered %s still verifies", what);                                                                          \
        copy_request(&t, &base);                                                                                                   \
    } while (0)

    copy_request(&t, &base);
    t.req.method = "POST";
    EXPECT_MISMATCH("method");
    set_header(&t.headers[0], "content-type", "text/html");
    EXPECT_MISMATCH("content-type");
    set_header(&t.headers[1], "content-md5", "XUFAKrxLKna5cZ2REBfFkg==");
    EXPECT_MISMATCH("content-md5");
    set_header(&t.headers[2], "date", "Fri, 24 May 2013 00:00:01 GMT");
    EXPECT_MISMATCH("date");
    set_header(&t.headers[3], "x-amz-meta-color", "red");
    EXPECT_MISMATCH("x-amz header value");
    set_header(&t.headers[5], "x-amz-meta-added", "1");
    EXPECT_MISMATCH("added x-amz header");
    t.req.num_headers = 4; /* drops x-amz-acl */
    EXPECT_MISMATCH("removed x-amz header");
    set_header(&t.headers[5], "x-amz-date", "Fri, 24 May 2013 00:00:00 GMT");
    EXPECT_MISMATCH("added x-amz-date");
    t.req.path = "/bucket/kez";
    EXPECT_MISMATCH("path");
    t.req.path = "/bucket/key/";
    t.req.path_len = strlen(t.req.path);
    EXPECT_MISMATCH("path suffix");
    t.req.bucket = "bucket";
    t.req.bucket_len = 6;
    t.req.path = "/key";
    t.req.path_len = 4;
    if (verify_with(&t, AWS_EXAMPLE_SECRET_KEY, sig) != SIGV2_OK) /* the same resource, virtual-host style */
        fail_msg("virtual-host form of the same resource does not verify");
    copy_request(&t, &base);
    t.req.query = "partNumber=2&uploadId=abc&prefix=p";
    EXPECT_MISMATCH("sub-resource value");
    t.req.query = "partNumber=1&uploadId=abc&prefix=p&acl";
    t.req.query_len = strlen(t.req.query);
    EXPECT_MISMATCH("added sub-resource");
    t.req.query = "partNumber=1&uploadId=abc&prefix=p&%61cl";
    t.req.query_len = strlen(t.req.query);
    EXPECT_MISMATCH("added encoded sub-resource");
    t.req.query = "partNumber=1&prefix=p";
    t.req.query_len = strlen(t.req.query);
    EXPECT_MISMATCH("removed sub-resource");
    t.req.expires = "1369353600";
    t.req.expires_len = strlen(t.req.expires);
    EXPECT_MISMATCH("query form with the header form's signature");
#undef EXPECT_MISMATCH

    /* unsigned parts may change: other query parameters and headers */
    copy_request(&t, &base);
    t.req.query = "partNumber=1&uploadId=abc&prefix=other&max-keys=5";
    t.req.query_len = strlen(t.req.query);
    set_header(&t.headers[5], "user-agent", "another");
    assert_int_equal(verify_with(&t, AWS_EXAMPLE_SECRET_KEY, sig), SIGV2_OK);

    /* wrong secret, and malformed signatures */
    assert_int_equal(verify_with(&base, "wrong-secret", sig), SIGV2_MISMATCH);
    assert_int_equal(verify_with(&base, "", sig), SIGV2_MISMATCH);
    assert_int_equal(verify_with(&base, AWS_EXAMPLE_SECRET_KEY, ""), SIGV2_MISMATCH);
    assert_int_equal(sigv2_verify(&base.req, AWS_EXAMPLE_SECRET_KEY, strlen(AWS_EXAMPLE_SECRET_KEY), sig, 27), SIGV2_MISMATCH);
    {
        char longer[SIGV2_SIGNATURE_LEN + 2];
        snprintf(longer, sizeof(longer), "%sA", sig);
        assert_int_equal(verify_with(&base, AWS_EXAMPLE_SECRET_KEY, longer), SIGV2_MISMATCH);
    }
}

/* ---- bounds ---- */

static void test_bounds(void **state)
{
    static const sigv2_test_header_t headers[] = {
        {"content-type", "text/plain"},
        {"date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-meta-b", "2"},
        {"x-amz-meta-a", "1\r\n 1"},
        {0, 0},
    };
    char buf[512], big_value[20000];
    sigv2_header_t many[140];
    test_request_t t;
    long full;

    (void)state;
    request_init(&t, "GET", "bkt", "/k", "versionId=a%20b&acl", headers, NULL);
    full = sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, buf, sizeof(buf));
    assert_true(full > 0);
    /* every buffer shorter than the string plus its NUL fails cleanly, and never writes past buf_len */
    for (size_t len = 0; len <= (size_t)full + 1; len++) {
        char small[512];
        memset(small, '#', sizeof(small));
        long n = sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, small, len);
        if (len <= (size_t)full) {
            assert_int_equal(n, -1);
        } else {
            assert_int_equal(n, full);
            assert_string_equal(small, buf);
        }
        for (size_t i = len; i < sizeof(small); i++)
            assert_int_equal(small[i], '#');
    }

    /* 128 x-amz headers are indexed; 129 are refused (and do not verify) */
    for (size_t i = 0; i < 140; i++)
        set_header(&many[i], "x-amz-meta-n", "v");
    t.req.headers = many;
    t.req.num_headers = 128;
    {
        static char sts[8192];
        assert_true(sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, sts, sizeof(sts)) > 0);
    }
    t.req.num_headers = 129;
    assert_int_equal(sigv2_string_to_sign(&t.req, SIGV2_FORM_AWS, buf, sizeof(buf)), -1);

    /* a string to sign beyond 16 KiB does not verify */
    memset(big_value, 'v', sizeof(big_value) - 1);
    big_value[sizeof(big_value) - 1] = '\0';
    set_header(&many[0], "x-amz-meta-big", big_value);
    t.req.num_headers = 1;
    assert_int_equal(verify_with(&t, AWS_EXAMPLE_SECRET_KEY, "bWq2s1WEIj+Ydj0vQ697zp+IXMU="), SIGV2_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_botocore_vectors),
        cmocka_unit_test(test_aws_documented_examples),
        cmocka_unit_test(test_aws_delete_example_x_amz_date),
        cmocka_unit_test(test_parse_authorization),
        cmocka_unit_test(test_parse_http_date),
        cmocka_unit_test(test_canonicalization),
        cmocka_unit_test(test_botocore_form),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
