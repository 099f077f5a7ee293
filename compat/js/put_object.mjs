// PutObject of a file's bytes, as a Buffer or as a Readable stream with ContentLength.
//
//   node put_object.mjs --bucket B --key K --file F --body buffer|stream
//                       [--algorithm CRC32|CRC32C|CRC64NVME|SHA1|SHA256]
//                       [--checksum ChecksumCRC32=BASE64]   (a value the caller chose)
//
// Without --algorithm the SDK's default applies. Prints {config, requests, put}.
import { createReadStream, readFileSync, statSync } from "node:fs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { attempt, checksumConfig, makeClient, parseArgs, run, summarize } from "./common.mjs";

run(async () => {
  const args = parseArgs();
  const { client, requests } = makeClient();
  const input = { Bucket: args.bucket, Key: args.key };
  if (args.body === "buffer") {
    input.Body = readFileSync(args.file);
  } else if (args.body === "stream") {
    input.Body = createReadStream(args.file);
    input.ContentLength = statSync(args.file).size;
  } else {
    throw new Error(`--body must be buffer or stream, not ${args.body}`);
  }
  if (args.algorithm) input.ChecksumAlgorithm = args.algorithm;
  if (args.checksum) {
    const eq = args.checksum.indexOf("=");
    input[args.checksum.slice(0, eq)] = args.checksum.slice(eq + 1);
  }
  const put = await attempt(async () => summarize(await client.send(new PutObjectCommand(input))));
  client.destroy();
  return { config: await checksumConfig(client), requests, put };
});
