// The contract side lives in @blossom/event-contracts (a light package the services' contract
// packages depend on); the bus re-exports it for the code that publishes and consumes.
export {
  defineEvent,
  type EventContract,
  EventContractError,
  type EventData,
  eventVersion,
} from "@blossom/event-contracts";
export {
  createEnvelope,
  type EventEnvelope,
  EventEnvelopeSchema,
  eventDomain,
  type NewEvent,
} from "./envelope.js";
export {
  backoffDelay,
  DEFAULT_BACKOFF_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_DELIVER,
  type DeadLetter,
  type DeadLetterBound,
  type DeliveryInfo,
  deadLetterError,
  type EventBus,
  type EventHandler,
  isNonRetryable,
  MAX_DEAD_LETTER_ERROR_CHARS,
  type SubscribeOptions,
  type Subscription,
} from "./event-bus.js";
export { Inbox, type InboxOutcome } from "./inbox/inbox.js";
export {
  DEFAULT_MAX_DEAD_LETTER_CHARS,
  DEFAULT_MAX_DEAD_LETTERS,
  MemoryBus,
  type MemoryBusOptions,
} from "./memory/memory-bus.js";
export {
  type AnyServiceDb,
  asMessagingDb,
  type MessagingTables,
  messagingMigrations,
} from "./messaging-tables.js";
export { Outbox, type OutboxContext } from "./outbox/outbox.js";
export { OutboxRelay, type OutboxRelayOptions, type RelayStats } from "./outbox/outbox-relay.js";
export { resolveBus } from "./resolve-bus.js";
