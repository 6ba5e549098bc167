import { callHttp, type HttpAnswer } from "@blossom/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPlatform, type TestPlatform } from "./support/embedded-platform.js";

/**
 * Issue 15, "a burst takes authentication down": 32 concurrent sign-ups, each followed by a login,
 * used to time out behind scrypt (504s for sign-ups that had created their accounts), and the
 * timeouts opened the users breaker, which then refused every login for 5 s. Now hashing is
 * admitted through a bounded queue (503 + Retry-After before anything is written), the gateway
 * waits a hashing route's declared budget out, and a breaker never opens on timeouts or shed 503s.
 *
 * The queue is kept tiny here (2 waiting) so that the test hashes (testEnv's cheap cost) are shed
 * too: the burst has to go through both paths, admitted and refused.
 */
let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({ USERS_PASSWORD_HASH_QUEUE: "2" });
}, 120_000);
afterAll(async () => {
  await platform?.destroy();
});

interface Pair {
  email: string;
  password: string;
  signUp: HttpAnswer;
  login: HttpAnswer;
}

async function pair(run: string, index: number): Promise<Pair> {
  const email = `burst-${run}-${index}@example.test`;
  const password = `correct horse ${index}`;
  const signUp = await callHttp(platform.gateway, "POST", "/api/users", {
    body: {
      email,
      name: `Burst ${index}`,
      password,
    },
  });
  const login = await callHttp(platform.gateway, "POST", "/api/auth/login", { body: { email, password } });
  return { email, password, signUp, login };
}

describe.each([32, 128])("a burst of %i concurrent sign-up + login pairs through the gateway", (size) => {
  let pairs: Pair[];
  beforeAll(async () => {
    pairs = await Promise.all(Array.from({ length: size }, (_, index) => pair(String(size), index)));
  }, 60_000);

  it("answers only what happened: 201/200, or 503 with Retry-After before any work; never another 5xx", () => {
    const answers = pairs.flatMap(({ signUp, login }) => [signUp, login]);
    expect(
      pairs.map(({ signUp }) => signUp.status).filter((status) => status !== 201 && status !== 503),
    ).toEqual([]);
    // A login after a shed sign-up finds no account (401); after a 201 it is 200 or shed.
    expect(
      pairs
        .map(({ signUp, login }) => [signUp.status, login.status])
        .filter(([up, login]) => !(login === 200 || login === 503 || (up === 503 && login === 401))),
    ).toEqual([]);
    for (const answer of answers.filter(({ status }) => status === 503)) {
      expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
    expect(pairs.some(({ signUp }) => signUp.status === 201)).toBe(true);
    // With 2 hashing slots and 2 waiting, 128 at once cannot all be admitted: the 503 path ran.
    if (size === 128) expect(answers.some(({ status }) => status === 503)).toBe(true);
  });

  it("after the burst, every account answered 201 logs in at once, and no shed sign-up left one", async () => {
    // At once: no breaker left open by the burst (it used to refuse every login for 5 s).
    for (const { email, password, signUp } of pairs) {
      const login = await callHttp(platform.gateway, "POST", "/api/auth/login", {
        body: { email, password },
      });
      expect(login.status, `${email} (sign-up answered ${signUp.status})`).toBe(
        signUp.status === 201 ? 200 : 401,
      );
    }
  });
});
