// Identifiers and secrets.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** A 32-character lowercase hex id (the shape MLflow uses for run ids). */
export function newId(): string {
  return randomUUID().replaceAll('-', '');
}

let lastMs = 0;
let lastMsHex = '';
let counter = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter (method 1: it
 * starts at a random value below 2048 each millisecond and counts up, so ids made in one process
 * sort in the order they were made), then the variant and 62 random bits (taken from a random
 * UUID, which Node draws from a cached pool). Ids that sort by time keep the indexes that hold them
 * appending at one end (the prediction log's request ids) instead of writing all over.
 */
export function newTimeOrderedId(now: number = Date.now()): string {
  const random = randomUUID();
  if (now > lastMs) {
    lastMs = now;
    lastMsHex = now.toString(16).padStart(12, '0');
    counter = Number.parseInt(random.slice(0, 3), 16) & 0x7ff;
  } else {
    counter++;
    if (counter > 0xfff) {
      // More than 2048 ids in one millisecond: borrow the next millisecond, as RFC 9562 allows.
      lastMs++;
      lastMsHex = lastMs.toString(16).padStart(12, '0');
      counter = 0;
    }
  }
  // randomUUID() is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx with the RFC variant in V: keep from its fourth group on.
  return `${lastMsHex.slice(0, 8)}-${lastMsHex.slice(8)}-7${counter.toString(16).padStart(3, '0')}${random.slice(18)}`;
}

/** A random URL-safe secret with the given prefix, e.g. `plinth_…`. 32 bytes of entropy. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** Hex sha256 of a string or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
