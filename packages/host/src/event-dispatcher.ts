import {
  DEFAULT_MAX_DELIVER,
  type EventEnvelope,
  EventEnvelopeSchema,
  type EventHandler,
  Inbox,
} from "@blossom/bus";
import { crashPoint, runWithContext } from "@blossom/runtime";
import { traceEventProcessing } from "@blossom/telemetry";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { EventBinding, ServiceContext } from "./service-definition.js";

const envelopeChecker = TypeCompiler.Compile(EventEnvelopeSchema);

/** Events of one consumer handled in one transaction at most on the embedded store (see Inbox). */
export const EMBEDDED_INBOX_BATCH = 8;

/**
 * The bus handler of one service: validates the envelope and the data against the consumed
 * contract, then runs the binding inside the inbox transaction (so the effect happens once per
 * event id), with the event's correlation and trace ids as the current context so that events
 * the handler publishes continue the same correlation.
 */
export function createEventDispatcher<DB>(
  bindings: EventBinding<DB>[],
  context: ServiceContext<DB>,
  /** Called with the inbox transaction of an event handled (not a duplicate), once it committed. */
  afterCommit: (trx: object) => void,
  maxAttempts: number = DEFAULT_MAX_DELIVER,
  /** `messaging.system` of the bus (see `messagingSystemOf`), for the `process` spans. */
  messagingSystem?: string,
): EventHandler {
  const byType = new Map(bindings.map((binding) => [binding.contract.type, binding]));
  // On the embedded store one connection runs every transaction in turn, so events waiting for it
  // go together in the next (group commit); on PostgreSQL each event keeps a transaction of its
  // own, where concurrent transactions run side by side and locks taken by a batch's effects in
  // whatever order its events came could deadlock with another replica's batch.
  const inbox = new Inbox(context.name, {
    maxBatch: context.store.kind === "pglite" ? EMBEDDED_INBOX_BATCH : 1,
    // A batch's effects write their events in one insert, before the batch commits.
    batchHooks: {
      started: (trx) => context.outbox.deferWrites(trx),
      finishing: (trx) => context.outbox.flushDeferred(trx),
    },
  });
  const dispatch: EventHandler = async (envelope: EventEnvelope, info) => {
    if (!envelopeChecker.Check(envelope)) throw new Error(`${context.name}: received a malformed envelope`);
    const binding = byType.get(envelope.type);
    if (!binding) throw new Error(`${context.name} has no handler for ${envelope.type}`);
    // Here, as handling starts, on both buses: how late this type reaches this consumer. Not for a
    // replay: its envelope's time is when it first occurred, minutes or days ago.
    if (info.attempt === 1 && !info.replayed) context.metrics.eventDelivered(envelope.type, envelope.time);
    let data: unknown;
    try {
      data = binding.contract.parse(envelope.data);
    } catch (error) {
      // Counted by its (known) type; an unknown type above is not counted: its name is unbounded.
      context.metrics.eventConsumed(envelope.type, "failed", info.attempt);
      throw error;
    }
    const log = context.logger.child({
      event_id: envelope.id,
      event_type: envelope.type,
      correlation_id: envelope.correlationId,
      attempt: info.attempt,
    });
    const started = performance.now();
    const committed: (() => void)[] = [];
    let handledIn: object | undefined;
    const outcome = await runWithContext(
      {
        requestId: envelope.id,
        correlationId: envelope.correlationId ?? envelope.id,
        ...(envelope.traceparent ? { traceparent: envelope.traceparent } : {}),
        ...(envelope.tracestate ? { tracestate: envelope.tracestate } : {}),
      },
      () =>
        inbox.handle(context.db, envelope, (trx) => {
          handledIn = trx;
          return binding.handle({
            data,
            envelope,
            trx,
            context,
            attempt: info.attempt,
            maxAttempts,
            afterCommit: (effect) => committed.push(effect),
          });
        }),
    ).catch((error: unknown) => {
      context.metrics.eventConsumed(envelope.type, "failed", info.attempt);
      log.warn({ err: error, duration_ms: Math.round(performance.now() - started) }, "event handling failed");
      throw error;
    });
    context.metrics.eventConsumed(envelope.type, outcome, info.attempt);
    for (const effect of committed) effect();
    // Between the committed effect and the ack: a crash here must cause a redelivery that the
    // inbox recognises, never a second effect.
    crashPoint(context.name, "inbox.after-commit");
    if (outcome === "handled" && handledIn) afterCommit(handledIn);
    log.info({ outcome, duration_ms: Math.round(performance.now() - started) }, "event");
  };
  // Here rather than in each bus adapter: on every bus, a delivery runs in a `<type> process`
  // span that continues the publisher's trace, and its log lines carry that trace's ids.
  return (envelope, info) =>
    traceEventProcessing(envelope, context.name, messagingSystem, info.attempt, () =>
      dispatch(envelope, info),
    );
}
