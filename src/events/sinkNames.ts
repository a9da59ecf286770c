/** The built-in sinks' names (cursor keys), apart from the sinks themselves so that naming one loads nothing. */
export const EMITTER_SINK = 'emitter';
export const QUEUE_SINK = 'queue';
export const LOG_SINK = 'log';
export const STDOUT_SINK = 'stdout';
