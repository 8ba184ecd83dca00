import assert from 'node:assert/strict';
import type { TestClient } from './client.js';

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The hidden fields (the CSRF token among them) of the page at `path`, as a browser would submit them. */
export async function hiddenFields(client: TestClient, path: string): Promise<Record<string, string>> {
  const page = await client.get(path);
  assert.equal(page.status, 200, page.text);
  const fields: Record<string, string> = {};
  for (const m of page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!;
  return fields;
}

export function postForm(client: TestClient, path: string, fields: Record<string, string>) {
  return client.request('POST', path, new URLSearchParams(fields).toString(), FORM);
}
