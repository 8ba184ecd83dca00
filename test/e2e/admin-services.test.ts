import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail, startSmtpPeer } from '../delivery/peers.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { PASSWORD, cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let server: TestServer;
let browser: Browser;
let smtp: SmtpPeer;
const adminEmail = 'grace@example.test';

before(async () => {
  [server, browser, smtp] = await Promise.all([startTestServer({ env: { TWOFOLD_COMPANY_NAME: 'Acme Widgets' } }), launchBrowser(), startSmtpPeer()]);
  const system = { userId: null, meta: null };
  const org = await server.services.accounts.createOrganisation('Acme', null, system);
  await server.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, displayName: 'Grace Hopper', roles: ['admin'] }, system);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await smtp?.close();
});

test('an admin sets up email delivery in the Services Manager and sends a test message through a real SMTP server', async () => {
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    await signInWithPassword(page, adminEmail);
    await page.waitForURL('**/account');
    // An admin finds the Services Manager from the account page: header "Admin", then the admin nav.
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Admin' }).click();
    await page.waitForURL('**/admin/users');
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Services' }).click();
    await page.waitForURL('**/admin/services');
    await page.getByRole('heading', { name: 'Services', level: 1 }).waitFor();
    assert.match((await page.getByTestId('channel-email-state').textContent()) ?? '', /Unavailable/);

    await page.getByRole('link', { name: 'Add SMTP' }).click();
    await page.getByRole('heading', { name: 'New SMTP provider' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Office mail');
    await page.getByLabel('Host').fill('127.0.0.1');
    await page.getByLabel('Encryption').selectOption('none');
    await page.getByLabel('Port').fill(String(smtp.port));
    await page.getByLabel('From').fill('Acme Widgets <security@acme.test>');
    await screenshot(page, 'admin-provider-form');
    await page.getByRole('button', { name: 'Add provider' }).click();
    await page.getByText('Added Office mail.', { exact: false }).waitFor();

    const email = page.getByRole('group', { name: 'Email' });
    await email.getByLabel('Provider').selectOption({ label: 'Office mail (SMTP)' });
    await email.getByLabel('Allowed for two-step verification').check();
    await email.getByRole('button', { name: 'Save email' }).click();
    await page.getByText('Email saved.').waitFor();
    assert.match((await page.getByTestId('channel-email-state').textContent()) ?? '', /^Available\s+Users can get codes by email through Office mail/);

    const provider = page.locator('li[data-provider]', { hasText: 'Office mail' });
    await provider.locator('summary', { hasText: 'Send test message' }).click();
    await provider.getByLabel('Send to email address').fill('ops@acme.test');
    await provider.getByRole('button', { name: 'Send test message' }).click();
    await page.getByText('Test message sent to ops@acme.test through Office mail.').waitFor();
    await screenshot(page, 'admin-services');

    assert.equal(smtp.received.length, 1);
    assert.deepEqual(smtp.received[0]?.rcptTo, ['ops@acme.test']);
    const mail = parseMail(smtp.received[0]!.raw);
    assert.match(mail.headers.get('subject') ?? '', /Acme Widgets: test message/);
    assert.match(mail.text ?? '', /this is a test message from Office mail/);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
