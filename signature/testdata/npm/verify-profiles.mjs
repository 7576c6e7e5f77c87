// Reads JSON lines {profile, secret, signature, id, timestamp, body} on
// stdin and verifies each with the library a receiver of that style uses:
// hmac-sha256-hex with GitHub's @octokit/webhooks-methods, timestamped with
// Stripe's own SDK, standard-ed25519 (Standard Webhooks v1a, "secret" is
// the whpk_ public key) with Node's own Ed25519. Prints "ok N" or the first
// failure and exits non-zero.
import { verify } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { createInterface } from "node:readline";
import { createPublicKey, verify as verifySignature } from "node:crypto";

const stripe = new Stripe("sk_test_unused");
const rl = createInterface({ input: process.stdin });
let n = 0;
for await (const line of rl) {
  if (!line.trim()) continue;
  const c = JSON.parse(line);
  let ok = false;
  try {
    if (c.profile === "hmac-sha256-hex") {
      ok = await verify(c.secret, c.body, c.signature);
    } else if (c.profile === "timestamped") {
      stripe.webhooks.constructEvent(c.body, c.signature, c.secret);
      ok = true;
    } else if (c.profile === "standard-ed25519") {
      const raw = Buffer.from(c.secret.replace(/^whpk_/, ""), "base64");
      const key = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), raw]), format: "der", type: "spki" });
      const msg = Buffer.from(`${c.id}.${c.timestamp}.${c.body}`);
      ok = c.signature.split(" ").some((entry) => {
        const [version, sig] = entry.split(",");
        return version === "v1a" && verifySignature(null, msg, key, Buffer.from(sig, "base64"));
      });
    }
  } catch (e) {
    console.log(`FAIL ${n}: ${e.message}: ${line}`);
    process.exit(1);
  }
  if (ok !== c.want) {
    console.log(`FAIL ${n}: verified=${ok}, want ${c.want}: ${line}`);
    process.exit(1);
  }
  n++;
}
console.log(`ok ${n}`);
