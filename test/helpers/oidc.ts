/**
 * Shared steps for the OpenID Connect suites: a registered client, a relying party built with
 * openid-client against the live server's discovery document, and a cookie-keeping "browser"
 * that follows redirects (and Twofold's continue page) until it leaves for the app's callback.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { SYSTEM_ACTOR } from '../../src/services/actor.js';
import type { OidcClientInput } from '../../src/services/oidc-clients.js';
import type { TestServer } from './server.js';

/** Nothing listens here: the browser stops at the redirect and hands the URL to the relying party. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const POST_LOGOUT_URI = 'http://127.0.0.1:9/signed-out';
const SYSTEM = { userId: null, meta: null };

export interface RegisteredClient {
  clientId: string;
  secret: string | null;
}

export async function registerClient(server: TestServer, input: Partial<OidcClientInput> = {}): Promise<RegisteredClient> {
  const orgs = await server.runtime.database.db.selectFrom('organisations').select('id').orderBy('created_at').execute();
  const orgId = orgs[0]?.id ?? (await server.services.accounts.createOrganisation('Apps', null, SYSTEM)).id;
  const { client, secret } = await server.services.oidcClients.create(SYSTEM_ACTOR, orgId, { name: 'Example App', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI], ...input }, null);
  return { clientId: client.id, secret };
}

/** openid-client configured from the server's discovery document (plain HTTP is allowed for the test server). */
export async function relyingParty(issuer: string, registered: RegisteredClient, secret: string | null = registered.secret): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), registered.clientId, undefined, secret === null ? oidc.None() : oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

export interface Authorization {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
  maxAge?: number;
}

export async function startAuthorization(config: oidc.Configuration, params: Record<string, string> = {}): Promise<Authorization> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce, ...(params.max_age !== undefined ? { maxAge: Number(params.max_age) } : {}) };
}

export async function redeem(config: oidc.Configuration, authorization: Authorization, callback: string) {
  return oidc.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: authorization.verifier,
    expectedState: authorization.state,
    expectedNonce: authorization.nonce,
    ...(authorization.maxAge !== undefined ? { maxAge: authorization.maxAge } : {}),
  });
}

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  text: string;
}

/**
 * A browser without rendering: one cookie jar for every origin on 127.0.0.1 (as real browsers
 * share cookies across ports), redirects followed by hand.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  /** Every URL visited, in order (for asserting where the flow went). */
  readonly visited: string[] = [];

  private turn = 0;

  /**
   * `ownOrigins` are Twofold's; with `balance`, every request to them goes to the next of those
   * origins in turn, like a load balancer in front of several nodes.
   */
  constructor(
    private readonly ownOrigins: readonly string[],
    private readonly balance: readonly string[] = [],
  ) {}

  async request(method: string, target: string, body?: Record<string, string>): Promise<Page> {
    const url = this.route(target);
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    this.visited.push(`${method} ${url}`);
    const res = await fetch(url, { method, headers, body: body ? new URLSearchParams(body).toString() : undefined, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0|expires=thu, 01 jan 1970/i.test(a.trim()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, url, headers: res.headers, text: await res.text() };
  }

  private route(url: string): string {
    if (this.balance.length === 0) return url;
    const parsed = new URL(url);
    if (!this.ownOrigins.includes(parsed.origin)) return url;
    const origin = this.balance[this.turn++ % this.balance.length]!;
    return `${origin}${parsed.pathname}${parsed.search}`;
  }

  /**
   * Goes to `url` and on through redirects and continue pages (the `Refresh` header) while they
   * stay on Twofold; returns the page it stops at, or the URL elsewhere it was sent to.
   */
  async go(url: string, first?: Promise<Page>): Promise<{ page: Page | null; left: string | null }> {
    let next: string | null = url;
    let pending = first;
    for (let hop = 0; hop < 20 && next; hop++) {
      if (!pending && !this.ownOrigins.includes(new URL(next).origin)) return { page: null, left: next };
      const page: Page = await (pending ?? this.request('GET', next));
      pending = undefined;
      const location = page.headers.get('location');
      const refresh = page.headers.get('refresh');
      if (page.status >= 300 && page.status < 400 && location) next = new URL(location, page.url).href;
      else if (page.status === 200 && refresh) next = new URL(/url=(.+)$/i.exec(refresh)![1]!, page.url).href;
      else return { page, left: null };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Submits a form on `page` (its hidden fields, CSRF token among them, plus `fields`), then follows. */
  async submit(page: Page, action: string, fields: Record<string, string> = {}) {
    const origin = new URL(page.url).origin;
    return this.submitTo(origin, page, action, fields);
  }

  /** Like submit, to another node behind the same "load balancer". */
  async submitTo(origin: string, page: Page, action: string, fields: Record<string, string> = {}) {
    const form = formWithAction(page.text, action);
    const url = new URL(action, origin).href;
    return this.go(url, this.request('POST', url, { ...hiddenInputs(form), ...fields }));
  }
}

function formWithAction(html: string, action: string): string {
  const escaped = action.replace(/&/g, '&amp;');
  const start = html.indexOf(`action="${escaped}"`);
  assert.notEqual(start, -1, `no form posting to ${action} on the page:\n${html.slice(0, 2000)}`);
  const end = html.indexOf('</form>', start);
  return html.slice(start, end);
}

function hiddenInputs(form: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return fields;
}

/** The path and query of a URL, for matching where a browser is. */
export const pathOf = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

export interface Person {
  email: string;
  password: string;
  /** A fresh second-factor code, when the person has an authenticator. */
  code?: () => string;
}

/**
 * Drives the pages a person meets between the app's authorization URL and the app: sign-in,
 * second step, consent (allowed). Returns the callback URL the browser was sent to.
 */
export async function completeFlow(browser: Browser, url: string, person: Person): Promise<string> {
  let { page, left } = await browser.go(url);
  for (let step = 0; step < 6 && !left; step++) {
    assert.ok(page, 'the flow stopped without a page');
    const path = new URL(page.url).pathname;
    if (path === '/sign-in') ({ page, left } = await browser.submit(page, '/sign-in', { email: person.email, password: person.password }));
    else if (path === '/sign-in/second-factor' && person.code) ({ page, left } = await browser.submit(page, '/sign-in/second-factor', { method: 'totp', code: person.code() }));
    else if (page.text.includes('/consent"')) ({ page, left } = await browser.submit(page, `${path}/consent`, { decision: 'allow' }));
    else assert.fail(`unexpected page ${page.status} ${page.url}:\n${page.text.slice(0, 1500)}`);
  }
  assert.ok(left, 'the flow did not reach the app');
  return left;
}
