export {
  CHECKOUT_DURATION_BUCKETS,
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
export { processMetrics } from "./process-metrics.js";
export {
  BREAKER_STATE_VALUE,
  type BreakerStateName,
  type ConsumeOutcome,
  HTTP_DURATION_BUCKETS,
  ServiceMetrics,
  type ServiceMetricsOptions,
  type UpstreamBreaker,
} from "./service-metrics.js";
