/**
 * Metadata only the router may set toward a storage node: which reference
 * transaction a call belongs to, where to vote, the transaction's time, and
 * the write marker. A client's copy is dropped, or a client could make a
 * node vote with a server it chose, or forge a write log entry.
 */
export const ROUTER_OWNED_METADATA: ReadonlySet<string> = new Set(['gitaly-reference-transaction', 'gitaly-praefect-server', 'praefect-transaction-time', 'praefect-write']);
