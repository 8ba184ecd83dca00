import { parseUserAgent } from '../core/user-agent.js';

/** "Chrome 126 on Windows" from a User-Agent header, for people; the raw header when unrecognised. */
export function describeUserAgent(userAgent: string): string {
  if (!userAgent.trim()) return 'Unknown browser';
  const { browser, majorVersion, system } = parseUserAgent(userAgent);
  const named = browser ? `${browser}${majorVersion ? ` ${majorVersion}` : ''}` : null;
  if (named && system) return `${named} on ${system}`;
  return named ?? (system ? `A browser on ${system}` : userAgent);
}
