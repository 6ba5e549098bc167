import type { ClusterRow } from "@blossom/testkit";
import { UNLIMITED_RATES } from "../processes.js";
import type { CheckoutEnvironment } from "./options.js";

/** A running platform, as the load sees it. */
export interface Platform {
  /** The process whose tree is the whole platform (the `blossom start` process, or the cluster supervisor). */
  pid: number;
  /** The cluster's instances (none for the embedded platform). */
  rows: ClusterRow[];
  /** Gateway base URLs (one per gateway replica). */
  gateways: string[];
  /** Blossom OS processes (the supervisor included). */
  processes: number;
  startSeconds: number;
  /** CPU seconds so far of every blossom process of the platform. */
  cpu(): number;
  /** CPU seconds so far of each service's instances together (cluster only: the embedded one is one process). */
  serviceCpu?(): Map<string, number>;
  /** CPU seconds so far of the servers it uses, per process (PostgreSQL backends, NATS, Redis), if any. */
  serverCpu?(): Promise<Map<number, number>>;
  /** Stops it and removes what it left behind; resolves with notes about what could not be cleaned. */
  stop(): Promise<string[]>;
}

/** What every platform of one run shares: where its data goes, the seeded admin, the run's environment. */
export interface PlatformSetup {
  dir: string;
  adminPassword: string;
  environment: CheckoutEnvironment;
}

/** The variables every platform of the run gets: the demo seed, the admin, no rate limits, the telemetry asked for. */
export function platformEnv(setup: PlatformSetup): Record<string, string> {
  return {
    ...UNLIMITED_RATES,
    ...setup.environment.telemetryEnv,
    BLOSSOM_SEED: "true",
    BLOSSOM_ADMIN_PASSWORD: setup.adminPassword,
  };
}
