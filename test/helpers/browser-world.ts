/**
 * The preambles the Chromium suites share: one server and one browser for a whole file (started
 * before its first test, closed after its last), or, per test, an organisation with an admin, a
 * named member and a browser.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import type { SmtpPeer } from '../delivery/peers.js';
import { startSmtpPeer } from '../delivery/peers.js';
import { launchBrowser } from '../e2e/browser.js';
import { PASSWORD } from './authenticator.js';
import type { DeliveryWorld } from './delivery.js';
import { SYSTEM, bindChannel, deliveryWorld, smtpConfig } from './delivery.js';
import type { TestServer, TestServerOptions } from './server.js';
import { startTestServer } from './server.js';

type Hooks = { after(fn: () => Promise<void>): void };

export interface SharedServer {
  server: TestServer;
  browser: Browser;
}

/**
 * One server and one Chromium for the file; read the fields inside tests (they are set by `before`).
 * `then` runs once both are up (a second root-level `before` is not ordered after this one).
 */
export function sharedServerAndBrowser(options: TestServerOptions = {}, then?: (shared: SharedServer) => Promise<void>): SharedServer {
  const shared = {} as SharedServer;
  before(async () => {
    [shared.server, shared.browser] = await Promise.all([startTestServer(options), launchBrowser()]);
    await then?.(shared);
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.close();
  });
  return shared;
}

export interface SharedMailWorld {
  world: DeliveryWorld;
  smtp: SmtpPeer;
  browser: Browser;
}

/** As sharedServerAndBrowser, with an organisation, its admin, and email bound to a real SMTP server that records every mail. */
export function sharedMailWorldAndBrowser(options: TestServerOptions = {}): SharedMailWorld {
  const shared = {} as SharedMailWorld;
  const closers: Array<() => Promise<void>> = [];
  before(async () => {
    const [smtp, browser] = await Promise.all([startSmtpPeer(), launchBrowser()]);
    closers.push(() => smtp.close(), () => browser.close());
    const world = await deliveryWorld({ after: (fn) => closers.push(fn) }, options);
    await bindChannel(world, 'email', smtpConfig(smtp));
    Object.assign(shared, { world, smtp, browser });
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  return shared;
}

/** A member of the world's organisation with a display name; returns the email (unique unless given). */
export async function namedMember(world: DeliveryWorld, displayName: string, email = `${displayName.split(' ')[0]!.toLowerCase()}-${randomUUID().slice(0, 6)}@example.com`): Promise<string> {
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD, displayName }, SYSTEM);
  return email;
}

/** Per test: an organisation with an admin, one named member, and a Chromium closed after the test. */
export async function memberInChromium(t: Hooks, displayName: string, email: string): Promise<{ world: DeliveryWorld; browser: Browser; email: string }> {
  const world = await deliveryWorld(t);
  await namedMember(world, displayName, email);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  return { world, browser, email };
}
