import { ordersService } from "@blossom/orders";
import { ConfigError } from "@blossom/runtime";
import { usersService } from "@blossom/users";
import { describe, expect, it } from "vitest";
import { type PlatformConfig, readConfig, serviceSetting, settingsOf } from "./config.js";
import { SERVICE_NAMES } from "./topology.js";

/** The ConfigError `readConfig` throws for `environment`, or a failure if it does not throw one. */
function configErrorOf(environment: Record<string, string | undefined>): ConfigError {
  try {
    readConfig(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`readConfig accepted ${JSON.stringify(environment)}`);
}

/** The variable each problem line names (problems start with the variable's name). */
function namesIn(error: ConfigError): string[] {
  return error.problems.map((problem) => problem.split(/[\s=:]/)[0] ?? "").sort();
}

describe("readConfig", () => {
  it("fills in every default from an empty environment", () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      BLOSSOM_DATA_DIR: "./.blossom/data",
      BLOSSOM_NATS_PREFIX: "blossom",
      BLOSSOM_NATS_ACK_WAIT_MS: 30_000,
      LOG_LEVEL: "info",
      LOG_FORMAT: "auto",
      BODY_LIMIT_BYTES: 1_048_576,
      SHUTDOWN_TIMEOUT_MS: 15_000,
      SHUTDOWN_DRAIN_DELAY_MS: 0,
    });
    // Optional settings stay unset: the start command picks the per-service defaults itself.
    for (const key of ["PORT", "NATS_URL", "DATABASE_URL", "BLOSSOM_SEED", "BLOSSOM_CRASH_POINTS"]) {
      expect(config, key).not.toHaveProperty(key);
    }
  });

  it("converts numbers and booleans, ignores unrelated variables, and treats empty ones as unset", () => {
    const config = readConfig({
      PORT: "9000",
      BLOSSOM_SEED: "false",
      SHUTDOWN_TIMEOUT_MS: "2000",
      HOST: "",
      LOG_LEVEL: "",
      PATH: "/usr/bin",
      HOME: "/root",
    });
    expect(config.PORT).toBe(9000);
    expect(config.BLOSSOM_SEED).toBe(false);
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(2000);
    expect(config.HOST).toBe("127.0.0.1");
    expect(config.LOG_LEVEL).toBe("info");
    expect(config).not.toHaveProperty("PATH");
    expect(config).not.toHaveProperty("HOME");
  });

  it("accepts postgres:// and postgresql:// database URLs and nats:// or tls:// bus URLs", () => {
    const config = readConfig({
      DATABASE_URL: "postgres://u:p@db:5432/blossom",
      USERS_DATABASE_URL: "postgresql://u@db/users",
      NATS_URL: "tls://nats.example:4222",
    });
    expect(config.DATABASE_URL).toBe("postgres://u:p@db:5432/blossom");
    expect(config.NATS_URL).toBe("tls://nats.example:4222");
    expect(readConfig({ NATS_URL: "nats://127.0.0.1:4222" }).NATS_URL).toBe("nats://127.0.0.1:4222");
  });

  it("reports every bad variable in one ConfigError, each by name with its value", () => {
    const error = configErrorOf({
      PORT: "abc",
      NATS_URL: "http://x",
      USERS_DATABASE_URL: "mysql://x",
      LOG_LEVEL: "loud",
    });
    expect(namesIn(error)).toEqual(["LOG_LEVEL", "NATS_URL", "PORT", "USERS_DATABASE_URL"]);
    expect(error.message).toMatch(/PORT = "abc"/);
    expect(error.message).toMatch(/NATS_URL = "http:\/\/x"/);
    expect(error.message).toMatch(/USERS_DATABASE_URL = "mysql:\/\/x"/);
    expect(error.message).toMatch(/LOG_LEVEL = "loud".*fatal, error, warn, info, debug, trace or silent/);
    expect(error.code).toBe("CONFIG_INVALID");
  });

  it("checks ranges and enumerations, per-service variables included", () => {
    const error = configErrorOf({
      NODE_ENV: "prod",
      PORT: "70000",
      USERS_PORT: "-1",
      GATEWAY_PORT: "http",
      ORDERS_LOG_LEVEL: "chatty",
      BLOSSOM_SEED: "maybe",
      LOG_FORMAT: "xml",
      BLOSSOM_NATS_PREFIX: "Blossom-Prod",
      SHUTDOWN_TIMEOUT_MS: "10",
      BODY_LIMIT_BYTES: "12",
    });
    expect(namesIn(error)).toEqual([
      "BLOSSOM_NATS_PREFIX",
      "BLOSSOM_SEED",
      "BODY_LIMIT_BYTES",
      "GATEWAY_PORT",
      "LOG_FORMAT",
      "NODE_ENV",
      "ORDERS_LOG_LEVEL",
      "PORT",
      "SHUTDOWN_TIMEOUT_MS",
      "USERS_PORT",
    ]);
  });

  it("refuses a port that is not a whole number instead of silently truncating it", () => {
    const outcome = (PORT: string) => {
      try {
        return readConfig({ PORT }).PORT;
      } catch (error) {
        return error instanceof ConfigError ? namesIn(error) : error;
      }
    };
    // "8080.5" is not a port; "1e3" is 1000 or an error, never port 1.
    expect.soft(outcome("8080.5"), "PORT=8080.5").toEqual(["PORT"]);
    expect.soft([1000, ["PORT"]], "PORT=1e3").toContainEqual(outcome("1e3"));
  });

  // Production also asks each service for its own secrets (signing keys…): these tests look only
  // at the platform-wide refusals, whatever else a service demands.
  it("refuses demo data and crash points in production, both in one error", () => {
    const error = configErrorOf({
      NODE_ENV: "production",
      BLOSSOM_SEED: "true",
      BLOSSOM_CRASH_POINTS: "users/outbox.before-publish",
    });
    expect(namesIn(error)).toEqual(expect.arrayContaining(["BLOSSOM_CRASH_POINTS", "BLOSSOM_SEED"]));
    expect(error.message).toMatch(/BLOSSOM_SEED = true: demo data is never seeded in production/);
    expect(error.message).toMatch(/BLOSSOM_CRASH_POINTS is set: crash points are for tests/);
    expect(namesIn(configErrorOf({ NODE_ENV: "production", BLOSSOM_SEED: "1" }))).toContain("BLOSSOM_SEED");
  });

  it("in production, refuses only the settings of the services the process runs", () => {
    const production = { NODE_ENV: "production", BLOSSOM_SEED: "false" };
    const refusedFor = (runnables: string[], environment: Record<string, string> = production) => {
      try {
        readConfig(environment, runnables);
        return [];
      } catch (error) {
        return namesIn(error as ConfigError);
      }
    };
    // The gateway needs no service's secrets; users needs its signing key and the platform secret.
    expect(refusedFor(["gateway"])).toEqual([]);
    expect(refusedFor(["users"])).toEqual(
      expect.arrayContaining(["USERS_SIGNING_KEY", "BLOSSOM_SERVICE_SECRET"]),
    );
    // Any other service still derives its credential from the platform secret: refused without it,
    // but never asked for the users signing key.
    expect(refusedFor(["orders"])).toEqual(["BLOSSOM_SERVICE_SECRET"]);
    const secret = { ...production, BLOSSOM_SERVICE_SECRET: "a-production-service-secret-of-40-characters" };
    expect(refusedFor(["orders", "gateway"], secret)).toEqual([]);
    // Cheap password hashes are for test suites: refused where users runs, and only there.
    const cheapHashes = { ...secret, USERS_PASSWORD_HASH_COST: "10" };
    expect(refusedFor(["users"], cheapHashes)).toContain("USERS_PASSWORD_HASH_COST");
    expect(refusedFor(["orders", "gateway"], cheapHashes)).toEqual([]);
    expect(readConfig({ ...cheapHashes, NODE_ENV: "test" }).settings.get("users")).toMatchObject({
      USERS_PASSWORD_HASH_COST: 10,
    });
  });

  it("reports production refusals together with malformed variables, so one run lists them all", () => {
    const error = configErrorOf({ NODE_ENV: "production", BLOSSOM_SEED: "true", PORT: "abc" });
    expect(namesIn(error)).toEqual(expect.arrayContaining(["BLOSSOM_SEED", "PORT"]));
  });

  it("allows the same settings outside production, and production without them", () => {
    for (const NODE_ENV of ["development", "test"]) {
      const config = readConfig({ NODE_ENV, BLOSSOM_SEED: "true", BLOSSOM_CRASH_POINTS: "users/x" });
      expect(config.BLOSSOM_SEED).toBe(true);
      expect(config.BLOSSOM_CRASH_POINTS).toBe("users/x");
    }
    const platformWide = (environment: Record<string, string>) => {
      try {
        readConfig(environment);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return namesIn(error as ConfigError).filter((name) => name.startsWith("BLOSSOM_"));
      }
    };
    // (BLOSSOM_SERVICE_SECRET is refused by the users service's own check: given here, not in question.)
    const serviceSecret = "a-production-service-secret-of-40-characters";
    expect(
      platformWide({
        NODE_ENV: "production",
        BLOSSOM_SEED: "false",
        BLOSSOM_CRASH_POINTS: "",
        BLOSSOM_SERVICE_SECRET: serviceSecret,
      }),
    ).toEqual([]);
  });
});

describe("serviceSetting", () => {
  it("reads each service's own port, URL, database URL and log level", () => {
    const config: PlatformConfig = readConfig({
      GATEWAY_PORT: "0",
      GATEWAY_LOG_LEVEL: "warn",
      USERS_PORT: "9001",
      ORDERS_URL: "http://a:1,http://b:2",
      INVENTORY_DATABASE_URL: "postgresql://u@h/inventory",
      NOTIFICATIONS_LOG_LEVEL: "debug",
      PAYMENTS_PORT: "9004",
      PORT: "7000",
      DATABASE_URL: "postgres://shared/db",
    });
    expect(serviceSetting(config, "gateway", "PORT")).toBe(0);
    expect(serviceSetting(config, "gateway", "LOG_LEVEL")).toBe("warn");
    expect(serviceSetting(config, "users", "PORT")).toBe(9001);
    expect(serviceSetting(config, "payments", "PORT")).toBe(9004);
    expect(serviceSetting(config, "orders", "URL")).toBe("http://a:1,http://b:2");
    expect(serviceSetting(config, "inventory", "DATABASE_URL")).toBe("postgresql://u@h/inventory");
    expect(serviceSetting(config, "notifications", "LOG_LEVEL")).toBe("debug");
    // Unset per-service settings stay unset: the shared PORT/DATABASE_URL are not mixed in here.
    expect(serviceSetting(config, "orders", "PORT")).toBeUndefined();
    expect(serviceSetting(config, "users", "DATABASE_URL")).toBeUndefined();
    expect(serviceSetting(config, "users", "URL")).toBeUndefined();
    expect(serviceSetting(config, "inventory", "LOG_LEVEL")).toBeUndefined();
  });

  it("knows the variables of every service in the topology", () => {
    const environment: Record<string, string> = {};
    SERVICE_NAMES.forEach((name, index) => {
      environment[`${name.toUpperCase()}_PORT`] = String(9100 + index);
      environment[`${name.toUpperCase()}_URL`] = `http://${name}.internal:80`;
    });
    const all = readConfig(environment);
    SERVICE_NAMES.forEach((name, index) => {
      expect(serviceSetting(all, name, "PORT"), name).toBe(9100 + index);
      expect(serviceSetting(all, name, "URL"), name).toBe(`http://${name}.internal:80`);
    });
    const error = configErrorOf(
      Object.fromEntries(SERVICE_NAMES.map((name) => [`${name.toUpperCase()}_DATABASE_URL`, "mysql://x"])),
    );
    expect(namesIn(error)).toEqual(SERVICE_NAMES.map((name) => `${name.toUpperCase()}_DATABASE_URL`).sort());
  });
});

describe("settingsOf", () => {
  it("hands each service its own settings, resolved once with the rest: typed, defaulted, nothing else", () => {
    const config = readConfig({
      ORDERS_SAGA_DEADLINE_SECONDS: "45",
      USERS_LOGIN_MAX_FAILURES: "7",
      PORT: "9000",
    });
    expect(settingsOf(config, ordersService)).toEqual({
      ORDERS_SAGA_DEADLINE_SECONDS: 45,
      ORDERS_SAGA_SWEEP_INTERVAL_MS: 1000,
      ORDERS_MAX_PENDING_CHECKOUTS: 32,
    });
    expect(settingsOf(config, usersService)).toMatchObject({
      USERS_LOGIN_MAX_FAILURES: 7,
      USERS_SIGNUP_MAX_PER_ADDRESS: 5,
      USERS_ACCESS_TOKEN_TTL_SECONDS: 900,
    });
    expect(settingsOf(config, usersService)).not.toHaveProperty("PORT");
  });

  it("reports every service's bad settings with the platform's, in one error; a variable two declare, once", () => {
    const error = configErrorOf({
      PORT: "abc",
      ORDERS_SAGA_DEADLINE_SECONDS: "0",
      NOTIFICATIONS_SMTP_URL: "http://mail",
      USERS_LOGIN_MAX_FAILURES: "0",
      REDIS_URL: "http://redis",
    });
    expect(namesIn(error)).toEqual([
      "NOTIFICATIONS_SMTP_URL",
      "ORDERS_SAGA_DEADLINE_SECONDS",
      "PORT",
      "REDIS_URL",
      "USERS_LOGIN_MAX_FAILURES",
    ]);
  });
});
