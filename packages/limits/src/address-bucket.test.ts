import { describe, expect, it } from "vitest";
import { addressBucket } from "./address-bucket.js";

describe("addressBucket", () => {
  it("keeps IPv4 addresses, and unwraps IPv4-mapped IPv6 ones", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("::FFFF:127.0.0.1")).toBe("127.0.0.1");
  });

  it("counts an IPv6 client by its /64, whatever the spelling", () => {
    const bucket = "2001:db8:0:1::/64";
    expect(addressBucket("2001:db8:0:1::1")).toBe(bucket);
    expect(addressBucket("2001:0DB8:0000:0001:ffff:ffff:ffff:ffff")).toBe(bucket);
    expect(addressBucket("2001:db8::1:0:0:0:9%eth0")).toBe(bucket);
    expect(addressBucket("2001:db8:0:2::1")).not.toBe(bucket);
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("gives anything else a bounded key of its own", () => {
    expect(addressBucket("unknown")).toBe("other:unknown");
    expect(addressBucket("x".repeat(500))).toHaveLength(70);
  });
});
