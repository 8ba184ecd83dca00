import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { TestServer } from '../helpers/server.js';

export const SHOTS_DIR = '/tmp/twofold-shots';
export const PASSWORD = 'correct horse battery staple 42';
export const DESKTOP = { width: 1280, height: 860 };
export const MOBILE = { width: 390, height: 844 };

/** Debian's Chromium, headless, with everything that phones home switched off. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A page whose console output and page errors are collected, so tests can assert on them. */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console messages of type error/warning, and uncaught page errors. */
  problems: string[];
}

export async function openPage(browser: Browser, baseURL: string, viewport = DESKTOP): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport });
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return { page, context, problems };
}

export function cspViolations(problems: string[]): string[] {
  return problems.filter((p) => /Content Security Policy/i.test(p));
}

/** Creates an organisation and one member through the services; returns the email. */
export async function createMember(server: TestServer, email = 'ada@example.test'): Promise<string> {
  const system = { userId: null, meta: null };
  const org = await server.services.accounts.createOrganisation('Analytical Engines', null, system);
  await server.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD, displayName: 'Ada Lovelace' }, system);
  return email;
}

/** The current code of a base32 secret at a given instant, computed by oathtool, an outside implementation. */
export function oathtoolCode(secret: string, atMs: number): string {
  return execFileSync('/usr/bin/oathtool', ['--totp', '-b', `--now=@${Math.floor(atMs / 1000)}`, secret], { encoding: 'utf8' }).trim();
}

/** Fills the password step and submits; callers wait for where they expect to land. */
export async function signInWithPassword(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Continue' }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/sign-in');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: true });
}
