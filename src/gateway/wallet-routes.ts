/**
 * Wallet routes: each one checks the request's shape, builds the wallet operation and
 * forwards it to the cluster. Nothing is executed or signed here; replicas verify the
 * user's signature themselves.
 *
 *   POST /accounts                 → register       (ordered)   201
 *   POST /accounts/{id}/deposits   → deposit        (ordered)   201
 *   POST /transfers                → transfer       (ordered)   201
 *   GET  /accounts/{id}            → getAccount     (unordered) 200
 *   GET  /accounts/{id}/ledger     → accountLedger  (unordered) 200
 *   GET  /ledger                   → ledger         (unordered) 200
 *
 * Success bodies are `{ data, evidence }`; failures are problems (problem-plugin.ts).
 * `Prefer: evidence=compact` asks for evidence without the signed result bytes when the
 * client can rebuild them from the body (backend.ts ResponseEvidence).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { successEvidence, type Forwarded, type Forwarder } from './forward.ts';
import { BODY_DATA_PREFIX, BODY_EVIDENCE_KEY, COMPACT_EVIDENCE_PREFERENCE, SERVER_TIMING_BFT } from './wire.ts';
import {
  accountLedgerOp,
  depositOp,
  getAccountOp,
  ledgerOp,
  registerOp,
  transferOp,
} from './operations.ts';
import { AccountParams, DepositBody, LIMIT_DEFAULT, PageQuery, ProblemSchema, RegisterBody, Success, TransferBody } from './schemas.ts';
import { validatorCompiler } from './validation.ts';
import { PROBLEM_CONTENT_TYPE } from './problem-plugin.ts';

export interface WalletRoutesOptions {
  forwarder: Forwarder;
}

const problemContent = { content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };

function responses(successStatus: 200 | 201, errors: string) {
  return {
    [successStatus]: Success,
    '4xx': { description: `Problem. Codes: VALIDATION_FAILED, MALFORMED_JSON, BODY_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, ${errors}`, ...problemContent },
    '5xx': { description: 'Problem. Codes: BFT_TIMEOUT, BFT_UNAVAILABLE, GATEWAY_BUSY (503, with Retry-After), INVALID_WALLET_RESULT, UNKNOWN_WALLET_ERROR (502), INTERNAL_ERROR', ...problemContent },
  } as const;
}

/** Whether the request's `Prefer` header (RFC 7240: comma-separated preferences) holds `evidence=compact`. */
export function prefersCompactEvidence(request: FastifyRequest): boolean {
  const prefer = request.headers.prefer;
  if (prefer === undefined) return false;
  const text = Array.isArray(prefer) ? prefer.join(',') : prefer;
  return text.split(',').some((p) => p.split(';', 1)[0]!.trim().toLowerCase() === COMPACT_EVIDENCE_PREFERENCE);
}

function sendSuccess(request: FastifyRequest, reply: FastifyReply, status: 200 | 201, forwarded: Forwarded): FastifyReply {
  // Balances change with every ordered operation: never serve them from a cache. The body is
  // assembled around the voted value's JSON text (see valueText in wallet-result.ts); a string sent as
  // application/json is not serialized again by fastify.
  const { evidence, compact } = successEvidence(forwarded, prefersCompactEvidence(request));
  if (compact) reply.header('preference-applied', COMPACT_EVIDENCE_PREFERENCE);
  // W3C Server Timing: how much of the answer's latency the cluster took (the rest is HTTPS and this gateway).
  reply.header('server-timing', `${SERVER_TIMING_BFT};dur=${forwarded.bftMs.toFixed(3)}`);
  const body = `${BODY_DATA_PREFIX}${forwarded.dataJson}${BODY_EVIDENCE_KEY}${JSON.stringify(evidence)}}`;
  return reply.code(status).header('cache-control', 'no-store').header('vary', 'prefer').type('application/json; charset=utf-8').send(body);
}

export const walletRoutes: FastifyPluginAsyncTypebox<WalletRoutesOptions> = async (app, { forwarder }) => {
  app.setValidatorCompiler(validatorCompiler);

  app.post('/accounts', {
    schema: {
      summary: 'Register an account',
      description: 'Creates an account owned by `publicKey`. `signature` is the owner\'s Ed25519 signature over the operation, as the wallet defines it.',
      tags: ['accounts'],
      body: RegisterBody,
      response: responses(201, 'INVALID_ACCOUNT_ID, INVALID_PUBLIC_KEY, BAD_SIGNATURE (403), ACCOUNT_EXISTS (409)'),
    },
  }, async (request, reply) => {
    const { accountId, publicKey, signature } = request.body;
    const forwarded = await forwarder.write(registerOp(accountId, publicKey, signature), request.log);
    reply.header('location', `/accounts/${accountId}`);
    return sendSuccess(request, reply, 201, forwarded);
  });

  app.post('/accounts/:id/deposits', {
    schema: {
      summary: 'Deposit into an account',
      tags: ['accounts'],
      params: AccountParams,
      body: DepositBody,
      response: responses(201, 'INVALID_ACCOUNT_ID, INVALID_AMOUNT, AMOUNT_TOO_LARGE, INVALID_NONCE, BAD_SIGNATURE (403), UNKNOWN_ACCOUNT (404), REPLAYED_REQUEST (409), BALANCE_OVERFLOW (422)'),
    },
  }, async (request, reply) => {
    const { amount, nonce, signature } = request.body;
    return sendSuccess(request, reply, 201, await forwarder.write(depositOp(request.params.id, amount, nonce, signature), request.log));
  });

  app.post('/transfers', {
    schema: {
      summary: 'Transfer between accounts',
      tags: ['transfers'],
      body: TransferBody,
      response: responses(201, 'INVALID_ACCOUNT_ID, INVALID_AMOUNT, AMOUNT_TOO_LARGE, INVALID_NONCE, SELF_TRANSFER, BAD_SIGNATURE (403), UNKNOWN_ACCOUNT (404), REPLAYED_REQUEST (409), INSUFFICIENT_FUNDS (422), BALANCE_OVERFLOW (422)'),
    },
  }, async (request, reply) => {
    const { from, to, amount, nonce, signature } = request.body;
    return sendSuccess(request, reply, 201, await forwarder.write(transferOp(from, to, amount, nonce, signature), request.log));
  });

  app.get('/accounts/:id', {
    schema: {
      summary: 'Read an account',
      tags: ['accounts'],
      params: AccountParams,
      response: responses(200, 'INVALID_ACCOUNT_ID, UNKNOWN_ACCOUNT (404)'),
    },
  }, async (request, reply) => {
    return sendSuccess(request, reply, 200, await forwarder.read(getAccountOp(request.params.id), request.log));
  });

  app.get('/accounts/:id/ledger', {
    schema: {
      summary: "Read one page of an account's ledger",
      tags: ['ledger'],
      params: AccountParams,
      querystring: PageQuery,
      response: responses(200, 'INVALID_ACCOUNT_ID, INVALID_CURSOR, INVALID_LIMIT, UNKNOWN_ACCOUNT (404)'),
    },
  }, async (request, reply) => {
    const { cursor, limit } = request.query;
    const op = accountLedgerOp(request.params.id, cursor, limit ?? LIMIT_DEFAULT);
    return sendSuccess(request, reply, 200, await forwarder.read(op, request.log));
  });

  app.get('/ledger', {
    schema: {
      summary: 'Read one page of the global ledger',
      tags: ['ledger'],
      querystring: PageQuery,
      response: responses(200, 'INVALID_CURSOR, INVALID_LIMIT'),
    },
  }, async (request, reply) => {
    const { cursor, limit } = request.query;
    return sendSuccess(request, reply, 200, await forwarder.read(ledgerOp(cursor, limit ?? LIMIT_DEFAULT), request.log));
  });
};
