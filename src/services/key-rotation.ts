/**
 * Master key rotation: every sealed value is opened with whichever configured key sealed it and
 * sealed again under the current key, a batch at a time, while the server keeps serving. A
 * value already under the current key is skipped, so a rotation that stopped half-way (a crash,
 * Ctrl-C) simply runs again; each value is replaced by compare-and-set, so one the server
 * changed meanwhile is never overwritten with an older one.
 */
import type { SecretBox } from '../core/crypto.js';
import { sealedPrefixOf } from '../core/crypto.js';
import { isTwofoldError } from '../core/errors.js';
import type { Database, SealedCell, SealedCellRef, SealedColumn } from '../store/index.js';
import { sealedColumns } from '../store/index.js';
import { contextOfCell } from './secret-contexts.js';

export const DEFAULT_BATCH_SIZE = 200;
/** Passes in a row that replaced nothing before a rotation gives up (someone keeps sealing under another key). */
const STALLED_PASSES = 3;
/** Passes over one column before giving up: each pass after the first only meets values written meanwhile. */
const MAX_PASSES = 10;

export interface RotationOptions {
  batchSize?: number;
  /** Called after each batch is written: progress output, and tests that stop a rotation half-way. */
  afterBatch?: (column: SealedColumn, resealed: number) => void | Promise<void>;
}

export interface RotationReport {
  keyId: string;
  resealed: Record<SealedColumn, number>;
}

export class RotationError extends Error {}

function describeCell(cell: SealedCell): string {
  const { column, ...key } = cell.ref;
  return `${column} ${Object.values(key).join('/')}`;
}

/** What is left to do: per column, how many values are not yet under the current key. */
export async function valuesNotUnderCurrentKey(database: Database, box: SecretBox): Promise<Record<SealedColumn, number>> {
  const prefix = sealedPrefixOf(box.currentKeyId);
  const left = {} as Record<SealedColumn, number>;
  for (const column of sealedColumns.SEALED_COLUMNS) left[column] = await sealedColumns.countCells(database.db, column, prefix);
  return left;
}

/** Opens and re-seals a batch, then writes it by compare-and-set in one transaction; returns how many were written. */
async function resealBatch(database: Database, box: SecretBox, cells: SealedCell[]): Promise<number> {
  // The crypto happens before the transaction opens, so the write lock is held only for the writes.
  const replacements = cells.map((cell) => {
    const context = contextOfCell(cell.ref);
    try {
      return { cell, sealed: box.encrypt(box.decrypt(cell.sealed, context), context) };
    } catch (error) {
      if (!isTwofoldError(error)) throw error;
      throw new RotationError(`${describeCell(cell)} does not open with any configured key: add the key it was sealed with to TWOFOLD_ACCEPTED_SECRET_KEYS`);
    }
  });
  return database.db.transaction().execute(async (trx) => {
    let n = 0;
    for (const r of replacements) if (await sealedColumns.replaceCell(trx, r.cell, r.sealed)) n++;
    return n;
  });
}

export async function rotateSealedValues(database: Database, box: SecretBox, options: RotationOptions = {}): Promise<RotationReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const prefix = sealedPrefixOf(box.currentKeyId);
  const resealed = {} as Record<SealedColumn, number>;
  for (const column of sealedColumns.SEALED_COLUMNS) {
    resealed[column] = 0;
    // One pass walks the table once in key order. A value the server changed under the pass
    // (compare-and-set missed) is found by the next pass; the column is done when a pass finds nothing.
    let stalled = 0;
    for (let pass = 1; ; pass++) {
      let found = 0;
      let written = 0;
      let after: SealedCellRef | undefined;
      for (;;) {
        const cells = await sealedColumns.listCells(database.db, column, { notStartingWith: prefix, limit: batchSize, ...(after ? { after } : {}) });
        if (cells.length === 0) break;
        after = cells[cells.length - 1]!.ref;
        found += cells.length;
        const n = await resealBatch(database, box, cells);
        written += n;
        resealed[column] += n;
        await options.afterBatch?.(column, n);
      }
      if (found === 0) break;
      stalled = written === 0 ? stalled + 1 : 0;
      if (stalled >= STALLED_PASSES || pass >= MAX_PASSES) {
        throw new RotationError(`${column} values keep changing under another key: is a node still running with an older TWOFOLD_SECRET_KEY?`);
      }
    }
  }
  return { keyId: box.currentKeyId, resealed };
}
