// The key of the keyed hash (HMAC-SHA256) that replaces sensitive feature values in the prediction
// log. A configured key (PLINTH_PREDLOG_HASH_KEY) wins; otherwise a random 256-bit key is generated
// on first start and kept in the data folder as `predlog-hash.key` (mode 0600), so hashes stay
// comparable across restarts. Servers that share one PostgreSQL database but not a data folder must
// set the same PLINTH_PREDLOG_HASH_KEY on each, or their hashes of one value differ.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The file name of the generated key inside the data folder. */
export const HASH_KEY_FILE = 'predlog-hash.key';

/**
 * The HMAC key: `configured` when given, else the one kept in `dataDir` (generated there the first
 * time; two processes racing to create it agree on the first one written).
 */
export function loadHashKey(dataDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = path.join(dataDir, HASH_KEY_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing !== '') return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  try {
    fs.writeFileSync(file, key + '\n', { flag: 'wx', mode: 0o600 });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw error;
  }
}
