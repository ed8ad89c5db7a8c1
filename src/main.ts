/**
 * @module main
 * Process entry: load and validate the configuration, build the app, listen, and stop
 * gracefully on SIGTERM or SIGINT (a second signal exits at once).
 */
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger, errorFields } from './log/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let app;
  try {
    app = await createApp(config, { log });
  } catch (err) {
    log.error('could not start', errorFields(err));
    process.exit(1);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warning('second signal: exiting now', { signal });
      process.exit(1);
    }
    log.info('signal received', { signal });
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', errorFields(err));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  app.listen().catch((err: unknown) => {
    log.error('could not start', errorFields(err));
    process.exit(1);
  });
}

void main();
