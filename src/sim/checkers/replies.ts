/**
 * Results of ordered requests: every correct replica computes the same result for a
 * request (deterministic execution of the same order), and the result a correct client
 * accepted (f+1 matching, signed replies) is that result — a lie by up to f replicas
 * must never be accepted.
 */
import { toHex } from '../../core/bytes.ts';
import type { Reply } from '../../core/messages.ts';
import type { Hasher } from '../../crypto/signature.ts';
import { requestKey } from './execution.ts';
import type { Violations } from './violations.ts';

export class ReplyChecker {
  /** Result digest (hex) per request, from the first correct replica that replied. */
  private readonly results = new Map<string, { digestHex: string; replica: number }>();
  /** Results clients accepted before any correct replica's was seen (checked later). */
  private readonly acceptedEarly = new Map<string, string>();

  constructor(
    private readonly violations: Violations,
    private readonly hash: Hasher,
  ) {}

  /** A correct replica produced this ordered reply. */
  onCorrectReply(reply: Reply, atMs: number): void {
    if (!reply.ordered) return;
    const key = requestKey(reply);
    const digestHex = toHex(this.hash(reply.result));
    const first = this.results.get(key);
    if (!first) {
      this.results.set(key, { digestHex, replica: reply.replicaId });
      const early = this.acceptedEarly.get(key);
      if (early !== undefined && early !== digestHex) this.violations.report('client-result', atMs, `client accepted a result for ${key} that no correct replica computed`);
      this.acceptedEarly.delete(key);
      return;
    }
    if (first.digestHex !== digestHex) this.violations.report('client-result', atMs, `request ${key}: correct replicas ${first.replica} and ${reply.replicaId} computed different results`);
  }

  /** A correct client accepted `result` for an ordered request. */
  onAccepted(key: string, result: Uint8Array, atMs: number): void {
    const digestHex = toHex(this.hash(result));
    const correct = this.results.get(key);
    if (!correct) {
      this.acceptedEarly.set(key, digestHex);
      return;
    }
    if (correct.digestHex !== digestHex) this.violations.report('client-result', atMs, `client accepted for ${key} a result other than the correct replicas' (#${digestHex.slice(0, 8)} vs #${correct.digestHex.slice(0, 8)})`);
  }

  /** At the end: results accepted that no correct replica ever computed. */
  finish(atMs: number): void {
    for (const key of this.acceptedEarly.keys()) this.violations.report('client-result', atMs, `client accepted a result for ${key} that no correct replica computed`);
  }
}
