/**
 * A correct wallet client: registers its own account, then deposits into it (signed by
 * the issuer), transfers to the other clients' accounts (amounts sometimes above its
 * balance, so some transfers fail with INSUFFICIENT_FUNDS) and reads accounts
 * unordered. Nonces only grow, so a retransmitted or re-ordered operation never
 * succeeds twice. Every acknowledged ledger entry goes to the wallet checker.
 */
import type { KeyObject } from 'node:crypto';
import {
  decodeResult,
  depositOperation,
  encodeOperation,
  getAccountOperation,
  registerOperation,
  transferOperation,
  type Ed25519KeyPair,
  type LedgerEntry,
} from '../../wallet/index.ts';
import type { WalletChecker } from '../checkers/wallet.ts';
import type { Prng } from '../prng.ts';
import type { PlannedOperation, Workload } from './workload.ts';

export const walletAccountId = (clientId: number): string => `acct-${clientId}`;

export interface WalletWorkloadOptions {
  readonly clientId: number;
  readonly keyPair: Ed25519KeyPair;
  readonly issuerPrivateKey: KeyObject;
  /** Client ids of every correct client (transfer targets). */
  readonly peers: readonly number[];
  readonly readP: number;
}

export class WalletWorkload implements Workload {
  private registered = false;
  private depositNonce = 0;
  private transferNonce = 0;

  constructor(
    private readonly options: WalletWorkloadOptions,
    private readonly rng: Prng,
    private readonly checker: WalletChecker,
  ) {}

  next(): PlannedOperation {
    const o = this.options;
    const me = walletAccountId(o.clientId);
    if (!this.registered) {
      this.registered = true;
      return this.op(registerOperation(me, o.keyPair), true, `register ${me}`);
    }
    const roll = this.rng.next();
    if (roll < o.readP) {
      const who = walletAccountId(this.rng.pick(o.peers));
      return this.op(getAccountOperation(who), false, `getAccount ${who}`);
    }
    const others = o.peers.filter((p) => p !== o.clientId);
    if (roll < o.readP + 0.3 || others.length === 0) {
      const amount = BigInt(this.rng.int(1, 1000));
      return this.op(depositOperation(me, amount, ++this.depositNonce, o.issuerPrivateKey), true, `deposit ${me} ${amount}`);
    }
    const to = walletAccountId(this.rng.pick(others));
    const amount = BigInt(this.rng.int(1, 600));
    return this.op(transferOperation(me, to, amount, ++this.transferNonce, o.keyPair.privateKey), true, `transfer ${me}->${to} ${amount}`);
  }

  onAccepted(op: PlannedOperation, result: Uint8Array, ordered: boolean, atMs: number): void {
    if (!ordered) return;
    let decoded;
    try {
      decoded = decodeResult<{ entry?: LedgerEntry }>(result);
    } catch {
      return; // not a wallet reply: the reply checker judges whether a correct replica sent it
    }
    if (decoded.ok && decoded.value.entry) this.checker.onAcknowledged(decoded.value.entry, `client ${this.options.clientId} (${op.label})`, atMs);
  }

  private op(operation: Parameters<typeof encodeOperation>[0], ordered: boolean, label: string): PlannedOperation {
    return { payload: encodeOperation(operation), ordered, label };
  }
}
