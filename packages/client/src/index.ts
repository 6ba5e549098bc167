export type {
  BreakerOptions,
  ClientCredentials,
  ServiceClientOptions,
} from "./client-options.js";
export { DEFAULT_BREAKER, DEFAULT_CONNECTIONS, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from "./client-options.js";
export type { Discovery, InstancesListener } from "./discovery/discovery.js";
export {
  DEFAULT_DNS_REFRESH_MS,
  DnsDiscovery,
  type DnsDiscoveryOptions,
  type DnsErrorListener,
  type HostResolver,
  parseDnsServiceUrl,
} from "./discovery/dns-discovery.js";
// Types only: the bucket itself (and the NATS client it loads) is `@blossom/client/nats`,
// imported when NATS is configured, so the embedded default never loads the NATS client.
export type { InstanceBucket, InstanceBucketOptions, InstanceRecord } from "./discovery/instance-bucket.js";
export { NatsKvDiscovery, type NatsKvDiscoveryOptions } from "./discovery/nats-kv-discovery.js";
export { NatsKvRegistrar, type NatsKvRegistrarOptions } from "./discovery/nats-kv-registrar.js";
export { DNS_PREFIX, parseServiceLocation, type ServiceLocation } from "./discovery/service-location.js";
export { parseInstanceList, StaticDiscovery, type StaticInstances } from "./discovery/static-discovery.js";
export {
  type AttemptedRequest,
  callFailure,
  changesState,
  isUpstreamAbortedError,
  isUpstreamError,
  isUpstreamHttpError,
  isUpstreamProtocolError,
  isUpstreamTimeoutError,
  isUpstreamUnavailableError,
  NOTHING_DONE_STATUSES,
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
  UpstreamStreamResponse,
} from "./upstream-request.js";
export { calleeBudgetMs, REQUEST_TIMEOUT_HEADER } from "./upstream-request.js";
