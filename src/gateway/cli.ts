// `bin/git-gateway`: flags in, a running gateway out, stopped cleanly on
// SIGINT/SIGTERM. The token comes from a file or the environment, never
// from a flag, so it does not show in `ps`.
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import yargs from 'yargs';
import { createGitGateway } from './gateway-server.js';

export const TOKEN_ENV_VAR = 'GIT_GATEWAY_TOKEN';
const MAX_TOKEN_FILE_BYTES = 4096;

export async function runGitGatewayCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const args = await yargs(argv)
    .scriptName('git-gateway')
    .usage('$0 --target HOST:PORT [options]\n\nGit smart HTTP in front of a gitaly.SmartHTTPService gRPC target.')
    .option('listen', { type: 'string', default: '127.0.0.1:8080', describe: 'HTTP listen address, HOST:PORT (port 0 picks one)' })
    .option('target', { type: 'string', demandOption: true, describe: 'gRPC target serving SmartHTTPService, HOST:PORT' })
    .option('storage', { type: 'string', default: 'default', describe: '(virtual) storage name for every repository' })
    .option('token-file', { type: 'string', describe: `file holding the v2 token secret (else $${TOKEN_ENV_VAR})` })
    .option('max-concurrent-requests', { type: 'number', default: 64 })
    .option('idle-timeout-ms', { type: 'number', default: 120_000 })
    .strict()
    .help()
    .parseAsync();
  const { host, port } = parseListen(args.listen);
  const logger = pino({ name: 'git-gateway' });
  const gateway = createGitGateway(
    {
      target: args.target,
      storage: args.storage,
      token: readToken(args['token-file'], env),
      maxConcurrentRequests: args['max-concurrent-requests'],
      idleTimeoutMs: args['idle-timeout-ms'],
    },
    { logger },
  );
  const address = await gateway.listen(port, host);
  logger.info({ address: `${address.address}:${address.port}`, target: args.target, storage: args.storage }, 'git gateway listening');
  stopOnSignals(gateway.close, logger);
}

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) throw new Error(`--listen: expected HOST:PORT, got "${listen}"`);
  return { host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port };
}

function readToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (tokenFile === undefined) {
    const fromEnv = env[TOKEN_ENV_VAR];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }
  const content = readFileSync(tokenFile);
  if (content.length > MAX_TOKEN_FILE_BYTES) throw new Error(`--token-file: ${tokenFile} is larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
  const token = content.toString('utf8').trim();
  if (token.length === 0) throw new Error(`--token-file: ${tokenFile} is empty`);
  return token;
}

function stopOnSignals(close: () => Promise<void>, logger: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'git gateway shutting down');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'git gateway shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
