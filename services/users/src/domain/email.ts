/** The form an email is compared and stored in: trimmed, lower-cased (addresses are case-insensitive in practice). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
