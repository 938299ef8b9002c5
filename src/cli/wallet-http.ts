/**
 * A typed HTTPS client of the wallet API (undici: Node's own HTTP client, pooled and
 * fast), which checks the replicas' evidence on every answer. Used by `bulwark wallet`,
 * `bulwark bench seed` and the integration tests.
 */
import { Agent, request } from 'undici';
import type { Verifier } from '../crypto/signature.ts';
import { sha256 } from '../crypto/ed25519.ts';
import { verifyEvidence, type EvidenceJson } from '../client/evidence.ts';
import { BODY_DATA_PREFIX, BODY_EVIDENCE_KEY, COMPACT_EVIDENCE_PREFERENCE, SERVER_TIMING_BFT, WALLET_SUCCESS_PREFIX } from '../gateway/wire.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  field?: string;
}

/** An HTTP answer that is not 2xx, with its problem document. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${status} ${problem.code}: ${problem.detail ?? problem.title}${problem.field ? ` (field ${problem.field})` : ''}`);
    this.name = 'ApiError';
  }
}

export interface WalletHttpOptions {
  readonly url: string;
  readonly caPem: string;
  /** Replica public keys; with it every success is checked against f+1 signatures. */
  readonly verifier?: Verifier;
  readonly f?: number;
  /** Connections kept to the gateway. Default 64. */
  readonly connections?: number;
  /**
   * Ask for compact evidence (`Prefer: evidence=compact`): the gateway leaves out the signed
   * result bytes when they are `{"ok":true,"value":D}` for the body's data text D, and this
   * client rebuilds them. Halves a ledger page's body. Off by default, so that the evidence
   * a caller keeps or prints stands on its own.
   */
  readonly compactEvidence?: boolean;
}

export class WalletHttp {
  readonly agent: Agent;
  constructor(private readonly o: WalletHttpOptions) {
    this.agent = new Agent({ connect: { ca: o.caPem, minVersion: 'TLSv1.3' }, connections: o.connections ?? 64, pipelining: 1 });
  }

  /**
   * Sends one request. @returns `data` of a 2xx answer, after checking its evidence, and
   * `bftMs`, the gateway's own count of the milliseconds the cluster took (its Server-Timing
   * `bft` metric; undefined if the gateway sent none).
   * @throws ApiError for a problem answer; Error if the evidence does not verify.
   */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ data: T; evidence: EvidenceJson; status: number; bftMs?: number }> {
    const res = await request(this.o.url + path, {
      method,
      dispatcher: this.agent,
      headers: { ...(this.o.compactEvidence ? { prefer: COMPACT_EVIDENCE_PREFERENCE } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      let problem: unknown;
      try {
        problem = JSON.parse(text);
      } catch {
        throw new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      throw new ApiError(res.statusCode, problem as Problem);
    }
    let answer: { data: T; evidence: EvidenceJson };
    try {
      answer = readSuccess<T>(text, this.o.verifier ? { verifier: this.o.verifier, f: this.o.f ?? 1 } : null);
    } catch (err) {
      throw new Error(`${method} ${path}: ${(err as Error).message}`);
    }
    const { data, evidence } = answer;
    const bftMs = serverTimingMs(res.headers['server-timing'], SERVER_TIMING_BFT);
    return { data, evidence, status: res.statusCode, ...(bftMs === undefined ? {} : { bftMs }) };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}


/**
 * Reads a success body and, with `check`, verifies it: f+1 replicas signed the result, and
 * the returned `data` is the value they signed.
 *
 * A body in the gateway's form `{"data":D,"evidence":E}` is read as its two parts: `data`
 * is JSON.parse(D), never the whole body's `data` (a body with a second "data" key after E
 * would otherwise hand back a value nobody signed while D is what gets checked). Then the
 * check is byte equality of D with the signed value (the replicas' bytes, passed through);
 * compact evidence (no `result`) is verified against `{"ok":true,"value":D}` rebuilt. Any
 * other form is parsed whole and compared with the signed value after a parse of each.
 * @throws Error saying what is wrong: not JSON, not a success body, or evidence that does
 *   not verify or does not match the data.
 */
export function readSuccess<T>(text: string, check: { verifier: Verifier; f: number } | null): { data: T; evidence: EvidenceJson } {
  const parts = splitBody(text);
  let data: T;
  let evidence: EvidenceJson;
  try {
    if (parts) {
      data = JSON.parse(parts.dataText) as T;
      evidence = JSON.parse(parts.evidenceText) as EvidenceJson;
    } else {
      ({ data, evidence } = JSON.parse(text) as { data: T; evidence: EvidenceJson });
    }
  } catch {
    throw new Error(`a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (typeof evidence !== 'object' || evidence === null) throw new Error('a success body without evidence');
  if (!check) return { data, evidence };
  const needed = check.f + 1;
  // What the replicas signed if the gateway passed their value through: the data's own text, wrapped.
  const wrapped = parts === null ? null : `${WALLET_SUCCESS_PREFIX}${parts.dataText}}`;
  if (evidence.result === undefined) {
    if (wrapped === null) throw new Error('compact evidence, but the body is not {"data":…,"evidence":…}');
    verifyEvidence(evidence, check.verifier, sha256, needed, Buffer.from(wrapped));
    return { data, evidence };
  }
  const signedText = Buffer.from(verifyEvidence(evidence, check.verifier, sha256, needed)).toString('utf8');
  // The gateway passes the replicas' bytes through: then the data is what they signed, and
  // the parse and two serializations below (≈ 1 ms on a 300-entry page) are not needed.
  if (signedText === wrapped) return { data, evidence };
  const signed = JSON.parse(signedText) as { ok: boolean; value?: unknown };
  if (JSON.stringify(signed.value) !== JSON.stringify(data)) throw new Error('the response data is not what the replicas signed');
  return { data, evidence };
}

/**
 * D and E of a body `{"data":D,"evidence":E}` as the gateway writes it, or null for another
 * form. The evidence is serialized by JSON.stringify from base64url strings and numbers, so
 * the last ',"evidence":' in a gateway's body is the one that ends the data; a body where it
 * is not fails to parse as two values and is refused.
 */
export function splitBody(body: string): { dataText: string; evidenceText: string } | null {
  const end = body.lastIndexOf(BODY_EVIDENCE_KEY);
  if (!body.startsWith(BODY_DATA_PREFIX) || end < BODY_DATA_PREFIX.length || !body.endsWith('}')) return null;
  return { dataText: body.slice(BODY_DATA_PREFIX.length, end), evidenceText: body.slice(end + BODY_EVIDENCE_KEY.length, -1) };
}

/**
 * The duration (ms) of metric `name` in a Server-Timing header (W3C Server Timing:
 * `name;dur=1.5, other;desc="…"`), or undefined if it is absent or has no valid duration.
 */
export function serverTimingMs(header: string | string[] | undefined, name: string): number | undefined {
  if (header === undefined) return undefined;
  for (const metric of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [metricName, ...params] = metric.split(';').map((p) => p.trim());
    if (metricName !== name) continue;
    for (const p of params) {
      if (!p.startsWith('dur=')) continue;
      const ms = Number(p.slice(4));
      return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
    }
  }
  return undefined;
}
