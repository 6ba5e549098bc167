export type {
  BreakerOptions,
  ServiceClientOptions,
} from "./client-options.js";
export { DEFAULT_BREAKER, DEFAULT_CONNECTIONS, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from "./client-options.js";
export type { Discovery, InstancesListener } from "./discovery/discovery.js";
export { parseInstanceList, StaticDiscovery, type StaticInstances } from "./discovery/static-discovery.js";
export {
  isUpstreamAbortedError,
  isUpstreamError,
  isUpstreamHttpError,
  isUpstreamProtocolError,
  isUpstreamTimeoutError,
  isUpstreamUnavailableError,
  type UnavailableReason,
  UpstreamAbortedError,
  UpstreamError,
  type UpstreamErrorCode,
  UpstreamHttpError,
  UpstreamProtocolError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from "./errors.js";
export type { BreakerState } from "./instance-breaker.js";
export type { RetryOptions } from "./retry-policy.js";
export { ServiceClient, type ServiceClientStats } from "./service-client.js";
export type { InstanceStats } from "./upstream-instance.js";
export type {
  HeaderValues,
  HttpMethod,
  QueryValue,
  RequestOptions,
  UpstreamRequest,
  UpstreamResponse,
} from "./upstream-request.js";
