// Shared by the JS SDK v3 scripts of the compat suite (driven by test_js_sdk.py).
//
// The client is built the way an application would build it against Coffer: path-style,
// us-east-1, an http://127.0.0.1:PORT endpoint and the SDK's DEFAULT checksum settings
// (nothing about checksums is configured here). Retries are off so a failure shows the
// server's first answer. Every request that leaves the client is recorded (method, path,
// query, headers after signing, a string body) with the status and headers of its answer,
// so the tests can check what the SDK really sent.
//
// Environment: COFFER_ENDPOINT, COFFER_ACCESS_KEY, COFFER_SECRET_KEY.
import { S3Client } from "@aws-sdk/client-s3";

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

// --name value pairs (and bare --flag) into an object.
export function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const name = a.slice(2);
    if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out[name] = argv[++i];
    else out[name] = true;
  }
  return out;
}

function lowerKeys(headers) {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

export function makeClient() {
  const client = new S3Client({
    endpoint: env("COFFER_ENDPOINT"),
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: env("COFFER_ACCESS_KEY"), secretAccessKey: env("COFFER_SECRET_KEY") },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 10000, requestTimeout: 120000 },
  });
  const requests = [];
  const handler = client.config.requestHandler;
  const handle = handler.handle.bind(handler);
  handler.handle = async (request, options) => {
    const record = {
      method: request.method,
      path: request.path,
      query: { ...request.query },
      headers: lowerKeys(request.headers),
    };
    if (typeof request.body === "string" && request.body.length <= 65536) record.body = request.body;
    requests.push(record);
    const result = await handle(request, options);
    record.response = { status: result.response.statusCode, headers: lowerKeys(result.response.headers) };
    return result;
  };
  return { client, requests };
}

// The checksum settings the client resolved (the defaults, unless the environment changed them).
export async function checksumConfig(client) {
  return {
    requestChecksumCalculation: await client.config.requestChecksumCalculation(),
    responseChecksumValidation: await client.config.responseChecksumValidation(),
  };
}

const CHECKSUM_FIELDS = [
  "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256", "ChecksumType",
];

// The interesting fields of an S3 output: ETag, length, checksums, HTTP status.
export function summarize(output) {
  const out = { status: output.$metadata?.httpStatusCode };
  for (const f of ["ETag", "ContentLength", "VersionId", "UploadId", "Location", "Key", "Bucket", ...CHECKSUM_FIELDS]) {
    if (output[f] !== undefined) out[f] = output[f];
  }
  return out;
}

export function describeError(e) {
  return {
    name: e?.name,
    code: e?.Code ?? e?.name,
    status: e?.$metadata?.httpStatusCode,
    message: String(e?.message ?? e),
  };
}

// Runs fn; returns {ok: summary} or {error: description}.
export async function attempt(fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: describeError(e) };
  }
}

export function print(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}

// Runs main, prints its result as one JSON document, exits 0; an exception outside
// attempt() prints {fatal} and exits 1.
export async function run(main) {
  try {
    print(await main());
  } catch (e) {
    print({ fatal: describeError(e), stack: e?.stack });
    process.exitCode = 1;
  }
}
