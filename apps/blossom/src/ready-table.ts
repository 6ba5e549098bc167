export interface ReadyRow {
  service: string;
  url: string;
  database: string;
  bus: string;
}

/** The table `blossom start` prints once everything is ready: where each service is and what it runs on. */
export function formatReadyTable(rows: ReadyRow[], seconds: number): string {
  const header: ReadyRow = { service: "SERVICE", url: "URL", database: "DATABASE", bus: "BUS" };
  const all = [header, ...rows];
  const width = (key: keyof ReadyRow) => Math.max(...all.map((row) => row[key].length));
  const line = (row: ReadyRow) =>
    `  ${row.service.padEnd(width("service"))}  ${row.url.padEnd(width("url"))}  ${row.database.padEnd(width("database"))}  ${row.bus}`;
  return [`Blossom is ready (${seconds.toFixed(1)} s)`, ...all.map(line), ""].join("\n");
}
