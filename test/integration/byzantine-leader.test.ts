/**
 * The simulator's Byzantine behaviours on a real replica process (issue 4, item 5):
 * `bulwark replica --byzantine equivocate` on the leader of regency 0. Clients still get
 * every transfer done exactly once, and the correct replicas agree on the state.
 * Real processes, mutual TLS, HTTPS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { replicaVerifier } from '../../src/cli/proxy-transport.ts';
import { WalletHttp } from '../../src/cli/wallet-http.ts';
import { ledgerTransfers, openAccounts, sumBalances, transferLoop, waitConverged, type Ack } from '../helpers/transfers.ts';

const ACCOUNTS = 4;
const DEPOSIT = 1000n;

describe('an equivocating leader (replica 0 sends different PROPOSEs to different replicas)', { timeout: 240_000 }, () => {
  let t: TestCluster;
  let keys: KeyObject[];
  before(async () => {
    t = await startTestCluster({ replicas: 4, basePort: 13400, apiBasePort: 13900, requestTimeoutMs: 800, byzantine: new Map([[0, 'equivocate' as const]]) });
    keys = await openAccounts(t, 'eq', ACCOUNTS, DEPOSIT);
  });
  after(async () => {
    await t?.close();
  });

  it('cannot make correct replicas disagree or lose an acknowledged transfer', async () => {
    const acks: Ack[] = [];
    const target = 40;
    // Clients use the correct replicas' APIs (the faulty replica's gateway is its own business).
    const correct = new Set([1, 2, 3]);
    await Promise.all(keys.map((_, i) => transferLoop(t, 'eq', keys, i, acks, () => acks.length >= target, (r) => correct.has(r))));
    assert.ok(acks.length >= target);
    const statuses = await waitConverged(t, [1, 2, 3]);
    assert.ok(statuses[0]!.lastDecidedCid >= 0);
    const ledger = await ledgerTransfers(t, 1);
    for (const a of acks) assert.ok(ledger.has(`${a.from}#${a.nonce}`), `acknowledged transfer ${a.from}#${a.nonce} is in the ledger`);
    assert.equal(await sumBalances(t, 2, 'eq', ACCOUNTS), DEPOSIT * BigInt(ACCOUNTS), 'money is neither created nor lost');
  });

  it('a ledger page with compact evidence is the same page, checked against f+1 signatures', async () => {
    const compact = new WalletHttp({ url: t.cluster.urls[1]!, caPem: t.cluster.caPem, verifier: replicaVerifier(t.cluster.config), f: t.cluster.config.f, compactEvidence: true });
    try {
      const path = '/ledger?limit=50';
      const small = await compact.call<{ entries: unknown[] }>('GET', path);
      assert.equal(small.evidence.result, undefined, 'the gateway left the signed bytes out');
      assert.ok(small.evidence.replicas.length >= 2);
      const full = await t.http[1]!.call<{ entries: unknown[] }>('GET', path);
      assert.ok(full.data.entries.length > 0);
      // Both reads are unordered and nothing is writing: the same page.
      assert.deepEqual(small.data, full.data);
    } finally {
      await compact.close();
    }
  });
});
