// Identifiers and secrets.
import { createHash, randomBytes, randomFillSync, randomUUID } from 'node:crypto';

/** A 32-character lowercase hex id (the shape MLflow uses for run ids). */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

let lastMs = 0;
let lastMsHex = '';
let counter = 0;

/** Random bytes for time-ordered ids, refilled in one call per RANDOM_POOL_BYTES / 10 ids. */
const RANDOM_POOL_BYTES = 8190;
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES);
let randomOffset = RANDOM_POOL_BYTES;
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter (method 1: it
 * starts at a random value below 2048 each millisecond and counts up, so ids made in one process
 * sort in the order they were made), then the variant and 62 random bits (from a pool of
 * cryptographically random bytes, refilled by randomFillSync; each server request makes one, so it
 * is built from a byte-to-hex table rather than a random UUID's text). Ids that sort by time keep
 * the indexes that hold them appending at one end (the prediction log's request ids) instead of
 * writing all over.
 */
export function newTimeOrderedId(now: number = Date.now()): string {
  if (randomOffset + 10 > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const pool = randomPool;
  const at = randomOffset;
  randomOffset += 10;
  if (now > lastMs) {
    lastMs = now;
    lastMsHex = now.toString(16).padStart(12, '0');
    counter = ((pool[at]! << 8) | pool[at + 1]!) & 0x7ff;
  } else {
    counter++;
    if (counter > 0xfff) {
      // More than 2048 ids in one millisecond: borrow the next millisecond, as RFC 9562 allows.
      lastMs++;
      lastMsHex = lastMs.toString(16).padStart(12, '0');
      counter = 0;
    }
  }
  // Fourth group: the RFC variant (binary 10) and 14 random bits; fifth group: 48 random bits.
  return (
    `${lastMsHex.slice(0, 8)}-${lastMsHex.slice(8)}-7${counter.toString(16).padStart(3, '0')}-` +
    `${HEX_BYTE[0x80 | (pool[at + 2]! & 0x3f)]}${HEX_BYTE[pool[at + 3]!]}-` +
    `${HEX_BYTE[pool[at + 4]!]}${HEX_BYTE[pool[at + 5]!]}${HEX_BYTE[pool[at + 6]!]}${HEX_BYTE[pool[at + 7]!]}${HEX_BYTE[pool[at + 8]!]}${HEX_BYTE[pool[at + 9]!]}`
  );
}

/** A random URL-safe secret with the given prefix, e.g. `plinth_…`. 32 bytes of entropy. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
