/**
 * The simulator's own parts, as specifications: one seed gives one run, the network
 * and disks fail the way the configuration says, and the checkers catch what they
 * claim to catch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Prng } from '../../src/sim/prng.ts';
import { EventQueue } from '../../src/sim/event-queue.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { SimDisk } from '../../src/sim/disk.ts';
import { CALM_NETWORK, calmConfig } from '../../src/sim/scenario.ts';
import { simulate } from '../../src/sim/simulator.ts';
import { runSeed } from '../../src/sim/run.ts';
import { generateConfig } from '../../src/sim/generate.ts';
import { Violations } from '../../src/sim/checkers/violations.ts';
import { AgreementChecker } from '../../src/sim/checkers/agreement.ts';
import { ExecutionChecker } from '../../src/sim/checkers/execution.ts';
import { LivenessChecker } from '../../src/sim/checkers/liveness.ts';
import { WalletChecker } from '../../src/sim/checkers/wallet.ts';
import { AppendChecker } from '../../src/sim/checkers/append.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { encodeMessage } from '../../src/core/codec.ts';
import { MessageType, type Request } from '../../src/core/messages.ts';

const enc = new TextEncoder();

describe('one seed, one run', () => {
  it('a PRNG stream is a function of its seed, and forks do not disturb each other', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    assert.deepEqual([a.u32(), a.u32(), a.int(1, 6)], [b.u32(), b.u32(), b.int(1, 6)]);
    assert.notEqual(new Prng(42).u32(), new Prng(43).u32());
    // Forking by label does not consume the parent, and equal labels give equal streams.
    const parent = new Prng(7);
    const x = parent.fork('network').u32();
    assert.equal(parent.fork('network').u32(), x);
    assert.notEqual(parent.fork('clients').u32(), x);
    assert.equal(parent.u32(), new Prng(7).u32());
  });

  it('the configuration is drawn from the seed alone', () => {
    assert.deepEqual(generateConfig(1234), generateConfig(1234));
    assert.notDeepEqual(generateConfig(1234), generateConfig(1235));
  });

  it('replaying a seed reproduces the run exactly (trace and figures)', async () => {
    const first = await runSeed(11, {}, { trace: 'messages' });
    const again = await runSeed(11, {}, { trace: 'messages' });
    assert.ok(first.trace.lines.length > 100);
    assert.equal(again.trace.format(), first.trace.format());
    assert.deepEqual({ ...again.stats, verifications: null }, { ...first.stats, verifications: null });
  });

  it('events run in time order, ties in the order they were scheduled', () => {
    const q = new EventQueue();
    const order: string[] = [];
    q.schedule(5, () => order.push('b'));
    q.schedule(1, () => order.push('a'));
    q.schedule(5, () => order.push('c'));
    q.schedule(9, () => order.push('d')).cancelled = true;
    for (let e = q.pop(); e; e = q.pop()) if (!e.cancelled) e.run();
    assert.deepEqual(order, ['a', 'b', 'c']);
  });
});

describe('simulated network and disk', () => {
  it('a split partition cuts every link across groups, an asymmetric one only the listed direction', () => {
    const net = new SimNetwork(CALM_NETWORK, new Prng(1));
    net.partition({ kind: 'split', groups: [[0, 1], [2, 3]] }, [0, 1, 2, 3]);
    assert.ok(net.isCut(0, 2) && net.isCut(2, 0) && net.isCut(1, 3));
    assert.ok(!net.isCut(0, 1) && !net.isCut(2, 3));
    net.heal();
    net.partition({ kind: 'links', cut: [[0, 1]] }, [0, 1, 2, 3]);
    assert.ok(net.isCut(0, 1));
    assert.ok(!net.isCut(1, 0), 'the other direction still works');
    assert.deepEqual(net.replicaLink(0, 1, () => {}), []);
    assert.equal(net.replicaLink(1, 0, () => {}).length, 1);
  });

  it("in 'queue' mode a cut message waits for the heal instead of being lost", () => {
    const net = new SimNetwork(CALM_NETWORK, new Prng(1), 'queue');
    net.partition({ kind: 'split', groups: [[0], [1]] }, [0, 1]);
    let resent = 0;
    assert.deepEqual(net.replicaLink(0, 1, () => resent++), []);
    net.heal();
    assert.equal(resent, 1);
  });

  it('loss and duplication follow the profile', () => {
    const lossy = new SimNetwork({ ...CALM_NETWORK, lossP: 1 }, new Prng(1));
    assert.deepEqual(lossy.replicaLink(0, 1, () => {}), []);
    const doubled = new SimNetwork({ ...CALM_NETWORK, duplicateP: 1 }, new Prng(1));
    assert.equal(doubled.replicaLink(0, 1, () => {}).length, 2);
    const targeted = new SimNetwork({ ...CALM_NETWORK, targetedLoss: { type: MessageType.ACCEPT, p: 1 } }, new Prng(1));
    assert.deepEqual(targeted.replicaLink(0, 1, () => {}, MessageType.ACCEPT), []);
    assert.equal(targeted.replicaLink(0, 1, () => {}, MessageType.WRITE).length, 1);
  });

  it('a crash loses the writes that were not yet durable; a stable checkpoint truncates the log', () => {
    const disk = new SimDisk();
    const decision = (cid: number) => ({ kind: 'decision' as const, decision: { cid, regency: 0, value: new Uint8Array([cid]), accepts: [] } });
    const votes = (cid: number) => ({ kind: 'votes' as const, votes: { cid, regency: 0, written: null, accepted: false, writeCertificate: null } });
    // A decision alone need not be durable before speaking: kept back, its outputs leave now.
    assert.equal(disk.write([decision(0)], 0, 5), 0);
    // The next record that must be durable carries it.
    assert.equal(disk.write([votes(1)], 1, 5), 6);
    disk.write([decision(1)], 7, 5);
    disk.write([votes(2)], 8, 5); // durable at 13, with decision 1
    disk.crash(10);
    assert.deepEqual(disk.recoveredState().decisions.map((d) => d.cid), [0]);
    assert.equal(disk.recoveredState().votes?.cid, 1);
    disk.write([decision(1)], 15, 1);
    disk.crash(20); // never followed by a record that must be durable: lost
    assert.deepEqual(disk.recoveredState().decisions.map((d) => d.cid), [0]);
    disk.write([decision(1), { kind: 'regency', regency: 3 }], 20, 1);
    disk.write([{ kind: 'checkpoint', cid: 0, digest: new Uint8Array(32), bytes: new Uint8Array(1) }, { kind: 'stable-checkpoint', cid: 0 }], 30, 1);
    disk.sync(100);
    const r = disk.recoveredState();
    assert.equal(r.regency, 3);
    assert.equal(r.checkpoint?.cid, 0);
    assert.deepEqual(r.decisions.map((d) => d.cid), [1]);
  });
});

describe('checkers catch what they claim', () => {
  it('agreement: two correct replicas deciding different digests for one instance', () => {
    const v = new Violations();
    const c = new AgreementChecker(v);
    c.onDecided(0, 0, 'aa', 1);
    c.onDecided(1, 0, 'aa', 2);
    assert.equal(v.count, 0);
    c.onDecided(2, 0, 'bb', 3);
    assert.equal(v.list[0]?.checker, 'agreement');
  });

  it('total order: a replica skipping an instance', () => {
    const v = new Violations();
    const c = new AgreementChecker(v);
    c.onDecided(0, 0, 'aa', 1);
    c.onDecided(0, 2, 'cc', 2);
    assert.equal(v.list[0]?.checker, 'total-order');
  });

  it('validity and exactly-once: an invented request, and one executed twice', () => {
    const v = new Violations();
    const c = new ExecutionChecker(v, sha256);
    const sent: Request = { type: MessageType.REQUEST, clientId: 100, session: 1, seq: 1, ordered: true, payload: enc.encode('x') };
    c.onIssued(encodeMessage(sent));
    c.onExecuted(0, 0, { timestampMs: 1, requests: [sent] }, 1);
    assert.equal(v.count, 0);
    c.onExecuted(0, 1, { timestampMs: 2, requests: [sent] }, 2);
    assert.equal(v.list[0]?.checker, 'exactly-once');
    c.onExecuted(1, 0, { timestampMs: 1, requests: [{ ...sent, payload: enc.encode('forged') }] }, 3);
    assert.ok(v.list.some((x) => x.checker === 'validity'));
  });

  it('liveness: an operation still pending past the bound after the heal', () => {
    const v = new Violations();
    const c = new LivenessChecker(v, 1000);
    const done = c.issued(100, 1, 'op', 0);
    done.completedMs = 1500;
    c.issued(100, 2, 'op', 1200);
    c.finish(1000, 2100);
    assert.equal(v.count, 0, 'within the bound so far');
    c.finish(1000, 2300);
    assert.equal(v.list[0]?.checker, 'liveness');
  });

  it('append: a read issued after an acknowledged append that does not see it', () => {
    const v = new Violations();
    const c = new AppendChecker(v, true);
    c.onAcknowledged(1, enc.encode('a'), 'client 1', 100);
    c.onAcknowledged(2, enc.encode('b'), 'client 2', 200);
    c.onRead(1, 'client 3', 150, 400); // issued before length 2 was acknowledged
    c.onRead(2, 'client 3', 250, 400);
    assert.equal(v.count, 0);
    c.onRead(1, 'client 4', 250, 400);
    assert.equal(v.list[0]?.checker, 'stale-read');
    assert.match(v.list[0]!.message, /length 1, issued after length 2 was acknowledged to client 2/);
    const off = new Violations();
    const unchecked = new AppendChecker(off, false);
    unchecked.onAcknowledged(2, enc.encode('b'), 'client 2', 200);
    unchecked.onRead(0, 'client 4', 250, 400);
    assert.equal(off.count, 0, 'reads are not checked when a replica counts against f');
  });

  it('wallet: an acknowledged entry missing from every correct ledger', () => {
    const v = new Violations();
    const c = new WalletChecker(v);
    c.onAcknowledged({ type: 'register', index: 0, accountId: 'a', publicKey: 'k', cid: 0, timestampMs: 1 }, 'client 100', 1);
    const emptyLedger = new Uint8Array([...enc.encode('BWLT'), 1, 0, 0, 0, 0]);
    c.finish(new Map([[0, emptyLedger]]), 2);
    assert.equal(v.list[0]?.checker, 'wallet');
  });
});

describe('a calm cluster', () => {
  for (const n of [4, 7, 10]) {
    it(`n=${n}: every operation completes and every checker is satisfied`, async () => {
      const r = await simulate(calmConfig({ n, clients: { correct: 2, safetyOps: 3, livenessOps: 2 } }));
      assert.deepEqual(r.violations, []);
      assert.equal(r.stats.operationsCompleted, 10);
      assert.equal(r.stats.highestRegency, 0);
    });
  }
});
