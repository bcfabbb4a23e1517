// `bin/gitaly [serve] <config.toml>`: runs a storage node until SIGINT or
// SIGTERM. An invalid configuration exits with status 2 and names the key.
import { ConfigError, loadConfigFile } from './config.js';
import { startGitalyNode } from './node-server.js';

const USAGE = 'usage: gitaly [serve] <config.toml>';

export async function main(argv: readonly string[]): Promise<number> {
  const args = argv[0] === 'serve' ? argv.slice(1) : [...argv];
  if (args.length !== 1 || args[0] === '--help' || args[0] === '-h') {
    process.stderr.write(`${USAGE}\n`);
    return args[0] === '--help' || args[0] === '-h' ? 0 : 2;
  }
  let config;
  try {
    config = loadConfigFile(args[0] as string);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gitaly: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let node;
  try {
    node = await startGitalyNode(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`gitaly: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await node.close();
  return 0;
}
