/**
 * Reads the wallet's result bytes: UTF-8 JSON
 *   { "ok": true, "value": {...} }  or  { "ok": false, "error": { "code", "message", "field"? } }.
 *
 * f+1 replicas agreed on these bytes, so they are the cluster's answer; still, the gateway
 * checks their shape before using them, and says so (502) rather than crash when a wallet
 * of another version answers something it cannot read.
 */
import { GatewayError, isWalletErrorCode, type WalletErrorCode } from './errors.ts';

export type WalletResult =
  | { ok: true; value: unknown }
  | { ok: false; error: { code: string; message: string; field?: string } };

/** Longest wallet message or field name copied into a problem (the rest is cut). */
const TEXT_CHARS_MAX = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @returns the parsed result.
 * @throws GatewayError INVALID_WALLET_RESULT when the bytes are not UTF-8 JSON of that shape.
 */
export function decodeWalletResult(bytes: Uint8Array): WalletResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new GatewayError('INVALID_WALLET_RESULT', 'the replicas answered with a result that is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a JSON object');
  const result = parsed as Record<string, unknown>;
  if (result.ok === true) {
    if (!('value' in result)) throw invalid('ok result without value');
    return { ok: true, value: result.value };
  }
  if (result.ok === false) {
    const error = result.error as Record<string, unknown> | null | undefined;
    if (typeof error !== 'object' || error === null || typeof error.code !== 'string') throw invalid('error result without code');
    const message = typeof error.message === 'string' ? error.message.slice(0, TEXT_CHARS_MAX) : '';
    const out: { code: string; message: string; field?: string } = { code: error.code, message };
    if (typeof error.field === 'string') out.field = error.field.slice(0, TEXT_CHARS_MAX);
    return { ok: false, error: out };
  }
  throw invalid('"ok" is neither true nor false');
}

function invalid(why: string): GatewayError {
  return new GatewayError('INVALID_WALLET_RESULT', `the replicas answered with a result this gateway cannot read: ${why}`);
}

/**
 * The problem for a wallet error result; `evidence` rides along so a client can check that
 * f+1 replicas really refused. An unknown code (a newer wallet) is a 502, not a guess.
 */
export function walletErrorProblem(error: { code: string; message: string; field?: string }, evidence: unknown): GatewayError {
  if (!isWalletErrorCode(error.code)) {
    return new GatewayError('UNKNOWN_WALLET_ERROR', `the wallet answered with an error code this gateway does not know: ${error.code.slice(0, 64)}`, { evidence });
  }
  const code: WalletErrorCode = error.code;
  const detail = error.message === '' ? code : error.message;
  return error.field === undefined
    ? new GatewayError(code, detail, { evidence })
    : new GatewayError(code, detail, { field: error.field, evidence });
}
