import { normaliseBackupCode } from '../../core/backup-codes.js';
import type { Executor } from '../../store/index.js';
import { backupCodes } from '../../store/index.js';
import type { BackupCodeService } from '../backup-codes.js';
import type { ServiceDeps } from '../context.js';
import type { SecondFactorStrategy, VerificationResult } from './strategy.js';
import type { Principal } from '../principal.js';

export class BackupCodeStrategy implements SecondFactorStrategy {
  readonly method = 'backup_code' as const;
  // RFC 8176 has no backup-code value; a one-time code is the nearest honest description.
  readonly amr = ['otp'] as const;
  readonly gatedByLockout = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly codes: BackupCodeService,
  ) {}

  async verify(db: Executor, user: Principal, code: string): Promise<VerificationResult> {
    const normalised = normaliseBackupCode(code);
    if (!normalised) return { ok: false, failureCode: 'code_invalid' };
    const spent = await backupCodes.spendBackupCode(db, user.id, this.codes.hashCode(normalised), this.deps.clock());
    if (!spent) return { ok: false, failureCode: 'code_invalid' };
    return { ok: true, details: { remaining: await backupCodes.countUnusedBackupCodes(db, user.id) } };
  }
}
