// Reads JSON lines {secret, id, timestamp, signature, body} on stdin and
// verifies each with the reference standardwebhooks library. Prints "ok N"
// or the first failure and exits non-zero.
import { Webhook } from "standardwebhooks";
import { createInterface } from "node:readline";

const rl = createInterface({ input: process.stdin });
let n = 0;
for await (const line of rl) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  const wh = new Webhook(c.secret);
  try {
    wh.verify(c.body, {
      "webhook-id": c.id,
      "webhook-timestamp": c.timestamp,
      "webhook-signature": c.signature,
    });
  } catch (e) {
    console.log(`FAIL ${n}: ${e.message}: ${line}`);
    process.exit(1);
  }
  n++;
}
console.log(`ok ${n}`);
