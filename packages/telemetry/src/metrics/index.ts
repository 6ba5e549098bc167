export {
  CHECKOUT_DURATION_BUCKETS,
  gatewayShedMetrics,
  RATE_LIMIT_ROUTE_CLASSES,
  type RateLimitMetrics,
  type RateLimitRouteClass,
  RESERVATION_OUTCOMES,
  type ReservationMetrics,
  type ReservationOutcome,
  rateLimitMetrics,
  reservationMetrics,
  SAGA_OUTCOMES,
  type SagaMetrics,
  type SagaOutcome,
  sagaMetrics,
} from "./domain-metrics.js";
export { httpLabels, statusClass, UNMATCHED_ROUTE } from "./http-labels.js";
export {
  bucketQuantile,
  DEFAULT_HISTORY_MS,
  DEFAULT_SAMPLE_INTERVAL_MS,
  type HistogramFigures,
  MetricsHistory,
  type MetricsHistoryOptions,
  type MetricsPoint,
  type RequestFigures,
  type RouteFigures,
} from "./metrics-history.js";
export { processMetrics } from "./process-metrics.js";
export {
  BREAKER_STATE_VALUE,
  type BreakerStateName,
  type ConsumeOutcome,
  DELIVERY_DELAY_BUCKETS,
  HTTP_DURATION_BUCKETS,
  ServiceMetrics,
  type ServiceMetricsOptions,
  type UpstreamBreaker,
} from "./service-metrics.js";
