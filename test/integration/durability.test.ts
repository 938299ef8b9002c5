/**
 * Durability with real processes: a replica killed with SIGKILL while transfers go on,
 * restarted after the others truncated their logs past its position, catches up by
 * state transfer (embedded store and Redis); the whole cluster killed and restarted
 * keeps every acknowledged transfer, and stopped cleanly it resumes without a leader
 * change; a replica whose store file was destroyed starts anyway and refills by state
 * transfer.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { ledgerTransfers, openAccounts, replicaStatus, sumBalances, transferLoop, waitConverged, type Ack } from '../helpers/transfers.ts';
import { redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redis-server.ts';

const CLIENTS = 8;
const DEPOSIT = 1_000_000n;
const PERIOD = 16;

async function lagAndRecover(t: TestCluster, prefix: string): Promise<void> {
  const keys = await openAccounts(t, prefix, CLIENTS, DEPOSIT);
  const acks: Ack[] = [];
  const down = new Set<number>();
  let stop = false;
  const clients = Array.from({ length: CLIENTS }, (_, i) => transferLoop(t, prefix, keys, i, acks, () => stop, (r) => !down.has(r)));

  while (acks.length < 20) await new Promise((r) => setTimeout(r, 20));
  const before = await replicaStatus(t, 3);
  down.add(3);
  await t.cluster.kill(3, 'SIGKILL');
  // Keep going until the others' stable checkpoint is past what replica 3 had decided:
  // the decisions it misses are gone from their logs.
  for (;;) {
    const s = await replicaStatus(t, 0);
    if (s.stableCheckpointCid > before.lastDecidedCid + 2 * PERIOD) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.cluster.startReplica(3);
  await t.cluster.waitHealthy(30_000);
  down.delete(3);
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await Promise.all(clients);

  const statuses = await waitConverged(t, [0, 1, 2, 3]);
  assert.ok(statuses[3]!.lastDecidedCid > before.lastDecidedCid);
  const ledger = await ledgerTransfers(t, 3);
  for (const a of acks) assert.ok(ledger.has(`${a.from}#${a.nonce}`), `acknowledged ${a.from}#${a.nonce} is in the ledger`);
  assert.equal(await sumBalances(t, 3, prefix, CLIENTS), DEPOSIT * BigInt(CLIENTS));
}

describe('durability (embedded store)', { timeout: 300_000 }, () => {
  let t: TestCluster | undefined;
  after(async () => {
    await t?.close();
  });

  it('a replica killed and restarted after the log was truncated catches up by state transfer', async () => {
    t = await startTestCluster({ replicas: 4, basePort: 13200, apiBasePort: 13700, checkpointPeriod: PERIOD, requestTimeoutMs: 1000 });
    await lagAndRecover(t, 'e');
  });

  it('the whole cluster killed with SIGKILL comes back with every acknowledged transfer', async () => {
    assert.ok(t);
    const keys = await openAccounts(t, 'w', CLIENTS, DEPOSIT);
    const acks: Ack[] = [];
    let stop = false;
    let dead = false;
    const clients = Array.from({ length: CLIENTS }, (_, i) =>
      transferLoop(t!, 'w', keys, i, acks, () => stop, () => !dead).catch(() => undefined),
    );
    while (acks.length < 40) await new Promise((r) => setTimeout(r, 20));
    dead = true;
    stop = true;
    await Promise.all([0, 1, 2, 3].map((id) => t!.cluster.kill(id, 'SIGKILL')));
    const acknowledged = [...acks];
    await Promise.race([Promise.all(clients), new Promise((r) => setTimeout(r, 2000))]);
    for (const id of [0, 1, 2, 3]) t.cluster.startReplica(id);
    await t.cluster.waitHealthy(30_000);
    await waitConverged(t, [0, 1, 2, 3]);
    const ledger = await ledgerTransfers(t, 0);
    for (const a of acknowledged) assert.ok(ledger.has(`${a.from}#${a.nonce}`), `acknowledged ${a.from}#${a.nonce} survived`);
    assert.equal(await sumBalances(t, 1, 'w', CLIENTS), DEPOSIT * BigInt(CLIENTS));
  });

  it('the whole cluster stopped cleanly (SIGTERM) resumes in its regency: no leader change, nothing lost', async () => {
    assert.ok(t);
    const keys = await openAccounts(t, 'c', 2, DEPOSIT);
    const acks: Ack[] = [];
    await transferLoop(t, 'c', keys, 0, acks, () => acks.length >= 5, () => true);
    const before = await waitConverged(t, [0, 1, 2, 3]);
    await Promise.all([0, 1, 2, 3].map((id) => t!.cluster.kill(id, 'SIGTERM')));
    for (const id of [0, 1, 2, 3]) t.cluster.startReplica(id);
    await t.cluster.waitHealthy(30_000);
    // After a crash every replica would sit out its regency (the restart fence) and this
    // transfer would wait for a leader change; a clean stop lost nothing, so none is fenced.
    await transferLoop(t, 'c', keys, 1, acks, () => acks.length >= 10, () => true);
    const after = await waitConverged(t, [0, 1, 2, 3]);
    assert.deepEqual(after.map((s) => s.regency), before.map((s) => s.regency), 'no leader change');
    const ledger = await ledgerTransfers(t, 2);
    for (const a of acks) assert.ok(ledger.has(`${a.from}#${a.nonce}`), `acknowledged ${a.from}#${a.nonce} survived`);
  });

  it('a replica whose store file was destroyed starts anyway and refills by state transfer', async () => {
    assert.ok(t);
    const keys = await openAccounts(t, 'x', 4, DEPOSIT);
    const acks: Ack[] = [];
    await transferLoop(t, 'x', keys, 0, acks, () => acks.length >= PERIOD * 3, () => true);
    await t.cluster.kill(2, 'SIGKILL');
    const dataDir = t.cluster.config.dataDir!;
    const db = readdirSync(dataDir).filter((f) => f.startsWith('replica-2.db'));
    assert.ok(db.length > 0, 'replica 2 had a store');
    for (const f of db) writeFileSync(join(dataDir, f), 'this is not a database');
    t.cluster.startReplica(2);
    await t.cluster.waitHealthy(30_000);
    await transferLoop(t, 'x', keys, 1, acks, () => acks.length >= PERIOD * 6, () => true);
    const statuses = await waitConverged(t, [0, 1, 2, 3]);
    assert.ok(statuses[2]!.lastDecidedCid >= 0);
    assert.ok(readdirSync(dataDir).some((f) => f.startsWith('replica-2.db') && f.includes('quarantine') || f.includes('corrupt')), `the damaged file was kept aside: ${readdirSync(dataDir).join(', ')}`);
  });
});

describe('durability (Redis)', { timeout: 300_000, skip: redisServerMissing() }, () => {
  let t: TestCluster | undefined;
  let redis: RedisServer | undefined;
  after(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('a replica killed and restarted after the log was truncated catches up by state transfer', async () => {
    redis = await startRedisServer();
    t = await startTestCluster({ replicas: 4, basePort: 13300, apiBasePort: 13800, checkpointPeriod: PERIOD, requestTimeoutMs: 1000, storage: { kind: 'redis', url: redis.url } });
    await lagAndRecover(t, 'r');
  });
});
