/** A readiness check: resolves when the dependency is usable, rejects (or times out) when not. */
export type HealthCheck = () => Promise<void>;

export type DependencyState = "up" | "down";

export interface ReadinessReport {
  status: "ready" | "not-ready" | "draining";
  checks: Record<string, { state: DependencyState; error?: string; latencyMs: number }>;
}

/**
 * The named dependencies a service needs before it takes traffic (its database, its bus, …).
 * A service is ready when every check passes within the timeout and it is not shutting down.
 */
export class HealthRegistry {
  #checks = new Map<string, HealthCheck>();
  #draining = false;

  constructor(readonly timeoutMs = 2000) {}

  add(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** From now on readiness fails, so load balancers stop sending new requests. */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await this.#run(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const allUp = entries.every(([, result]) => result.state === "up");
    const status = this.#draining ? "draining" : allUp ? "ready" : "not-ready";
    return { status, checks };
  }

  async #run(check: HealthCheck): Promise<ReadinessReport["checks"][string]> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
          timer.unref();
        }),
      ]);
      return { state: "up", latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { state: "down", error: message, latencyMs: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
    }
  }
}
