// The yargs front ends behind bin/*. Each loads its program on first use, so
// a quick operator command does not pay for loading the whole router.

/** `bin/praefect`: the router and its commands; resolves with the exit code. */
export async function runPraefectCli(argv: readonly string[]): Promise<number> {
  const { runPraefectCli: run } = await import('./praefect-cli.js');
  return run(argv);
}

/** `bin/cluster`: `up`, `status` and the operator commands; resolves with the exit code. */
export async function runClusterCli(argv: readonly string[]): Promise<number> {
  const { runClusterCli: run } = await import('./cluster-cli.js');
  return run(argv);
}
