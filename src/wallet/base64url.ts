/**
 * Strict base64url (RFC 4648 §5, no padding). Node's decoder is lenient (it skips
 * bad characters and ignores trailing bits), so two different strings could name the
 * same key or signature; here exactly one string is accepted for each byte string.
 */

const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/** Encodes bytes as base64url without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Decodes canonical base64url (no padding, unused trailing bits zero).
 * @param bytesExpected if given, the decoded length must equal it.
 * @returns the bytes, or undefined if the text is not canonical base64url of that length.
 */
export function decodeBase64Url(text: string, bytesExpected?: number): Uint8Array | undefined {
  if (bytesExpected !== undefined && text.length !== Math.ceil((bytesExpected * 4) / 3)) return undefined;
  if (!BASE64URL_TEXT.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return undefined;
  if (bytesExpected !== undefined && bytes.length !== bytesExpected) return undefined;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
