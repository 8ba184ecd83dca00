/** `twofold keys rotate` and `keys status`: master key rotation (README "Key rotation"). */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { openRuntime } from '../services/bootstrap.js';
import { DEFAULT_BATCH_SIZE, rotateSealedValues, valuesNotUnderCurrentKey } from '../services/key-rotation.js';

function batchSize(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 10_000) throw new ConfigError('--batch-size must be a whole number from 1 to 10000');
  return Number(text);
}

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Master key rotation');

  keys
    .command('rotate')
    .description('Seal every stored secret again under TWOFOLD_SECRET_KEY, opening old values with TWOFOLD_ACCEPTED_SECRET_KEYS; safe while the server runs, resumable')
    .option('--batch-size <n>', 'values per transaction', String(DEFAULT_BATCH_SIZE))
    .action(async (opts: { batchSize: string }) => {
      const size = batchSize(opts.batchSize);
      const runtime = await openRuntime(loadConfig());
      try {
        const report = await rotateSealedValues(runtime.database, runtime.box, { batchSize: size });
        for (const [column, n] of Object.entries(report.resealed)) process.stdout.write(`resealed ${column}: ${n}\n`);
        const left = Object.values(await valuesNotUnderCurrentKey(runtime.database, runtime.box)).reduce((a, b) => a + b, 0);
        if (left > 0) {
          // Written meanwhile by a node that still seals under an older key.
          process.stderr.write(`twofold: ${left} values are not under key ${report.keyId} yet: check every node runs with the new TWOFOLD_SECRET_KEY and run again\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`every sealed value is under key ${report.keyId}; once every node runs with this TWOFOLD_SECRET_KEY, the old key may leave TWOFOLD_ACCEPTED_SECRET_KEYS\n`);
      } finally {
        await runtime.close();
      }
    });

  keys
    .command('status')
    .description('Show the current key id and how many sealed values are not under it yet')
    .action(async () => {
      const runtime = await openRuntime(loadConfig());
      try {
        process.stdout.write(`current key: ${runtime.box.currentKeyId}\n`);
        const left = await valuesNotUnderCurrentKey(runtime.database, runtime.box);
        for (const [column, n] of Object.entries(left)) process.stdout.write(`not yet under it: ${column} ${n}\n`);
      } finally {
        await runtime.close();
      }
    });
}
