/**
 * The master keys a node holds, and the box built from them. Which key seals is
 * TWOFOLD_SECRET_KEY (or the key file); TWOFOLD_ACCEPTED_SECRET_KEYS only open. The lookup
 * peppers come from the database's derivation root (see core/crypto.ts), which the first start
 * records, sealed, so that it survives a change of the master key.
 */
import { SecretBox, keyIdOf, parseSecretKey } from '../core/crypto.js';
import { isTwofoldError } from '../core/errors.js';
import type { Database } from '../store/index.js';
import { keyMaterial } from '../store/index.js';
import { keyMaterialContext } from './secret-contexts.js';

export const DERIVATION_ROOT = 'derivation-root';

export interface MasterKeys {
  current: Buffer;
  accepted: Buffer[];
}

export class KeyRingError extends Error {}

export function parseAcceptedKeys(texts: readonly string[]): Buffer[] {
  return texts.map((text, i) => {
    try {
      return parseSecretKey(text);
    } catch {
      throw new KeyRingError(`TWOFOLD_ACCEPTED_SECRET_KEYS: entry ${i + 1} is not a key (64 hex characters or base64 of 32 bytes)`);
    }
  });
}

/**
 * The box every service uses. On a database that has no derivation root yet (made before key
 * rotation existed, or brand new) the current key becomes it, as it always was: but only when
 * it is the one key configured, since with several it cannot be known which one the existing
 * lookup hashes were made with.
 */
export async function openSecretBox(database: Database, keys: MasterKeys, now: number): Promise<SecretBox> {
  const ring = new SecretBox({ current: keys.current, accepted: keys.accepted });
  const context = keyMaterialContext(DERIVATION_ROOT);
  let sealed = await keyMaterial.readSealed(database.db, DERIVATION_ROOT);
  if (sealed === null) {
    if (keys.accepted.length > 0) {
      throw new KeyRingError(
        'this database records no derivation key yet: start this version once with TWOFOLD_SECRET_KEY alone (the key it was made with), then add TWOFOLD_ACCEPTED_SECRET_KEYS',
      );
    }
    await keyMaterial.insertIfAbsent(database.db, DERIVATION_ROOT, ring.encrypt(keys.current.toString('hex'), context), now);
    sealed = (await keyMaterial.readSealed(database.db, DERIVATION_ROOT)) ?? '';
  }
  let root: Buffer;
  try {
    root = Buffer.from(ring.decrypt(sealed, context), 'hex');
  } catch (error) {
    if (!isTwofoldError(error)) throw error;
    const held = [keys.current, ...keys.accepted].map(keyIdOf).join(', ');
    throw new KeyRingError(`none of the configured secret keys (key ids ${held}) opens this database: set TWOFOLD_SECRET_KEY to the key it was sealed with (see "Key rotation" in the README)`);
  }
  return new SecretBox({ current: keys.current, accepted: keys.accepted, derivationRoot: root });
}
