/**
 * Libraries only some installations use are loaded on first use, not at start, so a server
 * that never needs them does not hold their memory: the pg driver (SQLite installations) and
 * nodemailer (no SMTP provider). Checked in a fresh process that loads everything a server
 * loads at start (the services and the HTTP app).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('starting a server loads neither the pg driver nor nodemailer', () => {
  const script = `
    await import('./src/services/bootstrap.ts');
    await import('./src/http/app.ts');
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    const of = (name) => loaded.some((path) => path.includes('/node_modules/' + name + '/'));
    console.log(JSON.stringify({ pg: of('pg'), nodemailer: of('nodemailer'), fastify: of('fastify') }));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const loaded = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, boolean>;
  // fastify is loaded through the same require cache: proves the check sees CommonJS modules at all.
  assert.deepEqual(loaded, { pg: false, nodemailer: false, fastify: true });
});
