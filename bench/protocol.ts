/** Messages between bench/run.ts (load generator) and bench/servers.ts (the servers under test). */

export interface Credentials {
  email: string;
  password: string;
}

/** One pending second step: a flow's raw challenge and the user's TOTP secret (code made at send time). */
export interface PendingSecondFactor {
  challenge: string;
  secret: string;
}

export interface ReadyMessage {
  type: 'ready';
  bareUrl: string;
  /** The Fastify reference: one route, one SQLite read (bench/framework-floor.ts). */
  floorUrl: string;
  twofoldUrl: string;
  /** Raw value of a live twofold_session cookie. */
  sessionToken: string;
  signInUsers: Credentials[];
  secondFactorPool: PendingSecondFactor[];
  setupMs: number;
  backend: 'sqlite' | 'postgres';
  /** Whether the server writes its access log (to /dev/null), as a production server would. */
  logging: boolean;
  /** The server process's RSS once set up, before any load. */
  idleRssBytes: number;
}

export interface CountsMessage {
  type: 'counts';
  completedFlows: number;
  sessions: number;
  failedSecondFactorEvents: number;
  /** Highest RSS of the server process seen during the run (sampled every 50 ms). */
  peakRssBytes: number;
}

/** The server's highest RSS since the last such message (or since ready): one scenario's peak. */
export interface PeakMessage {
  type: 'peak';
  peakRssBytes: number;
  /** CPU time the server process used since the last 'mark' (ms, 10 ms resolution). */
  cpuMs: number;
}

export type ChildMessage = ReadyMessage | CountsMessage | PeakMessage | { type: 'marked' } | { type: 'stopped' };

/** 'mark' starts counting the server's CPU time for the next 'peak'. */
export type ParentMessage = { type: 'count' } | { type: 'mark' } | { type: 'peak' } | { type: 'stop' };
