export { usersService } from "./service.js";
