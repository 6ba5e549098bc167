export { cutText } from "./cut-text.js";
export * from "./metrics/index.js";
export { ATTR_BLOSSOM_SERVICE, messagingSystemOf } from "./tracing/attributes.js";
export { errorType, recordError } from "./tracing/errors.js";
export {
  type TracedEvent,
  traceEventCreation,
  traceEventProcessing,
  traceEventPublish,
} from "./tracing/messaging-spans.js";
export {
  endServerSpan,
  type IncomingRequest,
  recordServerError,
  runInServerSpan,
  type ServerSpan,
} from "./tracing/server-spans.js";
export { SpanForwarder } from "./tracing/span-forwarder.js";
export {
  DEFAULT_SPAN_STORE_CHARS,
  MAX_STORED_VALUE_CHARS,
  ServiceAttributeProcessor,
  SpanStore,
  type SpanStoreLimits,
  type StoredAttributeValue,
  type StoredSpan,
  type TraceReader,
  type TraceSummary,
  toStored,
} from "./tracing/span-store.js";
export { currentTracing, startTracing, type Tracing, type TracingOptions } from "./tracing/start-tracing.js";
export {
  activeTraceIds,
  extractTraceContext,
  hasActiveSpan,
  injectTraceContext,
  runOutsideTraces,
  type TraceCarrier,
} from "./tracing/trace-context.js";
