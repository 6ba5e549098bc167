export { inventoryService } from "./service.js";
