// `bin/cluster`: start a local cluster (`up`), see its state (`status`), and
// run the operator commands against any router through its admin API.
import yargs, { type Argv } from 'yargs';
import { registerOperatorCommands, handler, type Args, type CommandContext } from './cluster-operator-commands.js';
import { gatherStatus, renderStatus } from './cluster-status.js';
import { normalizeLongFlags } from './cluster-argv.js';
import { DEFAULT_DIR, describeError, targetFromArgs, UsageError } from './cluster-target.js';

/** Exit codes: 0 success, 1 the command failed, 2 bad usage. */
export async function runClusterCli(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  let usageReported = false;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const ctx: CommandContext = {
    program: 'cluster',
    setExit,
    target: (args) => targetFromArgs({ dir: args['dir'] as string | undefined, router: args['router'] as string[] | undefined, token: args['token'] as string | undefined }),
  };
  const parser = yargs(normalizeLongFlags(argv))
    .scriptName('cluster')
    .usage('$0 <command> [options]\n\nStart a local Praefect cluster and operate it through any router\'s admin API.')
    .option('dir', { type: 'string', default: DEFAULT_DIR, describe: 'the local cluster\'s folder (its cluster.json names the routers and the token)', global: true })
    .option('router', { type: 'string', array: true, describe: 'a router\'s HOST:PORT (repeatable); overrides --dir', global: true })
    .option('token', { type: 'string', describe: 'the routers\' client token secret (default: from --dir\'s cluster.json)', global: true })
    .command(
      'up',
      'start a local cluster (embedded PostgreSQL, storage nodes, routers, git HTTP gateway) until Ctrl-C',
      (b) =>
        b
          .option('routers', { type: 'number', describe: 'routers in the Raft group (default 3, or as the folder was created)' })
          .option('storages', { type: 'number', describe: 'storage nodes (default 3, or as the folder was created)' })
          .option('exit', { type: 'boolean', default: false, describe: 'start, print the addresses, then stop' })
          .option('log-level', { type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error'] }),
      async (args) => setExit(await up(args)),
    )
    .command(
      'status',
      'the Raft group, storage health, repositories and the replication queue, as seen by the routers',
      (b) => b.option('json', { type: 'boolean', default: false, describe: 'stable JSON instead of tables' }),
      handler(ctx, 'status', async (target, args) => {
        const report = await gatherStatus(target);
        process.stdout.write(args['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
        return 0;
      }),
    )
    .command(
      'create-repository',
      'create an empty repository through a router (pushes do not create repositories)',
      (b) =>
        b
          .option('relative-path', { type: 'string', alias: 'repository', describe: 'e.g. my/project.git' })
          .option('virtual-storage', { type: 'string', describe: 'default: the cluster\'s' }),
      handler(ctx, 'create-repository', async (target, args) => {
        const relativePath = args['relative-path'];
        if (typeof relativePath !== 'string' || relativePath === '') throw new UsageError('--relative-path is required');
        const virtualStorage = typeof args['virtual-storage'] === 'string' && args['virtual-storage'] !== '' ? args['virtual-storage'] : target.virtualStorage;
        const { createRepository } = await import('./cluster-create-repository.js');
        const via = await createRepository(target, virtualStorage, relativePath);
        process.stdout.write(`created ${virtualStorage}/${relativePath} through router ${via}\n`);
        return 0;
      }),
    );
  registerOperatorCommands(parser as unknown as Argv, ctx)
    .demandCommand(1, 'name a command; see --help')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`cluster: ${message}\nRun cluster --help for usage.\n`);
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

async function up(args: Args): Promise<number> {
  try {
    const { clusterUp } = await import('./cluster-up.js');
    return await clusterUp({
      dir: args['dir'] as string,
      ...(typeof args['routers'] === 'number' ? { routers: args['routers'] } : {}),
      ...(typeof args['storages'] === 'number' ? { storages: args['storages'] } : {}),
      exit: args['exit'] === true,
      logLevel: args['log-level'] as string,
    });
  } catch (error) {
    process.stderr.write(`cluster up: ${describeError(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
