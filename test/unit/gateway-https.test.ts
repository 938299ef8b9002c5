/**
 * The gateway over real HTTPS on 127.0.0.1: TLS 1.3 only (a TLS 1.2 client is refused in
 * the handshake), requests answered through the backend, and a malformed request that does
 * not stop the server from serving the next one.
 *
 * The certificate is made in-process (@peculiar/x509 over WebCrypto): no openssl binary.
 */
import 'reflect-metadata';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { startGateway, type RunningGateway, type VotedReply, type WalletBackend } from '../../src/gateway/index.ts';

const HOST = '127.0.0.1';

/** A self-signed P-256 certificate for 127.0.0.1, valid for one hour. */
async function selfSignedCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const crypto = webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0];
  x509.cryptoProvider.set(crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${HOST}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: HOST }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}

class CountingBackend implements WalletBackend {
  readonly operations: string[] = [];
  async invokeOrdered(operation: Uint8Array): Promise<VotedReply> {
    return this.answer(operation);
  }
  async invokeUnordered(operation: Uint8Array): Promise<VotedReply> {
    return this.answer(operation);
  }
  private answer(operation: Uint8Array): VotedReply {
    this.operations.push(Buffer.from(operation).toString('utf8'));
    const result = new TextEncoder().encode(JSON.stringify({ ok: true, value: { entries: [] } }));
    return { result, evidence: { clientId: 5, seq: this.operations.length, resultDigest: 'd', replicas: [{ replicaId: 0, signature: 's', proof: { index: 0, leafCount: 1, siblings: [] } }] } };
  }
}

interface HttpsAnswer {
  status: number;
  contentType: string;
  body: string;
  protocol: string | null;
}

/** One HTTPS request on a fresh connection (agent: false, so nothing lingers after the test). */
function fetchOnce(url: string, caPem: string, options: { method?: string; body?: string; contentType?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = options.body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' };
    const req = httpsRequest(url, { method: options.method ?? 'GET', ca: caPem, agent: false, headers, timeout: 5_000 }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8'), protocol }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Opens a TLS connection with the given version range; resolves with the negotiated protocol or rejects with the handshake error. */
function handshake(port: number, caPem: string, versions: { minVersion: 'TLSv1.2' | 'TLSv1.3'; maxVersion: 'TLSv1.2' | 'TLSv1.3' }): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: HOST, port, ca: caPem, ...versions }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve(protocol);
    });
    socket.setTimeout(5_000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/** Sends raw bytes over TLS 1.3 and collects everything until the server closes. */
function sendRaw(port: number, caPem: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tlsConnect({ host: HOST, port, ca: caPem, minVersion: 'TLSv1.3' }, () => socket.write(bytes));
    socket.setTimeout(5_000, () => socket.destroy(new Error('server did not close the connection')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

describe('gateway over HTTPS (TLS 1.3 only)', () => {
  const backend = new CountingBackend();
  let gateway: RunningGateway;
  let certPem: string;
  let port: number;

  before(async () => {
    const tls = await selfSignedCertificate();
    certPem = tls.certPem;
    gateway = await startGateway({ backend, tls, host: HOST, port: 0, replicaId: 1 });
    port = Number(new URL(gateway.url).port);
  });
  after(() => gateway.close());

  it('listens on an https URL on the ephemeral port', () => {
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(port > 0);
  });

  it('refuses a TLS 1.2 client in the handshake', async () => {
    await assert.rejects(handshake(port, certPem, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), (err: Error & { code?: string }) => {
      assert.match(`${err.code ?? ''} ${err.message}`, /PROTOCOL_VERSION|unsupported protocol|alert protocol version/i);
      return true;
    });
  });

  it('accepts a TLS 1.3 client, and negotiates TLS 1.3 for a client offering both', async () => {
    assert.equal(await handshake(port, certPem, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }), 'TLSv1.3');
    assert.equal(await handshake(port, certPem, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }), 'TLSv1.3');
  });

  it('serves /health and forwards a read to the backend over TLS 1.3', async () => {
    const health = await fetchOnce(`${gateway.url}/health`, certPem);
    assert.equal(health.status, 200, health.body);
    assert.equal(health.protocol, 'TLSv1.3');
    assert.equal(JSON.parse(health.body).replicaId, 1);

    const ledger = await fetchOnce(`${gateway.url}/ledger?limit=2`, certPem);
    assert.equal(ledger.status, 200, ledger.body);
    assert.deepEqual(JSON.parse(ledger.body).data, { entries: [] });
    assert.deepEqual(backend.operations, ['{"op":"ledger","limit":2}']);
  });

  it('keeps serving after malformed requests (bad HTTP, bad JSON)', async () => {
    const garbage = await sendRaw(port, certPem, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /application\/problem\+json/);
    assert.match(garbage, /"code":"BAD_REQUEST"/);

    const badJson = await fetchOnce(`${gateway.url}/transfers`, certPem, { method: 'POST', body: '{"from":' });
    assert.equal(badJson.status, 400);
    assert.match(badJson.contentType, /^application\/problem\+json/);
    assert.equal(JSON.parse(badJson.body).code, 'MALFORMED_JSON');

    const health = await fetchOnce(`${gateway.url}/health`, certPem);
    assert.equal(health.status, 200, 'the server still answers after malformed input');
  });
});
