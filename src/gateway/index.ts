export { createGitGateway, type GitGateway, type GitGatewayDeps } from './gateway-server.js';
export { parseGatewayOptions, gatewayOptionsSchema, type GatewayOptions, type GatewayOptionsInput } from './gateway-options.js';
export { HttpError, httpStatusForGrpcCode, toHttpError } from './http-error.js';
export { routeRequest, parseRelativePath, validateRelativePath, type GitRoute, type GitService } from './repository-path.js';
export { createSmartHttpClient, smartHttpDefinition, type SmartHttpClient, type SmartHttpClientOptions } from './smart-http-client.js';
export { runGitGatewayCli, parseListen, TOKEN_ENV_VAR } from './cli.js';
