import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster, decode, type Envelope } from '../../src/sim/local-cluster.ts';
import { encodeMessage } from '../../src/core/codec.ts';
import { MessageType, type Message, type Vote } from '../../src/core/messages.ts';
import { AppendService } from '../../src/sim/append-service.ts';
import { voteSigningMessage } from '../../src/core/signing.ts';
import { generateKeyPairSync, sign } from 'node:crypto';
import { loneRequestSigningMessage, requestRootSigningMessage, requestSigningMessage } from '../../src/core/signing.ts';
import { merkleLeaf, merkleTree } from '../../src/core/merkle.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { DEFAULT_OPTIONS } from '../../src/core/options.ts';
import { checkDecision, checkWriteCertificate } from '../../src/core/certificates.ts';
import { stopDataClaims } from '../../src/core/proofs.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const req = (clientId: number, seq: number, text = `op-${clientId}-${seq}`) => ({ clientId, session: 1, seq, ordered: true, payload: enc.encode(text) });
const histories = (c: LocalCluster) => c.services.map((s) => (s as AppendService).history.map((h) => dec.decode(h)));

/** The envelope with its vote's signature replaced by bytes its sender never signed (its channel still names the sender). */
const withBadSignature = (e: Envelope, m: Message): Envelope => ({ ...e, bytes: encodeMessage({ ...(m as Vote), signature: new Uint8Array(64).fill(7) }) });

/**
 * Votes of `type` to replica 0: replica 1's arrive with a bad signature and replica 3's are
 * held back (returned, to inject later), so replica 0's first quorum must include replica 1's.
 */
function forgeFrom1HoldFrom3(c: LocalCluster, type: number): Uint8Array[] {
  const held: Uint8Array[] = [];
  c.filter = (e) => {
    if (e.to !== 0 || (e.from !== 1 && e.from !== 3)) return e;
    const m = decode(e.bytes);
    if (m.type !== type) return e;
    if (e.from === 3) return held.push(e.bytes), null;
    return withBadSignature(e, m);
  };
  return held;
}

describe('Mod-SMaRt normal case', () => {
  for (const n of [4, 7, 10]) {
    it(`n=${n}: every replica decides and executes the same requests once, and replies`, () => {
      const c = new LocalCluster({ n });
      for (let seq = 1; seq <= 5; seq++) c.clientSend(req(100, seq));
      c.clientSend(req(101, 1));
      c.run();
      const h = histories(c);
      for (const x of h) assert.deepEqual(x, h[0]);
      assert.equal(h[0]!.length, 6);
      assert.deepEqual(
        h[0]!.filter((s) => s.startsWith('op-100')),
        [1, 2, 3, 4, 5].map((s) => `op-100-${s}`),
      );
      // every replica replied to every request
      assert.equal(c.replies.get(100)!.length, 5 * n);
      // retransmission of an executed request gets the cached reply, not a second execution
      c.clientSend(req(100, 5));
      c.run();
      assert.equal(histories(c)[0]!.length, 6);
      assert.equal(c.replies.get(100)!.length, 6 * n);
    });
  }

  it('decides only on a quorum of matching ACCEPTs', () => {
    const c = new LocalCluster({ n: 4 });
    // Replica 3 is Byzantine: it rewrites its ACCEPTs to another digest (validly signed by itself).
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (e.from === 3 && m.type === MessageType.ACCEPT) {
        const digest = new Uint8Array(32).fill(1);
        const signature = sign(null, voteSigningMessage(MessageType.ACCEPT, m.cid, m.regency, digest), c.keys[3]!.privateKey);
        const forged: Vote = { ...m, digest, signature };
        return { ...e, bytes: encodeMessage(forged) };
      }
      // and replica 2's ACCEPTs are lost
      if (e.from === 2 && m.type === MessageType.ACCEPT) return null;
      return e;
    };
    c.clientSend(req(1, 1));
    c.run();
    // Replicas 0 and 1 each receive three ACCEPTs but only two match (their own and the
    // other's): no decision. Replicas 2 and 3 count their own real ACCEPT plus 0's and 1's.
    assert.deepEqual(c.lastDecidedCids(), [-1, -1, 0, 0]);
    assert.equal(c.replicas[0]!.instance.round.accepts.size, 3);
  });

  it('drops duplicate, forged, out-of-range and wrong-regency messages with a reason', () => {
    const c = new LocalCluster({ n: 4 });
    const captured: Uint8Array[] = [];
    c.filter = (e) => {
      if (e.from === 1 && e.to === 0 && decode(e.bytes).type === MessageType.WRITE) captured.push(e.bytes);
      return e;
    };
    c.clientSend(req(1, 1));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
    const write = decode(captured[0]!) as Vote;

    // replay of an old WRITE: already decided
    c.inject(1, 0, captured[0]!);
    // out-of-range instance
    c.inject(1, 0, encodeMessage({ ...write, cid: 1000 }));
    // wrong (stale) regency for the current instance is impossible at regency 0; use a far-future one
    c.inject(1, 0, encodeMessage({ ...write, cid: 1, regency: 99 }));
    // a duplicate of a valid WRITE for the current instance (signed by 1)
    c.clientSend(req(1, 2), [0, 1]); // instance 1 starts, not every replica has the request
    c.run();
    // sender spoofing: a message claiming another sender
    c.inject(2, 0, encodeMessage({ ...write, cid: 1 }));
    // garbage
    c.inject(1, 0, new Uint8Array([4, 0, 0]));
    const reasons = c.droppedReasons(0).join('\n');
    assert.match(reasons, /WRITE for instance 0, already decided/);
    assert.match(reasons, /WRITE for instance 1000 is out of range/);
    assert.match(reasons, /WRITE from regency 99 is out of range/);
    assert.match(reasons, /message claims sender 1/);
    assert.match(reasons, /malformed message/);
    // and the replica still works
    c.clientSend(req(1, 2));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [1, 1, 1, 1]);
  });

  it('checks WRITE signatures when a quorum needs them: a forged WRITE is dropped and the quorum waits for another', () => {
    const c = new LocalCluster({ n: 4 });
    const held = forgeFrom1HoldFrom3(c, MessageType.WRITE);
    c.clientSend(req(1, 1));
    c.run();
    assert.match(c.droppedReasons(0).join('\n'), /bad WRITE signature/);
    assert.equal(c.replicas[0]!.instance.round.acceptSent, false, 'replica 0 cannot ACCEPT on a quorum holding a forged WRITE');
    assert.equal(c.replicas[0]!.instance.writeCertificate, null);
    // (It still decides on the others' ACCEPTs.)
    assert.equal(held.length, 1);
    c.inject(3, 0, held[0]!);
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
  });

  it('n=4: an instance costs each replica 2 signature verifications (2 of the 3 others\' WRITEs), none for ACCEPTs', () => {
    const c = new LocalCluster({ n: 4 });
    // The replicas share one verifier object: count its calls by the domain tag of what is checked.
    const verifier = c.replicas[0]!.deps.verifier;
    const original = verifier.verify.bind(verifier);
    const byTag = new Map<string, number>();
    verifier.verify = (from, message, signature) => {
      const tag = dec.decode(message.subarray(0, message.indexOf(0x31) + 1)); // up to the '1' of 'v1'
      byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
      return original(from, message, signature);
    };
    c.clientSend(req(1, 1));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
    assert.deepEqual([...byTag], [['bulwark/write/v1', 4 * 2]]);
  });

  it('decides on a quorum of ACCEPTs without checking their signatures; a forged one is left out of the proof when it is shown', () => {
    const c = new LocalCluster({ n: 4 });
    const held = forgeFrom1HoldFrom3(c, MessageType.ACCEPT);
    c.clientSend(req(1, 1));
    c.run();
    const r0 = c.replicas[0]!;
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0], 'replica 0 decides at once: its channel authenticated replica 1 as the sender');
    assert.deepEqual(r0.lastDecided!.accepts.map((a) => a.from), [0, 1, 2]);
    assert.equal(r0.lastDecisionProof!.proven, false);
    const ctx = { view: c.view, verifier: r0.deps.verifier, hash: r0.deps.hash };
    assert.match(checkDecision(ctx, r0.lastDecided!) ?? '', /bad ACCEPT signature from replica 1/);
    // Replica 3's ACCEPT arrives after the decision: kept as a spare, not dropped.
    c.inject(3, 0, held[0]!);
    c.run();
    assert.equal(r0.lastDecisionProof!.spares.size, 1);
    // Shown in a STOPDATA, the proof is checked and completed from the spare.
    const claims = stopDataClaims(r0);
    assert.ok(claims.lastDecided);
    assert.deepEqual(claims.lastDecided.accepts.map((a) => a.from), [0, 2, 3], 'the forged ACCEPT is not in the proof shown');
    assert.equal(checkDecision(ctx, claims.lastDecided), null);
    assert.equal(r0.decided.get(0), claims.lastDecided, 'the checked proof is also the one served in catch-up');
  });

  it('a decision whose proof cannot be completed: STOPDATA shows its write certificate, the next leader re-proposes its value, and the cluster goes on', () => {
    // Replica 3 is Byzantine: its ACCEPTs carry bad signatures. Replica 2 gets no WRITEs for
    // instance 0, so it never ACCEPTs it. Every correct replica decides instance 0 on the
    // ACCEPTs of {0, 1, 3}, a proof that cannot be completed.
    const c = new LocalCluster({ n: 4 });
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (m.type === MessageType.WRITE && m.cid === 0 && e.to === 2) return null;
      if (m.type === MessageType.ACCEPT && e.from === 3) return withBadSignature(e, m);
      return e;
    };
    c.clientSend(req(1, 1));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
    const decidedValue = c.replicas[0]!.lastDecided!.value;
    const claims2 = stopDataClaims(c.replicas[2]!);
    assert.equal(claims2.lastDecided, null, 'replica 2 can prove no decision');
    assert.equal(claims2.writeCertificate, null, 'and did not ACCEPT: it has no certificate to show');
    for (const id of [0, 1]) {
      const r = c.replicas[id]!;
      const claims = stopDataClaims(r);
      assert.equal(claims.lastDecided, null, `replica ${id} can prove no decision`);
      assert.ok(claims.writeCertificate, `replica ${id} shows a write certificate instead`);
      assert.equal(claims.writeCertificate.cid, 0);
      assert.deepEqual(claims.writeCertificate.value, decidedValue);
      assert.equal(checkWriteCertificate({ view: c.view, verifier: r.deps.verifier, hash: r.deps.hash }, claims.writeCertificate), null);
    }
    // Without the certificates, a leader change would choose instance 0 freely. Force one:
    // the leader (0) ignores the next request, which times out at the others. Replica 3's
    // STOPDATA (it can prove instance 0 with its own valid ACCEPT) is lost.
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (m.type === MessageType.ACCEPT && e.from === 3) return withBadSignature(e, m);
      if (m.type === MessageType.PROPOSE && m.regency === 0) return null;
      if (m.type === MessageType.STOPDATA && e.from === 3) return null;
      return e;
    };
    c.clientSend(req(1, 2));
    c.run();
    c.advance(3000, 50);
    c.run();
    assert.ok(c.replicas.every((r) => r.regency >= 1), 'a leader change happened');
    assert.deepEqual(c.lastDecidedCids(), [1, 1, 1, 1], 'instance 1 is decided after it');
    const h = histories(c);
    for (const x of h) assert.deepEqual(x, ['op-1-1', 'op-1-2'], 'instance 0 was not decided again with another value');
    const synchronized = c.events.filter((e) => e.event.type === 'synchronized').map((e) => e.event as { cid: number; bound: boolean });
    assert.ok(synchronized.length > 0 && synchronized.every((e) => e.cid === 0 && e.bound), 'the SYNC re-proposes instance 0 with its decided value');
    assert.doesNotMatch(c.droppedReasons().join('\n'), /invalid SYNC|STOPDATA from \d+: |a value other than the one decided here/);
  });

  it('catch-up keeps a decision that arrives before the ones it follows, and applies it on its own proof once they do', () => {
    const c = new LocalCluster({ n: 4 });
    // Replica 2 hears nothing of instances 0 and 1.
    c.filter = (e) => (e.to === 2 && e.from !== 2 ? null : e);
    c.clientSend(req(1, 1));
    c.run();
    c.clientSend(req(1, 2));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [1, 1, -1, 1]);
    const reply = (from: number, cid: number) => encodeMessage({ type: MessageType.DECISION_REPLY, from, checkpointCid: -1, decisions: [c.replicas[from]!.decided.get(cid)!] });
    c.filter = (e) => e;
    c.inject(0, 2, reply(0, 1));
    c.run();
    assert.equal(c.replicas[2]!.lastDecidedCid, -1, 'instance 1 alone cannot be applied');
    c.inject(1, 2, reply(1, 0));
    c.run();
    assert.equal(c.replicas[2]!.lastDecidedCid, 1, 'instance 0, then the kept instance 1 on its own valid proof');
    assert.deepEqual(histories(c)[2], ['op-1-1', 'op-1-2']);
  });

  it('catch-up applies a decision with no checkable proof once f+1 replicas report the same value', () => {
    // As above, nobody can prove instance 0; replica 2 also misses every ACCEPT and so must
    // catch up. Replicas 0 and 1 each report instance 0 with the proof they decided on.
    const c = new LocalCluster({ n: 4 });
    c.filter = (e) => {
      const m = decode(e.bytes);
      if (m.type !== MessageType.ACCEPT || m.cid !== 0) return e;
      if (e.from === 2 || e.to === 2) return null;
      if (e.from === 3) return withBadSignature(e, m);
      return e;
    };
    c.clientSend(req(1, 1));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, -1, 0]);
    const r2 = c.replicas[2]!;
    const reply = (from: number) => encodeMessage({ type: MessageType.DECISION_REPLY, from, checkpointCid: -1, decisions: [c.replicas[from]!.decided.get(0)!] });
    c.filter = (e) => e;
    c.inject(0, 2, reply(0));
    c.run();
    assert.equal(r2.lastDecidedCid, -1, 'one report is not enough');
    assert.match(c.droppedReasons(2).join('\n'), /proof of instance 0 does not check out/);
    c.inject(0, 2, reply(0));
    c.run();
    assert.equal(r2.lastDecidedCid, -1, 'the same replica twice is still one report');
    c.inject(1, 2, reply(1));
    c.run();
    assert.equal(r2.lastDecidedCid, 0, 'f+1 matching reports are enough');
    assert.deepEqual(histories(c)[2], ['op-1-1']);
  });

  it('a follower that got the PROPOSE before some of its requests WRITEs once the last one arrives, not before', () => {
    const c = new LocalCluster({ n: 4 });
    const writesBy = (from: number): number => sent.filter((x) => x === from).length;
    const sent: number[] = [];
    c.filter = (e) => {
      if (decode(e.bytes).type === MessageType.WRITE && e.to === 0) sent.push(e.from);
      return e;
    };
    // The leader (0) alone has the requests: it proposes the first, then the other two in one batch.
    c.clientSend(req(1, 1), [0]);
    c.clientSend(req(2, 1), [0]);
    c.clientSend(req(3, 1), [0]);
    c.run();
    assert.equal(writesBy(1), 0, 'replica 1 lacks every request: no WRITE');
    c.clientSend(req(1, 1), [1, 2, 3]);
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0], 'the first instance held only request 1/1');
    c.clientSend(req(2, 1), [1]);
    c.run();
    assert.equal(writesBy(1), 1, 'replica 1 still lacks 3/1: only its WRITE of instance 0');
    c.clientSend(req(3, 1), [1]);
    c.run();
    assert.equal(writesBy(1), 2, 'the last missing request arrived: replica 1 WRITEs instance 1');
    // Replicas 2 and 3 never got 2/1 or 3/1: f+1 WRITEs (0 and 1) vouch for them.
    assert.deepEqual(c.lastDecidedCids(), [1, 1, 1, 1]);
  });

  it('caches each reply in its own exact-size buffer, not in a shared slab an idle client would pin', () => {
    const c = new LocalCluster({ n: 4 });
    for (let seq = 1; seq <= 3; seq++) c.clientSend(req(1, seq, 'x'.repeat(80)));
    c.run();
    assert.deepEqual(c.lastDecidedCids().map((x) => x >= 0), [true, true, true, true]);
    for (const r of c.replicas) {
      const cached = r.sessions.get(1)?.replies;
      assert.equal(cached?.size, 3);
      for (const bytes of cached!.values()) {
        assert.ok(bytes.byteLength > 64, 'a reply this size would come from a slab');
        assert.equal(bytes.buffer.byteLength, bytes.byteLength);
      }
    }
  });

  it('keeps decisions as copies, not views into received frames or slabs', () => {
    const c = new LocalCluster({ n: 4 });
    c.clientSend(req(1, 1));
    c.run();
    for (const r of c.replicas) {
      const d = r.decided.get(0);
      assert.ok(d);
      assert.equal(d.value.buffer.byteLength, d.value.byteLength, 'the batch owns its bytes');
      for (const a of d.accepts) assert.equal(a.signature.buffer.byteLength, a.signature.byteLength, 'each ACCEPT signature owns its bytes');
    }
  });

  it('a non-leader PROPOSE and a second, different PROPOSE from the leader are dropped', () => {
    const c = new LocalCluster({ n: 4 });
    let propose: Uint8Array | undefined;
    c.filter = (e) => {
      if (decode(e.bytes).type === MessageType.PROPOSE && e.to === 2) propose ??= e.bytes;
      return e;
    };
    c.clientSend(req(1, 1));
    c.run();
    const p = decode(propose!) as Extract<ReturnType<typeof decode>, { type: 3 }>;
    c.inject(1, 2, encodeMessage({ ...p, from: 1, cid: 1 }));
    assert.match(c.droppedReasons(2).join('\n'), /not the leader of regency 0/);
  });
});

describe('Mod-SMaRt leader change', () => {
  it('replaces a crashed leader; requests complete in the new regency', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
    c.clientSend(req(1, 1));
    c.run();
    c.crash(0);
    c.clientSend(req(1, 2));
    c.run();
    assert.deepEqual(c.lastDecidedCids().slice(1), [0, 0, 0]);
    c.advance(2000);
    assert.deepEqual(c.lastDecidedCids().slice(1), [1, 1, 1]);
    assert.equal(c.replicas[1]!.regency, 1);
    assert.equal(c.replicas[1]!.leader, 1);
    const h = histories(c);
    assert.deepEqual(h[1], ['op-1-1', 'op-1-2']);
    assert.deepEqual(h[2], h[1]);
    assert.deepEqual(h[3], h[1]);
  });

  it('preserves a value that may have been decided by only one replica', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
    // Instance 0 in regency 0: ACCEPTs reach only replica 3, which decides; the others do not.
    c.filter = (e) => (decode(e.bytes).type === MessageType.ACCEPT && e.to !== 3 ? null : e);
    c.clientSend(req(7, 1, 'precious'));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [-1, -1, -1, 0]);
    // The leader (0) crashes; a different request is pending at the others.
    c.crash(0);
    c.filter = (e) => e;
    c.clientSend(req(8, 1, 'other'), [1, 2, 3]);
    c.advance(3000);
    const h = histories(c);
    // 'precious' is decided first everywhere, exactly once, then 'other'.
    for (const id of [1, 2, 3]) assert.deepEqual(h[id], ['precious', 'other'], `replica ${id}`);
  });

  it('binds a value that was written by a quorum but decided by nobody', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
    c.filter = (e) => (decode(e.bytes).type === MessageType.ACCEPT ? null : e);
    c.clientSend(req(7, 1, 'maybe-decided'));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [-1, -1, -1, -1]);
    assert.ok(c.replicas.every((r) => r.instance.writeCertificate !== null));
    c.crash(0);
    c.filter = (e) => e;
    // The new leader (1) has another request it could propose instead: it must not.
    c.clientSend(req(8, 1, 'other'), [1, 2, 3]);
    c.advance(3000);
    const h = histories(c);
    for (const id of [1, 2, 3]) assert.deepEqual(h[id], ['maybe-decided', 'other'], `replica ${id}`);
    const syncs = c.events.filter((e) => e.event.type === 'synchronized' && e.replica === 2);
    assert.equal((syncs[0]?.event as { bound: boolean }).bound, true, 'the SYNC bound the written value');
  });

  it('a leader that proposes to some replicas only is replaced, and nothing is lost', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500 } });
    c.filter = (e) => (e.from === 0 && decode(e.bytes).type === MessageType.PROPOSE && e.to !== 1 ? null : e);
    c.clientSend(req(5, 1));
    c.clientSend(req(5, 2));
    c.advance(4000);
    c.filter = (e) => e;
    const h = histories(c);
    for (const id of [0, 1, 2, 3]) assert.deepEqual(h[id], ['op-5-1', 'op-5-2'], `replica ${id}`);
    assert.ok(c.replicas.every((r) => r.regency >= 1));
  });

  it('a replica that missed decisions catches up from the others\' proofs', () => {
    const c = new LocalCluster({ n: 4 });
    c.filter = (e) => (e.to === 3 ? null : e);
    for (let s = 1; s <= 4; s++) {
      c.clientSend(req(9, s));
      c.run();
    }
    assert.deepEqual(c.lastDecidedCids(), [3, 3, 3, -1]);
    c.filter = (e) => e;
    c.clientSend(req(9, 5));
    c.advance(1000);
    assert.deepEqual(c.lastDecidedCids(), [4, 4, 4, 4]);
    assert.deepEqual(histories(c)[3], histories(c)[0]);
  });
});

describe('a replica that missed a leader change', () => {
  it('learns the new regency from a forwarded, signed SYNC and votes again', () => {
    const c = new LocalCluster({ n: 4, replica: { requestTimeoutMs: 500, catchUpIntervalMs: 100 } });
    c.clientSend(req(1, 1));
    c.run();
    // Replica 3 is cut off; the leader (0) stops proposing: 0, 1 and 2 change regency without 3.
    c.filter = (e) => (e.to === 3 || e.from === 3 || (e.from === 0 && decode(e.bytes).type === MessageType.PROPOSE) ? null : e);
    c.clientSend(req(1, 2));
    c.advance(3000);
    assert.deepEqual(c.replicas.map((r) => r.regency), [1, 1, 1, 0]);
    c.filter = (e) => e;
    c.clientSend(req(1, 3));
    c.advance(2000);
    assert.equal(c.replicas[3]!.regency, 1, 'replica 3 adopted regency 1');
    assert.deepEqual(c.lastDecidedCids(), [2, 2, 2, 2]);
    // From now on it votes: with replica 0 gone, 1, 2 and 3 still make a quorum.
    c.crash(0);
    c.clientSend(req(1, 4), [1, 2, 3]);
    c.advance(1000);
    assert.deepEqual(c.lastDecidedCids().slice(1), [3, 3, 3]);
    assert.deepEqual(histories(c)[3], ['op-1-1', 'op-1-2', 'op-1-3', 'op-1-4']);
  });
});

describe('signed requests', () => {
  const client = generateKeyPairSync('ed25519');
  const signed = (clientId: number, seq: number, text: string) => {
    const r = req(clientId, seq, text);
    return { ...r, signature: sign(null, loneRequestSigningMessage(sha256, clientId, r.session, seq, true, sha256(r.payload)), client.privateKey) };
  };

  /** A signed-requests cluster of 4 that knows client 9's key, and how many client signatures each replica has verified. */
  const countingCluster = () => {
    const c = new LocalCluster({ n: 4, replica: { requireSignedRequests: true }, clientKeys: new Map([[9, client.publicKey]]) });
    const checks = [0, 0, 0, 0];
    for (const [id, r] of c.replicas.entries()) {
      const v = r.deps.clientVerifier!;
      const original = v.verify.bind(v);
      v.verify = (from, message, signature) => {
        checks[id]! += 1;
        return original(from, message, signature);
      };
    }
    return { c, checks };
  };

  it('refuses unsigned and badly signed requests, orders signed ones', () => {
    const c = new LocalCluster({ n: 4, replica: { requireSignedRequests: true }, clientKeys: new Map([[9, client.publicKey]]) });
    c.clientSend(req(9, 1, 'unsigned'));
    c.clientSend({ ...signed(9, 1, 'a'), payload: enc.encode('tampered') });
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [-1, -1, -1, -1]);
    // Every replica refuses a missing signature on receipt; the leader checks the others
    // before it proposes them.
    assert.match(c.droppedReasons(1).join('\n'), /missing client signature/);
    assert.match(c.droppedReasons(0).join('\n'), /bad client signature/);
    // A follower checks a pending request's signature before its timeout could depose the
    // leader that rightly refused it: no STOP.
    c.advance(DEFAULT_OPTIONS.requestTimeoutMs * 2);
    for (const id of [1, 2, 3]) assert.match(c.droppedReasons(id).join('\n'), /bad client signature/);
    assert.deepEqual(c.events.filter((e) => e.event.type === 'stop-sent'), []);
    c.clientSend(signed(9, 1, 'good'));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
  });

  it('answers unordered reads on the client\'s channel without a signature and checks none; an ordered request is checked once', () => {
    const { c, checks } = countingCluster();
    c.clientSend(signed(9, 1, 'a'));
    c.run();
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
    assert.deepEqual(checks, [1, 0, 0, 0], 'the leader checks the ordered request before proposing it; the followers received it themselves');
    const read = { clientId: 9, session: 1, ordered: false, payload: enc.encode('read') };
    c.clientSend({ ...read, seq: 1 });
    c.clientSend({ ...read, seq: 2, signature: new Uint8Array(64).fill(7) });
    const reads = (c.replies.get(9) ?? []).filter((r) => !r.ordered);
    assert.deepEqual(reads.map((r) => [r.seq, r.replicaId]).sort(), [[1, 0], [1, 1], [1, 2], [1, 3], [2, 0], [2, 1], [2, 2], [2, 3]]);
    assert.deepEqual(checks, [1, 0, 0, 0], 'no read signature was checked');
    for (const id of [0, 1, 2, 3]) assert.doesNotMatch(c.droppedReasons(id).join('\n'), /signature/);
  });

  it('requests a client signed in one turn cost one verification; a known root with other signature bytes is checked again', () => {
    const { c, checks } = countingCluster();
    /** Requests seq `from`.. of client 9, signed as one turn: one signature over their tree's root. */
    const turn = (from: number, texts: string[]) => {
      const rs = texts.map((t, i) => req(9, from + i, t));
      const { root, proofs } = merkleTree(sha256, rs.map((r) => merkleLeaf(sha256, requestSigningMessage(9, r.session, r.seq, true, sha256(r.payload)))));
      const signature = sign(null, requestRootSigningMessage(9, root), client.privateKey);
      return rs.map((r, i) => ({ ...r, signature, proof: proofs[i]! }));
    };
    for (const r of turn(1, ['a', 'b', 'c'])) c.clientSend(r);
    c.run();
    assert.deepEqual(histories(c)[0], ['a', 'b', 'c']);
    assert.deepEqual(checks, [1, 0, 0, 0], 'the leader verified the turn\'s root once, for its three requests');

    const [d, e] = turn(4, ['d', 'e']);
    c.clientSend(d!);
    c.run();
    // e's path leads to the root verified for d, but its signature bytes are not those verified.
    c.clientSend({ ...e!, signature: new Uint8Array(64).fill(5) }, [0]);
    c.run();
    assert.match(c.droppedReasons(0).join('\n'), /request 1\/5: bad client signature/);
    assert.deepEqual(histories(c)[0], ['a', 'b', 'c', 'd'], 'the leader did not propose it on the strength of the cached root');
    c.clientSend(e!);
    c.run();
    for (const h of histories(c)) assert.deepEqual(h, ['a', 'b', 'c', 'd', 'e']);
  });

  it('a client that sends different requests under one seq to different replicas cannot stall ordering', () => {
    const c = new LocalCluster({ n: 4, replica: { requireSignedRequests: true }, clientKeys: new Map([[9, client.publicKey]]) });
    c.clientSend(signed(9, 1, 'version-a'), [0, 1]);
    c.clientSend(signed(9, 1, 'version-b'), [2, 3]);
    c.run();
    // Replicas 2 and 3 never received version-a, but its signature proves the client sent it.
    assert.deepEqual(c.lastDecidedCids(), [0, 0, 0, 0]);
    for (const h of histories(c)) assert.deepEqual(h, ['version-a']);
  });
});
