/**
 * IANA time-zone handling via Intl only (Node ships full ICU), so there is no
 * tz database of our own to keep up to date.
 */
import { invalidInput } from './errors.js';

// Building a DateTimeFormat is comparatively slow; formatting is hot (audit
// lists, emails). Only valid zones get cached, so the map is bounded by the
// size of the IANA database.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(tz: string): Intl.DateTimeFormat | null {
  const cached = formatters.get(tz);
  if (cached) return cached;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      // h23, not hour12:false, which some ICU versions render midnight as "24".
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
  } catch {
    return null;
  }
  formatters.set(tz, fmt);
  return fmt;
}

export function isValidTimeZone(tz: string): boolean {
  return tz.length > 0 && formatterFor(tz) !== null;
}

/**
 * "2026-11-25 14:30 (GMT+5:30)" or "… (UTC)": ISO-like ordering so it reads the same in
 * every locale, plus the offset so the reader never has to guess what the
 * zone was.
 */
export function formatInTimeZone(ms: number, tz: string): string {
  const fmt = tz.length > 0 ? formatterFor(tz) : null;
  if (fmt === null) throw invalidInput('time_zone_invalid', `Unknown time zone: ${tz}`);
  if (!Number.isFinite(ms)) throw invalidInput('timestamp_invalid', 'Timestamp must be a finite number');
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of fmt.formatToParts(ms)) parts[p.type] = p.value;
  // ICU versions disagree on zero offset ("GMT" vs "GMT+0"); pin one spelling.
  const offset = /^GMT(\+0)?$/.test(parts.timeZoneName ?? '') ? 'UTC' : parts.timeZoneName;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${offset})`;
}
