/**
 * The BFT wallet: a deterministic ReplicatedService (accounts, deposits by the issuer,
 * signed transfers, a paged ledger) and the client-side helpers that speak to it.
 */
export { WalletService, type WalletServiceOptions } from './wallet-service.ts';
export { AMOUNT_MAX, BALANCE_MAX, parseAmount } from './amount.ts';
export { WALLET_ERROR_CODES, isWalletErrorCode, type WalletError, type WalletErrorCode } from './errors.ts';
export { ACCOUNT_ID_PATTERN, PAGE_LIMIT_MAX, REQUEST_BYTES_MAX, isAccountId } from './limits.ts';
export {
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  SIGNING_DOMAIN,
  depositSigningMessage,
  registerSigningMessage,
  transferSigningMessage,
} from './signing.ts';
export {
  accountLedgerOperation,
  decodeResult,
  depositOperation,
  encodeOperation,
  getAccountOperation,
  ledgerOperation,
  publicKeyText,
  registerOperation,
  transferOperation,
  type Ed25519KeyPair,
} from './client-ops.ts';
export * from './operations.ts';
