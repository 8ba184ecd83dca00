import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { SecretBox } from '../core/crypto.js';
import { parseSecretKey, randomToken } from '../core/crypto.js';
import type { Database } from '../store/index.js';
import { connectDatabase, migrateToLatest } from '../store/index.js';
import type { Clock, ServiceSettings } from './context.js';
import { geoIpFilesFrom } from './geoip.js';
import { openSecretBox, parseAcceptedKeys } from './key-ring.js';
import type { Services } from './index.js';
import { createServices } from './index.js';

export interface Runtime {
  database: Database;
  /** The master-key box: for operator tooling and tests that check what is stored sealed. */
  box: SecretBox;
  services: Services;
  appliedMigrations: string[];
  close(): Promise<void>;
}

export function settingsFrom(config: Config): ServiceSettings {
  return {
    companyName: config.companyName,
    publicUrl: config.publicUrl,
    sessionIdleMs: config.sessionIdleMinutes * 60_000,
    auditRetentionMs: config.auditRetentionDays * 86_400_000,
    housekeepingIntervalMs: config.housekeepingIntervalSeconds * 1000,
    sessionMaxMs: config.sessionMaxHours * 3_600_000,
    reauthMs: config.reauthMinutes * 60_000,
    adminReauthMs: config.adminReauthMinutes * 60_000,
    totpWindow: config.totpWindow,
    trustBrowserDays: config.trustBrowserDays,
    signInFlowMs: config.signInFlowMinutes * 60_000,
    enrolmentMs: 15 * 60_000,
    dataDir: config.dataDir,
    codeValidityMs: config.codeMinutes * 60_000,
    codeResendMs: config.codeResendSeconds * 1000,
    deliveryTimeoutMs: config.deliveryTimeoutMs,
    deliveryAttempts: config.deliveryAttempts,
    deliveryAllowPrivate: config.deliveryAllowPrivate,
    geoIp: geoIpFilesFrom(config),
  };
}

/**
 * The master key: TWOFOLD_SECRET_KEY when set (required when several nodes share PostgreSQL),
 * else a key file made once in the data directory, readable only by its owner.
 */
export function loadSecretKey(config: Config): Buffer {
  if (config.secretKey) return parseSecretKey(config.secretKey);
  const file = join(config.dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${Buffer.from(randomToken(32), 'base64url').toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return parseSecretKey(readFileSync(file, 'utf8').trim());
}

/** Opens the database, applies migrations and wires the services: what `serve` and every CLI command share. */
export async function openRuntime(config: Config, options: { clock?: Clock; postgresSchema?: string } = {}): Promise<Runtime> {
  const keys = { current: loadSecretKey(config), accepted: parseAcceptedKeys(config.acceptedSecretKeys) };
  const clock = options.clock ?? Date.now;
  const database = connectDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    ...(options.postgresSchema ? { postgresSchema: options.postgresSchema } : {}),
    pool: { size: config.databasePoolSize, acquireTimeoutMs: config.databaseAcquireTimeoutMs, statementTimeoutMs: config.databaseStatementTimeoutMs },
  });
  try {
    const { applied } = await migrateToLatest(database);
    const box = await openSecretBox(database, keys, clock());
    const services = createServices({ database, box, settings: settingsFrom(config), clock });
    return { database, box, services, appliedMigrations: applied, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}
