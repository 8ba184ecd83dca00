import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConsoleProvider } from '../../src/delivery/console.js';
import { createFileProvider, outboxPath } from '../../src/delivery/file.js';
import type { FileOutboxEntry } from '../../src/delivery/file.js';
import { rejectsDelivery } from './assert.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const email = { channel: 'email' as const, to: 'alice@example.com', subject: 'Acme sign-in code: 123456', text: 'Acme: 123456', html: '<b>123456</b>' };
const sms = { channel: 'sms' as const, to: '+447400123456', text: 'Acme: your sign-in code is 654321.' };

test('file provider appends one JSON line per message under <dataDir>/delivery', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-delivery-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const provider = createFileProvider({ kind: 'file' }, dataDir, () => NOW);

  const first = await provider.send(email);
  const second = await provider.send(sms);

  const path = join(dataDir, 'delivery', 'outbox.jsonl');
  const lines = readFileSync(path, 'utf8').split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  const entries = lines.slice(0, 2).map((l) => JSON.parse(l) as FileOutboxEntry);
  assert.deepEqual(entries[0], { id: first.providerMessageId, sentAt: '2025-06-01T12:00:00.000Z', ...email });
  assert.deepEqual(entries[1], { id: second.providerMessageId, sentAt: '2025-06-01T12:00:00.000Z', subject: null, html: null, ...sms });
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('file provider: the file name cannot leave the data directory', () => {
  assert.equal(outboxPath('/data', { kind: 'file', fileName: 'codes.jsonl' }), join('/data', 'delivery', 'codes.jsonl'));
  for (const fileName of ['../escape.jsonl', '/etc/passwd', 'a/b.jsonl', 'outbox.txt', '.hidden.jsonl']) {
    assert.throws(() => createFileProvider({ kind: 'file', fileName }, '/data'), { code: 'provider_config_invalid' }, fileName);
  }
});

test('file provider: an unwritable location is a transient failure', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-delivery-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // The "data directory" is a plain file, so <dataDir>/delivery cannot be created.
  await createFileProvider({ kind: 'file' }, dataDir).send(email);
  const provider = createFileProvider({ kind: 'file' }, join(dataDir, 'delivery', 'outbox.jsonl'));
  await rejectsDelivery(provider.send(email), { transient: true, message: /could not be written \(ENOTDIR\)/ });
});

test('console provider logs the whole message through the given logger', async () => {
  const logged: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const provider = createConsoleProvider({ kind: 'console' }, (message, fields) => logged.push({ message, fields }));
  const result = await provider.send(sms);
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.message, 'delivery (console): sms to +447400123456');
  assert.deepEqual(logged[0]!.fields, { delivery: { id: result.providerMessageId, channel: 'sms', to: sms.to, subject: null, text: sms.text } });
  await rejectsDelivery(provider.send({ ...sms, to: 'not a number' }), { transient: false });
  assert.equal(logged.length, 1);
});
