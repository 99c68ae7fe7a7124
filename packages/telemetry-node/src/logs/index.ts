/**
 * Logs: a structured JSON logger that writes to a stream and, when log export is on, to OTLP
 * through the OpenTelemetry Logs API, and a bounded batch processor that drops and counts records
 * instead of growing without limit.
 *
 * - `structured-logger.ts`: `StructuredLogger`
 * - `bounded-log-record-processor.ts`: `BoundedLogRecordProcessor`
 */
export { StructuredLogger, isLogLevel } from './structured-logger.js';
export type { StructuredLoggerOptions, LogLevel, LogAttributes } from './structured-logger.js';
export { BoundedLogRecordProcessor } from './bounded-log-record-processor.js';
export type { BoundedLogRecordProcessorOptions, LogDropReason } from './bounded-log-record-processor.js';
