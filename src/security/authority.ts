/**
 * The cluster certificate authority: creates the CA, issues replica/client certificates from
 * CSRs, and checks that a certificate was issued by it. All keys are Ed25519 (the CA's too:
 * @peculiar/x509 signs Ed25519 through node's WebCrypto, and TLS 1.3 accepts Ed25519 chains).
 */
import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { ED25519, parseEd25519PrivateKey, privateKeyPem, publicKeyFromSpki, randomSerialNumber, toCryptoKeyPair, toSigningKey } from './keys.ts';
import { PkiError } from './pki-error.ts';
import { commonNameOf, parseCertificate, type Role } from './principal.ts';
import { x509 } from './x509-provider.ts';

/** The CA's certificate and private key, both PEM. The key signs every certificate of the cluster. */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthorityOptions {
  /** Subject CN of the CA certificate, e.g. `bulwark-ca`. */
  readonly commonName: string;
  readonly validityDays: number;
}

export interface IssueOptions {
  readonly role: Role;
  readonly id: number;
  readonly validityDays: number;
  /** Extra SubjectAltNames (IP addresses or DNS names) besides 127.0.0.1 and localhost. */
  readonly hosts?: readonly string[];
}

const DAY_MS = 86_400_000;
/** notBefore is set this far in the past so a peer whose clock is slightly behind accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60_000;
const DEFAULT_HOSTS = ['127.0.0.1', 'localhost'] as const;
const DNS_NAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function validityWindow(validityDays: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validityDays) || validityDays <= 0) throw new RangeError(`validityDays must be > 0, got ${validityDays}`);
  const now = Date.now();
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + validityDays * DAY_MS) };
}

/**
 * Creates a self-signed Ed25519 CA certificate (basicConstraints CA:true, pathLen 0: it issues
 * leaf certificates only; keyUsage keyCertSign + cRLSign for the CRLs to come).
 * @returns `{ certPem, keyPem }` — keyPem is PKCS#8 PEM and must be stored with mode 0600.
 * @throws RangeError when validityDays <= 0.
 */
export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  if (options.commonName.length === 0) throw new RangeError('CA commonName must not be empty');
  const pair = generateKeyPairSync('ed25519');
  const keys = await toCryptoKeyPair(pair);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [options.commonName] }],
    ...validityWindow(options.validityDays),
    signingAlgorithm: ED25519,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: privateKeyPem(pair.privateKey) };
}

function subjectAltNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [];
  for (const host of new Set([...DEFAULT_HOSTS, ...hosts])) {
    if (isIP(host) !== 0) names.push({ type: 'ip', value: host });
    else if (DNS_NAME.test(host)) names.push({ type: 'dns', value: host });
    else throw new RangeError(`host ${JSON.stringify(host)} is neither an IP address nor a DNS name`);
  }
  return names;
}

async function parseVerifiedCsr(csrPem: string, expectedCommonName: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    throw new PkiError('CSR_MALFORMED', `not a PKCS#10 request: ${(error as Error).message}`);
  }
  const key = publicKeyFromSpki(csr.publicKey.rawData);
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new PkiError('KEY_TYPE_UNSUPPORTED', `CSR for ${expectedCommonName} carries a ${key.asymmetricKeyType} key; replica and client keys must be Ed25519`);
  }
  if (!(await csr.verify())) {
    throw new PkiError('CSR_SIGNATURE_INVALID', `CSR for ${expectedCommonName} is not signed by the key it carries`);
  }
  // The issuer decides the subject; a request that asked for someone else is a mistake or an attack.
  const requested = csr.subjectName.getField('CN');
  if (requested.length > 0 && (requested.length !== 1 || requested[0] !== expectedCommonName)) {
    throw new PkiError('CSR_SUBJECT_MISMATCH', `CSR asks for CN=${requested.join(',')} but is being issued as ${expectedCommonName}`);
  }
  return csr;
}

/**
 * Issues a leaf certificate for the key in `csrPem`, subject `CN=<role>-<id>`, signed by `ca`.
 * Extensions: basicConstraints CA:false, keyUsage digitalSignature, extendedKeyUsage
 * serverAuth + clientAuth (every principal both dials and accepts), SubjectAltName
 * 127.0.0.1 + localhost + `hosts`, subject and authority key identifiers.
 * @returns the certificate, PEM.
 * @throws PkiError CSR_MALFORMED, CSR_SIGNATURE_INVALID, CSR_SUBJECT_MISMATCH, KEY_TYPE_UNSUPPORTED (CSR or CA key
 *   not Ed25519), PRINCIPAL_INVALID, CERTIFICATE_MALFORMED (CA certificate); RangeError for a bad host or validity.
 */
export async function issueCertificate(ca: CertificateAuthority, csrPem: string, options: IssueOptions): Promise<string> {
  const commonName = commonNameOf(options);
  const csr = await parseVerifiedCsr(csrPem, commonName);
  const caCert = new x509.X509Certificate(parseCertificate(ca.certPem).raw);
  const caKey = parseEd25519PrivateKey(ca.keyPem, 'CA private key');
  if (!createPublicKey(caKey).export({ format: 'der', type: 'spki' }).equals(Buffer.from(caCert.publicKey.rawData))) {
    throw new PkiError('KEY_MISMATCH', 'CA private key does not belong to the CA certificate');
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [commonName] }],
    issuer: caCert.subjectName,
    ...validityWindow(options.validityDays),
    signingAlgorithm: ED25519,
    publicKey: csr.publicKey,
    signingKey: await toSigningKey(caKey),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(subjectAltNames(options.hosts ?? [])),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem');
}

/**
 * True when `certPem` is signed by the CA in `caCertPem`, names it as issuer, and `now` lies in
 * its validity window. Returns false (never throws) for a certificate that does not parse, since
 * that is peer input.
 * @throws PkiError CERTIFICATE_MALFORMED when the CA certificate itself does not parse (configuration error).
 */
export function verifyIssuedBy(certPem: string, caCertPem: string, now: Date = new Date()): boolean {
  const ca = parseCertificate(caCertPem);
  let cert;
  try {
    cert = parseCertificate(certPem);
  } catch {
    return false;
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  const validFromMs = Date.parse(cert.validFrom);
  const validToMs = Date.parse(cert.validTo);
  return validFromMs <= now.getTime() && now.getTime() <= validToMs;
}

/**
 * The public key a certificate binds (for Ed25519Verifier.setKey).
 * @throws PkiError CERTIFICATE_MALFORMED.
 */
export function publicKeyOf(certPem: string): KeyObject {
  return parseCertificate(certPem).publicKey;
}

