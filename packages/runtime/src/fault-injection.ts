import type { FastifyInstance } from "fastify";
import { HttpProblem } from "./problem.js";

/**
 * Faults a server adds to its own answers, for chaos tests (`<SERVICE>_FAULT_LATENCY_MS`,
 * `<SERVICE>_FAULT_ERROR_RATE`): never in production, where the configuration refuses them.
 */
export interface FaultInjection {
  /** Added to every request before it is handled (0 = none). */
  latencyMs: number;
  /** Share of requests (0..1) answered 503 `injected-fault` instead of being handled. */
  errorRate: number;
  /** The dice for the error share (tests pin it); default Math.random. */
  random?: () => number;
}

/** Probes and scrapes are left alone: a fault there would take the instance out of rotation instead. */
const EXEMPT = /^\/(health\/|metrics(\?|$))/;

/** Whether the settings inject anything at all (so a server without faults gets no hook). */
export function injectsFaults(faults: FaultInjection | undefined): faults is FaultInjection {
  return faults !== undefined && (faults.latencyMs > 0 || faults.errorRate > 0);
}

/**
 * Delays each request by the latency, then answers the error share with 503 problem+json, as an
 * overloaded or failing instance would.
 */
export function installFaultInjection(app: FastifyInstance, faults: FaultInjection): void {
  const random = faults.random ?? Math.random;
  app.addHook("onRequest", async (request) => {
    if (EXEMPT.test(request.url)) return;
    if (faults.latencyMs > 0) await new Promise((done) => setTimeout(done, faults.latencyMs));
    if (faults.errorRate > 0 && random() < faults.errorRate) {
      throw new HttpProblem({
        status: 503,
        slug: "injected-fault",
        title: "Injected fault",
        detail: "This answer is a fault injected for a chaos test",
      });
    }
  });
}
