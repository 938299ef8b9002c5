/**
 * A typed HTTPS client of the wallet API (undici: Node's own HTTP client, pooled and
 * fast), which checks the replicas' evidence on every answer. Used by `bulwark wallet`,
 * `bulwark bench seed` and the integration tests.
 */
import { Agent, request } from 'undici';
import type { Verifier } from '../crypto/signature.ts';
import { sha256 } from '../crypto/ed25519.ts';
import { verifyEvidence, type EvidenceJson } from '../client/evidence.ts';

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
}

export class WalletHttp {
  readonly agent: Agent;
  constructor(private readonly o: WalletHttpOptions) {
    this.agent = new Agent({ connect: { ca: o.caPem, minVersion: 'TLSv1.3' }, connections: o.connections ?? 64, pipelining: 1 });
  }

  /**
   * Sends one request. @returns `data` of a 2xx answer, after checking its evidence.
   * @throws ApiError for a problem answer; Error if the evidence does not verify.
   */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ data: T; evidence: EvidenceJson; status: number }> {
    const res = await request(this.o.url + path, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`);
    }
    if (res.statusCode >= 400) throw new ApiError(res.statusCode, parsed as Problem);
    const { data, evidence } = parsed as { data: T; evidence: EvidenceJson };
    if (this.o.verifier) {
      const result = verifyEvidence(evidence, this.o.verifier, sha256, (this.o.f ?? 1) + 1);
      const signedText = Buffer.from(result).toString('utf8');
      if (!signedTextIsData(signedText, text)) {
        const signed = JSON.parse(signedText) as { ok: boolean; value?: unknown };
        if (JSON.stringify(signed.value) !== JSON.stringify(data)) throw new Error(`${method} ${path}: the response data is not what the replicas signed`);
      }
    }
    return { data, evidence, status: res.statusCode };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/**
 * Whether the signed result is exactly `{"ok":true,"value":D}` where D is the body's `data`
 * text, as the gateway sends it (`{"data":D,"evidence":{…}}`, the replicas' own bytes passed
 * through). Then the data is what the replicas signed, byte for byte, and the parse and two
 * serializations of the general check are not needed: on a 300-entry ledger page they were
 * ≈ 1 ms of the client's time. false when either text has another form: the caller then
 * compares the parsed values.
 */
export function signedTextIsData(signedText: string, body: string): boolean {
  const okPrefix = '{"ok":true,"value":';
  const dataPrefix = '{"data":';
  // The evidence is serialized by JSON.stringify from base64url strings and numbers: the
  // last ',"evidence":' in the body is the one that ends the data.
  const end = body.lastIndexOf(',"evidence":');
  if (!body.startsWith(dataPrefix) || end < dataPrefix.length || !signedText.startsWith(okPrefix) || !signedText.endsWith('}')) return false;
  const dataLength = end - dataPrefix.length;
  if (signedText.length !== okPrefix.length + dataLength + 1) return false;
  return signedText.slice(okPrefix.length, -1) === body.slice(dataPrefix.length, end);
}
