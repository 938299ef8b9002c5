/**
 * 64 concurrent clients transfer money while the leader is killed with SIGKILL: the
 * cluster elects a new leader, no client hangs, every acknowledged transfer is in every
 * remaining replica's state, and the sum of balances equals the sum of deposits.
 * Real processes, real mutual TLS between replicas, real HTTPS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { ApiError } from '../../src/cli/wallet-http.ts';
import { transferOperation } from '../../src/wallet/index.ts';
import { openAccount, startTestCluster, type TestCluster } from '../helpers/cluster.ts';

const CLIENTS = 64;
const TRANSFERS_PER_CLIENT = 12;
const DEPOSIT = 1000n;

describe('leader crash under load (n = 4, f = 1)', { timeout: 240_000 }, () => {
  let t: TestCluster;
  before(async () => {
    t = await startTestCluster({ replicas: 4, basePort: 13000, apiBasePort: 13500, requestTimeoutMs: 1000 });
  });
  after(async () => {
    await t?.close();
  });

  it('keeps serving, loses nothing and keeps the books balanced', async () => {
    const keys: KeyObject[] = [];
    for (let i = 0; i < CLIENTS; i += 16) {
      const batch = await Promise.all(Array.from({ length: 16 }, (_, j) => openAccount(t.http[(i + j) % 4]!, t.issuer, `c${i + j}`, DEPOSIT)));
      keys.push(...batch);
    }

    const acknowledged: { from: string; to: string; amount: string; nonce: number }[] = [];
    let completed = 0;
    let killedAt = 0;
    let firstAckAfterKill = 0;
    const dead = new Set<number>();

    const client = async (i: number): Promise<void> => {
      let gateway = i % 4;
      for (let nonce = 1; nonce <= TRANSFERS_PER_CLIENT; nonce++) {
        const from = `c${i}`;
        const to = `c${(i + 1 + (nonce % 7)) % CLIENTS}`;
        const op = transferOperation(from, to, BigInt(1 + ((i + nonce) % 9)), nonce, keys[i]!);
        for (let attempt = 0; ; attempt++) {
          assert.ok(attempt < 20, `client ${i} gave up on transfer ${nonce}`);
          if (dead.has(gateway)) gateway = (gateway + 1) % 4;
          try {
            await t.http[gateway]!.call('POST', '/transfers', { from, to, amount: op.amount, nonce, signature: op.signature });
            acknowledged.push({ from, to, amount: op.amount, nonce });
            if (killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
            break;
          } catch (e) {
            // A retry of a transfer that did execute is refused as a replay: it executed once.
            if (e instanceof ApiError && e.problem.code === 'REPLAYED_REQUEST' && attempt > 0) break;
            if (e instanceof ApiError && e.status < 500) throw e;
            gateway = (gateway + 1) % 4;
          }
        }
        completed++;
      }
    };

    const killer = (async () => {
      while (completed < (CLIENTS * TRANSFERS_PER_CLIENT) / 4) await new Promise((r) => setTimeout(r, 20));
      dead.add(0);
      killedAt = Date.now();
      await t.cluster.kill(0, 'SIGKILL'); // replica 0 leads regency 0
    })();

    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => client(i)), killer]);
    assert.ok(killedAt > 0, 'the leader was killed during the run');
    assert.ok(firstAckAfterKill > 0, 'transfers were acknowledged after the kill');
    assert.ok(firstAckAfterKill - killedAt < 15_000, `service resumed ${firstAckAfterKill - killedAt} ms after the kill`);

    // The remaining replicas converge on the same state.
    const statuses = await waitConverged(t, [1, 2, 3]);
    assert.ok(statuses.every((s) => s.regency >= 1), 'a new regency was installed');

    // Every acknowledged transfer is in the (voted) global ledger, exactly once.
    const ledger = await readWholeLedger(t);
    const transfers = new Map<string, number>();
    for (const e of ledger) if (e['type'] === 'transfer') transfers.set(`${e['from']}:${e['nonce']}`, (transfers.get(`${e['from']}:${e['nonce']}`) ?? 0) + 1);
    for (const a of acknowledged) assert.equal(transfers.get(`${a.from}:${a.nonce}`), 1, `transfer ${a.from}#${a.nonce} in the ledger once`);

    // Sum of balances equals sum of deposits.
    let sum = 0n;
    for (let i = 0; i < CLIENTS; i++) {
      const { data } = await t.http[1 + (i % 3)]!.call<{ balance: string }>('GET', `/accounts/c${i}`);
      sum += BigInt(data.balance);
    }
    assert.equal(sum, DEPOSIT * BigInt(CLIENTS));
  });
});

interface ReplicaStatus {
  regency: number;
  lastDecidedCid: number;
  stateDigest: string;
}

async function waitConverged(t: TestCluster, ids: number[]): Promise<ReplicaStatus[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const statuses = await Promise.all(ids.map(async (id) => (await fetchStatus(t, id)) as ReplicaStatus));
    const same = statuses.every((s) => s.lastDecidedCid === statuses[0]!.lastDecidedCid && s.stateDigest === statuses[0]!.stateDigest);
    if (same) return statuses;
    if (Date.now() > deadline) assert.fail(`replicas did not converge: ${JSON.stringify(statuses)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function fetchStatus(t: TestCluster, id: number): Promise<unknown> {
  const { request } = await import('undici');
  const res = await request(`${t.cluster.urls[id]}/health?digest=true`, { dispatcher: t.http[id]!.agent });
  const body = (await res.body.json()) as { replica: ReplicaStatus };
  return body.replica;
}

async function readWholeLedger(t: TestCluster): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const { data } = await t.http[2]!.call<{ entries: Record<string, unknown>[]; nextCursor: string | null }>('GET', `/ledger?limit=1000${q}`);
    out.push(...data.entries);
    cursor = data.nextCursor;
  } while (cursor);
  return out;
}
