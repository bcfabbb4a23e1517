// The yargs front ends behind bin/*.
export { runPraefectCli } from './praefect-cli.js';
export { runClusterCli } from './cluster-cli.js';
