import { describeError } from '@mlship/core';
import { parseArgs, USAGE } from './cli';
import { createJsonLogger } from './logger';
import { createServer } from './server';

// `mlship-serve`: the container entrypoint. JSON logs on stdout; exit 0 after a SIGTERM drain,
// 1 when the models cannot be loaded or the port cannot be bound, 2 for bad arguments.
async function main(): Promise<number> {
  let cli;
  try {
    cli = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${describeError(e)}\n`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = createJsonLogger({ level: cli.logLevel });
  let server;
  try {
    server = await createServer({ ...cli.server, logger });
    await server.start();
  } catch (e) {
    logger.error(
      {
        event: 'start-failed',
        code: (e as { code?: string }).code,
        error: describeError(e),
      },
      'cannot start',
    );
    await server?.stop();
    return 1;
  }
  const running = server;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      logger.info({ event: 'signal', signal }, `${signal}: stopping`);
      void running.stop().then(resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

void main().then((code) => process.exit(code));
