import { randomUUID } from 'node:crypto';
import { BACKUP_CODE_COUNT, generateBackupCodes, normaliseBackupCode } from '../core/backup-codes.js';
import { hmacSha256 } from '../core/crypto.js';
import type { BackupCode, Executor, User } from '../store/index.js';
import { conflict } from '../core/errors.js';
import { backupCodes, factors } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import { backupCodeContext } from './secret-contexts.js';
import type { RequestMeta, ServiceDeps } from './context.js';

/** Below this many unused codes the user is warned to print a new set. */
export const BACKUP_CODES_LOW_WATERMARK = 3;

export interface BackupCodeStatus {
  remaining: number;
  total: number;
  low: boolean;
}

export class BackupCodeService {
  private readonly pepper: Buffer;

  constructor(private readonly deps: ServiceDeps) {
    this.pepper = deps.box.deriveKey('backup-codes');
  }

  /** Codes have 60 bits, so a keyed fast hash is enough; the key keeps a stolen table useless. */
  hashCode(normalised: string): string {
    return hmacSha256(this.pepper, normalised);
  }

  /** Creates a new set in the caller's transaction, replacing any old set. Returns the codes once. */
  async issueSet(trx: Executor, user: User, reason: 'generated' | 'regenerated', actorUserId: string, meta: RequestMeta | null): Promise<string[]> {
    const now = this.deps.clock();
    const codes = generateBackupCodes(BACKUP_CODE_COUNT);
    const rows: BackupCode[] = codes.map((code) => {
      const id = randomUUID();
      const normalised = normaliseBackupCode(code) ?? code;
      return {
        id,
        user_id: user.id,
        code_hash: this.hashCode(normalised),
        code_encrypted: this.deps.box.encrypt(code, backupCodeContext(user.id)),
        created_at: now,
        used_at: null,
      };
    });
    await backupCodes.replaceBackupCodes(trx, user.id, rows);
    await recordAudit(trx, now, {
      type: reason === 'generated' ? 'backup_codes.generated' : 'backup_codes.regenerated',
      actorUserId,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { count: codes.length },
    });
    return codes;
  }

  async regenerate(user: User, meta: RequestMeta): Promise<string[]> {
    return this.deps.database.db.transaction().execute(async (trx) => {
      // Backup codes stand in for a factor; without one they would be a password-only bypass.
      if ((await factors.countActiveFactors(trx, user.id)) === 0) {
        throw conflict('no_factor', 'Turn on two-factor authentication before creating backup codes.');
      }
      return this.issueSet(trx, user, 'regenerated', user.id, meta);
    });
  }

  async status(userId: string): Promise<BackupCodeStatus> {
    const all = await backupCodes.listBackupCodes(this.deps.database.db, userId);
    const remaining = all.filter((c) => c.used_at === null).length;
    return { remaining, total: all.length, low: all.length > 0 && remaining <= BACKUP_CODES_LOW_WATERMARK };
  }

  /** Decrypts the current set for display to an admin or the user; used codes are marked. */
  async reveal(userId: string): Promise<Array<{ code: string; used: boolean }>> {
    const all = await backupCodes.listBackupCodes(this.deps.database.db, userId);
    return all.map((c) => ({ code: this.deps.box.decrypt(c.code_encrypted, backupCodeContext(userId)), used: c.used_at !== null }));
  }
}
