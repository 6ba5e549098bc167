export interface ClusterRow {
  instance: string;
  pid: number;
  url: string;
  database: string;
}

/** The table `blossom cluster` prints once every instance is ready: each replica, its pid and URL. */
export function formatClusterTable(
  rows: readonly ClusterRow[],
  seconds: number,
  notes: readonly string[],
): string {
  const header = ["INSTANCE", "PID", "URL", "DATABASE"];
  const cells = [header, ...rows.map((row) => [row.instance, String(row.pid), row.url, row.database])];
  const widths = header.map((_, column) => Math.max(...cells.map((line) => line[column]?.length ?? 0)));
  const line = (values: readonly string[]) =>
    `  ${values.map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column] ?? 0))).join("  ")}`;
  return [
    `Blossom cluster is ready (${seconds.toFixed(1)} s): ${rows.length} instances`,
    ...cells.map(line),
    ...notes.map((note) => `  ${note}`),
    "",
  ].join("\n");
}
