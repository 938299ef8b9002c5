/**
 * Watches a run for the checkers: every replica's Ready (events, durable records,
 * replies) goes through `observe`, restarts and core failures are reported here, and
 * `finish` runs the end-of-run checks. Only correct replicas are held to the
 * properties; faulty ones are only traced.
 */
import { sha256 } from '../crypto/ed25519.ts';
import { decodeBatch, decodeMessage } from '../core/codec.ts';
import { MessageType } from '../core/messages.ts';
import type { Ready } from '../core/ready.ts';
import type { AppendService } from './append-service.ts';
import { AccusationChecker } from './checkers/accusations.ts';
import { AgreementChecker } from './checkers/agreement.ts';
import { AppendChecker } from './checkers/append.ts';
import { ExecutionChecker } from './checkers/execution.ts';
import { LivenessChecker } from './checkers/liveness.ts';
import { ReplyChecker } from './checkers/replies.ts';
import { StateChecker } from './checkers/state.ts';
import { Violations } from './checkers/violations.ts';
import { WalletChecker } from './checkers/wallet.ts';
import type { SimConfig } from './config.ts';
import type { SimReplicaNode } from './replica-node.ts';
import type { Trace } from './trace.ts';

export class RunObserver {
  readonly violations = new Violations();
  readonly agreement = new AgreementChecker(this.violations);
  readonly execution = new ExecutionChecker(this.violations, sha256);
  readonly replies = new ReplyChecker(this.violations, sha256);
  readonly wallet = new WalletChecker(this.violations);
  readonly append: AppendChecker;
  readonly state: StateChecker;
  readonly liveness: LivenessChecker;
  private readonly accusations: AccusationChecker;
  highestRegency = 0;

  constructor(
    private readonly config: SimConfig,
    private readonly trace: Trace,
    isFaulty: (replica: number) => boolean,
  ) {
    // Reads are checked only when no replica counts against f (a Byzantine or amnesiac one
    // may complete a stale quorum by design): see AppendChecker.
    this.append = new AppendChecker(this.violations, config.faulty.length === 0);
    this.state = new StateChecker(this.violations, sha256, config.stateCheckPeriod);
    this.liveness = new LivenessChecker(this.violations, config.livenessBoundMs);
    this.accusations = new AccusationChecker(this.violations, (id) => !isFaulty(id));
  }

  /** One step's outputs of `node` (before any Byzantine rewrite). */
  observe(node: SimReplicaNode, ready: Ready, nowMs: number): void {
    const correct = !node.spec.faulty;
    for (const e of ready.events) {
      switch (e.type) {
        case 'decided':
          if (correct) {
            this.agreement.onDecided(node.id, e.cid, e.digestHex, nowMs);
            if (this.state.isCheckedCid(e.cid) && e.cid === node.replica.lastDecidedCid) this.state.onSnapshot(node.id, e.cid, node.service.snapshot(), nowMs);
          }
          this.note(nowMs, `${node.name} decided cid=${e.cid} reg=${e.regency} reqs=${e.requests} #${e.digestHex.slice(0, 8)}`);
          break;
        case 'dropped':
          if (correct) this.accusations.onDropped(node.id, e.from, e.reason, nowMs);
          if (this.trace.messages) this.trace.add(nowMs, `${node.name} dropped from ${e.from}: ${e.reason}`);
          break;
        case 'regency-installed':
          if (e.regency > this.highestRegency) this.highestRegency = e.regency;
          this.note(nowMs, `${node.name} installed regency ${e.regency} (leader r${e.leader})`);
          break;
        default:
          this.observeOther(node, correct, e as { type: string; cid?: number; digestHex?: string }, nowMs);
      }
    }
    if (!correct) return;
    for (const p of ready.persist) {
      if (p.kind !== 'decision') continue;
      const b = decodeBatch(p.decision.value);
      if (b.ok) this.execution.onExecuted(node.id, p.decision.cid, b.message, nowMs);
    }
    for (const r of ready.replies) {
      const d = decodeMessage(r.bytes);
      if (d.ok && d.message.type === MessageType.REPLY) this.replies.onCorrectReply(d.message, nowMs);
    }
  }

  private observeOther(node: SimReplicaNode, correct: boolean, e: { type: string; cid?: number; digestHex?: string }, nowMs: number): void {
    if (correct && e.type === 'state-transferred' && e.cid !== undefined) {
      this.agreement.onStateTransferred(node.id, e.cid);
      this.execution.onStateTransferred(node.id);
    }
    if (correct && e.type === 'checkpoint-taken' && e.cid !== undefined && e.digestHex !== undefined) this.state.onCheckpoint(node.id, e.cid, e.digestHex, nowMs);
    if (correct && e.type === 'state-divergence' && e.cid !== undefined) this.state.onDivergence(node.id, e.cid, nowMs);
    if (e.type !== 'checkpoint-taken') this.note(nowMs, `${node.name} ${e.type} ${JSON.stringify({ ...e, type: undefined })}`);
  }

  /** A correct replica restarted from its disk: it continues after what it recovered. */
  onRecovered(node: SimReplicaNode): void {
    if (node.spec.faulty) return;
    const last = node.replica.lastDecidedCid;
    this.agreement.onRecovered(node.id, last);
    this.execution.onRecovered(node.id, last);
  }

  /** A replica's core threw: a bug (or, over f, a detected safety loss) if the replica is correct. */
  onCoreThrew(node: SimReplicaNode, message: string, nowMs: number): void {
    this.note(nowMs, `${node.name} STOPPED: the core threw: ${message}`);
    if (!node.spec.faulty) this.violations.report('core-threw', nowMs, `correct replica ${node.name} threw: ${message}`);
  }

  /**
   * The end-of-run checks over the final states of the correct replicas.
   * @param stalled the run ended early because the correct replicas went silent for good.
   */
  finish(nodes: readonly SimReplicaNode[], healMs: number, endMs: number, stalled: boolean): void {
    if (this.config.mode === 'safe') this.liveness.finish(healMs, endMs, diagnosis(nodes), stalled);
    this.replies.finish(endMs);
    const correct = nodes.filter((n) => !n.spec.faulty && n.halted === null);
    if (this.config.service === 'wallet') this.wallet.finish(new Map(correct.map((n) => [n.id, n.service.snapshot()])), endMs);
    else this.append.finish(new Map(correct.map((n) => [n.id, (n.service as AppendService).history])), endMs);
    for (const v of this.violations.list) this.note(endMs, `VIOLATION [${v.checker}] at ${(v.atMs / 1000).toFixed(3)}s: ${v.message}`);
  }

  private note(nowMs: number, text: string): void {
    if (this.trace.events) this.trace.add(nowMs, text);
  }
}

/** Where each correct replica stands: instance, regency, whether it waits for a SYNC or for STOPs. */
export function diagnosis(nodes: readonly SimReplicaNode[]): string {
  return nodes
    .filter((n) => !n.spec.faulty)
    .map((n) => {
      const r = n.replica;
      const state = !n.alive ? ' down' : n.halted !== null ? ' halted' : r.synchronizing ? ' synchronizing' : '';
      const waiting = r.stopSentRegency > r.regency ? ` waits for STOP ${r.stopSentRegency}` : '';
      return `${n.name}: cid ${r.instance.cid} regency ${r.regency}${state}${waiting}`;
    })
    .join('; ');
}
