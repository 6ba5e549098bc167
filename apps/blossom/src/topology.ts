import type { AnyServiceDefinition } from "@blossom/host";
import { inventoryService } from "@blossom/inventory";
import { notificationsService } from "@blossom/notifications";
import { ordersService } from "@blossom/orders";
import { paymentsService } from "@blossom/payments";
import { usersService } from "@blossom/users";

export interface ServiceEntry {
  definition: AnyServiceDefinition;
  defaultPort: number;
}

/** The five business services in start-up order, each with its default port. */
export const SERVICES: readonly ServiceEntry[] = [
  { definition: usersService, defaultPort: 8081 },
  { definition: inventoryService, defaultPort: 8082 },
  { definition: ordersService, defaultPort: 8083 },
  { definition: paymentsService, defaultPort: 8084 },
  { definition: notificationsService, defaultPort: 8085 },
];

export const SERVICE_NAMES = SERVICES.map((service) => service.definition.name);
export const GATEWAY = "gateway";
export const GATEWAY_DEFAULT_PORT = 8080;
/** The gateway's internal metrics listener (the port OpenTelemetry's Prometheus exporter uses by default). */
export const GATEWAY_DEFAULT_METRICS_PORT = 9464;
export const RUNNABLE_NAMES = [GATEWAY, ...SERVICE_NAMES];

export function definitionOf(name: string): AnyServiceDefinition | undefined {
  return SERVICES.find((service) => service.definition.name === name)?.definition;
}
