/**
 * Paging cursors: opaque to clients, base64url of `<kind>.<ledger index>`.
 *
 * A cursor names the ledger index of the next entry to return. The kind letter keeps a
 * cursor of the global ledger ('g') from being accepted by an account listing ('a') and
 * vice versa. Decoding is strict (canonical base64url, canonical decimal, safe integer),
 * so each position has exactly one cursor; whether the index exists is the listing's check.
 */
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';

export type CursorKind = 'g' | 'a';

/** Longest cursor text accepted, characters (`a.` + 16 digits, base64url): bounds work on bad input. */
export const CURSOR_CHARS_MAX = 32;

const CURSOR_TEXT = /^([ga])\.(0|[1-9][0-9]{0,15})$/;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Cursor for the entry at ledger `index` in a listing of `kind`. */
export function encodeCursor(kind: CursorKind, index: number): string {
  return encodeBase64Url(utf8Encoder.encode(`${kind}.${index}`));
}

/**
 * @returns the ledger index the cursor names, or undefined if the text is not a cursor
 *   of `kind` this service could have issued.
 */
export function decodeCursor(kind: CursorKind, text: string): number | undefined {
  if (text.length === 0 || text.length > CURSOR_CHARS_MAX) return undefined;
  const bytes = decodeBase64Url(text);
  if (bytes === undefined) return undefined;
  let decoded: string;
  try {
    decoded = utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
  const match = CURSOR_TEXT.exec(decoded);
  if (match === null || match[1] !== kind) return undefined;
  const index = Number(match[2]);
  return Number.isSafeInteger(index) ? index : undefined;
}
