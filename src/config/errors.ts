// The one error a bad configuration produces. It carries every problem found,
// each under the key path it concerns, so an operator fixes the file in one
// pass instead of one restart per mistake.

export interface ConfigProblem {
  /** Where in the file, e.g. `virtual_storage[0].node[1].address`; `(top level)` for the document itself. */
  readonly path: string;
  /** Why it is refused. Never contains the value of a secret. */
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], heading = 'invalid configuration') {
    super(`${heading}:\n  ${problems.map((p) => `${p.path}: ${p.message}`).join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
