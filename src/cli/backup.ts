/** `twofold backup`, `restore` and `verify-backup`: see README "Operating Twofold". */
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import type { BackupReport } from '../services/backup.js';
import { makeBackup, restoreBackup, verifyBackup } from '../services/backup.js';

function printReport(file: string, report: BackupReport): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`backup: ${file} (${report.format === 'sqlite' ? 'SQLite' : 'pg_dump'})`);
  const { schema } = report;
  out(`schema: ${schema.latest ?? 'none'}${schema.latest === schema.expected ? ' (latest)' : ` (this version expects ${schema.expected})`}`);
  for (const s of report.sealed) {
    out(`sealed ${s.column}: ${s.failed ? `${s.failed} of ${s.checked} do not open` : `${s.checked} of ${s.total} checked, all open`}`);
  }
  if (report.holdings) {
    const h = report.holdings;
    out(`holds: ${h.users} users, ${h.factors} factors (${h.activeFactors} active), ${h.sessions} live sessions`);
  }
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('Write a consistent copy of the database while the server runs (SQLite: online backup; PostgreSQL: pg_dump, custom format)')
    .requiredOption('--out <file>', 'where to write the copy (must not exist yet)')
    .action(async (opts: { out: string }) => {
      const result = await makeBackup(loadConfig(), opts.out);
      process.stdout.write(`wrote ${result.format === 'sqlite' ? 'SQLite' : 'pg_dump'} backup to ${result.file}\n`);
      process.stdout.write('Keep the secret key (TWOFOLD_SECRET_KEY or secret.key) with it, stored apart: the backup is useless without it.\n');
    });

  program
    .command('restore')
    .description('Replace the configured database with a backup (stop the server first); refuses a database that holds data unless --force')
    .requiredOption('--from <file>', 'a file written by "twofold backup"')
    .option('--force', 'replace a database that holds users or organisations')
    .action(async (opts: { from: string; force?: boolean }) => {
      const result = await restoreBackup(loadConfig(), opts.from, { force: opts.force === true });
      process.stdout.write(`restored ${result.file}\n`);
    });

  program
    .command('verify-backup')
    .description('Open a backup read-only and check it: schema version, sealed secrets against the configured key, what it holds')
    .argument('<file>', 'a file written by "twofold backup"')
    .action(async (file: string) => {
      const report = await verifyBackup(loadConfig(), file);
      printReport(file, report);
      if (!report.ok) {
        process.stderr.write(`twofold: backup check failed: ${report.problems.join('; ')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write('ok\n');
    });
}
