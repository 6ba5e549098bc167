import { DEVELOPMENT_SERVICE_SECRET } from "@blossom/auth";
import { ConfigError } from "@blossom/runtime";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { readConfig, serviceSecretOf } from "../apps/blossom/src/config.js";

/** The problems `readConfig` reports for `environment` (none when it accepts it). */
function problemsOf(environment: Record<string, string>): string[] {
  try {
    readConfig(environment);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
}

describe("BLOSSOM_SERVICE_SECRET", () => {
  it("defaults to the development secret outside production, which every service's clients read", () => {
    for (const NODE_ENV of ["development", "test"]) {
      expect(serviceSecretOf(readConfig({ NODE_ENV }))).toBe(DEVELOPMENT_SERVICE_SECRET);
    }
    const chosen = "a secret chosen for this platform, long enough";
    expect(serviceSecretOf(readConfig({ BLOSSOM_SERVICE_SECRET: chosen }))).toBe(chosen);
  });

  it("refuses production with the development secret, unset or given, and with a short one", async () => {
    const signingKey = JSON.stringify(
      await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).privateKey),
    );
    // The other secrets production demands, so that only the service secret is in question.
    const production = {
      NODE_ENV: "production",
      USERS_SIGNING_KEY: signingKey,
      PAYMENTS_CARD_FINGERPRINT_KEY: "p".repeat(48),
    };
    const named = (problems: string[]) =>
      problems.filter((problem) => problem.startsWith("BLOSSOM_SERVICE_SECRET"));

    expect(named(problemsOf(production))).toHaveLength(1);
    expect(
      named(problemsOf({ ...production, BLOSSOM_SERVICE_SECRET: DEVELOPMENT_SERVICE_SECRET })),
    ).toHaveLength(1);
    const short = named(problemsOf({ ...production, BLOSSOM_SERVICE_SECRET: "0123456789abcdef" }));
    expect(short).toHaveLength(1);
    expect(short[0]).not.toContain("0123456789abcdef");
    // Its own secret of 32 characters or more: production starts.
    expect(problemsOf({ ...production, BLOSSOM_SERVICE_SECRET: "k".repeat(48) })).toEqual([]);
  });
});
