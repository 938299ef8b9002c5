/**
 * Handlers of the state-changing operations: register, deposit, transfer.
 *
 * Each runs the checks that need the state, in this order, then applies the change:
 * 1. public facts (self transfer, account exists / is known) — cheap, and reveal nothing
 *    that getAccount does not;
 * 2. the signature (BAD_SIGNATURE) — before anything about the signer's private state;
 * 3. the signer's state: nonce (REPLAYED_REQUEST), funds (INSUFFICIENT_FUNDS), then the
 *    credited balance (BALANCE_OVERFLOW).
 * A failed check changes nothing.
 */
import { ed25519PublicKeyFromRaw } from '../crypto/ed25519.ts';
import { BALANCE_MAX } from './amount.ts';
import { walletError } from './errors.ts';
import type { DepositValue, RegisterValue, TransferValue } from './operations.ts';
import type { ParsedDeposit, ParsedRegister, ParsedTransfer } from './parse-request.ts';
import { failure, success, type Outcome } from './results.ts';
import { depositSigningMessage, registerSigningMessage, transferSigningMessage, verifySignature } from './signing.ts';
import type { EntryPosition, WalletState } from './state.ts';

/**
 * Creates an account owned by the request's key.
 * Errors: ACCOUNT_EXISTS, INVALID_PUBLIC_KEY (bytes not an Ed25519 key), BAD_SIGNATURE.
 */
export function onRegister(state: WalletState, request: ParsedRegister, position: EntryPosition): Outcome<RegisterValue> {
  if (state.account(request.accountId) !== undefined) {
    return failure(walletError('ACCOUNT_EXISTS', `account ${request.accountId} already exists`, 'accountId'));
  }
  try {
    ed25519PublicKeyFromRaw(request.publicKeyRaw); // rejects what is not an Ed25519 key encoding
  } catch {
    return failure(walletError('INVALID_PUBLIC_KEY', 'publicKey is not an Ed25519 public key', 'publicKey'));
  }
  const signed = registerSigningMessage(request.accountId, request.publicKey);
  if (!verifySignature(request.publicKeyRaw, signed, request.signature)) {
    return failure(walletError('BAD_SIGNATURE', 'signature does not verify under publicKey', 'signature'));
  }
  return success({ entry: state.register(request.accountId, request.publicKeyRaw, position) });
}

/**
 * Credits an account; authorised by the issuer's signature.
 * Errors: UNKNOWN_ACCOUNT, BAD_SIGNATURE, REPLAYED_REQUEST, BALANCE_OVERFLOW.
 */
export function onDeposit(state: WalletState, issuerKey: Uint8Array, request: ParsedDeposit, position: EntryPosition): Outcome<DepositValue> {
  const account = state.account(request.accountId);
  if (account === undefined) return failure(unknownAccount(request.accountId, 'accountId'));
  const signed = depositSigningMessage(request.accountId, request.amount, request.nonce);
  if (!verifySignature(issuerKey, signed, request.signature)) {
    return failure(walletError('BAD_SIGNATURE', 'signature does not verify under the issuer key', 'signature'));
  }
  if (request.nonce <= account.lastDepositNonce) {
    return failure(walletError('REPLAYED_REQUEST', `nonce must be greater than ${account.lastDepositNonce}, the last deposit nonce of ${account.accountId}`, 'nonce'));
  }
  if (account.balance + request.amount > BALANCE_MAX) {
    return failure(walletError('BALANCE_OVERFLOW', `the balance of ${account.accountId} would exceed ${BALANCE_MAX}`, 'amount'));
  }
  const entry = state.deposit(request.accountId, request.amount, request.nonce, position);
  return success({ entry, balance: account.balance.toString() });
}

/**
 * Moves funds; authorised by the payer's signature.
 * Errors: SELF_TRANSFER, UNKNOWN_ACCOUNT (from, then to), BAD_SIGNATURE, REPLAYED_REQUEST,
 * INSUFFICIENT_FUNDS, BALANCE_OVERFLOW.
 */
export function onTransfer(state: WalletState, request: ParsedTransfer, position: EntryPosition): Outcome<TransferValue> {
  if (request.from === request.to) return failure(walletError('SELF_TRANSFER', 'from and to must be different accounts', 'to'));
  const payer = state.account(request.from);
  if (payer === undefined) return failure(unknownAccount(request.from, 'from'));
  const payee = state.account(request.to);
  if (payee === undefined) return failure(unknownAccount(request.to, 'to'));
  const signed = transferSigningMessage(request.from, request.to, request.amount, request.nonce);
  if (!verifySignature(payer.publicKeyRaw, signed, request.signature)) {
    return failure(walletError('BAD_SIGNATURE', `signature does not verify under the key of ${payer.accountId}`, 'signature'));
  }
  if (request.nonce <= payer.lastTransferNonce) {
    return failure(walletError('REPLAYED_REQUEST', `nonce must be greater than ${payer.lastTransferNonce}, the last transfer nonce of ${payer.accountId}`, 'nonce'));
  }
  if (request.amount > payer.balance) {
    return failure(walletError('INSUFFICIENT_FUNDS', `the balance of ${payer.accountId} is ${payer.balance}, below ${request.amount}`, 'amount'));
  }
  if (payee.balance + request.amount > BALANCE_MAX) {
    return failure(walletError('BALANCE_OVERFLOW', `the balance of ${payee.accountId} would exceed ${BALANCE_MAX}`, 'amount'));
  }
  const entry = state.transfer(request.from, request.to, request.amount, request.nonce, position);
  return success({ entry, balance: payer.balance.toString() });
}

function unknownAccount(accountId: string, field: string) {
  return walletError('UNKNOWN_ACCOUNT', `account ${accountId} does not exist`, field);
}
