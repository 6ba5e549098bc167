import { describe, expect, it } from "vitest";
import { InstanceBalancer } from "./instance-balancer.js";

const all = () => true;

describe("InstanceBalancer", () => {
  it("cycles through the candidates", () => {
    const balancer = new InstanceBalancer();
    const picks = Array.from({ length: 5 }, () => balancer.pick(["a", "b", "c"], all));
    expect(picks).toEqual(["a", "b", "c", "a", "b"]);
  });

  it("skips unavailable candidates and gives undefined when none is left", () => {
    const balancer = new InstanceBalancer();
    const up = (name: string) => name !== "b";
    expect(Array.from({ length: 4 }, () => balancer.pick(["a", "b", "c"], up))).toEqual(["a", "c", "a", "c"]);
    expect(balancer.pick(["a", "b"], () => false)).toBeUndefined();
    expect(balancer.pick([], all)).toBeUndefined();
  });

  it("prefers untried candidates and falls back to a tried one", () => {
    const balancer = new InstanceBalancer();
    const tried = new Set(["a"]);
    expect(balancer.pick(["a", "b"], all, (name) => tried.has(name))).toBe("b");
    tried.add("b");
    expect(balancer.pick(["a", "b"], all, (name) => tried.has(name))).toBe("a");
  });
});
