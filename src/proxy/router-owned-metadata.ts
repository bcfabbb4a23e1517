/**
 * Metadata only the router may set toward a storage node: which reference
 * transaction a call belongs to and where to vote. A client's copy is
 * dropped, or a client could make a node vote with a server it chose.
 */
export const ROUTER_OWNED_METADATA: ReadonlySet<string> = new Set(['gitaly-reference-transaction', 'gitaly-praefect-server']);
