/** Flags about how the main program's own source is read, which a worker thread must not inherit. */
const MAIN_INPUT_FLAGS = ['--input-type', '--experimental-default-type'];

/**
 * @internal
 * `process.execArgv` for mlship's worker threads: what a worker inherits by default, minus the
 * flags that describe the main program's input (`--input-type`, `--experimental-default-type`).
 * `node --input-type=module -e "..."` passes `--input-type` on to every worker, where Node refuses
 * it for a file (ERR_INPUT_TYPE_NOT_ALLOWED) and reads eval'd CommonJS as an ES module.
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const flag = MAIN_INPUT_FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (flag === undefined) out.push(arg);
    else if (arg === flag) i++; // `--input-type module`: the value is the next argument
  }
  return out;
}
