/**
 * Reads sent first to a Byzantine quorum (`unorderedFanout: 'quorum'`): which replicas a
 * read goes to, and when it goes to the others — a silent replica (after
 * `unorderedSpreadMs`), answers that disagree (at once) — and how replicas that stayed
 * silent or disagreed are left out of later first quorums until they vouch again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../../src/core/codec.ts';
import { MessageType, type Reply, type Request } from '../../src/core/messages.ts';
import { makeView } from '../../src/core/view.ts';
import { sha256 } from '../../src/crypto/ed25519.ts';
import { ServiceProxy, type ServiceProxyOptions, type Timers } from '../../src/client/service-proxy.ts';
import type { VoteOutcome } from '../../src/client/reply-voter.ts';

/** Timers that fire only when the test says so. */
class ManualTimers implements Timers {
  private readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private nextHandle = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.pending.set(handle, { fn, ms });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  defer(fn: () => void): void {
    fn();
  }
  /** Timers armed for `ms`. */
  armed(ms: number): number {
    return [...this.pending.values()].filter((t) => t.ms === ms).length;
  }
  /** Runs the timers armed for `ms`. */
  fire(ms: number): void {
    for (const [handle, t] of [...this.pending]) {
      if (t.ms !== ms) continue;
      this.pending.delete(handle);
      t.fn();
    }
  }
}

const SPREAD_MS = 20;

function setup(options: Partial<ServiceProxyOptions> = {}) {
  const sent: { to: number; request: Request }[] = [];
  const timers = new ManualTimers();
  const proxy = new ServiceProxy(
    { clientId: 7, view: makeView([0, 1, 2, 3], 1), session: 42, verifyReplies: false, unorderedFanout: 'quorum', unorderedSpreadMs: SPREAD_MS, ...options },
    {
      transport: {
        send: (to, bytes) => {
          const d = decodeMessage(bytes);
          assert.ok(d.ok && d.message.type === MessageType.REQUEST);
          sent.push({ to, request: d.message });
        },
      },
      verifier: { verify: () => false },
      hash: sha256,
      timers,
    },
  );
  /** Who was sent read `seq`, in order. */
  const askedFor = (seq: number): number[] => sent.filter((s) => !s.request.ordered && s.request.seq === seq).map((s) => s.to);
  /** Replica `id` answers read `seq` with `result` (as a digest if the read named another replier). */
  const answer = (id: number, seq: number, result: number[]): void => {
    const replier = sent.find((s) => s.request.seq === seq && !s.request.ordered)?.request.replier;
    const digest = replier !== undefined && replier !== id;
    const reply: Reply = {
      type: MessageType.REPLY, replicaId: id, clientId: 7, session: 42, seq, ordered: false,
      result: digest ? sha256(new Uint8Array(result)) : new Uint8Array(result),
      ...(digest ? { resultIsDigest: true } : {}),
      proof: { index: 0, leafCount: 1, siblings: [] }, signature: new Uint8Array(64),
    };
    proxy.onReplyBytes(id, encodeMessage(reply));
  };
  return { proxy, timers, askedFor, answer };
}

describe('reads sent first to a quorum', () => {
  it('by default a read goes to every replica', () => {
    const { proxy, askedFor } = setup({ unorderedFanout: undefined });
    proxy.invokeUnordered(new Uint8Array([1])).catch(() => {}); // rejected with BFT_CLOSED below
    assert.deepEqual(askedFor(1), [0, 1, 2, 3]);
    proxy.close();
  });

  it('a read goes to 2f+1 replicas, starting at a member that rotates, and a matching quorum answers it', async () => {
    const { proxy, timers, askedFor, answer } = setup();
    const read = proxy.invokeUnordered(new Uint8Array([1]));
    assert.deepEqual(askedFor(1), [1, 2, 3]);
    assert.equal(timers.armed(SPREAD_MS), 1);
    for (const id of [1, 2, 3]) answer(id, 1, [9]);
    const outcome = await read;
    assert.deepEqual([...outcome.result], [9]);
    assert.deepEqual(outcome.voters, [1, 2, 3]);
    assert.equal(timers.armed(SPREAD_MS), 0, 'the spread timer is cleared with the answer');
    assert.deepEqual(askedFor(1), [1, 2, 3], 'replica 0 never did the work');
    proxy.invokeUnordered(new Uint8Array([1])).catch(() => {}); // rejected with BFT_CLOSED below
    assert.deepEqual(askedFor(2), [2, 3, 0], 'the next read starts one member later');
    proxy.close();
  });

  it('a read whose first quorum disagrees goes to the others at once; the dissenter is left out of the next reads until it vouches again', async () => {
    const { proxy, timers, askedFor, answer } = setup({ unorderedReplier: 2 });
    const first = proxy.invokeUnordered(new Uint8Array([1]));
    assert.deepEqual(askedFor(1), [2, 3, 0], 'the replier first, then the members after it');
    answer(2, 1, [9]);
    answer(3, 1, [6]); // disagrees
    assert.deepEqual(askedFor(1), [2, 3, 0], 'replica 0 may still make the quorum');
    answer(0, 1, [9]);
    assert.deepEqual(askedFor(1), [2, 3, 0, 1], 'all asked answered, no quorum: replica 1 is asked without waiting for the timer');
    assert.equal(timers.armed(SPREAD_MS), 0);
    answer(1, 1, [9]);
    assert.deepEqual((await first).voters, [2, 0, 1]);

    const second = proxy.invokeUnordered(new Uint8Array([1]));
    assert.deepEqual(askedFor(2), [2, 0, 1], 'replica 3 disagreed: left out while three others remain');
    for (const id of [2, 0, 1]) answer(id, 2, [9]);
    await second;
    proxy.close();
  });

  it('a silent replica delays one read by unorderedSpreadMs, then is left out until it vouches for a read again', async () => {
    const { proxy, timers, askedFor, answer } = setup({ unorderedReplier: 2 });
    const first = proxy.invokeUnordered(new Uint8Array([1]));
    answer(2, 1, [9]);
    answer(0, 1, [9]); // replica 3 stays silent
    assert.deepEqual(askedFor(1), [2, 3, 0]);
    timers.fire(SPREAD_MS);
    assert.deepEqual(askedFor(1), [2, 3, 0, 1], 'after the spread delay the read goes to replica 1 (and not again to the others)');
    answer(1, 1, [9]);
    assert.deepEqual((await first).voters, [2, 0, 1]);

    const second = proxy.invokeUnordered(new Uint8Array([1]));
    assert.deepEqual(askedFor(2), [2, 0, 1], 'replica 3 is skipped');
    answer(2, 2, [9]);
    answer(0, 2, [8]); // now replica 0 disagrees: the read reaches replica 3
    answer(1, 2, [9]);
    assert.deepEqual(askedFor(2), [2, 0, 1, 3]);
    answer(3, 2, [9]);
    const outcome: VoteOutcome = await second;
    assert.deepEqual(outcome.voters, [2, 1, 3]);

    proxy.invokeUnordered(new Uint8Array([1])).catch(() => {}); // rejected with BFT_CLOSED below
    assert.deepEqual(askedFor(3), [2, 3, 1], 'replica 3 vouched and is back; replica 0 disagreed and is out');
    proxy.close();
  });

  it('with every other replica left out, the first quorum still has 2f+1 members', async () => {
    const { proxy, timers, askedFor, answer } = setup({ unorderedReplier: 0 });
    const first = proxy.invokeUnordered(new Uint8Array([1]));
    assert.deepEqual(askedFor(1), [0, 1, 2]);
    answer(0, 1, [9]);
    timers.fire(SPREAD_MS); // 1 and 2 silent
    assert.deepEqual(askedFor(1), [0, 1, 2, 3]);
    answer(3, 1, [9]);
    answer(1, 1, [9]);
    await first;
    proxy.invokeUnordered(new Uint8Array([1])).catch(() => {}); // rejected with BFT_CLOSED below
    assert.deepEqual(askedFor(2), [0, 1, 3], 'replica 2 is still out; replica 1 vouched and is back');
    proxy.close();
  });
});
