import { describe, expect, it } from "vitest";
import { usesPostgres } from "./tracing-bootstrap.js";

describe("usesPostgres (whether the pg instrumentation is worth its require hook)", () => {
  it("is false on the embedded default, and for blank URLs", () => {
    expect(usesPostgres({})).toBe(false);
    expect(usesPostgres({ ORDERS_DATABASE_URL: " ", NATS_URL: "nats://127.0.0.1:4222" })).toBe(false);
  });

  it("is true as soon as one service may use PostgreSQL", () => {
    expect(usesPostgres({ DATABASE_URL: "postgres://127.0.0.1/orders" })).toBe(true);
    expect(usesPostgres({ PAYMENTS_DATABASE_URL: "postgres://127.0.0.1/payments" })).toBe(true);
    expect(usesPostgres({ BLOSSOM_POSTGRES_URL: "postgres://127.0.0.1/postgres" })).toBe(true);
  });
});
