/** The logging the NATS adapter does; a pino logger fits. */
export interface BusLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The default: adapters stay silent unless given a logger. */
export const silentLogger: BusLogger = {
  info() {},
  warn() {},
  error() {},
};
