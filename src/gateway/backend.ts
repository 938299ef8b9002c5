/**
 * What the gateway needs from the cluster: a BFT client that orders (or reads) one wallet
 * operation and returns the result that f+1 replicas vouched for.
 *
 * The gateway never executes or signs anything itself; another module implements this
 * interface over the BFT client proxy (reply voting lives there, not here).
 */

export interface WalletBackend {
  /**
   * Orders and executes one wallet operation (UTF-8 JSON bytes); resolves once f+1 replicas
   * sent matching replies.
   * @throws Error with `code` = 'BFT_TIMEOUT' (no f+1 matching replies in time) or
   *   'BFT_UNAVAILABLE' (the cluster cannot be reached); anything else is a bug.
   */
  invokeOrdered(operation: Uint8Array): Promise<VotedReply>;
  /**
   * Reads without ordering (BFT-SMaRt invokeUnordered; the proxy falls back to ordering
   * itself when the unordered replies do not match). Same errors as `invokeOrdered`.
   */
  invokeUnordered(operation: Uint8Array): Promise<VotedReply>;
}

export interface VotedReply {
  /** The wallet's result bytes: UTF-8 JSON `{ ok: true, value }` or `{ ok: false, error }`. */
  result: Uint8Array;
  /** Which replicas vouched for the result, so a client that does not trust this replica can check. */
  evidence: ReplyEvidence;
  /**
   * The result is also the reply of the replica in this gateway's own process: then its bytes
   * are what this very build's wallet wrote, and the gateway need not check their shape
   * (see decodeWalletResult). Absent means false.
   */
  fromColocatedReplica?: boolean;
}

export interface ReplyEvidence {
  clientId: number;
  /**
   * The client session and whether the request was ordered: with clientId and seq they are
   * part of the reply signing message, so a verifier needs them. Optional here because not
   * every backend knows them; the gateway passes them through untouched when present.
   */
  session?: number;
  seq: number;
  ordered?: boolean;
  /** base64url SHA-256 of `result`. */
  resultDigest: string;
  /**
   * Each replica's base64url Ed25519 signature over the root of its batch's reply tree,
   * and this reply's Merkle path to that root (src/core/merkle.ts).
   */
  replicas: { replicaId: number; signature: string; proof: { index: number; leafCount: number; siblings: string[] } }[];
}

/**
 * The evidence as the gateway sends it: the backend's evidence plus `result`, the exact
 * result bytes (base64url) the replicas signed. `data` is those bytes parsed; a client
 * checks the digest and signatures over `result`, then that `data` is its `value`.
 *
 * Compact evidence (a request with `Prefer: evidence=compact`, answered with
 * `Preference-Applied: evidence=compact`) leaves `result` out when the signed bytes are
 * exactly `{"ok":true,"value":D}` and the body is `{"data":D,"evidence":…}` with the same
 * D byte for byte: a client rebuilds the signed bytes from the body's text. On a ledger
 * page that halves the response, which otherwise carries the page twice.
 */
export type ResponseEvidence = ReplyEvidence & { result?: string };

/** Adds the signed result bytes to the backend's evidence (see ResponseEvidence). */
export function responseEvidence(reply: VotedReply): ResponseEvidence & { result: string } {
  return { ...reply.evidence, result: Buffer.from(reply.result).toString('base64url') };
}

/** The error codes a backend may reject with; anything else maps to a 500 problem. */
export const BACKEND_ERROR_CODES = ['BFT_TIMEOUT', 'BFT_UNAVAILABLE'] as const;
export type BackendErrorCode = (typeof BACKEND_ERROR_CODES)[number];

/** An Error carrying a backend error code; implementations may throw this or any Error with `code`. */
export class BackendError extends Error {
  readonly code: BackendErrorCode;
  constructor(code: BackendErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/** @returns the backend code of `err` when it is one of BACKEND_ERROR_CODES, else undefined. */
export function backendErrorCode(err: unknown): BackendErrorCode | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return (BACKEND_ERROR_CODES as readonly unknown[]).includes(code) ? (code as BackendErrorCode) : undefined;
}
