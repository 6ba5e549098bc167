import type { BlossomProcess } from "./blossom-process.js";

/** One instance of the ready table `blossom cluster` prints. */
export interface ClusterRow {
  instance: string;
  service: string;
  pid: number;
  url: string;
}

const READY_LINE = "Blossom cluster is ready";

/** The instances of `blossom cluster`'s ready table in its output (empty before it is ready). */
export function readClusterTable(output: string): ClusterRow[] {
  const start = output.indexOf(READY_LINE);
  if (start < 0) return [];
  return [...output.slice(start).matchAll(/^ {2}((\w+)#\d+)\s+(\d+)\s+(http:\/\/\S+)/gm)].map((match) => ({
    instance: match[1] ?? "",
    service: match[2] ?? "",
    pid: Number(match[3]),
    url: match[4] ?? "",
  }));
}

/**
 * Waits until `blossom cluster` printed its ready table, then resolves with its rows. Fails, with
 * the end of its output, when the cluster exits first or is not ready within `timeoutMs` (the
 * cluster is left running: the caller's teardown stops it and its instances).
 */
export async function waitForClusterReady(cluster: BlossomProcess, timeoutMs: number): Promise<ClusterRow[]> {
  const deadline = Date.now() + timeoutMs;
  while (!cluster.output().includes(READY_LINE)) {
    if (cluster.child.exitCode !== null || cluster.child.signalCode !== null)
      throw new Error(`blossom cluster exited before it was ready:\n${cluster.output().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(
        `blossom cluster was not ready within ${timeoutMs / 1000} s:\n${cluster.output().slice(-4000)}`,
      );
    await new Promise((done) => setTimeout(done, 100));
  }
  // The table is written in one piece, but give the pipe a moment to deliver all of it.
  await new Promise((done) => setTimeout(done, 200));
  return readClusterTable(cluster.output());
}
