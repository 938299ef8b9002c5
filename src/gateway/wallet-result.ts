/**
 * Reads the wallet's result bytes: UTF-8 JSON
 *   { "ok": true, "value": {...} }  or  { "ok": false, "error": { "code", "message", "field"? } }.
 *
 * f+1 replicas agreed on these bytes, so they are the cluster's answer; still, the gateway
 * checks their shape before using them, and says so (502) rather than crash when a wallet
 * of another version answers something it cannot read. The exception is a success that the
 * replica in the gateway's own process also sent: this build wrote it (see decodeWalletResult).
 */
import { GatewayError, isWalletErrorCode, type WalletErrorCode } from './errors.ts';
import { WALLET_SUCCESS_PREFIX } from './wire.ts';

export type WalletResult =
  | { ok: true; valueJson: string; /** valueJson is the result text's own bytes, cut from `{"ok":true,"value":…}` */ valueIsCut: boolean }
  | { ok: false; error: { code: string; message: string; field?: string } };

/** Longest wallet message or field name copied into a problem (the rest is cut). */
const TEXT_CHARS_MAX = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @param ownBuild the bytes are (also) the reply of the replica in this process, so this
 *   build's `encodeOutcome` wrote them: a success is then exactly `{"ok":true,"value":V}`
 *   with V valid JSON, and its value is cut out without parsing the whole result (JSON.parse
 *   of a 300-entry page is ≈ 0.28 ms here; docs/performance.md, lever 40). Errors, and every
 *   result of other replicas only, are parsed and checked as below.
 * @returns the result, its value as JSON text.
 * @throws GatewayError INVALID_WALLET_RESULT when the bytes are not UTF-8 JSON of that shape.
 */
export function decodeWalletResult(bytes: Uint8Array, ownBuild = false): WalletResult {
  let parsed: unknown;
  let text: string;
  try {
    text = utf8.decode(bytes);
    if (ownBuild && text.startsWith(WALLET_SUCCESS_PREFIX) && text.endsWith('}')) {
      return { ok: true, valueJson: text.slice(WALLET_SUCCESS_PREFIX.length, -1), valueIsCut: true };
    }
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError('INVALID_WALLET_RESULT', 'the replicas answered with a result that is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid('not a JSON object');
  const result = parsed as Record<string, unknown>;
  if (result.ok === true) {
    if (!('value' in result)) throw invalid('ok result without value');
    const cut = valueText(text, result);
    return { ok: true, valueJson: cut ?? JSON.stringify(result.value), valueIsCut: cut !== null };
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


/**
 * The value's JSON text cut from the result text, when the result is exactly
 * `{"ok":true,"value":…}` (two keys, in that order, nothing around them): the route then
 * sends the replicas' own bytes instead of serializing the parsed value again, which was
 * ≈ 6 % of the gateway's wall time on 45 KB ledger pages (docs/performance.md, "Ledger pages"). null for any other form (then the
 * parsed value is serialized, as before). Sound because f+1 replicas, at least one correct,
 * sent these bytes, and a correct wallet of any version writes them with JSON.stringify,
 * which never repeats a key (a repeated "value" would pass the key check and cut badly).
 */
function valueText(text: string, parsed: Record<string, unknown>): string | null {
  if (!text.startsWith(WALLET_SUCCESS_PREFIX) || !text.endsWith('}')) return null;
  const keys = Object.keys(parsed);
  if (keys.length !== 2 || keys[0] !== 'ok' || keys[1] !== 'value') return null;
  return text.slice(WALLET_SUCCESS_PREFIX.length, -1);
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
