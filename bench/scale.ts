/**
 * `npm run bench:scale`: is every operation a person or an admin uses as fast on a million-user
 * database as on a 100-user one? Loads both (bench/scale-load.ts), serves each in turn from its
 * own process (bench/scale-server.ts), sends the same requests to both over HTTP, and prints
 * p50/p99 side by side with the ratio. See bench/README.md.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { totpCodeAt } from '../src/core/totp.js';
import type { ScaleSizes } from './scale-load.js';
import { SMALL, sizesAt } from './scale-load.js';
import type { ScaleChildMessage, ScaleReady, ScaleServerArgs } from './scale-protocol.js';
import { OWN_EVENTS } from './scale-protocol.js';

interface Options {
  scale: number;
  sqlite: boolean;
  requests: number;
  concurrency: number;
  keep: boolean;
  databaseUrl: string;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const sqlite = argv.includes('--sqlite');
  const scale = Number(value('--scale') ?? (sqlite ? 0.01 : 1));
  const requests = Number(value('--requests') ?? 200);
  const concurrency = Number(value('--concurrency') ?? 1);
  if (!(scale > 0 && scale <= 1) || !Number.isInteger(requests) || requests < 10 || !Number.isInteger(concurrency) || concurrency < 1) {
    console.error('usage: npm run bench:scale -- [--scale 0.1] [--sqlite] [--requests 200] [--concurrency 1] [--keep]');
    process.exit(2);
  }
  return { scale, sqlite, requests, concurrency, keep: argv.includes('--keep'), databaseUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' };
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

interface Operation {
  name: string;
  /** Fewer for the slow ones (argon2 sign-in, a 10,000-row export). */
  requests: (n: number) => number;
  request: (ready: ScaleReady, i: number) => Request;
  /** What a right answer looks like beyond a 200. */
  check?: (text: string) => boolean;
}

const OPERATIONS: Operation[] = [
  { name: 'session check', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/session' }) },
  {
    name: 'sign-in (password)',
    requests: (n) => Math.min(n, 40),
    request: (r, i) => ({ method: 'POST', path: '/api/v1/auth/sign-in', body: { email: r.signInEmails[i % r.signInEmails.length], password: r.password } }),
    check: (text) => text.includes('"signed_in"'),
  },
  {
    name: 'second step (TOTP)',
    requests: (n) => n,
    request: (r, i) => {
      const pending = r.pool[i];
      if (!pending) throw new Error('bench:scale: the second-step pool ran out');
      return { method: 'POST', path: '/api/v1/auth/second-factor', body: { challenge: pending.challenge, method: 'totp', code: totpCodeAt(pending.secret, Date.now()) } };
    },
    check: (text) => text.includes('"signed_in"'),
  },
  { name: 'admin users: first page', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/users?limit=50' }) },
  { name: 'admin users: deep page', requests: (n) => n, request: (r) => ({ method: 'GET', path: `/api/v1/users?limit=50&after=${encodeURIComponent(r.usersDeepAfter)}` }) },
  { name: 'admin users: search', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/users?q=12345' }) },
  { name: 'admin users: without 2FA', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/users?filter=no_2fa&limit=50' }) },
  { name: 'admin users: without 2FA, deep', requests: (n) => n, request: (r) => ({ method: 'GET', path: `/api/v1/users?filter=no_2fa&limit=50&after=${encodeURIComponent(r.usersDeepAfter)}` }) },
  { name: 'audit: first page', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/audit' }) },
  { name: 'audit: deep page', requests: (n) => n, request: (r) => ({ method: 'GET', path: `/api/v1/audit?cursor=${r.auditDeepCursor}` }) },
  { name: 'audit: rare type', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/audit?type=admin.factors_reset' }) },
  { name: 'activity: first page', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/activity' }) },
  { name: 'activity: deep page', requests: (n) => n, request: (r) => ({ method: 'GET', path: `/api/v1/activity?cursor=${r.activityDeepCursor}` }) },
  {
    name: `activity CSV export (${OWN_EVENTS.toLocaleString('en')} rows)`,
    requests: (n) => Math.min(n, 20),
    request: () => ({ method: 'GET', path: '/api/v1/activity/export' }),
    check: (text) => text.split('\r\n').length > OWN_EVENTS,
  },
  { name: 'sessions list', requests: (n) => n, request: () => ({ method: 'GET', path: '/api/v1/sessions' }) },
];

interface Figures {
  p50: number;
  p99: number;
  failures: string[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function signInCookie(ready: ScaleReady): Promise<string> {
  const res = await fetch(`${ready.url}/api/v1/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ready.admin) });
  const token = /twofold_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 200 || !token) throw new Error(`bench:scale: the admin's sign-in answered ${res.status}: ${await res.text()}`);
  return `twofold_session=${token}`;
}

/** `count` requests, `concurrency` at a time, each timed from send to the last byte of its body. */
async function measure(ready: ScaleReady, cookie: string, operation: Operation, count: number, concurrency: number, offset: number): Promise<Figures> {
  const latencies: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const req = operation.request(ready, offset + i);
      const started = performance.now();
      const res = await fetch(`${ready.url}${req.path}`, {
        method: req.method,
        headers: { cookie, ...(req.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      });
      const text = await res.text();
      latencies.push(performance.now() - started);
      if (res.status !== 200 || (operation.check && !operation.check(text))) failures.push(`${res.status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), failures };
}

function waitFor<T extends ScaleChildMessage['type']>(child: ChildProcess, type: T): Promise<Extract<ScaleChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench:scale server exited (code ${code}) before "${type}"`));
    child.once('exit', onExit);
    const onMessage = (message: ScaleChildMessage) => {
      if (message.type !== type) return;
      child.off('exit', onExit);
      child.off('message', onMessage);
      resolve(message as Extract<ScaleChildMessage, { type: T }>);
    };
    child.on('message', onMessage);
  });
}

const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0));
const count = (n: number) => n.toLocaleString('en');

async function run(label: string, sizes: ScaleSizes, options: Options): Promise<Map<string, Figures>> {
  const backend = options.sqlite ? 'sqlite' : 'postgres';
  const args: ScaleServerArgs = {
    label,
    sizes,
    databaseUrl: options.sqlite ? null : options.databaseUrl,
    schema: `scale_${backend}_${String(sizes.users)}`,
    keep: options.keep,
    secondFactorPool: OPERATIONS.find((o) => o.name.startsWith('second step'))!.requests(options.requests) + 10,
  };
  console.log(`\n${label}: ${count(sizes.users)} users in ${count(sizes.organisations)} organisations (${count(sizes.bigOrganisationUsers)} in the biggest), ${count(sizes.sessions)} sessions, ${count(sizes.authenticators)} authenticators, ${count(sizes.auditEvents)} audit events (+${count(OWN_EVENTS)} of the bench admin), ${backend}`);
  const child = fork(new URL('./scale-server.ts', import.meta.url), [JSON.stringify(args)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await waitFor(child, 'ready');
  if (ready.reused) console.log(`  reused the loaded ${args.schema}; set-up took ${(ready.loadMs / 1000).toFixed(1)} s`);
  else {
    for (const [step, ms] of ready.loadSteps) console.log(`  ${step}: ${(ms / 1000).toFixed(1)} s`);
    console.log(`  load and set-up: ${(ready.loadMs / 1000).toFixed(1)} s`);
  }
  const results = new Map<string, Figures>();
  try {
    const cookie = await signInCookie(ready);
    for (const operation of OPERATIONS) {
      const n = operation.requests(options.requests);
      // A few warm-up requests (connections, prepared statements, caches) that are not counted.
      const warm = operation.name.startsWith('second step') ? 0 : Math.min(5, n);
      if (warm) await measure(ready, cookie, operation, warm, 1, 0);
      const figures = await measure(ready, cookie, operation, n, options.concurrency, warm);
      results.set(operation.name, figures);
      process.stdout.write(`  ${operation.name}: p50 ${fmtMs(figures.p50)} ms, p99 ${fmtMs(figures.p99)} ms${figures.failures.length ? `, ${figures.failures.length} FAILED: ${figures.failures[0]}` : ''}\n`);
    }
  } finally {
    child.send({ type: 'stop' });
    await waitFor(child, 'stopped').catch(() => undefined);
    child.kill();
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const small = await run('small database', SMALL, options);
  const big = await run(`big database (scale ${options.scale})`, sizesAt(options.scale), options);
  console.log(`\n| operation | small p50 | small p99 | big p50 | big p99 | p50 ratio | p99 ratio |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  let failed = false;
  for (const operation of OPERATIONS) {
    const s = small.get(operation.name);
    const b = big.get(operation.name);
    if (!s || !b) continue;
    const ratio = (x: number, y: number) => (x / y).toFixed(2);
    const over = b.p99 > 2 * s.p99 ? ' (over 2x)' : '';
    console.log(`| ${operation.name} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtMs(b.p50)} | ${fmtMs(b.p99)} | ${ratio(b.p50, s.p50)} | ${ratio(b.p99, s.p99)}${over} |`);
    if (s.failures.length || b.failures.length) failed = true;
  }
  console.log('\nTimes in ms, from sending the request to the last byte of the answer, one request at a time unless --concurrency.');
  if (failed) {
    console.error('Some requests failed (see above).');
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
