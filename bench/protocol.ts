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
}

export type ChildMessage = ReadyMessage | CountsMessage | PeakMessage | { type: 'stopped' };

export type ParentMessage = { type: 'count' } | { type: 'peak' } | { type: 'stop' };
