/** A stream of signed transfers through a cluster's APIs, tolerant of replicas coming and going. */
import type { KeyObject } from 'node:crypto';
import { request } from 'undici';
import { ApiError } from '../../src/cli/wallet-http.ts';
import { transferOperation } from '../../src/wallet/index.ts';
import { openAccount, type TestCluster } from './cluster.ts';

export interface Ack {
  from: string;
  nonce: number;
}

export interface ReplicaStatus {
  regency: number;
  lastDecidedCid: number;
  stableCheckpointCid: number;
  stateDigest: string;
}

/** Opens `n` accounts named `${prefix}${i}` with `deposit` each; returns their owners' keys. */
export async function openAccounts(t: TestCluster, prefix: string, n: number, deposit: bigint): Promise<KeyObject[]> {
  const keys: KeyObject[] = [];
  for (let i = 0; i < n; i++) keys.push(await openAccount(t.http[i % t.http.length]!, t.issuer, `${prefix}${i}`, deposit));
  return keys;
}

/**
 * Client `i` sends transfers from `${prefix}${i}` until `stop()` returns true, rotating
 * to another replica's API when one fails. Acknowledged transfers are pushed to `acks`.
 */
export async function transferLoop(t: TestCluster, prefix: string, keys: KeyObject[], i: number, acks: Ack[], stop: () => boolean, alive: (replica: number) => boolean): Promise<void> {
  let gateway = i % t.http.length;
  let nonce = 0;
  while (!stop()) {
    nonce++;
    const from = `${prefix}${i}`;
    const to = `${prefix}${(i + 1) % keys.length}`;
    const op = transferOperation(from, to, 1n, nonce, keys[i]!);
    for (let attempt = 0; ; attempt++) {
      if (attempt > 40) throw new Error(`client ${i} gave up on transfer ${nonce}`);
      for (let tries = 1; !alive(gateway); tries++) {
        gateway = (gateway + 1) % t.http.length;
        if (tries % t.http.length === 0) {
          if (stop()) return; // every replica is down and we were told to stop
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      try {
        await t.http[gateway]!.call('POST', '/transfers', { from, to, amount: op.amount, nonce, signature: op.signature });
        acks.push({ from, nonce });
        break;
      } catch (e) {
        if (e instanceof ApiError && e.problem.code === 'REPLAYED_REQUEST' && attempt > 0) break;
        if (e instanceof ApiError && e.status < 500) throw e;
        gateway = (gateway + 1) % t.http.length;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

export async function replicaStatus(t: TestCluster, id: number, digest = false): Promise<ReplicaStatus> {
  const res = await request(`${t.cluster.urls[id]}/health${digest ? '?digest=true' : ''}`, { dispatcher: t.http[id]!.agent, headersTimeout: 5000 });
  const body = (await res.body.json()) as { replica: ReplicaStatus };
  return body.replica;
}

/** Waits until `ids` report the same last decided instance and state digest. */
export async function waitConverged(t: TestCluster, ids: number[], timeoutMs = 30_000): Promise<ReplicaStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let statuses: ReplicaStatus[] = [];
    try {
      statuses = await Promise.all(ids.map((id) => replicaStatus(t, id, true)));
      if (statuses.every((s) => s.lastDecidedCid === statuses[0]!.lastDecidedCid && s.stateDigest === statuses[0]!.stateDigest)) return statuses;
    } catch {
      /* a replica still starting */
    }
    if (Date.now() > deadline) throw new Error(`replicas ${ids.join(',')} did not converge: ${JSON.stringify(statuses)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Reads the whole global ledger (voted) and returns the set of `from#nonce` of its transfers, failing on duplicates. */
export async function ledgerTransfers(t: TestCluster, via: number): Promise<Set<string>> {
  const seen = new Set<string>();
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${cursor}` : '';
    const { data } = await t.http[via]!.call<{ entries: Record<string, unknown>[]; nextCursor: string | null }>('GET', `/ledger?limit=1000${q}`);
    for (const e of data.entries) {
      if (e['type'] !== 'transfer') continue;
      const key = `${String(e['from'])}#${String(e['nonce'])}`;
      if (seen.has(key)) throw new Error(`transfer ${key} is twice in the ledger`);
      seen.add(key);
    }
    cursor = data.nextCursor;
  } while (cursor);
  return seen;
}

/** Sum of the balances of `${prefix}0..n-1`. */
export async function sumBalances(t: TestCluster, via: number, prefix: string, n: number): Promise<bigint> {
  let sum = 0n;
  for (let i = 0; i < n; i++) sum += BigInt((await t.http[via]!.call<{ balance: string }>('GET', `/accounts/${prefix}${i}`)).data.balance);
  return sum;
}
