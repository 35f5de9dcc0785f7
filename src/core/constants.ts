/** Wire and runtime constants. Units are in the names. */

/** Protocol version; a worker or driver of another version is refused at hello. */
export const PROTOCOL_VERSION = 2;

/** Objects up to this size travel inline with control messages and live at the head. */
export const INLINE_OBJECT_MAX_BYTES = 100 * 1024;

/** Chunk size for peer-to-peer object transfer. */
export const OBJECT_CHUNK_BYTES = 4 * 1024 * 1024;

export const HEARTBEAT_INTERVAL_MS = 1_000;
/** A node silent for this long is declared dead (stream close is noticed at once). */
export const NODE_DEATH_TIMEOUT_MS = 10_000;

/** Default retries of a task after a system failure (worker died, node lost). */
export const DEFAULT_TASK_MAX_RETRIES = 3;

/** Max tasks sent to one thread in a single message. */
export const THREAD_BATCH_MAX = 64;

export const DEFAULT_HEAD_PORT = 6380;

/**
 * Largest message any shoal gRPC server accepts. Only callers that passed the token check get this
 * far (the token is checked on the call's metadata, before its body is read); bulk data travels in
 * chunks (objects, bundles) and session frames split well below it.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = 64 * 2 ** 20;
/** A session or delivery frame is split into several once its packed batch grows past this. */
export const FRAME_SPLIT_BYTES = 8 * 2 ** 20;
/** Chunk size of a code bundle upload. */
export const BUNDLE_CHUNK_BYTES = 2 ** 20;
/** Largest code bundle the head accepts. */
export const MAX_BUNDLE_BYTES = 1024 * 2 ** 20;
/** Bundle uploads one caller (peer host) may have in progress at once. */
export const MAX_BUNDLE_UPLOADS_PER_CALLER = 4;
export const TOKEN_METADATA_KEY = 'authorization';

/** gRPC channel options shared by every client and server. */
export const GRPC_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_time_between_pings_ms': 5_000,
  'grpc-node.max_session_memory': 512,
} as const;
