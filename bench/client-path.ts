/**
 * The BFT client alone: CPU per operation of `ServiceProxy`, with its replicas faked in
 * process (each request is answered at once by 4 channel-authenticated replies, as
 * `bench micro` gets them). 20 proxies keep 50 ordered requests each in flight; 100 000
 * operations warm the JIT, then 400 000 are measured.
 *
 *   node --import tsx bench/client-path.ts
 *
 * Prints µs of CPU per operation, including the fake replicas' decoding and encoding (a
 * few µs). Used for docs/performance.md.
 */
import { ServiceProxy } from '../src/client/service-proxy.ts';
import { decodeMessage, encodeMessage } from '../src/core/codec.ts';
import { MessageType } from '../src/core/messages.ts';
import { makeView } from '../src/core/view.ts';
import { sha256 } from '../src/crypto/ed25519.ts';

const view = makeView([0, 1, 2, 3], 1);
const sent: [ServiceProxy, number, Uint8Array][] = [];
const empty = new Uint8Array(0);
const unsigned = new Uint8Array(64);
let done = 0;

const proxies = Array.from({ length: 20 }, (_, c) => {
  const proxy: ServiceProxy = new ServiceProxy(
    { clientId: c + 1, view, session: 1, verifyReplies: false },
    { transport: { send: (id, bytes) => sent.push([proxy, id, bytes]) }, verifier: { verify: () => true }, hash: sha256 },
  );
  return proxy;
});

async function closedLoop(proxy: ServiceProxy): Promise<void> {
  for (;;) {
    await proxy.invokeOrdered(empty);
    done++;
  }
}

/** Answers everything sent, a turn of the event loop at a time, until `ops` more operations completed. */
async function answer(ops: number): Promise<void> {
  const target = done + ops;
  while (done < target) {
    for (const [proxy, replicaId, bytes] of sent.splice(0)) {
      const d = decodeMessage(bytes);
      if (!d.ok || d.message.type !== MessageType.REQUEST) throw new Error('the proxy sent something other than a request');
      const q = d.message;
      proxy.onReplyBytes(replicaId, encodeMessage({ type: MessageType.REPLY, replicaId, clientId: q.clientId, session: q.session, seq: q.seq, ordered: true, result: empty, proof: { index: 0, leafCount: 1, siblings: [] }, signature: unsigned }));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function main(): Promise<void> {
  for (const proxy of proxies) for (let w = 0; w < 50; w++) void closedLoop(proxy);
  await answer(100_000);
  const before = process.cpuUsage();
  const start = done;
  await answer(400_000);
  const cpu = process.cpuUsage(before);
  console.log(`client path: ${((cpu.user + cpu.system) / (done - start)).toFixed(2)} µs CPU per operation (fake replicas included)`);
  for (const proxy of proxies) proxy.close();
  process.exit(0);
}

void main();
