// `bin/praefect`: the router and its database commands. Upstream's spelling
// `praefect -config FILE <command>` works as well as `--config FILE`.
import { pino, type Logger } from 'pino';
import yargs, { type Argv } from 'yargs';
import { ConfigError, loadConfigFile, redacted, type PraefectConfig } from '../config/index.js';
import { migrate, migrationStatus } from '../db/index.js';
import { openPool, PraefectServer } from '../praefect/index.js';
import { normalizeLongFlags } from './cluster-argv.js';
import { registerOperatorCommands, type CommandContext } from './cluster-operator-commands.js';
import { targetFromConfig, UsageError } from './cluster-target.js';

/** Exit codes: 0 success, 1 the command failed, 2 bad usage or configuration. */
export async function runPraefectCli(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  let usageReported = false;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  // The operator commands call the local router's admin API at the configuration's listen_addr, with its token.
  const operator: CommandContext = { program: 'praefect', setExit, target: (args) => targetFromConfig(operatorConfig(configOf(args)), configOf(args)!) };
  const parser = yargs(normalizeLongFlags(normalizeArgv(argv)))
    .scriptName('praefect')
    .usage('$0 --config FILE [command]\n\nThe Gitaly Cluster router: a Raft member that routes Gitaly calls to storage nodes.')
    .option('config', { type: 'string', describe: 'the router configuration (TOML)', global: true })
    .command(['serve', '$0'], 'run the router until SIGINT or SIGTERM', {}, async (args) => setExit(await serve(configOf(args))))
    .command('sql-migrate', 'apply pending database migrations', {}, async (args) => setExit(await withConfig(configOf(args), sqlMigrate)))
    .command('sql-migrate-status', 'show which migrations are applied', {}, async (args) => setExit(await withConfig(configOf(args), sqlMigrateStatus)))
    .command('sql-ping', 'check that the database answers', {}, async (args) => setExit(await withConfig(configOf(args), sqlPing)))
    .command('configuration', 'configuration commands', (y: Argv) =>
      y
        .command('validate', 'check a configuration file and report every problem by key path', {}, async (args) =>
          setExit(await withConfig(configOf(args), async () => {
            process.stdout.write('configuration is valid\n');
            return 0;
          })),
        )
        .demandCommand(1, 'name a configuration command: validate'),
    );
  registerOperatorCommands(parser as unknown as Argv, operator)
    .strict()
    .help()
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`praefect: ${message}\nRun praefect --help for usage.\n`);
      setExit(2);
      usageReported = true;
      // Stop here: without a throw, yargs would go on to run the command despite the bad usage.
      throw new Error(message);
    });
  try {
    // Validation may throw synchronously from parseAsync, before any promise exists.
    await parser.parseAsync();
  } catch (error) {
    if (!usageReported) throw error;
  }
  return exitCode;
}

function operatorConfig(file: string | undefined): PraefectConfig {
  if (file === undefined) throw new UsageError('--config FILE is required');
  try {
    return loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

function configOf(args: Record<string, unknown>): string | undefined {
  const config = args['config'];
  return typeof config === 'string' ? config : undefined;
}

/** Upstream writes `-config`; yargs would read that as six one-letter flags. */
function normalizeArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => (arg === '-config' ? '--config' : arg.startsWith('-config=') ? `--config=${arg.slice('-config='.length)}` : arg));
}

async function withConfig(file: string | undefined, command: (config: PraefectConfig) => Promise<number>): Promise<number> {
  if (file === undefined) {
    process.stderr.write('praefect: --config FILE is required\n');
    return 2;
  }
  let config: PraefectConfig;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`praefect: ${error.message}\n`);
    return 2;
  }
  try {
    return await command(config);
  } catch (error) {
    process.stderr.write(`praefect: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function sqlMigrate(config: PraefectConfig): Promise<number> {
  const pool = openPool(config.database, 'praefect sql-migrate');
  try {
    const applied = await migrate(pool);
    for (const m of applied) process.stdout.write(`applied ${m.version} ${m.name}\n`);
    process.stdout.write(`praefect sql-migrate: OK (applied ${applied.length} migrations)\n`);
    return 0;
  } finally {
    await pool.close();
  }
}

async function sqlMigrateStatus(config: PraefectConfig): Promise<number> {
  const pool = openPool(config.database, 'praefect sql-migrate-status');
  try {
    const rows = await migrationStatus(pool);
    const width = Math.max(...rows.map((r) => `${r.version} ${r.name}`.length), 9);
    process.stdout.write(`${'MIGRATION'.padEnd(width)}  APPLIED\n`);
    for (const r of rows) process.stdout.write(`${`${r.version} ${r.name}`.padEnd(width)}  ${r.appliedAt?.toISOString() ?? 'no'}\n`);
    return 0;
  } finally {
    await pool.close();
  }
}

async function sqlPing(config: PraefectConfig): Promise<number> {
  const pool = openPool(config.database, 'praefect sql-ping');
  try {
    await pool.query('SELECT 1');
    process.stdout.write(`praefect sql-ping: OK (${config.database.host}:${config.database.port}/${config.database.dbname})\n`);
    return 0;
  } finally {
    await pool.close();
  }
}

async function serve(file: string | undefined): Promise<number> {
  return withConfig(file, async (config) => {
    const logger: Logger = pino({ name: 'praefect', level: config.logging.level });
    logger.info({ config: redacted(config) }, 'starting router');
    const server = await PraefectServer.start({ config, logger });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    logger.info({ signal }, 'router shutting down');
    await server.stop(config.gracefulStopTimeoutMs);
    return 0;
  });
}
