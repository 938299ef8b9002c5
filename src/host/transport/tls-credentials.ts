/** What both ends of a mutual-TLS connection present: own certificate and key, and the CA (and CRL) to check the peer. */
import type { ConnectionOptions, TlsOptions } from 'node:tls';

export interface TlsCredentials {
  /** This process's certificate, PEM, issued by the cluster CA. */
  readonly certPem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** The cluster CA certificate, PEM: the only trust anchor. */
  readonly caPem: string;
  /** Optional CRL, PEM labelled `X509 CRL` (node:tls accepts no other label). */
  readonly crlPem?: string;
}

/** TLS 1.3 only; the cluster CA is the sole trust anchor (no system roots). */
export function secureOptions(credentials: TlsCredentials): TlsOptions & ConnectionOptions {
  return {
    cert: credentials.certPem,
    key: credentials.keyPem,
    ca: credentials.caPem,
    ...(credentials.crlPem !== undefined ? { crl: credentials.crlPem } : {}),
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  };
}
