/**
 * Reply bytes: UTF-8 JSON `{"ok":true,"value":…}` or `{"ok":false,"error":{"code","message","field"?}}`.
 *
 * Replies are voted on by the client (f+1 identical replies), so every replica must
 * produce the same bytes: all objects written here are built as literals in one fixed
 * key order (ledger entries are literals WalletState.entryAt builds in one key order), bigints are
 * written as decimal strings, and nothing is taken from Map or object-key iteration.
 */
import type { WalletError } from './errors.ts';
import { JsonText } from './json-text.ts';

/** What a handler returns: a value to reply with, or an error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WalletError };

const utf8 = new TextEncoder();

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failure<T = never>(error: WalletError): Outcome<T> {
  return { ok: false, error };
}

/** Encodes an outcome as reply bytes; a JsonText value is written as its text. */
export function encodeOutcome(outcome: Outcome<unknown>): Uint8Array {
  if (outcome.ok && outcome.value instanceof JsonText) return utf8.encode(`{"ok":true,"value":${outcome.value.text}}`);
  if (outcome.ok) return utf8.encode(JSON.stringify({ ok: true, value: outcome.value }));
  return encodeError(outcome.error);
}

/** Encodes an error reply, keys in the order code, message, field. */
export function encodeError(error: WalletError): Uint8Array {
  const body = error.field === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, field: error.field };
  return utf8.encode(JSON.stringify({ ok: false, error: body }));
}
