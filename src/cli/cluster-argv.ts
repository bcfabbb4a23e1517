// Command-line spelling shared by bin/cluster and bin/praefect.

/** Upstream writes long flags with one dash (`-virtual-storage`); yargs would read those as bundles of short flags. */
export function normalizeLongFlags(argv: readonly string[]): string[] {
  return argv.map((arg) => (/^-[a-z][a-z0-9-]+(=.*)?$/i.test(arg) ? `-${arg}` : arg));
}
