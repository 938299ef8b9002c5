/** A correct client of the AppendService: appends numbered payloads and reads the length. */
import type { AppendChecker } from '../checkers/append.ts';
import type { Prng } from '../prng.ts';
import type { PlannedOperation, Workload } from './workload.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class AppendWorkload implements Workload {
  private count = 0;

  constructor(
    private readonly clientId: number,
    private readonly readP: number,
    private readonly rng: Prng,
    private readonly checker: AppendChecker,
  ) {}

  next(): PlannedOperation {
    if (this.count > 0 && this.rng.chance(this.readP)) return { payload: enc.encode('read'), ordered: false, label: 'read length' };
    const text = `c${this.clientId}-${++this.count}-${this.rng.u32().toString(36)}`;
    return { payload: enc.encode(text), ordered: true, label: `append ${text}` };
  }

  onAccepted(op: PlannedOperation, result: Uint8Array, ordered: boolean, atMs: number, issuedMs: number): void {
    const length = Number(dec.decode(result));
    if (!Number.isSafeInteger(length)) return;
    if (op.label === 'read length') this.checker.onRead(length, `client ${this.clientId}${ordered ? '' : ' (unordered)'}`, issuedMs, atMs);
    else if (ordered && length > 0) this.checker.onAcknowledged(length, op.payload, `client ${this.clientId}`, atMs);
  }
}
