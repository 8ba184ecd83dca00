import Bowser from 'bowser';

/** What kind of thing signed in, as far as its User-Agent tells. */
export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'tv' | 'bot';

export interface ParsedUserAgent {
  browser: string | null;
  majorVersion: string | null;
  system: string | null;
  deviceType: DeviceType | null;
}

const DEVICE_TYPES: readonly DeviceType[] = ['desktop', 'mobile', 'tablet', 'tv', 'bot'];

/** Bowser's names where people (and earlier labels) say something shorter. */
const BROWSER_NAMES: Record<string, string> = { 'Microsoft Edge': 'Edge' };
const SYSTEM_NAMES: Record<string, string> = { 'Chrome OS': 'ChromeOS' };

const NOTHING: ParsedUserAgent = { browser: null, majorVersion: null, system: null, deviceType: null };

/**
 * Browser, operating system and device type from a User-Agent header, read by Bowser (a
 * maintained parser) rather than our own patterns. Headless Chrome is named as such: it is
 * what automation signs in with, and people should be able to tell it from their own Chrome.
 */
export function parseUserAgent(userAgent: string): ParsedUserAgent {
  if (!userAgent.trim()) return NOTHING;
  let parsed: ReturnType<typeof Bowser.parse>;
  try {
    parsed = Bowser.parse(userAgent);
  } catch {
    return NOTHING;
  }
  const rawBrowser = parsed.browser.name?.trim() || null;
  const headless = /HeadlessChrome\//.test(userAgent);
  const browser = headless ? 'Headless Chrome' : rawBrowser ? (BROWSER_NAMES[rawBrowser] ?? rawBrowser) : null;
  const majorVersion = browser ? (/^(\d+)/.exec(parsed.browser.version ?? '')?.[1] ?? null) : null;
  const rawSystem = parsed.os.name?.trim() || null;
  const system = rawSystem ? (SYSTEM_NAMES[rawSystem] ?? rawSystem) : null;
  const type = parsed.platform.type as DeviceType | undefined;
  return { browser, majorVersion, system, deviceType: type && DEVICE_TYPES.includes(type) ? type : null };
}

const MAX_LABEL = 120;

/**
 * "Chrome on macOS": what a person calls the device, without the version, because a known
 * device keeps its label while its browser updates itself.
 */
export function deviceLabel(userAgent: string): string {
  const { browser, system } = parseUserAgent(userAgent);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `A browser on ${system}`;
  const raw = userAgent.trim();
  return raw ? raw.slice(0, MAX_LABEL) : 'Unknown browser';
}

/**
 * What must stay the same for a device cookie to count: browser and operating system. Version
 * numbers are left out (browsers update every few weeks); for an agent we cannot parse, digit
 * runs are masked so that "curl/8.5.0" and "curl/8.6.0" are one family.
 */
export function userAgentFamily(userAgent: string): string {
  const { browser, system } = parseUserAgent(userAgent);
  if (browser || system) return `${browser ?? '?'}|${system ?? '?'}`;
  return userAgent.trim().replace(/\d+/g, '#').slice(0, 512);
}
