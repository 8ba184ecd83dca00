/**
 * Shared steps for the security-centre suites: servers that read the client address from
 * X-Forwarded-For and place it with the GeoIP fixture, browsers with a fixed User-Agent and
 * address, and the notices a member received by email.
 */
import { join } from 'node:path';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';
import { PASSWORD } from './authenticator.js';
import type { TestResponse } from './client.js';
import { TestClient } from './client.js';

export const CITY_DB = join(import.meta.dirname, '../fixtures/geoip/city.mmdb');
export const GEO_ENV = { TWOFOLD_TRUST_PROXY: 'true', TWOFOLD_GEOIP_DB: CITY_DB };

export const UA = {
  chromeMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  edgeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
} as const;

// From the fixture (scripts/make-geoip-fixture.ts).
export const IP = {
  sanFrancisco: '192.0.2.10',
  losAngeles: '192.0.2.200',
  newYork: '198.51.100.7',
  london: '203.0.113.5',
  berlin: '2001:db8:1::5',
} as const;

/** A browser with its own cookies, User-Agent and address, talking to one node. */
export function browserAt(url: string, userAgent: string, ip: string): TestClient {
  return new TestClient(url, { 'user-agent': userAgent, 'x-forwarded-for': ip });
}

/** The same browser (same cookies) talking to another node. */
export function sameBrowserOn(client: TestClient, url: string, userAgent: string, ip: string): TestClient {
  const other = browserAt(url, userAgent, ip);
  for (const [name, value] of client.cookies) other.cookies.set(name, value);
  return other;
}

export function signIn(client: TestClient, email: string, password = PASSWORD): Promise<TestResponse> {
  return client.post('/api/v1/auth/sign-in', { email, password });
}

export interface Notice {
  subject: string;
  text: string;
}

/** The mails a member received, oldest first. */
export function mailsTo(smtp: SmtpPeer, email: string): Notice[] {
  return smtp.received
    .filter((m) => m.rcptTo.includes(email))
    .map((m) => {
      const parsed = parseMail(m.raw);
      return { subject: parsed.headers.get('subject') ?? '', text: (parsed.text ?? '').replace(/\r\n/g, '\n') };
    });
}
