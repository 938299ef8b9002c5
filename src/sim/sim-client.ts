/**
 * A correct simulated client: the real ServiceProxy (send to all, retransmit, vote on
 * f+1 signed replies, unordered reads with fallback) on the simulated clock and
 * network, driven by a workload. It issues up to `safetyOps` operations during the
 * safety phase, then `livenessOps` more once the network has healed; every operation
 * is recorded for the liveness checker and every accepted result for the others.
 */
import { BftError } from '../client/errors.ts';
import type { ServiceProxy } from '../client/service-proxy.ts';
import type { LivenessChecker } from './checkers/liveness.ts';
import type { ReplyChecker } from './checkers/replies.ts';
import { requestKey, type ExecutionChecker } from './checkers/execution.ts';
import type { Prng } from './prng.ts';
import type { Workload } from './workload/workload.ts';

/** What a client needs from the simulator. */
export interface ClientHost {
  readonly nowMs: number;
  readonly phase: 'safety' | 'liveness' | 'over';
  sleep(ms: number): Promise<void>;
  /** Resolves when the liveness phase starts (at once if it has). */
  untilLiveness(): Promise<void>;
  note(text: string): void;
}

export interface ClientCheckers {
  readonly liveness: LivenessChecker;
  readonly replies: ReplyChecker;
  readonly execution: ExecutionChecker;
}

export class SimClient {
  done = false;
  opsCompleted = 0;

  constructor(
    readonly clientId: number,
    private readonly proxy: ServiceProxy,
    private readonly workload: Workload,
    private readonly plan: { safetyOps: number; livenessOps: number; thinkMsMax: number },
    private readonly host: ClientHost,
    private readonly checkers: ClientCheckers,
    private readonly rng: Prng,
  ) {}

  /** Runs the client until its plan is done or the proxy closes. */
  async run(): Promise<void> {
    try {
      await this.host.sleep(this.rng.float(0, this.plan.thinkMsMax));
      let safetyOps = 0;
      let livenessOps = 0;
      for (let index = 1; ; index++) {
        if (this.host.phase === 'over') return;
        if (this.host.phase === 'safety' && safetyOps >= this.plan.safetyOps) await this.host.untilLiveness();
        const inLiveness = this.host.phase === 'liveness';
        if (inLiveness && livenessOps >= this.plan.livenessOps) break;
        if (!(await this.invoke(index))) return;
        if (inLiveness) livenessOps++;
        else safetyOps++;
        await this.host.sleep(this.rng.float(0, this.plan.thinkMsMax));
      }
      this.done = true;
      this.host.note(`client ${this.clientId} finished its operations`);
    } finally {
      this.done = true;
    }
  }

  /** One operation. @returns false if the proxy closed under it. */
  private async invoke(index: number): Promise<boolean> {
    const op = this.workload.next();
    const record = this.checkers.liveness.issued(this.clientId, index, op.label, this.host.nowMs);
    this.host.note(`client ${this.clientId} #${index} issues ${op.label}${op.ordered ? '' : ' (unordered)'}`);
    try {
      const outcome = op.ordered ? await this.proxy.invokeOrdered(op.payload) : await this.proxy.invokeUnordered(op.payload);
      record.completedMs = this.host.nowMs;
      this.opsCompleted++;
      const e = outcome.evidence;
      if (e.ordered) {
        const key = requestKey(e);
        this.checkers.replies.onAccepted(key, outcome.result, this.host.nowMs);
        this.checkers.execution.checkAcknowledged(key, this.host.nowMs);
      }
      this.workload.onAccepted(op, outcome.result, e.ordered, this.host.nowMs, record.issuedMs);
      this.host.note(`client ${this.clientId} #${index} done in ${(this.host.nowMs - record.issuedMs).toFixed(0)} ms (seq ${e.seq}${e.ordered ? '' : ', unordered'}): ${preview(outcome.result)}`);
      return true;
    } catch (err) {
      if (err instanceof BftError && err.code === 'BFT_CLOSED') return false;
      this.host.note(`client ${this.clientId} #${index} failed: ${err instanceof Error ? err.message : String(err)}`);
      return true;
    }
  }
}

const dec = new TextDecoder();
function preview(result: Uint8Array): string {
  const text = dec.decode(result.subarray(0, 90));
  return result.length > 90 ? `${text}…` : text;
}
