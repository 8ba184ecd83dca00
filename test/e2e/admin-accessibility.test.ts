import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { policies, roles } from '../../src/store/index.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { axeViolations } from './axe.js';
import { DESKTOP, MOBILE, PASSWORD, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let server: TestServer;
let browser: Browser;
const adminEmail = 'grace@example.test';
const pages: Array<{ name: string; path: string }> = [];

before(async () => {
  [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  const system = { userId: null, meta: null };
  const org = await server.services.accounts.createOrganisation('Acme', null, system);
  await server.services.accounts.createOrganisation('Acme Europe', org.id, system);
  await server.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, displayName: 'Grace Hopper', roles: ['admin'] }, system);
  const member = await server.services.accounts.createUser({ orgId: org.id, email: 'ada.lovelace.with.a.long.address@example.test', password: PASSWORD, displayName: 'Ada Lovelace' }, system);
  // A role that requires a security key, so the roles page shows that state too.
  const db = server.runtime.database.db;
  const releaseManager = { id: randomUUID(), org_id: org.id, name: 'release-manager', created_at: Date.now() };
  await roles.insertRole(db, releaseManager);
  await roles.grantRoleToUser(db, member.id, releaseManager.id);
  await policies.setRoleRequirement(db, { roleId: releaseManager.id, requireTwoFactor: true, requirePhishingResistant: true, updatedAt: Date.now(), updatedBy: null });
  pages.push(
    { name: 'users', path: '/admin/users' },
    { name: 'user', path: `/admin/users/${member.id}` },
    { name: 'roles', path: '/admin/roles' },
    { name: 'policy', path: '/admin/policy' },
    { name: 'services', path: '/admin/services' },
    { name: 'provider-form', path: '/admin/services/providers/new?kind=webhook' },
    { name: 'clients', path: '/admin/clients' },
    { name: 'organisations', path: '/admin/organisations' },
    { name: 'deploys', path: '/deploy' },
    { name: 'new-target', path: '/deploy/new' },
    { name: 'api-keys', path: '/deploy/api-keys' },
  );
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Wider than the viewport means something is clipped or the page scrolls sideways as a whole. */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

test('every admin page: axe finds no violations at 1280 and 390 px, nothing overflows the page, and the header marks Admin', async () => {
  const { page, context } = await openPage(browser, server.url);
  try {
    await signInWithPassword(page, adminEmail);
    await page.waitForURL('**/account');
    const found: string[] = [];
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      for (const p of pages) {
        const res = await page.goto(p.path);
        assert.equal(res?.status(), 200, `${p.path} at ${viewport.width}px`);
        const violations = await axeViolations(page);
        for (const v of violations) found.push(`${p.path} at ${viewport.width}px: ${v}`);
        const wider = await overflow(page);
        if (wider > 0) found.push(`${p.path} at ${viewport.width}px: the page is ${wider}px wider than the window`);
        if (p.path.startsWith('/admin')) {
          const current = await page.getByRole('navigation', { name: 'Account' }).locator('a[aria-current]').allTextContents();
          assert.deepEqual(current, ['Admin'], p.path);
        }
        await screenshot(page, `admin-${p.name}-${viewport.width}`);
      }
    }
    assert.deepEqual(found, []);
    // Every admin page is as wide as every other.
    await page.setViewportSize(DESKTOP);
    const widths = new Set<number>();
    for (const p of pages.filter((q) => q.path.startsWith('/admin'))) {
      await page.goto(p.path);
      widths.add(await page.locator('main').evaluate((m) => Math.round(m.getBoundingClientRect().width)));
    }
    assert.equal(widths.size, 1, `admin main widths: ${[...widths].join(', ')}`);
  } finally {
    await context.close();
  }
});
