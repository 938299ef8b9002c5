import assert from 'node:assert/strict';
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ed25519Signer, Ed25519Verifier, generateEd25519 } from '../../src/crypto/ed25519.ts';
import {
  createCertificateAuthority,
  createClusterPki,
  createCsr,
  issueCertificate,
  loadIdentity,
  parseCommonName,
  PkiError,
  principalOf,
  publicKeyOf,
  verifyIssuedBy,
  type CertificateAuthority,
} from '../../src/security/pki.ts';

function pkiCode(code: string) {
  return (error: unknown) => error instanceof PkiError && error.code === code;
}

describe('certificate authority and CSR flow', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority({ commonName: 'bulwark-ca', validityDays: 30 });
    otherCa = await createCertificateAuthority({ commonName: 'bulwark-ca', validityDays: 30 });
  });

  it('creates a self-signed Ed25519 CA certificate', () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.equal(cert.subject, 'CN=bulwark-ca');
    assert.equal(cert.publicKey.asymmetricKeyType, 'ed25519');
    assert.ok(cert.verify(cert.publicKey));
  });

  it('issues a certificate from a CSR that chains to the CA and names the principal', async () => {
    const csr = await createCsr({ role: 'replica', id: 3 });
    const certPem = await issueCertificate(ca, csr.csrPem, { role: 'replica', id: 3, validityDays: 1, hosts: ['10.0.0.7', 'node7.bulwark.test'] });
    assert.equal(verifyIssuedBy(certPem, ca.certPem), true);
    const cert = new X509Certificate(certPem);
    assert.equal(cert.ca, false);
    assert.equal(cert.subject, 'CN=replica-3');
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost, IP Address:10.0.0.7, DNS:node7.bulwark.test');
    assert.deepEqual(cert.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.deepEqual(principalOf(certPem), { role: 'replica', id: 3 });
    assert.deepEqual(principalOf(cert), { role: 'replica', id: 3 });
  });

  it('binds the key the CSR was made with, usable by the protocol signer/verifier', async () => {
    const keyPair = generateEd25519();
    const csr = await createCsr({ role: 'client', id: 1001, keyPair });
    const certPem = await issueCertificate(ca, csr.csrPem, { role: 'client', id: 1001, validityDays: 1 });
    const publicKey = publicKeyOf(certPem);
    assert.equal(publicKey.asymmetricKeyType, 'ed25519');
    assert.deepEqual(publicKey.export({ format: 'der', type: 'spki' }), keyPair.publicKey.export({ format: 'der', type: 'spki' }));
    const message = Buffer.from('request 1');
    const signature = new Ed25519Signer(csr.keyPem).sign(message);
    assert.equal(new Ed25519Verifier(new Map([[1001, publicKey]])).verify(1001, message, signature), true);
  });

  it('a certificate from a second CA fails verifyIssuedBy', async () => {
    const csr = await createCsr({ role: 'client', id: 1 });
    const foreign = await issueCertificate(otherCa, csr.csrPem, { role: 'client', id: 1, validityDays: 1 });
    assert.equal(verifyIssuedBy(foreign, otherCa.certPem), true);
    assert.equal(verifyIssuedBy(foreign, ca.certPem), false);
    assert.equal(verifyIssuedBy('not a certificate', ca.certPem), false);
  });

  it('verifyIssuedBy rejects a certificate outside its validity window', async () => {
    const csr = await createCsr({ role: 'replica', id: 0 });
    const certPem = await issueCertificate(ca, csr.csrPem, { role: 'replica', id: 0, validityDays: 1 });
    assert.equal(verifyIssuedBy(certPem, ca.certPem), true);
    assert.equal(verifyIssuedBy(certPem, ca.certPem, new Date(Date.now() + 2 * 86_400_000)), false);
    assert.equal(verifyIssuedBy(certPem, ca.certPem, new Date(Date.now() - 3_600_000)), false);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const csr = await createCsr({ role: 'replica', id: 1 });
    // Flip one bit in the last byte of the DER (inside the signature).
    const body = csr.csrPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    const der = Buffer.from(body, 'base64');
    der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(issueCertificate(ca, tampered, { role: 'replica', id: 1, validityDays: 1 }), pkiCode('CSR_SIGNATURE_INVALID'));
  });

  it('refuses a CSR that asks for another principal, and garbage', async () => {
    const csr = await createCsr({ role: 'client', id: 5 });
    await assert.rejects(issueCertificate(ca, csr.csrPem, { role: 'replica', id: 5, validityDays: 1 }), pkiCode('CSR_SUBJECT_MISMATCH'));
    await assert.rejects(issueCertificate(ca, 'garbage', { role: 'client', id: 5, validityDays: 1 }), pkiCode('CSR_MALFORMED'));
  });

  it('refuses invalid principals', async () => {
    await assert.rejects(createCsr({ role: 'client', id: -1 }), pkiCode('PRINCIPAL_INVALID'));
    await assert.rejects(createCsr({ role: 'client', id: 2 ** 31 }), pkiCode('PRINCIPAL_INVALID'));
    await assert.rejects(createCsr({ role: 'client', id: 1.5 }), pkiCode('PRINCIPAL_INVALID'));
    await assert.rejects(createCsr({ role: 'admin' as 'client', id: 1 }), pkiCode('PRINCIPAL_INVALID'));
  });

  it('principalOf throws a clear error for the CA certificate (not a principal) and for garbage', () => {
    assert.throws(() => principalOf(ca.certPem), (error: unknown) => pkiCode('COMMON_NAME_MALFORMED')(error) && /bulwark-ca/.test((error as Error).message));
    assert.throws(() => principalOf('nope'), pkiCode('CERTIFICATE_MALFORMED'));
  });
});

describe('parseCommonName', () => {
  it('round-trips valid names', () => {
    for (const [name, principal] of [
      ['replica-0', { role: 'replica', id: 0 }],
      ['client-2147483647', { role: 'client', id: 2 ** 31 - 1 }],
    ] as const) {
      assert.deepEqual(parseCommonName(name), principal);
    }
  });
  it('rejects every other spelling', () => {
    for (const name of ['replica-01', 'replica--1', 'replica-+1', 'client-2147483648', 'client-99999999999', 'admin-1', 'replica-', 'replica-1 ', 'Replica-1', 'replica-1\nCN=client-2', '']) {
      assert.throws(() => parseCommonName(name), pkiCode('COMMON_NAME_MALFORMED'), name);
    }
  });
});

describe('createClusterPki', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bulwark-pki-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the CA, replicas, clients and the issuer key pair with private keys at 0600', async () => {
    const pki = await createClusterPki(dir, { replicas: 4, clients: [1000, 1001] });
    assert.deepEqual(pki.replicas.map((r) => r.principal), [0, 1, 2, 3].map((id) => ({ role: 'replica', id })));
    assert.deepEqual(pki.clients.map((c) => c.principal), [1000, 1001].map((id) => ({ role: 'client', id })));
    for (const identity of [...pki.replicas, ...pki.clients]) {
      assert.equal(verifyIssuedBy(identity.certPem, pki.ca.certPem), true);
      assert.deepEqual(principalOf(identity.certPem), identity.principal);
      assert.equal(readFileSync(identity.certPath, 'utf8'), identity.certPem);
      assert.equal(statSync(identity.keyPath).mode & 0o777, 0o600);
    }
    for (const path of [join(dir, 'ca.key'), join(dir, 'issuer.key')]) assert.equal(statSync(path).mode & 0o777, 0o600);
    // The issuer pair is Ed25519, PKCS#8/SPKI PEM, and matches.
    assert.match(pki.issuer.keyPem, /BEGIN PRIVATE KEY/);
    assert.match(pki.issuer.pubPem, /BEGIN PUBLIC KEY/);
    const message = Buffer.from('wallet');
    const signature = sign(null, message, pki.issuer.keyPem);
    assert.equal(createPublicKey(pki.issuer.pubPem).asymmetricKeyType, 'ed25519');
    assert.equal(verify(null, message, pki.issuer.pubPem, signature), true);
    assert.equal(pki.written.length, 2 + 4 * 2 + 2 * 2 + 2);
  });

  it('is idempotent: a second call loads the same files and writes nothing', async () => {
    const first = await createClusterPki(dir, { replicas: 4, clients: [1000, 1001] });
    const second = await createClusterPki(dir, { replicas: 4, clients: [1000, 1001] });
    assert.deepEqual(second.written, []);
    assert.equal(second.ca.certPem, first.ca.certPem);
    assert.equal(second.ca.keyPem, first.ca.keyPem);
    assert.deepEqual(second.replicas.map((r) => r.certPem), first.replicas.map((r) => r.certPem));
    assert.deepEqual(second.clients.map((c) => c.keyPem), first.clients.map((c) => c.keyPem));
    assert.equal(second.issuer.pubPem, first.issuer.pubPem);
  });

  it('issues only what is missing, reusing a key left without its certificate', async () => {
    const earlier = await createClusterPki(dir, { replicas: 4, clients: [1000, 1001] });
    unlinkSync(join(dir, 'replica-2.crt'));
    const later = await createClusterPki(dir, { replicas: 4, clients: 3 });
    const expected = ['client-0.crt', 'client-0.key', 'client-1.crt', 'client-1.key', 'client-2.crt', 'client-2.key', 'replica-2.crt'];
    assert.deepEqual([...later.written].sort(), expected.map((f) => join(dir, f)).sort());
    assert.equal(later.ca.certPem, earlier.ca.certPem);
    assert.equal(later.replicas[2]?.keyPem, earlier.replicas[2]?.keyPem);
    assert.notEqual(later.replicas[2]?.certPem, earlier.replicas[2]?.certPem);
  });

  it('loadIdentity returns the certificate, key and CA of a principal', () => {
    const identity = loadIdentity(dir, 'replica', 1);
    assert.equal(identity.caPem, readFileSync(join(dir, 'ca.crt'), 'utf8'));
    assert.equal(identity.certPem, readFileSync(join(dir, 'replica-1.crt'), 'utf8'));
    assert.deepEqual(principalOf(identity.certPem), { role: 'replica', id: 1 });
    assert.throws(() => loadIdentity(dir, 'replica', 9), pkiCode('PKI_FILES_INCONSISTENT'));
  });

  it('refuses a directory whose replica certificate comes from another CA', async () => {
    const other = mkdtempSync(join(tmpdir(), 'bulwark-pki-other-'));
    const swapped = mkdtempSync(join(tmpdir(), 'bulwark-pki-swapped-'));
    try {
      await createClusterPki(other, { replicas: 1, clients: 0 });
      await createClusterPki(swapped, { replicas: 1, clients: 0 });
      for (const f of ['replica-0.crt', 'replica-0.key']) writeFileSync(join(swapped, f), readFileSync(join(other, f)));
      const foreign = (e: unknown) => pkiCode('PKI_FILES_INCONSISTENT')(e) && /not issued by the cluster CA/.test((e as Error).message);
      assert.throws(() => loadIdentity(swapped, 'replica', 0), foreign);
      await assert.rejects(createClusterPki(swapped, { replicas: 1, clients: 0 }), foreign);
    } finally {
      rmSync(other, { recursive: true, force: true });
      rmSync(swapped, { recursive: true, force: true });
    }
  });

  it('refuses a certificate whose key is missing', async () => {
    unlinkSync(join(dir, 'client-1000.key'));
    await assert.rejects(createClusterPki(dir, { replicas: 4, clients: [1000] }), pkiCode('PKI_FILES_INCONSISTENT'));
  });
});
