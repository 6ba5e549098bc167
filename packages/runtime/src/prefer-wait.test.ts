import { describe, expect, it } from "vitest";
import { preferredWaitSeconds } from "./prefer-wait.js";

describe("preferredWaitSeconds (RFC 7240 wait)", () => {
  it("reads wait among other preferences, in any case, quoted or not", () => {
    expect(preferredWaitSeconds("wait=10")).toBe(10);
    expect(preferredWaitSeconds("respond-async, WAIT = 5")).toBe(5);
    expect(preferredWaitSeconds('return=minimal; foo="bar", wait="3"')).toBe(3);
    expect(preferredWaitSeconds(["return=minimal", "wait=0"])).toBe(0);
  });

  it("ignores a missing or malformed wait instead of failing", () => {
    expect(preferredWaitSeconds(undefined)).toBeUndefined();
    expect(preferredWaitSeconds("")).toBeUndefined();
    expect(preferredWaitSeconds("respond-async")).toBeUndefined();
    expect(preferredWaitSeconds("wait")).toBeUndefined();
    expect(preferredWaitSeconds("wait=-1")).toBeUndefined();
    expect(preferredWaitSeconds("wait=1.5")).toBeUndefined();
    expect(preferredWaitSeconds("wait=soon")).toBeUndefined();
    expect(preferredWaitSeconds("wait=99999999999")).toBeUndefined();
    expect(preferredWaitSeconds("waiting=3")).toBeUndefined();
  });
});
