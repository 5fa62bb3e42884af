/** Keys under which a log line travels through winston beside its visible fields. */

/** The finished, redacted JSON object of one line. */
export const RECORD: unique symbol = Symbol('ergon.log.record');
/** The span context active when the line was logged (for the OTLP transport). */
export const SPAN_CONTEXT: unique symbol = Symbol('ergon.log.spanContext');
/** winston's (triple-beam's) key for the formatted output line. */
export const MESSAGE: symbol = Symbol.for('message');
