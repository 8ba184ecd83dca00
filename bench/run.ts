/**
 * `npm run bench`: autocannon against real servers on 127.0.0.1 (started by bench/servers.ts in
 * a child process): the bare node:http floor, a Fastify reference and Twofold's three scenarios,
 * each compared with the floor of the same run.
 * Every scenario must answer 2xx only; the run exits non-zero otherwise.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { totpCodeAt } from '../src/core/totp.js';
import { FLOOR_COOKIE, FLOOR_TOKEN } from './framework-floor.js';
import type { ChildMessage, CountsMessage, ParentMessage, ReadyMessage } from './protocol.js';

const DURATION_S = Number(process.env.BENCH_DURATION || 5);
const CONNECTIONS = 10;
/** argon2id runs on libuv's 4 threads; more connections would only queue. */
const SIGN_IN_CONNECTIONS = 4;
/** Hard stop for the whole run, whatever happens. */
const DEADLINE_MS = 170_000;

interface Row {
  name: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses our own check accepted (status and body), where the scenario checks bodies. */
  verified: number | null;
  /** CPU time the Twofold server process used per response (µs); null for the bare and reference servers. */
  serverCpuUs: number | null;
}

// `npm run bench -- --pg`: the same scenarios against PostgreSQL (BENCH_DATABASE_URL, default the local test database).
const usePostgres = process.argv.includes('--pg') || process.env.BENCH_PG === '1';
const child = fork(fileURLToPath(new URL('./servers.ts', import.meta.url)), [], {
  execArgv: ['--import', 'tsx', '--expose-gc'],
  stdio: 'inherit',
  env: { ...process.env, BENCH_PG: usePostgres ? '1' : '0' },
});
const deadline = setTimeout(() => {
  console.error(`bench: deadline of ${DEADLINE_MS / 1000} s passed, stopping`);
  child.kill();
  process.exit(2);
}, DEADLINE_MS);

function nextMessage<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`bench servers exited (code ${code}) before sending "${type}"`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function tell(message: ParentMessage): void {
  child.send(message);
}

async function measure(name: string, options: autocannon.Options, verified: () => number | null = () => null): Promise<Row> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION_S, timeout: 10, ...options });
  const row: Row = {
    name,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    verified: verified(),
    serverCpuUs: null,
  };
  const codes = Object.entries(result.statusCodeStats)
    .map(([code, { count }]) => `${code}×${count}`)
    .join(' ');
  console.log(
    `${name}: ${row.reqPerSec.toFixed(1)} req/s, p50 ${ms(row.p50)} ms, p99 ${ms(row.p99)} ms, ${row.total} responses (${codes}), ` +
      `non-2xx ${row.non2xx}, errors ${row.errors}, timeouts ${row.timeouts}${row.verified === null ? '' : `, verified ${row.verified}`}`,
  );
  return row;
}

const json = { 'content-type': 'application/json' };

/** autocannon's latency histogram counts whole milliseconds: 0 means under one. */
function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

function ms(value: number): string {
  return value === 0 ? '<1' : String(value);
}

function bare(ready: ReadyMessage): Promise<Row> {
  return measure('bare node:http', { url: `${ready.bareUrl}/`, warmup: { connections: CONNECTIONS, duration: 1 } });
}

function frameworkFloor(ready: ReadyMessage): Promise<Row> {
  return measure('reference: Fastify + 1 SQLite read', {
    url: `${ready.floorUrl}/session`,
    headers: { cookie: `${FLOOR_COOKIE}=${FLOOR_TOKEN}` },
    warmup: { connections: CONNECTIONS, duration: 1 },
  });
}

function sessionCheckTarget(ready: ReadyMessage) {
  return { url: `${ready.twofoldUrl}/api/v1/session`, headers: { cookie: `twofold_session=${ready.sessionToken}` } };
}

/** A second of session checks before that scenario, outside it, so the server's CPU time counts only measured requests. */
async function warmUpSessionCheck(ready: ReadyMessage): Promise<void> {
  await autocannon({ ...sessionCheckTarget(ready), connections: CONNECTIONS, duration: 1 });
}

function sessionCheck(ready: ReadyMessage): Promise<Row> {
  return measure('GET /api/v1/session', sessionCheckTarget(ready));
}

function passwordSignIn(ready: ReadyMessage): Promise<Row> {
  let next = 0;
  let ok = 0;
  return measure(
    'POST /auth/sign-in (argon2id)',
    {
      url: ready.twofoldUrl,
      connections: SIGN_IN_CONNECTIONS,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/auth/sign-in',
          headers: json,
          // Round-robin over a few accounts; every password is right, so no failure counter moves.
          setupRequest: (request) => ({ ...request, body: JSON.stringify(ready.signInUsers[next++ % ready.signInUsers.length]) }),
          onResponse: (status, body) => {
            if (status === 200 && body.includes('"status":"signed_in"')) ok++;
          },
        },
      ],
    },
    () => ok,
  );
}

async function secondFactor(ready: ReadyMessage): Promise<{ row: Row; sent: number }> {
  const pool = ready.secondFactorPool;
  let next = 0;
  let ok = 0;
  const row = await measure(
    'POST /auth/second-factor (TOTP)',
    {
      url: ready.twofoldUrl,
      // Each pending flow (and each user's current code) is used once: never send more than the pool.
      maxOverallRequests: pool.length,
      requests: [
        {
          method: 'POST',
          path: '/api/v1/auth/second-factor',
          headers: json,
          setupRequest: (request) => {
            const item = pool[next++];
            if (!item) throw new Error('bench: second-factor pool exhausted; raise BENCH_TOTP_USERS');
            const code = totpCodeAt(item.secret, Date.now());
            return { ...request, body: JSON.stringify({ challenge: item.challenge, method: 'totp', code }) };
          },
          onResponse: (status, body) => {
            if (status === 200 && body.includes('"amr":["pwd","otp","mfa"]')) ok++;
          },
        },
      ],
    },
    () => ok,
  );
  // `next` counts every challenge put on the wire, including the few still in flight when time ran out.
  return { row, sent: next };
}

function table(rows: Row[], floor: number): void {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'vs bare', 'server CPU/req'];
  const lines = rows.map((r) => [
    r.name,
    r.reqPerSec.toFixed(1),
    ms(r.p50),
    ms(r.p99),
    String(r.non2xx),
    `${((r.reqPerSec / floor) * 100).toFixed(2)} %`,
    r.serverCpuUs === null ? '' : `${r.serverCpuUs.toFixed(0)} µs`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${format(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(format(line));
}

/** Everything that must hold for the figures to mean what they say. */
function problems(rows: Row[], sf: Row, sfSent: number, signIn: Row, counts: CountsMessage, poolSize: number): string[] {
  const found: string[] = [];
  for (const r of rows) {
    if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) found.push(`${r.name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    if (r.total === 0) found.push(`${r.name}: no responses`);
    if (r.verified !== null && r.verified !== r.total) found.push(`${r.name}: ${r.verified} of ${r.total} responses passed the body check`);
  }
  // Requests in flight when autocannon stops still complete on the server, unseen by the client.
  const seen = sf.verified ?? 0;
  if (counts.completedFlows < seen || counts.completedFlows > sfSent) {
    found.push(`database has ${counts.completedFlows} completed flows; the run saw ${seen} successes out of ${sfSent} sent`);
  }
  if (counts.failedSecondFactorEvents !== 0) found.push(`${counts.failedSecondFactorEvents} second_factor.failed audit events`);
  // One session from setup, one per successful password sign-in (warm-up and measured) and per second factor.
  if (counts.sessions < 1 + (signIn.verified ?? 0) + (sf.verified ?? 0)) found.push(`only ${counts.sessions} sessions in the database`);
  if (sfSent >= poolSize) found.push(`second-factor run used the whole pool of ${poolSize}: its figure is capped by setup, raise BENCH_TOTP_USERS`);
  return found;
}

async function main(): Promise<void> {
  const ready = await nextMessage('ready');
  console.log(
    `bench: ${DURATION_S} s per scenario, ${CONNECTIONS} connections (sign-in ${SIGN_IN_CONNECTIONS}); ` +
      `setup ${ready.setupMs} ms, ${ready.secondFactorPool.length} TOTP users with pending flows; ` +
      `database ${ready.backend}, access log ${ready.logging ? 'on (to /dev/null)' : 'off'}\n`,
  );
  const floor = await bare(ready);
  const reference = await frameworkFloor(ready);
  // The server's peak RSS and CPU time during each of its scenarios (the bare and reference servers are another process).
  const peaks: string[] = [];
  // Counts the server's CPU time and peak RSS over one scenario's requests.
  const serverScenario = async <T extends { row: Row }>(name: string, run: () => Promise<T>): Promise<T> => {
    tell({ type: 'mark' });
    await nextMessage('marked');
    const result = await run();
    tell({ type: 'peak' });
    const peak = await nextMessage('peak');
    peaks.push(`${name} ${mib(peak.peakRssBytes)} MiB`);
    result.row.serverCpuUs = result.row.total > 0 ? (peak.cpuMs * 1000) / result.row.total : null;
    return result;
  };
  tell({ type: 'peak' });
  await nextMessage('peak'); // the RSS peak so far (setup) is not a scenario's
  await warmUpSessionCheck(ready);
  const { row: session } = await serverScenario('session check', async () => ({ row: await sessionCheck(ready) }));
  const { row: signIn } = await serverScenario('sign-in', async () => ({ row: await passwordSignIn(ready) }));
  const { row: sf, sent: sfSent } = await serverScenario('second factor', () => secondFactor(ready));
  const rows = [floor, reference, session, signIn, sf];
  table(rows, floor.reqPerSec);

  tell({ type: 'count' });
  const counts = await nextMessage('counts');
  const found = problems(rows, sf, sfSent, signIn, counts, ready.secondFactorPool.length);
  console.log(`\nserver memory (RSS): idle ${mib(ready.idleRssBytes)} MiB, peak ${mib(counts.peakRssBytes)} MiB (by scenario: ${peaks.join(', ')})`);
  console.log(`\nchecks: ${sfSent} second-factor requests sent, ${counts.completedFlows} completed sign-in flows, ${counts.sessions} sessions, ${counts.failedSecondFactorEvents} failed second-factor events in the database`);
  for (const p of found) console.log(`PROBLEM: ${p}`);

  tell({ type: 'stop' });
  await nextMessage('stopped');
  child.disconnect();
  clearTimeout(deadline);
  process.exitCode = found.length > 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  child.kill();
  process.exit(1);
});
