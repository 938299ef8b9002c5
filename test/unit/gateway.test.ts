/**
 * The wallet REST gateway through `app.inject` (no socket): the operation bytes each route
 * builds, every rejected input with its problem code and field, wallet and backend errors
 * mapped through the catalogue, and the OpenAPI document.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildGateway, type ReplyEvidence, type VotedReply, type WalletBackend } from '../../src/gateway/index.ts';

const utf8 = new TextEncoder();
const EVIDENCE: ReplyEvidence = {
  clientId: 1001,
  session: 77,
  seq: 42,
  ordered: true,
  resultDigest: Buffer.alloc(32, 3).toString('base64url'),
  replicas: [
    { replicaId: 0, signature: Buffer.alloc(64, 1).toString('base64url'), proof: { index: 0, leafCount: 1, siblings: [] } },
    { replicaId: 2, signature: Buffer.alloc(64, 2).toString('base64url'), proof: { index: 1, leafCount: 2, siblings: [Buffer.alloc(32, 9).toString('base64url')] } },
  ],
};
// Canonical base64url of a 32-byte key and a 64-byte signature (the gateway checks only shapes).
const PUBLIC_KEY = Buffer.alloc(32, 7).toString('base64url');
const SIGNATURE = Buffer.alloc(64, 9).toString('base64url');

type Reply = () => Promise<VotedReply>;

/** The evidence the gateway must send for a reply: the backend's, plus the signed result bytes. */
function sentEvidence(reply: VotedReply): Record<string, unknown> {
  return { ...reply.evidence, result: Buffer.from(reply.result).toString('base64url') };
}

/** Records the operation bytes it receives and answers with a canned wallet result. */
class RecordingBackend implements WalletBackend {
  readonly ordered: string[] = [];
  readonly unordered: string[] = [];
  reply: Reply = async () => okResult({ done: true });

  invokeOrdered(operation: Uint8Array): Promise<VotedReply> {
    this.ordered.push(Buffer.from(operation).toString('utf8'));
    return this.reply();
  }
  invokeUnordered(operation: Uint8Array): Promise<VotedReply> {
    this.unordered.push(Buffer.from(operation).toString('utf8'));
    return this.reply();
  }
  get calls(): number {
    return this.ordered.length + this.unordered.length;
  }
  reset(): void {
    this.ordered.length = 0;
    this.unordered.length = 0;
    this.reply = async () => okResult({ done: true });
  }
}

function okResult(value: unknown): VotedReply {
  return { result: utf8.encode(JSON.stringify({ ok: true, value })), evidence: EVIDENCE };
}
function errorResult(code: string, message: string, field?: string): VotedReply {
  const error = field === undefined ? { code, message } : { code, message, field };
  return { result: utf8.encode(JSON.stringify({ ok: false, error })), evidence: EVIDENCE };
}
function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function assertProblem(res: LightMyRequestResponse, status: number, code: string, field?: string): Record<string, unknown> {
  assert.equal(res.statusCode, status, `status for ${code}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body.code, code, res.body);
  assert.equal(body.status, status);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.field, field, `field in ${res.body}`);
  return body;
}

const depositBody = (over: Record<string, unknown> = {}) => ({ amount: '2500', nonce: 1, signature: SIGNATURE, ...over });
const transferBody = (over: Record<string, unknown> = {}) => ({ from: 'alice', to: 'bob', amount: '10', nonce: 3, signature: SIGNATURE, ...over });
const registerBody = (over: Record<string, unknown> = {}) => ({ accountId: 'alice', publicKey: PUBLIC_KEY, signature: SIGNATURE, ...over });

describe('gateway routes build the exact wallet operation', () => {
  const backend = new RecordingBackend();
  let app: FastifyInstance;
  before(() => {
    app = buildGateway({ backend, replicaId: 2 });
  });
  after(() => app.close());

  it('POST /accounts orders a register operation and answers 201 with data, evidence and Location', async () => {
    backend.reset();
    const reply = okResult({ accountId: 'alice', balance: '0' });
    backend.reply = async () => reply;
    const res = await app.inject({ method: 'POST', url: '/accounts', payload: registerBody() });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(backend.ordered, [`{"op":"register","accountId":"alice","publicKey":"${PUBLIC_KEY}","signature":"${SIGNATURE}"}`]);
    assert.deepEqual(backend.unordered, []);
    assert.deepEqual(res.json(), { data: { accountId: 'alice', balance: '0' }, evidence: sentEvidence(reply) });
    assert.equal(res.headers.location, '/accounts/alice');
    assert.equal(res.headers['cache-control'], 'no-store');
    // Server-Timing says how long the cluster took (here: the recording backend, at once).
    assert.match(String(res.headers['server-timing']), /^bft;dur=\d+\.\d{3}$/);
  });

  it('POST /accounts/{id}/deposits orders a deposit with the path id as accountId', async () => {
    backend.reset();
    const res = await app.inject({ method: 'POST', url: '/accounts/alice_01/deposits', payload: depositBody({ amount: '1000000000000000', nonce: 9007199254740991 }) });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(backend.ordered, [
      `{"op":"deposit","accountId":"alice_01","amount":"1000000000000000","nonce":9007199254740991,"signature":"${SIGNATURE}"}`,
    ]);
    assert.deepEqual(res.json(), { data: { done: true }, evidence: sentEvidence(okResult({ done: true })) });
  });

  it('POST /transfers orders a transfer', async () => {
    backend.reset();
    // Key order in the HTTP body does not matter: the gateway writes the operation's own order.
    const res = await app.inject({ method: 'POST', url: '/transfers', payload: { signature: SIGNATURE, nonce: 3, amount: '10', to: 'bob', from: 'alice' } });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(backend.ordered, [`{"op":"transfer","from":"alice","to":"bob","amount":"10","nonce":3,"signature":"${SIGNATURE}"}`]);
  });

  it('GET /accounts/{id} reads getAccount unordered and answers 200', async () => {
    backend.reset();
    const reply = okResult({ accountId: 'bob', balance: '15' });
    backend.reply = async () => reply;
    const res = await app.inject({ method: 'GET', url: '/accounts/bob' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(backend.unordered, ['{"op":"getAccount","accountId":"bob"}']);
    assert.deepEqual(backend.ordered, []);
    assert.deepEqual(res.json(), { data: { accountId: 'bob', balance: '15' }, evidence: sentEvidence(reply) });
  });

  it('evidence carries the exact signed result bytes and keeps fields the backend adds', async () => {
    backend.reset();
    // Bytes whose re-serialisation would differ (spacing, key order): the client must get these very bytes.
    const result = utf8.encode('{ "ok": true,  "value": {"b": 1, "a": [2]} }');
    const evidence = { ...EVIDENCE, ordered: false, viewHint: 3 } as ReplyEvidence;
    backend.reply = async () => ({ result, evidence });
    const res = await app.inject({ method: 'GET', url: '/accounts/bob' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(body.data, { b: 1, a: [2] });
    assert.deepEqual(Buffer.from(body.evidence.result, 'base64url'), Buffer.from(result));
    assert.equal(body.evidence.session, 77);
    assert.equal(body.evidence.ordered, false);
    assert.equal(body.evidence.viewHint, 3);
  });

  it('Prefer: evidence=compact leaves the signed bytes out when the body rebuilds them, and says so', async () => {
    backend.reset();
    const reply = okResult({ accountId: 'bob', balance: '15' });
    backend.reply = async () => reply;
    for (const prefer of ['evidence=compact', 'respond-async, Evidence=Compact; x=1']) {
      const res = await app.inject({ method: 'GET', url: '/accounts/bob', headers: { prefer } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['preference-applied'], 'evidence=compact');
      assert.equal(res.headers.vary, 'prefer');
      const body = res.json();
      assert.equal(body.evidence.result, undefined);
      const { result: _dropped, ...rest } = sentEvidence(reply);
      assert.deepEqual(body.evidence, rest);
      // What the client rebuilds from the body's data text is exactly what was signed.
      const dataText = res.body.slice('{"data":'.length, res.body.lastIndexOf(',"evidence":'));
      assert.deepEqual(Buffer.from(`{"ok":true,"value":${dataText}}`), Buffer.from(reply.result));
    }
  });

  it('compact evidence is not applied when the signed bytes are in another form, nor unasked', async () => {
    backend.reset();
    const result = utf8.encode('{ "ok": true,  "value": {"b": 1} }');
    backend.reply = async () => ({ result, evidence: EVIDENCE });
    const other = await app.inject({ method: 'GET', url: '/accounts/bob', headers: { prefer: 'evidence=compact' } });
    assert.equal(other.headers['preference-applied'], undefined);
    assert.deepEqual(Buffer.from(other.json().evidence.result, 'base64url'), Buffer.from(result));
    const reply = okResult({ accountId: 'bob', balance: '15' });
    backend.reply = async () => reply;
    const unasked = await app.inject({ method: 'GET', url: '/accounts/bob', headers: { prefer: 'evidence=full' } });
    assert.equal(unasked.headers['preference-applied'], undefined);
    assert.deepEqual(unasked.json().evidence, sentEvidence(reply));
  });

  it('GET /accounts/{id}/ledger passes cursor and limit, and defaults limit to 100 without a cursor key', async () => {
    backend.reset();
    const withCursor = await app.inject({ method: 'GET', url: '/accounts/bob/ledger?cursor=c-17&limit=5' });
    const plain = await app.inject({ method: 'GET', url: '/accounts/bob/ledger' });
    assert.equal(withCursor.statusCode, 200, withCursor.body);
    assert.equal(plain.statusCode, 200, plain.body);
    assert.deepEqual(backend.unordered, [
      '{"op":"accountLedger","accountId":"bob","cursor":"c-17","limit":5}',
      '{"op":"accountLedger","accountId":"bob","limit":100}',
    ]);
  });

  it('GET /ledger reads the global ledger', async () => {
    backend.reset();
    await app.inject({ method: 'GET', url: '/ledger?limit=1000' });
    await app.inject({ method: 'GET', url: '/ledger?cursor=abc' });
    assert.deepEqual(backend.unordered, ['{"op":"ledger","limit":1000}', '{"op":"ledger","cursor":"abc","limit":100}']);
    assert.deepEqual(backend.ordered, []);
  });

  it('GET /health answers locally, with the replica id, without the cluster', async () => {
    backend.reset();
    const res = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.replicaId, 2);
    assert.equal(body.requestsInFlight, 0);
    assert.equal(backend.calls, 0);
  });
});

describe('gateway rejects bad input with a 4xx problem naming the field, before consensus', () => {
  const backend = new RecordingBackend();
  let app: FastifyInstance;
  before(() => {
    app = buildGateway({ backend });
  });
  after(() => {
    assert.equal(backend.calls, 0, 'no rejected request may reach the cluster');
    return app.close();
  });

  const badAmounts: [unknown, string][] = [
    ['-5', 'INVALID_AMOUNT'],
    ['0', 'INVALID_AMOUNT'],
    ['1.5', 'INVALID_AMOUNT'],
    ['1e5', 'INVALID_AMOUNT'],
    ['0012', 'INVALID_AMOUNT'],
    [' 12', 'INVALID_AMOUNT'],
    ['', 'INVALID_AMOUNT'],
    ['12abc', 'INVALID_AMOUNT'],
    [100, 'INVALID_AMOUNT'], // a JSON number, not a decimal string
    [null, 'INVALID_AMOUNT'],
    ['1000000000000001', 'AMOUNT_TOO_LARGE'],
    ['99999999999999999999999999999', 'AMOUNT_TOO_LARGE'],
  ];
  for (const [amount, code] of badAmounts) {
    it(`deposit amount ${JSON.stringify(amount)} → 400 ${code}`, async () => {
      const res = await app.inject({ method: 'POST', url: '/accounts/alice/deposits', payload: depositBody({ amount }) });
      assertProblem(res, 400, code, 'amount');
    });
    it(`transfer amount ${JSON.stringify(amount)} → 400 ${code}`, async () => {
      const res = await app.inject({ method: 'POST', url: '/transfers', payload: transferBody({ amount }) });
      assertProblem(res, 400, code, 'amount');
    });
  }

  for (const nonce of [0, -1, 1.5, '7', 2 ** 53, null]) {
    it(`nonce ${JSON.stringify(nonce)} → 400 INVALID_NONCE`, async () => {
      const res = await app.inject({ method: 'POST', url: '/accounts/alice/deposits', payload: depositBody({ nonce }) });
      assertProblem(res, 400, 'INVALID_NONCE', 'nonce');
    });
  }

  const badSignatures = [SIGNATURE.slice(1), `${SIGNATURE}==`, `${SIGNATURE.slice(0, 85)}B`, SIGNATURE.replace(/^./, '+'), 42];
  for (const signature of badSignatures) {
    it(`signature ${JSON.stringify(signature).slice(0, 12)}… → 400 VALIDATION_FAILED`, async () => {
      const res = await app.inject({ method: 'POST', url: '/transfers', payload: transferBody({ signature }) });
      assertProblem(res, 400, 'VALIDATION_FAILED', 'signature');
    });
  }

  for (const accountId of ['', 'a b', 'x'.repeat(65), 'ünïcode', 'a/b']) {
    it(`register accountId ${JSON.stringify(accountId).slice(0, 12)} → 400 INVALID_ACCOUNT_ID`, async () => {
      const res = await app.inject({ method: 'POST', url: '/accounts', payload: registerBody({ accountId }) });
      assertProblem(res, 400, 'INVALID_ACCOUNT_ID', 'accountId');
    });
  }

  for (const publicKey of [PUBLIC_KEY.slice(1), `${PUBLIC_KEY}=`, Buffer.alloc(33, 7).toString('base64url'), `${PUBLIC_KEY.slice(0, 42)}B`]) {
    it(`register publicKey of ${publicKey.length} chars → 400 INVALID_PUBLIC_KEY`, async () => {
      const res = await app.inject({ method: 'POST', url: '/accounts', payload: registerBody({ publicKey }) });
      assertProblem(res, 400, 'INVALID_PUBLIC_KEY', 'publicKey');
    });
  }

  it('transfer with a bad "to" names that field', async () => {
    const res = await app.inject({ method: 'POST', url: '/transfers', payload: transferBody({ to: 'bob!' }) });
    assertProblem(res, 400, 'INVALID_ACCOUNT_ID', 'to');
  });

  for (const field of ['amount', 'nonce', 'signature']) {
    it(`deposit without ${field} → 400 VALIDATION_FAILED naming it`, async () => {
      const payload: Record<string, unknown> = depositBody();
      delete payload[field];
      const res = await app.inject({ method: 'POST', url: '/accounts/alice/deposits', payload });
      assertProblem(res, 400, 'VALIDATION_FAILED', field);
    });
  }
  for (const field of ['from', 'to']) {
    it(`transfer without ${field} → 400 naming it`, async () => {
      const payload: Record<string, unknown> = transferBody();
      delete payload[field];
      assertProblem(await app.inject({ method: 'POST', url: '/transfers', payload }), 400, 'VALIDATION_FAILED', field);
    });
  }

  it('an extra field → 400 VALIDATION_FAILED naming it (not silently dropped)', async () => {
    const res = await app.inject({ method: 'POST', url: '/accounts/alice/deposits', payload: depositBody({ accountId: 'mallory' }) });
    assertProblem(res, 400, 'VALIDATION_FAILED', 'accountId');
    const reg = await app.inject({ method: 'POST', url: '/accounts', payload: registerBody({ balance: '1000' }) });
    assertProblem(reg, 400, 'VALIDATION_FAILED', 'balance');
  });

  for (const payload of ['[]', '"text"', '17', 'null']) {
    it(`a JSON body ${payload} that is not an object → 400 VALIDATION_FAILED`, async () => {
      const res = await app.inject({ method: 'POST', url: '/transfers', payload, headers: { 'content-type': 'application/json' } });
      assertProblem(res, 400, 'VALIDATION_FAILED');
    });
  }

  it('path id that is not an account id → 400 INVALID_ACCOUNT_ID naming id', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/accounts/bad!id' }), 400, 'INVALID_ACCOUNT_ID', 'id');
    assertProblem(await app.inject({ method: 'GET', url: `/accounts/${'a'.repeat(65)}/ledger` }), 400, 'INVALID_ACCOUNT_ID', 'id');
    assertProblem(await app.inject({ method: 'POST', url: '/accounts/b%20b/deposits', payload: depositBody() }), 400, 'INVALID_ACCOUNT_ID', 'id');
  });

  for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'limit=5.5', 'limit=-1', 'limit=1e2', 'limit=', 'limit=1&limit=2']) {
    it(`ledger ?${query} → 400 INVALID_LIMIT`, async () => {
      assertProblem(await app.inject({ method: 'GET', url: `/ledger?${query}` }), 400, 'INVALID_LIMIT', 'limit');
      assertProblem(await app.inject({ method: 'GET', url: `/accounts/alice/ledger?${query}` }), 400, 'INVALID_LIMIT', 'limit');
    });
  }

  for (const cursor of ['', 'c'.repeat(65)]) {
    it(`cursor of ${cursor.length} chars → 400 INVALID_CURSOR`, async () => {
      assertProblem(await app.inject({ method: 'GET', url: `/ledger?cursor=${cursor}` }), 400, 'INVALID_CURSOR', 'cursor');
    });
  }

  it('an unknown query parameter → 400 naming it', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/ledger?limit=5&offset=10' }), 400, 'VALIDATION_FAILED', 'offset');
  });

  it('malformed JSON → 400 MALFORMED_JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/transfers', payload: '{"from": "alice",', headers: { 'content-type': 'application/json' } });
    assertProblem(res, 400, 'MALFORMED_JSON');
    const empty = await app.inject({ method: 'POST', url: '/transfers', payload: '', headers: { 'content-type': 'application/json' } });
    assertProblem(empty, 400, 'MALFORMED_JSON');
  });

  it('a prototype-poisoning body is refused as malformed', async () => {
    const payload = `{"from":"alice","to":"bob","amount":"1","nonce":1,"signature":"${SIGNATURE}","__proto__":{"admin":true}}`;
    const res = await app.inject({ method: 'POST', url: '/transfers', payload, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400, res.body);
  });

  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
    it(`content type ${contentType} → 415 UNSUPPORTED_MEDIA_TYPE`, async () => {
      const res = await app.inject({ method: 'POST', url: '/transfers', payload: JSON.stringify(transferBody()), headers: { 'content-type': contentType } });
      assertProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  }

  it('a body over 64 KiB → 413 BODY_TOO_LARGE', async () => {
    const payload = JSON.stringify(transferBody({ memo: 'x'.repeat(64 * 1024) }));
    assertProblem(await app.inject({ method: 'POST', url: '/transfers', payload, headers: { 'content-type': 'application/json' } }), 413, 'BODY_TOO_LARGE');
  });

  it('an unknown route or method → 404 NOT_FOUND problem', async () => {
    assertProblem(await app.inject({ method: 'GET', url: '/wallets' }), 404, 'NOT_FOUND');
    assertProblem(await app.inject({ method: 'DELETE', url: '/accounts/alice' }), 404, 'NOT_FOUND');
    assertProblem(await app.inject({ method: 'GET', url: '/transfers' }), 404, 'NOT_FOUND');
  });
});

describe('gateway maps wallet results and backend failures through the catalogue', () => {
  const backend = new RecordingBackend();
  let app: FastifyInstance;
  before(() => {
    app = buildGateway({ backend });
  });
  after(() => app.close());

  // The statuses the API promises, written out here rather than read from the catalogue.
  const expected: [string, number][] = [
    ['MALFORMED_REQUEST', 400], ['UNKNOWN_OPERATION', 400], ['INVALID_ACCOUNT_ID', 400], ['INVALID_PUBLIC_KEY', 400],
    ['ACCOUNT_EXISTS', 409], ['UNKNOWN_ACCOUNT', 404], ['INVALID_AMOUNT', 400], ['AMOUNT_TOO_LARGE', 400],
    ['BALANCE_OVERFLOW', 422], ['INSUFFICIENT_FUNDS', 422], ['SELF_TRANSFER', 400], ['INVALID_NONCE', 400],
    ['REPLAYED_REQUEST', 409], ['BAD_SIGNATURE', 403], ['INVALID_CURSOR', 400], ['INVALID_LIMIT', 400],
  ];
  for (const [code, status] of expected) {
    it(`wallet ${code} → ${status} with the replicas' evidence`, async () => {
      backend.reset();
      const reply = errorResult(code, `wallet says ${code}`, 'amount');
      backend.reply = async () => reply;
      const res = await app.inject({ method: 'POST', url: '/transfers', payload: transferBody() });
      const body = assertProblem(res, status, code, 'amount');
      assert.equal(body.detail, `wallet says ${code}`);
      assert.deepEqual(body.evidence, sentEvidence(reply));
    });
  }

  it('a wallet error without field gives a problem without field', async () => {
    backend.reset();
    backend.reply = async () => errorResult('UNKNOWN_ACCOUNT', 'no such account');
    assertProblem(await app.inject({ method: 'GET', url: '/accounts/nobody' }), 404, 'UNKNOWN_ACCOUNT');
  });

  it('a wallet code the gateway does not know → 502 UNKNOWN_WALLET_ERROR', async () => {
    backend.reset();
    backend.reply = async () => errorResult('FROZEN_ACCOUNT', 'frozen');
    assertProblem(await app.inject({ method: 'GET', url: '/accounts/alice' }), 502, 'UNKNOWN_WALLET_ERROR');
  });

  for (const bytes of ['not json', '{"ok":"yes"}', '{"ok":true}', '{"ok":false,"error":{}}', '[1,2]', '\u00ff\u00fe']) {
    it(`unreadable wallet result ${JSON.stringify(bytes)} → 502 INVALID_WALLET_RESULT`, async () => {
      backend.reset();
      const raw = bytes === '\u00ff\u00fe' ? Uint8Array.of(0xff, 0xfe) : utf8.encode(bytes);
      backend.reply = async () => ({ result: raw, evidence: EVIDENCE });
      assertProblem(await app.inject({ method: 'GET', url: '/ledger' }), 502, 'INVALID_WALLET_RESULT');
    });
  }

  // The route sends the voted value's own JSON text when the result is in the wallet's form,
  // and re-serializes the parsed value for any other readable form: the body is valid JSON
  // with the same data either way.
  for (const text of ['{"ok":true,"value":{"entries":[{"index":0}],"next":null}}', '{"value":{"entries":[{"index":0}],"next":null},"ok":true}', '{"ok":true,"value":{"entries":[{"index":0}],"next":null},"note":"x"}', '{ "ok" : true , "value" : {"entries":[{"index":0}],"next":null} }']) {
    it(`success result ${text} → 200 with data {entries, next}`, async () => {
      backend.reset();
      backend.reply = async () => ({ result: utf8.encode(text), evidence: EVIDENCE });
      const res = await app.inject({ method: 'GET', url: '/ledger' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(res.body).data, { entries: [{ index: 0 }], next: null });
    });
  }

  // A result that is also its own replica's reply was written by this build: a success in the
  // wallet's form passes through without being parsed; anything else is read as above.
  it('a success its colocated replica vouched for is passed through unparsed; errors and other forms are still read', async () => {
    const page = '{"ok":true,"value":{"entries":[{"index":0,"cid":1763860000000}],"nextCursor":null}}';
    const parsedTexts: string[] = [];
    const parse = JSON.parse;
    const reply = (text: string, fromColocatedReplica: boolean) => async (): Promise<VotedReply> => ({ result: utf8.encode(text), evidence: EVIDENCE, fromColocatedReplica });
    JSON.parse = ((text: string, reviver?: Parameters<typeof parse>[1]) => (parsedTexts.push(String(text)), parse(text, reviver))) as typeof JSON.parse;
    try {
      for (const own of [true, false]) {
        backend.reset();
        parsedTexts.length = 0;
        backend.reply = reply(page, own);
        const res = await app.inject({ method: 'GET', url: '/ledger' });
        assert.equal(res.statusCode, 200);
        assert.equal(res.body.slice(0, res.body.indexOf(',"evidence":')), `{"data":${page.slice('{"ok":true,"value":'.length, -1)}`);
        assert.equal(parsedTexts.includes(page), !own, own ? 'not parsed' : 'parsed');
      }
    } finally {
      JSON.parse = parse;
    }
    backend.reset();
    backend.reply = reply('{"ok":false,"error":{"code":"UNKNOWN_ACCOUNT","message":"no such account","field":"accountId"}}', true);
    assertProblem(await app.inject({ method: 'GET', url: '/accounts/nobody' }), 404, 'UNKNOWN_ACCOUNT', 'accountId');
    backend.reset();
    backend.reply = reply('{"value":{"entries":[{"index":0}],"next":null},"ok":true}', true);
    const other = await app.inject({ method: 'GET', url: '/ledger' });
    assert.deepEqual(JSON.parse(other.body).data, { entries: [{ index: 0 }], next: null });
    backend.reset();
    backend.reply = reply('not json', true);
    assertProblem(await app.inject({ method: 'GET', url: '/ledger' }), 502, 'INVALID_WALLET_RESULT');
  });

  it('backend BFT_TIMEOUT → 503 BFT_TIMEOUT with Retry-After', async () => {
    backend.reset();
    backend.reply = async () => {
      throw codedError('BFT_TIMEOUT', 'no f+1 matching replies after 5000 ms');
    };
    const res = await app.inject({ method: 'POST', url: '/transfers', payload: transferBody() });
    assertProblem(res, 503, 'BFT_TIMEOUT');
    assert.equal(res.headers['retry-after'], '1');
  });

  it('backend BFT_UNAVAILABLE → 503 BFT_UNAVAILABLE', async () => {
    backend.reset();
    backend.reply = async () => {
      throw codedError('BFT_UNAVAILABLE', 'no replica reachable');
    };
    assertProblem(await app.inject({ method: 'GET', url: '/accounts/alice' }), 503, 'BFT_UNAVAILABLE');
  });

  it('any other backend failure → 500 INTERNAL_ERROR that leaks nothing', async () => {
    backend.reset();
    backend.reply = async () => {
      throw new TypeError('secret-internal-state at /srv/replica/keys.pem');
    };
    const res = await app.inject({ method: 'POST', url: '/accounts', payload: registerBody() });
    assertProblem(res, 500, 'INTERNAL_ERROR');
    assert.doesNotMatch(res.body, /secret|keys\.pem|TypeError|\bat\s+\S+\s\(/);
    backend.reply = () => {
      throw codedError('ECONNRESET', 'thrown synchronously by a buggy backend');
    };
    const sync = await app.inject({ method: 'GET', url: '/ledger' });
    assertProblem(sync, 500, 'INTERNAL_ERROR');
    assert.doesNotMatch(sync.body, /buggy|ECONNRESET/);
  });
});

describe('gateway bounds the requests waiting for the cluster', () => {
  it('answers 503 GATEWAY_BUSY past inFlightMax, then serves again', async () => {
    const backend = new RecordingBackend();
    const release: (() => void)[] = [];
    backend.reply = () => new Promise((resolve) => release.push(() => resolve(okResult({ n: 1 }))));
    const app = buildGateway({ backend, inFlightMax: 2 });
    try {
      const first = app.inject({ method: 'GET', url: '/accounts/a' });
      const second = app.inject({ method: 'GET', url: '/accounts/b' });
      for (let turn = 0; release.length < 2; turn += 1) {
        assert.ok(turn < 10_000, 'both requests should reach the backend');
        await new Promise((r) => setImmediate(r));
      }
      const health = (await app.inject({ method: 'GET', url: '/health' })).json();
      assert.equal(health.requestsInFlight, 2);
      const busy = await app.inject({ method: 'GET', url: '/accounts/c' });
      assertProblem(busy, 503, 'GATEWAY_BUSY');
      assert.equal(busy.headers['retry-after'], '1');
      assert.equal(backend.unordered.length, 2, 'the refused request never reached the backend');
      for (const r of release) r();
      assert.equal((await first).statusCode, 200);
      assert.equal((await second).statusCode, 200);
      backend.reply = async () => okResult({ n: 2 });
      assert.equal((await app.inject({ method: 'GET', url: '/accounts/c' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/health' })).json().requestsInFlight, 0);
    } finally {
      await app.close();
    }
  });
});

describe('gateway OpenAPI document and docs page', () => {
  const backend = new RecordingBackend();
  let app: FastifyInstance;
  before(() => {
    app = buildGateway({ backend });
  });
  after(() => app.close());

  it('GET /openapi.json lists every route with its method', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json();
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.deepEqual(routes, [
      'GET /accounts/{id}',
      'GET /accounts/{id}/ledger',
      'GET /health',
      'GET /ledger',
      'POST /accounts',
      'POST /accounts/{id}/deposits',
      'POST /transfers',
    ]);
    // Schemas carry through: the body, the problem media type and the field's error code.
    const deposit = doc.paths['/accounts/{id}/deposits'].post;
    assert.equal(deposit.requestBody.content['application/json'].schema.properties.amount['x-error-code'], 'INVALID_AMOUNT');
    assert.ok(deposit.responses['201']);
    assert.ok(deposit.responses['4XX'].content['application/problem+json'].schema.properties.code);
  });

  it('GET /docs serves the interactive page', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /swagger-ui/i);
  });
});
