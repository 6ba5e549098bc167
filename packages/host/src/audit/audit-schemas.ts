import { Type } from "@sinclair/typebox";

/**
 * The audit route's query and answer (`GET /api/<service>/audit`), in a file of their own that
 * imports nothing but TypeBox: the storefront's admin pages take their types from here (type-only
 * imports), without type-checking the host and its database code.
 */
export const AuditQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  before: Type.Optional(
    Type.String({ pattern: "^[0-9]{1,18}$", description: "id of the oldest entry already seen" }),
  ),
  action: Type.Optional(Type.String({ maxLength: 100 })),
});

export const AuditPage = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      at: Type.String({ format: "date-time" }),
      actor: Type.String(),
      action: Type.String(),
      target: Type.String(),
      requestId: Type.Union([Type.String(), Type.Null()]),
      details: Type.Unknown(),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
