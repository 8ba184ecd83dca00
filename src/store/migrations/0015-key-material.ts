import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * Key rotation: a place for key material that must outlive a master key, sealed under the
 * current one. Its one row today is the derivation root, the key lookup peppers come from (see
 * core/crypto.ts `SecretBoxKeys.derivationRoot` and services/key-ring.ts).
 */
export const keyMaterial: VersionedMigration = {
  name: '0015-key-material',
  async up(db) {
    await db.schema
      .createTable('key_material')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('sealed', 'text', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .execute();
  },
};
