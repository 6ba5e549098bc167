import { describe, expect, it } from "vitest";
import { formatReadyTable, type ReadyRow } from "./ready-table.js";

const ROWS: ReadyRow[] = [
  { service: "gateway", url: "http://127.0.0.1:8080", database: "-", bus: "-" },
  {
    service: "users",
    url: "http://127.0.0.1:8081",
    database: "pglite .blossom/data/users",
    bus: "memory",
  },
  {
    service: "notifications",
    url: "http://[::1]:40123",
    database: "postgres postgres://blossom@db:5432/notifications",
    bus: "nats nats://127.0.0.1:4222",
  },
];

/** Where each column starts on a table line (columns are separated by two or more spaces). */
function columnStarts(line: string): number[] {
  const starts: number[] = [];
  const pattern = /(?<=^ {2}|\S {2,})\S/g;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) starts.push(match.index);
  return starts;
}

describe("formatReadyTable", () => {
  it("has a title with the start-up time, a header, one line per service and a final newline", () => {
    const table = formatReadyTable(ROWS, 1.234);
    expect(table.endsWith("\n")).toBe(true);
    const lines = table.trimEnd().split("\n");
    expect(lines).toHaveLength(2 + ROWS.length);
    expect(lines[0]).toBe("Blossom is ready (1.2 s)");
    expect(lines[1]?.trim().split(/\s+/)).toEqual(["SERVICE", "URL", "DATABASE", "BUS"]);
    ROWS.forEach((row, index) => {
      const line = lines[2 + index] ?? "";
      expect(line.trim().split(/ {2,}/)).toEqual([row.service, row.url, row.database, row.bus]);
    });
  });

  it("aligns every column under its header, whatever the width of the values", () => {
    const lines = formatReadyTable(ROWS, 0.5).trimEnd().split("\n").slice(1);
    const header = columnStarts(lines[0] ?? "");
    expect(header).toHaveLength(4);
    const [, urlAt = 0, databaseAt = 0, busAt = 0] = header;
    for (const line of lines) {
      expect(line.startsWith("  "), line).toBe(true);
      expect(columnStarts(line), line).toEqual(header);
      // Only the last column is left ragged: no padding after it.
      expect(line).toBe(line.trimEnd());
    }
    // The widest value of a column decides where the next column starts.
    expect(databaseAt).toBe(urlAt + Math.max(...ROWS.map((row) => row.url.length)) + 2);
    expect(busAt).toBe(databaseAt + Math.max(...ROWS.map((row) => row.database.length)) + 2);
  });

  it("keeps headers as the minimum width when values are shorter", () => {
    const lines = formatReadyTable([{ service: "a", url: "u", database: "-", bus: "-" }], 0)
      .trimEnd()
      .split("\n");
    expect(lines[0]).toBe("Blossom is ready (0.0 s)");
    expect(lines[1]).toBe("  SERVICE  URL  DATABASE  BUS");
    expect(lines[2]).toBe("  a        u    -         -");
  });

  it("prints the header alone when nothing runs", () => {
    expect(formatReadyTable([], 12.06)).toBe("Blossom is ready (12.1 s)\n  SERVICE  URL  DATABASE  BUS\n");
  });
});
