import { toCsv } from '../core/csv.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { invalidInput } from '../core/errors.js';
import { formatInTimeZone } from '../core/time-zone.js';
import { deviceLabel } from '../core/user-agent.js';
import type { AuditEvent, User } from '../store/index.js';
import { audit } from '../store/index.js';
import type { AuditEventType } from './audit-log.js';
import type { ServiceDeps } from './context.js';

export interface ActivityCategory {
  key: string;
  label: string;
  types: readonly AuditEventType[];
}

/** What a user's own activity log shows, grouped for the filter. Other audit events stay with admins. */
export const ACTIVITY_CATEGORIES: readonly ActivityCategory[] = [
  { key: 'sign_in', label: 'Sign-ins', types: ['sign_in.succeeded', 'sign_in.failed', 'sign_in.limited', 'sign_in.blocked', 'second_factor.failed', 'second_factor.locked_out'] },
  { key: 'sign_out', label: 'Sign-outs', types: ['sign_out'] },
  { key: 'sessions', label: 'Sessions ended', types: ['session.revoked', 'sessions.others_revoked'] },
  { key: 'password', label: 'Password', types: ['password.changed', 'password_reset.requested', 'password_reset.completed'] },
  { key: 'factors', label: 'Two-step verification', types: ['factor.confirmed', 'factor.removed', 'admin.factors_reset'] },
  { key: 'backup_codes', label: 'Backup codes', types: ['backup_codes.generated', 'backup_codes.regenerated', 'backup_code.used', 'admin.backup_codes_viewed', 'admin.backup_codes_regenerated'] },
  { key: 'trusted_browsers', label: 'Trusted browsers', types: ['trusted_browser.created', 'trusted_browser.revoked'] },
  { key: 'blocks', label: 'Blocks', types: ['device.blocked', 'device.unblocked', 'location.blocked', 'location.unblocked'] },
  { key: 'settings', label: 'Settings', types: ['time_zone.changed', 'notification_settings.changed'] },
];

const ALL_TYPES: readonly string[] = ACTIVITY_CATEGORIES.flatMap((c) => c.types);
const CATEGORY_OF = new Map<string, string>(ACTIVITY_CATEGORIES.flatMap((c) => c.types.map((t) => [t, c.key] as const)));

export interface ActivityEntry {
  id: number;
  type: string;
  category: string;
  /** One sentence for people: "Signed in", "Sign-in refused: blocked device". */
  summary: string;
  occurredAt: number;
  ip: string | null;
  userAgent: string | null;
  /** "Chrome on macOS", from the User-Agent of the request. */
  device: string | null;
  details: Record<string, unknown>;
}

export interface ActivityPage {
  entries: ActivityEntry[];
  nextCursor: string | null;
}

export interface ActivityRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
  /** Category keys or event types; empty or absent means everything. */
  filter?: readonly string[] | undefined;
}

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 200;
/** An export holds at most this many events (years of an ordinary account's activity). */
export const MAX_EXPORT_ROWS = 10_000;

/** A user's own security activity: their audit events, newest first, in their own words and zone. */
export class ActivityLog {
  constructor(private readonly deps: ServiceDeps) {}

  async page(user: User, request: ActivityRequest): Promise<ActivityPage> {
    const limit = request.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidInput('limit_invalid', `The limit is a whole number from 1 to ${MAX_LIMIT}.`);
    const types = activityTypes(request.filter);
    const beforeId = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await audit.listAuditEvents(this.deps.database.db, { scope: { kind: 'user', userId: user.id }, beforeId, eventTypes: types, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { entries: page.map(toEntry), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.id)) : null };
  }

  /** The filtered log as CSV, newest first, with times in UTC and in the user's zone. */
  async exportCsv(user: User, filter?: readonly string[]): Promise<string> {
    const types = activityTypes(filter);
    const rows = await audit.listAuditEvents(this.deps.database.db, { scope: { kind: 'user', userId: user.id }, eventTypes: types, limit: MAX_EXPORT_ROWS });
    const header = ['time_utc', `time_local (${user.time_zone})`, 'event', 'category', 'description', 'ip_address', 'device', 'user_agent'];
    return toCsv([
      header,
      ...rows.map(toEntry).map((e) => [
        new Date(e.occurredAt).toISOString(),
        formatInTimeZone(e.occurredAt, user.time_zone),
        e.type,
        e.category,
        e.summary,
        e.ip,
        e.device,
        e.userAgent,
      ]),
    ]);
  }
}

/** The event types a filter stands for; unknown names are refused rather than silently ignored. */
export function activityTypes(filter: readonly string[] | undefined): string[] {
  const wanted = (filter ?? []).map((f) => f.trim()).filter((f) => f.length > 0);
  if (wanted.length === 0) return [...ALL_TYPES];
  const types = new Set<string>();
  for (const name of wanted) {
    const category = ACTIVITY_CATEGORIES.find((c) => c.key === name);
    if (category) category.types.forEach((t) => types.add(t));
    else if (ALL_TYPES.includes(name)) types.add(name);
    else throw invalidInput('activity_type_invalid', `Unknown activity type "${name.slice(0, 64)}".`);
  }
  return [...types];
}

function toEntry(e: AuditEvent): ActivityEntry {
  const details = JSON.parse(e.details) as Record<string, unknown>;
  return {
    id: Number(e.id),
    type: e.event_type,
    category: CATEGORY_OF.get(e.event_type) ?? 'other',
    summary: describeActivity(e.event_type, details),
    occurredAt: Number(e.occurred_at),
    ip: e.ip,
    userAgent: e.user_agent,
    device: e.user_agent === null ? null : deviceLabel(e.user_agent),
    details,
  };
}

const FAILURE_REASONS: Record<string, string> = { wrong_password: 'wrong password', account_disabled: 'account disabled', unknown_email: 'unknown email' };
const FACTOR_NAMES: Record<string, string> = { totp: 'authenticator app', sms: 'text message', email: 'email' };

const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const count = (value: unknown, noun: string): string => (typeof value === 'number' ? `${value} ${noun}${value === 1 ? '' : 's'}` : `${noun}s`);

/** A sentence for each event; details fill in what they can. */
export function describeActivity(type: string, details: Record<string, unknown>): string {
  const factor = () => {
    const kind = FACTOR_NAMES[str(details.type) ?? ''] ?? 'factor';
    const named = str(details.label) ?? str(details.destination);
    return named ? `${kind} “${named}”` : kind;
  };
  switch (type) {
    case 'sign_in.succeeded':
      return details.newDevice === true ? 'Signed in from a new device' : details.newLocation === true ? 'Signed in from a new location' : 'Signed in';
    case 'sign_in.failed':
      return `Sign-in failed (${FAILURE_REASONS[str(details.reason) ?? ''] ?? 'refused'})`;
    case 'sign_in.limited':
      return 'Sign-in refused: too many failed attempts';
    case 'sign_in.blocked':
      return `Sign-in refused: blocked ${details.blockedBy === 'location' ? 'location' : 'device'}`;
    case 'second_factor.failed':
      return 'Wrong second-step code at sign-in';
    case 'second_factor.locked_out':
      return 'Second step locked after too many wrong codes';
    case 'sign_out':
      return 'Signed out';
    case 'session.revoked':
      return 'Ended a session';
    case 'sessions.others_revoked':
      return `Signed out everywhere else (${count(details.endedSessions, 'session')})`;
    case 'password.changed':
      return 'Changed password';
    case 'password_reset.requested':
      return 'Password reset requested';
    case 'password_reset.completed':
      return 'Password reset with an emailed link';
    case 'factor.confirmed':
      return details.replacedFactorId ? `Changed ${factor()}` : `Turned on ${factor()}`;
    case 'factor.removed':
      return `Removed ${factor()}`;
    case 'admin.factors_reset':
      return 'An administrator reset your two-step verification';
    case 'backup_codes.generated':
      return 'Backup codes created';
    case 'backup_codes.regenerated':
      return 'New backup codes created';
    case 'backup_code.used':
      return 'Used a backup code';
    case 'admin.backup_codes_viewed':
      return 'An administrator viewed your backup codes';
    case 'admin.backup_codes_regenerated':
      return 'An administrator created new backup codes';
    case 'trusted_browser.created':
      return 'Trusted a browser';
    case 'trusted_browser.revoked':
      return 'Stopped trusting a browser';
    case 'device.blocked':
      return `Blocked device ${str(details.label) ?? ''}`.trim() + (typeof details.endedSessions === 'number' && details.endedSessions > 0 ? ` (${count(details.endedSessions, 'session')} ended)` : '');
    case 'device.unblocked':
      return `Unblocked device ${str(details.label) ?? ''}`.trim();
    case 'location.blocked':
      return `Blocked location ${str(details.location) ?? ''}`.trim() + (typeof details.endedSessions === 'number' && details.endedSessions > 0 ? ` (${count(details.endedSessions, 'session')} ended)` : '');
    case 'location.unblocked':
      return `Unblocked location ${str(details.location) ?? ''}`.trim();
    case 'time_zone.changed':
      return `Time zone set to ${str(details.to) ?? 'another zone'}`;
    case 'notification_settings.changed':
      return 'Changed sign-in notices';
    default:
      return type;
  }
}
