import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_TOTP_WINDOW } from './core/second-factor-lockout.js';

/** Every setting the server reads, with its environment variable. The README's table mirrors this. */
export interface Config {
  host: string;
  port: number;
  /** Origin users reach the server at; links in messages and the CSRF origin check use it. */
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL: connections per node (TWOFOLD_DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  /** PostgreSQL: how long a request waits for a connection before it is answered 503 (TWOFOLD_DATABASE_ACQUIRE_TIMEOUT_MS). */
  databaseAcquireTimeoutMs: number;
  /** PostgreSQL: longest a statement may run before it is cancelled and answered 503; 0 for no limit (TWOFOLD_DATABASE_STATEMENT_TIMEOUT_MS). */
  databaseStatementTimeoutMs: number;
  secretKey: string | undefined;
  /**
   * Further master keys that open sealed values but never seal new ones: the old key while a
   * rotation runs, or the next key before every node has it (TWOFOLD_ACCEPTED_SECRET_KEYS).
   */
  acceptedSecretKeys: string[];
  companyName: string;
  logLevel: string;
  trustProxy: boolean;
  sessionIdleMinutes: number;
  /** Days audit events are kept before the housekeeping sweep deletes them. */
  auditRetentionDays: number;
  /** Seconds between housekeeping sweeps on a serving node; 0 turns the sweep off. */
  housekeepingIntervalSeconds: number;
  sessionMaxHours: number;
  reauthMinutes: number;
  /** How long an admin's re-authentication ("sudo") lasts; longer than a person's own, so admin work is not interrupted every few minutes. */
  adminReauthMinutes: number;
  totpWindow: number;
  trustBrowserDays: number;
  signInFlowMinutes: number;
  /** How long a text-message or email code works. */
  codeMinutes: number;
  /** How long a user waits before asking for another code. */
  codeResendSeconds: number;
  /** Deadline of one attempt to hand a message to a provider. */
  deliveryTimeoutMs: number;
  /** Attempts per message for transient provider errors (1 = no retry). */
  deliveryAttempts: number;
  /** Let delivery providers connect to loopback, private and other internal addresses (default: public only). */
  deliveryAllowPrivate: boolean;
  /** One GeoIP database covering IPv4 and IPv6 (e.g. GeoLite2-City); unset = the bundled country data. */
  geoipDatabase: string | undefined;
  /** A pair of per-family GeoIP databases, used instead of `geoipDatabase`. */
  geoipIpv4Database: string | undefined;
  geoipIpv6Database: string | undefined;
  /** On SIGTERM/SIGINT, how long requests in flight may take to finish before they are cut off. */
  shutdownTimeoutMs: number;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const host = env.TWOFOLD_HOST || '127.0.0.1';
  const port = intVar(env, 'TWOFOLD_PORT', 8080, 0, 65535);
  const publicUrl = (env.TWOFOLD_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`TWOFOLD_PUBLIC_URL must be an absolute URL, got "${publicUrl}"`);
  }
  const databaseUrl = env.TWOFOLD_DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('TWOFOLD_DATABASE_URL must be a postgres:// URL (leave it unset for SQLite)');
  }
  const companyName = env.TWOFOLD_COMPANY_NAME || 'Twofold';
  // The name is the TOTP issuer; authenticator apps split their label at the first colon.
  if (companyName.includes(':') || companyName.length > 100) {
    throw new ConfigError('TWOFOLD_COMPANY_NAME must be at most 100 characters and contain no colon');
  }
  const geoip = geoipFiles(env);
  return {
    host,
    port,
    publicUrl,
    dataDir: resolve(env.TWOFOLD_DATA_DIR || './data'),
    databaseUrl,
    databasePoolSize: intVar(env, 'TWOFOLD_DATABASE_POOL_SIZE', 10, 1, 1000),
    databaseAcquireTimeoutMs: intVar(env, 'TWOFOLD_DATABASE_ACQUIRE_TIMEOUT_MS', 5_000, 50, 600_000),
    databaseStatementTimeoutMs: intVar(env, 'TWOFOLD_DATABASE_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    secretKey: env.TWOFOLD_SECRET_KEY || undefined,
    acceptedSecretKeys: (env.TWOFOLD_ACCEPTED_SECRET_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== ''),
    companyName,
    logLevel: env.TWOFOLD_LOG_LEVEL || 'info',
    trustProxy: boolVar(env, 'TWOFOLD_TRUST_PROXY', false),
    sessionIdleMinutes: intVar(env, 'TWOFOLD_SESSION_IDLE_MINUTES', 30, 1, 60 * 24 * 30),
    auditRetentionDays: intVar(env, 'TWOFOLD_AUDIT_RETENTION_DAYS', 400, 1, 36_500),
    housekeepingIntervalSeconds: intVar(env, 'TWOFOLD_HOUSEKEEPING_INTERVAL_SECONDS', 300, 0, 86_400),
    sessionMaxHours: intVar(env, 'TWOFOLD_SESSION_MAX_HOURS', 12, 1, 24 * 90),
    reauthMinutes: intVar(env, 'TWOFOLD_REAUTH_MINUTES', 5, 1, 60),
    adminReauthMinutes: intVar(env, 'TWOFOLD_ADMIN_REAUTH_MINUTES', 15, 1, 240),
    // Capped where the lockout's yearly guess bound still holds (core/second-factor-lockout.ts).
    totpWindow: intVar(env, 'TWOFOLD_TOTP_WINDOW', 1, 0, MAX_TOTP_WINDOW),
    trustBrowserDays: intVar(env, 'TWOFOLD_TRUST_BROWSER_DAYS', 90, 0, 365),
    signInFlowMinutes: intVar(env, 'TWOFOLD_SIGN_IN_FLOW_MINUTES', 10, 1, 60),
    codeMinutes: intVar(env, 'TWOFOLD_CODE_MINUTES', 10, 1, 60),
    codeResendSeconds: intVar(env, 'TWOFOLD_CODE_RESEND_SECONDS', 30, 0, 600),
    deliveryTimeoutMs: intVar(env, 'TWOFOLD_DELIVERY_TIMEOUT_MS', 10_000, 100, 60_000),
    deliveryAttempts: intVar(env, 'TWOFOLD_DELIVERY_ATTEMPTS', 3, 1, 5),
    deliveryAllowPrivate: boolVar(env, 'TWOFOLD_DELIVERY_ALLOW_PRIVATE', false),
    shutdownTimeoutMs: intVar(env, 'TWOFOLD_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    metricsToken: metricsToken(env),
    ...geoip,
  };
}

function metricsToken(env: Env): string | undefined {
  const token = env.TWOFOLD_METRICS_TOKEN || undefined;
  if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError('TWOFOLD_METRICS_TOKEN must be at least 16 characters, without spaces');
  }
  return token;
}

/** Checked at start: a missing database would otherwise surface only at the first sign-in. */
function geoipFiles(env: Env): Pick<Config, 'geoipDatabase' | 'geoipIpv4Database' | 'geoipIpv6Database'> {
  const file = (name: string): string | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    const path = resolve(raw);
    if (!existsSync(path)) throw new ConfigError(`${name} names a file that does not exist: ${path}`);
    return path;
  };
  const geoipDatabase = file('TWOFOLD_GEOIP_DB');
  const geoipIpv4Database = file('TWOFOLD_GEOIP_IPV4_DB');
  const geoipIpv6Database = file('TWOFOLD_GEOIP_IPV6_DB');
  if (!geoipIpv4Database !== !geoipIpv6Database) {
    throw new ConfigError('TWOFOLD_GEOIP_IPV4_DB and TWOFOLD_GEOIP_IPV6_DB must be set together');
  }
  if (geoipDatabase && geoipIpv4Database) {
    throw new ConfigError('Set either TWOFOLD_GEOIP_DB or TWOFOLD_GEOIP_IPV4_DB with TWOFOLD_GEOIP_IPV6_DB, not both');
  }
  return { geoipDatabase, geoipIpv4Database, geoipIpv6Database };
}
