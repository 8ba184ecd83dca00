import type { SecretBox } from '../core/crypto.js';
import type { Database } from '../store/index.js';

export type Clock = () => number;

/** Who is asking: recorded on sessions and audit events, and used for per-IP limits. */
export interface RequestMeta {
  ip: string;
  userAgent: string;
  /** The long-lived device cookie, when the browser sent one: how a device is recognised. */
  deviceToken?: string | undefined;
}

export interface ServiceSettings {
  companyName: string;
  publicUrl: string;
  sessionIdleMs: number;
  /** Audit events older than this are swept (TWOFOLD_AUDIT_RETENTION_DAYS). */
  auditRetentionMs: number;
  /** How often the housekeeping sweep runs on a serving node; 0: never (TWOFOLD_HOUSEKEEPING_INTERVAL_SECONDS). */
  housekeepingIntervalMs: number;
  sessionMaxMs: number;
  reauthMs: number;
  /** The step-up window for admin areas (TWOFOLD_ADMIN_REAUTH_MINUTES). */
  adminReauthMs: number;
  totpWindow: number;
  trustBrowserDays: number;
  signInFlowMs: number;
  /** How long an unconfirmed authenticator enrolment stays usable. */
  enrolmentMs: number;
  /** The data directory: the development outbox is written below it. */
  dataDir: string;
  codeValidityMs: number;
  codeResendMs: number;
  deliveryTimeoutMs: number;
  deliveryAttempts: number;
  /** TWOFOLD_DELIVERY_ALLOW_PRIVATE: providers may connect to internal addresses. Unset means no. */
  deliveryAllowPrivate?: boolean;
  /** Which GeoIP database(s) the new-location check reads. */
  geoIp: GeoIpFiles;
}

/** One database for both address families, or one per family (looked up by the address's family). */
export type GeoIpFiles = { database: string } | { ipv4Database: string; ipv6Database: string };

export interface ServiceDeps {
  database: Database;
  box: SecretBox;
  settings: ServiceSettings;
  clock: Clock;
}
