// Process entry of one demo group member (bin/raft-kv-node imports this; LocalGroup spawns it directly).
import { main } from './kv-node-main.js';

main(process.argv).catch((error: unknown) => {
  console.error(`raft-kv-node: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
