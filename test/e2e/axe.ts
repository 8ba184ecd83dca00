import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** axe-core's browser build, read once; evaluated in the page through DevTools, so the page's CSP does not apply to it. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function runAxe(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; nodes: Array<{ target: string[] }> }> }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

/**
 * The page's accessibility violations as "theme: rule: selector, selector" lines (WCAG 2.x A and AA, plus best
 * practices), checked in the light theme and again with the system asking for dark (prefers-color-scheme), so
 * every page a test checks is checked in both themes. The page is left in the light theme.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const found: string[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
    if (dark !== (colorScheme === 'dark')) throw new Error(`could not switch the page to the ${colorScheme} theme`);
    for (const v of await runAxe(page)) found.push(`${colorScheme}: ${v}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
