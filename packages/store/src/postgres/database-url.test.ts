import { describe, expect, it } from "vitest";
import { assertDatabaseName, maskPassword, withDatabaseName } from "./database-url.js";

describe("maskPassword", () => {
  it("masks the password in the user info and in the query", () => {
    expect(maskPassword("postgres://app:s3cr%40t@db:5432/orders?sslmode=require")).toBe(
      "postgres://app:***@db:5432/orders?sslmode=require",
    );
    expect(maskPassword("postgres://app@db/orders?password=s3cret")).toBe(
      "postgres://app@db/orders?password=***",
    );
  });
  it("leaves a URL without a password as it is", () => {
    expect(maskPassword("postgres://postgres@127.0.0.1:5432/postgres")).toBe(
      "postgres://postgres@127.0.0.1:5432/postgres",
    );
  });
  it("masks a libpq key=value string", () => {
    expect(maskPassword("host=db user=app password=s3cret dbname=orders")).toBe(
      "host=db user=app password=*** dbname=orders",
    );
    expect(maskPassword("host=db password='a b' dbname=x")).toBe("host=db password=*** dbname=x");
  });
});

describe("withDatabaseName", () => {
  it("replaces the database and keeps the rest", () => {
    expect(withDatabaseName("postgres://app:pw@db:5432/postgres?sslmode=require", "orders")).toBe(
      "postgres://app:pw@db:5432/orders?sslmode=require",
    );
    expect(withDatabaseName("postgres://db", "orders")).toBe("postgres://db/orders");
  });
});

describe("assertDatabaseName", () => {
  it("accepts plain lower-case identifiers up to 63 characters", () => {
    for (const name of ["orders", "_x", "blossom_test_0a1b", "a".repeat(63)]) {
      expect(() => assertDatabaseName(name)).not.toThrow();
    }
  });
  it("refuses anything that would need quoting or would be truncated", () => {
    for (const name of ["", "Orders", "1orders", 'or"ders', "or-ders", "orders; drop", "a".repeat(64)]) {
      expect(() => assertDatabaseName(name)).toThrow(TypeError);
    }
  });
});
