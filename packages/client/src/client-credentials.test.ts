import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { StaticDiscovery } from "./discovery/static-discovery.js";
import { ServiceClient } from "./service-client.js";

const servers: FastifyInstance[] = [];
const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** Tokens t1, t2, … : `invalidate` moves to the next one, as a token provider refetches. */
function tokenSequence() {
  let current = 1;
  const invalidated: string[] = [];
  return {
    invalidated,
    token: async () => `t${current}`,
    invalidate(token: string) {
      invalidated.push(token);
      if (token === `t${current}`) current++;
    },
  };
}

async function upstream(accepted: (authorization: string | undefined) => boolean) {
  const seen: Array<string | undefined> = [];
  const app = Fastify();
  app.post("/things", async (request, reply) => {
    seen.push(request.headers.authorization);
    return accepted(request.headers.authorization) ? { ok: true } : reply.code(401).send({ title: "no" });
  });
  servers.push(app);
  return { url: await app.listen({ port: 0, host: "127.0.0.1" }), seen };
}

function client(url: string, credentials: ReturnType<typeof tokenSequence>, propagated = {}) {
  const created = new ServiceClient({
    service: "inventory",
    discovery: new StaticDiscovery({ inventory: [url] }),
    headers: () => propagated,
    credentials,
  });
  clients.push(created);
  return created;
}

describe("ServiceClient credentials", () => {
  it("sends the caller's token in place of a propagated one", async () => {
    const target = await upstream(() => true);
    const credentials = tokenSequence();
    await client(target.url, credentials, { authorization: "Bearer end-user" }).postJson("/things", {});
    expect(target.seen).toEqual(["Bearer t1"]);
  });

  it("drops a token the upstream refuses (401) and makes the call once more with a new one", async () => {
    const target = await upstream((authorization) => authorization === "Bearer t2");
    const credentials = tokenSequence();
    expect(await client(target.url, credentials).postJson("/things", {})).toEqual({ ok: true });
    expect(target.seen).toEqual(["Bearer t1", "Bearer t2"]);
    expect(credentials.invalidated).toEqual(["t1"]);
  });

  it("gives up after one renewal: a second 401 is the caller's answer", async () => {
    const target = await upstream(() => false);
    const credentials = tokenSequence();
    await expect(client(target.url, credentials).postJson("/things", {})).rejects.toMatchObject({
      status: 401,
    });
    expect(target.seen).toEqual(["Bearer t1", "Bearer t2"]);
  });
});
