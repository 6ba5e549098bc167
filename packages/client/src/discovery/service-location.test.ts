import { describe, expect, it } from "vitest";
import { parseServiceLocation } from "./service-location.js";

describe("parseServiceLocation", () => {
  it("reads a comma-separated list as static instances", () => {
    expect(parseServiceLocation("http://a:1, http://b:2/")).toEqual({
      kind: "static",
      instances: ["http://a:1", "http://b:2"],
    });
  });

  it("reads one dns+ URL as a DNS location, without the prefix and trailing slash", () => {
    expect(parseServiceLocation(" dns+http://inventory.blossom.svc:8082/ ")).toEqual({
      kind: "dns",
      url: "http://inventory.blossom.svc:8082",
    });
    expect(parseServiceLocation("DNS+https://inventory.blossom.svc/api")).toEqual({
      kind: "dns",
      url: "https://inventory.blossom.svc/api",
    });
  });

  it("refuses a dns+ entry mixed with others, and malformed entries, naming them", () => {
    expect(() => parseServiceLocation("http://a:1,dns+http://inventory.blossom.svc:8082")).toThrow(
      /"dns\+http:\/\/inventory\.blossom\.svc:8082" must be the only entry/,
    );
    expect(() => parseServiceLocation("dns+inventory.blossom.svc:8082")).toThrow(TypeError);
    expect(() => parseServiceLocation("dns+nats://inventory:4222")).toThrow(/nats:\/\/inventory:4222/);
    expect(() => parseServiceLocation("inventory:8082")).toThrow(/inventory:8082/);
  });
});
