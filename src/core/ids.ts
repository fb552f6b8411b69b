// Identifiers and secrets.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A 32-character lowercase hex id (the shape MLflow uses for run ids). */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

let lastMs = 0;
let counter = 0;
/** Random bytes drawn 2,560 at a time: one system call per 256 ids instead of one per id. */
let pool = Buffer.alloc(0);
let poolAt = 0;

function tenRandomBytes(): Buffer {
  if (poolAt + 10 > pool.length) {
    pool = randomBytes(2560);
    poolAt = 0;
  }
  poolAt += 10;
  return pool.subarray(poolAt - 10, poolAt);
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter (method 1: it
 * starts at a random value below 2048 each millisecond and counts up, so ids made in one process
 * sort in the order they were made), then 62 random bits. Ids that sort by time keep the indexes
 * that hold them appending at one end (the prediction log's request ids) instead of writing all over.
 */
export function newTimeOrderedId(now: number = Date.now()): string {
  const random = tenRandomBytes();
  if (now > lastMs) {
    lastMs = now;
    counter = ((random[0]! << 8) | random[1]!) & 0x7ff;
  } else {
    counter++;
    if (counter > 0xfff) {
      // More than 2048 ids in one millisecond: borrow the next millisecond, as RFC 9562 allows.
      lastMs++;
      counter = 0;
    }
  }
  const ms = lastMs.toString(16).padStart(12, '0');
  const variant = (0x80 | (random[2]! & 0x3f)).toString(16);
  const tail = random.subarray(3).toString('hex');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${counter.toString(16).padStart(3, '0')}-${variant}${tail.slice(0, 2)}-${tail.slice(2, 14)}`;
}

/** A random URL-safe secret with the given prefix, e.g. `plinth_…`. 32 bytes of entropy. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
