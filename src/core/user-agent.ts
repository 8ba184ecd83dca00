const BROWSERS: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/HeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/(?:Chrome|CriOS)\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[\d.]*(?: Mobile\/\S+)? Safari\//, 'Safari'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Macintosh|Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

export interface ParsedUserAgent {
  browser: string | null;
  majorVersion: string | null;
  system: string | null;
}

export function parseUserAgent(userAgent: string): ParsedUserAgent {
  let browser: string | null = null;
  let majorVersion: string | null = null;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(userAgent);
    if (match) {
      browser = name;
      majorVersion = match[1] ?? null;
      break;
    }
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? null;
  return { browser, majorVersion, system };
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
