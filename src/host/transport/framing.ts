/**
 * Wire framing: each frame is a 4-byte big-endian length, then that many bytes. Frames are
 * opaque to the transport.
 */

export const FRAME_HEADER_BYTES = 4;
/** Default largest frame a peer may announce: 16 MiB. */
export const FRAME_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;
/** The header can express at most 2^32-1 bytes. */
export const FRAME_BYTES_LIMIT = 0xffff_ffff;

/** @throws RangeError when `frameBytesMax` is not an integer in [0, 2^32-1]. */
export function assertFrameBytesMax(frameBytesMax: number): void {
  if (!Number.isInteger(frameBytesMax) || frameBytesMax < 0 || frameBytesMax > FRAME_BYTES_LIMIT) {
    throw new RangeError(`frameBytesMax must be an integer in [0, 2^32-1], got ${frameBytesMax}`);
  }
}
