/** Messages between bench/scale.ts (the measuring side) and bench/scale-server.ts (the server under test). */
import type { PendingSecondFactor } from './protocol.js';
import type { ScaleSizes } from './scale-load.js';

export const PASSWORD = 'correct horse battery staple 42';
/** The bench admin's own events: what their activity pages and the CSV export read (about the 9,846). */
export const OWN_EVENTS = 10_000;

export interface ScaleServerArgs {
  label: string;
  sizes: ScaleSizes;
  /** PostgreSQL URL, or null for SQLite. */
  databaseUrl: string | null;
  /** Keep the schema (or SQLite directory) afterwards, and use it again if it is already loaded. */
  schema: string;
  keep: boolean;
  secondFactorPool: number;
}

export interface ScaleReady {
  type: 'ready';
  url: string;
  admin: { email: string; password: string };
  /** Generated people without a factor: password sign-ins answer `signed_in`. */
  signInEmails: string[];
  password: string;
  pool: PendingSecondFactor[];
  usersDeepAfter: string;
  auditDeepCursor: string;
  activityDeepCursor: string;
  loadSteps: Array<[string, number]>;
  loadMs: number;
  reused: boolean;
}

export type ScaleChildMessage = ScaleReady | { type: 'stopped' };

