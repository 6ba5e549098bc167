/** See stale-build.js: the projects under `root` whose build is missing or older than its sources. */
export function staleProjects(root: string): string[];
