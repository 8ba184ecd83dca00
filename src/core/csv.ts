/**
 * CSV (RFC 4180) that is also safe to open in a spreadsheet. Exported fields include text an
 * outsider chose (the User-Agent of a failed sign-in, an email typed into the sign-in form), and
 * a spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as
 * a formula. Such a field gets a leading apostrophe, which spreadsheets show as text and do not
 * evaluate (OWASP's advice on CSV injection).
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export type CsvValue = string | number | boolean | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return values.map(csvField).join(',');
}

/** Rows joined with CRLF, as RFC 4180 has it, ending in a line break. */
export function toCsv(rows: ReadonlyArray<readonly CsvValue[]>): string {
  return rows.map((r) => `${csvRow(r)}\r\n`).join('');
}
