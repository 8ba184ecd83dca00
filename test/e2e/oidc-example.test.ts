import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { SYSTEM_ACTOR } from '../../src/services/actor.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { enrolledMember } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { cspViolations, launchBrowser, oathtoolCode, openPage } from './browser.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STEP_MS = 30_000;
// Start 5 s into a time step, so "this step" and "the next step" are never ambiguous.
const clock = new TestClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
let server: TestServer;
let browser: Browser;
let member: EnrolledMember;
let app: ChildProcess;
let appUrl: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The example app from the README, as a user would run it: its own process, real openid-client. */
function startExampleApp(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['examples/oidc-client/app.mjs'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`example app did not start: ${output}`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('example app on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => reject(new Error(`example app exited (${code}): ${output}`)));
  });
}

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock }), launchBrowser()]);
  member = await enrolledMember(server, clock, 'ada@example.test');
  const port = await freePort();
  appUrl = `http://localhost:${port}`;
  const { client, secret } = await server.services.oidcClients.create(
    SYSTEM_ACTOR,
    member.user.org_id,
    { name: 'Example App', redirectUris: [`${appUrl}/callback`], postLogoutRedirectUris: [`${appUrl}/`] },
    null,
  );
  app = await startExampleApp({ ISSUER: server.url, CLIENT_ID: client.id, CLIENT_SECRET: secret!, PORT: String(port), APP_URL: appUrl });
});

after(async () => {
  app?.kill();
  await browser?.close();
  await server?.close();
});

test('the example app signs in through Twofold in Chromium (password, authenticator code, consent) and shows amr and acr; signing out ends both', async () => {
  const { page, context, problems } = await openPage(browser, appUrl);
  try {
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in with Twofold' }).click();

    await page.waitForURL(`${server.url}/sign-in?**`);
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(member.password);
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.waitForURL(`${server.url}/sign-in/second-factor`);
    clock.advance(STEP_MS);
    await page.getByLabel(/code/i).first().fill(oathtoolCode(member.secret, clock.now()));
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByRole('heading', { name: 'Sign in to Example App' }).waitFor();
    assert.equal(await page.locator('[data-scope]').count(), 3);
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back in the app, through Twofold's continue page (a form post may not redirect off-site in Chrome).
    await page.waitForURL(`${appUrl}/`);
    assert.match((await page.getByTestId('level').textContent()) ?? '', /with a second factor \(amr: pwd, otp, mfa\)/);
    const claims = JSON.parse((await page.getByTestId('claims').textContent()) ?? '{}') as Record<string, unknown>;
    assert.equal(claims.email, member.email);
    assert.equal(claims.acr, 'urn:twofold:acr:2fa');
    assert.equal(claims.iss, server.url);

    // "Sign in again" (max_age=0) asks for the password and a code once more.
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(`${server.url}/reauthenticate?**`);
    await page.getByLabel('Password').fill(member.password);
    clock.advance(STEP_MS);
    await page.getByLabel('Code').fill(oathtoolCode(member.secret, clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${appUrl}/`);
    const again = JSON.parse((await page.getByTestId('claims').textContent()) ?? '{}') as { auth_time: number };
    assert.ok(again.auth_time > (claims.auth_time as number));

    // Signing out of the app offers to sign out of Twofold too.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${appUrl}/`);
    await page.getByRole('link', { name: 'Sign in with Twofold' }).waitFor();
    const twofold = await context.request.get(`${server.url}/api/v1/session`);
    assert.equal(twofold.status(), 401, 'the Twofold session ended with the app');

    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
