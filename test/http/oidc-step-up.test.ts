import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACR } from '../../src/core/oidc.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, auditTypes, createMember, enrolledMember, freshCode } from '../helpers/authenticator.js';
import { addMember, agencyTree, requireForSubs } from '../helpers/policy.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import { Browser, REDIRECT_URI, completeFlow, pathOf, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import { startTestServer } from '../helpers/server.js';

describe(`OpenID Connect step-up and re-authentication (${currentBackend()})`, () => {
  test('acr_values for the 2FA level makes a password-only session (trusted browser) pass a second factor first', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const rp = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser([server.url]);

    // Sign in with a code, trusting this browser; sign out; sign in again with the password alone.
    let { page } = await browser.go(`${server.url}/sign-in`);
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    ({ page } = await browser.submit(page!, '/sign-in/second-factor', { method: 'totp', code: freshCode(member.secret, clock), trustBrowser: '1' }));
    assert.equal(pathOf(page!.url), '/account');
    ({ page } = await browser.submit(page!, '/sign-out'));
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    assert.equal(pathOf(page!.url), '/account', 'the trusted browser skips the second step');

    // An app that does not ask for more learns that only a password was used.
    const plain = await startAuthorization(rp);
    const plainTokens = await redeem(rp, plain, await completeFlow(browser, plain.url.href, member));
    assert.equal(plainTokens.claims()?.acr, ACR.password);
    assert.deepEqual(plainTokens.claims()?.amr, ['pwd']);

    // Asking for the 2FA level sends the person to confirm with a code (and only a code).
    const stepUp = await startAuthorization(rp, { acr_values: ACR.twoFactor });
    ({ page } = await browser.go(stepUp.url.href));
    assert.match(pathOf(page!.url), /^\/reauthenticate\?next=.*&ask=code$/);
    assert.doesNotMatch(page!.text, /name="password"/);
    assert.match(page!.text, /name="code"/);
    const { left } = await browser.submit(page!, '/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
    assert.ok(left?.startsWith(`${REDIRECT_URI}?`), JSON.stringify(browser.visited.slice(-4)));
    const stepped = await redeem(rp, stepUp, left!);
    assert.equal(stepped.claims()?.acr, ACR.twoFactor);
    assert.ok((stepped.claims()?.amr as string[]).includes('otp'));
    assert.ok((stepped.claims()?.amr as string[]).includes('pwd'));

    // prompt=none cannot re-authenticate anyone: the app is told a login is required.
    const none = await startAuthorization(rp, { max_age: '0', prompt: 'none' });
    const refused = await browser.go(none.url.href);
    assert.equal(new URL(refused.left!).searchParams.get('error'), 'login_required');
  });

  test('max_age=0 and prompt=login make a signed-in person confirm password and code again', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const rp = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser([server.url]);
    const person = { email: member.email, password: member.password, code: () => freshCode(member.secret, clock) };
    const first = await startAuthorization(rp);
    const firstTokens = await redeem(rp, first, await completeFlow(browser, first.url.href, person));
    const signedInAt = firstTokens.claims()!.auth_time!;

    const cases: Array<Record<string, string>> = [{ max_age: '0' }, { prompt: 'login' }];
    for (const params of cases) {
      clock.advance(60_000);
      const requestedAt = Math.floor(clock.now() / 1000);
      const authorization = await startAuthorization(rp, params);
      let { page } = await browser.go(authorization.url.href);
      assert.match(pathOf(page!.url), /^\/reauthenticate\?next=.*&ask=all$/, JSON.stringify(params));
      assert.match(page!.text, /name="password"/);
      assert.match(page!.text, /name="code"/);

      // A wrong password keeps the person there, still asked for both.
      ({ page } = await browser.submit(page!, '/reauthenticate', { password: 'not it', method: 'totp', code: freshCode(member.secret, clock) }));
      assert.equal(page?.status, 401);
      assert.match(page!.text, /name="password"/);

      const { left } = await browser.submit(page!, '/reauthenticate', { password: member.password, method: 'totp', code: freshCode(member.secret, clock) });
      assert.ok(left?.startsWith(`${REDIRECT_URI}?`), JSON.stringify(browser.visited.slice(-4)));
      const tokens = await redeem(rp, authorization, left!);
      assert.ok(tokens.claims()!.auth_time! >= requestedAt, `auth_time ${tokens.claims()!.auth_time} is after the request (${requestedAt})`);
      assert.ok(tokens.claims()!.auth_time! > signedInAt);
      assert.equal(tokens.claims()?.acr, ACR.twoFactor);
    }
    const events = await auditTypes(server, member.user.id);
    assert.equal(events.filter((e) => e === 'reauthentication.succeeded').length, 2);
    assert.equal(events.filter((e) => e === 'reauthentication.failed').length, 2);
  });

  test('a client that requires 2FA makes a member without a factor set one up first, whatever the organisation says', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await createMember(server);
    const registered = await registerClient(server, { name: 'Payroll', requireTwoFactor: true });
    const rp = await relyingParty(server.url, registered);
    const browser = new Browser([server.url]);

    const authorization = await startAuthorization(rp);
    let { page } = await browser.go(authorization.url.href);
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    const uid = /\/oidc\/interaction\/([^/?]+)/.exec(page!.url)?.[1];
    assert.ok(uid, page!.url);
    assert.match(page!.text, /Payroll requires a second step/);

    ({ page } = await browser.submit(page!, `/oidc/interaction/${uid}/enrol/totp`));
    const secret = /data-testid="totp-secret">([^<]+)</.exec(page!.text)?.[1]?.replace(/\s+/g, '');
    assert.ok(secret, page!.text.slice(0, 500));
    const action = /action="(\/oidc\/interaction\/[^"]+\/confirm)"/.exec(page!.text)?.[1];
    assert.ok(action);

    // A wrong code keeps the person on the code page.
    ({ page } = await browser.submit(page!, action, { code: '000000' === totpCodeAt(secret, clock.now()) ? '111111' : '000000' }));
    assert.equal(page?.status, 401);
    ({ page } = await browser.submit(page!, action, { code: totpCodeAt(secret, clock.now()) }));
    assert.match(page!.text, /Your backup codes/);
    assert.equal([...page!.text.matchAll(/data-backup-code/g)].length, 10);
    const onward = /href="(\/oidc\/interaction\/[^"]+)"[^>]*>Continue to Payroll/.exec(page!.text)?.[1];
    assert.ok(onward, page!.text.slice(-800));

    const { left, page: consent } = await browser.go(`${server.url}${onward}`);
    let callback = left;
    if (!callback) ({ left: callback } = await browser.submit(consent!, `/oidc/interaction/${uid}/consent`, { decision: 'allow' }));
    const tokens = await redeem(rp, authorization, callback!);
    assert.equal(tokens.claims()?.acr, ACR.twoFactor);
    assert.deepEqual([...(tokens.claims()?.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
    const factors = await server.services.factors.list(member.user.id);
    assert.equal(factors.length, 1);
    assert.equal(factors[0]?.status, 'active');
    assert.ok((await auditTypes(server, member.user.id)).includes('factor.confirmed'));
  });

  test('the same member with a factor, signed in without it, is asked for a code by a client that requires 2FA', async (t) => {
    const clock = new TestClock();
    const server = await startTestServer({ clock });
    t.after(() => server.close());
    const member = await enrolledMember(server, clock);
    const rp = await relyingParty(server.url, await registerClient(server, { requireTwoFactor: true }));
    const open = await relyingParty(server.url, await registerClient(server, { name: 'Wiki' }));
    const browser = new Browser([server.url]);
    // A backup-code sign-in, then the trusted browser: password only, held factor.
    let { page } = await browser.go(`${server.url}/sign-in`);
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    ({ page } = await browser.submit(page!, '/sign-in/second-factor', { method: 'backup_code', code: member.backupCodes[0]!, trustBrowser: '1' }));
    ({ page } = await browser.submit(page!, '/sign-out'));
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    assert.equal(pathOf(page!.url), '/account');

    const wiki = await startAuthorization(open);
    assert.equal((await redeem(open, wiki, await completeFlow(browser, wiki.url.href, member))).claims()?.acr, ACR.password);

    const authorization = await startAuthorization(rp);
    ({ page } = await browser.go(authorization.url.href));
    assert.match(pathOf(page!.url), /^\/reauthenticate\?.*ask=code$/);
    const { left, page: after } = await browser.submit(page!, '/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
    const callback = left ?? (await completeFlow(browser, after!.url, member));
    assert.equal((await redeem(rp, authorization, callback)).claims()?.acr, ACR.twoFactor);
  });
  test('an organisation that requires 2FA: the forced enrolment at sign-in carries on to the app after the backup codes', async (t) => {
    const tree = await agencyTree(t);
    await requireForSubs(tree);
    const { server, clock } = tree;
    const { email } = await addMember(server, tree.clientOrgId);
    const rp = await relyingParty(server.url, await registerClient(server));
    const browser = new Browser([server.url]);

    const authorization = await startAuthorization(rp);
    let { page } = await browser.go(authorization.url.href);
    ({ page } = await browser.submit(page!, '/sign-in', { email, password: PASSWORD }));
    assert.equal(pathOf(page!.url), '/sign-in/enrol');
    ({ page } = await browser.submit(page!, '/sign-in/enrol/totp'));
    const secret = /data-testid="totp-secret">([^<]+)</.exec(page!.text)?.[1]?.replace(/\s+/g, '');
    const action = /action="(\/sign-in\/enrol\/[^"]+\/confirm)"/.exec(page!.text)?.[1];
    assert.ok(secret && action, page!.text.slice(0, 800));
    ({ page } = await browser.submit(page!, action, { code: totpCodeAt(secret, clock.now()) }));
    assert.match(page!.text, /Your backup codes/);
    const onward = /href="(\/oidc\/interaction\/[^"]+)"[^>]*>Continue</.exec(page!.text)?.[1];
    assert.ok(onward, 'the backup codes page leads on to the app, not to the account page');

    const callback = await completeFlow(browser, `${server.url}${onward}`, { email, password: PASSWORD });
    const tokens = await redeem(rp, authorization, callback);
    assert.equal(tokens.claims()?.acr, ACR.twoFactor);
  });

  test('return_to only ever leads to a path on this site', async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const member = await createMember(server);
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const browser = new Browser([server.url]);
      let { page } = await browser.go(`${server.url}/sign-in?return_to=${encodeURIComponent(target)}`);
      ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
      assert.equal(pathOf(page!.url), '/account', target);
    }
    const browser = new Browser([server.url]);
    let { page } = await browser.go(`${server.url}/sign-in?return_to=${encodeURIComponent('/account/security')}`);
    ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
    assert.equal(pathOf(page!.url), '/account/security');
    // Signed in already: straight there.
    ({ page } = await browser.go(`${server.url}/sign-in?return_to=${encodeURIComponent('/account')}`));
    assert.equal(pathOf(page!.url), '/account');
  });
});
