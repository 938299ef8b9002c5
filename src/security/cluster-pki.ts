/**
 * The PKI directory of a cluster: the CA, one certificate + key per replica and per client,
 * and the wallet issuer's key pair. Created on first start, loaded (and checked) afterwards.
 *
 * Layout (keys 0600, directory 0700):
 *   ca.crt ca.key                       the cluster CA
 *   replica-<i>.crt replica-<i>.key     i in 0..replicas-1
 *   client-<id>.crt client-<id>.key     each client id
 *   issuer.key issuer.pub               wallet issuer, Ed25519 PKCS#8 / SPKI PEM
 *
 * Invariants: a key file is written before its certificate, and every file is written to a
 * temporary name and renamed, so a crash leaves either nothing, a key alone (then a CSR is made
 * from that key on the next start), or a complete pair. A certificate without its key is never
 * produced by us and is reported, not repaired. Not safe for two processes at once on one directory.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from './authority.ts';
import { createCsr } from './csr.ts';
import { parseEd25519PrivateKey, privateKeyPem, publicKeyPem } from './keys.ts';
import { PkiError } from './pki-error.ts';
import { assertPrincipal, commonNameOf, parseCertificate, principalOf, samePrincipal, type Principal, type Role } from './principal.ts';

export interface ClusterPkiOptions {
  /** Number of replicas; their ids are 0..replicas-1. */
  readonly replicas: number;
  /** Client ids, or a count n meaning ids 0..n-1 (client and replica ids are separate namespaces). */
  readonly clients: readonly number[] | number;
  /** Validity of replica/client certificates; default 365 days. */
  readonly validityDays?: number;
  /** Validity of the CA certificate; default 3650 days. */
  readonly caValidityDays?: number;
  /** Subject CN of the CA; default `bulwark-ca`. */
  readonly caCommonName?: string;
  /** Extra SubjectAltNames for every replica/client certificate (besides 127.0.0.1 and localhost). */
  readonly hosts?: readonly string[];
}

export interface IdentityFiles {
  readonly principal: Principal;
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface ClusterPki {
  readonly dir: string;
  readonly ca: { readonly certPath: string; readonly keyPath: string; readonly certPem: string; readonly keyPem: string };
  readonly replicas: readonly IdentityFiles[];
  readonly clients: readonly IdentityFiles[];
  readonly issuer: { readonly keyPath: string; readonly pubPath: string; readonly keyPem: string; readonly pubPem: string };
  /** Files this call wrote (empty when everything was already there). */
  readonly written: readonly string[];
}

/** What a process needs for mutual TLS: its certificate and key, and the CA to check peers against. */
export interface Identity {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function identityPaths(dir: string, principal: Principal): { certPath: string; keyPath: string } {
  const name = commonNameOf(principal);
  return { certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`) };
}

function sameKey(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const der = (k: KeyObject) => k.export({ format: 'der', type: 'spki' });
  return der(createPublicKey(privateKey)).equals(der(publicKey));
}

/**
 * Checks that a loaded identity is coherent: the certificate names `principal`, chains to the CA,
 * is inside its validity window, and `keyPem` is its private key.
 * @throws PkiError PKI_FILES_INCONSISTENT / KEY_MISMATCH / COMMON_NAME_MALFORMED / CERTIFICATE_MALFORMED with the file in the message.
 */
function checkIdentity(identity: Identity, principal: Principal, where: string): void {
  const cert = parseCertificate(identity.certPem);
  const ca = parseCertificate(identity.caPem);
  const named = principalOf(cert);
  if (!samePrincipal(named, principal)) {
    throw new PkiError('PKI_FILES_INCONSISTENT', `${where} names ${commonNameOf(named)}, expected ${commonNameOf(principal)}`);
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new PkiError('PKI_FILES_INCONSISTENT', `${where} is not issued by the cluster CA (${ca.subject})`);
  }
  const nowMs = Date.now();
  if (nowMs < Date.parse(cert.validFrom) || nowMs > Date.parse(cert.validTo)) {
    throw new PkiError('PKI_FILES_INCONSISTENT', `${where} is outside its validity window (${cert.validFrom} .. ${cert.validTo})`);
  }
  if (!sameKey(parseEd25519PrivateKey(identity.keyPem, `${where} key`), cert.publicKey)) {
    throw new PkiError('KEY_MISMATCH', `${where}: private key does not belong to the certificate`);
  }
}

async function loadOrCreateCa(dir: string, options: ClusterPkiOptions, written: string[]): Promise<ClusterPki['ca']> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  const certPem = readIfExists(certPath);
  const keyPem = readIfExists(keyPath);
  if (certPem !== undefined && keyPem !== undefined) {
    const cert = parseCertificate(certPem);
    if (!sameKey(parseEd25519PrivateKey(keyPem, keyPath), cert.publicKey)) {
      throw new PkiError('KEY_MISMATCH', `${keyPath} does not belong to ${certPath}`);
    }
    return { certPath, keyPath, certPem, keyPem };
  }
  if (certPem !== undefined || keyPem !== undefined) {
    const [present, missing] = certPem !== undefined ? [certPath, keyPath] : [keyPath, certPath];
    throw new PkiError('PKI_FILES_INCONSISTENT', `${present} exists but ${missing} does not; restore it or remove ${dir} to create a new cluster PKI`);
  }
  const ca = await createCertificateAuthority({ commonName: options.caCommonName ?? 'bulwark-ca', validityDays: options.caValidityDays ?? 3650 });
  writeAtomic(keyPath, ca.keyPem, KEY_MODE);
  writeAtomic(certPath, ca.certPem, CERT_MODE);
  written.push(keyPath, certPath);
  return { certPath, keyPath, ...ca };
}

async function loadOrIssue(dir: string, ca: CertificateAuthority, principal: Principal, options: ClusterPkiOptions, written: string[]): Promise<IdentityFiles> {
  const { certPath, keyPath } = identityPaths(dir, principal);
  let certPem = readIfExists(certPath);
  let keyPem = readIfExists(keyPath);
  if (certPem !== undefined && keyPem === undefined) {
    throw new PkiError('PKI_FILES_INCONSISTENT', `${certPath} exists but its key ${keyPath} does not`);
  }
  if (keyPem === undefined) {
    const csr = await createCsr(principal);
    writeAtomic(keyPath, csr.keyPem, KEY_MODE);
    written.push(keyPath);
    keyPem = csr.keyPem;
  }
  if (certPem === undefined) {
    // Also the path after a crash between the key and the certificate: reuse the key on disk.
    const privateKey = parseEd25519PrivateKey(keyPem, keyPath);
    const csr = await createCsr({ ...principal, keyPair: { privateKey, publicKey: createPublicKey(privateKey) } });
    certPem = await issueCertificate(ca, csr.csrPem, { ...principal, validityDays: options.validityDays ?? 365, hosts: options.hosts ?? [] });
    writeAtomic(certPath, certPem, CERT_MODE);
    written.push(certPath);
  }
  checkIdentity({ certPem, keyPem, caPem: ca.certPem }, principal, certPath);
  return { principal, certPath, keyPath, certPem, keyPem };
}

function loadOrCreateIssuer(dir: string, written: string[]): ClusterPki['issuer'] {
  const keyPath = join(dir, 'issuer.key');
  const pubPath = join(dir, 'issuer.pub');
  let keyPem = readIfExists(keyPath);
  let pubPem = readIfExists(pubPath);
  if (keyPem === undefined) {
    if (pubPem !== undefined) throw new PkiError('PKI_FILES_INCONSISTENT', `${pubPath} exists but ${keyPath} does not`);
    keyPem = privateKeyPem(generateKeyPairSync('ed25519').privateKey);
    writeAtomic(keyPath, keyPem, KEY_MODE);
    written.push(keyPath);
  }
  const privateKey = parseEd25519PrivateKey(keyPem, keyPath);
  if (pubPem === undefined) {
    pubPem = publicKeyPem(createPublicKey(privateKey));
    writeAtomic(pubPath, pubPem, CERT_MODE);
    written.push(pubPath);
  } else if (!sameKey(privateKey, createPublicKey(pubPem))) {
    throw new PkiError('KEY_MISMATCH', `${pubPath} is not the public key of ${keyPath}`);
  }
  return { keyPath, pubPath, keyPem, pubPem };
}

function clientIds(clients: ClusterPkiOptions['clients']): number[] {
  const ids = typeof clients === 'number' ? Array.from({ length: clients }, (_, i) => i) : [...clients];
  if (typeof clients === 'number' && (!Number.isInteger(clients) || clients < 0)) throw new RangeError(`clients must be a count >= 0, got ${clients}`);
  if (new Set(ids).size !== ids.length) throw new RangeError(`client ids must be distinct, got ${ids.join(',')}`);
  for (const id of ids) assertPrincipal({ role: 'client', id });
  return ids;
}

/**
 * Creates the cluster PKI in `dir` on first start, or loads it when the files exist
 * (idempotent: a second call returns the same certificates and writes nothing). Missing
 * identities (e.g. a new client id) are issued by the existing CA. Every loaded identity is
 * checked against the CA and its key.
 * @returns paths and PEMs of the CA, each replica (ids 0..replicas-1), each client, and the wallet issuer key pair.
 * @throws RangeError for bad counts/ids; PkiError PKI_FILES_INCONSISTENT / KEY_MISMATCH / ... for a damaged directory.
 */
export async function createClusterPki(dir: string, options: ClusterPkiOptions): Promise<ClusterPki> {
  if (!Number.isInteger(options.replicas) || options.replicas < 1) throw new RangeError(`replicas must be an integer >= 1, got ${options.replicas}`);
  const ids = clientIds(options.clients);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  const ca = await loadOrCreateCa(dir, options, written);
  const replicas: IdentityFiles[] = [];
  for (let id = 0; id < options.replicas; id++) replicas.push(await loadOrIssue(dir, ca, { role: 'replica', id }, options, written));
  const clients: IdentityFiles[] = [];
  for (const id of ids) clients.push(await loadOrIssue(dir, ca, { role: 'client', id }, options, written));
  const issuer = loadOrCreateIssuer(dir, written);
  return { dir, ca, replicas, clients, issuer, written };
}

/**
 * Reads `<role>-<id>.crt|.key` and `ca.crt` from a PKI directory made by createClusterPki and checks them.
 * @throws PkiError PKI_FILES_INCONSISTENT when a file is missing, or the certificate does not name this
 *   principal, is not issued by ca.crt, or is expired; KEY_MISMATCH when the key is not the certificate's.
 */
export function loadIdentity(dir: string, role: Role, id: number): Identity {
  const principal = { role, id };
  const { certPath, keyPath } = identityPaths(dir, principal);
  const caPath = join(dir, 'ca.crt');
  const read = (path: string): string => {
    const text = readIfExists(path);
    if (text === undefined) throw new PkiError('PKI_FILES_INCONSISTENT', `${path} does not exist (run createClusterPki first)`);
    return text;
  };
  const identity = { certPem: read(certPath), keyPem: read(keyPath), caPem: read(caPath) };
  checkIdentity(identity, principal, certPath);
  return identity;
}

