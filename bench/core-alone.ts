/**
 * The consensus core alone: CPU per request per replica, with no network, storage or
 * processes. A `LocalCluster` of 4 replicas (all in this thread) with the no-op service
 * orders `--rounds` rounds of `--batch` requests from 1 000 clients; the first third of the
 * rounds warm the JIT and are not measured. Each round is decided as two instances (the
 * leader proposes the first request at once, the rest as one batch), so vote signatures
 * weigh about as much as at a few hundred ops per instance in `bench micro`. Replies are
 * channel-authenticated (unsigned), as in `bench micro`.
 *
 *   node --import tsx bench/core-alone.ts [--batch 200] [--rounds 600]
 *
 * Prints µs of CPU (user + system) per request per replica. Used for docs/performance.md.
 */
import { parseArgs } from 'node:util';
import { LocalCluster } from '../src/sim/local-cluster.ts';
import { NoopService } from '../src/noop/noop-service.ts';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '200' }, rounds: { type: 'string', default: '600' } } });
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const clients = 1000;
const cluster = new LocalCluster({ n: 4, service: () => new NoopService(0), replica: { batchRequestsMax: batch, checkpointPeriod: 1 << 20, signReplies: false } });
const payload = new Uint8Array(0);
let sent = 0;

function runRounds(k: number): void {
  for (let r = 0; r < k; r++) {
    for (let i = 0; i < batch; i++, sent++) {
      cluster.clientSend({ clientId: 1 + (sent % clients), session: 1, seq: Math.floor(sent / clients) + 1, ordered: true, payload });
    }
    cluster.run();
  }
}

runRounds(Math.floor(rounds / 3));
const before = process.cpuUsage();
runRounds(rounds);
const cpu = process.cpuUsage(before);
const decided = cluster.lastDecidedCids();
if (new Set(decided).size !== 1) throw new Error(`replicas disagree on the last decided instance: ${decided.join(', ')}`);
console.log(`batch ${batch}, ${rounds} rounds: ${((cpu.user + cpu.system) / (rounds * batch) / 4).toFixed(2)} µs CPU per request per replica (${decided[0]! + 1} instances decided)`);
