import { Type } from "@sinclair/typebox";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { noContentResponse, problemResponse, withResponseHeaders } from "./openapi.js";
import { HttpProblem } from "./problem.js";
import { type App, createServer } from "./server.js";

type Json = Record<string, unknown>;
type Operation = { responses: Record<string, Json> };

let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server with one route of each kind, and its document. */
async function documented(): Promise<{ app: App; paths: Record<string, Record<string, Operation>> }> {
  const server = createServer({
    service: "test",
    logger: createLogger({ service: "test", level: "silent" }),
  });
  app = server.app;
  const Thing = Type.Object({ id: Type.String() });
  app.get("/api/things", { config: { auth: "public" }, schema: { response: { 200: Thing } } }, async () => ({
    id: "t1",
  }));
  app.post(
    "/api/things/:id",
    {
      config: { auth: "admin" },
      schema: {
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({ name: Type.String() }),
        response: {
          201: withResponseHeaders(Thing, {
            "Idempotent-Replayed": { type: "string", description: "a replay" },
          }),
          409: problemResponse("The thing exists (`thing-taken`)"),
        },
      },
    },
    async () => {
      throw new HttpProblem({
        status: 409,
        slug: "thing-taken",
        title: "Taken",
        detail: "thing t1 exists",
        extensions: { errors: [{ pointer: "/name" }] },
      });
    },
  );
  app.post(
    "/api/things/:id/forget",
    { config: { auth: "user" }, schema: { response: { 204: noContentResponse("Forgotten") } } },
    async (_request, reply) => reply.code(204).send(),
  );
  await app.ready();
  const document = (app as unknown as { swagger(): Json }).swagger();
  return { app, paths: document.paths as Record<string, Record<string, Operation>> };
}

describe("the OpenAPI document's answers", () => {
  it("lists each operation's problem statuses, derived from what its route declares, plus its own", async () => {
    const { paths } = await documented();
    const statuses = (path: string, method: string) => Object.keys(paths[path]?.[method]?.responses ?? {});
    // No input, public: the token check, the limits, overload and timeouts only.
    expect(statuses("/api/things", "get")).toEqual(["200", "401", "429", "503", "504", "default"]);
    // Input, path parameters, a body, admins only, and a 409 of its own.
    expect(statuses("/api/things/{id}", "post")).toEqual([
      "201",
      "400",
      "401",
      "403",
      "404",
      "409",
      "413",
      "414",
      "415",
      "429",
      "503",
      "504",
      "default",
    ]);
    expect(statuses("/api/things/{id}/forget", "post")).toEqual([
      "204",
      "400",
      "401",
      "404",
      "414",
      "429",
      "503",
      "504",
      "default",
    ]);
    const post = paths["/api/things/{id}"]?.post as Operation;
    for (const status of ["400", "409", "default"])
      expect(post.responses[status]?.content).toEqual({
        "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
      });
    expect(post.responses["409"]?.description).toBe("The thing exists (`thing-taken`)");
    // What a 503 and a 504 say was done: nothing, or (for a write) not known, and how to find out.
    expect(post.responses["503"]?.description).toMatch(/^Nothing was done/);
    expect(post.responses["504"]?.description).toContain("`outcome-unknown`");
    expect(post.responses["504"]?.description).toContain("same `Idempotency-Key`");
    expect(paths["/api/things/{id}/forget"]?.post?.responses["204"]?.content).toBeUndefined();
  });

  it("documents the id headers on every answer, and each status's own", async () => {
    const { paths } = await documented();
    const post = paths["/api/things/{id}"]?.post as Operation;
    for (const response of Object.values(post.responses)) {
      const headers = response.headers as Record<string, Json>;
      expect(headers["X-Request-Id"]?.required).toBe(true);
      expect(headers["X-Correlation-Id"]?.required).toBe(true);
    }
    const headersOf = (status: string) => Object.keys(post.responses[status]?.headers as Json);
    expect(headersOf("201")).toContain("Idempotent-Replayed");
    expect(headersOf("401")).toContain("WWW-Authenticate");
    expect(headersOf("429")).toContain("Retry-After");
    expect(headersOf("503")).toContain("Retry-After");
    expect(headersOf("504")).toContain("Retry-After");
  });

  it("serializes a declared problem as the problem it is, extensions included", async () => {
    const { app } = await documented();
    const answer = await app.inject({ method: "POST", url: "/api/things/t1", payload: { name: "x" } });
    expect(answer.statusCode).toBe(409);
    expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(answer.json()).toMatchObject({
      type: "https://blossom.dev/problems/thing-taken",
      status: 409,
      detail: "thing t1 exists",
      errors: [{ pointer: "/name" }],
    });
  });

  it("sends both id headers on the router's own answers (414, 400) too", async () => {
    const { app } = await documented();
    const long = await app.inject({
      method: "POST",
      url: `/api/things/${"x".repeat(101)}`,
      headers: { "x-correlation-id": "corr-9" },
    });
    expect(long.statusCode).toBe(414);
    expect(long.headers["x-request-id"]).toEqual(expect.any(String));
    expect(long.headers["x-correlation-id"]).toBe("corr-9");
  });
});
