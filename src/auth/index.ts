export {
  makeV2Token,
  makeV2AuthorizationHeader,
  checkV2Token,
  parseAuthorizationHeader,
  TOKEN_VALIDITY_SEC,
  MAX_AUTHORIZATION_HEADER_LENGTH,
  type V2TokenCheck,
  type V2TokenFailureReason,
  type ParsedV2Header,
} from './v2-token.js';
export { systemClockSec, type ClockSec } from './clock.js';
export { AuthCounter, type AuthAttempt, type AuthObserver, type AuthStatusLabel } from './auth-counter.js';
export { AUTHORIZATION_METADATA_KEY, v2TokenMetadata, v2CallCredentials, v2TokenInterceptor } from './grpc-client-auth.js';
export { authenticateMetadata, guardService, unauthenticated, type ServerAuthOptions } from './grpc-server-auth.js';
