import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageType, type Request } from '../../src/core/messages.ts';
import { Sessions } from '../../src/core/sessions.ts';

const request = (clientId: number, session: number, seq: number, payload = [seq]): Request => ({
  type: MessageType.REQUEST,
  clientId,
  session,
  seq,
  ordered: true,
  payload: new Uint8Array(payload),
});
const reply = new Uint8Array(8);

describe('client sessions: pending requests leave when they execute', () => {
  it('executing within a session drops exactly the executed request, whatever the window', () => {
    const s = new Sessions(64, 1000, 16);
    for (let seq = 1; seq <= 50; seq++) assert.equal(s.admit(request(7, 1, seq), 0), 'new');
    for (let seq = 1; seq <= 20; seq++) s.recordExecuted(request(7, 1, seq), reply);
    assert.equal(s.size(), 30);
    assert.equal(s.hasPending(request(7, 1, 20)), false);
    assert.equal(s.hasPending(request(7, 1, 21)), true);
    assert.equal(s.admit(request(7, 1, 20), 0), 'executed', 'an executed seq cannot come back as pending');
    assert.deepEqual(s.takeOrderable(100).map((r) => r.seq), Array.from({ length: 30 }, (_, i) => 21 + i));
  });

  it('a new session drops every pending request of the older one', () => {
    const s = new Sessions(64, 1000, 16);
    for (let seq = 1; seq <= 5; seq++) s.admit(request(7, 1, seq), 0);
    s.recordExecuted(request(7, 1, 1), reply);
    // The client restarted: session 2 begins at seq 1, while 2..5 of session 1 are still pending.
    assert.equal(s.admit(request(7, 2, 1), 0), 'new');
    s.recordExecuted(request(7, 2, 1), reply);
    assert.equal(s.size(), 0);
    assert.equal(s.admit(request(7, 1, 6), 0), 'stale');
  });

  it("executing an older session's seq keeps a newer session's request under the same seq", () => {
    const s = new Sessions(64, 1000, 16);
    s.admit(request(7, 1, 1), 0);
    s.admit(request(7, 1, 2), 0);
    assert.equal(s.admit(request(7, 2, 2, [99]), 0), 'new', 'a newer session replaces the pending request at seq 2');
    s.recordExecuted(request(7, 1, 1), reply);
    s.recordExecuted(request(7, 1, 2), reply);
    assert.equal(s.hasPending(request(7, 2, 2, [99])), true);
    assert.equal(s.size(), 1);
  });

  it('a restored checkpoint drops the pending requests it overtook', () => {
    const s = new Sessions(64, 1000, 16);
    for (let seq = 1; seq <= 10; seq++) s.admit(request(7, 1, seq), 0);
    s.restore([{ clientId: 7, session: 1, lastSeq: 6 }]);
    assert.equal(s.size(), 4);
    s.recordExecuted(request(7, 1, 7), reply);
    assert.equal(s.size(), 3);
    assert.equal(s.hasPending(request(7, 1, 8)), true);
  });
});
