import { RUNNABLE_NAMES } from "./topology.js";

export const HELP = `blossom — run the Blossom commerce platform

Usage:
  blossom [start] [service…]          run the gateway and services in this process
                                      (default: all of them: ${RUNNABLE_NAMES.join(", ")})
  blossom cluster [--replicas orders=3,inventory=2]
                                      every service and the gateway as processes of their
                                      own, 2 replicas each by default, on PostgreSQL
                                      (BLOSSOM_POSTGRES_URL), NATS_URL and REDIS_URL
  blossom migrate up <service|all>    apply pending migrations
  blossom migrate down <service> [--steps n]
                                      revert the last n migrations (default 1)
  blossom migrate status <service|all>
  blossom --help | --version

Each service uses PostgreSQL when <SERVICE>_DATABASE_URL (or DATABASE_URL for a single
service) is set, and otherwise a schema and role of its own in one embedded PGlite cluster
(BLOSSOM_DATA_DIR/pglite), which one process at a time can open: give services started as
separate processes each their own BLOSSOM_DATA_DIR, or PostgreSQL. The bus is
NATS JetStream when NATS_URL is set, and in-process otherwise. See docs/configuration.md for every variable.
`;
