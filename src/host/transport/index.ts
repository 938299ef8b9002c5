/**
 * Mutual-TLS 1.3 framed transport: the host adapter replicas and clients talk through.
 * Frames are opaque bytes with a 4-byte big-endian length prefix.
 */
export { FRAME_BYTES_MAX_DEFAULT, FRAME_HEADER_BYTES } from './framing.ts';
export { encodeFrame, FrameDecoder, type FrameDecodeError } from './frame-decoder.ts';
export { FrameWriter, type FrameSink, type FrameWriterStats } from './frame-writer.ts';
export { FrameQueue } from './frame-queue.ts';
export { Backoff } from './backoff.ts';
export { Connection, type ConnectionStats } from './connection.ts';
export { TlsServer, type TlsServerDependencies, type TlsServerHandlers, type TlsServerOptions, type TlsServerStats } from './tls-server.ts';
export { TlsConnector, type ConnectTarget, type TlsConnectorDependencies, type TlsConnectorOptions, type TlsConnectorStats } from './tls-connector.ts';
export { defaultTransportLogger, type TransportLogger } from './logger.ts';
export type { TlsCredentials } from './tls-credentials.ts';
