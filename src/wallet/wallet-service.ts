/**
 * The wallet as a ReplicatedService: the same code runs on every replica behind BFT
 * consensus, so it is deterministic — no I/O, no clock (entries take the batch's
 * `context.timestampMs`), no randomness, and reply/snapshot bytes never depend on
 * Map or object-key iteration order.
 */
import type { ExecutionContext, ReplicatedService, UnorderedContext } from '../core/service.ts';
import { ed25519PublicKeyFromRaw } from '../crypto/ed25519.ts';
import { walletError } from './errors.ts';
import { onDeposit, onRegister, onTransfer } from './ordered-handlers.ts';
import { parseRequest, type ParsedOrderedRequest, type ParsedReadRequest, type ParsedRequest } from './parse-request.ts';
import { onAccountLedger, onGetAccount, onLedger } from './queries.ts';
import { encodeError, encodeOutcome, type Outcome } from './results.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { WalletState, type EntryPosition } from './state.ts';

export interface WalletServiceOptions {
  /** Raw 32-byte Ed25519 public key of the cluster's issuer: the only key that authorises deposits. */
  readonly issuerPublicKey: Uint8Array;
}

export class WalletService implements ReplicatedService {
  private readonly issuerKey: Uint8Array;
  private state = new WalletState();

  /** @throws Error if `issuerPublicKey` is not a 32-byte Ed25519 key (a configuration error). */
  constructor(options: WalletServiceOptions) {
    ed25519PublicKeyFromRaw(options.issuerPublicKey); // throws if it is not an Ed25519 key
    this.issuerKey = Uint8Array.from(options.issuerPublicKey);
  }

  /**
   * Executes one decided request: register, deposit, transfer, or a read the client
   * library chose to order (answered from the state as of this position in the order).
   * @throws Error only if `context` is malformed (cid or timestampMs not a non-negative
   *   safe integer): that is a bug of the library, not client input.
   */
  executeOrdered(request: Uint8Array, context: ExecutionContext): Uint8Array {
    assertPosition(context);
    const parsed = parseRequest(request);
    if (!parsed.ok) return encodeError(parsed.error);
    const r = parsed.request;
    return encodeOutcome(isOrdered(r) ? this.executeChange(r, context) : this.executeRead(r));
  }

  /** Answers a read without ordering it; a state-changing operation is refused (UNKNOWN_OPERATION). */
  executeUnordered(request: Uint8Array, _context: UnorderedContext): Uint8Array {
    const parsed = parseRequest(request);
    if (!parsed.ok) return encodeError(parsed.error);
    const r = parsed.request;
    if (isOrdered(r)) return encodeError(walletError('UNKNOWN_OPERATION', `${r.op} changes state and must be sent ordered`, 'op'));
    return encodeOutcome(this.executeRead(r));
  }

  /** Canonical snapshot bytes (the ledger; see snapshot.ts). */
  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  /**
   * Replaces the whole state with a snapshot's. All or nothing: on malformed bytes the
   * current state is kept and an Error("malformed wallet snapshot: …") is thrown.
   */
  restore(snapshot: Uint8Array): void {
    this.state = decodeSnapshot(snapshot);
  }

  private executeChange(request: ParsedOrderedRequest, position: EntryPosition): Outcome<unknown> {
    switch (request.op) {
      case 'register':
        return onRegister(this.state, request, position);
      case 'deposit':
        return onDeposit(this.state, this.issuerKey, request, position);
      case 'transfer':
        return onTransfer(this.state, request, position);
    }
  }

  private executeRead(request: ParsedReadRequest): Outcome<unknown> {
    switch (request.op) {
      case 'getAccount':
        return onGetAccount(this.state, request);
      case 'accountLedger':
        return onAccountLedger(this.state, request);
      case 'ledger':
        return onLedger(this.state, request);
    }
  }
}

function isOrdered(request: ParsedRequest): request is ParsedOrderedRequest {
  return request.op === 'register' || request.op === 'deposit' || request.op === 'transfer';
}

function assertPosition(context: ExecutionContext): void {
  for (const [name, value] of [['cid', context.cid], ['timestampMs', context.timestampMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`wallet: execution context ${name} ${value} is not a non-negative safe integer`);
  }
}
