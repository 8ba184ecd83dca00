import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sharedServerAndBrowser } from '../helpers/browser-world.js';
import { cspViolations, createMember, openPage, signInWithPassword, signOut } from './browser.js';

let email: string;
const shared = sharedServerAndBrowser({}, async ({ server }) => {
  email = await createMember(server);
});

test('password sign-in lands on the account page, and the header button signs out', async () => {
  const { page, context, problems } = await openPage(shared.browser, shared.server.url);
  try {
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');
    assert.equal(await page.getByTestId('account-email').textContent(), email);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Signed in as Ada Lovelace');

    await signOut(page);
    assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 1);
    // The session is really gone: the account page sends the browser back to sign in.
    await page.goto('/account');
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});

test('a wrong password shows the error on the page and keeps the email', async () => {
  const { page, context, problems } = await openPage(shared.browser, shared.server.url);
  try {
    await signInWithPassword(page, email, 'not the right password at all');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.textContent())?.trim(), 'Email or password is incorrect.');
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    assert.deepEqual(await context.cookies().then((all) => all.filter((c) => c.name === 'twofold_session')), []);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
