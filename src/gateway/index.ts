/** The wallet's HTTPS REST API: public entry points. */
export { buildGateway, type GatewayOptions, BODY_BYTES_MAX_DEFAULT, IN_FLIGHT_MAX_DEFAULT } from './app.ts';
export { startGateway, type StartGatewayOptions, type GatewayTls, type RunningGateway } from './server.ts';
export { BackendError, backendErrorCode, responseEvidence, type WalletBackend, type VotedReply, type ReplyEvidence, type ResponseEvidence, type BackendErrorCode } from './backend.ts';
export { ERROR_CATALOGUE, problem, problemType, GatewayError, type ErrorCode, type Problem } from './errors.ts';
export { encodeOperation, type WalletOperation } from './operations.ts';
