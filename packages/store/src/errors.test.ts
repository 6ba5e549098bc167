import { describe, expect, it } from "vitest";
import { isSerializationFailure, isUniqueViolation, sqlState, violatedConstraint } from "./errors.js";

// The guards on real driver errors are covered, per adapter, by store.contract.test.ts.
describe("sqlState", () => {
  const unique = Object.assign(new Error("duplicate key"), {
    code: "23505",
    severity: "ERROR",
    constraint: "users_email_key",
  });

  it("reads the SQLSTATE of a database error, or of the one it wraps", () => {
    expect(sqlState(unique)).toBe("23505");
    const wrapped = new Error("create user failed", { cause: new Error("insert failed", { cause: unique }) });
    expect(isUniqueViolation(wrapped)).toBe(true);
    expect(violatedConstraint(wrapped)).toBe("users_email_key");
  });

  it("ignores Node system errors whose code merely looks like one", () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE", errno: -32 });
    expect(sqlState(epipe)).toBeUndefined();
  });

  it("copes with non-errors and cause cycles", () => {
    for (const value of [undefined, null, "23505", 23505, {}]) expect(sqlState(value)).toBeUndefined();
    const cyclic: { cause?: unknown } = {};
    cyclic.cause = cyclic;
    expect(sqlState(cyclic)).toBeUndefined();
    expect(isSerializationFailure(cyclic)).toBe(false);
  });
});
