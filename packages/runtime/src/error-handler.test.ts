import { describe, expect, it } from "vitest";
import { toProblem } from "./error-handler.js";

/** What `@blossom/client` throws, as the runtime sees it: a code and a few fields, read by name. */
const upstreamError = (fields: Record<string, unknown>) =>
  Object.assign(new Error("upstream failed"), { upstream: "orders", ...fields });

describe("an upstream failure as a problem", () => {
  it("is 503 with Retry-After only when nothing was done", () => {
    for (const reason of ["connect-failed", "circuit-open", "all-circuits-open", "no-instances"]) {
      const problem = toProblem(
        upstreamError({ code: "UPSTREAM_UNAVAILABLE", reason, method: "POST", outcomeUnknown: false }),
      );
      expect(problem.status).toBe(503);
      expect(problem.type).toBe("https://blossom.dev/problems/service-unavailable");
      expect(problem.headers["retry-after"]).toBe("1");
    }
  });

  it("is 504 outcome-unknown, with Retry-After, for a write that may have been carried out", () => {
    const cases = [
      { code: "UPSTREAM_TIMEOUT", says: "did not answer in time" },
      { code: "UPSTREAM_UNAVAILABLE", reason: "connection-lost", says: "dropped the connection" },
      { code: "UPSTREAM_HTTP_ERROR", status: 500, says: "failed" },
    ];
    for (const { says, ...fields } of cases) {
      const problem = toProblem(
        upstreamError({ ...fields, method: "POST", idempotent: true, outcomeUnknown: true }),
      );
      expect(problem.status).toBe(504);
      expect(problem.type).toBe("https://blossom.dev/problems/outcome-unknown");
      expect(problem.headers["retry-after"]).toBe("1");
      expect(problem.message).toContain(`The orders service ${says}`);
      expect(problem.message).toContain("Retrying with the same Idempotency-Key is safe");
      expect(problem.toJSON()).toMatchObject({ upstream: "orders", status: 504 });
    }
  });

  it("says how to retry: the same key, a plain repeat, or a check first", () => {
    const detail = (method: string, idempotent: boolean) =>
      toProblem(upstreamError({ code: "UPSTREAM_TIMEOUT", method, idempotent, outcomeUnknown: true }))
        .message;
    expect(detail("PATCH", true)).toContain("same Idempotency-Key");
    expect(detail("PUT", true)).toContain("Repeating the request is safe.");
    expect(detail("POST", false)).toContain("Check whether it took effect before repeating it");
  });

  it("stays 504 gateway-timeout for a read that timed out, and 502 for a failing answer to it", () => {
    const timeout = toProblem(
      upstreamError({ code: "UPSTREAM_TIMEOUT", method: "GET", outcomeUnknown: false }),
    );
    expect(timeout.status).toBe(504);
    expect(timeout.type).toBe("https://blossom.dev/problems/gateway-timeout");
    const failed = toProblem(upstreamError({ code: "UPSTREAM_HTTP_ERROR", status: 500, method: "GET" }));
    expect(failed.status).toBe(502);
  });
});

describe("a lost database connection as a problem", () => {
  it("is 503 with Retry-After when it was lost before the commit (the transaction rolled back)", () => {
    for (const error of [
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      new Error("Connection terminated unexpectedly"),
      new Error("Client has encountered a connection error and is not queryable"),
    ]) {
      const problem = toProblem(error);
      expect(problem.status).toBe(503);
      expect(problem.headers["retry-after"]).toBe("1");
    }
  });

  it("is 503 with Retry-After for a prepared plan a schema change made stale (its transaction rolled back)", () => {
    // What PostgreSQL answers (see @blossom/store's prepared-statements.test.ts).
    const problem = toProblem(
      Object.assign(new Error("cached plan must not change result type"), {
        code: "0A000",
        severity: "ERROR",
      }),
    );
    expect(problem.status).toBe(503);
    expect(problem.headers["retry-after"]).toBe("1");
    // Any other 0A000 (a feature the server does not support) stays a 500: retrying would not help.
    expect(toProblem(Object.assign(new Error("unsupported"), { code: "0A000" })).status).toBe(500);
  });

  it("is 504 outcome-unknown when it was lost during the commit (the store's OutcomeUnknownError)", () => {
    // What @blossom/store throws, as the runtime sees it: its stable code, the driver's error as cause.
    const error = Object.assign(new Error("the database connection was lost during COMMIT"), {
      code: "DATABASE_OUTCOME_UNKNOWN",
      outcomeUnknown: true,
      cause: Object.assign(new Error("terminating connection"), { code: "57P01" }),
    });
    const problem = toProblem(error);
    expect(problem.status).toBe(504);
    expect(problem.type).toBe("https://blossom.dev/problems/outcome-unknown");
    expect(problem.headers["retry-after"]).toBe("1");
    expect(problem.message).toContain("same Idempotency-Key");
  });
});
