/**
 * Certificate signing requests: a replica or client proves it holds a key and asks the CA
 * (later, a registration authority) to bind it to its principal.
 */
import { generateKeyPairSync } from 'node:crypto';
import { assertEd25519, ED25519, privateKeyPem, toCryptoKeyPair, type KeyObjectPair } from './keys.ts';
import { commonNameOf, type Role } from './principal.ts';
import { x509 } from './x509-provider.ts';

export interface CsrRequest {
  readonly role: Role;
  /** Non-negative integer below 2^31. */
  readonly id: number;
  /** An existing Ed25519 key pair (e.g. `generateEd25519()`); a fresh one is generated when absent. */
  readonly keyPair?: KeyObjectPair;
}

export interface Csr {
  /** PKCS#10 request, PEM, subject `CN=<role>-<id>`, signed by the requester's key. */
  readonly csrPem: string;
  /** The requester's Ed25519 private key, PKCS#8 PEM. Stays with the requester. */
  readonly keyPem: string;
}

/**
 * Creates a PKCS#10 request for `<role>-<id>`.
 * @throws PkiError PRINCIPAL_INVALID for a bad role/id; KEY_TYPE_UNSUPPORTED when `keyPair` is not Ed25519.
 */
export async function createCsr(request: CsrRequest): Promise<Csr> {
  const commonName = commonNameOf(request);
  const pair = request.keyPair ?? generateKeyPairSync('ed25519');
  assertEd25519(pair.privateKey, `${commonName} private key`);
  assertEd25519(pair.publicKey, `${commonName} public key`);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys: await toCryptoKeyPair(pair),
    signingAlgorithm: ED25519,
  });
  return { csrPem: csr.toString('pem'), keyPem: privateKeyPem(pair.privateKey) };
}
