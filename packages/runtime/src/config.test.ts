import { Type } from "@sinclair/typebox";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, PortSchema } from "./config.js";

const schema = Type.Object({
  PORT: PortSchema(8080, "where the gateway listens"),
  LOG_LEVEL: Type.Union([Type.Literal("debug"), Type.Literal("info")], { default: "info" }),
  PRETTY: Type.Boolean({ default: false }),
  NATS_URL: Type.Optional(Type.String({ pattern: "^nats://" })),
});

describe("loadConfig", () => {
  it("applies defaults and converts strings to the schema's types", () => {
    expect(loadConfig(schema, { PORT: "9000", PRETTY: "true", OTHER: "ignored" })).toEqual({
      PORT: 9000,
      LOG_LEVEL: "info",
      PRETTY: true,
    });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig(schema, { PORT: "" }).PORT).toBe(8080);
  });

  it("reports every bad variable by name, with its value and description", () => {
    let caught: unknown;
    try {
      loadConfig(schema, { PORT: "eighty", LOG_LEVEL: "loud", NATS_URL: "http://x" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join("\n");
    expect(problems).toMatch(/PORT = "eighty".*where the gateway listens/);
    expect(problems).toMatch(/LOG_LEVEL = "loud"/);
    expect(problems).toMatch(/NATS_URL = "http:\/\/x"/);
  });
});
