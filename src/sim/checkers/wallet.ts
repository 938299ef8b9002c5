/**
 * The wallet's invariants on every correct replica at the end of a run:
 * - the snapshot decodes (its replay re-checks: no overdraft, no negative or overflowing
 *   balance, increasing nonces, registered accounts only);
 * - the sum of balances equals the sum of deposits;
 * - every entry acknowledged to a correct client (register, deposit, transfer) is in the
 *   ledger of every correct replica that got that far, identical, and at least one has it.
 */
import type { LedgerEntry } from '../../wallet/operations.ts';
import { decodeSnapshot } from '../../wallet/snapshot.ts';
import type { WalletState } from '../../wallet/state.ts';
import type { Violations } from './violations.ts';

/** The fields that identify a ledger entry (canonical text, for comparison). */
export function entryText(e: LedgerEntry): string {
  switch (e.type) {
    case 'register':
      return `${e.index}:register:${e.accountId}:${e.publicKey}:${e.cid}:${e.timestampMs}`;
    case 'deposit':
      return `${e.index}:deposit:${e.accountId}:${e.amount}:${e.nonce}:${e.cid}:${e.timestampMs}`;
    case 'transfer':
      return `${e.index}:transfer:${e.from}:${e.to}:${e.amount}:${e.nonce}:${e.cid}:${e.timestampMs}`;
  }
}

export class WalletChecker {
  /** Entries acknowledged to correct clients, by ledger index. */
  private readonly acknowledged = new Map<number, { text: string; by: string }>();

  constructor(private readonly violations: Violations) {}

  /** A correct client got `entry` back in an accepted (f+1) reply. */
  onAcknowledged(entry: LedgerEntry, by: string, atMs: number): void {
    const text = entryText(entry);
    const previous = this.acknowledged.get(entry.index);
    if (previous && previous.text !== text) this.violations.report('wallet', atMs, `ledger entry ${entry.index} acknowledged as "${previous.text}" to ${previous.by} and as "${text}" to ${by}`);
    this.acknowledged.set(entry.index, { text, by });
  }

  /** Checks the final states of the correct replicas (replica id -> snapshot bytes). */
  finish(snapshots: ReadonlyMap<number, Uint8Array>, atMs: number): void {
    const states = new Map<number, WalletState>();
    for (const [replica, bytes] of snapshots) {
      try {
        const state = decodeSnapshot(bytes);
        states.set(replica, state);
        this.checkBalances(replica, state, atMs);
      } catch (e) {
        this.violations.report('wallet', atMs, `replica ${replica}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const [index, ack] of this.acknowledged) {
      let holders = 0;
      for (const [replica, state] of states) {
        const e = state.entryAt(index);
        if (!e) continue;
        holders++;
        if (entryText(e) !== ack.text) this.violations.report('wallet', atMs, `replica ${replica}'s ledger entry ${index} is "${entryText(e)}", but "${ack.text}" was acknowledged to ${ack.by}`);
      }
      if (holders === 0 && states.size > 0) this.violations.report('wallet', atMs, `ledger entry ${index} acknowledged to ${ack.by} is in no correct replica's ledger`);
    }
  }

  private checkBalances(replica: number, state: WalletState, atMs: number): void {
    let deposits = 0n;
    let balances = 0n;
    for (let i = 0; i < state.ledgerLength; i++) {
      const e = state.entryAt(i)!;
      if (e.type === 'deposit') deposits += BigInt(e.amount);
      if (e.type !== 'register') continue;
      const account = state.account(e.accountId);
      if (!account) continue;
      if (account.balance < 0n) this.violations.report('wallet', atMs, `replica ${replica}: account ${e.accountId} has a negative balance ${account.balance}`);
      balances += account.balance;
    }
    if (balances !== deposits || deposits !== state.totalDeposited) {
      this.violations.report('wallet', atMs, `replica ${replica}: balances sum to ${balances}, deposits to ${deposits} (state says ${state.totalDeposited})`);
    }
  }
}
