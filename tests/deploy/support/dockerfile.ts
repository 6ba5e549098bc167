/** One instruction of a Dockerfile: its keyword (upper case), its flags and the rest. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/**
 * A small Dockerfile reader (no Docker on the test machine): joins continuation lines, drops
 * comments, splits `--flag=value` options off, and substitutes the global ARG defaults in FROM.
 */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = "";
  let start = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && pending === "")) return;
    if (pending === "") start = index + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = `${pending}${line}`.trim();
    pending = "";
    if (whole === "") return;
    const [keyword = "", ...rest] = whole.split(/\s+/);
    const flags: Record<string, string> = {};
    let args = rest.join(" ");
    for (
      let flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(args);
      flag;
      flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(args)
    ) {
      flags[flag[1] ?? ""] = flag[2] ?? "true";
      args = args.slice(flag[0].length);
    }
    instructions.push({ keyword: keyword.toUpperCase(), flags, args, line: start });
  });

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.args.split(/\s+/);
      const resolved = image.replace(/\$\{?(\w+)\}?/g, (_match, arg: string) => globalArgs[arg] ?? "");
      stages.push({ image: resolved, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === "ARG") {
      const [name = "", value = ""] = instruction.args.split("=");
      globalArgs[name] = value;
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { args: globalArgs, stages };
}

/** `ENV A=1 B=2` (the key=value form) as a record. */
export function envOf(instructions: Instruction[]): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const instruction of instructions.filter((item) => item.keyword === "ENV"))
    for (const pair of instruction.args.split(/\s+/)) {
      const [name = "", value = ""] = pair.split("=");
      environment[name] = value;
    }
  return environment;
}

/** The JSON array of an exec-form instruction (ENTRYPOINT, CMD, HEALTHCHECK … CMD), or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  const json = args.replace(/^CMD\s+/, "");
  if (!json.startsWith("[")) return undefined;
  return JSON.parse(json) as string[];
}
