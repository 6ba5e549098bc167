import { Type } from "@sinclair/typebox";

export const RegisterUserBody = Type.Object({
  email: Type.String({ format: "email", maxLength: 254 }),
  password: Type.String({ minLength: 8, maxLength: 200 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
});

export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Type.Union([Type.Literal("customer"), Type.Literal("admin")]),
});
