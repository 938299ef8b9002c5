/**
 * ReplicaNode.attachLocalClient: a client in the replica's own process (its wallet gateway)
 * reaches the core without TLS. A one-replica view (f = 0) decides alone, so the whole path
 * runs in this process: a real ReplicaNode with real TLS listening and the real ServiceProxy.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ReplicaNode } from '../../src/host/replica-node.ts';
import { openReplicaStorage } from '../../src/host/storage/open-storage.ts';
import { createClusterPki, loadIdentity, publicKeyOf } from '../../src/security/pki.ts';
import { DEFAULT_OPTIONS } from '../../src/core/options.ts';
import { makeView } from '../../src/core/view.ts';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';
import { AppendService } from '../../src/sim/append-service.ts';
import { ServiceProxy } from '../../src/client/service-proxy.ts';
import type { Signer } from '../../src/crypto/signature.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();
const CLIENT = 100;

describe('a replica and a client in one process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-local-client-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = async () => {
    await createClusterPki(join(dir, 'pki'), { replicas: 1, clients: [CLIENT] });
    const replica = loadIdentity(join(dir, 'pki'), 'replica', 0);
    const client = loadIdentity(join(dir, 'pki'), 'client', CLIENT);
    const logger = pino({ level: 'silent' });
    const storage = await openReplicaStorage({ kind: 'memory' }, { replicaId: 0, dataDir: join(dir, 'data'), encrypt: false, warn: () => {} });
    const service = new AppendService();
    const node = new ReplicaNode(
      { replica: { ...DEFAULT_OPTIONS, id: 0, view: makeView([0], 0), requireSignedRequests: true }, addresses: [{ id: 0, host: '127.0.0.1', port: 0 }], tls: replica },
      { service, signer: new Ed25519Signer(replica.keyPem), verifier: new Ed25519Verifier(new Map([[0, publicKeyOf(replica.certPem)]])), hash: sha256, storage, logger },
    );
    await node.start();
    return { node, client, service };
  };

  it('orders a signed request and answers a read through the link, refuses a bad signature, and detaches', async () => {
    const { node, client, service } = await start();
    const sent: Uint8Array[] = [];
    let link: ReturnType<ReplicaNode['attachLocalClient']> | null = null;
    const proxyWith = (requestSigner: Signer, session: number) =>
      new ServiceProxy(
        { clientId: CLIENT, view: makeView([0], 0), session, requestSigner, invokeTimeoutMs: 300, unorderedTimeoutMs: 300 },
        { transport: { send: (_id, bytes) => (sent.push(bytes), link?.send(bytes)) }, verifier: new Ed25519Verifier(new Map([[0, publicKeyOf(loadIdentity(join(dir, 'pki'), 'replica', 0).certPem)]])), hash: sha256 },
      );
    const good = proxyWith(new Ed25519Signer(client.keyPem), 1);
    link = node.attachLocalClient(CLIENT, publicKeyOf(client.certPem), (bytes) => good.onReplyBytes(0, bytes));
    try {
      assert.throws(() => node.attachLocalClient(CLIENT, publicKeyOf(client.certPem), () => {}), /already attached/);
      assert.equal(dec.decode((await good.invokeOrdered(enc.encode('a'))).result), '1');
      assert.equal(dec.decode((await good.invokeOrdered(enc.encode('b'))).result), '2');
      assert.equal(dec.decode((await good.invokeUnordered(enc.encode('read'))).result), '2');
      assert.deepEqual(service.history.map((h) => dec.decode(h)), ['a', 'b']);
      good.close();

      // The key given at attach is the one checked: a request signed by another key is dropped.
      link.close();
      const forger = proxyWith({ sign: () => new Uint8Array(64).fill(1) }, 2);
      link = node.attachLocalClient(CLIENT, publicKeyOf(client.certPem), (bytes) => forger.onReplyBytes(0, bytes));
      await assert.rejects(forger.invokeOrdered(enc.encode('forged')), /BFT_TIMEOUT|no f\+1/);
      assert.equal(service.history.length, 2);
      assert.ok([...node.drops.keys()].some((k) => /bad client signature/.test(k)), `drops: ${[...node.drops.keys()].join('; ')}`);
      forger.close();

      // Detached: a well-signed request sent on the closed link never reaches the replica.
      link.close();
      const late = proxyWith(new Ed25519Signer(client.keyPem), 3);
      await assert.rejects(late.invokeOrdered(enc.encode('late')), /BFT_TIMEOUT|no f\+1/);
      late.close();
      assert.equal(service.history.length, 2);
      assert.ok(sent.length >= 4, 'the proxies did send');
    } finally {
      good.close();
      link?.close();
      await node.close();
    }
  });
});
