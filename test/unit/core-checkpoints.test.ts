import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, decode } from '../../src/sim/local-cluster.ts';
import { encodeMessage } from '../../src/core/codec.ts';
import { MessageType } from '../../src/core/messages.ts';
import { toHex } from '../../src/core/bytes.ts';
import { mustPersistBeforeSpeaking } from '../../src/core/ready.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { AppendService } from '../../src/sim/append-service.ts';

const enc = new TextEncoder();
let seqs = new Map<number, number>();
function send(c: LocalCluster, clientId: number, n: number, to?: number[]): void {
  for (let i = 0; i < n; i++) {
    const seq = (seqs.get(clientId) ?? 0) + 1;
    seqs.set(clientId, seq);
    c.clientSend({ clientId, session: 1, seq, ordered: true, payload: enc.encode(`op-${clientId}-${seq}`) }, to);
    c.run();
  }
}
/**
 * Decides instances 0 and 1, then crashes every replica, losing its decision record of
 * instance 1: a host defers decision records (mustPersistBeforeSpeaking), while the votes
 * behind them stay durable. @returns instance 1's value and the history before, as hex.
 */
function crashAllLosingLastDecision(c: LocalCluster): { decided: string; history: string[] } {
  send(c, 1, 2);
  assert.deepEqual(c.lastDecidedCids(), [1, 1, 1, 1]);
  const decided = toHex(c.replicas[0]!.decided.get(1)!.value);
  const history = (c.services[0] as AppendService).history.map((h) => toHex(h));
  for (const id of [0, 1, 2, 3]) {
    c.crash(id);
    c.disks[id] = c.disks[id]!.filter((r) => r.kind !== 'decision' || r.decision.cid !== 1);
    c.restart(id);
  }
  assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
  return { decided, history };
}
const digestOf = (c: LocalCluster, id: number) => toHex(sha256(c.services[id]!.snapshot()));
const small = { checkpointPeriod: 4, decisionsKept: 6, requestTimeoutMs: 500, catchUpIntervalMs: 100, stateTransferTimeoutMs: 300 };

describe('checkpoints', () => {
  it('become stable on a quorum of matching digests and truncate the log', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 10);
    for (const r of c.replicas) {
      assert.equal(r.lastDecidedCid, 9);
      assert.equal(r.stableCheckpointCid, 7);
      assert.ok([...r.decided.keys()].every((cid) => cid > 7), 'decisions up to the stable checkpoint are dropped');
    }
    const digests = c.replicas.map((r) => toHex(r.stableCheckpoint!.digest));
    assert.equal(new Set(digests).size, 1);
    const records = c.disks[0]!.filter((r) => r.kind === 'stable-checkpoint');
    assert.deepEqual(records.map((r) => (r as { cid: number }).cid), [3, 7]);
  });
});

describe('state transfer', () => {
  it('brings a replica that missed more than the others keep up to date', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    c.filter = (e) => (e.to === 3 || e.from === 3 ? null : e);
    send(c, 1, 30, [0, 1, 2]);
    assert.equal(c.replicas[3]!.lastDecidedCid, -1);
    c.filter = (e) => e;
    send(c, 1, 2);
    c.advance(3000);
    const transferred = c.events.filter((e) => e.replica === 3 && e.event.type === 'state-transferred');
    assert.equal(transferred.length, 1, 'replica 3 installed a checkpoint');
    assert.deepEqual(c.lastDecidedCids(), [31, 31, 31, 31]);
    assert.equal(digestOf(c, 3), digestOf(c, 0));
    // and it keeps working normally afterwards
    send(c, 2, 3);
    assert.deepEqual(c.lastDecidedCids(), [34, 34, 34, 34]);
    assert.equal(digestOf(c, 3), digestOf(c, 0));
  });

  it('rejects a corrupt checkpoint from a Byzantine replica and completes from a correct one', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    c.filter = (e) => (e.to === 3 || e.from === 3 ? null : e);
    send(c, 1, 30, [0, 1, 2]);
    // The first replica the fetcher asks for chunks is Byzantine: it serves a corrupted checkpoint.
    let liar: number | undefined;
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (m.type === MessageType.STATE_CHUNK_REQUEST && e.from === 3) liar ??= e.to;
      if (m.type === MessageType.STATE_CHUNK && e.from === liar) {
        const bytes = m.bytes.slice();
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
        return { ...e, bytes: encodeMessage({ ...m, bytes }) };
      }
      return e;
    };
    send(c, 1, 2);
    c.advance(5000);
    assert.notEqual(liar, undefined);
    const rejected = c.events.filter((e) => e.replica === 3 && e.event.type === 'state-transfer-rejected').map((e) => e.event as { source: number; reason: string });
    const transferred = c.events.filter((e) => e.replica === 3 && e.event.type === 'state-transferred').map((e) => e.event as { source: number });
    assert.ok(rejected.length >= 1 && rejected.every((r) => r.source === liar), 'the liar was detected and reported');
    assert.match(rejected[0]!.reason, /does not match the digest/);
    assert.equal(transferred.length, 1);
    assert.notEqual(transferred[0]!.source, liar);
    assert.deepEqual(c.lastDecidedCids(), [31, 31, 31, 31]);
    assert.equal(digestOf(c, 3), digestOf(c, 1));
  });
});

describe('recovery from durable state', () => {
  it('a restarted replica resumes from its checkpoint and log with the same state', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 9);
    c.crash(2);
    const before = digestOf(c, 2);
    c.restart(2);
    assert.equal(c.replicas[2]!.lastDecidedCid, 8);
    assert.equal(digestOf(c, 2), before);
    send(c, 1, 5);
    assert.deepEqual(c.lastDecidedCids(), [13, 13, 13, 13]);
    assert.equal(digestOf(c, 2), digestOf(c, 0));
  });

  it('all replicas crash and restart: every executed request is still there', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 11);
    const history = (c.services[0] as AppendService).history.length;
    for (const id of [0, 1, 2, 3]) c.crash(id);
    for (const id of [0, 1, 2, 3]) c.restart(id);
    assert.equal((c.services[1] as AppendService).history.length, history);
    // Every restarted replica sits out the regency it recovered (the restart fence): the
    // new requests are ordered after a leader change, in one batch or several.
    send(c, 1, 3);
    c.advance(3000);
    for (const id of [0, 1, 2, 3]) assert.equal((c.services[id] as AppendService).history.length, history + 3, `replica ${id}`);
    assert.ok(c.replicas.every((r) => r.regency === 1 && r.lastDecidedCid === c.replicas[0]!.lastDecidedCid));
    const digests = new Set([0, 1, 2, 3].map((id) => digestOf(c, id)));
    assert.equal(digests.size, 1);
  });

  it('all replicas crash and lose their last decision (not yet durable): the same value is decided again', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    const { decided, history } = crashAllLosingLastDecision(c);
    // The resent ACCEPTs are lost here, so the next request times out in the regency the
    // replicas voted in; the leader change finds instance 1's write certificate and
    // proposes that value again.
    c.filter = (e) => {
      const m = decode(e.bytes);
      return m.type === MessageType.ACCEPT && m.regency === 0 ? null : e;
    };
    send(c, 1, 1);
    c.advance(3000);
    assert.deepEqual(c.lastDecidedCids(), [2, 2, 2, 2]);
    assert.ok(c.replicas.every((r) => r.regency >= 1), 'decided again through a leader change');
    for (const r of c.replicas) assert.equal(toHex(r.decided.get(1)!.value), decided);
    assert.deepEqual((c.services[2] as AppendService).history.slice(0, history.length).map((h) => toHex(h)), history);
    assert.equal((c.services[2] as AppendService).history.length, history.length + 1);
  });

  it('all replicas crash and lose their last decision: their resent ACCEPTs decide it again, with no traffic and no leader change', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    const { decided, history } = crashAllLosingLastDecision(c);
    c.run(); // only what the restarts sent: no request, no timeout
    assert.deepEqual(c.lastDecidedCids(), [1, 1, 1, 1]);
    for (const r of c.replicas) {
      assert.equal(toHex(r.decided.get(1)!.value), decided);
      assert.equal(r.regency, 0);
    }
    assert.deepEqual((c.services[3] as AppendService).history.map((h) => toHex(h)), history);
  });

  it('a replica whose checkpoint ends with the lost instance shows its decision, and the others catch up with no traffic', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 3); // instances 0..2 everywhere
    // Instance 3 (it ends a checkpoint period) is decided by 0, 1 and 2 only: 3 hears nothing.
    c.filter = (e) => (e.to === 3 ? null : e);
    send(c, 1, 1);
    c.filter = (e) => e;
    assert.deepEqual(c.lastDecidedCids(), [3, 3, 3, 2]);
    // Every replica crashes. 0 had written its checkpoint at 3, and with it (same batch)
    // its deferred decision of 3. 1 and 2 crashed before that batch: they keep only their
    // ACCEPT for 3, two of the three a quorum needs. 3 never voted in it.
    for (const id of [0, 1, 2, 3]) c.crash(id);
    for (const id of [1, 2]) {
      c.disks[id] = c.disks[id]!.filter((r) => {
        if (r.kind === 'decision') return r.decision.cid !== 3;
        if (r.kind === 'checkpoint' || r.kind === 'stable-checkpoint') return r.cid !== 3;
        return true;
      });
    }
    c.disks[0] = c.disks[0]!.filter((r) => r.kind !== 'stable-checkpoint' || r.cid !== 3); // 0 alone had it: not stable
    for (const id of [0, 1, 2, 3]) c.restart(id);
    assert.deepEqual(c.lastDecidedCids(), [3, 2, 2, 2]);
    // Unordered reads right after the restart: 1 and 2 hold theirs (their state may lack an
    // acknowledged instance), 0 and 3 answer at once (3 never accepted anything in 3).
    c.clientSend({ clientId: 9, session: 1, seq: 1, ordered: false, payload: enc.encode('read') });
    const read = () => (c.replies.get(9) ?? []).map((r) => [r.replicaId, new TextDecoder().decode(r.result)]);
    assert.deepEqual(read(), [[0, '4'], [3, '3']]);
    c.advance(1000); // ticks and catch-up only: no request is pending anywhere
    assert.deepEqual(c.lastDecidedCids(), [3, 3, 3, 3]);
    assert.ok(c.replicas.every((r) => r.regency === 0), 'no leader change');
    for (const id of [1, 2, 3]) assert.equal(toHex(sha256(c.services[id]!.snapshot())), toHex(sha256(c.services[0]!.snapshot())));
    assert.deepEqual(read().slice(2).sort(), [[1, '4'], [2, '4']], 'the held reads are answered once the instance is decided');
  });

  it('a restarted replica does not vote differently in the same regency', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    // Replica 1 WRITEs instance 0, then crashes before anything is decided.
    c.filter = (e) => (decode(e.bytes).type === MessageType.ACCEPT ? null : e);
    send(c, 1, 1);
    const wrote = c.replicas[1]!.instance.round.proposalDigest;
    assert.ok(wrote);
    c.crash(1);
    c.restart(1);
    assert.equal(c.replicas[1]!.instance.round.proposalDigest, wrote);
    assert.equal(c.replicas[1]!.instance.round.writeSent, true);
    assert.equal(c.replicas[1]!.instance.round.acceptSent, true);
    assert.ok(c.replicas[1]!.instance.writeCertificate, 'its write certificate survived');
  });
});

describe('deferred WRITE records and the restart fence', () => {
  it('a first start makes its first WRITE record durable before speaking; later ones may wait, ACCEPT records never', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 3);
    for (const [id, disk] of c.disks.entries()) {
      const votes = disk.filter((r) => r.kind === 'votes');
      const writes = votes.filter((r) => !r.votes.accepted);
      const accepts = votes.filter((r) => r.votes.accepted);
      assert.equal(writes.length, 3, `replica ${id}: one WRITE record per instance`);
      // Nothing durable yet on a first start: a crash would look like a first start, unfenced.
      assert.equal(mustPersistBeforeSpeaking(writes[0]!), true, `replica ${id}: first WRITE record`);
      for (const r of writes.slice(1)) assert.equal(mustPersistBeforeSpeaking(r), false, `replica ${id}: WRITE record of instance ${r.votes.cid}`);
      for (const r of accepts) assert.equal(mustPersistBeforeSpeaking(r), true, `replica ${id}: ACCEPT record of instance ${r.votes.cid}`);
    }
  });

  it('a replica that lost its WRITE record sits out the regency it restarted in, and votes again in the next', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 1);
    // Instance 1: replica 1 WRITEs but hears no WRITE or ACCEPT, so its WRITE record is its last.
    const votes = new Set<number>([MessageType.WRITE, MessageType.ACCEPT]);
    const votesTo1 = (e: { to: number; bytes: Uint8Array }) => e.to === 1 && votes.has(decode(e.bytes).type);
    c.filter = (e) => (votesTo1(e) ? null : e);
    send(c, 1, 1);
    assert.deepEqual(c.lastDecidedCids(), [1, 0, 1, 1]);
    const last = c.disks[1]!.at(-1)!;
    assert.ok(last.kind === 'votes' && last.votes.cid === 1 && !last.votes.accepted && !mustPersistBeforeSpeaking(last));
    c.crash(1);
    c.disks[1] = c.disks[1]!.filter(mustPersistBeforeSpeaking); // the crash loses what was kept back
    c.restart(1);
    assert.equal(c.replicas[1]!.fencedRegency, 0);
    const writesFrom1: number[] = []; // the regency of each WRITE replica 1 sends
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (e.from === 1 && m.type === MessageType.WRITE) writesFrom1.push(m.regency);
      return e;
    };
    c.advance(200); // catch-up to the others
    send(c, 1, 2);
    assert.deepEqual(c.lastDecidedCids(), [3, 3, 3, 3], 'it follows the decisions of the others');
    assert.deepEqual(writesFrom1, [], 'no WRITE in the regency it restarted in');
    // Without the leader the others need replica 1's votes: after the leader change it WRITEs again.
    c.crash(0);
    send(c, 1, 1, [1, 2, 3]);
    c.advance(3000);
    assert.deepEqual(c.lastDecidedCids().slice(1), [4, 4, 4]);
    assert.ok(writesFrom1.length > 0 && writesFrom1.every((r) => r >= 1), `WRITEs from replica 1 in regencies ${writesFrom1.join(', ')}`);
  });
});

describe('a clean stop', () => {
  it('a leader restarted after a clean stop is not fenced and keeps proposing; after a crash it would be', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    send(c, 1, 2);
    c.crash(0);
    c.restart(0, false, true);
    assert.equal(c.replicas[0]!.fencedRegency, -1);
    send(c, 1, 1);
    assert.deepEqual(c.lastDecidedCids(), [2, 2, 2, 2], 'decided at once, in regency 0');
    assert.ok(c.replicas.every((r) => r.regency === 0));
    c.crash(0);
    c.restart(0);
    assert.equal(c.replicas[0]!.fencedRegency, 0);
    send(c, 1, 1);
    assert.deepEqual(c.lastDecidedCids(), [2, 2, 2, 2], 'a fenced leader proposes nothing');
    c.advance(3000);
    assert.deepEqual(c.lastDecidedCids(), [3, 3, 3, 3], 'ordered after the leader change');
    assert.ok(c.replicas.every((r) => r.regency === 1));
  });
});

describe('recovery and a quiet cluster', () => {
  it('a replica that restarts behind the others catches up without new traffic', () => {
    seqs = new Map();
    const c = new LocalCluster({ n: 4, replica: small });
    c.filter = (e) => (e.to === 2 && decode(e.bytes).type === MessageType.ACCEPT ? null : e);
    send(c, 1, 1);
    c.filter = (e) => e;
    assert.deepEqual(c.lastDecidedCids(), [0, 0, -1, 0]);
    c.crash(2);
    c.restart(2);
    c.advance(500);
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
  });
});
