/**
 * The cluster PKI: CA, CSRs, certificates, principals, and the on-disk cluster layout.
 * Import from here; the files behind it each do one job.
 */
export { PkiError, type PkiErrorCode } from './pki-error.ts';
export { assertPrincipal, commonNameOf, parseCommonName, principalKey, principalOf, samePrincipal, PRINCIPAL_ID_LIMIT, type Principal, type Role } from './principal.ts';
export { createCsr, type Csr, type CsrRequest } from './csr.ts';
export { createCertificateAuthority, issueCertificate, publicKeyOf, verifyIssuedBy, type CertificateAuthority, type CertificateAuthorityOptions, type IssueOptions } from './authority.ts';
export { createClusterPki, loadIdentity, type ClusterPki, type ClusterPkiOptions, type Identity, type IdentityFiles } from './cluster-pki.ts';
export type { KeyObjectPair } from './keys.ts';
