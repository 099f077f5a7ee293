// HeadObject and GetObject with ChecksumMode ENABLED; the body goes to a file.
//
//   node read_object.mjs --bucket B --key K --out F
//
// The SDK validates a full-object checksum it gets back while the body streams (its
// default responseChecksumValidation), so a mismatch fails the get. Prints
// {config, requests, head, get}; get also holds the number of bytes written and whether
// the SDK verified the body against the checksum.
import { createWriteStream, statSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { attempt, checksumConfig, makeClient, parseArgs, run, summarize } from "./common.mjs";

run(async () => {
  const args = parseArgs();
  const { client, requests } = makeClient();
  const target = { Bucket: args.bucket, Key: args.key, ChecksumMode: "ENABLED" };
  const head = await attempt(async () => summarize(await client.send(new HeadObjectCommand(target))));
  const get = await attempt(async () => {
    const out = await client.send(new GetObjectCommand(target));
    // The SDK wraps the body in a ChecksumStream when it verifies a checksum it got back
    // (it skips COMPOSITE ones, "<base64>-<parts>").
    const validated = out.Body?.constructor?.name === "ChecksumStream";
    await pipeline(out.Body, createWriteStream(args.out));
    return { ...summarize(out), written: statSync(args.out).size, validated };
  });
  client.destroy();
  return { config: await checksumConfig(client), requests, head, get };
});
