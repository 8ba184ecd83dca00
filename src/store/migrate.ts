import { Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import type { VersionedMigration } from './migrations/helpers.js';
import { foundation } from './migrations/0001-foundation.js';
import { secondFactors } from './migrations/0002-second-factors.js';
import { policies } from './migrations/0003-policies.js';
import { delivery } from './migrations/0004-delivery.js';
import { sudo } from './migrations/0005-sudo.js';
import { deploys } from './migrations/0007-deploys.js';
import { devicesLocations } from './migrations/0008-devices-locations.js';
import { securityCentre } from './migrations/0009-security-centre.js';
import { oidc } from './migrations/0010-oidc.js';
import { oidcAudienceHashedTokens } from './migrations/0011-oidc-audience-hashed-tokens.js';
import { indexes } from './migrations/0012-indexes.js';
import { invitations } from './migrations/0013-invitations.js';
import { branding } from './migrations/0014-branding.js';
import { keyMaterial } from './migrations/0015-key-material.js';
import { signInFlowReturnTo } from './migrations/0016-sign-in-flow-return-to.js';
import { setUpAgain } from './migrations/0017-set-up-again.js';
import { webauthn } from './migrations/0018-webauthn.js';
import { phoneApprovals } from './migrations/0019-phone-approvals.js';
import { defaultMethodEmailedCodes } from './migrations/0020-default-method-emailed-codes.js';
import { phishingResistantPolicy } from './migrations/0021-phishing-resistant-policy.js';
import { rolePhishingResistant } from './migrations/0022-role-phishing-resistant.js';

/** Ordered list: append only. A released migration is never edited. */
export const MIGRATIONS: readonly VersionedMigration[] = [foundation, secondFactors, policies, delivery, sudo, deploys, devicesLocations, securityCentre, oidc, oidcAudienceHashedTokens, indexes, invitations, branding, keyMaterial, signInFlowReturnTo, setUpAgain, webauthn, phoneApprovals, defaultMethodEmailedCodes, phishingResistantPolicy, rolePhishingResistant];

export interface MigrationOutcome {
  applied: string[];
}

/**
 * Kysely's migrator takes a lock (a table lock on PostgreSQL), so several nodes starting at
 * once apply each migration exactly once.
 */
export async function migrateToLatest(database: Database): Promise<MigrationOutcome> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const entries: Record<string, Migration> = {};
      for (const migration of MIGRATIONS) {
        entries[migration.name] = {
          up: async (db: Kysely<unknown>) => {
            // An index on a big table may take longer than the serving statement_timeout allows.
            if (database.dialect === 'postgres') await sql`set local statement_timeout = 0`.execute(db);
            await migration.up(db, database.dialect);
          },
        };
      }
      return entries;
    },
  };
  const migrator = new Migrator({
    db: database.db,
    provider,
    migrationTableName: 'twofold_migrations',
    migrationLockTableName: 'twofold_migrations_lock',
    // Kysely looks for its tables in every schema unless told which one: another schema's
    // twofold_migrations (a second deployment, a test) would make it skip creating ours.
    ...(database.dialect === 'postgres' ? { migrationTableSchema: await currentSchema(database) } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { applied: appliedNames(results) };
}

function appliedNames(results: MigrationResultSet['results']): string[] {
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function currentSchema(database: Database): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check search_path');
  return schema;
}
