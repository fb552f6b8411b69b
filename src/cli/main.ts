#!/usr/bin/env node
// Entry point of the `plinth` command: parses arguments, runs one command, maps any error to one
// readable line on stderr and a documented exit code (docs/cli.md). Never prints a stack trace.
const startedAt = performance.now();
import { Command, CommanderError } from 'commander';
import { isPlinthError } from '../core/index.js';
import { registerAlertsCommands } from './commands/alerts.js';
import { registerDatasetsCommands } from './commands/datasets.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerDriftCommands } from './commands/drift.js';
import { registerModelsCommands } from './commands/models.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerMonitorCommands } from './commands/monitor.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerRunsCommands } from './commands/runs.js';
import { registerServerCommand } from './commands/server.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerTrainCommands } from './commands/train.js';
import { EXIT_CODES, exitCodeFor } from './exit-codes.js';

const program = new Command();
program
  .name('plinth')
  .description('Plinth: model registry, datasets, tracking, serving and monitoring in one platform')
  .option('--url <url>', 'server URL (PLINTH_URL)', undefined)
  .option('--token <token>', 'API token (PLINTH_TOKEN)', undefined)
  .option('--json', 'print JSON instead of tables', false)
  .exitOverride()
  .showHelpAfterError(false);

registerServerCommand(program, startedAt);
registerModelsCommands(program);
registerPredictCommand(program);
registerDeployCommands(program);
registerDatasetsCommands(program);
registerDriftCommands(program);
registerMonitorCommands(program);
registerAlertsCommands(program);
registerRunsCommands(program);
registerTrainCommands(program);
registerPipelineCommands(program);
registerTokenCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // help and version exit 0; usage errors were already printed by commander
    process.exitCode = error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    const code = isPlinthError(error) ? ` [${error.code}]` : '';
    process.stderr.write(`plinth: ${message}${code}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
