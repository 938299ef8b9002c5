/**
 * A client in the replica's own process (the wallet gateway's ServiceProxy), linked
 * without a socket (`ReplicaNode.linkLocalClient`): a real ReplicaNode (a one-replica
 * view, memory storage, a TLS server nobody dials) orders, executes and answers signed
 * requests that never touch TLS.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplicaNode } from '../../src/host/replica-node.ts';
import { DurableStorage } from '../../src/host/storage/replica-storage.ts';
import { MemoryKvDisk, openMemoryKv } from '../../src/host/storage/memory-kv.ts';
import { DEFAULT_OPTIONS } from '../../src/core/options.ts';
import { makeView } from '../../src/core/view.ts';
import { AppendService } from '../../src/sim/append-service.ts';
import { Ed25519Signer, Ed25519Verifier, sha256 } from '../../src/crypto/ed25519.ts';
import { ServiceProxy } from '../../src/client/service-proxy.ts';
import { createCertificateAuthority, createCsr, issueCertificate, publicKeyOf, type CertificateAuthority, type Role } from '../../src/security/pki.ts';
import type { TlsCredentials } from '../../src/host/transport/tls-credentials.ts';

async function identity(ca: CertificateAuthority, role: Role, id: number): Promise<TlsCredentials> {
  const csr = await createCsr({ role, id });
  const certPem = await issueCertificate(ca, csr.csrPem, { role, id, validityDays: 1 });
  return { certPem, keyPem: csr.keyPem, caPem: ca.certPem };
}
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('a client linked in-process', () => {
  let node: ReplicaNode | undefined;
  after(async () => {
    await node?.close();
  });

  it('orders and reads through the replica with no socket, with signed requests checked against its certificate key', async () => {
    const ca = await createCertificateAuthority({ commonName: 'bulwark-ca', validityDays: 1 });
    const replica = await identity(ca, 'replica', 0);
    const client = await identity(ca, 'client', 1000);
    const view = makeView([0], 0);
    const service = new AppendService();
    node = new ReplicaNode(
      { replica: { ...DEFAULT_OPTIONS, id: 0, view, requireSignedRequests: true }, addresses: [{ id: 0, host: '127.0.0.1', port: 0 }], tls: replica },
      {
        service,
        signer: new Ed25519Signer(replica.keyPem),
        verifier: new Ed25519Verifier(new Map([[0, publicKeyOf(replica.certPem)]])),
        hash: sha256,
        storage: new DurableStorage(openMemoryKv(new MemoryKvDisk())),
        logger: quiet,
      },
    );
    await node.start();
    let send: (bytes: Uint8Array) => void = () => assert.fail('not linked yet');
    const proxy = new ServiceProxy(
      { clientId: 1000, view, unorderedReplier: 0, requestSigner: new Ed25519Signer(client.keyPem), invokeTimeoutMs: 5000 },
      { transport: { send: (_id, bytes) => send(bytes) }, verifier: new Ed25519Verifier(new Map([[0, publicKeyOf(replica.certPem)]])), hash: sha256 },
    );
    send = node.linkLocalClient(1000, publicKeyOf(client.certPem), (bytes) => proxy.onReplyBytes(0, bytes));

    const appended = await proxy.invokeOrdered(new TextEncoder().encode('first'));
    assert.equal(text(appended.result), '1');
    assert.equal(text((await proxy.invokeOrdered(new TextEncoder().encode('second'))).result), '2');
    const read = await proxy.invokeUnordered(new TextEncoder().encode('length'));
    assert.equal(text(read.result), '2');
    assert.equal(read.evidence.ordered, false, 'answered as an unordered read, not by the ordered fallback');
    assert.deepEqual(service.history.map(text), ['first', 'second']);
    assert.throws(() => node!.linkLocalClient(1000, publicKeyOf(client.certPem), () => {}), /already linked/);
    proxy.close();
  });
});
