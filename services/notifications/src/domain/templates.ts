/** Renders the welcome email. Pure: the same input always gives the same message. */
export function renderWelcome(name: string): { subject: string; body: string } {
  return {
    subject: "Welcome to Blossom",
    body: `Hello ${name},\n\nyour Blossom account is ready. Happy shopping!\n`,
  };
}
