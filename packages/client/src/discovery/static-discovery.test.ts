import { describe, expect, it } from "vitest";
import { parseInstanceList, StaticDiscovery } from "./static-discovery.js";

describe("parseInstanceList", () => {
  it("splits, trims, drops blanks and trailing slashes, and dedupes", () => {
    expect(parseInstanceList(" http://10.0.0.5:8082/ ,, http://10.0.0.6:8082,http://10.0.0.5:8082")).toEqual([
      "http://10.0.0.5:8082",
      "http://10.0.0.6:8082",
    ]);
  });

  it("gives [] for an unset or empty value", () => {
    expect(parseInstanceList(undefined)).toEqual([]);
    expect(parseInstanceList("")).toEqual([]);
  });

  it("rejects entries that are not http(s) URLs, naming them", () => {
    expect(() => parseInstanceList("http://ok:1,inventory:8082")).toThrow(/inventory:8082/);
    expect(() => parseInstanceList("nats://127.0.0.1:4222")).toThrow(TypeError);
    expect(() => parseInstanceList("localhost")).toThrow(/"localhost"/);
  });
});

describe("StaticDiscovery", () => {
  it("serves lists and comma-separated strings, [] for unknown services", () => {
    const discovery = new StaticDiscovery({
      users: ["http://127.0.0.1:8081"],
      inventory: "http://127.0.0.1:8082, http://127.0.0.1:9082",
      payments: undefined,
    });
    expect(discovery.instances("users")).toEqual(["http://127.0.0.1:8081"]);
    expect(discovery.instances("inventory")).toEqual(["http://127.0.0.1:8082", "http://127.0.0.1:9082"]);
    expect(discovery.instances("payments")).toEqual([]);
    expect(discovery.instances("orders")).toEqual([]);
  });

  it("returns copies the caller may mutate", () => {
    const discovery = new StaticDiscovery({ users: ["http://127.0.0.1:8081"] });
    discovery.instances("users").push("http://evil");
    expect(discovery.instances("users")).toEqual(["http://127.0.0.1:8081"]);
  });

  it("notifies watchers of set() until they unsubscribe", () => {
    const discovery = new StaticDiscovery();
    const seen: string[][] = [];
    const stop = discovery.watch("users", (instances) => seen.push(instances));
    discovery.set("users", ["http://a:1"]);
    discovery.set("orders", ["http://b:1"]);
    stop();
    discovery.set("users", []);
    expect(seen).toEqual([["http://a:1"]]);
  });
});
