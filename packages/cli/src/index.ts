export { runCli, COMMANDS } from './program';
export { CliError, isCliError, exitCodeOf, EXIT_CODES, CLI_ERROR_CODES } from './errors';
export type { CliErrorCode } from './errors';
export type { CliIo, OutputMode, Progress } from './output';
export { Output, renderTable, percent } from './output';
export type { CommandDef, CommandContext } from './command';
export type { Field, FieldType, Settings } from './fields';
export { parseDatasetSpec, describeDataset, loadDataset } from './data-source';
export type { DatasetSpec } from './data-source';
