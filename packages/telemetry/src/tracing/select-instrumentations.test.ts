import { describe, expect, it } from "vitest";
import { selectInstrumentations } from "./start-tracing.js";

describe("selectInstrumentations (OTEL_NODE_ENABLED/DISABLED_INSTRUMENTATIONS)", () => {
  const all = ["undici", "pg"];

  it("turns every instrumentation on by default", () => {
    expect(selectInstrumentations(all, {})).toEqual(["undici", "pg"]);
  });

  it("leaves out the disabled ones, ignoring blanks and spaces", () => {
    expect(selectInstrumentations(all, { OTEL_NODE_DISABLED_INSTRUMENTATIONS: " pg , " })).toEqual([
      "undici",
    ]);
  });

  it("keeps only the enabled ones, less any also disabled", () => {
    expect(selectInstrumentations(all, { OTEL_NODE_ENABLED_INSTRUMENTATIONS: "pg" })).toEqual(["pg"]);
    expect(
      selectInstrumentations(all, {
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: "pg,undici",
        OTEL_NODE_DISABLED_INSTRUMENTATIONS: "undici",
      }),
    ).toEqual(["pg"]);
  });
});
