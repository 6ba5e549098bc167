import { describe, expect, it } from "vitest";
import { hashPassword, PASSWORD_HASH_COST, verifyPassword } from "./password.js";

const PASSWORD = "correct horse battery";

describe("password hashes", () => {
  it("hash at the production cost, N=2^15 (r=8, p=1): a self-describing string that verifies", async () => {
    expect(PASSWORD_HASH_COST).toBe(15);
    const stored = await hashPassword(PASSWORD, PASSWORD_HASH_COST);
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword(PASSWORD, stored)).toBe(true);
    expect(await verifyPassword("correct horse battery!", stored)).toBe(false);
  });

  it("name their own cost, so a cheaper (test) hash verifies by what it says, beside production ones", async () => {
    const cheap = await hashPassword(PASSWORD, 10);
    expect(cheap).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword(PASSWORD, cheap)).toBe(true);
    expect(await verifyPassword("wrong password", cheap)).toBe(false);
    // Salted: the same password never hashes the same way twice.
    expect(await hashPassword(PASSWORD, 10)).not.toBe(cheap);
    // The cost is part of what is checked: the same salt and key under another N do not verify.
    expect(await verifyPassword(PASSWORD, cheap.replace("$1024$", "$2048$"))).toBe(false);
  });

  it("normalize the password (NFKC) before hashing", async () => {
    const stored = await hashPassword("caf\u00e9 au lait!", 10);
    expect(await verifyPassword("cafe\u0301 au lait!", stored)).toBe(true);
  });

  it("refuse a malformed stored hash", async () => {
    for (const stored of ["", "bcrypt$10$8$1$c2FsdA$aGFzaA", "scrypt$1024$8$1$c2FsdA", "plain text"])
      expect(await verifyPassword(PASSWORD, stored), stored).toBe(false);
  });
});
