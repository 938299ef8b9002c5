/**
 * Taking checkpoints and making them stable (PBFT §4.3). After executing instance
 * cid = k * checkpointPeriod - 1, a replica encodes its state canonically, persists it,
 * and broadcasts a signed CHECKPOINT report. A Byzantine quorum of reports with our
 * digest makes the checkpoint stable: the decided log up to it is truncated. A quorum
 * with a different digest means our own state diverged: we fetch theirs.
 */
import { toHex, bytesEqual } from './bytes.ts';
import { checkpointSigningMessage, encodeCheckpoint, makeReport } from './checkpoint.ts';
import type { Checkpoint } from './messages.ts';
import type { Replica } from './replica.ts';
import { noteOffer, requestState } from './state-transfer.ts';

/** True when instance `cid` ends a checkpoint period. */
export function isCheckpointCid(replica: Replica, cid: number): boolean {
  return (cid + 1) % replica.options.checkpointPeriod === 0;
}

/** Encodes, persists and reports the state right after executing `cid`. */
export function takeCheckpoint(replica: Replica, cid: number): void {
  const bytes = encodeCheckpoint({ cid, lastTimestampMs: replica.lastTimestampMs, sessions: replica.sessions.records(), serviceSnapshot: replica.deps.service.snapshot() });
  const digest = replica.deps.hash(bytes);
  const signature = replica.deps.signer.sign(checkpointSigningMessage(cid, digest, bytes.length));
  const report = makeReport(replica.id, cid, digest, bytes.length, signature);
  replica.checkpoints.set(cid, { cid, digest, bytes, report });
  replica.persist({ kind: 'checkpoint', cid, digest, bytes });
  replica.emit({ type: 'checkpoint-taken', cid, digestHex: toHex(digest) });
  replica.broadcast(report);
}

/** CHECKPOINT: record a signed report; decide stability or divergence; note it as a state-transfer offer. */
export function onCheckpoint(replica: Replica, m: Checkpoint): void {
  const from = `replica ${m.from}`;
  if (!isCheckpointCid(replica, m.cid)) return replica.drop(from, `CHECKPOINT for instance ${m.cid}, which ends no checkpoint period`);
  if (m.cid <= replica.stableCheckpointCid) return; // old news
  if (m.from !== replica.id && !verifyReport(replica, m)) return;
  noteOffer(replica, m);
  // Reports are kept only near our position: far-ahead ones matter only as offers.
  if (m.cid > replica.lastDecidedCid + 2 * replica.options.checkpointPeriod) return;
  let reports = replica.checkpointReports.get(m.cid);
  if (!reports) replica.checkpointReports.set(m.cid, (reports = new Map()));
  if (reports.has(m.from)) return replica.drop(from, `duplicate CHECKPOINT for instance ${m.cid}`);
  reports.set(m.from, m);
  checkStability(replica, m.cid);
}

function verifyReport(replica: Replica, m: Checkpoint): boolean {
  if (replica.deps.verifier.verify(m.from, checkpointSigningMessage(m.cid, m.digest, m.byteLength), m.signature)) return true;
  replica.drop(`replica ${m.from}`, `bad CHECKPOINT signature for instance ${m.cid}`);
  return false;
}

/** A quorum of matching reports: stable if it is our digest, divergence otherwise. */
export function checkStability(replica: Replica, cid: number): void {
  const reports = replica.checkpointReports.get(cid);
  if (!reports) return;
  const counts = new Map<string, number>();
  for (const r of reports.values()) counts.set(toHex(r.digest), (counts.get(toHex(r.digest)) ?? 0) + 1);
  for (const [digestHex, n] of counts) {
    if (n < replica.quorum) continue;
    const mine = replica.checkpoints.get(cid);
    if (!mine) return; // we have not executed that far yet; re-checked when we take it
    if (!bytesEqual(mine.digest, hexToBytes(digestHex))) {
      replica.emit({ type: 'state-divergence', cid, ours: toHex(mine.digest), quorum: digestHex });
      requestState(replica, cid, `our checkpoint ${cid} differs from a quorum's`);
      return;
    }
    markStable(replica, cid);
    return;
  }
}

/** Makes our checkpoint at `cid` the stable one; forgets older checkpoints, reports and decisions. */
export function markStable(replica: Replica, cid: number): void {
  const mine = replica.checkpoints.get(cid);
  if (!mine || cid <= replica.stableCheckpointCid) return;
  replica.stableCheckpoint = mine;
  for (const c of [...replica.checkpoints.keys()]) if (c < cid) replica.checkpoints.delete(c);
  for (const c of [...replica.checkpointReports.keys()]) if (c <= cid) replica.checkpointReports.delete(c);
  for (const c of [...replica.decided.keys()]) if (c <= cid) replica.decided.delete(c);
  replica.persist({ kind: 'stable-checkpoint', cid });
  replica.emit({ type: 'checkpoint-stable', cid, digestHex: toHex(mine.digest) });
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
