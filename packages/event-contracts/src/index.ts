/**
 * What an integration event's public contract is: `defineEvent` and its types. The services'
 * contract packages (`services/<name>/contracts`) depend on this and nothing else of the bus,
 * so a consumer importing a contract loads TypeBox, not NATS, Kysely or OpenTelemetry.
 */
export {
  defineEvent,
  type EventContract,
  EventContractError,
  type EventData,
  eventVersion,
} from "./contract.js";
