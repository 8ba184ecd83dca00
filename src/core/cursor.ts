/**
 * The one page cursor of the API: the audit (`GET /api/v1/audit`) and the activity log
 * (`GET /api/v1/activity`, the activity page) both page the audit events newest first, and a
 * cursor carries the id of the last event of the page given, so the next page starts before it.
 *
 * Clients treat it as opaque. It is base64url (URL-safe, no padding) of `v1:<id>`; the version
 * lets the shape change later without a stale cursor being read as something else. The older,
 * unversioned `a:<id>` still decodes, so a cursor handed out before the upgrade keeps working.
 * Anything else, including a non-canonical encoding of a valid cursor, is `cursor_invalid` (400).
 */
import { invalidInput } from './errors.js';

const CURRENT = /^v1:([1-9]\d{0,14})$/;
const LEGACY = /^a:(\d{1,15})$/;

export function encodeCursor(beforeId: number): string {
  if (!Number.isSafeInteger(beforeId) || beforeId < 1) throw new RangeError(`cursor id must be a positive integer, got ${beforeId}`);
  return Buffer.from(`v1:${beforeId}`, 'utf8').toString('base64url');
}

/** The event id the next page starts before; throws `cursor_invalid` for anything not made by `encodeCursor`. */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = CURRENT.exec(text) ?? LEGACY.exec(text);
  // base64url decoding ignores stray trailing bits; only the canonical spelling is accepted.
  if (!match?.[1] || Buffer.from(text, 'utf8').toString('base64url') !== cursor) {
    throw invalidInput('cursor_invalid', 'The cursor is not valid.');
  }
  return Number(match[1]);
}
