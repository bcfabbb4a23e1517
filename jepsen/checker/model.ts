/** The invocation side of an operation, as a model sees it. */
export interface OpInput {
  f: string;
  value: unknown;
}

/**
 * The completion side: `ok` with the value the client got back, or `info`
 * when the outcome is unknown (the model then says what the op would have
 * done had it happened; the checker decides whether it happened).
 */
export type OpOutcome = { type: 'ok'; value: unknown } | { type: 'info' };

export type StepResult<S> = { ok: true; state: S } | { ok: false };

/**
 * A sequential specification. States are immutable values: `step` returns a
 * new state and never changes the one it was given. `equal` and `hash` must
 * agree (equal states have equal hashes); the checker memoizes on them.
 */
export interface Model<S> {
  readonly name: string;
  init(): S;
  /** Whether `input` with result `output` is legal in `state`, and the state after it. */
  step(state: S, input: OpInput, output: OpOutcome): StepResult<S>;
  equal(a: S, b: S): boolean;
  hash(state: S): number;
  /**
   * Ops that never change the state. Those with an unknown outcome constrain
   * nothing, so the checker drops them before searching.
   */
  isReadOnly?(input: OpInput): boolean;
  /**
   * What an op would make visible if it happened (a written value, an
   * appended id), as a string; undefined when not known in advance. Together
   * with observedIds this lets the checker drop an unknown-outcome op whose
   * effect nobody observed: a model that defines them promises that such an
   * op can be removed without changing the verdict (true when every op that
   * follows it and depends on its effect would show that effect).
   */
  effectId?(input: OpInput): string | undefined;
  /** The effects (as effectId spells them) an op's invocation or result shows. */
  observedIds?(input: OpInput, output: OpOutcome): Iterable<string>;
  /** A JSON-friendly view of a state, for explanations. */
  describe?(state: S): unknown;
}
