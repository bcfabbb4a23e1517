// Typed errors of the prober. All of them are caller bugs, never node failures:
// a node's failures only ever show up in the health view.

export class UnknownStorageError extends Error {
  constructor(virtualStorage: string, storage: string) {
    super(`no storage "${storage}" in virtual storage "${virtualStorage}" is being probed`);
    this.name = 'UnknownStorageError';
  }
}

export class ProberOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProberOptionsError';
  }
}

export class ProberStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProberStateError';
  }
}
