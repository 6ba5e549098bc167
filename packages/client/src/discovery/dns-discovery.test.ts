import { promises as dns } from "node:dns";
import { afterEach, describe, expect, it } from "vitest";
import {
  DnsDiscovery,
  type DnsDiscoveryOptions,
  type HostResolver,
  parseDnsServiceUrl,
} from "./dns-discovery.js";

const discoveries: DnsDiscovery[] = [];

afterEach(() => {
  for (const discovery of discoveries.splice(0)) discovery.close();
});

function discovery(options: DnsDiscoveryOptions): DnsDiscovery {
  const created = new DnsDiscovery(options);
  discoveries.push(created);
  return created;
}

/** A resolver seam whose answer the test changes between refreshes (an Error = a failed lookup). */
function scriptedResolver(initial: readonly string[] | Error) {
  const state = { answer: initial, calls: 0, hosts: [] as string[] };
  const resolve: HostResolver = async (host) => {
    state.calls++;
    state.hosts.push(host);
    if (state.answer instanceof Error) throw state.answer;
    return state.answer;
  };
  return { state, resolve };
}

function errorsOf(): {
  errors: { service: string; message: string }[];
  onError: DnsDiscoveryOptions["onError"];
} {
  const errors: { service: string; message: string }[] = [];
  return { errors, onError: (service, error) => errors.push({ service, message: error.message }) };
}

describe("DnsDiscovery on the real resolver", () => {
  it("lists one instance per address localhost resolves to, keeping scheme, port and path", async () => {
    const expected = (await dns.lookup("localhost", { all: true })).map(({ address, family }) =>
      family === 6 ? `http://[${address}]:8082/api` : `http://${address}:8082/api`,
    );
    const inventory = discovery({ services: { inventory: "http://localhost:8082/api/" } });

    expect(inventory.instances("inventory")).toEqual([]);
    await inventory.start();

    expect(inventory.instances("inventory")).toContain("http://127.0.0.1:8082/api");
    expect(inventory.instances("inventory")).toEqual([...new Set(expected)].sort());
    expect(inventory.instances("orders")).toEqual([]);
  });

  it("gives [] for a name that does not resolve and reports it, without throwing", async () => {
    const { errors, onError } = errorsOf();
    const inventory = discovery({ services: { inventory: "http://blossom-nowhere.invalid:8082" }, onError });

    await inventory.start();

    expect(inventory.instances("inventory")).toEqual([]);
    expect(errors).toEqual([
      {
        service: "inventory",
        message: expect.stringMatching(
          /DNS lookup of "blossom-nowhere\.invalid" failed .*keeping 0 instances/,
        ),
      },
    ]);
  });
});

describe("DnsDiscovery", () => {
  it("sorts and dedupes the answer, brackets IPv6 and skips what cannot be a URL host", async () => {
    const { resolve, state } = scriptedResolver([
      "10.0.0.6",
      "::1",
      "10.0.0.5",
      "10.0.0.6",
      "fe80::1%eth0",
      "not-an-address",
    ]);
    const inventory = discovery({ services: { inventory: "https://inventory.blossom.svc:8443" }, resolve });

    await inventory.start();

    expect(state.hosts).toEqual(["inventory.blossom.svc"]);
    expect(inventory.instances("inventory")).toEqual([
      "https://10.0.0.5:8443",
      "https://10.0.0.6:8443",
      "https://[::1]:8443",
    ]);
  });

  it("keeps the last good list when a later lookup fails or answers nothing usable", async () => {
    const { errors, onError } = errorsOf();
    const { resolve, state } = scriptedResolver(["10.0.0.5", "10.0.0.6"]);
    const inventory = discovery({
      services: { inventory: "http://inventory.blossom.svc:8082" },
      resolve,
      onError,
    });
    await inventory.start();

    state.answer = Object.assign(new Error("queryA ENOTFOUND inventory.blossom.svc"), { code: "ENOTFOUND" });
    await inventory.refresh();
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.5:8082", "http://10.0.0.6:8082"]);

    state.answer = [];
    await inventory.refresh("inventory");
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.5:8082", "http://10.0.0.6:8082"]);

    expect(errors.map((error) => error.message)).toEqual([
      expect.stringMatching(/ENOTFOUND.*keeping 2 instances/),
      expect.stringMatching(/no usable address.*keeping 2 instances/),
    ]);
  });

  it("notifies watchers with the new list only when it changed", async () => {
    const { resolve, state } = scriptedResolver(["10.0.0.6", "10.0.0.5"]);
    const inventory = discovery({ services: { inventory: "http://inventory.blossom.svc:8082" }, resolve });
    const seen: string[][] = [];
    const stop = inventory.watch("inventory", (instances) => seen.push(instances));
    await inventory.start();

    state.answer = ["10.0.0.5", "10.0.0.6"]; // same set, other order: no change
    await inventory.refresh();
    state.answer = ["10.0.0.5", "10.0.0.7"];
    await inventory.refresh();
    state.answer = new Error("SERVFAIL");
    await inventory.refresh();
    stop();
    state.answer = ["10.0.0.8"];
    await inventory.refresh();

    expect(seen).toEqual([
      ["http://10.0.0.5:8082", "http://10.0.0.6:8082"],
      ["http://10.0.0.5:8082", "http://10.0.0.7:8082"],
    ]);
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.8:8082"]);
  });

  it("refreshes in the background every refreshMs, and stops after close()", async () => {
    const { resolve, state } = scriptedResolver(["10.0.0.5"]);
    const inventory = discovery({
      services: { inventory: "http://inventory.blossom.svc:8082" },
      resolve,
      refreshMs: 20,
    });
    await inventory.start();
    const changed = new Promise<string[]>((done) => inventory.watch("inventory", done));

    state.answer = ["10.0.0.9"];
    expect(await changed).toEqual(["http://10.0.0.9:8082"]);

    inventory.close();
    const callsAtClose = state.calls;
    await new Promise((done) => setTimeout(done, 80));
    expect(state.calls).toBe(callsAtClose);
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.9:8082"]);
  });

  it("runs one lookup per service at a time, however many refreshes are asked for", async () => {
    let release: (addresses: string[]) => void = () => {};
    let calls = 0;
    const inventory = discovery({
      services: { inventory: "http://inventory.blossom.svc:8082" },
      resolve: () => {
        calls++;
        return new Promise((done) => {
          release = done;
        });
      },
    });

    const refreshes = [inventory.refresh(), inventory.refresh("inventory"), inventory.start()];
    release(["10.0.0.5"]);
    await Promise.all(refreshes);

    expect(calls).toBe(1);
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.5:8082"]);
  });

  it("starts by itself on the first instances() call", async () => {
    const { resolve, state } = scriptedResolver(["10.0.0.5"]);
    const inventory = discovery({ services: { inventory: "http://inventory.blossom.svc:8082" }, resolve });

    expect(inventory.instances("orders")).toEqual([]);
    expect(state.calls).toBe(0);
    expect(inventory.instances("inventory")).toEqual([]);
    await inventory.start();

    expect(state.calls).toBe(1);
    expect(inventory.instances("inventory")).toEqual(["http://10.0.0.5:8082"]);
  });

  it("rejects unusable URLs and intervals at construction", () => {
    expect(() => new DnsDiscovery({ services: { inventory: "inventory:8082" } })).toThrow(
      /DnsDiscovery\(inventory\).*"inventory:8082"/,
    );
    expect(() => new DnsDiscovery({ services: { inventory: "nats://inventory:4222" } })).toThrow(TypeError);
    expect(() => new DnsDiscovery({ services: { inventory: "http://inventory:8082/?a=1" } })).toThrow(
      TypeError,
    );
    expect(() => new DnsDiscovery({ services: {}, refreshMs: 0 })).toThrow(RangeError);
    expect(parseDnsServiceUrl(" http://inventory.blossom.svc:8082/api/ ")).toBe(
      "http://inventory.blossom.svc:8082/api",
    );
  });
});
