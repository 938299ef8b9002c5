/**
 * Sends one wallet operation to the cluster through the backend and turns the voted reply
 * into `{ data, evidence }` — or a GatewayError the problem plugin answers with.
 *
 * In-flight operations are bounded: each one holds a pending promise (and, in the proxy, a
 * request slot), so past `inFlightMax` the gateway answers 503 at once instead of queueing.
 */
import type { FastifyBaseLogger } from 'fastify';
import { backendErrorCode, responseEvidence, type ResponseEvidence, type VotedReply, type WalletBackend } from './backend.ts';
import { GatewayError } from './errors.ts';
import { encodeOperation, type ReadOperation, type WriteOperation } from './operations.ts';
import { decodeWalletResult, walletErrorProblem } from './wallet-result.ts';

/** Seconds a client should wait before retrying after a 503 (Retry-After). */
const RETRY_AFTER_SECONDS = '1';

/** A voted success: the value as JSON text (the replicas' own bytes when they are in the wallet's form) and the reply vouched for. */
export interface Forwarded {
  dataJson: string;
  /** Whether the signed result is exactly `{"ok":true,"value":` + dataJson + `}` (then compact evidence may leave it out). */
  resultWrapsData: boolean;
  reply: VotedReply;
  /** How long the cluster took: from handing the operation to the BFT client to its voted reply (ms). */
  bftMs: number;
}

/**
 * The evidence to send with a success: without `result` when the client asked for compact
 * evidence and can rebuild it from the body (see ResponseEvidence), else with it.
 * @returns the evidence and whether it is compact.
 */
export function successEvidence(forwarded: Forwarded, compactWanted: boolean): { evidence: ResponseEvidence; compact: boolean } {
  if (compactWanted && forwarded.resultWrapsData) return { evidence: forwarded.reply.evidence, compact: true };
  return { evidence: responseEvidence(forwarded.reply), compact: false };
}

export class Forwarder {
  private inFlight = 0;

  constructor(
    private readonly backend: WalletBackend,
    readonly inFlightMax: number,
  ) {
    if (!Number.isSafeInteger(inFlightMax) || inFlightMax < 1) throw new Error(`inFlightMax must be a positive integer, got ${inFlightMax}`);
  }

  get requestsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Orders a write through consensus.
   * @throws GatewayError: the wallet's error code, BFT_TIMEOUT / BFT_UNAVAILABLE / GATEWAY_BUSY (503),
   *   INVALID_WALLET_RESULT / UNKNOWN_WALLET_ERROR (502) or INTERNAL_ERROR (500).
   */
  write(operation: WriteOperation, log: FastifyBaseLogger): Promise<Forwarded> {
    return this.forward(operation.op, () => this.backend.invokeOrdered(encodeOperation(operation)), log);
  }

  /** Reads without ordering (the proxy falls back to ordering). Same errors as `write`. */
  read(operation: ReadOperation, log: FastifyBaseLogger): Promise<Forwarded> {
    return this.forward(operation.op, () => this.backend.invokeUnordered(encodeOperation(operation)), log);
  }

  private async forward(op: string, invoke: () => Promise<VotedReply>, log: FastifyBaseLogger): Promise<Forwarded> {
    if (this.inFlight >= this.inFlightMax) {
      throw new GatewayError('GATEWAY_BUSY', `more than ${this.inFlightMax} requests are waiting for the cluster`, { headers: { 'retry-after': RETRY_AFTER_SECONDS } });
    }
    this.inFlight += 1;
    let reply: VotedReply;
    const startMs = performance.now();
    try {
      reply = await invoke();
    } catch (err) {
      throw backendFailure(err, op, log);
    } finally {
      this.inFlight -= 1;
    }
    const result = decodeWalletResult(reply.result, reply.fromColocatedReplica === true);
    if (!result.ok) throw walletErrorProblem(result.error, responseEvidence(reply));
    return { dataJson: result.valueJson, resultWrapsData: result.valueIsCut, reply, bftMs: performance.now() - startMs };
  }
}

function backendFailure(err: unknown, op: string, log: FastifyBaseLogger): GatewayError {
  const code = backendErrorCode(err);
  const headers = { 'retry-after': RETRY_AFTER_SECONDS };
  if (code === 'BFT_TIMEOUT') {
    log.warn({ op }, 'no f+1 matching replies in time');
    return new GatewayError('BFT_TIMEOUT', 'the replicas did not send f+1 matching replies in time; a write may still execute, and resending the same signed operation cannot execute it twice', { headers });
  }
  if (code === 'BFT_UNAVAILABLE') {
    log.warn({ op }, 'cluster unavailable');
    return new GatewayError('BFT_UNAVAILABLE', 'the replicated service cannot be reached; retry later', { headers });
  }
  // A bug in the backend: log everything, tell the client nothing internal.
  log.error({ err, op }, 'backend failed');
  return new GatewayError('INTERNAL_ERROR', 'the gateway failed to forward the request');
}
