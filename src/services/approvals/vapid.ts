import type { VapidKeyPair } from '../../delivery/index.js';
import { generateVapidKeys } from '../../delivery/index.js';
import { keyMaterial } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import { keyMaterialContext } from '../secret-contexts.js';

const VAPID_KEYS = 'vapid-keys';

/**
 * Twofold's VAPID key pair (RFC 8292): made once, sealed in `key_material` (so a master-key
 * rotation re-seals it with the rest), the same on every node: the first node to store one wins.
 */
export class VapidKeys {
  private cached: Promise<VapidKeyPair> | undefined;

  constructor(private readonly deps: ServiceDeps) {}

  get(): Promise<VapidKeyPair> {
    this.cached ??= this.load().catch((error: unknown) => {
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  /** The subject pushes are signed with: the public URL when it is https, else a mailto the push services accept. */
  subject(): string {
    const url = new URL(this.deps.settings.publicUrl);
    return url.protocol === 'https:' ? url.origin : `mailto:operator@${url.hostname === 'localhost' || /^[\d.]+$/.test(url.hostname) ? 'example.invalid' : url.hostname}`;
  }

  private async load(): Promise<VapidKeyPair> {
    const db = this.deps.database.db;
    const context = keyMaterialContext(VAPID_KEYS);
    let sealed = await keyMaterial.readSealed(db, VAPID_KEYS);
    if (sealed === null) {
      await keyMaterial.insertIfAbsent(db, VAPID_KEYS, this.deps.box.encrypt(JSON.stringify(generateVapidKeys()), context), this.deps.clock());
      sealed = await keyMaterial.readSealed(db, VAPID_KEYS);
      if (sealed === null) throw new Error('VAPID keys were not stored');
    }
    return JSON.parse(this.deps.box.decrypt(sealed, context)) as VapidKeyPair;
  }
}
