import { setImmediate as nextTurn } from 'node:timers/promises';
import { countryName } from '../core/place.js';
import { toCsv } from '../core/csv.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { invalidInput } from '../core/errors.js';
import { formatInTimeZone } from '../core/time-zone.js';
import { deviceLabel } from '../core/user-agent.js';
import type { AuditEvent } from '../store/index.js';
import { audit } from '../store/index.js';
import type { AuditEventType } from './audit-log.js';
import type { ServiceDeps } from './context.js';
import type { Principal } from './principal.js';

export interface ActivityCategory {
  key: string;
  label: string;
  types: readonly AuditEventType[];
}

/** What a user's own activity log shows, grouped for the filter. Other audit events stay with admins. */
export const ACTIVITY_CATEGORIES: readonly ActivityCategory[] = [
  { key: 'sign_in', label: 'Sign-ins', types: ['sign_in.succeeded', 'sign_in.failed', 'sign_in.limited', 'sign_in.blocked', 'sign_in.key_required', 'second_factor.failed', 'second_factor.locked_out'] },
  { key: 'sign_out', label: 'Sign-outs', types: ['sign_out'] },
  { key: 'sessions', label: 'Sessions ended', types: ['session.revoked', 'sessions.others_revoked'] },
  { key: 'password', label: 'Password', types: ['password.changed', 'password_reset.requested', 'password_reset.completed', 'invitation.accepted'] },
  { key: 'factors', label: 'Two-step verification', types: ['factor.confirmed', 'factor.removed', 'factor.renamed', 'factor.default_chosen', 'factor.enrolment_failed', 'admin.factors_reset', 'admin.factor_removed'] },
  { key: 'backup_codes', label: 'Backup codes', types: ['backup_codes.generated', 'backup_codes.regenerated', 'backup_code.used', 'admin.backup_codes_viewed', 'admin.backup_codes_regenerated'] },
  { key: 'trusted_browsers', label: 'Trusted browsers', types: ['trusted_browser.created', 'trusted_browser.revoked'] },
  { key: 'blocks', label: 'Blocks', types: ['device.blocked', 'device.unblocked', 'location.blocked', 'location.unblocked'] },
  { key: 'settings', label: 'Settings', types: ['time_zone.changed', 'notification_settings.changed'] },
  { key: 'approvals', label: 'Phone approvals', types: ['approver.paired', 'approver.renamed', 'approver.removed', 'approval.decided', 'approval.paused'] },
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
/**
 * Rows per keyset page of a CSV export. An export is written a page at a time, so however long
 * the log, the server holds one page in memory and never runs more than one page's formatting
 * without letting other requests (session checks on the same node) in.
 */
export const EXPORT_PAGE_ROWS = 500;

/** A user's own security activity: their audit events, newest first, in their own words and zone. */
export class ActivityLog {
  constructor(private readonly deps: ServiceDeps) {}

  async page(user: Principal, request: ActivityRequest): Promise<ActivityPage> {
    const limit = request.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw invalidInput('limit_invalid', `The limit is a whole number from 1 to ${MAX_LIMIT}.`);
    const types = activityTypes(request.filter);
    const beforeId = request.cursor ? decodeCursor(request.cursor) : undefined;
    const rows = await audit.listAuditEvents(this.deps.database.db, { scope: { kind: 'user', userId: user.id }, beforeId, eventTypes: types, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { entries: page.map(toEntry), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.id)) : null };
  }

  /**
   * The filtered log as CSV, newest first, with times in UTC and in the user's zone, as chunks of
   * text: the header, then one chunk per keyset page (ids below the last one sent, never OFFSET).
   * The filter is checked here, before the first chunk, so a bad one is a 400 and not a cut-off
   * download. Between pages the generator waits for the next turn of the event loop, so a long
   * export shares the node with the requests that arrive meanwhile. Events recorded after the
   * export began are newer than its first page and are not in it: the file is the log as it was.
   */
  exportCsv(user: Principal, filter?: readonly string[]): AsyncIterable<string> {
    const types = activityTypes(filter);
    const db = this.deps.database.db;
    const header = ['time_utc', `time_local (${user.time_zone})`, 'event', 'category', 'description', 'ip_address', 'device', 'user_agent'];
    const csvOf = (e: ActivityEntry) => [
      new Date(e.occurredAt).toISOString(),
      formatInTimeZone(e.occurredAt, user.time_zone),
      e.type,
      e.category,
      e.summary,
      e.ip,
      e.device,
      e.userAgent,
    ];
    return (async function* pages() {
      yield toCsv([header]);
      let beforeId: number | undefined;
      for (;;) {
        const rows = await audit.listAuditEvents(db, { scope: { kind: 'user', userId: user.id }, beforeId, eventTypes: types, limit: EXPORT_PAGE_ROWS });
        const last = rows[rows.length - 1];
        if (!last) return;
        yield toCsv(rows.map(toEntry).map(csvOf));
        if (rows.length < EXPORT_PAGE_ROWS) return;
        beforeId = Number(last.id);
        await nextTurn();
      }
    })();
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
  const details = e.details;
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

/** A place as the pages name it ("California, United States"), also for events recorded with only its key ("US/CA"). */
function placeOf(details: Record<string, unknown>): string {
  const label = str(details.label);
  if (label) return label;
  const key = str(details.location);
  if (!key) return '';
  const [country, region] = key.split('/');
  return [region, countryName(country ?? '')].filter((p) => p).join(', ');
}

const WRONG_CODE_WHILE: Record<string, string> = {
  sign_in: 'Wrong second-step code at sign-in',
  enrolment: 'Wrong code while adding a method',
  reauthentication: 'Wrong code while confirming it was you',
  deploy: 'Wrong code while approving a deploy',
};
const FAILURE_REASONS: Record<string, string> = { wrong_password: 'wrong password', account_disabled: 'account disabled', unknown_email: 'unknown email' };
const FACTOR_NAMES: Record<string, string> = { totp: 'authenticator app', sms: 'text message', email: 'email', webauthn: 'security key' };

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
      if (str(details.approvedOn)) return `Signed in, approved on “${str(details.approvedOn)}”`;
      // Which security key or passkey, by the name it had then (a later rename does not rewrite history).
      if (str(details.keyName)) return `Signed in with ${details.firstFactor === 'passkey' ? 'passkey' : 'security key'} “${str(details.keyName)}”${details.newDevice === true ? ' from a new device' : details.newLocation === true ? ' from a new location' : ''}`;
      return details.newDevice === true ? 'Signed in from a new device' : details.newLocation === true ? 'Signed in from a new location' : 'Signed in';
    case 'sign_in.failed':
      return `Sign-in failed (${FAILURE_REASONS[str(details.reason) ?? ''] ?? 'refused'})`;
    case 'sign_in.limited':
      return 'Sign-in refused: too many failed attempts';
    case 'sign_in.blocked':
      return `Sign-in refused: blocked ${details.blockedBy === 'location' ? 'location' : 'device'}`;
    case 'second_factor.failed':
      // Said by what the code was for: a typo while adding a method must not read like an attack on the sign-in.
      return WRONG_CODE_WHILE[str(details.purpose) ?? ''] ?? 'Wrong second-step code at sign-in';
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
    case 'factor.renamed':
      return `Renamed ${FACTOR_NAMES[str(details.type) ?? ''] ?? 'method'} “${str(details.from) ?? ''}” to “${str(details.to) ?? ''}”`;
    case 'sign_in.key_required':
      return 'Code accepted; asked to add a security key (required by your organisation)';
    case 'factor.enrolment_failed':
      return `Wrong code while adding ${details.method === 'totp' ? 'an authenticator app' : details.method === 'sms' ? 'a phone' : details.method === 'email' ? 'an email address' : 'a method'}`;
    case 'factor.default_chosen':
      return `Made ${factor()} the default method`;
    case 'admin.factors_reset':
      return 'An administrator reset your two-step verification';
    case 'admin.factor_removed': {
      const removed = (details.factor ?? {}) as Record<string, unknown>;
      const kind = FACTOR_NAMES[str(removed.type) ?? ''] ?? 'method';
      const label = str(removed.label);
      return `An administrator switched off your ${label ? `${kind} “${label}”` : kind}`;
    }
    case 'invitation.accepted':
      return 'Chose a password from your invitation';
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
      return `Blocked location ${placeOf(details)}`.trim() + (typeof details.endedSessions === 'number' && details.endedSessions > 0 ? ` (${count(details.endedSessions, 'session')} ended)` : '');
    case 'location.unblocked':
      return `Unblocked location ${placeOf(details)}`.trim();
    case 'time_zone.changed':
      return `Time zone set to ${str(details.to) ?? 'another zone'}`;
    case 'notification_settings.changed':
      return 'Changed sign-in notices';
    case 'approver.paired':
      return `Paired phone “${str(details.name) ?? 'phone'}” for approvals`;
    case 'approver.renamed':
      return `Renamed an approval phone to “${str(details.name) ?? 'phone'}”`;
    case 'approver.removed':
      return `Removed approval phone “${str(details.name) ?? 'phone'}”`;
    case 'approval.decided': {
      const on = `on “${str(details.approver) ?? 'your phone'}”`;
      if (details.decision === 'approved') return `Approved a request ${on}`;
      if (details.decision === 'reported') return `Reported a request as not you ${on}`;
      return details.wrongNumber === true ? `Denied a request ${on}: wrong number picked` : `Denied a request ${on}`;
    }
    case 'approval.paused':
      return 'Phone approvals paused after repeated denials';
    default:
      return type;
  }
}
