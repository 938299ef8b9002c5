/**
 * A correct replica must never have a reason to accuse another correct replica: when
 * one drops a correct peer's message as equivocating, conflicting, badly signed or
 * invalid, either the sender or the receiver is wrong — a bug either way. Ordinary
 * drops (late, duplicate, out of window) are not accusations.
 */
import type { Violations } from './violations.ts';

const ACCUSING = [
  /leader equivocated/,
  /conflicting (WRITE|ACCEPT)/,
  /bad .*signature/,
  /invalid PROPOSE/,
  /invalid SYNC/,
  /invalid proof/,
  /malformed/,
  /claims sender/,
  /not the leader/,
  /does not lead/,
  /a value other than the one decided here/,
  /PROPOSE: /,
  /STOPDATA from \d+: /,
];

export class AccusationChecker {
  constructor(
    private readonly violations: Violations,
    private readonly isCorrect: (replica: number) => boolean,
  ) {}

  /** Replica `at` dropped an input from `from` ("replica 3", "client 7") for `reason`. */
  onDropped(at: number, from: string, reason: string, atMs: number): void {
    const m = /^replica (\d+)$/.exec(from);
    if (!m || !this.isCorrect(Number(m[1])) || !this.isCorrect(at)) return;
    if (ACCUSING.some((re) => re.test(reason))) this.violations.report('accusation', atMs, `correct replica ${at} dropped a message from correct ${from}: ${reason}`);
  }
}
