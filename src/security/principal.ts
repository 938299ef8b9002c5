/**
 * Principals: who is at the other end of a connection. A principal's identity is its
 * certificate's subject common name, `replica-<id>` or `client-<id>`, issued by the cluster CA.
 */
import { X509Certificate } from 'node:crypto';
import { PkiError } from './pki-error.ts';

export type Role = 'replica' | 'client';

/** A replica or a client; `id` is a non-negative integer below 2^31 (fits an int32 on the wire). */
export interface Principal {
  readonly role: Role;
  readonly id: number;
}

/** Exclusive upper bound of principal ids: ids are written as signed 32-bit integers in messages. */
export const PRINCIPAL_ID_LIMIT = 2 ** 31;

/** @throws PkiError PRINCIPAL_INVALID when role is not replica/client or id is not an integer in [0, 2^31). */
export function assertPrincipal(principal: Principal): void {
  const { role, id } = principal;
  if (role !== 'replica' && role !== 'client') {
    throw new PkiError('PRINCIPAL_INVALID', `role must be 'replica' or 'client', got ${JSON.stringify(role)}`);
  }
  if (!Number.isInteger(id) || id < 0 || id >= PRINCIPAL_ID_LIMIT) {
    throw new PkiError('PRINCIPAL_INVALID', `${role} id must be an integer in [0, 2^31), got ${String(id)}`);
  }
}

/** `replica-3`, `client-1001`: the subject common name (and the map key) of a principal. */
export function commonNameOf(principal: Principal): string {
  assertPrincipal(principal);
  return `${principal.role}-${principal.id}`;
}

/** Same string as `commonNameOf`, without validation: for map keys of principals already validated. */
export function principalKey(principal: Principal): string {
  return `${principal.role}-${principal.id}`;
}

export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.role === b.role && a.id === b.id;
}

// Decimal without leading zeros, so each principal has exactly one spelling.
const COMMON_NAME = /^(replica|client)-(0|[1-9][0-9]{0,9})$/;

/**
 * Parses `replica-<id>` / `client-<id>`.
 * @throws PkiError COMMON_NAME_MALFORMED for anything else (leading zeros, signs, id >= 2^31, other roles).
 */
export function parseCommonName(commonName: string): Principal {
  const match = COMMON_NAME.exec(commonName);
  if (match === null) {
    throw new PkiError('COMMON_NAME_MALFORMED', `certificate common name ${JSON.stringify(commonName)} is not replica-<id> or client-<id>`);
  }
  const id = Number(match[2]);
  if (id >= PRINCIPAL_ID_LIMIT) {
    throw new PkiError('COMMON_NAME_MALFORMED', `certificate common name ${JSON.stringify(commonName)}: id must be below 2^31`);
  }
  return { role: match[1] as Role, id };
}

/**
 * The principal a certificate names, from its subject CN.
 * @param cert a node:crypto X509Certificate (e.g. from `tlsSocket.getPeerX509Certificate()`) or a PEM string.
 * @throws PkiError CERTIFICATE_MALFORMED when the PEM does not parse; COMMON_NAME_MALFORMED when the subject
 *   has no CN, several CNs, or a CN that is not replica-<id> / client-<id>.
 */
export function principalOf(cert: X509Certificate | string): Principal {
  const x509 = typeof cert === 'string' ? parseCertificate(cert) : cert;
  // node:crypto renders the subject one attribute per line ("O=x\nCN=replica-1"); values with
  // special characters are escaped/quoted, which the strict CN pattern then rejects.
  const commonNames = x509.subject.split('\n').filter((line) => line.startsWith('CN=')).map((line) => line.slice(3));
  if (commonNames.length !== 1) {
    throw new PkiError('COMMON_NAME_MALFORMED', `certificate subject ${JSON.stringify(x509.subject)} must have exactly one CN, has ${commonNames.length}`);
  }
  return parseCommonName(commonNames[0] as string);
}

/** @throws PkiError CERTIFICATE_MALFORMED with the parser's reason. */
export function parseCertificate(certPem: string | Buffer): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (error) {
    throw new PkiError('CERTIFICATE_MALFORMED', `not an X.509 certificate: ${(error as Error).message}`);
  }
}
