import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, DEFAULT_DATA_DIR, loadConfigFile } from '../config/load-config.js';
import { KeyRotationError, rotateKeys } from '../security/key-rotation.js';
import { MasterKeyError, newMasterKeyText } from '../security/master-key.js';
import { CliError } from './cli-error.js';

/** `flowstream keys rotate|generate`: master keys of the secrets at rest (docs/security.md). */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage the master key that encrypts stream secrets at rest');
  keys.addCommand(
    new Command('rotate')
      .description(
        're-seal every stored secret with a new master key (keyring.json) or with FLOWSTREAM_MASTER_KEY; the service must be stopped',
      )
      .option('--data <dir>', `data directory (default ${DEFAULT_DATA_DIR}, or storage.path of --config)`)
      .option('--config <file>', 'configuration file, for storage.path')
      .action((opts: { data?: string; config?: string }) => {
        let directory = opts.data;
        if (directory === undefined && opts.config !== undefined) {
          try {
            directory = loadConfigFile(opts.config).storage.path;
          } catch (err: unknown) {
            if (err instanceof ConfigError) throw new CliError(err.message);
            throw err;
          }
        }
        directory = path.resolve(directory ?? DEFAULT_DATA_DIR);
        try {
          const report = rotateKeys({ directory });
          const out = process.stdout;
          out.write(`re-sealed ${report.resealed} of ${report.streams} stream definitions in ${directory}\n`);
          out.write(
            `  primary key: ${report.primaryKeyId} (${report.source === 'env' ? 'FLOWSTREAM_MASTER_KEY' : 'keyring.json'})\n`,
          );
          if (report.retiredKeyIds.length > 0) {
            out.write(
              report.source === 'env'
                ? `  no longer needed: ${report.retiredKeyIds.join(', ')} (drop them from FLOWSTREAM_MASTER_KEY_PREVIOUS)\n`
                : `  retired and removed from keyring.json: ${report.retiredKeyIds.join(', ')}\n`,
            );
          }
        } catch (err: unknown) {
          if (err instanceof KeyRotationError || err instanceof MasterKeyError)
            throw new CliError(err.message, 1);
          throw err;
        }
      }),
  );
  keys.addCommand(
    new Command('generate')
      .description(
        'print a new random master key, in the form FLOWSTREAM_MASTER_KEY takes (base64, 32 bytes)',
      )
      .action(() => {
        process.stdout.write(`${newMasterKeyText()}\n`);
      }),
  );
  return keys;
}
