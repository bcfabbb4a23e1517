/**
 * Errors of the Jepsen checkers, with stable codes: callers branch on `code`,
 * never on message text.
 */
export abstract class CheckerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
  abstract readonly code: string;
}

/** One line of a history file is not an operation; `line` is 1-based, `field` names what is wrong. */
export class HistoryFormatError extends CheckerError {
  readonly code = 'JEPSEN_BAD_HISTORY_LINE';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${source}:${line}: field ${field}: ${detail}`);
  }
}

/**
 * Operations that do not pair up: a completion with no invocation open on its
 * process, a second invocation while one is open, or a completion whose f or
 * key differs from its invocation. `index` is the op's `index` field.
 */
export class HistoryPairingError extends CheckerError {
  readonly code = 'JEPSEN_BAD_HISTORY_PAIRING';
  constructor(
    readonly index: number,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`history op index ${index}: field ${field}: ${detail}`);
  }
}

/** A model was given an operation it does not know (an f it has no rule for, or a malformed value). */
export class ModelOperationError extends CheckerError {
  readonly code = 'JEPSEN_BAD_MODEL_OPERATION';
  constructor(
    readonly model: string,
    readonly f: string,
    readonly detail: string,
  ) {
    super(`model ${model}: operation ${f}: ${detail}`);
  }
}

/** A checker option outside its range (a limit that is not a positive number, for instance). */
export class CheckerOptionError extends CheckerError {
  readonly code = 'JEPSEN_BAD_CHECKER_OPTION';
  constructor(
    readonly option: string,
    readonly detail: string,
  ) {
    super(`checker option ${option}: ${detail}`);
  }
}
