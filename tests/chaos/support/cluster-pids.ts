import { type BlossomProcess, isAlive } from "@blossom/testkit";

/**
 * Which process is which replica, from what `blossom cluster` prints: the ready table at first,
 * then each `<replica> is back` line (JSON, with the restarted process's pid).
 */
export class ClusterPids {
  readonly #current = new Map<string, number>();
  readonly #urls = new Map<string, string>();
  /** Each restarted replica's return: when (ms since epoch), which, its pid. */
  readonly returns: Array<{ at: number; replica: string; pid: number }> = [];
  /** Each exit the cluster reported (a kill of ours, or a crash): when, which, pid, how. */
  readonly exits: Array<{ at: number; replica: string; pid: number; exit: string }> = [];
  /** Every pid seen, for the final clean-up. */
  readonly all = new Set<number>();
  #read = 0;

  constructor(readonly cluster: BlossomProcess) {}

  /** Reads what the cluster printed since the last call. */
  refresh(): void {
    const output = this.cluster.output();
    const fresh = output.slice(this.#read, output.lastIndexOf("\n") + 1);
    this.#read += fresh.length;
    for (const match of fresh.matchAll(/^ {2}((\w+)#\d+)\s+(\d+)\s+(http:\/\/\S+)/gm))
      this.#set(match[1] ?? "", Number(match[3]), match[4] ?? "");
    for (const line of fresh.split("\n")) {
      if (!line.includes(" is back") && !line.includes(" exited (")) continue;
      try {
        const entry = JSON.parse(line) as { replica?: string; pid?: number; url?: string; exit?: string };
        if (!entry.replica || !entry.pid) continue;
        if (entry.exit) {
          this.exits.push({ at: Date.now(), replica: entry.replica, pid: entry.pid, exit: entry.exit });
          continue;
        }
        this.#set(entry.replica, entry.pid, entry.url ?? "");
        this.returns.push({ at: Date.now(), replica: entry.replica, pid: entry.pid });
      } catch {}
    }
  }

  #set(replica: string, pid: number, url: string): void {
    this.#current.set(replica, pid);
    this.#urls.set(replica, url);
    this.all.add(pid);
  }

  /** The live, ready replicas of a service, as [replica, pid]. */
  live(service: string): Array<[string, number]> {
    return [...this.#current].filter(([replica, pid]) => replica.startsWith(`${service}#`) && isAlive(pid));
  }

  /** The base URL of a replica's current process. */
  url(replica: string): string {
    return this.#urls.get(replica) ?? "";
  }

  replicas(service: string): number {
    return [...this.#current.keys()].filter((replica) => replica.startsWith(`${service}#`)).length;
  }
}
