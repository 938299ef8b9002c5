/**
 * One cluster with a Byzantine replica (replica 3 returns wrong results, correctly
 * signed): clients are never fooled, a client with a certificate from another CA is
 * refused, and every kind of bad input gets a precise 4xx problem while the replicas
 * keep serving. Real processes, mutual TLS, HTTPS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request } from 'undici';
import { createClusterPki, loadIdentity } from '../../src/security/pki.ts';
import { connectProxy } from '../../src/cli/proxy-transport.ts';
import { BftError } from '../../src/client/errors.ts';
import { ApiError } from '../../src/cli/wallet-http.ts';
import { depositOperation, getAccountOperation, encodeOperation, registerOperation, transferOperation } from '../../src/wallet/index.ts';
import { openAccount, startTestCluster, type TestCluster } from '../helpers/cluster.ts';

describe('a Byzantine replica, a foreign client and bad input (n = 4, f = 1)', { timeout: 180_000 }, () => {
  let t: TestCluster;
  let aliceKey: KeyObject;
  before(async () => {
    t = await startTestCluster({ replicas: 4, basePort: 13100, apiBasePort: 13600, byzantine: new Map([[3, 'wrong-results' as const]]) });
    aliceKey = await openAccount(t.http[0]!, t.issuer, 'alice', 5000n);
    await openAccount(t.http[1]!, t.issuer, 'bob', 0n);
  });
  after(async () => {
    await t?.close();
  });

  it('outvotes the lying replica, even through the liar\'s own API', async () => {
    const liar = t.http[3]!;
    for (let nonce = 1; nonce <= 5; nonce++) {
      const op = transferOperation('alice', 'bob', 100n, nonce, aliceKey);
      const { data, evidence } = await liar.call<{ balance: string }>('POST', '/transfers', { from: 'alice', to: 'bob', amount: op.amount, nonce, signature: op.signature });
      assert.equal(data.balance, String(5000 - 100 * nonce));
      assert.ok(!evidence.replicas.some((r) => r.replicaId === 3), 'the liar never vouches for the accepted result');
    }
    // Unordered reads need a quorum of 3 matching replies: the liar's reply cannot be one of them.
    const { data, evidence } = await liar.call<{ balance: string }>('GET', '/accounts/bob');
    assert.equal(data.balance, '500');
    assert.ok(!evidence.replicas.some((r) => r.replicaId === 3));
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bulwark-foreign-'));
    try {
      await createClusterPki(dir, { replicas: 4, clients: [1000] });
      const foreign = loadIdentity(dir, 'client', 1000); // same name as replica 0's gateway, other CA
      const { proxy, close } = connectProxy(t.cluster.config, foreign, { clientId: 1000, invokeTimeoutMs: 3000, retransmitMs: 500 });
      try {
        await assert.rejects(proxy.invokeOrdered(encodeOperation(getAccountOperation('alice'))), (e: unknown) => e instanceof BftError && e.code === 'BFT_TIMEOUT');
      } finally {
        close();
      }
      // The real gateway client with the same id was not disturbed.
      const { data } = await t.http[0]!.call<{ balance: string }>('GET', '/accounts/alice');
      assert.equal(data.balance, '4500');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers every kind of bad input with a 4xx problem naming the field, and keeps serving', async () => {
    const h = t.http[1]!;
    const base = t.cluster.urls[1]!;
    const raw = async (method: string, path: string, body: string, contentType = 'application/json') => {
      const res = await request(base + path, { method: method as 'POST', body, headers: { 'content-type': contentType }, dispatcher: h.agent });
      return { status: res.statusCode, type: String(res.headers['content-type']), body: (await res.body.json()) as { code: string; field?: string } };
    };
    const good = transferOperation('alice', 'bob', 1n, 6, aliceKey);
    const transfer = (patch: Record<string, unknown>) => JSON.stringify({ from: 'alice', to: 'bob', amount: good.amount, nonce: 6, signature: good.signature, ...patch });
    const cases: [string, string, string, number, string, string | undefined][] = [
      ['malformed JSON', '/transfers', '{"from": "alice",', 400, 'MALFORMED_JSON', undefined],
      ['missing field', '/transfers', JSON.stringify({ from: 'alice', to: 'bob', amount: '1', nonce: 6 }), 400, 'VALIDATION_FAILED', 'signature'],
      ['negative amount', '/transfers', transfer({ amount: '-5' }), 400, 'INVALID_AMOUNT', 'amount'],
      ['zero amount', '/transfers', transfer({ amount: '0' }), 400, 'INVALID_AMOUNT', 'amount'],
      ['fractional amount', '/transfers', transfer({ amount: '1.5' }), 400, 'INVALID_AMOUNT', 'amount'],
      ['huge amount', '/transfers', transfer({ amount: '1000000000000000000000' }), 400, 'AMOUNT_TOO_LARGE', 'amount'],
      ['number amount', '/transfers', transfer({ amount: 5 }), 400, 'INVALID_AMOUNT', 'amount'],
      ['unknown account', '/transfers', transfer({ to: 'nobody' }), 404, 'UNKNOWN_ACCOUNT', 'to'],
      ['bad signature', '/transfers', transfer({ signature: transferOperation('alice', 'bob', 2n, 6, aliceKey).signature }), 403, 'BAD_SIGNATURE', 'signature'],
      ['missing signature', '/transfers', transfer({ signature: undefined }), 400, 'VALIDATION_FAILED', 'signature'],
      ['self transfer', '/transfers', transfer({ to: 'alice' }), 400, 'SELF_TRANSFER', 'to'],
      ['replayed transfer', '/transfers', JSON.stringify({ from: 'alice', to: 'bob', amount: '100', nonce: 1, signature: transferOperation('alice', 'bob', 100n, 1, aliceKey).signature }), 409, 'REPLAYED_REQUEST', 'nonce'],
      ['oversized body', '/transfers', transfer({ pad: 'x'.repeat(200_000) }), 413, 'BODY_TOO_LARGE', undefined],
    ];
    for (const [name, path, body, status, code, field] of cases) {
      const r = await raw('POST', path, body);
      assert.equal(r.status, status, `${name}: status (${JSON.stringify(r.body)})`);
      assert.match(r.type, /application\/problem\+json/, `${name}: content type`);
      assert.equal(r.body.code, code, `${name}: code`);
      if (field) assert.match(String(r.body.field), new RegExp(field), `${name}: field`);
    }
    // insufficient funds and a forged deposit go through consensus and are refused by every replica
    const broke = transferOperation('bob', 'alice', 1_000_000n, 1, generateKeyPairSync('ed25519').privateKey);
    await assert.rejects(h.call('POST', '/transfers', { from: 'bob', to: 'alice', amount: broke.amount, nonce: 1, signature: broke.signature }), (e: unknown) => e instanceof ApiError && e.status === 403);
    const forged = depositOperation('bob', 10n, 1, generateKeyPairSync('ed25519').privateKey);
    await assert.rejects(h.call('POST', '/accounts/bob/deposits', { amount: forged.amount, nonce: 1, signature: forged.signature }), (e: unknown) => e instanceof ApiError && e.problem.code === 'BAD_SIGNATURE');
    const kp = generateKeyPairSync('ed25519');
    const reg = registerOperation('alice', kp);
    await assert.rejects(h.call('POST', '/accounts', { accountId: 'alice', publicKey: reg.publicKey, signature: reg.signature }), (e: unknown) => e instanceof ApiError && e.problem.code === 'ACCOUNT_EXISTS');
    const poor = await openAccount(h, t.issuer, 'carol', 5n);
    const tooMuch = transferOperation('carol', 'bob', 6n, 1, poor);
    await assert.rejects(h.call('POST', '/transfers', { from: 'carol', to: 'bob', amount: tooMuch.amount, nonce: 1, signature: tooMuch.signature }), (e: unknown) => e instanceof ApiError && e.problem.code === 'INSUFFICIENT_FUNDS');

    // Nothing above cost an accepted operation, and every replica still serves.
    const ok = await h.call<{ balance: string }>('POST', '/transfers', JSON.parse(transfer({})) as Record<string, unknown>);
    assert.equal(ok.data.balance, '4499');
    for (const http of t.http) assert.equal((await http.call<{ balance: string }>('GET', '/accounts/alice')).data.balance, '4499');
  });
});
