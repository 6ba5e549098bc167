import { connect } from "node:net";

/** A server the cluster needs, and how to get one running on Debian. */
export interface RequiredServer {
  name: string;
  /** The variable that points at it, for the message. */
  variable: string;
  url: string;
  defaultPort: number;
  install: string;
  start: string;
  /** Optional first exchange proving the peer speaks the protocol (Redis PING). */
  probe?: { send: string; expect: RegExp };
}

export function requiredServers(urls: {
  postgresUrl: string;
  natsUrl: string;
  redisUrl: string;
}): RequiredServer[] {
  return [
    {
      name: "PostgreSQL",
      variable: "BLOSSOM_POSTGRES_URL",
      url: urls.postgresUrl,
      defaultPort: 5432,
      install: "apt-get install postgresql",
      start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    },
    {
      name: "NATS (with JetStream)",
      variable: "NATS_URL",
      url: urls.natsUrl.split(",")[0] ?? urls.natsUrl,
      defaultPort: 4222,
      install: "apt-get install nats-server",
      start:
        "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server",
    },
    {
      name: "Redis",
      variable: "REDIS_URL",
      url: urls.redisUrl,
      defaultPort: 6379,
      install: "apt-get install redis-server",
      start:
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis',
      // NOAUTH and friends also prove a Redis answers: the password is the gateway's business.
      probe: { send: "PING\r\n", expect: /^(\+PONG|-)/ },
    },
  ];
}

/** What to tell a person whose server is down: which one, where, and how to start it. */
export function unreachableMessage(server: RequiredServer, reason: string): string {
  return [
    `${server.name} is not reachable at ${endpointOf(server)} (${server.variable}): ${reason}`,
    `  start it:   ${server.start}`,
    `  not there?  ${server.install}`,
  ].join("\n");
}

/**
 * Checks that every server accepts a TCP connection (and answers the probe, if any), all at
 * once, within `timeoutMs` each. Resolves with one message per unreachable server; [] = all up.
 */
export async function checkServers(servers: readonly RequiredServer[], timeoutMs = 2_000): Promise<string[]> {
  const results = await Promise.all(
    servers.map(async (server) => {
      try {
        await reach(server, timeoutMs);
        return undefined;
      } catch (error) {
        return unreachableMessage(server, error instanceof Error ? error.message : String(error));
      }
    }),
  );
  return results.filter((message): message is string => message !== undefined);
}

function endpointOf(server: RequiredServer): string {
  const { hostname, port } = new URL(server.url);
  return `${hostname}:${port || server.defaultPort}`;
}

function reach(server: RequiredServer, timeoutMs: number): Promise<void> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: hostname.replace(/^\[(.*)\]$/, "$1"),
      port: Number(port || server.defaultPort),
    });
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("connect", () => {
      if (server.probe === undefined) {
        socket.destroy();
        resolve();
        return;
      }
      const { expect } = server.probe;
      socket.once("end", () => fail(new Error("closed the connection without answering")));
      socket.once("data", (data) => {
        socket.destroy();
        if (expect.test(String(data))) resolve();
        else reject(new Error(`unexpected answer ${JSON.stringify(String(data).slice(0, 40))}`));
      });
      socket.write(server.probe.send);
    });
  });
}
