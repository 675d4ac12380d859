// Entry point of the bundle: the runner executes dist/index.js for both the main and the post step.
import { run } from './main.ts';

await run();
