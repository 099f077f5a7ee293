// @aws-sdk/lib-storage Upload of a Readable stream of unknown length (a file read as a
// stream), with the SDK's default checksum behaviour: multipart when the stream is longer
// than one part.
//
//   node upload_stream.mjs --bucket B --key K --file F [--part-size BYTES] [--queue-size N]
//
// Prints {config, requests, upload}.
import { createReadStream } from "node:fs";
import { Upload } from "@aws-sdk/lib-storage";
import { attempt, checksumConfig, makeClient, parseArgs, run, summarize } from "./common.mjs";

run(async () => {
  const args = parseArgs();
  const { client, requests } = makeClient();
  const options = {
    client,
    params: { Bucket: args.bucket, Key: args.key, Body: createReadStream(args.file) },
    leavePartsOnError: false,
  };
  if (args["part-size"]) options.partSize = Number(args["part-size"]);
  if (args["queue-size"]) options.queueSize = Number(args["queue-size"]);
  const upload = await attempt(async () => summarize(await new Upload(options).done()));
  client.destroy();
  return { config: await checksumConfig(client), requests, upload };
});
