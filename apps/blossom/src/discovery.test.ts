import { createServer, type Server } from "node:http";
import { ConfigError } from "@blossom/runtime";
import { afterEach, describe, expect, it } from "vitest";
import { readConfig, serviceSetting } from "./config.js";
import { PlatformDiscovery } from "./discovery.js";

const discoveries: PlatformDiscovery[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const discovery of discoveries.splice(0)) discovery.close();
  await Promise.all(
    servers.splice(0).map((server) => new Promise<void>((done) => server.close(() => done()))),
  );
});

function discovery(...args: ConstructorParameters<typeof PlatformDiscovery>): PlatformDiscovery {
  const created = new PlatformDiscovery(...args);
  discoveries.push(created);
  return created;
}

describe("PlatformDiscovery", () => {
  it("discovers each service as its URL says: a static list, or the addresses of a dns+ name", async () => {
    let answer = ["10.0.0.6", "10.0.0.5"];
    const platform = discovery(
      {
        users: "http://127.0.0.1:8081",
        inventory: "dns+http://inventory.blossom.svc:8082",
        orders: "http://10.0.1.1:8083, http://10.0.1.2:8083",
      },
      { resolve: async () => answer },
    );
    await platform.ready();

    expect(platform.kindOf("inventory")).toBe("dns");
    expect(platform.kindOf("users")).toBe("static");
    expect(platform.instances("users")).toEqual(["http://127.0.0.1:8081"]);
    expect(platform.instances("orders")).toEqual(["http://10.0.1.1:8083", "http://10.0.1.2:8083"]);
    expect(platform.instances("inventory")).toEqual(["http://10.0.0.5:8082", "http://10.0.0.6:8082"]);
    expect(platform.instances("payments")).toEqual([]);

    const seen: string[][] = [];
    platform.watch("inventory", (instances) => seen.push(instances));
    answer = ["10.0.0.7"];
    await new Promise((done) => setTimeout(done, 0));
    expect(seen).toEqual([]); // no refresh yet: the interval is 5 s by default
  });

  it("resolves a real dns+ name (localhost) and serves it to the start command's set() only for static services", async () => {
    const server = createServer((_request, response) => response.end("{}"));
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const platform = discovery({ inventory: `dns+http://localhost:${port}`, users: "http://127.0.0.1:1" });
    await platform.ready();

    expect(platform.instances("inventory")).toContain(`http://127.0.0.1:${port}`);
    platform.set("users", ["http://127.0.0.1:9081"]);
    expect(platform.instances("users")).toEqual(["http://127.0.0.1:9081"]);
    expect(() => platform.set("inventory", ["http://127.0.0.1:9082"])).toThrow(
      /inventory is discovered through DNS/,
    );
  });

  it("refreshes DNS services every dnsRefreshMs and reports failed lookups, keeping the last list", async () => {
    let answer: string[] | Error = ["10.0.0.5"];
    const errors: string[] = [];
    const platform = discovery(
      { inventory: "dns+http://inventory.blossom.svc:8082" },
      {
        dnsRefreshMs: 20,
        resolve: async () => {
          if (answer instanceof Error) throw answer;
          return answer;
        },
        onDnsError: (service, error) => errors.push(`${service}: ${error.message}`),
      },
    );
    await platform.ready();
    const changed = new Promise<string[]>((done) => platform.watch("inventory", done));
    answer = ["10.0.0.6"];
    expect(await changed).toEqual(["http://10.0.0.6:8082"]);

    answer = new Error("getaddrinfo ENOTFOUND inventory.blossom.svc");
    await new Promise((done) => setTimeout(done, 60));
    expect(errors[0]).toMatch(/^inventory: inventory: DNS lookup of "inventory.blossom.svc" failed/);
    expect(platform.instances("inventory")).toEqual(["http://10.0.0.6:8082"]);
  });
});

describe("readConfig and discovery", () => {
  it("accepts dns+ service URLs and defaults BLOSSOM_DNS_REFRESH_MS to 5 s", () => {
    const config = readConfig({ INVENTORY_URL: "dns+http://inventory.blossom.svc:8082" });
    expect(serviceSetting(config, "inventory", "URL")).toBe("dns+http://inventory.blossom.svc:8082");
    expect(config.BLOSSOM_DNS_REFRESH_MS).toBe(5000);
    expect(readConfig({ BLOSSOM_DNS_REFRESH_MS: "1000" }).BLOSSOM_DNS_REFRESH_MS).toBe(1000);
  });

  it("refuses malformed service URLs at start-up, one problem per variable", () => {
    let error: unknown;
    try {
      readConfig({
        INVENTORY_URL: "http://a:1,dns+http://inventory.blossom.svc:8082",
        ORDERS_URL: "orders:8083",
        BLOSSOM_DNS_REFRESH_MS: "10",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^INVENTORY_URL: .*must be the only entry/),
        expect.stringMatching(/^ORDERS_URL: "orders:8083"/),
        expect.stringMatching(/^BLOSSOM_DNS_REFRESH_MS/),
      ]),
    );
  });
});
