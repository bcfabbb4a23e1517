// The yargs front ends behind bin/*.
export { runPraefectCli } from './praefect-cli.js';
