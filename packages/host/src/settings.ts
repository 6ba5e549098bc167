import { loadConfig } from "@blossom/runtime";
import { type Static, type TObject, type TProperties, Type } from "@sinclair/typebox";

/**
 * A service's settings as its code sees them (`ServiceContext.settings`): the values of the
 * variables its `ServiceDefinition.settings` declares, converted to their types, defaulted and
 * validated.
 */
export type Settings<S extends TProperties> = Static<TObject<S>>;

/** The settings schema of code that reads no settings: the default of every `S` here. */
export type NoSettings = Record<never, never>;

/**
 * Resolves a service's settings, once: `raw` holds the variables as the environment gives them
 * (strings) or as a test passes them (numbers, booleans); an empty or absent one takes its
 * default. Throws one `ConfigError` listing every problem, each naming its variable (never
 * quoting a secret's value) — the same loader, and so the same messages, as the platform's
 * configuration. The launcher calls it for every service before anything starts; a host built
 * without settings calls it for the defaults.
 */
export function resolveSettings<S extends TProperties>(
  schema: S,
  raw: Readonly<Record<string, unknown>>,
): Settings<S> {
  const values = loadConfig(Type.Object<TProperties>(schema), raw);
  // The one place untyped values become typed: the loader has just checked every one of them
  // against `schema` (TypeBox cannot relate a generic `S` to its `Static` without it).
  return values as Settings<S>;
}
