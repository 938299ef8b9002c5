/**
 * Errors of the PKI layer. Each carries a stable `code` so callers (CLI, gateway, host)
 * can map it without parsing messages; the message says exactly what was wrong.
 */
export type PkiErrorCode =
  | 'PRINCIPAL_INVALID' // a role/id pair outside the allowed range
  | 'COMMON_NAME_MALFORMED' // a certificate whose subject CN is not replica-<id> / client-<id>
  | 'CERTIFICATE_MALFORMED' // PEM/DER that does not parse as an X.509 certificate
  | 'CSR_MALFORMED' // PEM that does not parse as a PKCS#10 request
  | 'CSR_SIGNATURE_INVALID' // the request is not signed by the key it carries
  | 'CSR_SUBJECT_MISMATCH' // the request asks for another principal than the one being issued
  | 'KEY_TYPE_UNSUPPORTED' // a key that is not Ed25519
  | 'KEY_MISMATCH' // a private key that does not belong to the certificate next to it
  | 'PKI_FILES_INCONSISTENT'; // a PKI directory with some files but not their partners

export class PkiError extends Error {
  readonly code: PkiErrorCode;
  constructor(code: PkiErrorCode, message: string) {
    super(message);
    this.name = 'PkiError';
    this.code = code;
  }
}
