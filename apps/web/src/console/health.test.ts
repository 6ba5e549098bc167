import { describe, expect, it } from "vitest";
import { answeringInstances, serviceHealth } from "./health.js";

describe("the console's service health", () => {
  it("is ready when the gateway's probe of the service passes", () => {
    expect(serviceHealth("ready", 2)).toBe("ready");
    // The probe wins over a metrics read that timed out on a loaded instance.
    expect(serviceHealth("ready", 0)).toBe("ready");
  });

  it("is down when the probe fails and no instance answers; not ready when one still does", () => {
    // Stopped, crashed or deregistered: discovery lists none, or the one it lists is hung.
    expect(serviceHealth("not-ready", 0)).toBe("down");
    // Up, but its database or the bus is not.
    expect(serviceHealth("not-ready", 1)).toBe("not-ready");
  });

  it("is unknown before the first reading", () => {
    expect(serviceHealth(undefined, 0)).toBe("unknown");
    expect(serviceHealth(undefined, 3)).toBe("unknown");
  });

  it("counts the instances of one metrics read, a service with none at 0", () => {
    const series = [
      { service: "gateway" },
      { service: "orders" },
      { service: "orders" },
      { service: "payments" },
    ];
    expect(answeringInstances(series, ["gateway", "orders", "payments", "notifications"])).toEqual({
      gateway: 1,
      orders: 2,
      payments: 1,
      notifications: 0,
    });
  });
});
