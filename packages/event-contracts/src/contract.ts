import type { Static, TObject } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { registerFormats } from "./formats.js";

/** Raised when event data does not match its contract; never worth retrying. */
export class EventContractError extends Error {
  readonly code = "EVENT_CONTRACT_VIOLATION";
  readonly retryable = false;
  constructor(
    readonly eventType: string,
    readonly problems: string[],
  ) {
    super(`${eventType} does not match its contract: ${problems.join("; ")}`);
    this.name = "EventContractError";
  }
}

/**
 * An integration event's public contract: its type (`<domain>.<name>.v<version>`) and the
 * TypeBox schema of its data. The publishing service owns it and exports it from
 * `src/events/`; consumers import only that file. Publishers validate before writing to the
 * outbox, consumers validate on receive, so a broken producer cannot corrupt a consumer.
 */
export interface EventContract<S extends TObject = TObject> {
  readonly type: string;
  readonly version: number;
  readonly schema: S;
  readonly description: string;
  /** Returns the data typed, or throws `EventContractError` listing every problem. */
  parse(data: unknown): Static<S>;
}

export type EventData<C> = C extends EventContract<infer S> ? Static<S> : never;

/** The version an event type names (`orders.order-placed.v2` → 2); 1 when it names none. */
export function eventVersion(type: string): number {
  const match = /\.v(\d+)$/.exec(type);
  return match ? Number(match[1]) : 1;
}

export function defineEvent<S extends TObject>(
  type: string,
  schema: S,
  description: string,
): EventContract<S> {
  registerFormats();
  const checker = TypeCompiler.Compile(schema);
  return {
    type,
    version: eventVersion(type),
    schema,
    description,
    parse(data: unknown): Static<S> {
      if (checker.Check(data)) return data;
      const problems = [...checker.Errors(data)]
        .slice(0, 5)
        .map((error) => `${error.path || "/"} ${error.message}`);
      throw new EventContractError(type, problems);
    },
  };
}
