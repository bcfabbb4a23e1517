import pino from 'pino';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { KvNode } from './kv-node.js';
import { parseMembers } from './members.js';

/** `bin/raft-kv-node`: one member of the demo key/value Raft group. */
export async function main(argv: string[]): Promise<void> {
  const args = await yargs(hideBin(argv))
    .scriptName('raft-kv-node')
    .usage('$0 --id N --members 1=host:port,2=host:port,... --data-dir DIR')
    .option('id', { type: 'number', demandOption: true, describe: "this member's id (a key of --members)" })
    .option('members', { type: 'string', demandOption: true, describe: 'founding members as id=host:port, comma-separated' })
    .option('data-dir', { type: 'string', demandOption: true, describe: 'folder for the LevelDB log and state' })
    .option('tick-ms', { type: 'number', default: 100, describe: 'Raft tick interval' })
    .option('election-ticks', { type: 'number', default: 10, describe: 'election timeout in ticks (randomized up to twice this)' })
    .option('token-env', { type: 'string', default: 'RAFT_INTERNAL_TOKEN', describe: 'environment variable holding the internal token' })
    .option('log-level', { type: 'string', default: 'info', choices: ['debug', 'info', 'warn', 'error'] })
    .strict()
    .help()
    .parse();
  const logger = pino({ level: args['log-level'], base: { node: args.id } });
  const token = process.env[args['token-env']];
  if (!token) throw new Error(`the internal token is missing: set ${args['token-env']}`);
  const members = parseMembers(args.members);
  if (!members.has(args.id)) throw new Error(`--id ${args.id} is not one of --members`);
  const node = await KvNode.start({
    id: args.id,
    members,
    dataDir: args['data-dir'],
    internalToken: token,
    tickMs: args['tick-ms'],
    electionTicks: args['election-ticks'],
    logger,
  });
  logger.info({ address: members.get(args.id) }, 'raft kv node ready');
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
