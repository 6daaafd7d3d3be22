import { describe, expect, it } from 'vitest';
import { parseArgs } from './cli';

describe('parseArgs (mlship-serve)', () => {
  it('reads the container entrypoint', () => {
    expect(
      parseArgs(['--model', 'cnn=/models/cnn', '--host', '0.0.0.0', '--port', '8080']),
    ).toEqual({
      server: { models: [{ name: 'cnn', source: '/models/cnn' }], host: '0.0.0.0', port: 8080 },
      logLevel: 'info',
      help: false,
    });
  });

  it('reads registry references, several per model, and --flag=value forms', () => {
    const { server } = parseArgs([
      '--registry',
      '/srv/reg',
      '--model=cnn=cnn#production',
      '--model',
      'cnn=cnn#staging',
      '--model',
      'local=./dir/cnn',
      '--port=0',
    ]);
    expect(server.models).toEqual([
      {
        name: 'cnn',
        source: [
          { registry: '/srv/reg', ref: 'cnn#production' },
          { registry: '/srv/reg', ref: 'cnn#staging' },
        ],
      },
      { name: 'local', source: './dir/cnn' },
    ]);
    expect(server.port).toBe(0);
  });

  it('reads batching, watch, cors, ui and log options', () => {
    const cli = parseArgs([
      '--model',
      'a=/m',
      '--workers',
      '2',
      '--max-batch-size',
      '32',
      '--max-delay-ms',
      '2',
      '--max-queue',
      '512',
      '--timeout-ms',
      '2000',
      '--watch-interval-ms',
      '250',
      '--cors',
      'https://a.example',
      '--cors',
      'https://b.example',
      '--no-ui',
      '--log-level',
      'debug',
    ]);
    expect(cli.server).toMatchObject({
      workers: 2,
      batching: { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 512 },
      timeoutMs: 2000,
      watch: { intervalMs: 250 },
      cors: ['https://a.example', 'https://b.example'],
      ui: false,
    });
    expect(cli.logLevel).toBe('debug');
    expect(
      parseArgs(['--model', 'a=/m', '--no-batching', '--no-watch', '--cors', '*']).server,
    ).toMatchObject({ batching: false, watch: false, cors: true });
    expect(parseArgs(['--help']).help).toBe(true);
  });

  it.each([
    [[], /give at least one --model NAME=SOURCE/],
    [['--model', 'cnn'], /--model expects NAME=SOURCE, got "cnn"/],
    [
      ['--model', 'a=/m', '--port', 'eighty'],
      /--port expects a non-negative integer, got "eighty"/,
    ],
    [['--model', 'a=/m', '--bogus'], /unknown argument "--bogus"/],
    [['--model', 'a=/m', '--host'], /--host expects a value/],
    [
      ['--model', 'a=/m', '--no-batching', '--max-batch-size', '8'],
      /--no-batching cannot be combined/,
    ],
    [['--model', 'a=/m', '--log-level', 'loud'], /--log-level expects debug, info, warn or error/],
  ])('refuses %j with INVALID_OPTION and the usage', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
    expect(() => parseArgs(argv)).toThrow(/Usage: mlship-serve/);
  });
});
