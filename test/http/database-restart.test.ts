/**
 * A PostgreSQL restart or outage under load: the node survives, answers 503 database_unavailable
 * quickly while the database is away, reports it on /readyz (with or without a session cookie),
 * and serves normally again once the database is back, without being restarted itself.
 *
 * The test runs its own throwaway cluster (initdb + pg_ctl in a temp directory, on a free port):
 * it never touches the shared PostgreSQL the other suites use. It runs with the PostgreSQL suites
 * (TWOFOLD_TEST_BACKEND=postgres), so once per full run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { currentBackend } from '../helpers/backend.js';
import { cliArgs } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PASSWORD = 'correct horse battery staple 42';
const EMAIL = 'ops@example.test';
/** A request while the database is away must be answered within this (the pool's connect timeout is 5 s). */
const FAST_MS = 6_000;

/** The newest PostgreSQL server binaries installed (Debian/Ubuntu layout), or TWOFOLD_TEST_PG_BIN. */
function findPostgresBin(): string | undefined {
  const explicit = process.env.TWOFOLD_TEST_PG_BIN;
  if (explicit) return existsSync(join(explicit, 'initdb')) ? explicit : undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')) && existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

const PG_BIN = findPostgresBin();
/**
 * Skipped only on the SQLite pass. On the PostgreSQL pass, missing server binaries fail the test
 * (in before()): a restart test that quietly did not run would look like a restart that works.
 */
const SKIP = currentBackend() !== 'postgres' ? 'runs with the PostgreSQL suites (TWOFOLD_TEST_BACKEND=postgres); it starts its own cluster' : false;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop (the load loops keep running), bounded in time. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // 'exit', not 'close': a server that pg_ctl leaves running must not hold us up.
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}


/** A throwaway PostgreSQL cluster in a temp directory, owned and run by the postgres OS user when we are root. */
class TempCluster {
  readonly dir: string;
  readonly data: string;
  readonly logFile: string;
  port = 0;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly bin: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'twofold-pg-'));
    this.data = join(this.dir, 'data');
    this.logFile = join(this.dir, 'postgres.log');
    if (this.asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(this.dir, uid, gid);
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async tool(name: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
    const path = join(this.bin, name);
    const result = this.asRoot
      ? await run('runuser', ['-u', 'postgres', '--', path, ...args], { cwd: this.dir, timeoutMs })
      : await run(path, args, { cwd: this.dir, timeoutMs });
    if (result.code !== 0) throw new Error(`${name} ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
    return result;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    await this.tool('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  }

  start(): Promise<RunResult> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    return this.tool('pg_ctl', ['-D', this.data, '-l', this.logFile, '-o', options, '-w', '-t', '30', 'start']);
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): Promise<RunResult> {
    return this.tool('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  restart(): Promise<RunResult> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    return this.tool('pg_ctl', ['-D', this.data, '-l', this.logFile, '-o', options, '-m', 'fast', '-w', '-t', '30', 'restart']);
  }

  async dispose(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid'))) await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface Answer {
  status: number; // -1: no HTTP answer at all (refused, reset, timed out)
  code?: string | undefined;
  ms: number;
  cookie?: string | undefined;
}

/** One request with a hard time bound; never throws. */
async function call(base: string, method: string, path: string, options: { cookie?: string; body?: unknown } = {}): Promise<Answer> {
  const started = Date.now();
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      redirect: 'manual',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    const session = res.headers.getSetCookie().find((c) => c.startsWith('twofold_session='));
    return { status: res.status, code, ms: Date.now() - started, cookie: session?.split(';')[0] };
  } catch (error) {
    return { status: -1, code: error instanceof Error ? `${error.name}: ${error.message}` : String(error), ms: Date.now() - started };
  }
}

type Phase = 'before' | 'restarting' | 'recovering' | 'between' | 'stopping' | 'down' | 'starting' | 'after' | 'done';

interface Sample extends Answer {
  kind: string;
  startPhase: Phase;
  endPhase: Phase;
}

describe('PostgreSQL restart and outage under load', { skip: SKIP }, () => {
  let cluster: TempCluster;
  let server: ChildProcess | undefined;
  let serverExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let serverOutput = '';
  let base = '';
  let dataDir = '';

  const serverEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('TWOFOLD_')) delete env[key];
    return {
      ...env,
      TWOFOLD_DATABASE_URL: cluster.url,
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: 'b'.repeat(64),
      TWOFOLD_HOST: '127.0.0.1',
      TWOFOLD_PORT: String(new URL(base).port),
      TWOFOLD_PUBLIC_URL: base,
      // Quiet: every 503 is logged at error level; the pool's own line and a crash go to stderr regardless.
      TWOFOLD_LOG_LEVEL: 'fatal',
    };
  };

  const alive = () => serverExit === undefined;
  const diagnostics = () => `server ${alive() ? 'running' : `exited ${JSON.stringify(serverExit)}`}; its output (tail):\n${serverOutput.slice(-4000)}`;

  before(async () => {
    assert.ok(PG_BIN, 'initdb/pg_ctl not found under /usr/lib/postgresql/*/bin: install the PostgreSQL server package or set TWOFOLD_TEST_PG_BIN');
    cluster = new TempCluster(PG_BIN);
    await cluster.init();
    await cluster.start();
    dataDir = join(cluster.dir, 'twofold');
    base = `http://127.0.0.1:${await freePort()}`;

    // The first user, made the way an operator does (this also applies the migrations).
    const created = await run(process.execPath, cliArgs('users', 'create', '--email', EMAIL, '--password-stdin'), { env: serverEnv(), stdin: PASSWORD });
    assert.equal(created.code, 0, `users create failed: ${created.stderr}`);

    server = spawn(process.execPath, cliArgs('serve'), { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => {
      serverOutput = (serverOutput + d.toString()).slice(-2_000_000);
    };
    server.stdout!.on('data', keep);
    server.stderr!.on('data', keep);
    server.on('exit', (code, signal) => (serverExit = { code, signal }));
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(alive(), `the server did not start: ${diagnostics()}`);
      if ((await call(base, 'GET', '/readyz')).status === 200) break;
      assert.ok(Date.now() < deadline, `the server was not ready within 30 s: ${diagnostics()}`);
      await sleep(100);
    }
  });

  after(async () => {
    if (server && alive()) {
      server.kill('SIGTERM');
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      if ((await Promise.race([exited, sleep(5_000, 'timeout')])) === 'timeout') server.kill('SIGKILL');
    }
    await cluster?.dispose();
  });

  test('the node survives a restart and an outage, answers 503 while the database is away, and recovers by itself', { timeout: 180_000 }, async (t) => {
    const signIn = () => call(base, 'POST', '/api/v1/auth/sign-in', { body: { email: EMAIL, password: PASSWORD } });
    const first = await signIn();
    assert.equal(first.status, 200, `sign-in before the outage: ${JSON.stringify(first)}`);
    assert.ok(first.cookie, 'a session cookie');
    const cookie = first.cookie;

    let phase: Phase = 'before';
    const samples: Sample[] = [];
    let stopping = false;
    const loop = async (kind: string, request: () => Promise<Answer>, pauseMs: number) => {
      // Bounded in count and (through `stopping` and each request's own timeout) in time.
      for (let i = 0; i < 4_000 && !stopping; i++) {
        const startPhase = phase;
        const answer = await request();
        samples.push({ ...answer, kind, startPhase, endPhase: phase });
        if (answer.status === -1) await sleep(200); // the node is gone: do not spin
        await sleep(pauseMs);
      }
    };
    const waitReady = async (what: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const ready = await call(base, 'GET', '/readyz');
        if (ready.status === 200) return;
        assert.ok(Date.now() < deadline, `${what}: /readyz still ${ready.status} ${ready.code ?? ''} after 30 s; ${diagnostics()}`);
        await sleep(100);
      }
    };

    const loops = [
      loop('session', () => call(base, 'GET', '/api/v1/session', { cookie }), 5),
      loop('session', () => call(base, 'GET', '/api/v1/session', { cookie }), 5),
      loop('session', () => call(base, 'GET', '/api/v1/session', { cookie }), 5),
      loop('sign-in', signIn, 20),
      loop('sign-in', signIn, 20),
      loop('readyz+cookie', () => call(base, 'GET', '/readyz', { cookie }), 50),
    ];
    try {
      await sleep(1_500);

      // 1. A restart while requests are in flight (the case that killed every busy node).
      phase = 'restarting';
      await cluster.restart();
      phase = 'recovering';
      await waitReady('after the restart');
      assert.ok(alive(), `the node died during the restart: ${diagnostics()}`);
      phase = 'between';
      await sleep(1_000);

      // 2. An outage of a few seconds.
      phase = 'stopping';
      await cluster.stop('fast');
      phase = 'down';
      const probes: Record<string, Answer> = {};
      for (let round = 0; round < 3; round++) {
        probes.readyz = await call(base, 'GET', '/readyz');
        probes.readyzWithCookie = await call(base, 'GET', '/readyz', { cookie });
        probes.healthz = await call(base, 'GET', '/healthz');
        probes.healthzWithCookie = await call(base, 'GET', '/healthz', { cookie });
        probes.session = await call(base, 'GET', '/api/v1/session', { cookie });
        probes.signIn = await signIn();
        probes.page = await call(base, 'GET', '/account', { cookie });
        for (const [name, answer] of Object.entries(probes)) {
          assert.ok(answer.ms < FAST_MS, `${name} during the outage took ${answer.ms} ms`);
          if (name.startsWith('healthz')) assert.equal(answer.status, 200, `${name} during the outage: ${JSON.stringify(answer)}`);
          else if (name === 'page') assert.equal(answer.status, 503, `a page during the outage: ${JSON.stringify(answer)}`);
          else assert.deepEqual([answer.status, answer.code], [503, 'database_unavailable'], `${name} during the outage: ${JSON.stringify(answer)}`);
        }
        await sleep(1_000);
      }
      assert.ok(alive(), `the node died during the outage: ${diagnostics()}`);

      phase = 'starting';
      await cluster.start();
      await waitReady('after the outage');
      phase = 'after';
      await sleep(1_500);
    } finally {
      stopping = true;
      await Promise.all(loops);
      phase = 'done';
    }

    const tally: Record<string, number> = {};
    for (const s of samples) {
      const key = `${s.startPhase}->${s.endPhase} ${s.status}${s.code ? ` ${s.code}` : ''}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
    t.diagnostic(`${samples.length} requests; slowest ${Math.max(...samples.map((s) => s.ms))} ms; ${JSON.stringify(tally)}`);

    assert.ok(alive(), `the node died: ${diagnostics()}`);
    assert.doesNotMatch(serverOutput, /Unhandled 'error' event|uncaughtException|unhandledRejection/i);
    // The pool's own connection errors are logged, not thrown.
    assert.match(serverOutput, /database connection lost/i, 'the lost connections were logged');

    const show = (list: Sample[]) => JSON.stringify(list.slice(0, 5));
    const noAnswer = samples.filter((s) => s.status === -1);
    assert.deepEqual(noAnswer.length, 0, `requests without an HTTP answer: ${show(noAnswer)}; ${diagnostics()}`);
    const unexpected = samples.filter((s) => !(s.status === 200 || (s.status === 503 && s.code === 'database_unavailable')));
    assert.equal(unexpected.length, 0, `answers other than 200 or 503 database_unavailable: ${show(unexpected)}; ${diagnostics()}`);
    const slow = samples.filter((s) => s.ms >= FAST_MS);
    assert.equal(slow.length, 0, `answers slower than ${FAST_MS} ms: ${show(slow)}`);

    const down = samples.filter((s) => s.startPhase === 'down' && s.endPhase === 'down');
    assert.ok(down.length >= 10, `enough load during the outage (${down.length} requests)`);
    const upDuringOutage = down.filter((s) => s.status !== 503);
    assert.equal(upDuringOutage.length, 0, `answers during the outage that were not 503: ${show(upDuringOutage)}`);

    // Once /readyz says ready again, every request succeeds: no broken connection is left in the pool.
    for (const steady of ['before', 'between'] as const) {
      const inPhase = samples.filter((s) => s.startPhase === steady && s.endPhase === steady);
      assert.ok(inPhase.length >= 10, `enough load in phase ${steady} (${inPhase.length} requests)`);
      const failed = inPhase.filter((s) => s.status !== 200);
      assert.equal(failed.length, 0, `failures in phase ${steady}: ${show(failed)}`);
    }

    const afterwards = samples.filter((s) => s.startPhase === 'after');
    assert.ok(afterwards.length >= 10, `enough load after the outage (${afterwards.length} requests)`);
    const failedAfter = afterwards.filter((s) => s.status !== 200);
    assert.equal(failedAfter.length, 0, `failures once the database was back: ${show(failedAfter)}`);
    for (const kind of ['session', 'sign-in', 'readyz+cookie']) {
      assert.ok(
        afterwards.some((s) => s.kind === kind && s.status === 200),
        `${kind} succeeded after the outage`,
      );
    }

    // And a last look: the node is ready and its session from before the outage still works.
    assert.equal((await call(base, 'GET', '/readyz')).status, 200);
    assert.equal((await call(base, 'GET', '/readyz', { cookie })).status, 200);
    assert.equal((await call(base, 'GET', '/api/v1/session', { cookie })).status, 200);
    assert.equal((await signIn()).status, 200);

    // The outage is visible to monitoring: requests refused for want of the database were counted.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const refused = Number(/^twofold_database_unavailable_total (\d+)$/m.exec(metrics)?.[1] ?? 0);
    const refusedRequests = down.filter((s) => s.kind !== 'readyz+cookie').length; // /readyz answers 503 itself, it is not a failed request
    assert.ok(refused >= refusedRequests, `twofold_database_unavailable_total is ${refused}, fewer than the ${refusedRequests} requests refused during the outage`);
  });
});
