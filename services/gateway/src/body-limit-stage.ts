import { type App, HttpProblem } from "@blossom/runtime";

/**
 * The stage after rate limiting and before authentication: a request that says (`Content-Length`)
 * its body is over the limit is answered 413 at once, token or not, as it would be straight at a
 * service (which reads the body before checking who sent it). Without it, an anonymous call to a
 * protected route got 401 and the same call with a token 413. A body sent without a length
 * (chunked) is measured as it arrives, so it is refused 413 after authentication.
 * The runtime's server then discards the rest of the body instead of resetting the connection.
 */
export function registerBodyLimitStage(app: App): void {
  const limit = app.initialConfig.bodyLimit ?? 1024 * 1024;
  // A callback hook, not an async one: no promise per request for a check that is synchronous.
  app.addHook("onRequest", (request, _reply, done) => {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit)
      done(
        HttpProblem.of(
          "payloadTooLarge",
          `The request body is ${declared} bytes; at most ${limit} are accepted.`,
        ),
      );
    else done();
  });
}
