/**
 * Codes have a purpose: a text or email code is issued for one thing (signing in, confirming it
 * is you in this session, approving one deploy of one bundle to one target, adding a phone or
 * address) and satisfies nothing else, on any node. The messages say which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { HttpPeer, SmtpPeer } from '../delivery/peers.js';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { TestResponse } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { bindChannel, codeFromMail, codeFromTwilio, codeRows, smtpConfig, twilioConfig, withSmtp, withTwilio } from '../helpers/delivery.js';
import type { Person, Target } from '../helpers/deploys.js';
import { DeployWorld, deployWorld, enrolTotp } from '../helpers/deploys.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import type { TestServer } from '../helpers/server.js';
import { startTwoNodes } from '../helpers/server.js';

const SYSTEM = { userId: null, meta: null };
let numbers = 0;
/** A fresh US mobile number per person, so no destination limit is shared between them. */
function nextPhone(): { country: string; number: string; e164: string } {
  const last = String(2600 + (numbers++ % 100)).padStart(4, '0');
  return { country: 'US', number: `415 555 ${last}`, e164: `+1415555${last}` };
}

/** The admin's client as the provider API wants it (an admin of the agency, with sudo). */
function asDeliveryWorld(world: DeployWorld): DeliveryWorld {
  return { clock: world.clock, server: world.server, orgId: world.agencyId, adminId: world.admin.user.id, admin: world.admin.client };
}

interface PhonePerson extends Person {
  phone: { country: string; number: string; e164: string };
}

/** A deployer whose only factor is a phone, confirmed through the Twilio peer, signed in on `server`. */
async function phonePerson(world: DeployWorld, twilio: HttpPeer): Promise<PhonePerson> {
  const person = await world.person(world.agencyId, { enrol: false });
  const phone = nextPhone();
  const started = await person.client.post('/api/v1/factors/sms', { country: phone.country, number: phone.number });
  assert.equal(started.status, 201, started.text);
  const confirmed = await person.client.post(`/api/v1/factors/sms/${started.json?.id as string}/confirm`, { code: codeFromTwilio(twilio, phone.e164).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  return { ...person, factorId: started.json?.id as string, phone };
}

/** A deploy world with Twilio bound for text messages, one phone-only deployer, and a protected target with a pending change. */
async function phoneWorld(t: { after(fn: () => Promise<void>): void }, world?: DeployWorld) {
  world ??= await deployWorld(t);
  const twilio = await withTwilio(t);
  await world.sudo();
  await bindChannel(asDeliveryWorld(world), 'sms', twilioConfig(twilio));
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const person = await phonePerson(world, twilio);
  await world.authorise(target, [person]);
  const { digest } = await world.addChange(person.client, target, 'banner', 'Spring sale', 'Spring banner');
  return { world, twilio, person, target, digest };
}

/** Another browser carrying the same cookies, talking to `server` (another node behind the balancer). */
function sameBrowserOn(client: TestClient, server: TestServer): TestClient {
  const moved = new TestClient(server.url);
  for (const [name, value] of client.cookies) moved.cookies.set(name, value);
  return moved;
}

/**
 * One purpose of a delivered code: how a code for it is asked for (returning the code read
 * from the text message) and how it is used. `ok` is the status of a successful use.
 */
interface Purpose {
  name: string;
  issue(): Promise<string>;
  use(code: string): Promise<TestResponse>;
  ok: number;
}

type World = Awaited<ReturnType<typeof phoneWorld>>;

function purposes(w: World): Record<'sign_in' | 'reauthentication' | 'deploy' | 'enrolment', Purpose> {
  const { twilio, person, target, digest } = w;
  const base = `/api/v1/deploy-targets/${target.id}`;
  let challenge = '';
  let browser = new TestClient(w.world.server.url);
  let enrolmentId = '';
  const newPhone = nextPhone();
  return {
    sign_in: {
      name: 'sign-in',
      async issue() {
        browser = new TestClient(w.world.server.url);
        const step = await browser.post('/api/v1/auth/sign-in', { email: person.email, password: PASSWORD });
        assert.equal(step.json?.status, 'second_factor_required', step.text);
        challenge = step.json?.challenge as string;
        const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
        assert.equal(sent.status, 200, sent.text);
        const { code, body } = codeFromTwilio(twilio, person.phone.e164);
        assert.match(body, /is your code to sign in\./);
        return code;
      },
      use: (code) => browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code }),
      ok: 200,
    },
    reauthentication: {
      name: 're-authentication',
      async issue() {
        const sent = await person.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' });
        assert.equal(sent.status, 200, sent.text);
        const { code, body } = codeFromTwilio(twilio, person.phone.e164);
        assert.match(body, /is your code to confirm it is you\./);
        return code;
      },
      use: (code) => person.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code }),
      ok: 200,
    },
    deploy: {
      name: 'deploy approval',
      async issue() {
        const sent = await person.client.post(`${base}/deployments/code`, { digest, method: 'sms' });
        assert.equal(sent.status, 200, sent.text);
        const { code, body } = codeFromTwilio(twilio, person.phone.e164);
        assert.match(body, /is your code to approve the deploy to Production\./);
        return code;
      },
      use: (code) => person.client.post(`${base}/deployments`, { digest, method: 'sms', code }),
      ok: 201,
    },
    enrolment: {
      name: 'enrolment',
      async issue() {
        // Changing the phone: the code goes to the new number and confirms only that enrolment.
        const started = await person.client.post(`/api/v1/factors/${person.factorId}/replace`, { country: newPhone.country, number: newPhone.number });
        assert.equal(started.status, 201, started.text);
        enrolmentId = started.json?.id as string;
        const { code, body } = codeFromTwilio(twilio, newPhone.e164);
        assert.match(body, /is your code to add this phone\./);
        return code;
      },
      use: (code) => person.client.post(`/api/v1/factors/sms/${enrolmentId}/confirm`, { code }),
      ok: 200,
    },
  };
}

const PAIRS = [
  ['sign_in', 'reauthentication'],
  ['sign_in', 'deploy'],
  ['reauthentication', 'deploy'],
  ['sign_in', 'enrolment'],
  ['reauthentication', 'enrolment'],
  ['deploy', 'enrolment'],
] as const;

for (const [a, b] of PAIRS) {
  test(`a ${a} code is refused for ${b} and a ${b} code for ${a}; each still works for its own purpose`, async (t) => {
    const w = await phoneWorld(t);
    const all = purposes(w);
    const first = all[a];
    const second = all[b];
    // Both codes are live at once, on the same phone: only purpose and scope tell them apart.
    const firstCode = await first.issue();
    const secondCode = await second.issue();
    assert.notEqual(firstCode, secondCode, 'two different codes (a one-in-a-million clash would make this test meaningless)');

    const crossed = await second.use(firstCode);
    assert.equal(crossed.status, 401, `${first.name} code used for ${second.name}: ${crossed.text}`);
    assert.equal(crossed.json?.error?.code, 'code_invalid');
    const crossedBack = await first.use(secondCode);
    assert.equal(crossedBack.status, 401, `${second.name} code used for ${first.name}: ${crossedBack.text}`);
    assert.equal(crossedBack.json?.error?.code, 'code_invalid');

    // The enrolment replaces the phone (and with it the other codes sent to it), so it goes last.
    const ordered = b === 'enrolment' ? [[first, firstCode], [second, secondCode]] as const : [[second, secondCode], [first, firstCode]] as const;
    for (const [purpose, code] of ordered) {
      const own = await purpose.use(code);
      assert.equal(own.status, purpose.ok, `${purpose.name} code for its own purpose: ${own.text}`);
    }
  });
}

test('a deploy code is bound to the target and the digest: refused for another bundle and for another target with the same bundle', async (t) => {
  const { world, twilio, person, target, digest } = await phoneWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'manual', requireTwoFactor: true });
  await world.authorise(staging, [person]);
  // The same change on Staging: the same bundle, so the very same digest, on another target.
  const same = await world.addChange(person.client, staging, 'banner', 'Spring sale', 'Spring banner');
  assert.equal(same.digest, digest);

  const sendFor = async (t2: Target, d: string) => {
    const sent = await person.client.post(`/api/v1/deploy-targets/${t2.id}/deployments/code`, { digest: d, method: 'sms' });
    assert.equal(sent.status, 200, sent.text);
    return codeFromTwilio(twilio, person.phone.e164);
  };
  const deploy = (t2: Target, d: string, code: string) => person.client.post(`/api/v1/deploy-targets/${t2.id}/deployments`, { digest: d, method: 'sms', code });

  const forProduction = await sendFor(target, digest);
  assert.match(forProduction.body, /approve the deploy to Production\./);
  const forStaging = await sendFor(staging, digest);
  assert.match(forStaging.body, /approve the deploy to Staging\./);
  assert.notEqual(forProduction.code, forStaging.code);

  const crossTarget = await deploy(staging, digest, forProduction.code);
  assert.equal(crossTarget.status, 401, crossTarget.text);
  assert.equal(crossTarget.json?.error?.code, 'code_invalid');

  // Production's bundle changes to B: the code for A does not approve B, even with a code for B live.
  const changed = await world.addChange(person.client, target, 'banner', 'Summer sale', 'Summer banner');
  assert.notEqual(changed.digest, digest);
  const forB = await sendFor(target, changed.digest);
  const crossDigest = await deploy(target, changed.digest, forProduction.code);
  assert.equal(crossDigest.status, 401, crossDigest.text);
  assert.equal(crossDigest.json?.error?.code, 'code_invalid');
  const stale = await deploy(target, digest, forProduction.code);
  assert.equal(stale.status, 409, 'digest A is no longer what would go out');
  assert.equal(stale.json?.error?.code, 'bundle_changed');

  // A code is sent only for what would go out now, and only to an authorised deployer.
  const staleSend = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/code`, { digest, method: 'sms' });
  assert.equal(staleSend.status, 409, staleSend.text);
  const outsider = await phonePerson(world, twilio);
  const notListed = await outsider.client.post(`/api/v1/deploy-targets/${target.id}/deployments/code`, { digest: changed.digest, method: 'sms' });
  assert.equal(notListed.status, 403, notListed.text);
  assert.equal(notListed.json?.error?.code, 'not_deployer');

  // Each still approves exactly its own deploy.
  const okStaging = await deploy(staging, digest, forStaging.code);
  assert.equal(okStaging.status, 201, okStaging.text);
  const okB = await deploy(target, changed.digest, forB.code);
  assert.equal(okB.status, 201, okB.text);
  assert.equal((okB.json as { digest?: string }).digest, changed.digest);
  assert.equal((okB.json as { method?: string }).method, 'sms');
});

test('a re-authentication code is bound to the session that asked for it', async (t) => {
  const { world, twilio, person } = await phoneWorld(t);
  // The same person signed in a second time, in another browser (with a sign-in code, the only way in).
  const otherSession = new TestClient(world.server.url);
  const step = await otherSession.post('/api/v1/auth/sign-in', { email: person.email, password: PASSWORD });
  assert.equal((await otherSession.post('/api/v1/auth/second-factor/send', { challenge: step.json?.challenge, method: 'sms' })).status, 200);
  const signedIn = await otherSession.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'sms', code: codeFromTwilio(twilio, person.phone.e164).code });
  assert.equal(signedIn.status, 200, signedIn.text);

  const sent = await person.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  const { code } = codeFromTwilio(twilio, person.phone.e164);
  const elsewhere = await otherSession.post('/api/v1/auth/reauthenticate', { method: 'sms', code });
  assert.equal(elsewhere.status, 401, elsewhere.text);
  const here = await person.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code });
  assert.equal(here.status, 200, here.text);
});

test('a re-authentication code does not change who may deploy in another session, and a deploy code never does', async (t) => {
  const { world, twilio, target, digest, person } = await phoneWorld(t);
  // The admin's own phone, besides their authenticator.
  await world.sudo();
  const phone = nextPhone();
  const started = await world.admin.client.post('/api/v1/factors/sms', { country: phone.country, number: phone.number });
  assert.equal(started.status, 201, started.text);
  assert.equal((await world.admin.client.post(`/api/v1/factors/sms/${started.json?.id as string}/confirm`, { code: codeFromTwilio(twilio, phone.e164).code })).status, 200);
  world.clock.advance(11 * 60_000); // past the settling time of a new factor
  await world.sudo();
  const put = (code: string) => world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [person.user.id], method: 'sms', code });

  // The admin is also a deployer: a deploy code sent to them does not edit the list.
  await world.authorise(target, [person, world.admin]);
  await world.sudo();
  const deploySent = await world.admin.client.post(`/api/v1/deploy-targets/${target.id}/deployments/code`, { digest, method: 'sms' });
  assert.equal(deploySent.status, 200, deploySent.text);
  const deployCode = codeFromTwilio(twilio, phone.e164).code;
  const reauthSent = await world.admin.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' });
  assert.equal(reauthSent.status, 200, reauthSent.text);
  const reauthCode = codeFromTwilio(twilio, phone.e164).code;
  const withDeployCode = await put(deployCode);
  assert.equal(withDeployCode.status, 401, withDeployCode.text);
  const otherSession = new TestClient(world.server.url);
  const step = await otherSession.post('/api/v1/auth/sign-in', { email: world.admin.email, password: PASSWORD });
  const signedIn = await otherSession.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'totp', code: world.code(world.admin.secret) });
  assert.equal(signedIn.status, 200, signedIn.text);
  const fromOtherSession = await otherSession.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [person.user.id], method: 'sms', code: reauthCode });
  assert.equal(fromOtherSession.status, 401, fromOtherSession.text);
  const ok = await put(reauthCode);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((ok.json as { deployers?: Array<{ id: string }> }).deployers?.map((d) => d.id), [person.user.id]);
});

test('two nodes agree: a code sent through one node is judged by its purpose on the other', async (t) => {
  const { clock, nodes } = await startTwoNodes(t);
  const [first, second] = nodes;
  const agency = await first.services.accounts.createOrganisation('Agency', null, SYSTEM);
  const clientOrg = await first.services.accounts.createOrganisation('Client', agency.id, SYSTEM);
  const email = `admin-${randomUUID().slice(0, 8)}@example.com`;
  const user = await first.services.accounts.createUser({ orgId: agency.id, email, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const client = await signedInClient(first, email);
  const world = new DeployWorld(clock, first, agency.id, clientOrg.id, { user, email, client, ...(await enrolTotp(client, clock)) });
  const { twilio, person, target, digest } = await phoneWorld(t, world);

  // Sent through the first node...
  const sentDeploy = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/code`, { digest, method: 'sms' });
  assert.equal(sentDeploy.status, 200, sentDeploy.text);
  const deployCode = codeFromTwilio(twilio, person.phone.e164).code;
  const sentReauth = await person.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' });
  assert.equal(sentReauth.status, 200, sentReauth.text);
  const reauthCode = codeFromTwilio(twilio, person.phone.e164).code;

  // ...and typed in on the second: each code only for what it was sent for.
  const onSecond = sameBrowserOn(person.client, second);
  const deployWithReauth = await onSecond.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest, method: 'sms', code: reauthCode });
  assert.equal(deployWithReauth.status, 401, deployWithReauth.text);
  const reauthWithDeploy = await onSecond.post('/api/v1/auth/reauthenticate', { method: 'sms', code: deployCode });
  assert.equal(reauthWithDeploy.status, 401, reauthWithDeploy.text);
  const reauth = await onSecond.post('/api/v1/auth/reauthenticate', { method: 'sms', code: reauthCode });
  assert.equal(reauth.status, 200, reauth.text);
  const deployed = await onSecond.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest, method: 'sms', code: deployCode });
  assert.equal(deployed.status, 201, deployed.text);
  // Back on the first node, the spent deploy code is spent there too.
  const again = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest, method: 'sms', code: deployCode });
  assert.ok(again.status === 401 || again.status === 409, again.text);
});

test('Deploy Now sends its own code: the page button texts a code that names the target and approves the deploy', async (t) => {
  const { world, twilio, person, target, digest } = await phoneWorld(t);
  const base = `/deploy/targets/${target.id}`;
  const fields = await hiddenFields(person.client, `${base}/deploy`);
  assert.equal(fields.digest, digest);
  const sent = await postForm(person.client, `${base}/deploy/send-code`, { _csrf: fields._csrf!, digest, method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  assert.match(sent.text, /We sent a code by [^<]+ to/);
  const { code, body } = codeFromTwilio(twilio, person.phone.e164);
  assert.match(body, /^Twofold: \d{6} is your code to approve the deploy to Production\./);
  const rows = await codeRows(world.server, person.user.id);
  assert.equal(rows.at(-1)?.purpose, 'deploy');

  // That code does not confirm it is you...
  const reauth = await person.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code });
  assert.equal(reauth.status, 401, reauth.text);
  // ...but it deploys, from the page.
  const deployed = await postForm(person.client, `${base}/deploy`, { _csrf: fields._csrf!, digest, method: 'sms', code });
  assert.equal(deployed.status, 200, deployed.text);
  assert.equal((await world.history(person, target))[0]?.method, 'sms');
});

test('each email names its action in the subject and the text', async (t) => {
  const world = await deployWorld(t);
  const smtp: SmtpPeer = await withSmtp(t);
  await world.sudo();
  await bindChannel(asDeliveryWorld(world), 'email', smtpConfig(smtp));
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const person = await world.person(world.agencyId, { enrol: false });

  const started = await person.client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const enrol = codeFromMail(smtp, person.email);
  assert.match(enrol.subject, /^Twofold: \d{6} is your code to add this email address$/);
  assert.match(enrol.text, /is your code to add this email address\./);
  assert.equal((await person.client.post(`/api/v1/factors/email/${started.json?.id as string}/confirm`, { code: enrol.code })).status, 200);
  await world.authorise(target, [person]);
  const { digest } = await world.addChange(person.client, target, 'banner', 'Spring sale', 'Spring banner');

  world.clock.advance(31_000);
  const browser = new TestClient(world.server.url);
  const step = await browser.post('/api/v1/auth/sign-in', { email: person.email, password: PASSWORD });
  assert.equal((await browser.post('/api/v1/auth/second-factor/send', { challenge: step.json?.challenge, method: 'email' })).status, 200);
  const signIn = codeFromMail(smtp, person.email);
  assert.match(signIn.subject, /^Twofold: \d{6} is your code to sign in$/);

  assert.equal((await person.client.post('/api/v1/auth/reauthenticate/send', { method: 'email' })).status, 200);
  const reauth = codeFromMail(smtp, person.email);
  assert.match(reauth.subject, /^Twofold: \d{6} is your code to confirm it is you$/);

  assert.equal((await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/code`, { digest, method: 'email' })).status, 200);
  const deploy = codeFromMail(smtp, person.email);
  assert.match(deploy.subject, /^Twofold: \d{6} is your code to approve the deploy to Production$/);
  assert.match(deploy.text, /approves only the bundle they reviewed|approve the deploy to Production/);

  // And each works only where it was meant to.
  const deployWithSignIn = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest, method: 'email', code: signIn.code });
  assert.equal(deployWithSignIn.status, 401, deployWithSignIn.text);
  const deployed = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest, method: 'email', code: deploy.code });
  assert.equal(deployed.status, 201, deployed.text);
});

test('codes are sent only where they could be used: API keys and unprotected targets get no deploy code', async (t) => {
  const { world, person } = await phoneWorld(t);
  const open = await world.createTarget({ name: 'Preview', timing: 'manual' });
  await world.authorise(open, [person]);
  const { digest } = await world.addChange(person.client, open, 'banner', 'x', 'x');
  const unprotected = await person.client.post(`/api/v1/deploy-targets/${open.id}/deployments/code`, { digest, method: 'sms' });
  assert.equal(unprotected.status, 400, unprotected.text);
  assert.equal(unprotected.json?.error?.code, 'code_not_required');
  const totp = await person.client.post(`/api/v1/deploy-targets/${open.id}/deployments/code`, { digest, method: 'totp' });
  assert.equal(totp.status, 400, totp.text);
});
