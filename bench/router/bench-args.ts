// The command line every bench script reads: --help prints the usage and
// exits; flags take the next word.
export interface BenchArgs {
  /** The word after `flag`, if given. */
  value(flag: string): string | undefined;
  /** A positive integer flag, or the fallback; anything else is refused naming the flag. */
  positive(flag: string, fallback: number): number;
  has(flag: string): boolean;
}

export function benchArgs(argv: readonly string[], usage: string): BenchArgs {
  if (argv.includes('--help')) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  return {
    value,
    positive(flag, fallback) {
      const given = value(flag);
      const number = given === undefined ? fallback : Number(given);
      if (!Number.isSafeInteger(number) || number <= 0) throw new Error(`${flag} needs a positive integer`);
      return number;
    },
    has: (flag) => argv.includes(flag),
  };
}
