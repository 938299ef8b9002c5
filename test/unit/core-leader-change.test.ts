/**
 * Leader change details found by the simulator (docs/simulator-bugs.md §7, §9): the STOP
 * echo that lets laggards reach a regency whose SYNC never came, and STOPDATA from a
 * replica whose position comes from a checkpoint rather than a decision proof.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, decode, type Envelope } from '../../src/sim/local-cluster.ts';
import { encodeMessage, stopDataSignedBytes } from '../../src/core/codec.ts';
import { MessageType, type StopData, type WriteCertificate } from '../../src/core/messages.ts';
import { checkStopData, chooseSyncValue } from '../../src/core/certificates.ts';

const enc = new TextEncoder();
const req = (seq: number) => ({ clientId: 1, session: 1, seq, ordered: true, payload: enc.encode(`op-${seq}`) });

/** A cluster where replicas 1 and 2 installed regency 1 (leader 1) but got no SYNC, and replica 3 hears nothing. */
function splitAtRegencyOne(): { c: LocalCluster; toThree: Envelope[] } {
  const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
  const toThree: Envelope[] = [];
  c.crash(0);
  // Replica 3 hears nothing; replica 1 (the new leader) gets no STOPDATA from 2, so no SYNC.
  c.filter = (e) => {
    if (e.to === 3) {
      toThree.push(e);
      return null;
    }
    return e.to === 1 && decode(e.bytes).type === MessageType.STOPDATA ? null : e;
  };
  c.clientSend(req(1), [1, 2, 3]);
  c.advance(700);
  assert.deepEqual([c.replicas[1]!.regency, c.replicas[2]!.regency, c.replicas[3]!.regency], [1, 1, 0]);
  assert.equal(c.replicas[2]!.lastSync, null);
  toThree.length = 0;
  return { c, toThree };
}

const stopsTo3 = (sent: Envelope[], from: number) => sent.filter((e) => e.from === from && decode(e.bytes).type === MessageType.STOP).map((e) => (decode(e.bytes) as { regency: number }).regency);

describe('leader change: STOP echo', () => {
  it('a replica past the regency a laggard asks for, with no SYNC to hand over, echoes its STOP once per timeout', () => {
    const { c, toThree } = splitAtRegencyOne();
    const stop1 = encodeMessage({ type: MessageType.STOP, from: 3, regency: 1 });
    c.inject(3, 2, stop1);
    c.inject(3, 2, stop1); // a retransmission right away: no second echo (two replicas past it would ping-pong)
    c.run();
    assert.deepEqual(stopsTo3(toThree, 2), [1]);
    c.advance(600, 600); // one request timeout later, a lost echo is replaced
    c.inject(3, 2, stop1);
    c.run();
    assert.deepEqual(stopsTo3(toThree, 2).filter((r) => r === 1), [1, 1]); // (it also asked for regency 2 meanwhile)
  });

  it('the echoes give the laggard its quorum: it installs the regency the others are in', () => {
    const { c } = splitAtRegencyOne();
    c.filter = (e) => (e.to === 1 && decode(e.bytes).type === MessageType.STOPDATA ? null : e);
    c.inject(1, 3, encodeMessage({ type: MessageType.STOP, from: 1, regency: 1 })); // what replica 3 missed
    c.run();
    // Replica 3 now has STOP(1) from 1 and from itself; its own re-sent STOP to 2 brings 2's echo.
    c.inject(3, 2, encodeMessage({ type: MessageType.STOP, from: 3, regency: 1 }));
    c.run();
    assert.equal(c.replicas[3]!.regency, 1);
  });
});

describe('leader change: help for laggards is rate-limited per sender', () => {
  // Simulator seed 3583 (docs/simulator-bugs.md §11): a Byzantine replica replaying its old
  // STOPs of alternating regencies got an echo for each and replayed again per echo, a storm.
  it('replayed STOPs of alternating past regencies get one echo per regency, not one each', () => {
    const { c, toThree } = splitAtRegencyOne();
    for (const regency of [0, 1, 0, 1, 0, 1]) c.inject(3, 2, encodeMessage({ type: MessageType.STOP, from: 3, regency }));
    c.run();
    assert.deepEqual(stopsTo3(toThree, 2), [0, 1]);
  });

  it('replayed STOPs for a regency whose SYNC we hold get the SYNC forwarded once per timeout', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
    c.crash(0);
    c.clientSend(req(1), [1, 2, 3]);
    c.advance(1500);
    assert.equal(c.replicas[2]!.lastSync?.regency, 1);
    const forwarded: Envelope[] = [];
    c.filter = (e) => (e.from === 2 && e.to === 3 && decode(e.bytes).type === MessageType.SYNC_FORWARD ? (forwarded.push(e), null) : e);
    for (let i = 0; i < 5; i++) c.inject(3, 2, encodeMessage({ type: MessageType.STOP, from: 3, regency: 1 }));
    c.run();
    assert.equal(forwarded.length, 1);
    c.advance(600, 600);
    c.inject(3, 2, encodeMessage({ type: MessageType.STOP, from: 3, regency: 1 }));
    c.run();
    assert.equal(forwarded.length, 2, 'a request timeout later, a lost SYNC_FORWARD is replaced');
  });
});

describe('leader change: STOPDATA after a checkpoint install', () => {
  it('a write certificate past the last proven decision is valid and sets the SYNC instance', () => {
    // Instance 0 is decided; instance 1 gets a real write certificate, its ACCEPTs are lost.
    const c = new LocalCluster({ n: 4 });
    c.clientSend(req(1));
    c.run();
    c.filter = (e) => (decode(e.bytes).type === MessageType.ACCEPT ? null : e);
    c.clientSend(req(2));
    c.run();
    const r2 = c.replicas[2]!;
    const cert = r2.instance.writeCertificate as WriteCertificate;
    assert.equal(cert.cid, 1);
    const ctx = { view: c.view, verifier: r2.deps.verifier, hash: r2.deps.hash };
    const signed = (from: number, writeCertificate: WriteCertificate | null): StopData => {
      const unsigned = { from, regency: 1, lastDecided: null, writeCertificate };
      return { type: MessageType.STOPDATA, ...unsigned, signature: c.replicas[from]!.deps.signer.sign(stopDataSignedBytes(unsigned)) };
    };
    // What replica 2 would send had it installed checkpoint 0 instead of deciding 0: no proof of 0.
    const withCert = signed(2, cert);
    assert.equal(checkStopData(ctx, withCert), null);
    const choice = chooseSyncValue([signed(0, null), signed(1, null), withCert]);
    assert.equal(choice.cid, 1, 'the certificate shows instance 0 decided');
    assert.deepEqual(choice.bound, cert.value, 'and binds its value for instance 1');
  });
});
