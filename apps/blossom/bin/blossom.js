#!/usr/bin/env node
// The built command: `npm run build` compiles src/ to dist/. `npm start` runs the sources directly.
import "../dist/main.js";
