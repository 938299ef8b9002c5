/**
 * The ONE catalogue of error codes the gateway answers with, and their HTTP statuses.
 *
 * Every error response is an RFC 9457 problem (`application/problem+json`):
 *   { type, title, status, code, detail, field? } (+ `evidence` when replicas vouched for it).
 * `code` is the stable, machine-readable part; `title` is fixed per code; `detail` explains
 * this occurrence and never carries internals (stack traces, backend messages).
 *
 * Status choices worth a word:
 * - BAD_SIGNATURE is 403, not 401: 401 obliges a WWW-Authenticate challenge (RFC 9110
 *   §15.5.2), and there is no HTTP authentication scheme here — the user's signature travels
 *   inside the operation, and the request was understood but the signer is not allowed.
 * - BALANCE_OVERFLOW and INSUFFICIENT_FUNDS are 422: well-formed, but not executable
 *   against the current state.
 * - Wallet result bytes that are not a well-formed result are 502: the replicas agreed on
 *   something this gateway cannot read (a version mismatch), not a client mistake.
 */

export interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
}

/** Codes the wallet service returns in `{ ok: false, error: { code } }`. */
const WALLET_CODES = {
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  UNKNOWN_OPERATION: { status: 400, title: 'Unknown operation' },
  INVALID_ACCOUNT_ID: { status: 400, title: 'Invalid account id' },
  INVALID_PUBLIC_KEY: { status: 400, title: 'Invalid public key' },
  ACCOUNT_EXISTS: { status: 409, title: 'Account already exists' },
  UNKNOWN_ACCOUNT: { status: 404, title: 'Unknown account' },
  INVALID_AMOUNT: { status: 400, title: 'Invalid amount' },
  AMOUNT_TOO_LARGE: { status: 400, title: 'Amount too large' },
  BALANCE_OVERFLOW: { status: 422, title: 'Balance would overflow' },
  INSUFFICIENT_FUNDS: { status: 422, title: 'Insufficient funds' },
  SELF_TRANSFER: { status: 400, title: 'Transfer to the same account' },
  INVALID_NONCE: { status: 400, title: 'Invalid nonce' },
  REPLAYED_REQUEST: { status: 409, title: 'Replayed request' },
  BAD_SIGNATURE: { status: 403, title: 'Bad signature' },
  INVALID_CURSOR: { status: 400, title: 'Invalid cursor' },
  INVALID_LIMIT: { status: 400, title: 'Invalid limit' },
} as const satisfies Record<string, CatalogueEntry>;

/** Codes the gateway itself produces (HTTP layer, cluster access). */
const GATEWAY_CODES = {
  VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  BODY_TOO_LARGE: { status: 413, title: 'Body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
  INVALID_WALLET_RESULT: { status: 502, title: 'Invalid wallet result' },
  UNKNOWN_WALLET_ERROR: { status: 502, title: 'Unknown wallet error' },
  BFT_TIMEOUT: { status: 503, title: 'Cluster did not answer in time' },
  BFT_UNAVAILABLE: { status: 503, title: 'Cluster unavailable' },
  GATEWAY_BUSY: { status: 503, title: 'Too many requests in flight' },
} as const satisfies Record<string, CatalogueEntry>;

export const ERROR_CATALOGUE = { ...WALLET_CODES, ...GATEWAY_CODES } as const;
export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export type WalletErrorCode = keyof typeof WALLET_CODES;

/** @returns whether `code` is one the wallet service may return. */
export function isWalletErrorCode(code: unknown): code is WalletErrorCode {
  return typeof code === 'string' && Object.hasOwn(WALLET_CODES, code);
}

/** An RFC 9457 problem body as this gateway sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  field?: string;
  /** Extension member: replicas' signatures over the wallet result this problem came from. */
  evidence?: unknown;
}

/** The problem `type` URI for a code: stable, one per code (RFC 9457 §3.1.1). */
export function problemType(code: ErrorCode): string {
  return `urn:bulwark:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Builds the problem body for `code`; status and title come from the catalogue. */
export function problem(code: ErrorCode, detail: string, extra: { field?: string; evidence?: unknown } = {}): Problem {
  const entry = ERROR_CATALOGUE[code];
  const body: Problem = { type: problemType(code), title: entry.title, status: entry.status, code, detail };
  if (extra.field !== undefined) body.field = extra.field;
  if (extra.evidence !== undefined) body.evidence = extra.evidence;
  return body;
}

/**
 * Thrown inside the gateway to answer with a problem; the problem plugin turns it into the
 * response. `headers` are added to the response (e.g. Retry-After for 503s).
 */
export class GatewayError extends Error {
  readonly problem: Problem;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, detail: string, extra: { field?: string; evidence?: unknown; headers?: Record<string, string> } = {}) {
    super(detail);
    this.name = 'GatewayError';
    this.problem = problem(code, detail, extra);
    this.headers = extra.headers ?? {};
  }
}
